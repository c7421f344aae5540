"""The ``ketaclinic`` command line: parse, call the domain packages, render.

Each command family lives in its own module and registers itself on ``app``. User errors
(:class:`ketaclinic.errors.UserInputError` and friends) end with exit code 2 and a one-line
message on stderr, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from ketaclinic.cli import _database, _outcomes, _pharmacology, _protocols, _virtual_population
from ketaclinic.cli._app import app, run_app

__all__ = ["app", "main"]

_pharmacology.register(app)
_virtual_population.register(app)
_protocols.register(app)
_outcomes.register(app)
_database.register(app)


def main() -> None:
    """Entry point of the ``ketaclinic`` console script."""
    sys.exit(run_app(app))


if __name__ == "__main__":  # pragma: no cover
    main()

del typer
