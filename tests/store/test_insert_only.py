"""Clinical and audit rows cannot be updated or deleted, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ketaclinic.services.testing import (
    discard_database,
    fill_tables,
    make_database,
    require_postgres,
)
from ketaclinic.store import INSERT_ONLY_TABLES, METADATA, Database

ADMIN_TABLES = sorted(set(METADATA.tables) - set(INSERT_ONLY_TABLES))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def filled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One filled database per backend for the module: every refused change rolls back."""
    if request.param == "postgresql":
        require_postgres()
        request.getfixturevalue("_postgres_templates_cleanup")
    db, _ = make_database(tmp_path_factory.mktemp("filled"), request.param)
    with db.transaction() as session:
        fill_tables(session.connection())
    yield db
    discard_database(db)


def test_every_clinical_and_audit_table_is_insert_only() -> None:
    assert ADMIN_TABLES == [
        "audit_chain_head",
        "chairs",
        "login_attempts",
        "staff_sessions",
        "staff_users",
    ]
    assert len(INSERT_ONLY_TABLES) == 35  # the clinical records, the audit trail, the price list


def _first_text_column(table: str) -> str:
    return next(
        c.name
        for c in METADATA.tables[table].columns
        if c.name not in ("id", "entered_in_error")
        and not c.foreign_keys
        and str(c.type).startswith(("VARCHAR", "TEXT"))
    )


@pytest.mark.parametrize("table", INSERT_ONLY_TABLES)
def test_it_refuses_to_update_an_insert_only_row(filled: Database, table: str) -> None:
    column = _first_text_column(table)
    with pytest.raises(DBAPIError, match="insert-only"), filled.transaction() as session:
        session.execute(
            text(f"UPDATE {table} SET {column} = {column} WHERE id = (SELECT min(id) FROM {table})")
        )


@pytest.mark.parametrize("table", INSERT_ONLY_TABLES)
def test_it_refuses_to_delete_an_insert_only_row(filled: Database, table: str) -> None:
    with pytest.raises(DBAPIError, match="insert-only"), filled.transaction() as session:
        session.execute(text(f"DELETE FROM {table}"))
    with filled.snapshot() as session:
        assert session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 2


def test_it_refuses_to_truncate_on_postgresql(postgres_db: Database) -> None:
    with postgres_db.transaction() as session:
        fill_tables(session.connection())
    with pytest.raises(DBAPIError, match="insert-only"), postgres_db.transaction() as session:
        session.execute(text("TRUNCATE audit_events"))


def test_administrative_rows_may_change(db: Database) -> None:
    with db.transaction() as session:
        fill_tables(session.connection())
        session.execute(text("UPDATE chairs SET location = 'room 2'"))
        session.execute(text("UPDATE staff_users SET password_hash = 'x'"))
    with db.snapshot() as session:
        assert session.execute(text("SELECT DISTINCT location FROM chairs")).scalar_one() == (
            "room 2"
        )
