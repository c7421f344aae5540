"""Hepatic impairment, weight freshness and third-line eligibility."""

from __future__ import annotations

import pytest
from safety_helpers import codes, finding, patient, run

from ketaclinic.safety import Severity


def test_child_pugh_c_is_a_hard_stop() -> None:
    report = run("depression-iv", who=patient(child_pugh="C"))
    assert "hepatic.child_pugh_c" in codes(report, Severity.HARD_STOP)


def test_child_pugh_b_warns_with_the_engines_predicted_exposure() -> None:
    # crps-daily-10d is equal-AUC: the standard 24.5 mg/h in Child-Pugh B gives x2.03 the AUC
    # of the standard dose without impairment (Kamp 2020 with clearance / 2.03)
    report = run("crps-daily-10d", who=patient(child_pugh="B"))
    warning = finding(report, "hepatic.child_pugh_b")
    assert warning.severity is Severity.WARNING
    assert "AUC x2.03)" in warning.message
    assert "this order gives x2.03 of it, above the target" in warning.message
    assert "the protocol's adjusted dose is about x0.49 of this order's dose" in warning.message


def test_an_already_adjusted_dose_is_not_told_to_be_cut_again() -> None:
    # the planner's equal-AUC dose for a 70 kg adult in Child-Pugh B: 24.5 / 2.03 = 12.1 mg/h
    report = run("crps-daily-10d", ["iv-infusion 12.1 mg/h for 4 h"], who=patient(child_pugh="B"))
    message = finding(report, "hepatic.child_pugh_b").message
    assert "this order gives x1.00 of it, which matches it" in message
    assert "adjusted dose is about" not in message
    assert "needs x0.49" not in message


@pytest.mark.parametrize("grade", ["none", "A"])
def test_no_hepatic_finding_without_moderate_or_severe_impairment(grade: str) -> None:
    assert not {
        c
        for c in codes(run("depression-iv", who=patient(child_pugh=grade)))
        if c.startswith("hepatic")
    }


@pytest.mark.parametrize(("measured", "fires"), [("2026-11-01", False), ("2026-10-31", True)])
def test_a_weight_older_than_the_protocol_allows_is_overridable(measured: str, fires: bool) -> None:
    # depression-iv accepts a weight up to 30 days old; the check runs on 2026-12-01
    report = run("depression-iv", who=patient(weight_measured_on=measured))
    assert ("weight.stale" in codes(report, Severity.OVERRIDABLE)) is fires


def test_a_stale_weight_is_only_a_warning_for_fixed_doses() -> None:
    report = run("palliative-oral", who=patient(weight_measured_on="2026-01-01"))
    assert "weight.stale" in codes(report, Severity.WARNING)


def test_a_weight_dated_after_the_check_is_a_hard_stop() -> None:
    report = run("depression-iv", who=patient(weight_measured_on="2026-12-02"))
    assert "weight.date_in_future" in codes(report, Severity.HARD_STOP)


@pytest.mark.parametrize(
    ("tried", "fires"),
    [
        (["opioid", "gabapentinoid"], False),
        (["opioid", "nsaid"], False),
        (["opioid"], True),
        (["gabapentinoid", "tricyclic"], True),
        ([], True),
    ],
)
def test_third_line_eligibility_needs_an_opioid_and_an_adjuvant(
    tried: list[str], fires: bool
) -> None:
    for protocol in ("chronic-pain-iv-series", "palliative-oral", "crps-daily-10d"):
        report = run(protocol, who=patient(prior_pain_treatments=tried))
        assert ("eligibility.third_line" in codes(report, Severity.OVERRIDABLE)) is fires, protocol


def test_depression_and_acute_pain_are_not_third_line_gated() -> None:
    for protocol in ("depression-iv", "acute-pain-iv", "esketamine-nasal"):
        report = run(protocol, who=patient(prior_pain_treatments=[]))
        assert "eligibility.third_line" not in codes(report), protocol
