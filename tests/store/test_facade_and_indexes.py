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
        "Account",
        "Actor",
        "add_charge",
        "administration_allowed",
        "administration_status",
        "AdministrationStatus",
        "ADVERSE_EVENT_OUTCOMES",
        "ADVERSE_EVENT_SEVERITIES",
        "ALERT_KINDS",
        "AllergyInput",
        "AssessmentRecorded",
        "audited_transaction",
        "AuditReport",
        "backup_database",
        "BACKUP_FORMAT",
        "BackupResult",
        "build_context",
        "cadence_for",
        "cancel_entry",
        "chair_calendar",
        "ChairCalendar",
        "change_course_status",
        "change_rate",
        "CHARGE_CATEGORIES",
        "charge_session",
        "check_database",
        "CHECK_KINDS",
        "check_status",
        "CheckCadence",
        "CheckStatus",
        "ChildPughInput",
        "ClinicHours",
        "Clock",
        "condition_table",
        "conditions_of_code",
        "correct_patient_record",
        "CostEstimate",
        "course_cost",
        "course_sessions",
        "CourseCost",
        "CoursePlan",
        "CourseView",
        "criteria_of",
        "cumulative_exposure",
        "dashboard_alerts",
        "DashboardAlert",
        "DECISIONS",
        "DEMO_PATIENTS",
        "DEMO_STAFF",
        "DemographicsInput",
        "DemoResult",
        "DiagnosisInput",
        "discharge",
        "DISCHARGE_DECISIONS",
        "DISCHARGE_LIMITS",
        "discharge_readiness",
        "DischargeBlock",
        "DischargeReadiness",
        "DischargeResult",
        "DOSE_TOLERANCE_MG",
        "DOSE_TOLERANCE_PERCENT",
        "dosing_times",
        "DosingTimes",
        "double_check_order",
        "double_check_task",
        "DoubleCheckResult",
        "DoubleCheckTask",
        "enrol_patient",
        "Enrolment",
        "ESCALATION_FACTOR",
        "estimate_course_cost",
        "evaluate_course_trial",
        "exposure_of",
        "ExposureSummary",
        "generate_demo_data",
        "get_course",
        "get_order",
        "get_patient_record",
        "IdentifierInput",
        "list_courses",
        "LIVER_TEST_INTERVAL_DAYS",
        "LIVER_TESTS",
        "LIVER_ULN_FACTOR",
        "LiverTest",
        "MedicationInput",
        "open_clinic_database",
        "open_course",
        "OPEN_STATUSES",
        "OPIOID_ROUTES",
        "opioid_sparing",
        "OpioidSparing",
        "OpioidUseRecorded",
        "OrderView",
        "PainQualifiersInput",
        "PainTreatmentInput",
        "patient_account",
        "patient_cost_to_date",
        "patient_ical",
        "patient_schedule",
        "PatientCost",
        "PatientListItem",
        "PatientUpdate",
        "PatientView",
        "PAYMENT_METHODS",
        "plan_checks",
        "plan_course",
        "PregnancyInput",
        "PriceList",
        "PRODID",
        "Prompt",
        "protocol_version",
        "record_adverse_event",
        "record_assessment",
        "record_dose",
        "RECORD_KINDS",
        "record_lab_result",
        "record_opioid_use",
        "record_payment",
        "record_session_score",
        "record_symptom_screen",
        "record_trial_decision",
        "record_vitals",
        "restore_database",
        "RestoreResult",
        "SCHEDULE_KINDS",
        "schedule_maintenance",
        "schedule_series",
        "schedule_session",
        "ScheduledEntry",
        "search_patients",
        "SESSION_INSTRUMENTS",
        "session_length_min",
        "session_record",
        "SessionCharges",
        "SessionRecord",
        "SessionSummary",
        "set_course_status",
        "sign_order",
        "Spacing",
        "spacing_for",
        "start_session",
        "stop_infusion",
        "SubstanceUseInput",
        "TRANSITIONS",
        "trial_inputs",
        "TrialEvaluation",
        "update_patient",
        "upgrade_database",
        "UpgradeResult",
        "URINARY_SCREEN_INTERVAL_DAYS",
        "UseCase",
        "utc_now",
        "verify_audit",
        "VitalLimit",
        "vitals_flags",
        "VitalsFlag",
        "VitalsReading",
        "VitalsRecorded",
        "WEIGHT_TOLERANCE_KG",
        "WeightInput",
        "withdraw_patient_record",
    }
    assert public - set(services.__all__) == set()
    assert {"Actor", "audited_transaction", "sign_in", "authenticate", "ROLE_PERMISSIONS"} <= set(
        services.__all__
    )


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
