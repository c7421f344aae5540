"""The audit chain: append under a lock on the chain head, verify by recomputing every hash.

Each event's ``hash`` is SHA-256 over the canonical JSON of its sequence number, its content
and the previous event's hash, so an edited row no longer matches its hash, a deleted row
leaves a gap in the sequence and a broken link, and reordered rows break the links. The head
row holds the last sequence number and hash: appenders lock it (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite's single writer serialises anyway), which keeps the chain linear with any
number of concurrent writers, and verification compares it with the last event, which catches
a deleted tail.

Limit: someone who can rewrite the whole table *and* the head can recompute a consistent
chain; ``audit verify`` prints the head hash so that it can be kept elsewhere and compared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from ketaclinic.store._tables import GENESIS_HASH, AuditChainHead, AuditEvent, table_of
from ketaclinic.store._types import canonical_json

__all__ = [
    "AuditEntry",
    "AuditProblem",
    "ChainVerification",
    "append_audit",
    "append_audits",
    "audit_hash",
    "verify_chain",
]


@dataclass(frozen=True)
class AuditEntry:
    """What one audit event says (the chain adds its sequence number and hashes)."""

    occurred_at: datetime
    actor_username: str
    client_address: str
    action: str
    actor_user_id: int | None = None
    record_type: str | None = None
    record_id: int | None = None
    patient_id: int | None = None
    reason: str | None = None
    details: Any = None

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("an audit time must be timezone-aware (UTC)")
        for name in ("actor_username", "client_address", "action"):
            if not getattr(self, name):
                raise ValueError(f"an audit event needs {name}")


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def audit_hash(seq: int, prev_hash: str, entry: AuditEntry) -> str:
    """SHA-256 (hex) of the event's content and the previous hash."""
    payload = {
        "seq": seq,
        "prev_hash": prev_hash,
        "occurred_at": _instant(entry.occurred_at),
        "actor_username": entry.actor_username,
        "actor_user_id": entry.actor_user_id,
        "client_address": entry.client_address,
        "action": entry.action,
        "record_type": entry.record_type,
        "record_id": entry.record_id,
        "patient_id": entry.patient_id,
        "reason": entry.reason,
        "details": entry.details,
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def _entry_of(event: AuditEvent) -> AuditEntry:
    return AuditEntry(
        occurred_at=event.occurred_at,
        actor_username=event.actor_username,
        client_address=event.client_address,
        action=event.action,
        actor_user_id=event.actor_user_id,
        record_type=event.record_type,
        record_id=event.record_id,
        patient_id=event.patient_id,
        reason=event.reason,
        details=event.details,
    )


def append_audit(session: Session, entry: AuditEntry) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    # populate_existing: the locked row's values, not what this session cached before the lock
    head = session.scalars(
        select(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    seq = head.last_seq + 1
    digest = audit_hash(seq, head.last_hash, entry)
    event = AuditEvent(
        seq=seq,
        occurred_at=entry.occurred_at,
        actor_username=entry.actor_username,
        actor_user_id=entry.actor_user_id,
        client_address=entry.client_address,
        action=entry.action,
        record_type=entry.record_type,
        record_id=entry.record_id,
        patient_id=entry.patient_id,
        reason=entry.reason,
        details=entry.details,
        prev_hash=head.last_hash,
        hash=digest,
    )
    session.add(event)
    head.last_seq = seq
    head.last_hash = digest
    session.flush()
    return event


# The chain's statements in Core, built once: the group commit of the audited reads runs them
# for every batch, and the ORM's unit of work (load the head, track it, flush) cost more CPU
# than the statements themselves.
_HEAD_TABLE = table_of(AuditChainHead)
_LOCK_HEAD = (
    select(_HEAD_TABLE.c.last_seq, _HEAD_TABLE.c.last_hash)
    .where(_HEAD_TABLE.c.id == 1)
    .with_for_update()
)
_INSERT_EVENTS = insert(table_of(AuditEvent))
_MOVE_HEAD = (
    update(_HEAD_TABLE)
    .where(_HEAD_TABLE.c.id == 1)
    .values(last_seq=bindparam("new_seq"), last_hash=bindparam("new_hash"))
)


def append_audits(session: Session, entries: Sequence[AuditEntry]) -> int:
    """Append many events to the chain at once (one head lock, one bulk insert), inside the
    caller's transaction: the same chain ``append_audit`` would make one by one. For bulk
    writers (the audited reads' group commit, the demo-data generator); returns the number
    appended. (``append_audit`` re-reads the head it locks, so the two may be mixed in one
    transaction.)"""
    if not entries:
        return 0
    seq, prev = session.execute(_LOCK_HEAD).one()
    rows = []
    for entry in entries:
        seq += 1
        digest = audit_hash(seq, prev, entry)
        rows.append(
            {
                "seq": seq,
                "occurred_at": entry.occurred_at,
                "actor_username": entry.actor_username,
                "actor_user_id": entry.actor_user_id,
                "client_address": entry.client_address,
                "action": entry.action,
                "record_type": entry.record_type,
                "record_id": entry.record_id,
                "patient_id": entry.patient_id,
                "reason": entry.reason,
                "details": entry.details,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    session.execute(_INSERT_EVENTS, rows)
    session.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev})
    return len(rows)


@dataclass(frozen=True)
class AuditProblem:
    """One thing wrong with the chain, at the event with sequence number ``seq``."""

    seq: int
    event_id: int | None
    kind: str  # "edited", "gap", "broken_link", "out_of_order", "head"
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "event_id": self.event_id,
            "kind": self.kind,
            "message": self.message,
        }


@dataclass(frozen=True)
class ChainVerification:
    events_checked: int
    head_seq: int
    head_hash: str
    problems: tuple[AuditProblem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(session: Session, *, max_problems: int = 1000) -> ChainVerification:
    """Walk the whole chain in sequence order and report every inconsistency found."""
    problems: list[AuditProblem] = []
    head = session.scalars(select(AuditChainHead).where(AuditChainHead.id == 1)).one_or_none()
    expected_seq, prev_hash, prev_id, checked = 1, GENESIS_HASH, 0, 0
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(2000)
    for event in events:
        checked += 1
        if event.seq != expected_seq:
            problems.append(
                AuditProblem(
                    expected_seq,
                    None,
                    "gap",
                    f"events {expected_seq} to {event.seq - 1} are missing (deleted?)",
                )
            )
        if event.prev_hash != prev_hash:
            problems.append(
                AuditProblem(
                    event.seq,
                    event.id,
                    "broken_link",
                    f"event {event.seq} does not follow the event before it "
                    "(a row was deleted, inserted or moved)",
                )
            )
        if audit_hash(event.seq, event.prev_hash, _entry_of(event)) != event.hash:
            problems.append(
                AuditProblem(
                    event.seq,
                    event.id,
                    "edited",
                    f"event {event.seq} (id {event.id}) does not match its hash (edited)",
                )
            )
        if event.id <= prev_id:
            problems.append(
                AuditProblem(
                    event.seq,
                    event.id,
                    "out_of_order",
                    f"event {event.seq} has id {event.id}, not after id {prev_id} (reordered)",
                )
            )
        expected_seq, prev_hash, prev_id = event.seq + 1, event.hash, event.id
        if len(problems) >= max_problems:
            break
    last_seq = expected_seq - 1
    if head is None:
        problems.append(AuditProblem(last_seq, None, "head", "the chain head row is missing"))
        head_seq, head_hash = -1, ""
    else:
        head_seq, head_hash = head.last_seq, head.last_hash
        if len(problems) < max_problems and (head_seq != last_seq or head_hash != prev_hash):
            problems.append(
                AuditProblem(
                    head_seq,
                    None,
                    "head",
                    f"the chain head says {head_seq} events ending in {head_hash[:12]}..., the "
                    f"table ends at event {last_seq} (events at the end deleted, or head edited)",
                )
            )
    return ChainVerification(checked, head_seq, head_hash, tuple(problems))
