"""Read a patient's chart and search patients (physicians and nurses; every read audited).

The chart is the current version of each fact with its ``id`` (for corrections), the
conditions the safety engine derives from the ICD-10-CM codes, and the mapping's version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from ketaclinic.errors import UserInputError
from ketaclinic.services._audit import Actor, Clock, audited_read, utc_now
from ketaclinic.services._inputs import authorize, existing_patient
from ketaclinic.services._patient_context import age_years, condition_table, latest
from ketaclinic.services._permissions import Permission
from ketaclinic.store import (
    Allergy,
    ChildPughAssessment,
    ClinicalRecord,
    Database,
    Demographics,
    Diagnosis,
    LabResult,
    Medication,
    PainQualifiers,
    PainTreatmentTried,
    Patient,
    PatientChart,
    PatientIdentifier,
    PregnancyStatus,
    SubstanceUse,
    WeightMeasurement,
    load_chart,
    newer_version,
)

__all__ = ["PatientListItem", "PatientView", "get_patient_record", "search_patients"]


@dataclass(frozen=True)
class PatientView:
    """One patient's chart as plain data (current versions; ``id`` of each for corrections)."""

    patient_id: int
    mrn: str
    age_years: float | None
    demographics: dict[str, Any] | None
    latest_weight: dict[str, Any] | None
    sections: dict[str, list[dict[str, Any]]]
    conditions: tuple[str, ...]
    condition_table_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "mrn": self.mrn,
            "age_years": self.age_years,
            "demographics": self.demographics,
            "latest_weight": self.latest_weight,
            **self.sections,
            "conditions": list(self.conditions),
            "condition_table_version": self.condition_table_version,
        }


_VIEW_SECTIONS: dict[str, type[ClinicalRecord]] = {
    "identifiers": PatientIdentifier,
    "weights": WeightMeasurement,
    "child_pugh": ChildPughAssessment,
    "diagnoses": Diagnosis,
    "pain_qualifiers": PainQualifiers,
    "medications": Medication,
    "allergies": Allergy,
    "pain_treatments": PainTreatmentTried,
    "substance_use": SubstanceUse,
    "pregnancy": PregnancyStatus,
    "lab_results": LabResult,
}

_HIDDEN = {"patient_id", "recorded_by_id", "amendment_reason", "entered_in_error", "amends_id"}


def _plain(row: Any) -> dict[str, Any]:
    out = {}
    for key, value in row._mapping.items():
        if key in _HIDDEN:
            continue
        out[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def get_patient_record(
    db: Database, actor: Actor, patient_id: int, *, clock: Clock = utc_now
) -> PatientView:
    """A patient's current facts (audited read), with the safety engine's conditions."""
    with audited_read(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "reading a patient record")
        existing_patient(uc, patient_id)
        chart = load_chart(uc.session, patient_id)
        uc.audit(
            "patient.read", record_type="patients", record_id=patient_id, patient_id=patient_id
        )
        return record_view(chart, uc.now.date())


def record_view(chart: PatientChart, today: date) -> PatientView:
    """The patient view of a loaded chart (no reads of its own); age on ``today``."""
    demographics = latest(chart.of(Demographics), "id")
    sections = {name: [_plain(r) for r in chart.of(m)] for name, m in _VIEW_SECTIONS.items()}
    weight = latest(chart.of(WeightMeasurement), "measured_on")
    table = condition_table()
    conditions: list[str] = []
    for diagnosis, item in zip(chart.of(Diagnosis), sections["diagnoses"], strict=True):
        derived = [str(c) for c in table.conditions(diagnosis.icd10cm_code)]
        item["conditions"] = derived
        conditions += derived
    return PatientView(
        patient_id=int(chart.patient.id),
        mrn=chart.patient.mrn,
        age_years=(round(age_years(demographics.birth_date, today), 1) if demographics else None),
        demographics=_plain(demographics) if demographics is not None else None,
        latest_weight=_plain(weight) if weight is not None else None,
        sections=sections,
        conditions=tuple(dict.fromkeys(conditions)),
        condition_table_version=table.version,
    )


@dataclass(frozen=True)
class PatientListItem:
    patient_id: int
    mrn: str
    given_name: str | None
    family_name: str | None
    birth_date: date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "mrn": self.mrn,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
        }


_CURRENT_DEMOGRAPHICS: list[Any] = []


def _current_demographics() -> Any:
    """The current, not withdrawn demographics rows, as a subquery built once. The amended
    ids are few (corrections are rare), so they are read once per statement (``NOT IN``: a
    list on SQLite, a hashed subplan on PostgreSQL) rather than probed once per patient: the
    list page's statement reads every patient to sort them by name."""
    if not _CURRENT_DEMOGRAPHICS:
        newer = newer_version(Demographics)
        amended = select(newer.amends_id).where(newer.amends_id.is_not(None))
        _CURRENT_DEMOGRAPHICS.append(
            select(Demographics)
            .where(Demographics.id.not_in(amended))
            .where(Demographics.entered_in_error.is_(False))
            .subquery()
        )
    return _CURRENT_DEMOGRAPHICS[0]


def search_patients(
    db: Database,
    actor: Actor,
    query: str = "",
    *,
    limit: int = 50,
    offset: int = 0,
    clock: Clock = utc_now,
) -> list[PatientListItem]:
    """Patients whose record number starts with ``query`` or whose name contains it (case
    does not matter); an empty query lists every patient. Ordered by family name, then id."""
    if not isinstance(query, str) or len(query) > 200:
        raise UserInputError("a patient search is a text of at most 200 characters")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 500:
        raise UserInputError(f"limit {limit!r} is not accepted: an integer from 1 to 500")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise UserInputError(f"offset {offset!r} is not accepted: an integer from 0")
    text = query.strip().lower()
    with audited_read(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "searching patients")
        current = _current_demographics()
        statement = select(
            Patient.id,
            Patient.mrn,
            current.c.given_name,
            current.c.family_name,
            current.c.birth_date,
        ).outerjoin(current, current.c.patient_id == Patient.id)
        if text:
            literal = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{literal}%"
            full_name = func.lower(current.c.given_name + " " + current.c.family_name)
            statement = statement.where(
                or_(
                    func.lower(Patient.mrn).like(f"{literal}%", escape="\\"),
                    full_name.like(pattern, escape="\\"),
                )
            )
        rows = uc.session.execute(
            statement.order_by(current.c.family_name, Patient.id).limit(limit).offset(offset)
        ).all()
        uc.audit(
            "patient.search",
            record_type="patients",
            details={"query": query, "results": [r.id for r in rows]},
        )
        return [
            PatientListItem(r.id, r.mrn, r.given_name, r.family_name, r.birth_date) for r in rows
        ]
