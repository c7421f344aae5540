"""The public surface of store and services, and the indexes the clinic's reads rely on."""

from __future__ import annotations

import ketaclinic.services as services
import ketaclinic.store as store
from ketaclinic.store import CLINICAL_RECORDS, METADATA, table_of


def test_the_store_exports_exactly_its_facade() -> None:
    assert sorted(store.__all__) == sorted(set(store.__all__))
    assert all(hasattr(store, name) for name in store.__all__)
    public = {n for n in dir(store) if not n.startswith("_")} - {"annotations"}
    assert public - set(store.__all__) == set()


def test_the_services_export_exactly_their_facade() -> None:
    assert set(services.__all__) == {
        "ADVERSE_EVENT_OUTCOMES",
        "ADVERSE_EVENT_SEVERITIES",
        "ALERT_KINDS",
        "Account",
        "Actor",
        "AdministrationStatus",
        "AllergyInput",
        "AssessmentRecorded",
        "AuditReport",
        "BACKUP_FORMAT",
        "BackupResult",
        "CHARGE_CATEGORIES",
        "CHECK_KINDS",
        "ChairCalendar",
        "CheckCadence",
        "CheckStatus",
        "ChildPughInput",
        "ClinicHours",
        "Clock",
        "CostEstimate",
        "CourseCost",
        "CoursePlan",
        "CourseView",
        "DECISIONS",
        "DEMO_PATIENTS",
        "DEMO_STAFF",
        "DISCHARGE_DECISIONS",
        "DISCHARGE_LIMITS",
        "DOSE_TOLERANCE_MG",
        "DOSE_TOLERANCE_PERCENT",
        "DashboardAlert",
        "DemoResult",
        "DemographicsInput",
        "DiagnosisInput",
        "DischargeBlock",
        "DischargeReadiness",
        "DischargeResult",
        "DosingTimes",
        "DoubleCheckResult",
        "DoubleCheckTask",
        "ESCALATION_FACTOR",
        "Enrolment",
        "ExposureSummary",
        "IdentifierInput",
        "LIVER_TESTS",
        "LIVER_TEST_INTERVAL_DAYS",
        "LIVER_ULN_FACTOR",
        "LiverTest",
        "MedicationInput",
        "OPEN_STATUSES",
        "OPIOID_ROUTES",
        "OpioidSparing",
        "OpioidUseRecorded",
        "OrderView",
        "PAYMENT_METHODS",
        "PRODID",
        "PainQualifiersInput",
        "PainTreatmentInput",
        "PatientCost",
        "PatientListItem",
        "PatientUpdate",
        "PatientView",
        "PregnancyInput",
        "PriceList",
        "Prompt",
        "RECORD_KINDS",
        "RestoreResult",
        "SCHEDULE_KINDS",
        "SESSION_INSTRUMENTS",
        "ScheduledEntry",
        "SessionCharges",
        "SessionRecord",
        "SessionSummary",
        "Spacing",
        "SubstanceUseInput",
        "TRANSITIONS",
        "TrialEvaluation",
        "URINARY_SCREEN_INTERVAL_DAYS",
        "UpgradeResult",
        "UseCase",
        "VitalLimit",
        "VitalsFlag",
        "VitalsReading",
        "VitalsRecorded",
        "WEIGHT_TOLERANCE_KG",
        "WeightInput",
        "add_charge",
        "administration_allowed",
        "administration_status",
        "audited_transaction",
        "backup_database",
        "build_context",
        "cadence_for",
        "cancel_entry",
        "chair_calendar",
        "change_course_status",
        "change_rate",
        "charge_session",
        "check_database",
        "check_status",
        "condition_table",
        "conditions_of_code",
        "correct_patient_record",
        "course_cost",
        "course_sessions",
        "criteria_of",
        "cumulative_exposure",
        "dashboard_alerts",
        "discharge",
        "discharge_readiness",
        "dosing_times",
        "double_check_order",
        "double_check_task",
        "enrol_patient",
        "estimate_course_cost",
        "evaluate_course_trial",
        "exposure_of",
        "generate_demo_data",
        "get_course",
        "get_order",
        "get_patient_record",
        "list_courses",
        "open_clinic_database",
        "open_course",
        "opioid_sparing",
        "patient_account",
        "patient_cost_to_date",
        "patient_ical",
        "patient_schedule",
        "plan_checks",
        "plan_course",
        "protocol_version",
        "record_adverse_event",
        "record_assessment",
        "record_dose",
        "record_lab_result",
        "record_opioid_use",
        "record_payment",
        "record_session_score",
        "record_symptom_screen",
        "record_trial_decision",
        "record_vitals",
        "restore_database",
        "schedule_maintenance",
        "schedule_series",
        "schedule_session",
        "search_patients",
        "session_length_min",
        "session_record",
        "set_course_status",
        "sign_order",
        "spacing_for",
        "start_session",
        "stop_infusion",
        "trial_inputs",
        "update_patient",
        "upgrade_database",
        "utc_now",
        "verify_audit",
        "vitals_flags",
        "withdraw_patient_record",
    }


def _indexed(table: str, column: str) -> bool:
    t = METADATA.tables[table]
    return any(next(iter(ix.columns)).name == column for ix in t.indexes) or any(
        next(iter(c.columns)).name == column
        for c in t.constraints
        if c.__class__.__name__ in ("UniqueConstraint", "PrimaryKeyConstraint")
    )


def test_every_clinical_table_is_indexed_for_a_chart_and_its_versions() -> None:
    for model in CLINICAL_RECORDS:
        name = table_of(model).name
        assert _indexed(name, "patient_id"), f"{name}.patient_id has no index"
        assert _indexed(name, "amends_id"), f"{name}.amends_id has no index"


def test_the_cohort_summary_path_is_indexed() -> None:
    assert _indexed("treatment_courses", "indication")
    assert _indexed("course_status_events", "course_id")
    assert _indexed("treatment_sessions", "course_id")
    assert _indexed("adverse_events", "session_id")
    assert _indexed("audit_events", "patient_id")
