"""SQLite: one connection writes and checkpoints; readers are read-only and never checkpoint."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from ketaclinic.config import load_settings
from ketaclinic.errors import StorageError
from ketaclinic.services.testing import fill_tables, make_database
from ketaclinic.store import Database, check_database, open_database, sqlite_protection


@pytest.mark.parametrize(
    ("version", "fixed"),
    [
        ("3.40.1", False),
        ("3.51.2", False),
        ("3.7.0", False),
        ("3.51.3", True),
        ("3.54.1", True),
        ("3.6.23", True),
    ],
)
def test_protection_depends_on_the_linked_version(version: str, fixed: bool) -> None:
    protection = sqlite_protection(version)
    assert protection.library_fixed is fixed
    assert protection.single_writer
    assert version in protection.description


def test_db_check_reports_the_version_and_the_protection(sqlite_db: Database) -> None:
    import sqlite3

    report = check_database(sqlite_db)
    assert report.sqlite is not None
    assert report.sqlite.sqlite_version == sqlite3.sqlite_version
    assert "single-writer" in report.sqlite.description
    assert report.durability["journal_mode"] == "wal"
    assert report.ok, report.problems


def test_the_writer_runs_wal_full_sync_and_foreign_keys(sqlite_db: Database) -> None:
    assert sqlite_db.durability() == {
        "journal_mode": "wal",
        "synchronous": "FULL",
        "foreign_keys": "ON",
        "busy_timeout_ms": "10000",
    }


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO chairs (name, created_at) VALUES ('x', '2026-01-01')",
        "UPDATE chairs SET name = 'y'",
        "DELETE FROM chairs",
        "CREATE TABLE t (x)",
        "PRAGMA wal_checkpoint(TRUNCATE)",
        "PRAGMA wal_checkpoint",
        "PRAGMA journal_mode=DELETE",
    ],
)
def test_a_reader_refuses_writes_and_checkpoints(sqlite_db: Database, statement: str) -> None:
    with pytest.raises(DatabaseError), sqlite_db.snapshot() as session:
        session.execute(text(statement))


def _state(path: Path) -> tuple[int, str]:
    wal = Path(f"{path}-wal")
    return (
        wal.stat().st_size if wal.exists() else -1,
        hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def test_a_reader_closing_last_leaves_the_checkpoint_to_the_writer(sqlite_db: Database) -> None:
    path = sqlite_db.sqlite_path
    assert path is not None
    with sqlite_db.transaction() as session:
        fill_tables(session.connection())
    with sqlite_db.snapshot() as session:  # a pooled read-only connection now exists
        session.execute(text("SELECT count(*) FROM staff_users")).scalar_one()
    sqlite_db.writer_engine.dispose()  # the writer is not the last: no checkpoint
    before = _state(path)
    assert before[0] > 0, "the WAL should still hold the writes"
    sqlite_db.close()  # the reader closes last
    assert _state(path) == before


def _write(db: Database) -> None:
    with db.transaction() as session:
        session.execute(text("SELECT 1"))


def test_a_second_writer_is_refused_while_one_holds_the_lock(tmp_path: Path) -> None:
    first, settings = make_database(tmp_path, "sqlite")
    with first.transaction() as session:
        session.execute(text("SELECT 1"))
    assert first.holds_writer_lock
    second = open_database(load_settings(data_dir=settings.data_dir, sqlite_busy_timeout_ms=200))
    started = time.monotonic()
    with pytest.raises(StorageError, match="another process is writing"):
        _write(second)
    assert time.monotonic() - started >= 0.2
    with second.snapshot() as session:  # reading beside the writer is fine
        assert session.execute(text("SELECT count(*) FROM chairs")).scalar_one() == 0
    first.close()
    with second.transaction() as session:  # the lock is free again
        session.execute(text("SELECT 1"))
    second.close()


def test_a_child_process_cannot_write_while_the_parent_holds_the_lock(tmp_path: Path) -> None:
    db, settings = make_database(tmp_path, "sqlite")
    with db.transaction() as session:
        session.execute(text("SELECT 1"))
    pid = os.fork()
    if pid == 0:  # child: try to become a writer
        code = 1
        try:
            other = open_database(
                load_settings(data_dir=settings.data_dir, sqlite_busy_timeout_ms=100)
            )
            with other.transaction() as session:
                session.execute(text("SELECT 1"))
        except StorageError:
            code = 0
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    db.close()


def test_one_writer_connection_serves_one_transaction_at_a_time(sqlite_db: Database) -> None:
    inside = threading.Event()
    order: list[str] = []

    def slow_writer() -> None:
        with sqlite_db.transaction() as session:
            session.execute(text("SELECT 1"))
            inside.set()
            time.sleep(0.2)
            order.append("first done")

    thread = threading.Thread(target=slow_writer)
    thread.start()
    inside.wait()
    with sqlite_db.transaction() as session:
        session.execute(text("SELECT 1"))  # waits for the one writer connection
        order.append("second started")
    thread.join()
    assert order == ["first done", "second started"]
    assert sqlite_db.writer_engine.pool.size() == 1  # type: ignore[attr-defined]


def test_the_protection_is_decided_when_the_database_opens(sqlite_db: Database) -> None:
    assert sqlite_db.protection == sqlite_protection()
