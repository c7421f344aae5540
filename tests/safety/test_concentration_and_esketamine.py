"""Predicted concentrations above protocol ceilings; esketamine devices, start dose, steps."""

from __future__ import annotations

import pytest
from safety_helpers import codes, finding, patient, run, session

from ketaclinic.safety import Severity


def test_the_usual_dose_stays_below_the_ceilings() -> None:
    assert not {c for c in codes(run("depression-iv")) if c.startswith("concentration")}


def test_a_dose_above_the_soft_ceiling_is_overridable_and_names_the_prediction() -> None:
    report = run("depression-iv", ["iv-infusion 0.9 mg/kg over 40 min"])
    soft = finding(report, "concentration.soft")
    assert soft.severity is Severity.OVERRIDABLE
    assert "ng/mL" in soft.message
    assert "Kamp 2020" in soft.message
    assert "soft ceiling 400 ng/mL" in soft.message


def test_a_dose_above_the_anaesthetic_ceiling_is_a_hard_stop() -> None:
    report = run("acute-pain-iv", ["iv-bolus 2 mg/kg"])
    hard = finding(report, "concentration.hard")
    assert hard.severity is Severity.HARD_STOP
    assert "1200 ng/mL" in hard.message
    assert "Herd 2007" in hard.message
    assert "concentration.soft" not in codes(report)  # only the worst ceiling is reported


def test_the_guidelines_maximum_bolus_passes_the_ceiling() -> None:
    assert not {
        c
        for c in codes(run("acute-pain-iv", ["iv-bolus 0.35 mg/kg"]))
        if c.startswith("concentration")
    }


def test_a_patient_outside_the_models_range_gets_an_extrapolation_note() -> None:
    report = run("depression-iv", ["iv-infusion 0.5 mg/kg over 40 min"], who=patient(weight_kg=150))
    assert "prediction.extrapolation" in codes(report, Severity.INFO)
    assert "prediction.extrapolation" not in codes(run("depression-iv"))


# --- esketamine ----------------------------------------------------------------------------


def test_esketamine_must_be_whole_28_mg_devices() -> None:
    report = run("esketamine-nasal", ["intranasal 42 mg"])
    assert "esketamine.device_steps" in codes(report, Severity.HARD_STOP)
    assert "esketamine.device_steps" not in codes(run("esketamine-nasal", ["intranasal 28 mg"]))


@pytest.mark.parametrize(
    ("age", "dose", "fires"),
    [(64, 56, False), (64, 84, True), (65, 56, True), (65, 28, False), (80, 28, False)],
)
def test_the_first_esketamine_dose_follows_the_label_by_age(
    age: int, dose: int, fires: bool
) -> None:
    report = run("esketamine-nasal", [f"intranasal {dose} mg"], who=patient(age_years=age))
    assert ("esketamine.start_dose" in codes(report, Severity.OVERRIDABLE)) is fires


@pytest.mark.parametrize(
    ("last", "now", "fires"), [(28, 56, False), (56, 84, False), (28, 84, True), (84, 28, True)]
)
def test_esketamine_changes_in_28_mg_steps(last: int, now: int, fires: bool) -> None:
    report = run(
        "esketamine-nasal",
        [f"intranasal {now} mg"],
        who=patient(age_years=70),
        previous=[session("esketamine-nasal", 4, last)],
    )
    assert ("esketamine.step" in codes(report, Severity.OVERRIDABLE)) is fires
    assert "esketamine.start_dose" not in codes(report)


def test_esketamine_rules_do_not_apply_to_racemic_protocols() -> None:
    report = run("depression-iv", who=patient(age_years=70))
    assert not {c for c in codes(report) if c.startswith("esketamine")}
