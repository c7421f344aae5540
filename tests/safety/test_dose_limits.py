"""Hard and soft limits per dose, per session, per 24 h and per 7 days (boundaries included).

Limits fire strictly above a maximum: a dose exactly at the limit passes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from safety_helpers import codes, finding, patient, run, session

from ketaclinic.pharmacology import parse_dose
from ketaclinic.safety import Severity
from ketaclinic.safety._context import Given
from ketaclinic.safety.rules.limits import window_max


@pytest.mark.parametrize(
    ("dose", "expected"),
    [
        ("iv-bolus 0.35 mg/kg", set()),
        ("iv-bolus 0.36 mg/kg", {"bolus_mg_per_kg.soft"}),
        ("iv-bolus 1 mg/kg", {"bolus_mg_per_kg.soft"}),
        ("iv-bolus 1.01 mg/kg", {"bolus_mg_per_kg.hard"}),
    ],
)
def test_bolus_limits_per_kg_at_and_beyond_the_boundaries(dose: str, expected: set[str]) -> None:
    found = {c for c in codes(run("acute-pain-iv", [dose])) if c.startswith("bolus_mg")}
    assert found == expected


def test_the_bolus_hard_limit_message_names_value_limit_unit_and_source() -> None:
    message = finding(run("acute-pain-iv", ["iv-bolus 1.5 mg/kg"]), "bolus_mg_per_kg.hard").message
    assert "1.5 mg/kg" in message
    assert "hard limit 1 mg/kg" in message
    assert "105 mg at 70 kg" in message
    assert "Schwenk 2018" in message


def test_a_fixed_bolus_cap_holds_in_heavy_patients() -> None:
    heavy = patient(weight_kg=140)
    report = run("acute-pain-iv", ["iv-bolus 0.75 mg/kg"], who=heavy)
    assert "bolus_mg.hard" in codes(report, Severity.HARD_STOP)  # 105 mg > 100 mg


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        ("0.3", set()),
        ("0.31", {"infusion_rate_mg_per_kg_per_h.soft"}),
        ("1", {"infusion_rate_mg_per_kg_per_h.soft"}),
        ("1.1", {"infusion_rate_mg_per_kg_per_h.hard"}),
    ],
)
def test_infusion_rate_limits_at_and_beyond_the_boundaries(rate: str, expected: set[str]) -> None:
    report = run("acute-pain-iv", [f"iv-infusion {rate} mg/kg/h for 1 h"])
    assert {c for c in codes(report) if c.startswith("infusion_rate")} == expected


@pytest.mark.parametrize(
    ("mg_per_kg", "expected"),
    [
        ("0.5", set()),
        ("0.75", set()),
        ("0.76", {"session_total_mg_per_kg.soft"}),
        ("1", {"session_total_mg_per_kg.soft"}),
        ("1.01", {"session_total_mg_per_kg.hard"}),
    ],
)
def test_session_totals_per_kg(mg_per_kg: str, expected: set[str]) -> None:
    report = run("depression-iv", [f"iv-infusion {mg_per_kg} mg/kg over 40 min"])
    assert {c for c in codes(report) if c.startswith("session_total")} == expected


def test_the_session_cap_in_mg_catches_large_patients() -> None:
    report = run("depression-iv", ["iv-infusion 0.7 mg/kg over 40 min"], who=patient(weight_kg=150))
    assert {c for c in codes(report) if c.startswith("session_total")} == {"session_total_mg.soft"}


@pytest.mark.parametrize(
    ("dose", "expected"),
    [
        ("oral 50 mg every 6 h x 4", set()),
        ("oral 55 mg every 6 h x 4", {"total_24h_mg.soft"}),
        # 100 mg x 4 = 400 mg is the published maximum: above the soft limit, not the hard
        ("oral 100 mg every 6 h x 4", {"total_24h_mg.soft"}),
        ("oral 100 mg every 5 h x 5", {"total_24h_mg.hard"}),
    ],
)
def test_24_hour_totals_within_one_order(dose: str, expected: set[str]) -> None:
    found = {c for c in codes(run("palliative-oral", [dose])) if c.startswith("total_24h")}
    assert found == expected


def test_24_hour_totals_count_earlier_sessions() -> None:
    alone = run("palliative-oral", ["oral 20 mg every 6 h x 4"])
    assert "total_24h_mg.soft" not in codes(alone)
    with_earlier = run(
        "palliative-oral",
        ["oral 20 mg every 6 h x 4"],
        previous=[session("palliative-oral", 0.5, 200)],
    )
    message = finding(with_earlier, "total_24h_mg.soft").message
    assert "240 mg" in message
    assert "earlier sessions" in message


def test_sessions_older_than_the_window_do_not_count() -> None:
    report = run(
        "palliative-oral",
        ["oral 20 mg every 6 h x 4"],
        previous=[session("palliative-oral", 1.01, 200)],
    )
    assert "total_24h_mg.soft" not in codes(report)


def test_weekly_totals_count_sessions_of_the_last_seven_days() -> None:
    twice = [session("esketamine-nasal", 6, 84), session("esketamine-nasal", 3, 84)]
    report = run("esketamine-nasal", ["intranasal 84 mg"], previous=twice)
    assert "weekly_total_mg.soft" in codes(report, Severity.OVERRIDABLE)
    once = [session("esketamine-nasal", 8, 84), session("esketamine-nasal", 3, 84)]
    assert "weekly_total_mg.soft" not in codes(
        run("esketamine-nasal", ["intranasal 84 mg"], previous=once)
    )


def test_a_dose_form_outside_the_protocol_is_overridable() -> None:
    report = run("depression-iv", ["iv-bolus 10 mg"])
    assert "dose.form_not_in_protocol" in codes(report, Severity.OVERRIDABLE)
    assert "dose.form_not_in_protocol" not in codes(run("depression-iv"))


def test_window_max_counts_infusions_pro_rata() -> None:
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    events = [
        Given(t0, parse_dose("iv-infusion 240 mg over 48 h"), 70.0),
        Given(t0 + timedelta(hours=30), parse_dose("iv-bolus 50 mg"), 70.0),
    ]
    # 120 mg of the infusion in any 24 h, plus the 50 mg bolus when it falls inside
    assert window_max(events, timedelta(hours=24), t0) == pytest.approx(170.0)
    assert window_max(events[:1], timedelta(hours=24), t0) == pytest.approx(120.0)
