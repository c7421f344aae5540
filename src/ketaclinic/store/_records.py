"""Repositories: add a record, amend or withdraw it, read its current version and history.

Functions take the SQLAlchemy ``Session`` of the caller's transaction (the services own
transactions) and never commit. Times are arguments: the store reads no clock.

Typical use (inside ``with db.transaction() as session:``)::

    diagnosis = add(session, Diagnosis(patient_id=1, icd10cm_code="G90.511", ...))
    fixed = amend(session, diagnosis, Diagnosis(icd10cm_code="G90.512", ...),
                  reason="wrong side", recorded_at=now, recorded_by_id=nurse.id)
    [d.icd10cm_code for d in history(session, Diagnosis, diagnosis.id)]
    # ['G90.511', 'G90.512']
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from ketaclinic.errors import RecordNotFoundError, RefusedError, UserInputError
from ketaclinic.store._base import ClinicalRecord, newer_version
from ketaclinic.store._chart import PatientChart, chart_served
from ketaclinic.store._tables import (
    CourseStatusEvent,
    Patient,
    StaffUser,
    TreatmentCourse,
    WeightMeasurement,
    table_of,
)

__all__ = [
    "add",
    "amend",
    "content",
    "course_status",
    "current_records",
    "current_version",
    "get",
    "get_patient",
    "get_patient_by_mrn",
    "get_staff_user",
    "history",
    "latest_weight",
    "record_versions",
    "withdraw",
]

R = TypeVar("R", bound=ClinicalRecord)
M = TypeVar("M")

#: Columns every clinical record carries; the rest are the record's content.
_BOOKKEEPING = frozenset(
    {"id", "amends_id", "amendment_reason", "entered_in_error", "recorded_at", "recorded_by_id"}
)


def _kind(model: type[object]) -> str:
    return table_of(model).name


def get(session: Session, model: type[M], record_id: int) -> M:
    """The row ``record_id`` of ``model`` (any version), or :class:`RecordNotFoundError`."""
    row = session.get(model, record_id)
    if row is None:
        raise RecordNotFoundError(f"no {_kind(model)} record has id {record_id}")
    return row


def get_patient(session: Session, patient_id: int) -> Patient:
    return get(session, Patient, patient_id)


def get_patient_by_mrn(session: Session, mrn: str) -> Patient:
    patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one_or_none()
    if patient is None:
        raise RecordNotFoundError(f"no patient has record number {mrn!r}")
    return patient


def get_staff_user(session: Session, username: str) -> StaffUser:
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).one_or_none()
    if user is None:
        raise RecordNotFoundError(f"no staff user is called {username!r}")
    return user


def _no_chart_served(session: Session) -> None:
    if chart_served(session) is not None:
        raise RuntimeError("records cannot be written while a chart is served (reads only)")


def add(session: Session, record: R) -> R:
    """Insert a new original record and return it with its id."""
    _no_chart_served(session)
    if record.amends_id is not None:
        raise UserInputError("a new record cannot amend another; use amend()")
    session.add(record)
    session.flush()
    return record


def content(record: ClinicalRecord) -> dict[str, Any]:
    """The record's own fields (its patient and clinical content, no bookkeeping)."""
    columns = table_of(type(record)).columns
    return {c.key: getattr(record, c.key) for c in columns if c.key not in _BOOKKEEPING}


_SUPERSEDING: dict[type[ClinicalRecord], Any] = {}


def _superseding_query(model: type[ClinicalRecord]) -> Any:
    """The row that amends ``:record_id``, built once per model (see ``newer_version``)."""
    found = _SUPERSEDING.get(model)
    if found is None:
        query = select(model).where(model.amends_id == bindparam("record_id"))
        found = _SUPERSEDING.setdefault(model, query)
    return found


def _superseding(session: Session, record: ClinicalRecord) -> ClinicalRecord | None:
    query = _superseding_query(type(record))
    return session.scalars(query, {"record_id": record.id}).one_or_none()


def amend(
    session: Session,
    original: R,
    correction: R,
    *,
    reason: str,
    recorded_at: datetime,
    recorded_by_id: int,
) -> R:
    """Record ``correction`` as the new version of ``original``, which stays as it was.

    Only the current version can be amended (versions form a line, never a tree); the
    correction belongs to the same patient. Returns the inserted correction.
    """
    if type(correction) is not type(original):
        raise UserInputError(
            f"a {_kind(type(original))} record can only be amended by another "
            f"{_kind(type(original))} record, not by {_kind(type(correction))}"
        )
    _no_chart_served(session)
    if not reason or not reason.strip():
        raise UserInputError("an amendment needs a reason (a non-empty text)")
    if correction.patient_id not in (None, original.patient_id):
        raise UserInputError(
            f"an amendment must belong to the same patient ({original.patient_id}), "
            f"not {correction.patient_id}"
        )
    newer = _superseding(session, original)
    if newer is not None:
        raise RefusedError(
            f"{_kind(type(original))} {original.id} was already amended by {newer.id}; "
            "amend the current version"
        )
    correction.patient_id = original.patient_id
    correction.amends_id = original.id
    correction.amendment_reason = reason.strip()
    correction.recorded_at = recorded_at
    correction.recorded_by_id = recorded_by_id
    session.add(correction)
    session.flush()
    return correction


def withdraw(
    session: Session, original: R, *, reason: str, recorded_at: datetime, recorded_by_id: int
) -> R:
    """Mark a record as entered in error: an amendment with the same content, flagged."""
    copy = type(original)(**content(original))
    copy.entered_in_error = True
    return amend(
        session,
        original,
        copy,
        reason=reason,
        recorded_at=recorded_at,
        recorded_by_id=recorded_by_id,
    )


def current_version(session: Session, model: type[R], record_id: int) -> R:
    """The newest version of the record that ``record_id`` is a version of."""
    record = get(session, model, record_id)
    while (newer := _superseding(session, record)) is not None:
        record = newer  # type: ignore[assignment]
    return record


def _served_for(session: Session, patient_id: int) -> PatientChart | None:
    chart = chart_served(session)
    return chart if chart is not None and chart.patient.id == patient_id else None


def _served_history(chart: PatientChart, model: type[R], record_id: int) -> list[R] | None:
    """The versions of ``record_id`` from the served chart (``None``: not the chart's)."""
    rows = chart.all_versions(model)
    by_id = {row.id: row for row in rows}
    if record_id not in by_id:
        return None
    newer = {row.amends_id: row for row in rows if row.amends_id is not None}
    line = [by_id[record_id]]
    while line[0].amends_id is not None:
        line.insert(0, by_id[line[0].amends_id])
    while line[-1].id in newer:
        line.append(newer[line[-1].id])
    return cast(list[R], line)


def history(session: Session, model: type[R], record_id: int) -> list[R]:
    """Every version of the record, oldest first (the original stays as it was stored)."""
    chart = chart_served(session)
    if chart is not None and (served := _served_history(chart, model, record_id)) is not None:
        return served
    record = get(session, model, record_id)
    older: list[R] = [record]
    while older[0].amends_id is not None:
        older.insert(0, get(session, model, older[0].amends_id))
    newer = older[-1]
    while (following := _superseding(session, newer)) is not None:
        older.append(following)  # type: ignore[arg-type]
        newer = following  # type: ignore[assignment]
    return older


def current_records(
    session: Session, model: type[R], patient_id: int, *, include_withdrawn: bool = False
) -> Sequence[R]:
    """The current version of each of a patient's records of ``model``, oldest first (rows
    of the served chart, if the patient's chart is served: ``serving_chart``)."""
    chart = _served_for(session, patient_id)
    if chart is not None:
        rows = chart.newest_of(model) if include_withdrawn else chart.of(model)
        return cast(Sequence[R], rows)
    newer = newer_version(model)
    query = (
        select(model)
        .where(model.patient_id == patient_id)
        .where(~exists().where(newer.amends_id == model.id))
        .order_by(model.id)
    )
    if not include_withdrawn:
        query = query.where(model.entered_in_error.is_(False))
    return session.scalars(query).all()


def record_versions(session: Session, model: type[R], patient_id: int) -> Sequence[R]:
    """Every version of every one of a patient's records of ``model``, by id (from the served
    chart, if the patient's chart is served)."""
    chart = _served_for(session, patient_id)
    if chart is not None:
        return cast(Sequence[R], chart.all_versions(model))
    return session.scalars(
        select(model).where(model.patient_id == patient_id).order_by(model.id)
    ).all()


def latest_weight(session: Session, patient_id: int) -> WeightMeasurement | None:
    """The most recent current weight (by date measured, then by when it was recorded)."""
    weights = current_records(session, WeightMeasurement, patient_id)
    return max(weights, key=lambda w: (w.measured_on, w.id), default=None)


def course_status(session: Session, course_id: int) -> CourseStatusEvent | None:
    """The course's status now: its latest current status event (``None`` before the first)."""
    chart = chart_served(session)
    if chart is not None and any(c.id == course_id for c in chart.all_versions(TreatmentCourse)):
        events = [e for e in chart.of(CourseStatusEvent) if e.course_id == course_id]
        found = max(events, key=lambda e: (e.effective_at, e.id), default=None)
        return cast(CourseStatusEvent | None, found)
    newer = newer_version(CourseStatusEvent)
    query = (
        select(CourseStatusEvent)
        .where(CourseStatusEvent.course_id == course_id)
        .where(CourseStatusEvent.entered_in_error.is_(False))
        .where(~exists().where(newer.amends_id == CourseStatusEvent.id))
        .order_by(CourseStatusEvent.effective_at.desc(), CourseStatusEvent.id.desc())
        .limit(1)
    )
    return session.scalars(query).one_or_none()
