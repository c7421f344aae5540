"""Appending many audit events at once makes the same chain as appending them one by one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from ketaclinic.services.testing import FROZEN_AT, discard_database, make_database
from ketaclinic.store import (
    AuditEntry,
    AuditEvent,
    append_audit,
    append_audits,
    verify_chain,
)


def _entries() -> list[AuditEntry]:
    return [
        AuditEntry(
            occurred_at=FROZEN_AT + timedelta(seconds=k),
            actor_username="cli:test",
            client_address="cli",
            action="demo.patient.generate",
            record_type="patients",
            record_id=k,
            patient_id=k,
            details={"seed": 1, "k": k},
        )
        for k in range(1, 40)
    ]


def test_a_bulk_append_is_the_chain_of_single_appends(backend: str, tmp_path: Path) -> None:
    chains = []
    for bulk in (False, True):
        db, _ = make_database(tmp_path, backend)
        try:
            with db.transaction() as session:
                append_audit(session, _entries()[0])
                if bulk:
                    assert append_audits(session, _entries()[1:]) == 38
                    assert append_audits(session, []) == 0
                else:
                    for entry in _entries()[1:]:
                        append_audit(session, entry)
            with db.snapshot() as session:
                assert verify_chain(session).ok
                chains.append(
                    session.execute(
                        select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash).order_by(
                            AuditEvent.seq
                        )
                    ).all()
                )
        finally:
            discard_database(db)
    assert chains[0] == chains[1]
    assert len(chains[0]) == 39
