"""The Typer application object and the error boundary shared by all commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from ketaclinic import __version__
from ketaclinic.errors import KetaclinicError

__all__ = ["EXIT_BLOCKED", "EXIT_USER_ERROR", "app", "emit", "fail", "make_console", "run_app"]

PIPED_WIDTH = 1000  # columns of output that is not a terminal: no table or line wraps

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


def make_console() -> Any:
    """A Rich console: the terminal's width, or when the output is piped or redirected a
    wide one that does not wrap (Rich would otherwise assume 80 columns and fold every
    long cell over several lines)."""
    import sys

    from rich.console import Console

    if sys.stdout.isatty():
        return Console()
    return Console(width=PIPED_WIDTH, soft_wrap=True)


def fail(message: str) -> typer.Exit:
    """Print a one-line user error to stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_USER_ERROR)


def _usage_line(error: Any) -> str:
    """A Click usage error as one line, with what the option accepts (its help text)."""
    message = " ".join(error.format_message().split()).rstrip(".")
    param = getattr(error, "param", None)
    helptext = " ".join((getattr(param, "help", None) or "").split())
    if helptext and "accepted" not in message:
        message += f"; accepted: {helptext.rstrip('.')}"
    return message


def run_app(application: typer.Typer, args: list[str] | None = None) -> int:
    """Run the app with the error boundary and return the exit code.

    Usage errors (a missing option, a value Typer cannot convert) print one line naming the
    option and what it accepts, exit 2; ketaclinic's own errors print one line and exit 2;
    nothing ever shows a traceback for bad input.
    """
    from typer._click import exceptions  # Typer >= 0.24 carries its own copy of Click

    try:
        code = application(args=args, prog_name="ketaclinic", standalone_mode=False)
    except exceptions.NoArgsIsHelpError as exc:  # a bare command group: its help, as before
        from typer import rich_utils

        rich_utils.rich_format_error(exc)
        return int(exc.exit_code)
    except exceptions.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else "ketaclinic"
        typer.echo(f"error: {_usage_line(exc)} (see '{command} --help')", err=True)
        return EXIT_USER_ERROR
    except exceptions.ClickException as exc:
        typer.echo(f"error: {_usage_line(exc)}", err=True)
        return EXIT_USER_ERROR
    except typer.Abort:
        return 130
    except SystemExit as exc:
        exit_code = exc.code
        if exit_code is None:
            return 0
        if isinstance(exit_code, int):
            return exit_code
        typer.echo(str(exit_code), err=True)
        return 1
    except KetaclinicError as exc:
        typer.echo(f"error: {exc}", err=True)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    return code if isinstance(code, int) else 0
