"""Insert many rows at once: COPY on PostgreSQL, one prepared executemany on SQLite.

psycopg sends an executemany as one statement a row (pipelined), and multi-row VALUES
statements cost more to parse in the driver than they save; COPY streams the rows in one
command. Each value goes through its column's SQLAlchemy type first (``UTCDateTime``,
``JSONText``), exactly as an INSERT would bind it, so the stored rows are the same either
way (``tests/store/test_bulk_insert.py``). Rows carry their ids; the caller moves the id
sequences past them afterwards (``reset_sequences``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

__all__ = ["bulk_insert"]


def bulk_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` (dicts by column name, every row the same columns) into ``table``
    in the session's transaction; returns how many."""
    if not rows:
        return 0
    conn = session.connection()
    columns = list(rows[0])
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column {', '.join(unknown)}")
    defaulted = [c.name for c in table.c if c.name not in rows[0] and c.default is not None]
    if conn.dialect.name != "postgresql" or defaulted:
        conn.execute(insert(table), list(rows))
        return len(rows)
    from psycopg import sql

    wanted = set(columns)
    processors = [table.c[c].type._cached_bind_processor(conn.dialect) for c in columns]
    command = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    driver = conn.connection.driver_connection
    if driver is None:
        raise RuntimeError("the PostgreSQL connection has no driver connection")
    with driver.cursor() as cursor, cursor.copy(command) as copy:
        for row in rows:
            if row.keys() != wanted:
                raise ValueError(
                    f"every row for {table.name} needs the same columns ({', '.join(columns)})"
                )
            copy.write_row(
                [
                    process(row[c]) if process is not None else row[c]
                    for c, process in zip(columns, processors, strict=True)
                ]
            )
    return len(rows)
