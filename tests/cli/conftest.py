"""Run the CLI in-process through its real error boundary (``run_app``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ketaclinic.cli import app
from ketaclinic.cli._app import run_app


@dataclass(frozen=True)
class Run:
    """Exit code and captured output of one CLI run."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Cli = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str) -> Run:
        code = run_app(app, list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
