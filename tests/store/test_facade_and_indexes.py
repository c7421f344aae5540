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
        "Actor",
        "AdministrationStatus",
        "AllergyInput",
        "AuditReport",
        "BACKUP_FORMAT",
        "BackupResult",
        "CHECK_KINDS",
        "CheckCadence",
        "CheckStatus",
        "ChildPughInput",
        "Clock",
        "CoursePlan",
        "CourseView",
        "DISCHARGE_DECISIONS",
        "DISCHARGE_LIMITS",
        "DOSE_TOLERANCE_MG",
        "DOSE_TOLERANCE_PERCENT",
        "DemographicsInput",
        "DiagnosisInput",
        "DischargeBlock",
        "DischargeReadiness",
        "DischargeResult",
        "DosingTimes",
        "DoubleCheckResult",
        "DoubleCheckTask",
        "Enrolment",
        "IdentifierInput",
        "MedicationInput",
        "OPEN_STATUSES",
        "OrderView",
        "PainQualifiersInput",
        "PainTreatmentInput",
        "PatientListItem",
        "PatientUpdate",
        "PatientView",
        "PregnancyInput",
        "RECORD_KINDS",
        "RestoreResult",
        "SESSION_INSTRUMENTS",
        "SessionRecord",
        "SessionSummary",
        "SubstanceUseInput",
        "TRANSITIONS",
        "UpgradeResult",
        "UseCase",
        "VitalLimit",
        "VitalsFlag",
        "VitalsReading",
        "VitalsRecorded",
        "WEIGHT_TOLERANCE_KG",
        "WeightInput",
        "administration_allowed",
        "administration_status",
        "audited_transaction",
        "backup_database",
        "build_context",
        "cadence_for",
        "change_course_status",
        "change_rate",
        "check_database",
        "check_status",
        "condition_table",
        "conditions_of_code",
        "correct_patient_record",
        "course_sessions",
        "discharge",
        "discharge_readiness",
        "dosing_times",
        "double_check_order",
        "double_check_task",
        "enrol_patient",
        "get_course",
        "get_order",
        "get_patient_record",
        "list_courses",
        "open_clinic_database",
        "plan_checks",
        "plan_course",
        "protocol_version",
        "record_adverse_event",
        "record_dose",
        "record_session_score",
        "record_vitals",
        "restore_database",
        "search_patients",
        "session_record",
        "set_course_status",
        "sign_order",
        "start_session",
        "stop_infusion",
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
