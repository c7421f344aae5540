"""Enrol and update a patient, correct or withdraw a fact, read a patient, search patients.

Who may: physicians and nurses (enrol, update, correct, read, search); nobody else reads
identifiable records. Every call is one audited transaction; a refused call writes nothing.
A patient's facts are versioned records: an update adds a record (a new weight, a new
diagnosis), a correction amends one (``correct_patient_record``), a withdrawal marks one
entered in error. Nothing is overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from sqlalchemy import exists, select

from ketaclinic.errors import RefusedError, UserInputError
from ketaclinic.ranges import CHILD_PUGH_POINTS, DOSE_MG
from ketaclinic.services._audit import Actor, Clock, utc_now
from ketaclinic.services._audit import audited_transaction as _transaction
from ketaclinic.services._inputs import (
    BirthDay,
    ClinicDay,
    HeightCm,
    Input,
    Reason,
    WeightKg,
    authorize,
    existing_patient,
    record_of_patient,
    validated,
    who,
)
from ketaclinic.services._patient_context import (
    latest,
    normalise_icd10cm,
)
from ketaclinic.services._permissions import Permission
from ketaclinic.store import (
    Allergy,
    ChildPughAssessment,
    ClinicalRecord,
    Database,
    Demographics,
    Diagnosis,
    Medication,
    PainQualifiers,
    PainTreatmentTried,
    Patient,
    PatientIdentifier,
    PregnancyStatus,
    SubstanceUse,
    WeightMeasurement,
    add,
    amend,
    content,
    withdraw,
)

__all__ = [
    "RECORD_KINDS",
    "AllergyInput",
    "ChildPughInput",
    "DemographicsInput",
    "DiagnosisInput",
    "Enrolment",
    "IdentifierInput",
    "MedicationInput",
    "PainQualifiersInput",
    "PainTreatmentInput",
    "PatientUpdate",
    "PregnancyInput",
    "SubstanceUseInput",
    "WeightInput",
    "correct_patient_record",
    "enrol_patient",
    "update_patient",
    "withdraw_patient_record",
]

_Text200 = Field(min_length=1, max_length=200)
MEDICATION_DOSE_UNITS = ("mg", "mg/day", "mcg", "mcg/day", "mcg/h", "g", "mL", "units", "puffs")


class DemographicsInput(Input):
    given_name: str = _Text200
    family_name: str = _Text200
    birth_date: BirthDay
    sex_at_birth: Literal["female", "male", "intersex", "unknown"]
    gender_identity: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    address: str | None = Field(default=None, max_length=1000)


class IdentifierInput(Input):
    system: str = Field(min_length=1, max_length=100, description="e.g. 'national', 'insurer'")
    value: str = _Text200


class WeightInput(Input):
    weight_kg: WeightKg
    measured_on: ClinicDay
    height_cm: HeightCm | None = None


class ChildPughInput(Input):
    child_pugh_class: Literal["A", "B", "C"]
    child_pugh_points: int | None = None
    assessed_on: ClinicDay

    @model_validator(mode="after")
    def _points_fit_class(self) -> ChildPughInput:
        points = self.child_pugh_points
        if points is None:
            return self
        CHILD_PUGH_POINTS.check(points)
        expected = "A" if points <= 6 else "B" if points <= 9 else "C"  # Pugh 1973, PMID 4541913
        if expected != self.child_pugh_class:
            raise ValueError(
                f"{points} points is Child-Pugh class {expected}, not {self.child_pugh_class} "
                "(A 5-6, B 7-9, C 10-15 points)"
            )
        return self


class DiagnosisInput(Input):
    icd10cm_code: str = Field(description="ICD-10-CM, e.g. F33.2 or G90.511")
    free_text: str = Field(min_length=1, max_length=2000)
    onset_on: BirthDay | None = None
    resolved_on: BirthDay | None = None

    @field_validator("icd10cm_code")
    @classmethod
    def _code(cls, value: str) -> str:
        return normalise_icd10cm(value)


class PainQualifiersInput(Input):
    """The factors that favour a ketamine trial in pain (DOMAIN.md section 1)."""

    assessed_on: ClinicDay
    opioid_tolerant: bool
    neuropathic: bool
    inflammatory: bool
    depression: bool


class MedicationInput(Input):
    drug_name: str = _Text200
    dose_value: float | None = Field(default=None, gt=0, le=DOSE_MG.high)
    dose_unit: Literal[MEDICATION_DOSE_UNITS] | None = None  # type: ignore[valid-type]
    route: str | None = Field(default=None, max_length=30)
    frequency: str | None = Field(default=None, max_length=100)
    started_on: BirthDay | None = None
    stopped_on: BirthDay | None = None

    @model_validator(mode="after")
    def _dose_with_unit(self) -> MedicationInput:
        if (self.dose_value is None) != (self.dose_unit is None):
            raise ValueError(
                "a medication dose needs both dose_value and dose_unit (one of "
                f"{', '.join(MEDICATION_DOSE_UNITS)}), or neither"
            )
        return self


class AllergyInput(Input):
    substance: str = _Text200
    reaction: str | None = Field(default=None, max_length=1000)
    severity: Literal["mild", "moderate", "severe", "unknown"] = "unknown"


class PainTreatmentInput(Input):
    treatment: str = _Text200
    started_on: BirthDay | None = None
    stopped_on: BirthDay | None = None
    outcome: Literal["helped", "partial", "no_effect", "not_tolerated", "unknown"]
    notes: str | None = Field(default=None, max_length=2000)


class SubstanceUseInput(Input):
    substance: str = _Text200
    status: Literal["current", "past", "never"]
    last_use_on: BirthDay | None = None
    notes: str | None = Field(default=None, max_length=2000)


class PregnancyInput(Input):
    assessed_on: ClinicDay
    status: Literal["pregnant", "not_pregnant", "unknown", "not_applicable"]
    breastfeeding: bool | None = None


def _check_periods(items: Any) -> None:
    for item in items:
        start, stop = getattr(item, "started_on", None), getattr(item, "stopped_on", None)
        if start is not None and stop is not None and stop < start:
            raise UserInputError(
                f"{item.__class__.__name__.removesuffix('Input').lower()} stopped on "
                f"{stop.isoformat()} before it started on {start.isoformat()}"
            )


class _Facts(Input):
    identifiers: tuple[IdentifierInput, ...] = ()
    weight: WeightInput | None = None
    child_pugh: ChildPughInput | None = None
    diagnoses: tuple[DiagnosisInput, ...] = ()
    pain_qualifiers: PainQualifiersInput | None = None
    medications: tuple[MedicationInput, ...] = ()
    allergies: tuple[AllergyInput, ...] = ()
    pain_treatments: tuple[PainTreatmentInput, ...] = ()
    substance_use: tuple[SubstanceUseInput, ...] = ()
    pregnancy: PregnancyInput | None = None


class Enrolment(_Facts):
    """A new patient: record number, demographics and whatever facts are known."""

    mrn: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$", description="record number")
    demographics: DemographicsInput


class PatientUpdate(_Facts):
    """New facts about a patient; ``demographics`` replaces the current ones (an amendment,
    with ``reason``)."""

    demographics: DemographicsInput | None = None
    reason: Reason | None = None


#: Record kinds a correction or withdrawal may name, with their input model.
RECORD_KINDS: dict[str, tuple[type[ClinicalRecord], type[Input]]] = {
    "demographics": (Demographics, DemographicsInput),
    "identifiers": (PatientIdentifier, IdentifierInput),
    "weights": (WeightMeasurement, WeightInput),
    "child_pugh": (ChildPughAssessment, ChildPughInput),
    "diagnoses": (Diagnosis, DiagnosisInput),
    "pain_qualifiers": (PainQualifiers, PainQualifiersInput),
    "medications": (Medication, MedicationInput),
    "allergies": (Allergy, AllergyInput),
    "pain_treatments": (PainTreatmentTried, PainTreatmentInput),
    "substance_use": (SubstanceUse, SubstanceUseInput),
    "pregnancy": (PregnancyStatus, PregnancyInput),
}

_FACT_MODELS: tuple[tuple[str, type[ClinicalRecord]], ...] = (
    ("identifiers", PatientIdentifier),
    ("weight", WeightMeasurement),
    ("child_pugh", ChildPughAssessment),
    ("diagnoses", Diagnosis),
    ("pain_qualifiers", PainQualifiers),
    ("medications", Medication),
    ("allergies", Allergy),
    ("pain_treatments", PainTreatmentTried),
    ("substance_use", SubstanceUse),
    ("pregnancy", PregnancyStatus),
)


def _check_dates(facts: _Facts, today: date, birth_date: date | None) -> None:
    _check_periods((*facts.medications, *facts.pain_treatments))
    for name, _ in _FACT_MODELS:
        value = getattr(facts, name)
        for item in value if isinstance(value, tuple) else (value,) if value else ():
            for key, day in item.model_dump().items():
                if isinstance(day, date) and day > today:
                    raise UserInputError(
                        f"{name}: {key} {day.isoformat()} is in the future (today is "
                        f"{today.isoformat()}); record facts on or before today"
                    )
                if isinstance(day, date) and birth_date is not None and day < birth_date:
                    raise UserInputError(
                        f"{name}: {key} {day.isoformat()} is before the birth date "
                        f"{birth_date.isoformat()}"
                    )


def _add_facts(uc: Any, patient_id: int, facts: _Facts, bookkeeping: dict[str, Any]) -> list[str]:
    added: list[str] = []
    for name, model in _FACT_MODELS:
        value = getattr(facts, name)
        for item in value if isinstance(value, tuple) else (value,) if value else ():
            fields = {"patient_id": patient_id, **item.model_dump(), **bookkeeping}
            record = add(uc.session, model(**fields))
            added.append(f"{model.__tablename__}:{record.id}")  # type: ignore[attr-defined]
    return added


def enrol_patient(
    db: Database, actor: Actor, enrolment: Enrolment | Mapping[str, Any], *, clock: Clock = utc_now
) -> int:
    """Enrol a new patient; returns the patient id. A record number already used is refused."""
    data = validated(Enrolment, enrolment, "enrolment")
    with _transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.PATIENT_WRITE, "enrolling a patient")
        today = uc.now.date()
        if data.demographics.birth_date > today:
            raise UserInputError(
                f"birth date {data.demographics.birth_date.isoformat()} is after today "
                f"({today.isoformat()})"
            )
        _check_dates(data, today, data.demographics.birth_date)
        taken = uc.session.scalar(select(exists().where(Patient.mrn == data.mrn)))
        if taken:
            raise RefusedError(f"record number {data.mrn!r} is already a patient's; use another")
        patient = Patient(mrn=data.mrn, created_at=uc.now, created_by_id=user.id)
        uc.session.add(patient)
        uc.session.flush()
        bookkeeping = who(uc, user)
        add(
            uc.session,
            Demographics(patient_id=patient.id, **data.demographics.model_dump(), **bookkeeping),
        )
        added = _add_facts(uc, patient.id, data, bookkeeping)
        uc.audit(
            "patient.enrol",
            record_type="patients",
            record_id=patient.id,
            patient_id=patient.id,
            details={"records": ["demographics", *added]},
        )
        return int(patient.id)


def update_patient(
    db: Database,
    actor: Actor,
    patient_id: int,
    update: PatientUpdate | Mapping[str, Any],
    *,
    clock: Clock = utc_now,
) -> list[str]:
    """Add new facts (and replace demographics, with a reason); returns the records added
    as ``table:id``."""
    data = validated(PatientUpdate, update, "patient update")
    with _transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.PATIENT_WRITE, "updating a patient")
        existing_patient(uc, patient_id)
        from ketaclinic.store import current_records

        current = latest(current_records(uc.session, Demographics, patient_id), "id")
        birth = data.demographics.birth_date if data.demographics else None
        birth = birth or (current.birth_date if current is not None else None)
        _check_dates(data, uc.now.date(), birth)
        bookkeeping = who(uc, user)
        added = []
        if data.demographics is not None:
            if data.reason is None:
                raise UserInputError("replacing demographics needs a reason (e.g. 'name changed')")
            fields = data.demographics.model_dump()
            if current is None:
                record = add(
                    uc.session, Demographics(patient_id=patient_id, **fields, **bookkeeping)
                )
            else:
                record = amend(
                    uc.session, current, Demographics(**fields), reason=data.reason, **bookkeeping
                )
            added.append(f"demographics:{record.id}")
        elif data.reason is not None:
            raise UserInputError("reason is only for replacing demographics; leave it out")
        added += _add_facts(uc, patient_id, data, bookkeeping)
        if not added:
            raise UserInputError("the update holds no facts; give at least one section")
        uc.audit(
            "patient.update",
            record_type="patients",
            record_id=patient_id,
            patient_id=patient_id,
            reason=data.reason,
            details={"records": added},
        )
        return added


def _kind(record_type: str) -> tuple[type[ClinicalRecord], type[Input]]:
    if record_type not in RECORD_KINDS:
        raise UserInputError(
            f"record type {record_type!r} is not accepted; accepted: {', '.join(RECORD_KINDS)}"
        )
    return RECORD_KINDS[record_type]


def _current_or_refuse(uc: Any, model: type[ClinicalRecord], record: ClinicalRecord) -> None:
    newer = uc.session.scalars(select(model).where(model.amends_id == record.id)).first()
    if newer is not None:
        raise RefusedError(
            f"{model.__tablename__} {record.id} was already corrected by {newer.id}; correct "  # type: ignore[attr-defined]
            "the current version"
        )
    if record.entered_in_error:
        raise RefusedError(f"{model.__tablename__} {record.id} was withdrawn (entered in error)")  # type: ignore[attr-defined]


def correct_patient_record(
    db: Database,
    actor: Actor,
    patient_id: int,
    record_type: str,
    record_id: int,
    changes: Mapping[str, Any],
    *,
    reason: str,
    clock: Clock = utc_now,
) -> int:
    """Correct one fact: a new version with ``changes`` applied, the original kept as it
    was. Returns the new version's id (e.g. a medication stopped: ``{"stopped_on": ...}``)."""
    model, schema = _kind(record_type)
    if not isinstance(changes, Mapping) or not changes:
        raise UserInputError("a correction needs changes: an object of field -> new value")
    if not isinstance(reason, str) or not reason.strip():
        raise UserInputError("a correction needs a reason (a non-empty text)")
    with _transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.PATIENT_WRITE, "correcting a patient record")
        existing_patient(uc, patient_id)
        original = record_of_patient(uc, model, record_id, patient_id)
        _current_or_refuse(uc, model, original)
        fields = {k: v for k, v in content(original).items() if k in schema.model_fields}
        unknown = sorted(set(changes) - set(schema.model_fields))
        if unknown:
            raise UserInputError(
                f"{record_type} has no field {', '.join(unknown)}; fields: "
                f"{', '.join(schema.model_fields)}"
            )
        fixed = validated(schema, {**fields, **changes}, f"{record_type} correction")
        version = amend(
            uc.session, original, model(**fixed.model_dump()), reason=reason, **who(uc, user)
        )
        uc.audit(
            "patient.correct",
            record_type=model.__tablename__,  # type: ignore[attr-defined]
            record_id=version.id,
            patient_id=patient_id,
            reason=reason.strip(),
            details={"amends": original.id, "changed": sorted(changes)},
        )
        return int(version.id)


def withdraw_patient_record(
    db: Database,
    actor: Actor,
    patient_id: int,
    record_type: str,
    record_id: int,
    *,
    reason: str,
    clock: Clock = utc_now,
) -> int:
    """Mark one fact entered in error (every version stays readable); returns the id of the
    withdrawing version."""
    model, _ = _kind(record_type)
    if not isinstance(reason, str) or not reason.strip():
        raise UserInputError("a withdrawal needs a reason (a non-empty text)")
    with _transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.PATIENT_WRITE, "withdrawing a patient record")
        existing_patient(uc, patient_id)
        original = record_of_patient(uc, model, record_id, patient_id)
        _current_or_refuse(uc, model, original)
        version = withdraw(uc.session, original, reason=reason, **who(uc, user))
        uc.audit(
            "patient.withdraw",
            record_type=model.__tablename__,  # type: ignore[attr-defined]
            record_id=version.id,
            patient_id=patient_id,
            reason=reason.strip(),
            details={"amends": original.id},
        )
        return int(version.id)
