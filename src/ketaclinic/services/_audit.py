"""Audited use cases: one transaction per use case, and who/what/when/where/why for each.

A service that writes does its work inside ``audited_transaction``; every write of patient
data calls ``use_case.audit(...)`` in the same transaction, so the record and its audit event
commit together or not at all::

    with audited_transaction(db, actor, clock) as uc:
        add_weight(uc.session, patient_id, ...)
        uc.audit("weight.record", record_type="weights", patient_id=patient_id)

A service that only reads uses ``audited_read``: the same ``UseCase``, but its session is a
read-only snapshot (on SQLite a WAL reader beside the single writer, so reads do not queue
for the writer), and its audit events are appended when the block ends, by the group commit
below. The block's result reaches the caller only after its audit events are committed
(durably: the writer's commit is fsynced); if that commit fails the caller gets the error and
no data, so no audited read is ever returned without its audit row::

    with audited_read(db, actor, clock) as uc:
        chart = load_chart(uc.session, patient_id)
        uc.audit("chart.read", record_type="patients", record_id=patient_id,
                 patient_id=patient_id)
        return chart          # handed back only once the audit event is committed

Group commit: concurrent reads' audit events are appended to the chain in one writer
transaction (one lock on the chain head, one fsync) instead of one each. A reader enqueues
its events and waits for the commit lock; whoever holds it takes every event queued so far
and commits them together; a reader whose events were committed by someone else returns at
once. A failed batch commit fails every read in that batch (each raises; none is answered).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.errors import StorageError, UserInputError
from ketaclinic.store import AuditEntry, Database, append_audit, append_audits, verify_chain

__all__ = [
    "Actor",
    "AuditReport",
    "Clock",
    "UseCase",
    "audited_read",
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

    @property
    def is_operator(self) -> bool:
        """The command line's operator: ``Actor.command_line("cli:<os user>")``, whoever runs
        ``ketaclinic`` on the server with the database's own credentials. A staff username
        never holds a ``:``, so no staff account (and no web request) can act as one."""
        return self.client_address == "cli" and self.username.startswith("cli:")


@dataclass
class UseCase:
    """The session of one use case's transaction, its actor and its instant."""

    session: Session
    actor: Actor
    now: datetime
    #: events of a read-only use case, appended to the chain when it ends (``audited_read``)
    deferred: list[AuditEntry] | None = field(default=None, repr=False)

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
        """Append an audit event in this use case's transaction (a read-only use case's
        events are appended when it ends, before its result is handed back)."""
        entry = AuditEntry(
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
        )
        if self.deferred is not None:
            self.deferred.append(entry)
        else:
            append_audit(self.session, entry)


@contextmanager
def audited_transaction(db: Database, actor: Actor, clock: Clock = utc_now) -> Iterator[UseCase]:
    """One use case: one write transaction; rolled back whole if anything fails."""
    now = clock()
    if now.tzinfo is None:
        raise ValueError("the clock must return timezone-aware instants")
    with db.transaction() as session:
        yield UseCase(session, actor, now)


@contextmanager
def audited_read(db: Database, actor: Actor, clock: Clock = utc_now) -> Iterator[UseCase]:
    """One read-only use case: a snapshot to read from; its audit events are committed when
    the block ends without an error, and the block is left only once they are (see the
    module's docstring). A write in the block fails: the snapshot is read-only."""
    now = clock()
    if now.tzinfo is None:
        raise ValueError("the clock must return timezone-aware instants")
    entries: list[AuditEntry] = []
    with db.snapshot() as session:
        yield UseCase(session, actor, now, entries)
    if entries:
        _group_of(db).commit(entries)


class _Batch:
    """Events waiting for the group commit, and what became of them."""

    __slots__ = ("done", "entries", "error")

    def __init__(self, entries: list[AuditEntry]) -> None:
        self.entries = entries
        self.done = False
        self.error: BaseException | None = None


class _GroupCommit:
    """Appends the audit events of concurrent reads in shared writer transactions."""

    def __init__(self, db: Database) -> None:
        self._db = weakref.ref(db)
        self._queue: list[_Batch] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()

    def commit(self, entries: list[AuditEntry]) -> None:
        """Return once ``entries`` are committed to the chain; raise if their commit failed."""
        mine = _Batch(entries)
        with self._queue_lock:
            self._queue.append(mine)
        with self._commit_lock:
            if not mine.done:
                with self._queue_lock:
                    batches, self._queue = self._queue, []
                db = self._db()
                try:
                    if db is None:
                        raise RuntimeError("the database was closed before the audit commit")
                    with db.transaction() as session:
                        append_audits(session, [e for b in batches for e in b.entries])
                except BaseException as exc:
                    for batch in batches:
                        batch.error, batch.done = exc, True
                    raise
                for batch in batches:
                    batch.done = True
        if mine.error is not None:  # another reader's commit of these events failed
            raise StorageError(
                f"this read's audit event could not be committed ({mine.error}); nothing "
                "was shown: try again"
            ) from mine.error


_GROUPS: weakref.WeakKeyDictionary[Database, _GroupCommit] = weakref.WeakKeyDictionary()
_GROUPS_LOCK = threading.Lock()


def _group_of(db: Database) -> _GroupCommit:
    with _GROUPS_LOCK:
        group = _GROUPS.get(db)
        if group is None:
            group = _GROUPS[db] = _GroupCommit(db)
        return group


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
