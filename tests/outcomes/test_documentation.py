"""docs/outcomes.md documents every instrument, MME table, protocol trial and command, and its
examples run."""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import pytest

from ketaclinic.cli import app
from ketaclinic.cli._app import run_app
from ketaclinic.outcomes import instruments, mme_tables
from ketaclinic.protocols import protocols

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "outcomes.md"
DOC = DOC_PATH.read_text()
SHELL = [
    line.split("  #")[0].strip()
    for block in re.findall(r"```sh\n(.*?)```", DOC, re.S)
    for line in block.splitlines()
    if line.startswith("ketaclinic ")
]


def test_every_instrument_table_and_protocol_is_documented() -> None:
    names = [*instruments(), *mme_tables(), *protocols()]
    assert not [n for n in names if f"`{n}`" not in DOC]


def test_the_commands_and_exit_codes_are_documented() -> None:
    for text in (
        "ketaclinic score",
        "ketaclinic mme",
        "ketaclinic trial evaluate",
        "**0**",
        "**2**",
    ):
        assert text in DOC


def test_the_python_examples_run() -> None:
    failed, attempted = doctest.testfile(str(DOC_PATH), module_relative=False)
    assert attempted > 0
    assert failed == 0


@pytest.mark.parametrize("command", SHELL)
def test_the_shell_examples_run(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_app(app, shlex.split(command)[1:]) == 0
    assert capsys.readouterr().out
