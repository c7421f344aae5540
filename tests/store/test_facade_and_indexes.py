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
        "ADDRESS_FAILURE_LIMIT",
        "ADVERSE_EVENT_OUTCOMES",
        "ADVERSE_EVENT_SEVERITIES",
        "ALERT_KINDS",
        "AUDIT_PAGE_SIZE_MAX",
        "AUDIT_SORT_FIELDS",
        "Account",
        "Actor",
        "AdministrationStatus",
        "AllergyInput",
        "AssessmentRecorded",
        "AuditEventView",
        "AuditPage",
        "AuditQuery",
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
        "DATE_AND_TIME",
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
        "DASHBOARD_PAGE_PATIENTS",
        "DASHBOARD_PAGE_PATIENTS_MAX",
        "DashboardAlert",
        "DashboardPage",
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
        "NewSession",
        "OPEN_STATUSES",
        "OPIOID_ROUTES",
        "OpioidSparing",
        "OpioidUseRecorded",
        "OrderDetails",
        "OrderView",
        "OutcomeSeries",
        "PASSWORD_HASHER",
        "PASSWORD_MAX_CHARS",
        "PASSWORD_MIN_CHARS",
        "PAYMENT_METHODS",
        "PRODID",
        "PainQualifiersInput",
        "PainTreatmentInput",
        "PatientChartView",
        "PatientCost",
        "PatientHistory",
        "PatientListItem",
        "PatientUpdate",
        "PatientView",
        "Permission",
        "PregnancyInput",
        "PriceList",
        "PriceListVersion",
        "PRICE_ACCEPTED",
        "PRICE_FIELDS",
        "DEMO_LABEL",
        "Prompt",
        "RECORD_KINDS",
        "ROLE_PERMISSIONS",
        "RestoreResult",
        "SCHEDULE_KINDS",
        "SESSION_INSTRUMENTS",
        "ScheduledEntry",
        "SessionCharges",
        "SessionRecord",
        "SessionSummary",
        "SessionView",
        "SignedIn",
        "Spacing",
        "StaffAccount",
        "SubstanceUseInput",
        "THROTTLE_WINDOW_MIN",
        "TRANSITIONS",
        "TrialEvaluation",
        "URINARY_SCREEN_INTERVAL_DAYS",
        "USERNAME_FAILURE_LIMIT",
        "UpgradeResult",
        "UseCase",
        "VitalLimit",
        "VitalsFlag",
        "VitalsReading",
        "VitalsRecorded",
        "WEIGHT_TOLERANCE_KG",
        "WeightInput",
        "add_charge",
        "add_staff_user",
        "administration_allowed",
        "administration_status",
        "audited_read",
        "audited_transaction",
        "authenticate",
        "backup_database",
        "build_context",
        "cadence_for",
        "cancel_entry",
        "chair_calendar",
        "change_course_status",
        "change_rate",
        "charge_session",
        "check_database",
        "check_patient_order",
        "check_status",
        "clock_time_span",
        "condition_table",
        "conditions_of_code",
        "correct_patient_record",
        "count_staff_users",
        "course_cost",
        "course_sessions",
        "courses_by_status",
        "create_demo_accounts",
        "criteria_of",
        "cumulative_exposure",
        "dashboard_alerts",
        "dashboard_page",
        "disable_staff_user",
        "discharge",
        "discharge_readiness",
        "dosing_times",
        "double_check_order",
        "double_check_task",
        "eligibility",
        "enrol_patient",
        "estimate_course_cost",
        "evaluate_course_trial",
        "exposure_of",
        "generate_demo_data",
        "get_course",
        "get_order",
        "get_patient_record",
        "list_courses",
        "local_time",
        "list_staff_users",
        "open_clinic_database",
        "open_course",
        "opioid_sparing",
        "order_details",
        "patient_account",
        "price_list_history",
        "clinic_price_list",
        "set_clinic_prices",
        "patient_chart",
        "patient_cost_to_date",
        "patient_history",
        "patient_ical",
        "patient_schedule",
        "permissions_of",
        "plan_checks",
        "plan_course",
        "preview_plan",
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
        "replan_order",
        "require_permission",
        "reschedule_entry",
        "restore_database",
        "schedule_maintenance",
        "schedule_series",
        "schedule_session",
        "search_audit",
        "search_patients",
        "session_length_min",
        "session_record",
        "session_view",
        "set_course_status",
        "set_password",
        "sign_in",
        "sign_order",
        "sign_out",
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


def test_no_index_is_a_leading_part_of_another_on_its_table() -> None:
    for table in METADATA.tables.values():
        lists = [
            (ix.name, tuple(c.name for c in ix.columns)) for ix in table.indexes if not ix.unique
        ]
        for name, columns in lists:
            longer = [
                other
                for other, cols in lists
                if other != name and len(cols) > len(columns) and cols[: len(columns)] == columns
            ]
            assert not longer, f"{table.name}: {name} {columns} is covered by {longer}"
