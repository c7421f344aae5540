"""The audit chain detects every edited, deleted and reordered row, and stays linear under
concurrent writers. Tampering is done with SQL that bypasses the triggers, as an attacker
holding the database file (or a superuser) would."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import text

from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import AuditEntry, Database, append_audit, verify_chain

ACTIONS = ("chart.read", "order.sign", "session.document", "order.override", "emergency")


def _append(db: Database, clock: FrozenClock, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with db.transaction() as session:
        for k in range(n):
            action = rng.choice(ACTIONS)
            append_audit(
                session,
                AuditEntry(
                    occurred_at=clock.advance(seconds=rng.randint(1, 90)),
                    actor_username=rng.choice(["dr.adams", "nurse.brown"]),
                    actor_user_id=rng.randint(1, 5),
                    client_address=rng.choice(["127.0.0.1", "cli", "10.0.0.7"]),
                    action=action,
                    record_type="orders",
                    record_id=k,
                    patient_id=rng.randint(1, 40),
                    reason="patient deteriorating"
                    if action in ("order.override", "emergency")
                    else None,
                    details={"k": k, "note": "ü"},
                ),
            )


def _verify(db: Database) -> set[str]:
    with db.snapshot() as session:
        result = verify_chain(session)
    return {p.kind for p in result.problems}


def _attack(db: Database, *statements: str) -> None:
    """Run SQL with the insert-only triggers out of the way, then put them back."""
    with db.transaction() as session:
        if db.dialect == "postgresql":
            session.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in statements:
                session.execute(text(statement))
            return
        triggers = session.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'audit_events'"
            )
        ).all()
        for name, _ in triggers:
            session.execute(text(f"DROP TRIGGER {name}"))
        for statement in statements:
            session.execute(text(statement))
        for _, sql in triggers:
            session.execute(text(sql))


def test_an_untouched_chain_verifies(db: Database, clock: FrozenClock) -> None:
    _append(db, clock, 50)
    with db.snapshot() as session:
        result = verify_chain(session)
    assert result.ok
    assert (result.events_checked, result.head_seq) == (50, 50)


def test_an_empty_chain_verifies(db: Database) -> None:
    assert _verify(db) == set()


COLUMNS = {
    "occurred_at": "occurred_at",  # replaced below per dialect
    "actor_username": "'mallory'",
    "actor_user_id": "99",
    "client_address": "'203.0.113.9'",
    "action": "'nothing.happened'",
    "record_type": "'charges'",
    "record_id": "record_id + 1",
    "patient_id": "patient_id + 1",
    "reason": "'because'",
    "details": "'{\"k\":-1}'",
    "prev_hash": "hash",
    "hash": "prev_hash",
}


def _edit(db: Database, rng: random.Random, n: int) -> Callable[[], None]:
    column = rng.choice(sorted(COLUMNS))
    value = COLUMNS[column]
    if column == "occurred_at":
        value = (
            "occurred_at + interval '1 second'"
            if db.dialect == "postgresql"
            else "datetime(occurred_at, '+1 second')"
        )
    seq = rng.randint(1, n)
    return lambda: _attack(db, f"UPDATE audit_events SET {column} = {value} WHERE seq = {seq}")


def _delete(db: Database, rng: random.Random, n: int) -> Callable[[], None]:
    first = rng.randint(1, n)
    last = min(n, first + rng.randint(0, 3))
    return lambda: _attack(db, f"DELETE FROM audit_events WHERE seq BETWEEN {first} AND {last}")


def _reorder(db: Database, rng: random.Random, n: int) -> Callable[[], None]:
    a, b = sorted(rng.sample(range(1, n + 1), 2))
    # swap the sequence numbers of two rows: the rows now stand in each other's place
    return lambda: _attack(
        db,
        f"UPDATE audit_events SET seq = 1000000000 WHERE seq = {a}",
        f"UPDATE audit_events SET seq = {a} WHERE seq = {b}",
        f"UPDATE audit_events SET seq = {b} WHERE seq = 1000000000",
    )


def _restamp(db: Database, rng: random.Random, n: int) -> Callable[[], None]:
    # move one row to the end by giving it a new id (a physical reordering)
    seq = rng.randint(1, n - 1)
    return lambda: _attack(db, f"UPDATE audit_events SET id = id + 100000 WHERE seq = {seq}")


TAMPERINGS = {"edit": _edit, "delete": _delete, "reorder": _reorder, "restamp": _restamp}


@pytest.mark.parametrize("kind", sorted(TAMPERINGS))
def test_verify_detects_every_tampered_chain(db: Database, clock: FrozenClock, kind: str) -> None:
    """25 generated tamperings of each kind, each on a fresh copy of a 40-event chain."""
    n = 40
    _append(db, clock, n)
    rng = random.Random(kind)
    with db.snapshot() as session:
        pristine = [
            tuple(r) for r in session.execute(text("SELECT * FROM audit_events ORDER BY id")).all()
        ]
    columns = [
        "id",
        "seq",
        "occurred_at",
        "actor_username",
        "actor_user_id",
        "client_address",
        "action",
        "record_type",
        "record_id",
        "patient_id",
        "reason",
        "details",
        "prev_hash",
        "hash",
    ]
    detected = 0
    trials = 25
    for _ in range(trials):
        TAMPERINGS[kind](db, rng, n)()
        if _verify(db):
            detected += 1
        _restore_rows(db, columns, pristine)
        assert _verify(db) == set()
    assert detected == trials


def _restore_rows(db: Database, columns: list[str], rows: list[tuple[object, ...]]) -> None:
    placeholders = ", ".join(f":{c}" for c in columns)
    with db.transaction() as session:
        if db.dialect == "postgresql":
            session.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for (name,) in session.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'audit_events' AND name LIKE '%delete'"
                )
            ).all():
                session.execute(text(f"DROP TRIGGER {name}"))
        session.execute(text("DELETE FROM audit_events"))
        session.execute(
            text(f"INSERT INTO audit_events ({', '.join(columns)}) VALUES ({placeholders})"),
            [dict(zip(columns, row, strict=True)) for row in rows],
        )
        if db.dialect == "sqlite":
            session.execute(
                text(
                    "CREATE TRIGGER audit_events_refuse_delete BEFORE DELETE ON audit_events "
                    "BEGIN SELECT RAISE(ABORT, 'audit_events is insert-only: a record is "
                    "corrected by an amendment row, never deleted'); END"
                )
            )


def test_a_deleted_tail_is_caught_by_the_head(db: Database, clock: FrozenClock) -> None:
    _append(db, clock, 10)
    _attack(db, "DELETE FROM audit_events WHERE seq >= 9")
    assert _verify(db) == {"head"}


def test_concurrent_writers_keep_the_chain_linear(db: Database, clock: FrozenClock) -> None:
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for j in range(15):
                with db.transaction() as session:
                    append_audit(
                        session,
                        AuditEntry(
                            occurred_at=clock() + timedelta(seconds=j),
                            actor_username=f"w{k}",
                            client_address="127.0.0.1",
                            action="chart.read",
                            patient_id=k,
                        ),
                    )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with db.snapshot() as session:
        result = verify_chain(session)
        seqs = session.execute(text("SELECT seq FROM audit_events ORDER BY seq")).scalars()
        assert list(seqs) == list(range(1, 91))
    assert result.ok
