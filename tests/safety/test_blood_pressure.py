"""Blood pressure before dosing: above 140/90 weigh the risk; at or above 180/110 do not dose
until re-measured or overridden; a reading older than 2 h before the order does not count."""

from __future__ import annotations

from typing import Any

import pytest
from safety_helpers import codes, finding, patient, run

from ketaclinic.safety import Severity

# the order starts at the check time, 2026-12-01 09:00 UTC


def _bp(systolic: float, diastolic: float, measured_at: str | None = "2026-12-01T08:30:00Z") -> Any:
    vitals: dict[str, Any] = {"systolic_mmhg": systolic, "diastolic_mmhg": diastolic}
    if measured_at is not None:
        vitals["measured_at"] = measured_at
    return patient(vitals=vitals)


@pytest.mark.parametrize(("systolic", "diastolic"), [(210, 100), (192, 116), (180, 80), (150, 110)])
def test_a_severe_pre_dose_blood_pressure_blocks_until_overridden(
    systolic: float, diastolic: float
) -> None:
    report = run("depression-iv", who=_bp(systolic, diastolic))
    block = finding(report, "vitals.severe_hypertension")
    assert block.severity is Severity.OVERRIDABLE
    assert f"{systolic:g}/{diastolic:g} mmHg" in block.message
    assert "re-measure" in block.message
    assert "clinical judgement" in block.source
    assert "Hartle 2016" in block.source
    assert not report.allowed
    reason = {"vitals.severe_hypertension": "re-measured 176/104, cardiology agrees"}
    assert run("depression-iv", who=_bp(systolic, diastolic), overrides=reason).allowed


def test_below_180_110_it_stays_a_warning() -> None:
    report = run("depression-iv", who=_bp(179, 109))
    assert "vitals.hypertension" in codes(report, Severity.WARNING)
    assert "vitals.severe_hypertension" not in codes(report)
    assert report.allowed


def test_a_blood_pressure_from_yesterday_does_not_count_as_before_dosing() -> None:
    report = run("depression-iv", who=_bp(210, 100, "2026-11-30T09:00:00Z"))
    stale = finding(report, "vitals.stale")
    assert stale.severity is Severity.WARNING
    assert "24.0 h before the order's start" in stale.message
    assert "measure it again before dosing" in stale.message
    assert "vitals.severe_hypertension" not in codes(report)


@pytest.mark.parametrize(
    ("measured_at", "counts"),
    [
        ("2026-12-01T07:00:00Z", True),  # exactly 2 h before
        ("2026-12-01T06:59:00Z", False),
        ("2026-12-01T09:30:00Z", False),  # after the start
    ],
)
def test_the_pre_dose_window_is_the_2_h_before_the_start(measured_at: str, counts: bool) -> None:
    report = run("depression-iv", who=_bp(124, 78, measured_at))
    assert ("vitals.stale" in codes(report)) is not counts


def test_an_old_normal_reading_of_an_outpatient_asks_for_a_new_one() -> None:
    report = run("depression-iv", who=_bp(124, 78, "2026-11-20T10:00:00Z"))
    assert "vitals.stale" in codes(report, Severity.INFO)
    assert report.allowed


def test_vitals_without_a_time_are_taken_at_the_order_start_and_say_so() -> None:
    report = run("depression-iv", who=_bp(200, 90, None))
    assumed = finding(report, "vitals.time_assumed")
    assert assumed.severity is Severity.INFO
    assert "taken as measured at the order's start (2026-12-01 09:00 UTC)" in assumed.message
    assert "vitals.severe_hypertension" in codes(report, Severity.OVERRIDABLE)
