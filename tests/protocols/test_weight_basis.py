"""Each weight-based protocol states its weight basis with a source; the planner uses it and
shows it, and a finding prompts above the stated BMI (or says that no height was recorded)."""

from __future__ import annotations

from datetime import date

import pytest
from safety_helpers import COVARIATES, TYPICAL, patient

from ketaclinic.protocols import get_protocol, plan, protocols
from ketaclinic.safety import PatientContext, Severity, WeightScalar

START = date(2026, 12, 1)
OBESE_MAN = {"weight_kg": 120, "height_cm": 175, "sex": "male", "age_years": 40}  # BMI 39.2


@pytest.mark.parametrize("protocol_id", sorted(protocols()))
def test_weight_based_protocols_state_a_sourced_weight_basis(protocol_id: str) -> None:
    p = get_protocol(protocol_id)
    if p.dose_rule.basis == "weight":
        assert p.weight_basis is not None
        assert len(p.weight_basis.source) > 20
        assert p.weight_basis.above_bmi_kg_per_m2 == 30
    else:
        assert p.weight_basis is None


def test_acute_pain_doses_an_obese_patient_on_ideal_body_weight_and_shows_it() -> None:
    p = plan("acute-pain-iv", patient(**OBESE_MAN), START, risk_patients=0)
    assert p.dosing_weight is not None
    assert p.dosing_weight.scalar is WeightScalar.IDEAL
    assert p.dosing_weight.weight_kg == pytest.approx(70.47, abs=0.01)  # Devine, 175 cm man
    bolus, infusion = p.doses
    assert bolus.amount_mg == 18.0  # 0.25 mg/kg x 70.47 kg = 17.6 mg, not 30 mg on 120 kg
    assert infusion.rate_mg_per_h == pytest.approx(10.6)
    assert "ideal body weight 70.5 kg (Devine, height 175 cm, male)" in bolus.calculation
    prompt = next(f for f in p.report.findings if f.code == "weight.obesity")
    assert prompt.severity is Severity.WARNING
    assert "BMI 39.2 kg/m2" in prompt.message
    assert "acute-pain-iv doses on ideal body weight from BMI 30 kg/m2 [clinical judgement]" in (
        prompt.message
    )
    assert p.to_dict()["dosing_weight"]["scalar"] == "ideal"


def test_depression_doses_on_actual_weight_but_still_prompts_in_obesity() -> None:
    p = plan("depression-iv", patient(**OBESE_MAN), START, risk_patients=0)
    assert p.doses[0].amount_mg == 60.0  # 0.5 mg/kg x 120 kg
    prompt = next(f for f in p.report.findings if f.code == "weight.obesity")
    assert "predicted concentrations in obesity are uncertain" in prompt.message
    assert p.allowed


def test_below_the_bmi_the_actual_weight_is_used_without_a_prompt() -> None:
    p = plan("acute-pain-iv", patient(weight_kg=85, height_cm=180, sex="male"), START)
    assert p.dosing_weight is not None
    assert p.dosing_weight.weight_kg == 85.0
    assert "weight.obesity" not in p.report.codes()


def _without_height(**covariates: object) -> PatientContext:
    base = {k: v for k, v in COVARIATES.items() if k != "height_cm"}
    return PatientContext.model_validate({**TYPICAL, "covariates": {**base, **covariates}})


def test_a_missing_height_uses_the_actual_weight_and_says_so() -> None:
    who = _without_height(weight_kg=120)
    assert not who.height_recorded
    p = plan("acute-pain-iv", who, START, risk_patients=0)
    assert p.doses[0].amount_mg == 30.0  # actual weight: no height, no ideal weight
    missing = next(f for f in p.report.findings if f.code == "weight.height_missing")
    assert missing.severity is Severity.WARNING  # the protocol needs height for its basis
    assert "the doses use the actual weight 120 kg" in missing.message
    depression = plan("depression-iv", who, START, risk_patients=0)
    assert "weight.height_missing" in depression.report.codes(Severity.INFO)


def test_children_get_no_adult_bmi_prompt() -> None:
    child = patient(age_years=10, weight_kg=50, height_cm=135)  # adult BMI 27, but a child
    p = plan("acute-pain-iv", child, START, risk_patients=0)
    assert "weight.obesity" not in p.report.codes()
    assert p.dosing_weight is not None
    assert "do not apply at age 10" in p.dosing_weight.explanation


def test_fixed_dose_protocols_have_no_weight_prompt() -> None:
    p = plan("esketamine-nasal", patient(**OBESE_MAN), START, risk_patients=0)
    assert not {c for c in p.report.codes() if c.startswith("weight.")}
