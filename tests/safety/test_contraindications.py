"""Contraindications of DOMAIN.md section 3, with the severity the source words them in."""

from __future__ import annotations

import pytest
from safety_helpers import codes, finding, patient, run

from ketaclinic.safety import Severity
from ketaclinic.safety.rules.contraindications import CONTRAINDICATIONS

STOP, OVER, WARN = Severity.HARD_STOP, Severity.OVERRIDABLE, Severity.WARNING
# diagnosis -> (racemic severity, esketamine severity): "should not be used" / "contraindicated"
# are hard stops, "avoid" / "only with extreme caution" overridable, "with monitoring" a warning
EXPECTED = {
    "uncontrolled_cardiovascular_disease": (STOP, STOP),
    "uncontrolled_psychosis": (STOP, STOP),
    "severe_hepatic_disease": (STOP, STOP),
    "moderate_hepatic_disease": (WARN, WARN),
    "raised_intracranial_pressure": (OVER, OVER),
    "raised_intraocular_pressure": (OVER, OVER),
    "aneurysmal_vascular_disease": (OVER, STOP),
    "arteriovenous_malformation": (OVER, STOP),
    "intracerebral_haemorrhage_history": (OVER, STOP),
    "ketamine_hypersensitivity": (STOP, STOP),
    "psychosis_history": (WARN, WARN),
    "lower_urinary_tract_symptoms": (WARN, WARN),
}


def test_the_table_covers_every_expected_contraindication() -> None:
    assert {c.diagnosis.value for c in CONTRAINDICATIONS} == set(EXPECTED)


@pytest.mark.parametrize("diagnosis", sorted(EXPECTED))
@pytest.mark.parametrize("protocol", ["depression-iv", "esketamine-nasal"])
def test_each_contraindication_has_the_guideline_severity(diagnosis: str, protocol: str) -> None:
    report = run(protocol, who=patient(diagnoses=[diagnosis]))
    racemic, esketamine = EXPECTED[diagnosis]
    expected = esketamine if protocol == "esketamine-nasal" else racemic
    found = finding(report, f"contraindication.{diagnosis}")
    assert found.severity is expected
    assert found.source
    assert report.allowed is (expected is WARN)


def test_no_contraindication_fires_without_the_diagnosis() -> None:
    report = run("depression-iv", who=patient(diagnoses=["treatment_resistant_depression"]))
    assert not {c for c in codes(report) if c.startswith("contraindication.")}


def test_pregnancy_is_overridable_avoid() -> None:
    assert finding(run("depression-iv", who=patient(pregnant=True)), "contraindication.pregnancy")
    assert "contraindication.pregnancy" in codes(
        run("depression-iv", who=patient(pregnant=True)), Severity.OVERRIDABLE
    )
    assert "contraindication.pregnancy" not in codes(run("depression-iv"))


def test_active_substance_use_stops_repeated_sessions() -> None:
    report = run("depression-iv", who=patient(substance_use="active"))
    assert "contraindication.active_substance_use" in codes(report, Severity.HARD_STOP)


def test_active_substance_use_is_a_warning_for_a_single_perioperative_episode() -> None:
    report = run("acute-pain-iv", who=patient(substance_use="active"))
    assert "caution.active_substance_use" in codes(report, Severity.WARNING)
    assert report.allowed


def test_a_history_of_substance_use_is_a_warning() -> None:
    report = run("depression-iv", who=patient(substance_use="history"))
    assert "caution.history_substance_use" in codes(report, Severity.WARNING)
    assert not {c for c in codes(run("depression-iv")) if "substance" in c}


@pytest.mark.parametrize(
    ("systolic", "diastolic", "fires"),
    [(140, 90, False), (141, 80, True), (130, 91, True), (118, 76, False)],
)
def test_baseline_blood_pressure_above_140_90_is_a_warning(
    systolic: float, diastolic: float, fires: bool
) -> None:
    vitals = {
        "measured_at": "2026-12-01T08:30:00Z",
        "systolic_mmhg": systolic,
        "diastolic_mmhg": diastolic,
    }
    report = run("esketamine-nasal", who=patient(vitals=vitals))
    assert ("vitals.hypertension" in codes(report, Severity.WARNING)) is fires


def test_missing_blood_pressure_is_noted_for_outpatient_protocols_only() -> None:
    assert "vitals.missing" in codes(run("depression-iv", who=patient(vitals=None)), Severity.INFO)
    assert "vitals.missing" not in codes(run("acute-pain-iv", who=patient(vitals=None)))
