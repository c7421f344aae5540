"""Helpers the session, schedule and charge use cases share: who acts, what they act on.

Every use case resolves its actor to an active staff account with a role allowed to do it
(the outsider persona, a disabled account, is refused everything), checks the instants it is
given, and reads the current version of the records it works on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from ketaclinic.errors import RecordNotFoundError, RefusedError, UserInputError
from ketaclinic.pharmacology import Dose
from ketaclinic.protocols import Protocol, get_protocol
from ketaclinic.ranges import CLINIC_DATE
from ketaclinic.services._audit import UseCase
from ketaclinic.store import (
    ClinicalRecord,
    DoubleCheck,
    Order,
    OrderSignature,
    StaffUser,
    TreatmentCourse,
    TreatmentSession,
    current_version,
    get,
)

__all__ = [
    "CLINICIANS",
    "FUTURE_TOLERANCE",
    "SessionContext",
    "administration_block",
    "checked_instant",
    "current_rows",
    "load_course",
    "load_session",
    "order_doses",
    "staff_member",
    "who",
]

#: Roles that document care at the chair.
CLINICIANS = ("physician", "nurse")
#: Something that happened may be stamped at most this far after the server's clock (clock
#: drift between a bedside device and the server); later instants are typing errors.
FUTURE_TOLERANCE = timedelta(minutes=5)


def staff_member(uc: UseCase, roles: tuple[str, ...]) -> StaffUser:
    """The actor's active staff account, if its role is one of ``roles``; else refused."""
    query = select(StaffUser)
    if uc.actor.user_id is not None:
        query = query.where(StaffUser.id == uc.actor.user_id)
    else:
        query = query.where(StaffUser.username == uc.actor.username)
    user = uc.session.scalars(query).one_or_none()
    if user is None or user.username != uc.actor.username:
        raise RefusedError(f"{uc.actor.username!r} has no staff account here")
    if user.disabled_at is not None:
        raise RefusedError(f"the staff account {user.username!r} is disabled")
    if user.role not in roles:
        raise RefusedError(f"a {user.role} may not do this; accepted roles: {', '.join(roles)}")
    return user


def who(uc: UseCase, user: StaffUser, patient_id: int) -> dict[str, Any]:
    """The bookkeeping columns of a new record."""
    return {"patient_id": patient_id, "recorded_at": uc.now, "recorded_by_id": user.id}


def checked_instant(value: datetime, what: str, now: datetime) -> datetime:
    """An aware instant within the clinic's dates and not in the future (beyond drift)."""
    if not isinstance(value, datetime):
        raise UserInputError(f"{what} must be a date and time, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise UserInputError(f"{what} {value.isoformat()} has no time zone; give it in UTC")
    CLINIC_DATE.check(value, what)
    if value > now + FUTURE_TOLERANCE:
        raise UserInputError(
            f"{what} {value.isoformat()} is in the future; accepted: up to "
            f"{(now + FUTURE_TOLERANCE).isoformat()} (now plus 5 min of clock drift)"
        )
    return value


def current_rows(session: Session, model: type[Any], **where: Any) -> list[Any]:
    """The current, not withdrawn versions of ``model`` records matching ``where``."""
    newer = aliased(model)
    query = (
        select(model)
        .where(~exists().where(newer.amends_id == model.id))
        .where(model.entered_in_error.is_(False))
        .order_by(model.id)
    )
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return list(session.scalars(query))


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
    """Why the order's doses may not be given yet, or None: an order is given only when it is
    signed and its latest independent double check matched (ISMP lists ketamine as a
    high-alert medicine: a second clinician re-enters weight and doses before the first dose).
    """
    order_id = _original_id(session, order)
    if not current_rows(session, OrderSignature, order_id=order_id):
        return f"order {order_id} is not signed: a physician signs it before any dose is given"
    checks = current_rows(session, DoubleCheck, order_id=order_id)
    if not checks:
        return (
            f"order {order_id} has no independent double check: a second clinician re-enters "
            "the weight and doses before the first dose"
        )
    latest = max(checks, key=lambda c: (c.checked_at, c.id))
    if latest.result != "match":
        return (
            f"the double check of order {order_id} did not match "
            f"({latest.differences or 'values differ'}): administration is blocked until a "
            "double check matches"
        )
    return None
