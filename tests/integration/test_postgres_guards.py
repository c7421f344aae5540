"""PostgreSQL: the application's role cannot change audit or clinical rows; the store refuses
a server that could lose a committed write; db check runs amcheck when it is installed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from ketaclinic.config import load_settings
from ketaclinic.errors import ConfigurationError, StorageError
from ketaclinic.services.testing import FrozenClock, add_personas, fill_tables
from ketaclinic.store import Database, check_database, open_database

TESTER = "ketaclinic_app_tester"


def _admin(db: Database) -> psycopg.Connection:
    url = db.url
    return psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    )


@pytest.fixture
def as_app_role(postgres_db: Database) -> Iterator[psycopg.Connection]:
    """A connection that logs in with a role holding only the application role's rights."""
    with postgres_db.transaction() as session:
        fill_tables(session.connection())
    with _admin(postgres_db) as admin:
        admin.execute(f"""DO $$ BEGIN
            CREATE ROLE {TESTER} LOGIN IN ROLE ketaclinic_app;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$""")
    url = postgres_db.url
    with psycopg.connect(
        host=url.host, port=url.port, user=TESTER, dbname=url.database, autocommit=True
    ) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (TESTER,)
        yield conn


@pytest.mark.parametrize("table", ["audit_events", "orders", "diagnoses", "vital_signs"])
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {t} SET id = id",
        "DELETE FROM {t}",
        "TRUNCATE {t}",
        "ALTER TABLE {t} DISABLE TRIGGER ALL",
    ],
)
def test_the_app_role_cannot_change_audit_or_clinical_rows(
    as_app_role: psycopg.Connection, table: str, statement: str
) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_app_role.execute(statement.format(t=table))


def test_the_app_role_reads_and_appends(as_app_role: psycopg.Connection) -> None:
    assert as_app_role.execute("SELECT count(*) FROM audit_events").fetchone() == (2,)
    as_app_role.execute("INSERT INTO chairs (name, created_at) VALUES ('chair 9', now())")
    as_app_role.execute("UPDATE audit_chain_head SET last_seq = last_seq")
    as_app_role.execute(
        "UPDATE staff_users SET disabled_at = now() WHERE id = (SELECT min(id) FROM staff_users)"
    )


def test_the_owner_is_stopped_by_the_triggers(postgres_db: Database, clock: FrozenClock) -> None:
    add_personas(postgres_db, clock)
    with postgres_db.transaction() as session:
        fill_tables(session.connection())
    with (
        _admin(postgres_db) as admin,
        pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="insert-only"),
    ):
        admin.execute("DELETE FROM audit_events")


def test_it_refuses_a_server_without_synchronous_commit(
    postgres_db: Database, tmp_path: Path
) -> None:
    url = postgres_db.url.update_query_dict({"options": "-c synchronous_commit=off"})
    settings = load_settings(data_dir=tmp_path, database_url=url.render_as_string(False))
    with pytest.raises(StorageError, match="synchronous_commit=off"):
        open_database(settings)


def test_an_unreachable_server_is_a_configuration_error(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path, database_url="postgresql://nobody@127.0.0.1:1/nothing"
    )
    with pytest.raises(ConfigurationError, match=r"KETACLINIC_DATABASE_URL=.*cannot be reached"):
        open_database(settings)


def test_db_check_reports_durability_and_runs_amcheck(postgres_db: Database) -> None:
    report = check_database(postgres_db)
    assert report.ok, report.problems
    assert report.durability["fsync"] == "on"
    assert any("amcheck not installed" in note for note in report.integrity)
    with _admin(postgres_db) as admin:
        admin.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
    report = check_database(postgres_db)
    assert report.ok, report.problems
    checked = next(note for note in report.integrity if note.startswith("amcheck"))
    assert " 0 failed" in checked
    guards = next(note for note in report.integrity if note.startswith("insert-only guards"))
    # Every insert-only table guarded, however many tables later migrations add.
    assert re.fullmatch(r"insert-only guards: (\d+) of \1 tables", guards), guards


def test_db_check_sees_a_disabled_trigger(postgres_db: Database) -> None:
    with _admin(postgres_db) as admin:
        admin.execute("ALTER TABLE orders DISABLE TRIGGER orders_refuse_change")
    report = check_database(postgres_db)
    assert "table orders has lost its insert-only triggers" in report.problems
    with postgres_db.snapshot() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
