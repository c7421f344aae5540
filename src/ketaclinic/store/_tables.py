"""Every table, in one place, and the lists the guards and the backup walk through."""

from __future__ import annotations

from sqlalchemy import Table

from ketaclinic.store._base import Base, ClinicalRecord
from ketaclinic.store._tables_access import SESSION_KINDS, LoginAttempt, StaffSession
from ketaclinic.store._tables_audit import GENESIS_HASH, AuditChainHead, AuditEvent
from ketaclinic.store._tables_clinic import ROLES, Chair, ClinicPriceList, StaffUser
from ketaclinic.store._tables_courses import (
    COURSE_STATUSES,
    Assessment,
    CourseStatusEvent,
    DoubleCheck,
    OpioidUse,
    Order,
    OrderOverride,
    OrderSignature,
    TreatmentCourse,
)
from ketaclinic.store._tables_outcomes import (
    RECOMMENDATIONS,
    SCREEN_KINDS,
    SymptomScreen,
    TrialDecisionRecord,
)
from ketaclinic.store._tables_patients import (
    Allergy,
    ChildPughAssessment,
    Demographics,
    Diagnosis,
    LabResult,
    Medication,
    PainQualifiers,
    PainTreatmentTried,
    Patient,
    PatientIdentifier,
    PregnancyStatus,
    SubstanceUse,
    WeightMeasurement,
)
from ketaclinic.store._tables_sessions import (
    AdverseEvent,
    Charge,
    Discharge,
    DoseGiven,
    Payment,
    ScheduledCheck,
    ScheduleEntry,
    SessionScore,
    TreatmentSession,
    VitalSigns,
)

__all__ = [
    "CLINICAL_RECORDS",
    "COURSE_STATUSES",
    "GENESIS_HASH",
    "INSERT_ONLY_TABLES",
    "METADATA",
    "RECOMMENDATIONS",
    "ROLES",
    "SCREEN_KINDS",
    "SESSION_KINDS",
    "AdverseEvent",
    "Allergy",
    "Assessment",
    "AuditChainHead",
    "AuditEvent",
    "Chair",
    "Charge",
    "ChildPughAssessment",
    "ClinicPriceList",
    "CourseStatusEvent",
    "Demographics",
    "Diagnosis",
    "Discharge",
    "DoseGiven",
    "DoubleCheck",
    "LabResult",
    "LoginAttempt",
    "Medication",
    "OpioidUse",
    "Order",
    "OrderOverride",
    "OrderSignature",
    "PainQualifiers",
    "PainTreatmentTried",
    "Patient",
    "PatientIdentifier",
    "Payment",
    "PregnancyStatus",
    "ScheduleEntry",
    "ScheduledCheck",
    "SessionScore",
    "StaffSession",
    "StaffUser",
    "SubstanceUse",
    "SymptomScreen",
    "TreatmentCourse",
    "TreatmentSession",
    "TrialDecisionRecord",
    "VitalSigns",
    "WeightMeasurement",
    "table_of",
]

METADATA = Base.metadata


def table_of(model: type[object]) -> Table:
    """The Core table of a mapped class."""
    table = getattr(model, "__table__", None)
    if not isinstance(table, Table):
        raise TypeError(f"{model!r} is not a mapped table class")
    return table


#: Every versioned clinical record class (all share ``ClinicalRecord``'s columns).
CLINICAL_RECORDS: tuple[type[ClinicalRecord], ...] = tuple(
    sorted(
        (m.class_ for m in Base.registry.mappers if issubclass(m.class_, ClinicalRecord)),
        key=lambda cls: table_of(cls).name,
    )
)

#: Tables whose rows are never updated or deleted (clinical records and the audit trail).
INSERT_ONLY_TABLES: tuple[str, ...] = tuple(
    sorted(
        table_of(m.class_).name
        for m in Base.registry.mappers
        if getattr(m.class_, "insert_only", False)
    )
)
