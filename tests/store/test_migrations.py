"""Migrations: from the first one to head, with data in, no row changes; models match."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, select

from ketaclinic.services.testing import fill_tables
from ketaclinic.store import (
    METADATA,
    Database,
    canonical_json,
    current_revision,
    head_revision,
    revisions,
    upgrade,
)


def _row_hashes(db: Database) -> dict[str, list[str]]:
    """Every row of every table, as canonical text, in primary-key order."""
    out: dict[str, list[str]] = {}
    with db.snapshot() as session:
        meta = MetaData()
        meta.reflect(session.connection())
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = session.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [canonical_json([str(v) for v in row]) for row in rows]
    return out


def test_the_migrations_form_one_line_from_0001() -> None:
    assert revisions()[0] == "0001"
    assert revisions()[-1] == head_revision()
    assert len(revisions()) == len(set(revisions()))


def test_upgrading_with_data_in_every_table_changes_no_row(empty_db: Database) -> None:
    assert current_revision(empty_db) is None
    seen: dict[str, list[str]] = {}
    for revision in revisions():
        upgrade(empty_db, revision)
        assert current_revision(empty_db) == revision
        after = _row_hashes(empty_db)
        changed = {t: rows for t, rows in seen.items() if after.get(t) != rows}
        assert not changed, f"upgrading to {revision} changed rows of {sorted(changed)}"
        with empty_db.transaction() as session:
            fill_tables(session.connection())  # the tables this revision added
        seen = _row_hashes(empty_db)
    assert sum(len(rows) for rows in seen.values()) >= 2 * (len(METADATA.tables) - 1)


def test_upgrading_twice_is_harmless(db: Database) -> None:
    assert upgrade(db) == head_revision()
    assert current_revision(db) == head_revision()


def test_the_tables_match_the_migrations(db: Database) -> None:
    with db.snapshot() as session:
        context = MigrationContext.configure(session.connection(), opts={"compare_type": True})
        differences = compare_metadata(context, METADATA)
    assert differences == []
