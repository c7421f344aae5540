"""Migrations: from the first one to head, with data in, no row changes; models match."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, select

from ketaclinic.services.testing import fill_tables
from ketaclinic.store import (
    METADATA,
    Database,
    current_revision,
    head_revision,
    open_database,
    revisions,
    upgrade,
)


def _rows(db: Database) -> dict[str, list[dict[str, str | None]]]:
    """Every row of every table, column -> value as text, in primary-key order."""
    out: dict[str, list[dict[str, str | None]]] = {}
    with db.snapshot() as session:
        meta = MetaData()
        meta.reflect(session.connection())
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = session.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [
                {k: None if v is None else str(v) for k, v in row._mapping.items()} for row in rows
            ]
    return out


def _changed(before: list[dict[str, str | None]], after: list[dict[str, str | None]]) -> bool:
    """Whether a table's rows changed: a value of a column that was there, a row added or lost,
    or a column the revision added that is not NULL in an existing row."""
    if len(before) != len(after):
        return True
    for old, new in zip(before, after, strict=True):
        if any(new.get(column) != value for column, value in old.items()):
            return True
        if any(new[column] is not None for column in set(new) - set(old)):
            return True
    return False


def test_the_migrations_form_one_line_from_0001() -> None:
    assert revisions()[0] == "0001"
    assert revisions()[-1] == head_revision()
    assert len(revisions()) == len(set(revisions()))


def test_upgrading_with_data_in_every_table_changes_no_row(empty_db: Database) -> None:
    assert current_revision(empty_db) is None
    seen: dict[str, list[dict[str, str | None]]] = {}
    for revision in revisions():
        upgrade(empty_db, revision)
        assert current_revision(empty_db) == revision
        after = _rows(empty_db)
        changed = [t for t, rows in seen.items() if _changed(rows, after.get(t, []))]
        assert not changed, f"upgrading to {revision} changed rows of {sorted(changed)}"
        with empty_db.transaction() as session:
            fill_tables(session.connection())  # the tables this revision added
        seen = _rows(empty_db)
    assert sum(len(rows) for rows in seen.values()) >= 2 * (len(METADATA.tables) - 1)


def test_upgrading_twice_is_harmless(db: Database) -> None:
    assert upgrade(db) == head_revision()
    assert current_revision(db) == head_revision()


def test_workers_upgrading_an_empty_database_at_once_take_turns(empty_db: Database) -> None:
    """Two workers of a server started together both upgrade at start-up; one migrates and
    the other finds the schema at head (they raced on the catalog before). PostgreSQL only:
    on SQLite a second writing process is refused by design (one worker)."""
    if empty_db.dialect == "sqlite":
        pytest.skip("SQLite allows one writing process")
    other = open_database(empty_db.settings, check=False)
    ready = threading.Barrier(2)
    results: dict[int, str | BaseException] = {}

    def start(n: int, db: Database) -> None:
        ready.wait()
        try:
            results[n] = upgrade(db)
        except BaseException as exc:
            results[n] = exc

    try:
        workers = [
            threading.Thread(target=start, args=(n, d)) for n, d in enumerate((empty_db, other))
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=300)
    finally:
        other.close()
    assert results == {0: head_revision(), 1: head_revision()}


def test_the_tables_match_the_migrations(db: Database) -> None:
    with db.snapshot() as session:
        context = MigrationContext.configure(session.connection(), opts={"compare_type": True})
        differences = compare_metadata(context, METADATA)
    assert differences == []
