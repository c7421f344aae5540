"""``db check``: schema version, durability settings, SQLite protection, integrity, guards.

Runs on read-only connections only, so it can run beside a running application.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from ketaclinic.store._database import Database, SQLiteProtection, sqlite_protection
from ketaclinic.store._migrate import current_revision, head_revision
from ketaclinic.store._tables import INSERT_ONLY_TABLES

__all__ = ["DatabaseCheck", "check_database", "missing_guards"]


@dataclass(frozen=True)
class DatabaseCheck:
    """What ``ketaclinic db check`` reports; ``ok`` only when nothing is wrong."""

    dialect: str
    url: str
    schema_revision: str | None
    head_revision: str
    durability: dict[str, str]
    sqlite: SQLiteProtection | None
    integrity: tuple[str, ...]
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def up_to_date(self) -> bool:
        return self.schema_revision == self.head_revision

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dialect": self.dialect,
            "url": self.url,
            "schema_revision": self.schema_revision,
            "head_revision": self.head_revision,
            "up_to_date": self.up_to_date,
            "durability": dict(self.durability),
            "sqlite": self.sqlite.to_dict() if self.sqlite else None,
            "integrity": list(self.integrity),
            "problems": list(self.problems),
        }


def missing_guards(session: Session) -> list[str]:
    """Insert-only tables whose refusal triggers are missing (dropped by someone)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        rows = session.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        ).scalars()
        names = set(rows)
        wanted = {t: (f"{t}_refuse_update", f"{t}_refuse_delete") for t in INSERT_ONLY_TABLES}
    else:
        rows = session.execute(
            text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'")
        ).scalars()
        names = set(rows)
        wanted = {t: (f"{t}_refuse_change", f"{t}_refuse_truncate") for t in INSERT_ONLY_TABLES}
    return [t for t, triggers in wanted.items() if not all(n in names for n in triggers)]


def _sqlite_integrity(session: Session) -> tuple[list[str], list[str]]:
    report = [str(r) for r in session.execute(text("PRAGMA integrity_check")).scalars()]
    problems = [] if report == ["ok"] else [f"integrity_check: {line}" for line in report]
    dangling = session.execute(text("PRAGMA foreign_key_check")).all()
    problems += [f"foreign_key_check: {tuple(row)}" for row in dangling[:20]]
    return [
        f"integrity_check: {', '.join(report[:5])}",
        f"foreign_key_check: {len(dangling)} dangling references",
    ], problems


def _postgres_integrity(session: Session) -> tuple[list[str], list[str]]:
    notes: list[str] = []
    problems: list[str] = []
    has_amcheck = session.execute(
        text("SELECT count(*) FROM pg_extension WHERE extname = 'amcheck'")
    ).scalar_one()
    if has_amcheck:
        indexes = (
            session.execute(
                text(
                    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam "
                    "WHERE n.nspname = current_schema() AND a.amname = 'btree'"
                )
            )
            .scalars()
            .all()
        )
        for name in indexes:
            try:
                with session.begin_nested():
                    session.execute(
                        text("SELECT bt_index_check(CAST(:n AS regclass))"), {"n": name}
                    )
            except Exception as exc:  # amcheck reports corruption as an error
                problems.append(f"amcheck {name}: {str(exc).splitlines()[0]}")
        notes.append(f"amcheck bt_index_check: {len(indexes)} indexes, {len(problems)} failed")
    else:
        notes.append(
            "amcheck not installed: B-tree indexes not checked "
            "(CREATE EXTENSION amcheck enables it)"
        )
    return notes, problems


def check_database(db: Database) -> DatabaseCheck:
    """Inspect the database without writing to it."""
    revision = current_revision(db)
    head = head_revision()
    problems: list[str] = []
    protection = sqlite_protection() if db.dialect == "sqlite" else None
    if db.sqlite_path is not None and not db.sqlite_path.exists():
        return DatabaseCheck(
            db.dialect,
            db.url.render_as_string(hide_password=True),
            None,
            head,
            {},
            protection,
            (),
            (f"no database file at {db.sqlite_path}: run `ketaclinic db upgrade`",),
        )
    with db.snapshot() as session:
        if db.dialect == "sqlite":
            journal = str(session.execute(text("PRAGMA journal_mode")).scalar_one())
            durability = {
                "journal_mode": journal,
                "synchronous": "FULL (set by ketaclinic on the writer connection)",
                "foreign_keys": "ON (set by ketaclinic on the writer connection)",
                "busy_timeout_ms": str(db.settings.sqlite_busy_timeout_ms),
            }
            if journal.lower() != "wal" and revision is not None:
                problems.append(f"journal_mode is {journal}, not wal")
            notes, found = _sqlite_integrity(session)
        else:
            durability = {
                name: str(session.execute(text(f"SHOW {name}")).scalar_one())
                for name in ("fsync", "full_page_writes", "synchronous_commit", "data_checksums")
            }
            for name in ("fsync", "full_page_writes"):
                if durability[name] != "on":
                    problems.append(f"{name} is {durability[name]}, must be on")
            if durability["synchronous_commit"] == "off":
                problems.append("synchronous_commit is off")
            notes, found = _postgres_integrity(session)
        problems += found
        if revision is not None:
            unguarded = missing_guards(session)
            notes.append(
                f"insert-only guards: {len(INSERT_ONLY_TABLES) - len(unguarded)} of "
                f"{len(INSERT_ONLY_TABLES)} tables"
            )
            problems += [f"table {t} has lost its insert-only triggers" for t in unguarded]
    if revision is None:
        problems.append("the database has no schema yet: run `ketaclinic db upgrade`")
    elif revision != head:
        problems.append(f"schema {revision} is behind {head}: run `ketaclinic db upgrade`")
    return DatabaseCheck(
        dialect=db.dialect,
        url=db.url.render_as_string(hide_password=True),
        schema_revision=revision,
        head_revision=head,
        durability=durability,
        sqlite=protection,
        integrity=tuple(notes),
        problems=tuple(problems),
    )
