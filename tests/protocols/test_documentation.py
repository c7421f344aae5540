"""docs/protocols.md documents every protocol, rule family and finding code prefix."""

from __future__ import annotations

from pathlib import Path

from ketaclinic.protocols import protocols
from ketaclinic.safety import LIMIT_NAMES
from ketaclinic.safety.rules import RULES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocols.md").read_text()


def test_every_protocol_is_documented() -> None:
    missing = [pid for pid in protocols() if f"`{pid}`" not in DOC]
    assert not missing


def test_every_rule_family_is_documented() -> None:
    families = {rule.__module__.rsplit(".", 1)[1] for rule in RULES}
    assert not [f for f in families if f"| {f} |" not in DOC]


def test_every_drug_library_limit_is_documented() -> None:
    assert not [name for name in LIMIT_NAMES if f"`{name}`" not in DOC]


def test_the_exit_codes_and_commands_are_documented() -> None:
    for text in (
        "**0**",
        "**3**",
        "**2**",
        "ketaclinic plan",
        "ketaclinic check",
        "ketaclinic schema patient",
        "ketaclinic protocols show",
    ):
        assert text in DOC
