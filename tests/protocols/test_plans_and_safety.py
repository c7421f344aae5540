"""Every protocol plans cleanly for a typical eligible patient; each contraindication is
refused or warned as the guideline words it; Child-Pugh B gets an equal-AUC dose."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from safety_helpers import patient

from ketaclinic.pharmacology import Drug
from ketaclinic.protocols import check, get_protocol, plan, protocols
from ketaclinic.protocols._risk import PopulationRisk
from ketaclinic.safety import Diagnosis, HepaticBasis, Order, PatientContext, Severity
from ketaclinic.safety.rules.contraindications import CONTRAINDICATIONS

START = date(2026, 12, 1)
IDS = sorted(protocols())
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.mark.parametrize("protocol_id", IDS)
def test_every_protocol_plans_without_hard_stops_for_a_typical_eligible_patient(
    protocol_id: str,
) -> None:
    p = plan(protocol_id, patient(), START)
    assert not p.report.codes(Severity.HARD_STOP)
    assert p.allowed, [f.code for f in p.report.blocking]
    assert p.prediction is not None
    risk = p.population_risk
    assert isinstance(risk, PopulationRisk), risk
    assert {c.threshold_ng_per_ml for c in risk.ceilings} == {
        c.conc_ng_per_ml for c in p.protocol.ceilings
    }
    for c in risk.ceilings:
        assert 0.0 <= c.ci95_low <= c.probability <= c.ci95_high <= 1.0


@pytest.mark.parametrize("protocol_id", IDS)
@pytest.mark.parametrize("item", CONTRAINDICATIONS, ids=lambda c: c.diagnosis.value)
def test_each_contraindication_is_refused_or_warned_as_worded(
    protocol_id: str, item: object
) -> None:
    from ketaclinic.safety.rules.contraindications import Contraindication

    assert isinstance(item, Contraindication)
    p = plan(protocol_id, patient(diagnoses=[item.diagnosis.value]), START)
    expected = (
        item.esketamine if get_protocol(protocol_id).drug is Drug.ESKETAMINE else item.racemic
    )
    found = [f for f in p.report.findings if f.code == f"contraindication.{item.diagnosis.value}"]
    assert [f.severity for f in found] == [expected]
    assert p.allowed is (expected in {Severity.WARNING, Severity.INFO})


@pytest.mark.parametrize("protocol_id", IDS)
def test_pregnancy_and_child_pugh_c_block_every_protocol(protocol_id: str) -> None:
    assert not plan(protocol_id, patient(pregnant=True), START).allowed
    assert plan(protocol_id, patient(child_pugh="C"), START).report.codes(Severity.HARD_STOP)


def test_every_coded_diagnosis_is_either_a_contraindication_or_an_indication() -> None:
    indications = {
        "cancer",
        "crps",
        "depression",
        "treatment_resistant_depression",
        "chronic_pain",
        "neuropathic_pain",
        "opioid_tolerance",
    }
    covered = {c.diagnosis.value for c in CONTRAINDICATIONS} | indications
    assert covered == {d.value for d in Diagnosis}


@pytest.mark.parametrize("protocol_id", ["crps-daily-10d", "palliative-sc-burst", "acute-pain-iv"])
def test_child_pugh_b_proposes_the_dose_with_the_unimpaired_auc_and_shows_both(
    protocol_id: str,
) -> None:
    p = plan(protocol_id, patient(child_pugh="B"), START)
    h = p.hepatic
    assert h is not None
    assert h.method is HepaticBasis.EQUAL_AUC
    assert h.factor < 1.0
    normal = h.standard_exposure.normal.summary.ketamine.auc_ng_h_per_ml
    impaired = h.standard_exposure.impaired.summary.ketamine.auc_ng_h_per_ml
    assert impaired > 1.3 * normal
    assert h.adjusted_prediction is not None
    adjusted = h.adjusted_prediction.summary.ketamine.auc_ng_h_per_ml
    # equal AUC up to the rounding of the dose (1 mg, 0.1 mg/h or 10 mg/24h)
    assert adjusted == pytest.approx(normal, rel=0.06)
    assert [d.text for d in p.doses] == [d.text for d in h.adjusted]
    assert [d.text for d in h.standard] != [d.text for d in h.adjusted]
    data = p.to_dict()["hepatic_adjustment"]
    assert data["method"] == "equal_auc"
    assert set(data["auc_ng_h_per_ml"]) == {
        "standard_dose_no_impairment",
        "standard_dose_impaired",
        "adjusted_dose_impaired",
    }


def test_the_kamp_equal_auc_factor_is_the_declared_clearance_scaling() -> None:
    p = plan("crps-daily-10d", patient(child_pugh="B"), START)
    assert p.hepatic is not None
    assert p.hepatic.factor == pytest.approx(1 / 2.03, rel=1e-3)
    assert p.doses[0].rate_mg_per_h == pytest.approx(12.1)  # 24.5 mg/h / 2.03 = 12.07
    assert "hepatic.child_pugh_b" in p.report.codes(Severity.WARNING)


def test_a_single_depression_session_is_cut_for_the_peak_not_the_auc() -> None:
    p = plan("depression-iv", patient(child_pugh="B"), START)
    h = p.hepatic
    assert h is not None
    assert h.method is HepaticBasis.EQUAL_PEAK
    p_normal, p_impaired, p_adjusted = h.peaks_ng_per_ml
    assert h.factor == pytest.approx(p_normal / p_impaired)
    assert 0.75 < h.factor < 0.95  # the peak of a 40-min infusion rises far less than the AUC
    assert p.doses[0].amount_mg == 29.0  # 35 mg x 0.838 = 29.3 -> 29 mg, not 17 mg (equal AUC)
    assert p_adjusted == pytest.approx(p_normal, rel=0.03)
    assert p.allowed


def test_esketamine_keeps_the_label_dose_in_child_pugh_b_with_longer_monitoring() -> None:
    p = plan("esketamine-nasal", patient(child_pugh="B", age_years=34), START)
    h = p.hepatic
    assert h is not None
    assert h.method is HepaticBasis.NONE
    assert h.factor == 1.0
    assert [d.text for d in p.doses] == ["intranasal 56 mg at 0 min"]
    message = next(f.message for f in p.report.findings if f.code == "hepatic.child_pugh_b")
    assert "no dose change" in message
    assert "monitored for adverse reactions for longer" in message
    assert "needs x" not in message


def test_the_plan_serialises_every_part() -> None:
    data = plan("depression-iv", patient(), START).to_dict()
    assert {
        "protocol",
        "doses",
        "sessions",
        "prediction",
        "findings",
        "allowed",
        "rounding",
        "hepatic_adjustment",
        "population_risk",
    } <= data.keys()
    assert data["prediction"]["model"] == "kamp"
    assert len(data["prediction"]["times_min"]) == len(data["prediction"]["ketamine_ng_per_ml"])


def test_check_looks_the_protocol_up_from_the_order() -> None:
    order = Order(protocol="depression-iv", route="iv", doses=("iv-infusion 35 mg over 40 min",))
    report = check(order, patient(), as_of=datetime(2026, 12, 1, 9, tzinfo=UTC))
    assert report.allowed


@pytest.mark.parametrize("protocol_id", IDS)
def test_each_protocol_has_a_patient_and_an_order_example_that_passes(protocol_id: str) -> None:
    who = PatientContext.model_validate(
        yaml.safe_load((EXAMPLES / f"{protocol_id}.patient.yaml").read_text())
    )
    order = Order.model_validate(
        yaml.safe_load((EXAMPLES / f"{protocol_id}.order.yaml").read_text())
    )
    assert order.protocol == protocol_id
    report = check(order, who, as_of=datetime(2026, 12, 1, 9, tzinfo=UTC))
    assert report.allowed, [f.code for f in report.blocking]
    assert list(order.doses) == [d.dose for d in plan(protocol_id, who, START).doses]


def test_population_risk_rises_with_the_dose_and_names_its_variability() -> None:
    """Doubling the depression dose makes exceeding the soft ceiling far more likely."""
    from ketaclinic.pharmacology import Patient, parse_doses
    from ketaclinic.protocols._risk import population_risk

    who = Patient(weight_kg=70, age_years=40, sex="female", height_cm=165)
    ceilings = [(250.0, "soft"), (1200.0, "hard")]
    low = population_risk(
        "kamp", who, parse_doses(["iv-infusion 35 mg over 40 min"]), ceilings, n=4000
    )
    high = population_risk(
        "kamp", who, parse_doses(["iv-infusion 70 mg over 40 min"]), ceilings, n=4000
    )
    assert isinstance(low, PopulationRisk)
    assert isinstance(high, PopulationRisk)
    assert high.ceilings[0].probability > low.ceilings[0].probability + 0.2
    assert "ASSUMPTION" in low.variability
    assert low.sentences()[0].endswith(
        "of similar patients exceed 250 ng/mL (effect site, soft ceiling)"
    )
