"""Queries of the web application's administrative tables: sessions, login attempts, the
audit trail as a searchable list. Every value is a bound parameter; sort columns come from a
closed mapping, never from the caller's text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from ketaclinic.store._tables import AuditEvent, LoginAttempt, StaffSession, StaffUser

__all__ = [
    "AUDIT_SORT_COLUMNS",
    "AuditFilter",
    "end_sessions_of_user",
    "failed_logins_since",
    "search_audit_events",
    "session_by_token_hash",
]

#: Fields the audit list may be sorted by -> the column (an allow-list: nothing else sorts).
AUDIT_SORT_COLUMNS = {
    "seq": AuditEvent.seq,
    "occurred_at": AuditEvent.occurred_at,
    "actor_username": AuditEvent.actor_username,
    "action": AuditEvent.action,
    "record_type": AuditEvent.record_type,
    "patient_id": AuditEvent.patient_id,
}


def session_by_token_hash(
    session: Session, token_sha256: str
) -> tuple[StaffSession, StaffUser] | None:
    """The session with this token hash and its user, or ``None``."""
    row = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_sha256 == token_sha256)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def end_sessions_of_user(session: Session, user_id: int, at: datetime, reason: str) -> int:
    """End every open session of a user; returns how many were open."""
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
        .values(ended_at=at, end_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def failed_logins_since(
    session: Session, since: datetime, *, username: str | None = None, address: str | None = None
) -> tuple[int, datetime | None]:
    """Failed sign-ins since ``since`` (for a username: only those after its last success),
    and the time of the oldest one counted."""
    condition: list[ColumnElement[bool]] = [LoginAttempt.attempted_at >= since]
    if username is not None:
        condition.append(LoginAttempt.username == username)
        last_success = session.scalar(
            select(func.max(LoginAttempt.attempted_at)).where(
                LoginAttempt.username == username, LoginAttempt.succeeded.is_(True)
            )
        )
        if last_success is not None:
            condition.append(LoginAttempt.attempted_at > last_success)
    if address is not None:
        condition.append(LoginAttempt.client_address == address)
    count, oldest = session.execute(
        select(func.count(), func.min(LoginAttempt.attempted_at)).where(
            *condition, LoginAttempt.succeeded.is_(False)
        )
    ).one()
    return int(count), oldest


@dataclass(frozen=True)
class AuditFilter:
    """Conditions on the audit list (each ``None`` means any)."""

    actor_username: str | None = None
    action: str | None = None
    record_type: str | None = None
    patient_id: int | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


def search_audit_events(
    session: Session,
    where: AuditFilter,
    *,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[Sequence[AuditEvent], int]:
    """One page of audit events and the number of events that match."""
    column = AUDIT_SORT_COLUMNS[sort]  # KeyError for anything not allow-listed
    conditions: list[ColumnElement[bool]] = []
    if where.actor_username is not None:
        conditions.append(AuditEvent.actor_username == where.actor_username)
    if where.action is not None:
        conditions.append(AuditEvent.action == where.action)
    if where.record_type is not None:
        conditions.append(AuditEvent.record_type == where.record_type)
    if where.patient_id is not None:
        conditions.append(AuditEvent.patient_id == where.patient_id)
    if where.occurred_from is not None:
        conditions.append(AuditEvent.occurred_at >= where.occurred_from)
    if where.occurred_to is not None:
        conditions.append(AuditEvent.occurred_at < where.occurred_to)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    order = column.desc() if descending else column.asc()
    tie = AuditEvent.seq.desc() if descending else AuditEvent.seq.asc()
    rows = session.scalars(
        select(AuditEvent).where(*conditions).order_by(order, tie).offset(offset).limit(limit)
    ).all()
    return rows, int(total)
