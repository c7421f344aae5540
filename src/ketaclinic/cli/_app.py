"""The Typer application object and the error boundary shared by all commands."""

from __future__ import annotations

import sys

import click
import typer

from ketaclinic import __version__
from ketaclinic.errors import KetaclinicError, UserInputError

__all__ = ["EXIT_BLOCKED", "EXIT_USER_ERROR", "app", "fail", "run_app"]

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


def fail(message: str) -> typer.Exit:
    """Print a one-line user error to stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_USER_ERROR)


def run_app(application: typer.Typer) -> int:
    """Run the app with the error boundary: user errors exit 2 with one line, no traceback."""
    try:
        application(standalone_mode=False)
    except click.exceptions.Abort:
        typer.echo("aborted", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except (KetaclinicError, UserInputError) as exc:
        typer.echo(f"error: {exc}", err=True)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    return 0


del sys
