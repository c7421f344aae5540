"""Audited use cases: one transaction per use case, and who/what/when/where/why for each.

A service does its work inside ``audited_transaction``; every read or write of patient data
calls ``use_case.audit(...)`` in the same transaction, so the record and its audit event
commit together or not at all::

    with audited_transaction(db, actor, clock) as uc:
        chart = load_chart(uc.session, patient_id)
        uc.audit("chart.read", record_type="patients", record_id=patient_id,
                 patient_id=patient_id)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.errors import UserInputError
from ketaclinic.store import AuditEntry, Database, append_audit, verify_chain

__all__ = [
    "Actor",
    "AuditReport",
    "Clock",
    "UseCase",
    "audited_transaction",
    "utc_now",
    "verify_audit",
]

Clock = Callable[[], datetime]

_MAX_ADDRESS = 100


def utc_now() -> datetime:
    """The real clock (services take a clock so that tests can freeze it)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where: a client address, or ``"cli"`` for the command line."""

    username: str
    client_address: str
    user_id: int | None = None

    def __post_init__(self) -> None:
        if not self.username or len(self.username) > 64:
            raise UserInputError("an actor needs a username of 1 to 64 characters")
        if not self.client_address or len(self.client_address) > _MAX_ADDRESS:
            raise UserInputError(
                f"an actor needs a client address of 1 to {_MAX_ADDRESS} characters ('cli' "
                "for the command line)"
            )

    @classmethod
    def command_line(cls, username: str) -> Actor:
        return cls(username=username, client_address="cli")


@dataclass
class UseCase:
    """The session of one use case's transaction, its actor and its instant."""

    session: Session
    actor: Actor
    now: datetime

    def audit(
        self,
        action: str,
        *,
        record_type: str | None = None,
        record_id: int | None = None,
        patient_id: int | None = None,
        reason: str | None = None,
        details: Any = None,
    ) -> None:
        """Append an audit event in this use case's transaction."""
        append_audit(
            self.session,
            AuditEntry(
                occurred_at=self.now,
                actor_username=self.actor.username,
                actor_user_id=self.actor.user_id,
                client_address=self.actor.client_address,
                action=action,
                record_type=record_type,
                record_id=record_id,
                patient_id=patient_id,
                reason=reason,
                details=details,
            ),
        )


@contextmanager
def audited_transaction(db: Database, actor: Actor, clock: Clock = utc_now) -> Iterator[UseCase]:
    """One use case: one write transaction; rolled back whole if anything fails."""
    now = clock()
    if now.tzinfo is None:
        raise ValueError("the clock must return timezone-aware instants")
    with db.transaction() as session:
        yield UseCase(session, actor, now)


@dataclass(frozen=True)
class AuditReport:
    """The result of ``ketaclinic audit verify``."""

    ok: bool
    events_checked: int
    head_seq: int
    head_hash: str
    problems: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "problems": list(self.problems),
        }


def verify_audit(db: Database) -> AuditReport:
    """Recompute the whole chain on a read-only snapshot (runs beside a running app)."""
    with db.snapshot() as session:
        result = verify_chain(session)
    return AuditReport(
        ok=result.ok,
        events_checked=result.events_checked,
        head_seq=result.head_seq,
        head_hash=result.head_hash,
        problems=tuple(p.to_dict() for p in result.problems),
    )
