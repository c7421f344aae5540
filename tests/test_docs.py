"""Every CLI command and option is documented, and the docs name every model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main

from ketaclinic.cli import app
from ketaclinic.pharmacology import MODELS

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> dict[str, Any]:
    """Every command and sub-command of the Typer app (Typer vendors its own click)."""
    group = typer.main.get_command(app)
    out: dict[str, Any] = {}
    for name, cmd in getattr(group, "commands", {}).items():
        out[name] = cmd
        for sub_name, sub in getattr(cmd, "commands", {}).items():
            out[f"{name} {sub_name}"] = sub
    assert out, "the app registers no commands"
    return out


def test_readme_opens_with_the_two_commands() -> None:
    head = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    assert "make run" in head
    assert "make test" in head


def test_every_cli_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in _commands() if f"ketaclinic {name}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_cli_option_has_help_text() -> None:
    undocumented = [
        f"{name} {param.name}"
        for name, cmd in _commands().items()
        for param in cmd.params
        if param.param_type_name == "option" and not (getattr(param, "help", "") or "").strip()
    ]
    assert not undocumented, f"options without help: {undocumented}"


def test_every_cli_command_has_help_text() -> None:
    assert all((cmd.help or "").strip() for cmd in _commands().values())


def test_model_cards_cover_every_model() -> None:
    cards = (ROOT / "docs" / "models.md").read_text()
    missing = [m.id for m in MODELS.values() if f"`{m.id}`" not in cards]
    assert not missing, f"models missing from docs/models.md: {missing}"
