"""Interactions: benzodiazepine load, MAOIs, stimulants, CYP inhibitors/inducers and others."""

from __future__ import annotations

from typing import Any

import pytest
from safety_helpers import codes, finding, patient, run

from ketaclinic.safety import Medication, Severity
from ketaclinic.safety.rules.interactions import DIAZEPAM_MG_PER_MG, diazepam_equivalent_mg


def meds(*items: dict[str, Any]) -> Any:
    return patient(medications=list(items))


def test_the_equivalence_table_follows_the_ashton_manual() -> None:
    # Ashton: diazepam 10 mg ~ alprazolam 0.5, clonazepam 0.5, lorazepam 1, temazepam 20
    assert DIAZEPAM_MG_PER_MG["lorazepam"] == 10
    assert DIAZEPAM_MG_PER_MG["alprazolam"] == 20
    assert DIAZEPAM_MG_PER_MG["clonazepam"] == 20
    assert DIAZEPAM_MG_PER_MG["temazepam"] == 0.5
    total, unknown = diazepam_equivalent_mg(
        (
            Medication(name="Lorazepam", dose_mg_per_day=0.5),
            Medication(name="diazepam", dose_mg_per_day=2),
        )
    )
    assert (total, unknown) == (7.0, [])


@pytest.mark.parametrize(
    ("medication", "fires"),
    [
        ({"name": "diazepam", "dose_mg_per_day": 8}, False),
        ({"name": "diazepam", "dose_mg_per_day": 8.5}, True),
        ({"name": "lorazepam", "dose_mg_per_day": 1}, True),
        ({"name": "clonazepam", "dose_mg_per_day": 0.25}, False),
        ({"name": "sertraline", "dose_mg_per_day": 100}, False),
    ],
)
def test_benzodiazepine_load_above_8_mg_diazepam_equivalent(
    medication: dict[str, Any], fires: bool
) -> None:
    report = run("depression-iv", who=meds(medication))
    assert ("interaction.benzodiazepine_load" in codes(report, Severity.WARNING)) is fires


def test_the_benzodiazepine_message_names_the_load_and_the_source() -> None:
    report = run("depression-iv", who=meds({"name": "lorazepam", "dose_mg_per_day": 2}))
    message = finding(report, "interaction.benzodiazepine_load").message
    assert "20 mg/day diazepam equivalent" in message
    assert "Andrashko 2020" in message
    assert "Ashton" in message


def test_a_benzodiazepine_without_a_dose_is_flagged() -> None:
    report = run("depression-iv", who=meds({"name": "alprazolam"}))
    assert "interaction.benzodiazepine_dose_unknown" in codes(report, Severity.WARNING)


@pytest.mark.parametrize(
    ("name", "code"), [("phenelzine", "maoi"), ("methylphenidate", "stimulant")]
)
def test_maois_and_stimulants_are_warnings(name: str, code: str) -> None:
    report = run("esketamine-nasal", who=meds({"name": name}))
    assert f"interaction.{code}" in codes(report, Severity.WARNING)
    assert f"interaction.{code}" not in codes(run("esketamine-nasal"))


@pytest.mark.parametrize(
    ("name", "code", "change"),
    [
        ("clarithromycin", "clarithromycin", "x2.6"),
        ("grapefruit juice", "grapefruit", "x3"),
        ("ticlopidine", "ticlopidine", "x2.4"),
    ],
)
def test_cyp_inhibitors_are_overridable_with_oral_ketamine(
    name: str, code: str, change: str
) -> None:
    report = run("palliative-oral", who=meds({"name": name}))
    code = f"interaction.{code}"
    assert code in codes(report, Severity.OVERRIDABLE)
    assert change in finding(report, code).message


def test_cyp_inhibitors_are_warnings_with_parenteral_ketamine() -> None:
    report = run("depression-iv", who=meds({"name": "clarithromycin"}))
    assert "interaction.clarithromycin" in codes(report, Severity.WARNING)


def test_rifampicin_lowers_oral_exposure_86_percent_and_iv_14_percent() -> None:
    oral = finding(
        run("palliative-oral", who=meds({"name": "rifampicin"})), "interaction.rifampicin"
    )
    assert oral.severity is Severity.WARNING
    assert "-86 %" in oral.message
    iv = finding(run("depression-iv", who=meds({"name": "rifampin"})), "interaction.rifampicin")
    assert iv.severity is Severity.INFO
    assert "-14 %" in iv.message


@pytest.mark.parametrize(
    ("name", "code", "severity"),
    [
        ("theophylline", "interaction.theophylline", Severity.WARNING),
        ("aminophylline", "interaction.theophylline", Severity.WARNING),
        ("levothyroxine", "interaction.thyroid_hormone", Severity.WARNING),
        ("lamotrigine", "interaction.lamotrigine", Severity.INFO),
    ],
)
def test_other_interactions(name: str, code: str, severity: Severity) -> None:
    report = run("depression-iv", who=meds({"name": name}))
    assert code in codes(report, severity)
    assert report.allowed


def test_no_interaction_without_interacting_drugs() -> None:
    report = run("depression-iv", who=meds({"name": "sertraline", "dose_mg_per_day": 100}))
    assert not {c for c in codes(report) if c.startswith("interaction.")}
