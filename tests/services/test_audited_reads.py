"""A read-only use case reads a snapshot; its audit events are committed before its result is
handed back, several concurrent reads' events in one writer transaction (group commit)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from ketaclinic.errors import StorageError
from ketaclinic.services import Actor, audited_read, open_clinic_database, verify_audit
from ketaclinic.services.testing import FrozenClock, add_patient_with_course, add_personas
from ketaclinic.store import AuditChainHead, AuditEvent, Database, Patient, open_database


def _audit_count(db: Database) -> int:
    with db.snapshot() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _patient(db: Database, actor: Actor, clock: FrozenClock) -> int:
    with db.transaction() as session:
        return add_patient_with_course(
            session, recorded_by_id=actor.user_id or 0, now=clock(), mrn="R1"
        )


def _read_mrn(db: Database, actor: Actor, clock: FrozenClock, patient_id: int) -> str:
    with audited_read(db, actor, clock) as uc:
        mrn = uc.session.get(Patient, patient_id).mrn  # type: ignore[union-attr]
        uc.audit("patient.read", record_type="patients", record_id=patient_id)
        return str(mrn)


def test_an_audited_read_commits_its_event_with_who_what_and_when(
    db: Database, clock: FrozenClock
) -> None:
    nurse = add_personas(db, clock)["nurse.brown"]
    patient = _patient(db, nurse, clock)
    before = _audit_count(db)
    assert _read_mrn(db, nurse, clock, patient) == "R1"
    with db.snapshot() as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert last is not None
    assert (last.action, last.record_id, last.actor_username, last.occurred_at) == (
        "patient.read",
        patient,
        "nurse.brown",
        clock(),
    )
    assert _audit_count(db) == before + 1
    assert verify_audit(db).ok


def test_a_read_that_fails_is_not_audited_and_a_read_cannot_write(
    db: Database, clock: FrozenClock
) -> None:
    nurse = add_personas(db, clock)["nurse.brown"]
    before = _audit_count(db)

    def fail_after_reading() -> None:
        with audited_read(db, nurse, clock) as uc:
            uc.audit("patient.read", record_type="patients")
            raise LookupError("no such patient")

    def write_in_a_read() -> None:
        with audited_read(db, nurse, clock) as uc:
            uc.audit("patient.enrol", record_type="patients")
            add_patient_with_course(uc.session, recorded_by_id=1, now=clock(), mrn="W9")
            uc.session.flush()

    with pytest.raises(LookupError):
        fail_after_reading()
    with pytest.raises(Exception, match=r"(?i)read.only|not authorized|readonly"):
        write_in_a_read()
    with db.snapshot() as session:
        assert session.scalars(select(Patient).where(Patient.mrn == "W9")).all() == []
    assert _audit_count(db) == before


def test_concurrent_reads_share_writer_commits_and_each_is_audited_once(
    db: Database, clock: FrozenClock
) -> None:
    """While a write holds the database, eight reads finish reading and wait; when it ends,
    their eight events go in at most two writer transactions (one insert each), each event
    once, chain intact."""
    nurse = add_personas(db, clock)["nurse.brown"]
    patient = _patient(db, nurse, clock)
    before = _audit_count(db)
    inserts: list[str] = []

    @event.listens_for(db.writer_engine, "before_cursor_execute")
    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS"):
            inserts.append(statement)

    results: list[str] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            results.append(_read_mrn(db, nurse, clock, patient))
        except BaseException as exc:  # reported below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(8)]
    with db.transaction() as session:  # the writer is busy until this block ends
        session.execute(select(AuditChainHead).with_for_update())
        for reader in readers:
            reader.start()
        _wait_until_queued(db, 7)  # one leads (and waits for the writer), seven queue
        assert results == []  # nothing is answered before its commit
        assert errors == []
    for reader in readers:
        reader.join(timeout=30)
    assert errors == []
    assert results == ["R1"] * 8
    assert _audit_count(db) == before + 8
    assert 1 <= len(inserts) <= 2  # one insert (of all the batch's events) per commit
    assert verify_audit(db).ok


def _wait_until_queued(db: Database, count: int) -> None:
    """Until ``count`` reads wait in the group commit's queue (observed; 5 s at most: if
    some were taken by the leader together, fewer queue and the test just waits)."""
    from ketaclinic.services._audit import _group_of

    group = _group_of(db)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(group._queue) < count:
        time.sleep(0.02)


def test_a_read_whose_audit_cannot_be_committed_returns_nothing(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """SQLite: another process holds the writer; the read times out with a clear error
    instead of answering without its audit row."""
    from ketaclinic.config import load_settings

    settings = load_settings(data_dir=tmp_path / "d", sqlite_busy_timeout_ms=300)
    db = open_clinic_database(settings, upgrade_schema=True)
    nurse = add_personas(db, clock)["nurse.brown"]
    patient = _patient(db, nurse, clock)
    db.disconnect()  # give the writer lock up to the other "process"
    other = open_database(settings)
    try:
        before = _audit_count(db)
        with other.transaction() as session:
            session.execute(select(Patient))
            with pytest.raises(StorageError, match="another process is writing"):
                _read_mrn(db, nurse, clock, patient)
        assert _audit_count(db) == before
    finally:
        other.close()
        db.close()
