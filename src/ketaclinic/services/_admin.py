"""Database administration: open at start-up, upgrade, check, back up and restore.

Backup file (text, one JSON value a line)::

    {"format": "ketaclinic-backup", "format_version": 1, "schema_revision": ..., ...}
    {"table": "staff_users", "columns": ["id", "username", ...]}
    [1, "dr.a", ...]                      one line per row, canonical JSON, id order
    ...                                   every table, parents before children
    {"manifest": {"staff_users": {"rows": 3, "sha256": "..."}, ...}}
    {"file_sha256": "..."}                SHA-256 of every byte above this line

A restore checks the file hash first (one changed byte anywhere is refused), then the rows of
each table against the manifest while reading, inserts everything into an empty database in one
transaction, recomputes the row counts and digests from the database, and commits only when
they all match.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import update

from ketaclinic import __version__
from ketaclinic.config import Settings, load_settings
from ketaclinic.errors import IntegrityFailureError, NotAllowedError, RefusedError, UserInputError
from ketaclinic.services._audit import Actor, Clock, audited_read, audited_transaction, utc_now
from ketaclinic.services._inputs import authorize_admin
from ketaclinic.services._permissions import OPERATOR_ROLE, Permission, require_permission
from ketaclinic.store import (
    GENESIS_HASH,
    TABLES,
    AuditChainHead,
    Database,
    DatabaseCheck,
    canonical_json,
    current_revision,
    decode_row,
    insert_rows,
    iter_rows,
    open_database,
    reset_sequences,
    revisions,
    row_counts,
    table_digest,
    upgrade,
)
from ketaclinic.store import check_database as _check_database

__all__ = [
    "BACKUP_FORMAT",
    "BackupResult",
    "RestoreResult",
    "UpgradeResult",
    "backup_database",
    "check_database",
    "open_clinic_database",
    "restore_database",
    "upgrade_database",
]

BACKUP_FORMAT = "ketaclinic-backup"
BACKUP_FORMAT_VERSION = 1
_HEAD_TABLE = "audit_chain_head"


def open_clinic_database(
    settings: Settings | None = None,
    *,
    upgrade_schema: bool | None = None,
    actor: Actor | None = None,
    clock: Clock = utc_now,
) -> Database:
    """Start-up: read the settings, open and check the database, apply pending migrations
    (when ``upgrade_schema``, default ``KETACLINIC_UPGRADE_ON_START``)."""
    settings = settings or load_settings()
    db = open_database(settings)
    if settings.upgrade_on_start if upgrade_schema is None else upgrade_schema:
        try:
            upgrade_database(db, actor or Actor.command_line("ketaclinic"), clock)
        except BaseException:
            db.close()
            raise
    return db


@dataclass(frozen=True)
class UpgradeResult:
    from_revision: str | None
    to_revision: str
    applied: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "from_revision": self.from_revision,
            "to_revision": self.to_revision,
            "applied": list(self.applied),
        }


def upgrade_database(db: Database, actor: Actor, clock: Clock = utc_now) -> UpgradeResult:
    """Apply pending migrations (one transaction) and audit that they were applied."""
    before = current_revision(db)
    after = upgrade(db)
    order = revisions()
    start = order.index(before) + 1 if before in order else 0
    applied = tuple(order[start : order.index(after) + 1]) if before != after else ()
    if applied:
        with audited_transaction(db, actor, clock) as uc:
            uc.audit("database.upgrade", details={"from": before, "to": after})
    return UpgradeResult(before, after, applied)


def check_database(db: Database) -> DatabaseCheck:
    """Schema version, durability, SQLite protection, integrity and guards (read-only)."""
    return _check_database(db)


@dataclass(frozen=True)
class BackupResult:
    path: Path
    schema_revision: str
    tables: dict[str, dict[str, Any]]
    total_rows: int
    file_sha256: str
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "schema_revision": self.schema_revision,
            "total_rows": self.total_rows,
            "file_sha256": self.file_sha256,
            "size_bytes": self.size_bytes,
            "tables": self.tables,
        }


class _HashingWriter:
    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.sha = hashlib.sha256()
        self.size = 0

    def line(self, value: Any) -> bytes:
        data = canonical_json(value).encode() + b"\n"
        self.handle.write(data)
        self.sha.update(data)
        self.size += len(data)
        return data


def backup_database(db: Database, path: Path, actor: Actor, clock: Clock = utc_now) -> BackupResult:
    """Write a verified logical backup of every table to ``path`` (which must not exist).

    The backup itself is audited first, so the file contains the event that made it.
    """
    path = Path(path)
    if path.exists():
        raise UserInputError(f"{path} already exists; give a new file name for the backup")
    if not path.parent.is_dir():
        raise UserInputError(f"directory {path.parent} does not exist")
    revision = current_revision(db)
    if revision is None:
        raise RefusedError("the database has no schema yet: nothing to back up")
    with audited_read(db, actor, clock) as uc:  # before any file is made
        authorize_admin(uc, Permission.DATABASE_ADMIN, "backing up the database")
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    manifest: dict[str, dict[str, Any]] = {}
    try:
        handle_cm = partial.open("xb")
    except OSError as exc:
        raise UserInputError(f"cannot write the backup to {path}: {exc.strerror}") from None
    try:
        with audited_transaction(db, actor, clock) as uc:
            uc.audit("database.backup", details={"file": path.name})
            created = uc.now
        with handle_cm as handle, db.snapshot() as session:
            out = _HashingWriter(handle)
            out.line(
                {
                    "format": BACKUP_FORMAT,
                    "format_version": BACKUP_FORMAT_VERSION,
                    "schema_revision": revision,
                    "source_dialect": db.dialect,
                    "created_at": created.isoformat(),
                    "ketaclinic_version": __version__,
                }
            )
            for table in TABLES:
                out.line({"table": table.name, "columns": [c.key for c in table.columns]})
                sha, rows = hashlib.sha256(), 0
                for row in iter_rows(session, table):
                    sha.update(out.line(row))
                    rows += 1
                manifest[table.name] = {"rows": rows, "sha256": sha.hexdigest()}
            out.line({"manifest": manifest})
            digest = out.sha.hexdigest()
            handle.write(canonical_json({"file_sha256": digest}).encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(
        path,
        revision,
        manifest,
        sum(m["rows"] for m in manifest.values()),
        digest,
        path.stat().st_size,
    )


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    schema_revision: str
    tables: dict[str, dict[str, Any]]
    total_rows: int
    file_sha256: str
    upgraded_to: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "schema_revision": self.schema_revision,
            "upgraded_to": self.upgraded_to,
            "total_rows": self.total_rows,
            "file_sha256": self.file_sha256,
            "tables": self.tables,
        }


def _verified_lines(path: Path) -> tuple[list[bytes], str]:
    """The file's lines without the last, after checking the last line's SHA-256."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserInputError(f"backup file {path} does not exist") from None
    except OSError as exc:
        raise UserInputError(f"cannot read backup file {path}: {exc.strerror}") from None
    body, _, last = data.rstrip(b"\n").rpartition(b"\n")
    try:
        trailer = json.loads(last)
        expected = trailer["file_sha256"]
    except (ValueError, KeyError, TypeError):
        raise IntegrityFailureError(
            f"{path} is not a complete ketaclinic backup (no file hash on its last line)"
        ) from None
    body += b"\n"
    actual = hashlib.sha256(body).hexdigest()
    if actual != expected or not data.endswith(b"\n"):
        raise IntegrityFailureError(
            f"{path} was modified after it was written: its SHA-256 is {actual}, the backup "
            f"says {expected}; refusing to restore it"
        )
    return body.splitlines(), actual


def _sections(
    lines: list[bytes], path: Path
) -> tuple[dict[str, Any], dict[str, Any], dict[str, tuple[list[str], list[bytes]]]]:
    def bad(why: str) -> IntegrityFailureError:
        return IntegrityFailureError(f"{path} is not a valid ketaclinic backup: {why}")

    try:
        header = json.loads(lines[0])
        manifest = json.loads(lines[-1])["manifest"]
    except (ValueError, KeyError, TypeError, IndexError):
        raise bad("header or manifest unreadable") from None
    if header.get("format") != BACKUP_FORMAT or header.get("format_version") != 1:
        raise bad(f"format {header.get('format')!r} version {header.get('format_version')!r}")
    sections: dict[str, tuple[list[str], list[bytes]]] = {}
    current: list[bytes] | None = None
    for raw in lines[1:-1]:
        if raw.startswith(b"{"):
            marker = json.loads(raw)
            current = []
            sections[marker["table"]] = (marker["columns"], current)
        elif current is None:
            raise bad("a row before the first table")
        else:
            current.append(raw)
    return header, manifest, sections


def _digest_lines(rows: list[bytes]) -> str:
    sha = hashlib.sha256()
    for raw in rows:
        sha.update(raw + b"\n")
    return sha.hexdigest()


def _decoded(table_name: str, rows: list[bytes]) -> Iterator[dict[str, Any]]:
    table = next(t for t in TABLES if t.name == table_name)
    for raw in rows:
        yield decode_row(table, json.loads(raw))


def restore_database(
    db: Database, path: Path, actor: Actor, clock: Clock = utc_now
) -> RestoreResult:
    """Restore a backup into an empty database; refuse a modified file or a full database.

    The command line's operator only (``Actor.is_operator``, with ``OPERATOR_ROLE``'s
    ``database.admin``): an empty database has no staff account that could act on it."""
    if not actor.is_operator:
        raise NotAllowedError(
            f"restoring a database is the command line's (ketaclinic restore); {actor.username!r} "
            "is a staff account, and an empty database has none"
        )
    require_permission(OPERATOR_ROLE, Permission.DATABASE_ADMIN)
    path = Path(path)
    lines, file_sha = _verified_lines(path)
    header, manifest, sections = _sections(lines, path)
    revision = str(header["schema_revision"])
    if revision not in revisions():
        raise RefusedError(
            f"the backup is at schema {revision}, which this ketaclinic "
            f"({__version__}) does not know; restore it with a newer version"
        )
    expected_tables = {t.name: [c.key for c in t.columns] for t in TABLES}
    for name, (columns, lines_of_table) in sections.items():
        if expected_tables.get(name) != columns:
            raise IntegrityFailureError(
                f"{path}: table {name} has columns {columns}, expected {expected_tables.get(name)}"
            )
        listed = manifest.get(name, {})
        digest = _digest_lines(lines_of_table)
        if listed.get("rows") != len(lines_of_table) or listed.get("sha256") != digest:
            raise IntegrityFailureError(f"{path}: the rows of {name} do not match the manifest")
    if set(sections) != set(expected_tables):
        odd = sorted(set(expected_tables) ^ set(sections))
        raise IntegrityFailureError(f"{path}: tables {odd} are missing or unexpected")
    present = current_revision(db)
    if present is None:
        upgrade(db, revision)
    elif present != revision:
        raise RefusedError(
            f"the database is at schema {present} and the backup at {revision}: restore into "
            "a new, empty database (it is created at the backup's schema, then upgraded)"
        )
    with audited_transaction(db, actor, clock) as uc:
        counts = row_counts(uc.session)
        head = uc.session.get(AuditChainHead, 1)
        full = {name: n for name, n in counts.items() if n and name != _HEAD_TABLE}
        if full or head is None or head.last_seq != 0 or head.last_hash != GENESIS_HASH:
            raise RefusedError(
                "restore needs an empty database; this one holds records "
                f"({', '.join(f'{k}: {v}' for k, v in sorted(full.items())) or 'audit events'})"
            )
        for table in TABLES:
            rows = _decoded(table.name, sections[table.name][1])
            if table.name == _HEAD_TABLE:
                for row in rows:
                    uc.session.execute(
                        update(table)
                        .where(table.c.id == row["id"])
                        .values(last_seq=row["last_seq"], last_hash=row["last_hash"])
                    )
            else:
                insert_rows(uc.session, table, rows)
        reset_sequences(uc.session)
        uc.session.flush()
        for table in TABLES:
            found = table_digest(uc.session, table)
            if found.to_dict() != manifest[table.name]:
                raise IntegrityFailureError(
                    f"after restoring, {table.name} has {found.rows} rows with digest "
                    f"{found.sha256[:12]}..., the backup has {manifest[table.name]['rows']} with "
                    f"{str(manifest[table.name]['sha256'])[:12]}...; nothing was restored"
                )
        uc.audit(
            "database.restore",
            details={"file": path.name, "file_sha256": file_sha, "schema": revision},
        )
    upgraded = upgrade(db)
    return RestoreResult(
        path, revision, manifest, sum(m["rows"] for m in manifest.values()), file_sha, upgraded
    )
