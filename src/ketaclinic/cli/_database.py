"""``ketaclinic db upgrade``, ``db check``, ``backup FILE``, ``restore FILE``, ``audit verify``.

Exit codes: 0 ok, 2 bad input (a setting, a file name), 3 refused (restore into a database
that holds records, another process writing to SQLite, unsafe PostgreSQL settings),
4 integrity failure (a modified backup, a broken audit chain, a failed check). The database
is the one ``KETACLINIC_DATABASE_URL`` / ``KETACLINIC_DATA_DIR`` name; these commands never
upgrade it on their own, except ``db upgrade``.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer

from ketaclinic.cli._app import EXIT_BLOCKED, EXIT_USER_ERROR
from ketaclinic.errors import IntegrityFailureError, RefusedError, UserInputError

__all__ = ["EXIT_INTEGRITY", "register"]

EXIT_INTEGRITY = 4

_JSON_HELP = "Print one JSON object instead of text."


def _actor() -> Any:
    from ketaclinic.services import Actor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = "unknown"
    return Actor.command_line(f"cli:{user}"[:64])


@contextmanager
def _database() -> Iterator[Any]:
    from ketaclinic.services import open_clinic_database

    db = open_clinic_database(upgrade_schema=False)
    try:
        yield db
    finally:
        db.close()


def _run(as_json: bool, work: Callable[[], tuple[dict[str, Any], list[str], int]]) -> None:
    """Run ``work`` (-> JSON dict, text lines, exit code) and map errors to exit codes."""
    try:
        data, lines, code = work()
    except IntegrityFailureError as exc:
        _fail(as_json, str(exc), EXIT_INTEGRITY)
    except RefusedError as exc:
        _fail(as_json, str(exc), EXIT_BLOCKED)
    except UserInputError as exc:
        _fail(as_json, str(exc), EXIT_USER_ERROR)
    if as_json:
        typer.echo(json.dumps(data))
    else:
        for line in lines:
            typer.echo(line)
    if code:
        raise typer.Exit(code)


def _fail(as_json: bool, message: str, code: int) -> NoReturn:
    if as_json:
        typer.echo(json.dumps({"ok": False, "error": message, "exit_code": code}))
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _upgrade() -> tuple[dict[str, Any], list[str], int]:
    from ketaclinic.services import upgrade_database

    with _database() as db:
        result = upgrade_database(db, _actor())
    if result.applied:
        text = f"upgraded from {result.from_revision or 'empty'} to {result.to_revision}"
        return result.to_dict(), [f"{text} (applied {', '.join(result.applied)})"], 0
    return result.to_dict(), [f"schema already at {result.to_revision}; nothing to do"], 0


def _check() -> tuple[dict[str, Any], list[str], int]:
    from ketaclinic.services import check_database

    with _database() as db:
        report = check_database(db)
    lines = [
        f"database: {report.dialect} {report.url}",
        f"schema: {report.schema_revision or 'none'} (head {report.head_revision})",
        "durability: " + ", ".join(f"{k}={v}" for k, v in report.durability.items()),
    ]
    if report.sqlite is not None:
        lines.append(f"sqlite: {report.sqlite.sqlite_version}")
        lines.append(f"protection: {report.sqlite.description}")
    lines += [f"integrity: {note}" for note in report.integrity]
    lines += [f"PROBLEM: {p}" for p in report.problems]
    lines.append("ok" if report.ok else f"{len(report.problems)} problem(s)")
    return report.to_dict(), lines, 0 if report.ok else EXIT_INTEGRITY


def _backup(path: Path) -> tuple[dict[str, Any], list[str], int]:
    from ketaclinic.services import backup_database

    with _database() as db:
        result = backup_database(db, path, _actor())
    return (
        result.to_dict(),
        [
            f"backup written to {result.path}: {result.total_rows} rows in {len(result.tables)} "
            f"tables, schema {result.schema_revision}, {result.size_bytes} bytes",
            f"sha256 {result.file_sha256}",
        ],
        0,
    )


def _restore(path: Path) -> tuple[dict[str, Any], list[str], int]:
    from ketaclinic.services import restore_database

    with _database() as db:
        result = restore_database(db, path, _actor())
    return (
        result.to_dict(),
        [
            f"restored {result.total_rows} rows in {len(result.tables)} tables from {result.path}; "
            "row counts and SHA-256 digests verified",
            f"schema {result.schema_revision}, now at {result.upgraded_to}",
        ],
        0,
    )


def _verify() -> tuple[dict[str, Any], list[str], int]:
    from ketaclinic.services import verify_audit

    with _database() as db:
        report = verify_audit(db)
    lines = [f"{p['kind']}: {p['message']}" for p in report.problems]
    lines.append(
        f"audit chain ok: {report.events_checked} events, head {report.head_seq} {report.head_hash}"
        if report.ok
        else f"audit chain BROKEN: {len(report.problems)} problem(s) in "
        f"{report.events_checked} events"
    )
    return report.to_dict(), lines, 0 if report.ok else EXIT_INTEGRITY


def register(app: typer.Typer) -> None:
    db_group = typer.Typer(help="Database administration: upgrade and check.", no_args_is_help=True)

    @db_group.command("upgrade", help="Apply pending migrations (one transaction).")
    def db_upgrade(as_json: bool = typer.Option(False, "--json", help=_JSON_HELP)) -> None:
        _run(as_json, _upgrade)

    @db_group.command(
        "check",
        help="Report schema version, durability settings, SQLite version and protection, "
        "integrity and insert-only guards; exit 4 on any problem.",
    )
    def db_check(as_json: bool = typer.Option(False, "--json", help=_JSON_HELP)) -> None:
        _run(as_json, _check)

    app.add_typer(db_group, name="db")

    @app.command("backup", help="Write a verified backup of the whole database to FILE.")
    def backup(
        file: Path = typer.Argument(..., help="New backup file (must not exist)."),
        as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
    ) -> None:
        _run(as_json, lambda: _backup(file))

    @app.command(
        "restore",
        help="Restore FILE into an empty database; a modified file is refused (exit 4).",
    )
    def restore(
        file: Path = typer.Argument(..., help="Backup file written by `ketaclinic backup`."),
        as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
    ) -> None:
        _run(as_json, lambda: _restore(file))

    audit_group = typer.Typer(help="The audit trail.", no_args_is_help=True)

    @audit_group.command(
        "verify",
        help="Recompute the audit hash chain; exit 4 if a row was edited, deleted or reordered.",
    )
    def audit_verify(as_json: bool = typer.Option(False, "--json", help=_JSON_HELP)) -> None:
        _run(as_json, _verify)

    app.add_typer(audit_group, name="audit")
