"""Messages say each thing once, in the form typed, without exponent notation."""

from __future__ import annotations

import re

import pytest
from safety_helpers import finding, patient, run

from ketaclinic.safety.rules.contraindications import CONTRAINDICATIONS

EXPONENT = re.compile(r"\d\.?\d*e[+-]\d")


@pytest.mark.parametrize("item", CONTRAINDICATIONS, ids=lambda c: c.diagnosis.value)
def test_a_contraindication_names_the_diagnosis_once(item: object) -> None:
    from ketaclinic.safety.rules.contraindications import Contraindication

    assert isinstance(item, Contraindication)
    report = run("depression-iv", who=patient(diagnoses=[item.diagnosis.value]))
    message = finding(report, f"contraindication.{item.diagnosis.value}").message
    head = message.split(":")[0]
    assert message.count(head + ":") == 1, message


def test_raised_intracranial_pressure_is_not_repeated() -> None:
    report = run("depression-iv", who=patient(diagnoses=["raised_intracranial_pressure"]))
    message = finding(report, "contraindication.raised_intracranial_pressure").message
    assert message.startswith("raised intracranial pressure: should not be used")
    assert "raised intracranial pressure: raised intracranial pressure" not in message


def test_a_large_benzodiazepine_load_is_a_plain_number() -> None:
    who = patient(medications=[{"name": "diazepam", "dose_mg_per_day": 2000}])
    message = finding(run("depression-iv", who=who), "interaction.benzodiazepine_load").message
    assert "2000 mg/day diazepam equivalent" in message
    assert not EXPONENT.search(message)


def test_large_totals_in_limit_messages_are_plain_numbers() -> None:
    report = run("crps-continuous-4d", ["iv-infusion 700 mg/h for 96 h"])
    for f in report.findings:
        assert not EXPONENT.search(f.message), f.message
