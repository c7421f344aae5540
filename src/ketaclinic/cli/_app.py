"""The Typer application object and the error boundary shared by all commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from ketaclinic import __version__
from ketaclinic.errors import KetaclinicError

__all__ = ["EXIT_BLOCKED", "EXIT_USER_ERROR", "app", "emit", "fail", "run_app"]

EXIT_USER_ERROR = 2
EXIT_BLOCKED = 3

app = typer.Typer(
    name="ketaclinic",
    help="ketaclinic: safe ketamine therapy. Pharmacology engine, protocols and dose safety.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ketaclinic {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """ketaclinic: safe ketamine therapy (estimates for clinicians, not medical advice)."""


def emit(
    as_json: bool,
    to_dict: Callable[[], dict[str, Any]],
    render: Callable[[], None],
    plot_path: Path | None,
) -> None:
    """Print a result as one JSON object (with ``plot`` when one was written) or render it."""
    if as_json:
        data = to_dict()
        if plot_path:
            data["plot"] = str(plot_path)
        typer.echo(json.dumps(data))
        return
    render()
    if plot_path:
        typer.echo(f"plot written to {plot_path}")


def fail(message: str) -> typer.Exit:
    """Print a one-line user error to stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_USER_ERROR)


def run_app(application: typer.Typer, args: list[str] | None = None) -> int:
    """Run the app with the error boundary and return the exit code.

    Usage errors are Typer's (exit 2 with the usage line); ketaclinic's own errors print one
    line and exit 2; nothing ever shows a traceback for bad input.
    """
    try:
        application(args=args, prog_name="ketaclinic")
    except SystemExit as exc:  # standalone mode ends every run with sys.exit
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        typer.echo(str(code), err=True)
        return 1
    except KetaclinicError as exc:
        typer.echo(f"error: {exc}", err=True)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    return 0
