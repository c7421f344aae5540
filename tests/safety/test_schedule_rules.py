"""Minimum spacing, sessions per week, course length and dose spacing (previous sessions)."""

from __future__ import annotations

import pytest
from safety_helpers import codes, finding, run, session

from ketaclinic.safety import Severity


@pytest.mark.parametrize(
    ("hours_before", "expected"),
    [(48, set()), (44, set()), (43, {"min_interval_h.soft"}), (19, {"min_interval_h.hard"})],
)
def test_minimum_interval_between_depression_sessions(
    hours_before: float, expected: set[str]
) -> None:
    earlier = [session("depression-iv", hours_before / 24, 35)]
    report = run("depression-iv", previous=earlier)
    assert {c for c in codes(report) if c.startswith("min_interval")} == expected


def test_the_interval_message_names_the_last_session_and_the_limit() -> None:
    report = run("depression-iv", previous=[session("depression-iv", 1.0, 35)])
    message = finding(report, "min_interval_h.soft").message
    assert "24 h" in message
    assert "minimum soft limit 44 h" in message
    assert "2026-11-30 09:00" in message


def test_sessions_of_other_protocols_do_not_count_for_spacing() -> None:
    report = run("depression-iv", previous=[session("acute-pain-iv", 0.5, 17)])
    assert not {c for c in codes(report) if c.startswith("min_interval")}


def test_a_fourth_session_within_seven_days_is_overridable() -> None:
    three = [session("depression-iv", d, 35) for d in (6, 4, 2)]
    assert "max_sessions_per_7d.soft" in codes(run("depression-iv", previous=three))
    two = [session("depression-iv", d, 35) for d in (8, 4, 2)]
    assert "max_sessions_per_7d.soft" not in codes(run("depression-iv", previous=two))


@pytest.mark.parametrize(
    ("earlier_days", "expected"),
    [(9, set()), (10, {"max_course_days.soft"}), (14, {"max_course_days.hard"})],
)
def test_crps_daily_course_length(earlier_days: int, expected: set[str]) -> None:
    earlier = [session("crps-daily-10d", d, 98, 240) for d in range(earlier_days, 0, -1)]
    report = run("crps-daily-10d", previous=earlier)
    assert {c for c in codes(report) if c.startswith("max_course")} == expected


def test_a_long_gap_starts_a_new_course() -> None:
    earlier = [session("crps-daily-10d", d, 98, 240) for d in range(40, 30, -1)]
    report = run("crps-daily-10d", previous=earlier)
    assert not {c for c in codes(report) if c.startswith("max_course")}


@pytest.mark.parametrize(
    ("earlier_days", "expected"),
    [(4, set()), (5, {"max_course_days.soft"}), (6, {"max_course_days.hard"})],
)
def test_sc_burst_stops_after_five_to_six_days(earlier_days: int, expected: set[str]) -> None:
    earlier = [session("palliative-sc-burst", d, 100, 1440) for d in range(earlier_days, 0, -1)]
    report = run("palliative-sc-burst", previous=earlier)
    assert {c for c in codes(report) if c.startswith("max_course")} == expected


def test_a_single_infusion_longer_than_the_course_is_refused() -> None:
    report = run("crps-continuous-4d", ["iv-infusion 22 mg/h for 6 d"])
    assert "max_course_days.hard" in codes(report, Severity.HARD_STOP)
    assert "max_course_days.soft" in codes(
        run("crps-continuous-4d", ["iv-infusion 22 mg/h for 104 h"])
    )
    assert not {c for c in codes(run("crps-continuous-4d")) if c.startswith("max_course")}


@pytest.mark.parametrize(
    ("every", "expected"),
    [
        ("6 h", set()),
        ("4 h", set()),
        ("3 h", {"min_dose_interval_h.soft"}),
        ("1 h", {"min_dose_interval_h.hard"}),
    ],
)
def test_spacing_of_oral_doses_within_an_order(every: str, expected: set[str]) -> None:
    report = run("palliative-oral", [f"oral 10 mg every {every} x 4"])
    assert {c for c in codes(report) if c.startswith("min_dose_interval")} == expected
