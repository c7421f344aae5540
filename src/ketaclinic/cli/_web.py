"""``ketaclinic run`` (the web application) and ``ketaclinic users add|disable|list``.

``run`` applies pending migrations, and on the first start of an empty clinic either makes
the demo accounts (one per role; their passwords are printed once, marked DEMO) or, with
``--no-demo``, asks for the first admin account; then it serves the app with uvicorn. Each
worker process builds the app from the same ``KETACLINIC_*`` settings and keeps nothing of
its own (sessions live in the database), so several workers work on PostgreSQL; SQLite
allows one writing process, hence one worker.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import typer

from ketaclinic.cli._app import EXIT_USER_ERROR
from ketaclinic.cli._database import _JSON_HELP, _actor, _database, _fail, _run
from ketaclinic.errors import UserInputError

__all__ = ["APP_FACTORY", "SERVER_OPTIONS", "register"]

#: What uvicorn imports in each worker (a string: the CLI does not import the web package).
APP_FACTORY = "ketaclinic.web:create_app_from_environment"

#: uvicorn's options in every worker (the load bench serves with the same). An idle
#: connection stays open 75 s, longer than the connection pools of common HTTP clients
#: keep one (httpx 5 s, aiohttp 15 s): with uvicorn's default of 5 s, a client could send a
#: request on a connection at the instant the server closed it, and that request failed
#: ("Can not write request body"; seen once in the load bench, reproduced on purpose).
SERVER_OPTIONS: dict[str, Any] = {
    "proxy_headers": False,
    "server_header": False,
    "timeout_keep_alive": 75,
}


def _first_start(db: Any, demo: bool, demo_patients: int) -> list[str]:
    """On a clinic where nobody can sign in yet: the demo clinic and its DEMO accounts, or
    (``--no-demo``) the first admin account, asked for on the console."""
    from ketaclinic.services import (
        add_staff_user,
        count_staff_users,
        create_demo_accounts,
        generate_demo_data,
    )

    if count_staff_users(db, with_password=True):
        return []
    lines = []
    if demo:
        if not count_staff_users(db):
            typer.echo(f"first start: generating a demo clinic of {demo_patients} patients ...")
            result = generate_demo_data(db, _actor(), patients=demo_patients, seed=1)
            lines.append(
                f"demo clinic: {result.patients} patients, {result.sessions} sessions "
                f"({result.seconds:.1f} s)"
            )
        made = create_demo_accounts(db, _actor())
        lines.append("DEMO accounts of this demo clinic (printed once; for trying it out only):")
        lines += [
            f"DEMO  {username:<16} role {role:<10} password {password}"
            for username, (role, password) in made.items()
        ]
        return lines
    typer.echo("No accounts yet: create the first admin account.")
    username = typer.prompt("admin username")
    password = typer.prompt(
        "password (12 or more characters)", hide_input=True, confirmation_prompt=True
    )
    add_staff_user(db, _actor(), username=username, role="admin", password=password)
    return [f"admin account {username} created"]


def _serve(host: str, port: int, workers: int, demo: bool, demo_patients: int) -> None:
    import uvicorn

    from ketaclinic.config import load_settings
    from ketaclinic.services import open_clinic_database

    settings = load_settings()
    if workers > 1 and settings.is_sqlite:
        raise UserInputError(
            f"--workers {workers} needs PostgreSQL (KETACLINIC_DATABASE_URL): SQLite allows "
            "one writing process; run one worker on SQLite"
        )
    db = open_clinic_database(settings, upgrade_schema=True)
    try:
        lines = _first_start(db, demo, demo_patients)
    finally:
        db.close()
    for line in lines:
        typer.echo(line)
    _warm_up()
    typer.echo(f"ketaclinic on http://{host}:{port} ({workers} worker(s)); Ctrl-C stops it")
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        **SERVER_OPTIONS,
    )


def _warm_up() -> None:
    """Compile (first start) or load (later starts) the pharmacology kernels before serving,
    saying so: compiling into an empty cache takes a minute or more, during which the
    address does not answer yet. In one worker the app's own warm-up then finds them ready;
    several workers load them from the on-disk cache this fills."""
    from ketaclinic.pharmacology import warm_up

    typer.echo(
        "preparing the pharmacology engine: the first start compiles its kernels (1-3 min), "
        "later starts load them from the cache ..."
    )
    started = time.monotonic()
    warm_up()
    typer.echo(f"pharmacology engine ready ({time.monotonic() - started:.1f} s)")


def _read_password() -> str:
    line = sys.stdin.readline()
    if not line:
        raise UserInputError("--password-stdin: no password on standard input (one line)")
    return line.rstrip("\r\n")


def register(app: typer.Typer) -> None:
    @app.command(
        "run",
        help="Start the web application (migrations applied; on first start a demo clinic "
        "with one DEMO account per role, or with --no-demo the first admin account).",
    )
    def run(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port (1-65535)."),
        workers: int = typer.Option(
            1,
            "--workers",
            min=1,
            max=64,
            help="Worker processes (1-64; more than 1 needs PostgreSQL).",
        ),
        no_demo: bool = typer.Option(
            False, "--no-demo", help="Start an empty clinic; ask for the first admin account."
        ),
        demo_patients: int = typer.Option(
            200,
            "--demo-patients",
            min=1,
            max=100_000,
            help="Patients of the demo clinic made on the first start (1-100000).",
        ),
    ) -> None:
        try:
            _serve(host, port, workers, demo=not no_demo, demo_patients=demo_patients)
        except UserInputError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_USER_ERROR) from None

    users = typer.Typer(help="Staff accounts: add, disable, list.", no_args_is_help=True)

    @users.command("add", help="Add a staff account; the password is read from stdin.")
    def users_add(
        username: str = typer.Option(..., "--username", help="Login name (a-z, 0-9, . _ -)."),
        role: str = typer.Option(..., "--role", help="physician, nurse, admin or researcher."),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password from the first line of stdin."
        ),
        display_name: str = typer.Option(None, "--display-name", help="Full name shown."),
        as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
    ) -> None:
        if not password_stdin:
            _fail(
                as_json, "give --password-stdin and the password on standard input", EXIT_USER_ERROR
            )

        def work() -> tuple[dict[str, Any], list[str], int]:
            from ketaclinic.services import add_staff_user

            password = _read_password()
            with _database() as db:
                account = add_staff_user(
                    db,
                    _actor(),
                    username=username,
                    role=role,
                    password=password,
                    display_name=display_name,
                )
            return account.to_dict(), [f"added {account.username} ({account.role})"], 0

        _run(as_json, work)

    @users.command("disable", help="Disable an account and end its sessions at once.")
    def users_disable(
        username: str = typer.Argument(..., help="The account's username."),
        as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
    ) -> None:
        def work() -> tuple[dict[str, Any], list[str], int]:
            from ketaclinic.services import disable_staff_user

            with _database() as db:
                account = disable_staff_user(db, _actor(), username)
            return account.to_dict(), [f"disabled {account.username}"], 0

        _run(as_json, work)

    @users.command("list", help="Every staff account with its role and status.")
    def users_list(as_json: bool = typer.Option(False, "--json", help=_JSON_HELP)) -> None:
        def work() -> tuple[dict[str, Any], list[str], int]:
            from ketaclinic.services import list_staff_users

            with _database() as db:
                accounts = list_staff_users(db, _actor())
            lines = [
                f"{a.username:<24} {a.role:<10} {'active' if a.active else 'disabled'}"
                for a in accounts
            ]
            return {"users": [a.to_dict() for a in accounts]}, lines, 0

        _run(as_json, work)

    app.add_typer(users, name="users")
