"""Every protocol declares the ages it is for; a patient outside gets a hard stop or an
overridable block as the protocol data says, and the planner picks a model valid for a child."""

from __future__ import annotations

from datetime import date

import pytest
from safety_helpers import codes, finding, patient, run

from ketaclinic.protocols import get_protocol, plan, protocols
from ketaclinic.safety import Severity

START = date(2026, 12, 1)
CHILD = {"age_years": 6, "weight_kg": 20, "height_cm": 115}


@pytest.mark.parametrize("protocol_id", sorted(protocols()))
def test_every_protocol_declares_its_ages_with_a_source(protocol_id: str) -> None:
    ages = get_protocol(protocol_id).ages
    assert ages.min_years == 18
    assert len(ages.source) > 10
    assert len(ages.why) > 10


def test_esketamine_for_a_six_year_old_is_a_hard_stop_citing_the_label() -> None:
    report = run("esketamine-nasal", who=patient(**CHILD))
    stop = finding(report, "eligibility.age")
    assert stop.severity is Severity.HARD_STOP
    assert "age 6 years is outside the ages esketamine-nasal is for (18 years and older)" in (
        stop.message
    )
    assert "not approved in pediatric patients" in stop.message
    assert "cannot be overridden" in stop.message
    overridden = run(
        "esketamine-nasal", who=patient(**CHILD), overrides={"eligibility.age": "family asks"}
    )
    assert not overridden.allowed


def test_iv_depression_in_an_adolescent_is_a_physicians_call() -> None:
    teen = patient(age_years=16, weight_kg=60, height_cm=165)
    block = finding(run("depression-iv", who=teen), "eligibility.age")
    assert block.severity is Severity.OVERRIDABLE
    assert "Dwyer 2021" in block.message
    reason = {"eligibility.age": "adolescent TRD, two antidepressants failed; consent recorded"}
    assert run("depression-iv", who=teen, overrides=reason).allowed


def test_iv_depression_for_a_six_year_old_is_a_hard_stop() -> None:
    report = run("depression-iv", ["iv-infusion 10 mg over 40 min"], who=patient(**CHILD))
    stop = finding(report, "eligibility.age")
    assert stop.severity is Severity.HARD_STOP
    assert "below 13 years" in stop.message


@pytest.mark.parametrize("protocol_id", sorted(protocols()))
def test_adults_of_any_age_are_eligible(protocol_id: str) -> None:
    for age in (18, 45, 90):
        assert "eligibility.age" not in codes(run(protocol_id, who=patient(age_years=age)))


def test_the_planner_predicts_a_child_with_the_paediatric_model_and_says_why() -> None:
    p = plan("acute-pain-iv", patient(**CHILD), START, risk_patients=0)
    assert p.model_choice is not None
    assert p.model_choice.model_id == "herd"
    assert "age 6 years, 20 kg is inside the validated range of herd" in p.model_choice.reason
    assert "the protocol's model kamp" in p.model_choice.reason
    assert p.prediction is not None
    assert p.prediction.model.id == "herd"
    assert "eligibility.age" in p.report.codes(Severity.OVERRIDABLE)
    assert p.to_dict()["model_choice"]["model"] == "herd"


def test_an_adult_keeps_the_protocols_own_model() -> None:
    p = plan("acute-pain-iv", patient(), START, risk_patients=0)
    assert p.model_choice is not None
    assert p.model_choice.model_id == "kamp"
