"""The ``ketaclinic`` command line: parse, call the domain packages, render.

Each command family lives in its own module and registers itself on the Typer app. Modules
are imported lazily: ``ketaclinic simulate`` imports the pharmacology commands only (no
protocols, safety, pydantic or YAML), and accessing ``ketaclinic.cli.app`` registers every
command. User errors (:class:`ketaclinic.errors.UserInputError` and friends) end with exit
code 2 and a one-line message on stderr, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

__all__ = ["COMMAND_MODULES", "app", "main"]

# command -> the module that registers it (in the order ``--help`` lists them)
COMMAND_MODULES = {
    "simulate": "ketaclinic.cli._pharmacology",
    "models": "ketaclinic.cli._pharmacology",
    "demo": "ketaclinic.cli._pharmacology",
    "population": "ketaclinic.cli._virtual_population",
    "validate": "ketaclinic.cli._validation",
    "protocols": "ketaclinic.cli._protocols",
    "plan": "ketaclinic.cli._protocols",
    "check": "ketaclinic.cli._protocols",
    "schema": "ketaclinic.cli._protocols",
    "score": "ketaclinic.cli._outcomes",
    "mme": "ketaclinic.cli._outcomes",
    "trial": "ketaclinic.cli._outcomes",
    "db": "ketaclinic.cli._database",
    "backup": "ketaclinic.cli._database",
    "restore": "ketaclinic.cli._database",
    "audit": "ketaclinic.cli._database",
    "demo-data": "ketaclinic.cli._demo_data",
    "run": "ketaclinic.cli._web",
    "users": "ketaclinic.cli._web",
    "prices": "ketaclinic.cli._prices",
}
_REGISTERED: set[str] = set()


def _register(modules: list[str]) -> Any:
    """The Typer app with the commands of ``modules`` registered (each module once)."""
    from ketaclinic.cli._app import app

    for name in modules:
        if name not in _REGISTERED:
            importlib.import_module(name).register(app)
            _REGISTERED.add(name)
    return app


def _every_module() -> list[str]:
    return list(dict.fromkeys(COMMAND_MODULES.values()))


def __getattr__(name: str) -> Any:
    if name == "app":
        return _register(_every_module())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``ketaclinic`` console script.

    Only the module of the command asked for is imported; ``--help``, ``--version``, no
    command or an unknown one load them all (so help lists every command).
    """
    from ketaclinic.cli._app import run_app

    args = sys.argv[1:] if argv is None else argv
    command = next((a for a in args if not a.startswith("-")), None)
    wanted = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else _every_module()
    sys.exit(run_app(_register(wanted), args))


if __name__ == "__main__":  # pragma: no cover
    main()
