"""bulk_insert (COPY on PostgreSQL) stores exactly what an INSERT of the same rows stores:
every table of a generated clinic, digest for digest, instants, JSON text, flags and NULLs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from ketaclinic.services._demo_clinic import DemoClinic, StaffIds, batches
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import (
    METADATA,
    Chair,
    Database,
    StaffUser,
    bulk_insert,
    table_digest,
    upgrade,
)

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def _fill(db: Database, bulk: bool) -> dict[str, str]:
    with db.transaction() as session:
        for k in range(1, 8):
            role = "physician" if k <= 3 else "nurse"
            session.add(
                StaffUser(
                    username=f"staff{k}",
                    display_name=f"Staff {k}\ttab \\ back\nslash",
                    role=role,
                    password_hash=None,
                    created_at=NOW,
                    disabled_at=None,
                )
            )
        for k in range(1, 4):
            session.add(Chair(name=f"chair {k}", location="day unit", created_at=NOW))
        session.flush()
        clinic = DemoClinic(11, NOW, StaffIds((1, 2, 3), (4, 5, 6, 7), (1, 2, 3)), {})
        for _ids, rows in batches(clinic, 1, 12, 5):
            for table in METADATA.sorted_tables:
                if rows.get(table.name):
                    if bulk:
                        assert bulk_insert(session, table, rows[table.name]) == len(
                            rows[table.name]
                        )
                    else:
                        session.execute(insert(table), rows[table.name])
    with db.snapshot() as session:
        return {t.name: table_digest(session, t).sha256 for t in METADATA.sorted_tables}


def test_bulk_insert_stores_what_an_insert_stores(
    db: Database, empty_db: Database, clock: FrozenClock
) -> None:
    upgrade(empty_db)
    by_bulk, by_insert = _fill(db, bulk=True), _fill(empty_db, bulk=False)
    assert by_bulk == by_insert
    assert len(by_bulk) == len(METADATA.tables)


def test_bulk_insert_refuses_rows_that_do_not_fit_the_table(db: Database) -> None:
    table = METADATA.tables["chairs"]
    row = {"id": 1, "name": "a", "location": "b", "created_at": NOW, "retired_at": None}
    with db.transaction() as session, pytest.raises(ValueError, match="no column"):
        bulk_insert(session, table, [{**row, "colour": "red"}])
    if db.dialect == "postgresql":
        short = {k: v for k, v in row.items() if k != "location"}
        with db.transaction() as session, pytest.raises(ValueError, match="same columns"):
            bulk_insert(session, table, [row, {**short, "id": 2}])
