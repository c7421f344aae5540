"""Rows as portable values, table digests, and inserting rows back (backup and restore).

A row is encoded as a JSON list in column order: instants as ISO 8601 UTC with microseconds,
dates as ISO dates, JSON columns as the stored text, everything else as it is. The digest of
a table is SHA-256 over the canonical JSON of its rows in primary-key order, one per line,
so the same records give the same digest on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Column, Date, Table, Text, func, insert, select, text, type_coerce
from sqlalchemy.orm import Session

from ketaclinic.store._tables import METADATA
from ketaclinic.store._types import JSONText, UTCDateTime, canonical_json

__all__ = [
    "TABLES",
    "TableDigest",
    "decode_row",
    "insert_rows",
    "iter_rows",
    "reset_sequences",
    "row_counts",
    "table_digest",
]

#: Every table, parents before children (the order a restore inserts them in).
TABLES: tuple[Table, ...] = tuple(METADATA.sorted_tables)


@dataclass(frozen=True)
class TableDigest:
    table: str
    rows: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "sha256": self.sha256}


def _selectable(column: Column[Any]) -> Any:
    # JSON columns are read as their stored text, so that the text itself is what is hashed.
    return type_coerce(column, Text) if isinstance(column.type, JSONText) else column


def _encode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def iter_rows(session: Session, table: Table, batch: int = 5000) -> Iterator[list[Any]]:
    """The table's rows as encoded lists (column order), in primary-key order."""
    columns = list(table.columns)
    query = select(*(_selectable(c) for c in columns)).order_by(*table.primary_key.columns)
    for row in session.execute(query.execution_options(yield_per=batch)):
        yield [_encode(c, v) for c, v in zip(columns, row, strict=True)]


def table_digest(session: Session, table: Table) -> TableDigest:
    sha = hashlib.sha256()
    rows = 0
    for row in iter_rows(session, table):
        sha.update(canonical_json(row).encode())
        sha.update(b"\n")
        rows += 1
    return TableDigest(table.name, rows, sha.hexdigest())


def row_counts(session: Session) -> dict[str, int]:
    return {
        t.name: int(session.execute(select(func.count()).select_from(t)).scalar_one())
        for t in TABLES
    }


def decode_row(table: Table, values: list[Any]) -> dict[str, Any]:
    """An encoded row back to column values (raises ``ValueError`` on a malformed row)."""
    columns = list(table.columns)
    if len(values) != len(columns):
        raise ValueError(f"{table.name}: {len(values)} values for {len(columns)} columns")
    out: dict[str, Any] = {}
    for column, value in zip(columns, values, strict=True):
        if value is None:
            out[column.key] = None
        elif isinstance(column.type, UTCDateTime):
            instant = datetime.fromisoformat(value)
            if instant.tzinfo is None:
                raise ValueError(f"{table.name}.{column.key}: {value!r} has no time zone")
            out[column.key] = instant
        elif isinstance(column.type, Date):
            out[column.key] = date.fromisoformat(value)
        elif isinstance(column.type, JSONText):
            out[column.key] = json.loads(value)
        else:
            out[column.key] = value
    return out


def insert_rows(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert decoded rows, ids included, in batches; returns how many."""
    count = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 2000:
            session.execute(insert(table), batch)
            count += len(batch)
            batch = []
    if batch:
        session.execute(insert(table), batch)
        count += len(batch)
    return count


def reset_sequences(session: Session) -> None:
    """PostgreSQL: move each id sequence past the restored ids (no-op on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        if "id" not in table.columns:
            continue
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, 'id'), "
                f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
            ),
            {"table": table.name},
        )
