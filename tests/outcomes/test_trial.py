"""The trial decision, table-driven per protocol: responder, remission, partial, non-responder,
not yet due, missing baseline, missing follow-up, taper after long continuous use."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.errors import OutOfRangeError, UserInputError
from ketaclinic.outcomes import (
    Assessment,
    DecisionPoint,
    MinimumData,
    Threshold,
    TrialDecision,
    TrialRule,
    evaluate_trial,
    score,
)
from ketaclinic.protocols import Protocol, protocols

START = date(2026, 12, 1)
PAIN = sorted(p.id for p in protocols().values() if p.trial.instrument_id == "pain-nrs")
DEPRESSION = sorted(p.id for p in protocols().values() if p.trial.instrument_id == "phq-9")


def _sessions(p: Protocol, days: int | None = None) -> list[date]:
    if days is not None:
        return [START + timedelta(days=n) for n in range(days)]
    offsets = sorted({d for phase in p.schedule.phases for d in phase.day_offsets})
    return [START + timedelta(days=d) for d in offsets]


def _decision_day(p: Protocol, sessions: list[date]) -> date:
    rule = p.trial.decision_point
    anchor = START if rule.after_sessions is None else sessions[rule.after_sessions - 1]
    return anchor + timedelta(days=rule.after_days)


def _judge(
    protocol_id: str,
    baseline: float | None,
    follow_up: float | None,
    *,
    as_of_shift_days: int = 2,
    session_days: int | None = None,
) -> TrialDecision:
    p = protocols()[protocol_id]
    sessions = _sessions(p, session_days)
    due = _decision_day(p, sessions)
    instrument = p.trial.instrument_id
    found = []
    if baseline is not None:
        found.append(Assessment(instrument, START - timedelta(days=1), baseline))
    if follow_up is not None:
        found.append(Assessment(instrument, due + timedelta(days=1), follow_up))
    return evaluate_trial(p.trial, START, sessions, found, due + timedelta(days=as_of_shift_days))


@pytest.mark.parametrize("protocol_id", PAIN)
@pytest.mark.parametrize(
    ("follow_up", "recommendation", "level"),
    [
        (5, "continue", "response"),
        (3, "continue", "substantial"),
        (7, "stop", None),
        (9, "stop", None),
    ],
)
def test_pain_protocols(
    protocol_id: str, follow_up: int, recommendation: str, level: str | None
) -> None:
    decision = _judge(protocol_id, 8, follow_up)
    assert decision.recommendation == recommendation, decision.reasons
    assert decision.level == level
    assert decision.baseline_points == 8
    assert decision.latest_points == follow_up
    assert decision.drop_points == 8 - follow_up
    assert decision.rules
    assert all(r.source for r in decision.rules)
    assert decision.decision_point is not None


@pytest.mark.parametrize("protocol_id", DEPRESSION)
@pytest.mark.parametrize(
    ("follow_up", "recommendation", "level"),
    [
        (4, "continue", "remission"),
        (9, "continue", "response"),
        (13, "stop", "partial"),  # 35 %: not a response at the end of induction
        (18, "stop", None),
    ],
)
def test_depression_protocols(
    protocol_id: str, follow_up: int, recommendation: str, level: str | None
) -> None:
    decision = _judge(protocol_id, 20, follow_up)
    assert decision.recommendation == recommendation, decision.reasons
    assert decision.level == level
    assert decision.drop_percent == pytest.approx((20 - follow_up) / 20 * 100)


@pytest.mark.parametrize("protocol_id", sorted(protocols()))
def test_before_the_decision_point_the_trial_is_not_yet_due(protocol_id: str) -> None:
    decision = _judge(protocol_id, 8, None, as_of_shift_days=-1)
    assert decision.recommendation == "not_yet_due"
    assert decision.level is None
    assert decision.rules == ()


@pytest.mark.parametrize(
    "protocol_id",
    sorted(p for p in protocols() if protocols()[p].trial.decision_point.after_sessions),
)
def test_with_sessions_missing_the_trial_is_not_yet_due(protocol_id: str) -> None:
    p = protocols()[protocol_id]
    needed = p.trial.decision_point.after_sessions or 0
    sessions = _sessions(p)[: needed - 1]
    found = [Assessment(p.trial.instrument_id, START, 8)]
    decision = evaluate_trial(p.trial, START, sessions, found, START + timedelta(days=120))
    assert decision.recommendation == "not_yet_due"
    assert f"{needed - 1} of {needed} sessions done" in decision.reasons[0]
    assert decision.decision_point is None


@pytest.mark.parametrize("protocol_id", sorted(protocols()))
def test_a_missing_baseline_gives_insufficient_data(protocol_id: str) -> None:
    decision = _judge(protocol_id, None, 3)
    assert decision.recommendation == "insufficient_data"
    assert "baseline" in decision.reasons[0]


@pytest.mark.parametrize("protocol_id", sorted(protocols()))
def test_no_follow_up_at_the_decision_point_gives_insufficient_data(protocol_id: str) -> None:
    decision = _judge(protocol_id, 8, None)
    assert decision.recommendation == "insufficient_data"
    assert "at or after the decision point" in decision.reasons[0]


@pytest.mark.parametrize("protocol_id", ["palliative-oral", "palliative-sc-burst"])
def test_failure_after_more_than_3_weeks_of_continuous_use_is_tapered(protocol_id: str) -> None:
    short = _judge(protocol_id, 8, 8)
    assert short.recommendation == "stop"
    long = _judge(protocol_id, 8, 8, session_days=30, as_of_shift_days=40)
    assert long.recommendation == "taper"
    assert long.continuous_use_days == 30
    assert any("taper rather than stop" in r for r in long.reasons)


@pytest.mark.parametrize(
    "protocol_id", ["depression-iv", "crps-daily-10d", "chronic-pain-iv-series"]
)
def test_intermittent_series_stop_rather_than_taper(protocol_id: str) -> None:
    p = protocols()[protocol_id]
    assert p.trial.taper_after_continuous_days is None
    assert (
        _judge(
            protocol_id,
            20 if p.trial.instrument_id == "phq-9" else 8,
            20 if p.trial.instrument_id == "phq-9" else 8,
        ).recommendation
        == "stop"
    )


def test_before_the_course_starts_the_trial_is_not_yet_due() -> None:
    p = protocols()["depression-iv"]
    decision = evaluate_trial(p.trial, START, [], [], START - timedelta(days=3))
    assert decision.recommendation == "not_yet_due"
    assert "record a PHQ-9 total baseline before it" in decision.reasons[0]


def test_the_baseline_must_fall_inside_its_window() -> None:
    p = protocols()["depression-iv"]  # 14 days
    sessions = _sessions(p)
    old = [
        Assessment("phq-9", START - timedelta(days=15), 20),
        Assessment("phq-9", sessions[5] + timedelta(days=1), 5),
    ]
    decision = evaluate_trial(p.trial, START, sessions, old, sessions[5] + timedelta(days=2))
    assert decision.recommendation == "insufficient_data"


def test_a_mean_baseline_averages_the_window() -> None:
    p = protocols()["crps-daily-10d"]  # mean of 14 days before
    sessions = _sessions(p)
    found = [
        Assessment("pain-nrs", START - timedelta(days=d), v) for d, v in ((13, 9), (7, 7), (0, 8))
    ]
    found.append(Assessment("pain-nrs", sessions[9] + timedelta(days=1), 5))
    decision = evaluate_trial(p.trial, START, sessions, found, sessions[9] + timedelta(days=2))
    assert decision.baseline_points == pytest.approx(8.0)
    assert decision.recommendation == "continue"


def test_assessments_and_sessions_after_as_of_are_ignored() -> None:
    p = protocols()["depression-iv"]
    sessions = _sessions(p)
    found = [
        Assessment("phq-9", START, 20),
        Assessment("phq-9", sessions[5] + timedelta(days=5), 4),
    ]
    decision = evaluate_trial(p.trial, START, sessions, found, sessions[5] + timedelta(days=2))
    assert decision.recommendation == "insufficient_data"


def test_other_instruments_are_not_mixed_in() -> None:
    p = protocols()["depression-iv"]
    sessions = _sessions(p)
    found = [
        Assessment("phq-9", START, 20),
        Assessment("gad-7", sessions[5] + timedelta(days=1), 2),
    ]
    assert (
        evaluate_trial(
            p.trial, START, sessions, found, sessions[5] + timedelta(days=2)
        ).recommendation
        == "insufficient_data"
    )


def test_a_score_taken_before_the_decisive_infusion_does_not_count() -> None:
    p = protocols()["depression-iv"]
    sessions = [
        datetime.combine(d, datetime.min.time(), UTC) + timedelta(hours=10) for d in _sessions(p)
    ]
    sixth = sessions[5]
    found = [
        Assessment("phq-9", sessions[0] - timedelta(minutes=30), 20),
        Assessment("phq-9", sixth - timedelta(minutes=15), 4),  # before the 6th infusion
    ]
    decision = evaluate_trial(p.trial, sessions[0], sessions, found, sixth + timedelta(hours=3))
    assert decision.recommendation == "insufficient_data"
    found.append(Assessment("phq-9", sixth + timedelta(hours=2), 4))
    assert (
        evaluate_trial(
            p.trial, sessions[0], sessions, found, sixth + timedelta(hours=3)
        ).recommendation
        == "continue"
    )


def test_an_assessment_can_come_from_a_score() -> None:
    result = score("phq-9", [2] * 9)
    assessment = Assessment.of(result, START)
    assert (assessment.instrument_id, assessment.points) == ("phq-9", 18.0)


def test_the_decision_serialises_with_its_numbers() -> None:
    data = _judge("depression-iv", 20, 9).to_dict()
    assert data["recommendation"] == "continue"
    assert {
        "baseline_points",
        "latest_points",
        "drop_points",
        "drop_percent",
        "decision_point",
        "rules",
        "reasons",
    } <= data.keys()
    assert data["decision_point"].startswith("2026-12-12")


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"sessions": [START - timedelta(days=1)]}, UserInputError, "is before the course start"),
        (
            {"assessments": [Assessment("phq-9", START, 40)]},
            OutOfRangeError,
            "outside the accepted range 0-27 points",
        ),
        (
            {"assessments": [Assessment("phq-99", START, 4)]},
            UserInputError,
            "unknown instrument 'phq-99'",
        ),
        ({"as_of": "tomorrow"}, UserInputError, "is not a date or date-time"),
        (
            {"assessments": [("phq-9", START, 4)]},
            UserInputError,
            "assessment 1 is not an Assessment",
        ),
    ],
)
def test_it_refuses_bad_input(
    change: dict[str, object], error: type[Exception], message: str
) -> None:
    p = protocols()["depression-iv"]
    args = {
        "sessions": _sessions(p),
        "assessments": [],
        "as_of": START + timedelta(days=30),
        **change,
    }
    with pytest.raises(error, match=message):
        evaluate_trial(p.trial, START, args["sessions"], args["assessments"], args["as_of"])


def _rule(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "instrument_id": "phq-9",
        "thresholds": [
            {
                "level": "response",
                "metric": "percent_drop_from_baseline",
                "at_least_percent": 50,
                "source": "DOMAIN.md",
            }
        ],
        "decision_point": {"after_sessions": 6},
        "minimum_data": {"baseline_window_days": 14},
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"instrument_id": "hads"}, "unknown instrument 'hads'"),
        ({"scale": "interference"}, "PHQ-9 has no score 'interference'"),
        ({"decision_point": {}}, "needs after_sessions or after_days > 0"),
        (
            {
                "thresholds": [
                    {
                        "level": "partial",
                        "metric": "percent_drop_from_baseline",
                        "at_least_percent": 25,
                        "source": "ICSI",
                    }
                ]
            },
            "thresholds need a level among",
        ),
        (
            {
                "thresholds": [
                    {"level": "remission", "metric": "below", "below_points": 30, "source": "x!!"}
                ]
            },
            "below 30 points lies outside 0-27",
        ),
        ({"taper_after_continuous_days": 21}, "go together"),
    ],
)
def test_a_malformed_trial_rule_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrialRule.model_validate(_rule(**changes))


@given(st.integers(0, 27), st.integers(0, 27), st.integers(-3, 30))
def test_continue_only_when_due_and_a_success_level_is_met(
    baseline: int, follow_up: int, shift: int
) -> None:
    rule = TrialRule(
        instrument_id="phq-9",
        thresholds=(
            Threshold(level="remission", metric="below", below_points=5, source="DOMAIN.md"),
            Threshold(
                level="response",
                metric="percent_drop_from_baseline",
                at_least_percent=50,
                source="DOMAIN.md",
            ),
        ),
        decision_point=DecisionPoint(after_days=14),
        minimum_data=MinimumData(baseline_window_days=7),
    )
    found = [
        Assessment("phq-9", START, baseline),
        Assessment("phq-9", START + timedelta(days=14), follow_up),
    ]
    decision = evaluate_trial(rule, START, [START], found, START + timedelta(days=14 + shift))
    if shift < 0:
        assert decision.recommendation == "not_yet_due"
        return
    success = follow_up < 5 or (baseline > 0 and (baseline - follow_up) / baseline >= 0.5)
    assert decision.recommendation == ("continue" if success else "stop")
