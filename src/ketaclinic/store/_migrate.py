"""Alembic, run programmatically from inside the installed package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from ketaclinic.store._database import Database

__all__ = ["MIGRATIONS_DIR", "current_revision", "head_revision", "revisions", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config(db: Database | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if db is not None:
        config.attributes["app_role"] = db.settings.pg_app_role
    return config


def head_revision() -> str:
    """The newest migration this package carries."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def revisions() -> list[str]:
    """Every migration, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def current_revision(db: Database) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    if db.sqlite_path is not None and not db.sqlite_path.exists():
        return None
    with db.snapshot() as session:
        conn = session.connection()
        if not inspect(conn).has_table("alembic_version"):
            return None
        return MigrationContext.configure(conn).get_current_revision()


#: The PostgreSQL advisory lock that one upgrade at a time holds (any number, fixed).
_UPGRADE_LOCK = 4_711_012


def upgrade(db: Database, revision: str = "head") -> str:
    """Apply pending migrations up to ``revision`` in one transaction; return the revision.

    On PostgreSQL the transaction first takes an advisory lock, so that the workers of one
    server upgrading at start-up take turns: the second finds the schema at head and does
    nothing, instead of creating the same table or index beside the first and failing on
    the catalog's unique index. (SQLite's single writer serialises them already.)"""
    config = _config(db)
    with db.writer_engine.begin() as connection:
        if db.dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        return MigrationContext.configure(connection).get_current_revision() or ""
