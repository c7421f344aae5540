"""Backup and restore: counts and hashes match; one changed byte is refused."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ketaclinic.errors import IntegrityFailureError, RefusedError, UserInputError
from ketaclinic.services import (
    Actor,
    audited_transaction,
    backup_database,
    restore_database,
    verify_audit,
)
from ketaclinic.services.testing import (
    FrozenClock,
    add_patient_with_course,
    add_personas,
    discard_database,
    fill_tables,
    make_database,
    require_postgres,
)
from ketaclinic.store import TABLES, Database, current_revision, row_counts, table_digest

CLI = Actor.command_line("cli:test")


def _digests(db: Database) -> dict[str, tuple[int, str]]:
    with db.snapshot() as session:
        return {t.name: (d.rows, d.sha256) for t in TABLES if (d := table_digest(session, t))}


def _clinic(db: Database, clock: FrozenClock) -> None:
    actors = add_personas(db, clock)
    nurse = actors["nurse.brown"]
    for k in range(3):
        with audited_transaction(db, nurse, clock) as uc:
            assert nurse.user_id is not None
            patient = add_patient_with_course(
                uc.session, recorded_by_id=nurse.user_id, now=uc.now, mrn=f"B{k}", sessions=2
            )
            uc.audit("patient.enrol", record_type="patients", record_id=patient, patient_id=patient)
        clock.advance(minutes=5)


@pytest.fixture
def backup(db: Database, clock: FrozenClock, tmp_path: Path) -> tuple[Database, Path]:
    _clinic(db, clock)
    path = tmp_path / "clinic.backup"
    result = backup_database(db, path, CLI, clock)
    assert result.total_rows > 40
    return db, path


def test_a_restore_reproduces_every_row_and_the_audit_chain(
    backup: tuple[Database, Path], tmp_path: Path, clock: FrozenClock, backend: str
) -> None:
    source, path = backup
    target, _ = make_database(tmp_path, backend, migrated=False)
    try:
        result = restore_database(target, path, CLI, clock)
        restored, original = _digests(target), _digests(source)
        # the restore appends its own audit event; every other table is identical
        assert {k: v for k, v in restored.items() if not k.startswith("audit")} == {
            k: v for k, v in original.items() if not k.startswith("audit")
        }
        assert restored["audit_events"][0] == original["audit_events"][0] + 1
        assert result.tables == {
            name: {"rows": n, "sha256": h} for name, (n, h) in original.items()
        }
        assert verify_audit(target).ok
        assert current_revision(target) == current_revision(source)
    finally:
        discard_database(target)


def test_a_restore_carries_every_table_filled(
    db: Database, tmp_path: Path, clock: FrozenClock, backend: str
) -> None:
    with db.transaction() as session:
        fill_tables(session.connection())
    path = tmp_path / "full.backup"
    backup_database(db, path, CLI, clock)
    target, _ = make_database(tmp_path, backend, migrated=False)
    try:
        restore_database(target, path, CLI, clock)
        with target.snapshot() as session:
            counts = row_counts(session)
        assert all(n >= 1 for n in counts.values()), counts
    finally:
        discard_database(target)


def test_a_sqlite_backup_restores_into_postgresql(
    tmp_path: Path, clock: FrozenClock, request: pytest.FixtureRequest
) -> None:
    require_postgres()
    request.getfixturevalue("_postgres_templates_cleanup")
    source, _ = make_database(tmp_path, "sqlite")
    target, _ = make_database(tmp_path, "postgresql", migrated=False)
    try:
        _clinic(source, clock)
        path = tmp_path / "move.backup"
        backup_database(source, path, CLI, clock)
        restore_database(target, path, CLI, clock)
        assert verify_audit(target).ok
        original, moved = _digests(source), _digests(target)
        assert moved["demographics"] == original["demographics"]
        assert moved["vital_signs"] == original["vital_signs"]
    finally:
        discard_database(source)
        discard_database(target)


def test_every_one_byte_change_is_refused(
    backup: tuple[Database, Path], tmp_path: Path, clock: FrozenClock
) -> None:
    _, path = backup
    data = path.read_bytes()
    rng = random.Random(11)
    positions = sorted(
        {0, len(data) // 2, len(data) - 2, len(data) - 1, *rng.sample(range(len(data)), 40)}
    )
    target, _ = make_database(tmp_path, "sqlite", migrated=False)
    try:
        for position in positions:
            changed = bytearray(data)
            changed[position] = (changed[position] + 1 + rng.randrange(200)) % 256 or 1
            bad = tmp_path / f"bad-{position}.backup"
            bad.write_bytes(bytes(changed))
            with pytest.raises(IntegrityFailureError):
                restore_database(target, bad, CLI, clock)
            assert current_revision(target) is None, "a refused restore must change nothing"
    finally:
        discard_database(target)


def test_a_truncated_backup_is_refused(
    backup: tuple[Database, Path], tmp_path: Path, clock: FrozenClock
) -> None:
    _, path = backup
    cut = tmp_path / "cut.backup"
    cut.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 3])
    target, _ = make_database(tmp_path, "sqlite", migrated=False)
    try:
        with pytest.raises(IntegrityFailureError, match=r"not a complete|modified"):
            restore_database(target, cut, CLI, clock)
    finally:
        discard_database(target)


def test_a_restore_into_a_database_with_records_is_refused(
    backup: tuple[Database, Path], clock: FrozenClock
) -> None:
    source, path = backup
    before = _digests(source)
    with pytest.raises(RefusedError, match="empty database"):
        restore_database(source, path, CLI, clock)
    assert _digests(source) == before


def test_a_backup_never_overwrites_a_file(db: Database, tmp_path: Path, clock: FrozenClock) -> None:
    existing = tmp_path / "keep.backup"
    existing.write_text("precious")
    with pytest.raises(UserInputError, match="already exists"):
        backup_database(db, existing, CLI, clock)
    assert existing.read_text() == "precious"


def test_a_missing_backup_file_is_bad_input(
    db: Database, tmp_path: Path, clock: FrozenClock
) -> None:
    with pytest.raises(UserInputError, match="does not exist"):
        restore_database(db, tmp_path / "nope.backup", CLI, clock)


def test_an_unreadable_or_unwritable_path_is_bad_input(
    db: Database, tmp_path: Path, clock: FrozenClock
) -> None:
    with pytest.raises(UserInputError, match="cannot read backup file"):
        restore_database(db, tmp_path, CLI, clock)
    with pytest.raises(UserInputError, match="does not exist"):
        backup_database(db, tmp_path / "missing" / "b.backup", CLI, clock)
