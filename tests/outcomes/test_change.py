"""Response and remission rules: the numbers, the level and the rule's source."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.errors import OutOfRangeError, UnknownNameError
from ketaclinic.outcomes import LEVELS, Threshold, compare_scores, score_rules


@pytest.mark.parametrize(
    ("baseline", "follow_up", "level"),
    [
        (20, 4, "remission"),  # PHQ-9 < 5
        (20, 10, "response"),  # exactly 50 %
        (20, 11, "partial"),  # 45 %
        (20, 15, "partial"),  # exactly 25 %
        (20, 16, None),  # 20 %
        (20, 22, None),  # worse
        (4, 4, "remission"),  # below 5 without any drop
    ],
)
def test_phq9_response_remission_and_partial(
    baseline: int, follow_up: int, level: str | None
) -> None:
    change = compare_scores("phq-9", baseline, follow_up)
    assert change.level == level
    assert change.drop_points == baseline - follow_up


@pytest.mark.parametrize(
    ("baseline", "follow_up", "level"),
    [
        (10, 5, "substantial"),  # 50 %
        (10, 7, "response"),  # 30 %
        (8, 6, "response"),  # 25 % but 2 points (Farrar 2001)
        (10, 8, "response"),  # 20 % but 2 points
        (8, 7, None),  # 12.5 %, 1 point
        (3, 2, "response"),  # 33 %
    ],
)
def test_pain_nrs_immpact_levels(baseline: int, follow_up: int, level: str | None) -> None:
    assert compare_scores("pain-nrs", baseline, follow_up).level == level


def test_a_30_percent_drop_in_floating_point_still_counts() -> None:
    assert compare_scores("bpi-sf", 3.0, 2.1, score_id="severity").level == "response"


@pytest.mark.parametrize(("baseline", "follow_up", "met"), [(6.0, 5.0, True), (6.0, 5.1, False)])
def test_bpi_interference_one_point_drop_is_meaningful(
    baseline: float, follow_up: float, met: bool
) -> None:
    change = compare_scores("bpi-sf", baseline, follow_up, score_id="interference")
    assert change.met("minimal_important") is met
    assert "IMMPACT" in change.sources[0]


def test_peg_mid_is_about_one_point_citing_krebs() -> None:
    change = compare_scores("peg", 6.0, 5.0)
    assert change.level == "minimal_important"
    assert any("Krebs 2009" in s for s in change.sources)


def test_gad7_mcid_is_4_points() -> None:
    assert compare_scores("gad-7", 15, 11).level == "minimal_important"
    assert compare_scores("gad-7", 15, 12).level is None


def test_the_result_keeps_every_number_and_source() -> None:
    change = compare_scores("phq-9", 18, 8)
    assert change.drop_percent == pytest.approx(100 * 10 / 18)
    rules = {o.level: o for o in change.outcomes}
    assert rules["response"].threshold == 50
    assert rules["response"].unit == "%"
    assert rules["response"].observed == pytest.approx(100 * 10 / 18)
    assert rules["remission"].observed == 8
    assert all(o.source for o in change.outcomes)
    assert change.to_dict()["rules"][0]["level"] == "remission"


def test_a_zero_baseline_leaves_the_percent_undefined() -> None:
    change = compare_scores("pain-nrs", 0, 0)
    assert change.drop_percent is None
    assert change.level is None


def test_without_a_baseline_only_remission_can_be_met() -> None:
    assert compare_scores("phq-9", None, 3).level == "remission"
    assert compare_scores("phq-9", None, 9).level is None


def test_a_trial_may_bring_its_own_rules() -> None:
    strict = [
        Threshold(
            level="response",
            metric="percent_drop_from_baseline",
            at_least_percent=60,
            source="a protocol",
        )
    ]
    assert compare_scores("phq-9", 20, 10, rules=strict).level is None


@pytest.mark.parametrize(
    ("baseline", "follow_up", "message"),
    [
        (30, 10, "PHQ-9 total baseline 30 is outside the accepted range 0-27 points"),
        (20, -1, "PHQ-9 total follow-up -1 is outside the accepted range 0-27 points"),
        (float("nan"), 1, "PHQ-9 total baseline nan is outside"),
    ],
)
def test_it_refuses_scores_outside_the_range(
    baseline: float, follow_up: float, message: str
) -> None:
    with pytest.raises(OutOfRangeError, match=message):
        compare_scores("phq-9", baseline, follow_up)


def test_it_refuses_an_unknown_score() -> None:
    with pytest.raises(UnknownNameError, match="PEG has no score 'interference'"):
        compare_scores("peg", 5, 4, score_id="interference")


def test_monitoring_scales_have_no_change_rules() -> None:
    assert score_rules("cadss-6") == ()
    assert score_rules("moaa-s") == ()


@given(st.integers(0, 27), st.integers(0, 27), st.integers(0, 27))
def test_a_lower_follow_up_never_gets_a_worse_level(baseline: int, a: int, b: int) -> None:
    lower, higher = sorted((a, b))
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    worst = len(LEVELS)
    lower_level = compare_scores("phq-9", baseline, lower).level
    higher_level = compare_scores("phq-9", baseline, higher).level
    assert rank.get(lower_level or "", worst) <= rank.get(higher_level or "", worst)
