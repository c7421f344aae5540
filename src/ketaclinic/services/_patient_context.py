"""From a patient's stored records to what the safety engine and the planner read.

Diagnoses are stored as ICD-10-CM codes with free text beside them; the engine's conditions
(:class:`ketaclinic.safety.Diagnosis`) are derived from the codes by a versioned table
(``data/icd10cm_conditions.yaml``), from the pain qualifiers (opioid tolerance, neuropathic
pain, depression) and from a recorded ketamine allergy. The free text goes to the engine as
notes, so nothing the clinician wrote is lost.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import exists, select

from ketaclinic.errors import DataFileError, RefusedError, UserInputError
from ketaclinic.pharmacology import Dose, Route
from ketaclinic.safety import Diagnosis as Condition
from ketaclinic.safety import PatientContext, format_validation_error, interaction_tables
from ketaclinic.store import (
    Allergy,
    ChildPughAssessment,
    CourseStatusEvent,
    Demographics,
    Diagnosis,
    DoseGiven,
    Medication,
    PainQualifiers,
    PainTreatmentTried,
    PregnancyStatus,
    SubstanceUse,
    TreatmentCourse,
    TreatmentSession,
    VitalSigns,
    WeightMeasurement,
    course_status,
    current_records,
    history,
    table_of,
)

__all__ = [
    "ICD10CM_CODE",
    "ConditionTable",
    "Records",
    "TableCache",
    "age_years",
    "build_context",
    "condition_table",
    "conditions_of_code",
    "latest",
    "normalise_icd10cm",
]

#: ICD-10-CM code shape: a letter, a digit, a digit or letter, then optionally a dot and 1-4
#: characters (ICD-10-CM Official Guidelines, section I.A.2-3).
ICD10CM_CODE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")

_DAYS_PER_YEAR = 365.25
_IN_LIST = 500  # patients per IN list (well under SQLite's and PostgreSQL's bind limits)


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    condition: Condition
    prefixes: tuple[str, ...] = Field(min_length=1)
    titles: str


class ConditionTable(BaseModel):
    """The versioned ICD-10-CM -> engine-condition table."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    source: str
    entries: tuple[_Entry, ...]

    def conditions(self, code: str) -> tuple[Condition, ...]:
        found = [e.condition for e in self.entries if any(code.startswith(p) for p in e.prefixes)]
        return tuple(dict.fromkeys(found))


@lru_cache(maxsize=1)
def condition_table() -> ConditionTable:
    text = (
        resources.files("ketaclinic.services").joinpath("data/icd10cm_conditions.yaml").read_text()
    )
    try:
        return ConditionTable.model_validate(yaml.safe_load(text))
    except Exception as error:  # a defect of the installation, not of the input
        raise DataFileError(f"icd10cm_conditions.yaml is invalid: {error}") from None


def normalise_icd10cm(code: str) -> str:
    """``f33.2`` -> ``F33.2``; ``F332`` -> ``F33.2``; anything else is refused."""
    if not isinstance(code, str):
        raise UserInputError(f"ICD-10-CM code {code!r} is not text")
    text = code.strip().upper()
    if "." not in text and len(text) > 3:
        text = f"{text[:3]}.{text[3:]}"
    if not ICD10CM_CODE.match(text):
        raise UserInputError(
            f"ICD-10-CM code {code!r} is not accepted: a letter, two characters, then optionally "
            "a dot and 1-4 characters, e.g. F33.2 or G90.511"
        )
    return text


def conditions_of_code(code: str) -> tuple[Condition, ...]:
    return condition_table().conditions(normalise_icd10cm(code))


def latest(rows: Any, key: str) -> Any:
    """The row with the greatest ``key`` (then id); None when there is none."""
    return max(rows, key=lambda r: (getattr(r, key), r.id), default=None)


def age_years(birth_date: date, on: date) -> float:
    return (on - birth_date).days / _DAYS_PER_YEAR


@dataclass(frozen=True)
class _Records:
    session: Any
    patient_id: int

    def __call__(self, model: Any) -> Any:
        return current_records(self.session, model, self.patient_id)


def _conditions(rows: _Records) -> tuple[list[Condition], list[str]]:
    found: list[Condition] = []
    notes: list[str] = []
    for diagnosis in rows(Diagnosis):
        found += condition_table().conditions(diagnosis.icd10cm_code)
        notes.append(f"{diagnosis.icd10cm_code} {diagnosis.free_text}")
    qualifiers = latest(rows(PainQualifiers), "assessed_on")
    if qualifiers is not None:
        if qualifiers.opioid_tolerant:
            found.append(Condition.OPIOID_TOLERANCE)
        if qualifiers.neuropathic:
            found.append(Condition.NEUROPATHIC_PAIN)
        if qualifiers.depression:
            found.append(Condition.DEPRESSION)
        if qualifiers.inflammatory:
            notes.append("inflammatory pain component")
    for allergy in rows(Allergy):
        if "ketamine" in allergy.substance.lower():
            found.append(Condition.KETAMINE_HYPERSENSITIVITY)
        notes.append(f"allergy: {allergy.substance}")
    return list(dict.fromkeys(found)), notes


def _previous_sessions(session: Any, patient_id: int, before: datetime) -> list[dict[str, Any]]:
    courses = {c.id: c.protocol_id for c in current_records(session, TreatmentCourse, patient_id)}
    doses: dict[int, list[DoseGiven]] = {}
    for row in current_records(session, DoseGiven, patient_id):
        doses.setdefault(row.session_id, []).append(row)
    found = []
    for visit in current_records(session, TreatmentSession, patient_id):
        if visit.actual_start_at is None or visit.actual_start_at >= before:
            continue
        given = [_absolute(d, visit.route) for d in doses.get(visit.id, [])]
        kept = [d.to_json() for d in given if d is not None]
        if kept and visit.course_id in courses:
            found.append(
                {
                    "start": visit.actual_start_at,
                    "protocol": courses[visit.course_id],
                    "doses": kept,
                }
            )
    return found


def _absolute(given: DoseGiven, route: str) -> Dose | None:
    """What was given, in mg (the engine refuses per-kg doses of past sessions)."""
    if isinstance(given.dose, dict):
        try:
            dose = Dose.from_json(given.dose)
        except (ValueError, TypeError):
            dose = None
        if dose is not None and not dose.per_kg:
            return dose
    if given.amount_mg is not None and given.amount_mg > 0:
        try:
            return Dose(Route(route), float(given.amount_mg))
        except ValueError:
            return None
    return None


def build_context(session: Any, patient_id: int, as_of: datetime) -> PatientContext:
    """The safety engine's view of the patient as of ``as_of`` (latest weight, age then)."""
    rows = _Records(session, patient_id)
    demographics = latest(rows(Demographics), "id")
    if demographics is None:
        raise RefusedError(f"patient {patient_id} has no demographics recorded")
    on = as_of.date()
    weights = [w for w in rows(WeightMeasurement) if w.measured_on <= on]
    weight = latest(weights, "measured_on")
    if weight is None:
        raise RefusedError(
            f"patient {patient_id} has no weight measured on or before {on.isoformat()}: "
            "record a weight (kg, with the date measured) first"
        )
    if demographics.sex_at_birth not in ("female", "male"):
        raise RefusedError(
            f"the pharmacokinetic models need sex at birth female or male; patient "
            f"{patient_id} has {demographics.sex_at_birth!r}"
        )
    heights = [w for w in weights if w.height_cm is not None]
    height = latest(heights, "measured_on")
    child_pugh = latest(rows(ChildPughAssessment), "assessed_on")
    conditions, notes = _conditions(rows)
    covariates: dict[str, Any] = {
        "weight_kg": weight.weight_kg,
        "age_years": round(age_years(demographics.birth_date, on), 2),
        "sex": demographics.sex_at_birth,
        "child_pugh": child_pugh.child_pugh_class if child_pugh is not None else "none",
    }
    if height is not None:
        covariates["height_cm"] = height.height_cm
    medications = [
        {
            "name": m.drug_name,
            "dose_mg_per_day": m.dose_value if m.dose_unit == "mg/day" else None,
            "route": m.route,
        }
        for m in rows(Medication)
        if m.stopped_on is None or m.stopped_on >= on
    ]
    pregnancy = latest(rows(PregnancyStatus), "assessed_on")
    statuses = {s.status for s in rows(SubstanceUse)}
    substance = "active" if "current" in statuses else "history" if "past" in statuses else "none"
    tables = interaction_tables()
    treatments = [
        t.treatment for t in rows(PainTreatmentTried) if tables.pain_class(t.treatment) is not None
    ]
    vitals = [
        v
        for v in rows(VitalSigns)
        if v.systolic_mmhg is not None and v.diastolic_mmhg is not None and v.measured_at <= as_of
    ]
    last_vitals = latest(vitals, "measured_at")
    data: dict[str, Any] = {
        "covariates": covariates,
        "weight_measured_on": weight.measured_on,
        "diagnoses": conditions,
        "notes": "; ".join(notes),
        "medications": medications,
        "pregnant": pregnancy is not None and pregnancy.status == "pregnant",
        "substance_use": substance,
        "prior_pain_treatments": treatments,
        "previous_sessions": _previous_sessions(session, patient_id, as_of),
    }
    if last_vitals is not None and last_vitals.measured_at >= as_of - timedelta(days=30):
        data["vitals"] = {
            "measured_at": last_vitals.measured_at,
            "systolic_mmhg": last_vitals.systolic_mmhg,
            "diastolic_mmhg": last_vitals.diastolic_mmhg,
            "heart_rate_per_min": last_vitals.heart_rate_per_min,
            "spo2_percent": last_vitals.spo2_percent,
        }
    try:
        return PatientContext.model_validate(data)
    except ValidationError as error:
        raise RefusedError(
            format_validation_error(error, f"patient {patient_id}'s records cannot be checked")
        ) from None


class Records:
    """The current records of a patient, one query per table and patient (a use case that
    reads one patient). :class:`TableCache` reads whole tables once instead."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def of(self, model: Any, patient_id: int) -> Sequence[Any]:
        return current_records(self.session, model, patient_id)

    def original_id(self, model: Any, record: Any) -> int:
        """The id of the first version of ``record`` (what other records point to)."""
        if record.amends_id is None:
            return int(record.id)
        return int(history(self.session, model, record.id)[0].id)

    def status(self, course_id: int, patient_id: int) -> str | None:
        found = course_status(self.session, course_id)
        return found.status if found is not None else None


class TableCache(Records):
    """Tables read once for many patients, grouped by patient: for a use case that reads many
    patients (the dashboard); one query per table (per 500 patients of ``patients``) instead
    of one per table and patient. ``patients=None`` reads whole tables."""

    def __init__(self, session: Any, patients: Collection[int] | None = None) -> None:
        super().__init__(session)
        self.patients = sorted(set(patients)) if patients is not None else None
        self._current: dict[Any, dict[int, list[Any]]] = {}
        self._amends: dict[Any, dict[int, int | None]] = {}

    def _chunks(self, table: Any, query: Any) -> Iterator[Any]:
        if self.patients is None:
            yield from self.session.connection().execute(query)
            return
        for k in range(0, len(self.patients), _IN_LIST):
            chunk = self.patients[k : k + _IN_LIST]
            yield from self.session.connection().execute(query.where(table.c.patient_id.in_(chunk)))

    def of(self, model: Any, patient_id: int) -> Sequence[Any]:
        if model not in self._current:
            table = table_of(model)
            newer = table.alias()
            query = (
                select(table)
                .where(table.c.entered_in_error.is_(False))
                .where(~exists().where(newer.c.amends_id == table.c.id))
                .order_by(table.c.id)
            )
            grouped: dict[int, list[Any]] = defaultdict(list)
            for row in self._chunks(table, query):
                grouped[row.patient_id].append(row)
            self._current[model] = grouped
        return self._current[model].get(patient_id, [])

    def everyone(self, model: Any) -> list[Any]:
        self.of(model, 0)
        return [row for rows in self._current[model].values() for row in rows]

    def original_id(self, model: Any, record: Any) -> int:
        if record.amends_id is None:
            return int(record.id)
        if model not in self._amends:
            table = table_of(model)
            query = select(table.c.id, table.c.amends_id).where(table.c.amends_id.is_not(None))
            self._amends[model] = {int(r.id): r.amends_id for r in self._chunks(table, query)}
        found = int(record.id)
        while (older := self._amends[model].get(found)) is not None:
            found = older
        return found

    def status(self, course_id: int, patient_id: int) -> str | None:
        events = [e for e in self.of(CourseStatusEvent, patient_id) if e.course_id == course_id]
        last = max(events, key=lambda e: (e.effective_at, e.id), default=None)
        return last.status if last is not None else None
