"""Read a patient's chart and search patients (physicians and nurses; every read audited).

The chart is the current version of each fact with its ``id`` (for corrections), the
conditions the safety engine derives from the ICD-10-CM codes, and the mapping's version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select, union

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


def _amended_demographics() -> Any:
    """The ids of the demographics rows a newer version amends. They are few (corrections
    are rare), so they are read once per statement (``NOT IN``: a list on SQLite, a hashed
    subplan on PostgreSQL) rather than probed once per row."""
    newer = newer_version(Demographics)
    return select(newer.amends_id).where(newer.amends_id.is_not(None))


def _named() -> Any:
    """The patients with current demographics in the list's order, read from the demographics
    side: the database walks ``ix_demographics_family_name_patient_id`` and stops at the
    page's end instead of sorting every patient for each page."""
    return (
        select(
            Patient.id,
            Patient.mrn,
            Demographics.given_name,
            Demographics.family_name,
            Demographics.birth_date,
        )
        .select_from(Demographics)
        .join(Patient, Patient.id == Demographics.patient_id)
        .where(Demographics.id.not_in(_amended_demographics()))
        .where(Demographics.entered_in_error.is_(False))
        .order_by(Demographics.family_name, Demographics.patient_id)
    )


def _unnamed(session: Any) -> list[PatientListItem]:
    """The patients without current demographics (every version withdrawn or amended, or none
    recorded), by id. Only candidates are checked: a patient none of whose demographics rows
    is an amendment or amended has a current one if it has any, and whether any patient has
    none at all is two counts."""
    counts = select(
        select(func.count()).select_from(Patient).scalar_subquery(),
        select(func.count(Demographics.patient_id.distinct())).scalar_subquery(),
    )
    patients, with_rows = session.execute(counts).one()
    # a withdrawn row is an amendment (the amendment rule: an original is never in error), so
    # the amendments and the rows they amend are found on the amends_id index
    odd = union(
        select(Demographics.patient_id).where(Demographics.amends_id.is_not(None)),
        select(Demographics.patient_id).where(Demographics.id.in_(_amended_demographics())),
    )
    candidates = set(session.scalars(odd))
    if patients != with_rows:
        rowless = select(Patient.id).where(Patient.id.not_in(select(Demographics.patient_id)))
        candidates |= set(session.scalars(rowless))
    if not candidates:
        return []
    current = (
        select(Demographics.id)
        .where(Demographics.patient_id == Patient.id)
        .where(Demographics.id.not_in(_amended_demographics()))
        .where(Demographics.entered_in_error.is_(False))
    )
    statement = (
        select(Patient.id, Patient.mrn)
        .where(Patient.id.in_(sorted(candidates)))
        .where(~current.exists())
        .order_by(Patient.id)
    )
    return [PatientListItem(r.id, r.mrn, None, None, None) for r in session.execute(statement)]


def _page(session: Any, limit: int, offset: int, nulls_first: bool) -> list[PatientListItem]:
    """One page of every patient ordered by family name, then id, the patients without a name
    where the database sorts a missing name (first on SQLite, last on PostgreSQL), as the
    search's outer join does."""
    unnamed = _unnamed(session)
    named = _named()

    def named_rows(skip: int, count: int) -> list[PatientListItem]:
        if count <= 0:
            return []
        rows = session.execute(named.limit(count).offset(skip))
        return [
            PatientListItem(r.id, r.mrn, r.given_name, r.family_name, r.birth_date) for r in rows
        ]

    if nulls_first:
        first = unnamed[offset : offset + limit]
        return first + named_rows(max(0, offset - len(unnamed)), limit - len(first))
    found = named_rows(offset, limit)
    if len(found) == limit or not unnamed:
        return found
    if found or offset == 0:
        named_count = offset + len(found)
    else:  # past the named patients: how many there are
        named_count = session.scalar(
            select(func.count()).select_from(named.order_by(None).subquery())
        )
    skip = max(0, offset - named_count)
    return found + unnamed[skip : skip + limit - len(found)]


def _searched(text: str) -> Any:
    """The patients whose record number starts with ``text`` or whose current name contains
    it: every patient is read and the matches sorted (walking the name index would read every
    row beside it to match the text, which costs more)."""
    current = (
        select(Demographics)
        .where(Demographics.id.not_in(_amended_demographics()))
        .where(Demographics.entered_in_error.is_(False))
        .subquery()
    )
    literal = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    full_name = func.lower(current.c.given_name + " " + current.c.family_name)
    return (
        select(
            Patient.id,
            Patient.mrn,
            current.c.given_name,
            current.c.family_name,
            current.c.birth_date,
        )
        .outerjoin(current, current.c.patient_id == Patient.id)
        .where(
            or_(
                func.lower(Patient.mrn).like(f"{literal}%", escape="\\"),
                full_name.like(f"%{literal}%", escape="\\"),
            )
        )
        .order_by(current.c.family_name, Patient.id)
    )


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
        if text:
            found = uc.session.execute(_searched(text).limit(limit).offset(offset))
            rows = [
                PatientListItem(r.id, r.mrn, r.given_name, r.family_name, r.birth_date)
                for r in found
            ]
        else:
            rows = _page(uc.session, limit, offset, db.dialect == "sqlite")
        uc.audit(
            "patient.search",
            record_type="patients",
            details={"query": query, "results": [r.patient_id for r in rows]},
        )
        return rows
