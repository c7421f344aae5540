"""A patient's identity and the facts recorded about them (all insert-only)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.store._base import Base, ClinicalRecord, amendment_rule, vocabulary

__all__ = [
    "Allergy",
    "ChildPughAssessment",
    "Demographics",
    "Diagnosis",
    "LabResult",
    "Medication",
    "PainQualifiers",
    "PainTreatmentTried",
    "Patient",
    "PatientIdentifier",
    "PregnancyStatus",
    "SubstanceUse",
    "WeightMeasurement",
]


class Patient(Base):
    """A patient's identity: the clinic's record number. Everything else is a versioned fact."""

    __tablename__ = "patients"
    insert_only = True

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))


class PatientIdentifier(ClinicalRecord, Base):
    """Another identifier of the patient (national number, insurance number...)."""

    __tablename__ = "patient_identifiers"
    __table_args__ = (amendment_rule(),)

    system: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(200))


class Demographics(ClinicalRecord, Base):
    __tablename__ = "demographics"
    __table_args__ = (
        amendment_rule(),
        vocabulary("sex_at_birth", ("female", "male", "intersex", "unknown")),
        # the patient list's order: a page is walked from the index, not sorted (0011)
        Index("ix_demographics_family_name_patient_id", "family_name", "patient_id"),
    )

    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date]
    sex_at_birth: Mapped[str] = mapped_column(String(20))
    gender_identity: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None]


class WeightMeasurement(ClinicalRecord, Base):
    __tablename__ = "weight_measurements"
    __table_args__ = (amendment_rule(), CheckConstraint("weight_kg > 0", name="weight_positive"))

    measured_on: Mapped[date]
    weight_kg: Mapped[float]
    height_cm: Mapped[float | None]


class ChildPughAssessment(ClinicalRecord, Base):
    __tablename__ = "child_pugh_assessments"
    __table_args__ = (amendment_rule(), vocabulary("child_pugh_class", ("A", "B", "C")))

    assessed_on: Mapped[date]
    child_pugh_class: Mapped[str] = mapped_column(String(1))
    child_pugh_points: Mapped[int | None]


class Diagnosis(ClinicalRecord, Base):
    """An ICD-10-CM coded diagnosis with the clinician's free text beside the code."""

    __tablename__ = "diagnoses"
    __table_args__ = (amendment_rule(),)

    icd10cm_code: Mapped[str] = mapped_column(String(10))
    free_text: Mapped[str]
    onset_on: Mapped[date | None]
    resolved_on: Mapped[date | None]


class PainQualifiers(ClinicalRecord, Base):
    """The factors that make a ketamine trial most relevant in pain (DOMAIN.md section 1)."""

    __tablename__ = "pain_qualifiers"
    __table_args__ = (amendment_rule(),)

    assessed_on: Mapped[date]
    opioid_tolerant: Mapped[bool]
    neuropathic: Mapped[bool]
    inflammatory: Mapped[bool]
    depression: Mapped[bool]


class Medication(ClinicalRecord, Base):
    __tablename__ = "medications"
    __table_args__ = (amendment_rule(),)

    drug_name: Mapped[str] = mapped_column(String(200))
    dose_value: Mapped[float | None]
    dose_unit: Mapped[str | None] = mapped_column(String(30))
    route: Mapped[str | None] = mapped_column(String(30))
    frequency: Mapped[str | None] = mapped_column(String(100))
    started_on: Mapped[date | None]
    stopped_on: Mapped[date | None]


class Allergy(ClinicalRecord, Base):
    __tablename__ = "allergies"
    __table_args__ = (
        amendment_rule(),
        vocabulary("severity", ("mild", "moderate", "severe", "unknown")),
    )

    substance: Mapped[str] = mapped_column(String(200))
    reaction: Mapped[str | None]
    severity: Mapped[str] = mapped_column(String(20))


class PainTreatmentTried(ClinicalRecord, Base):
    __tablename__ = "pain_treatments_tried"
    __table_args__ = (
        amendment_rule(),
        vocabulary("outcome", ("helped", "partial", "no_effect", "not_tolerated", "unknown")),
    )

    treatment: Mapped[str] = mapped_column(String(200))
    started_on: Mapped[date | None]
    stopped_on: Mapped[date | None]
    outcome: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str | None]


class SubstanceUse(ClinicalRecord, Base):
    __tablename__ = "substance_use"
    __table_args__ = (amendment_rule(), vocabulary("status", ("current", "past", "never")))

    substance: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    last_use_on: Mapped[date | None]
    notes: Mapped[str | None]


class PregnancyStatus(ClinicalRecord, Base):
    __tablename__ = "pregnancy_status"
    __table_args__ = (
        amendment_rule(),
        vocabulary("status", ("pregnant", "not_pregnant", "unknown", "not_applicable")),
    )

    assessed_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(20))
    breastfeeding: Mapped[bool | None]


class LabResult(ClinicalRecord, Base):
    """A laboratory result (liver tests: ALT, AST, bilirubin...), LOINC-coded where known."""

    __tablename__ = "lab_results"
    __table_args__ = (amendment_rule(),)

    loinc_code: Mapped[str | None] = mapped_column(String(20))
    test_name: Mapped[str] = mapped_column(String(200))
    value: Mapped[float]
    unit: Mapped[str] = mapped_column(String(30))
    reference_low: Mapped[float | None]
    reference_high: Mapped[float | None]
    collected_at: Mapped[datetime]
