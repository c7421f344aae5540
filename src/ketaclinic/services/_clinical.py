"""Helpers the session, schedule and charge use cases share: who acts, what they act on.

Every use case resolves its actor to an active staff account whose role holds the use case's
permission (``_inputs.authorize``; the outsider persona, a disabled account, is refused
everything), checks the instants it is
given, and reads the current version of the records it works on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from ketaclinic.errors import RecordNotFoundError, UserInputError
from ketaclinic.pharmacology import Dose
from ketaclinic.protocols import Protocol, get_protocol
from ketaclinic.services._audit import UseCase
from ketaclinic.services._inputs import check_instant
from ketaclinic.services._inputs import who as record_columns
from ketaclinic.services._orders import administration_status
from ketaclinic.store import (
    ClinicalRecord,
    DoseGiven,
    Order,
    SessionScore,
    StaffUser,
    TreatmentCourse,
    TreatmentSession,
    VitalSigns,
    current_version,
    get,
    newer_version,
)

__all__ = [
    "FUTURE_TOLERANCE",
    "SessionContext",
    "SessionRows",
    "administration_block",
    "checked_instant",
    "current_rows",
    "load_course",
    "load_session",
    "order_doses",
    "session_rows",
    "who",
]

#: Something that happened may be stamped at most this far after the server's clock (clock
#: drift between a bedside device and the server); later instants are typing errors.
FUTURE_TOLERANCE = timedelta(minutes=5)


def who(uc: UseCase, user: StaffUser, patient_id: int) -> dict[str, Any]:
    """The bookkeeping columns of a new record of ``patient_id``."""
    return {"patient_id": patient_id, **record_columns(uc, user)}


def checked_instant(value: datetime, what: str, now: datetime) -> datetime:
    """An aware instant within the clinic's dates and not in the future (beyond drift)."""
    if not isinstance(value, datetime):
        raise UserInputError(f"{what} must be a date and time, got {type(value).__name__}")
    value = check_instant(value, what)
    if value > now + FUTURE_TOLERANCE:
        raise UserInputError(
            f"{what} {value.isoformat()} is in the future; accepted: up to "
            f"{(now + FUTURE_TOLERANCE).isoformat()} (now plus 5 min of clock drift)"
        )
    return value


_CURRENT_QUERIES: dict[tuple[type[Any], tuple[str, ...]], Any] = {}


def _current_query(model: type[Any], columns: tuple[str, ...]) -> Any:
    """The statement of ``current_rows`` for ``model`` filtered on ``columns`` (bound
    parameters of the same names), built once: a statement built anew costs more than the
    rows it reads, and one object keeps its memoized cache key for SQLAlchemy's
    compiled-statement cache."""
    found = _CURRENT_QUERIES.get((model, columns))
    if found is not None:
        return found
    newer = newer_version(model)
    query = (
        select(model)
        .where(~exists().where(newer.amends_id == model.id))
        .where(model.entered_in_error.is_(False))
        .order_by(model.id)
    )
    for column in columns:
        query = query.where(getattr(model, column) == bindparam(column))
    return _CURRENT_QUERIES.setdefault((model, columns), query)


def current_rows(session: Session, model: type[Any], **where: Any) -> list[Any]:
    """The current, not withdrawn versions of ``model`` records matching ``where``."""
    query = _current_query(model, tuple(sorted(where)))
    if any(value is None for value in where.values()):  # "IS NULL", not a bound "= NULL"
        query = _current_query(model, ())
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return list(session.scalars(query))
    return list(session.scalars(query, where))


@dataclass(frozen=True)
class SessionRows:
    """The current doses, vital signs and session scores of one session: what the discharge
    gate reads, read once when a page shows them beside the gate."""

    doses: list[DoseGiven]
    vitals: list[VitalSigns]
    scores: list[SessionScore]


def session_rows(session: Session, session_id: int) -> SessionRows:
    return SessionRows(
        current_rows(session, DoseGiven, session_id=session_id),
        current_rows(session, VitalSigns, session_id=session_id),
        current_rows(session, SessionScore, session_id=session_id),
    )


def _original_id(session: Session, record: ClinicalRecord) -> int:
    while record.amends_id is not None:
        record = get(session, type(record), record.amends_id)
    return int(record.id)


@dataclass(frozen=True)
class SessionContext:
    """A session (its current version; ``session_id`` is the original id the session's
    records point to), its course, its order and the protocol of the course."""

    session_id: int
    visit: TreatmentSession
    course: TreatmentCourse
    order: Order
    protocol: Protocol

    @property
    def patient_id(self) -> int:
        return int(self.visit.patient_id)


def load_course(session: Session, course_id: int) -> tuple[TreatmentCourse, Protocol]:
    course = current_version(session, TreatmentCourse, course_id)
    if course.entered_in_error:
        raise RecordNotFoundError(f"treatment course {course_id} was withdrawn (entered in error)")
    return course, get_protocol(course.protocol_id)


def load_session(session: Session, session_id: int) -> SessionContext:
    """The session ``session_id`` (any version's id), or ``RecordNotFoundError``."""
    if not isinstance(session_id, int) or isinstance(session_id, bool):
        raise UserInputError(f"a session id is a whole number, got {session_id!r}")
    visit = current_version(session, TreatmentSession, session_id)
    if visit.entered_in_error:
        raise RecordNotFoundError(f"session {session_id} was withdrawn (entered in error)")
    course, protocol = load_course(session, visit.course_id)
    order = current_version(session, Order, visit.order_id)
    return SessionContext(_original_id(session, visit), visit, course, order, protocol)


def order_doses(order: Order) -> tuple[Dose, ...]:
    return tuple(Dose.from_json(d) for d in order.doses)


def administration_block(session: Session, order: Order) -> str | None:
    """Why the order's doses may not be given now, or None (the orders' administration rule:
    signed, no hard stop, course open, latest independent double check matched)."""
    status = administration_status(session, _original_id(session, order))
    return None if status.allowed else "; ".join(status.reasons)
