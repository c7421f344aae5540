"""Scoring: band edges of every instrument, sub-scales, alerts, and refusals that name the item
and the accepted range."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.errors import OutOfRangeError, UnknownNameError, UserInputError
from ketaclinic.outcomes import Instrument, get_instrument, instruments, score


def _answers_for_total(instrument_id: str, total: int) -> list[int]:
    """Answers in item order that add up to ``total`` (fill items from the first)."""
    inst = get_instrument(instrument_id)
    answers = []
    left = total
    for item in inst.items:
        top = inst.answer_sets[item.answers].max
        answers.append(min(top, left))
        left -= answers[-1]
    assert left == 0
    return answers


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands_at_their_edges(total: int, band: str) -> None:
    result = score("phq-9", _answers_for_total("phq-9", total))
    assert result.total == total
    assert result.band == band
    assert result.instrument_version == "1"


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_bands_at_their_edges(total: int, band: str) -> None:
    result = score("gad-7", _answers_for_total("gad-7", total))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize("answer", [0, 10])
def test_pain_nrs_is_the_single_answer_and_has_no_band(answer: int) -> None:
    result = score("pain-nrs", [answer])
    assert (result.total, result.band) == (answer, None)


def test_bpi_severity_is_the_mean_of_4_items_and_interference_the_mean_of_7() -> None:
    result = score("bpi-sf", [8, 2, 5, 6, 1, 2, 3, 4, 5, 6, 7])
    assert result.value("severity").value == pytest.approx(21 / 4)
    assert result.value("interference").value == pytest.approx(28 / 7)
    assert result.total is None
    extremes = score("bpi-sf", [10] * 11)
    assert extremes.value("severity").value == 10
    assert extremes.value("interference").value == 10


def test_bpi_answers_may_be_given_by_item_id() -> None:
    answers = dict.fromkeys(
        ["worst", "least", "average", "now", "general_activity", "mood", "walking"], 0
    )
    answers.update(work=7, relations=7, sleep=7, enjoyment=7)
    assert score("bpi-sf", answers).value("interference").value == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("answers", "mean"), [([0, 0, 0], 0.0), ([10, 10, 10], 10.0), ([7, 5, 6], 6.0)]
)
def test_peg_is_the_mean_of_its_3_items(answers: list[int], mean: float) -> None:
    assert score("peg", answers).total == pytest.approx(mean)


@pytest.mark.parametrize(
    ("answers", "total"), [([0] * 6, 0), ([4] * 6, 24), ([1, 2, 0, 0, 3, 4], 10)]
)
def test_cadss6_sums_its_6_items(answers: list[int], total: int) -> None:
    assert score("cadss-6", answers).total == total


@pytest.mark.parametrize(
    ("level", "alerts"),
    [
        (5, []),
        (4, ["moaas.not_awake"]),
        (3, ["moaas.not_awake", "moaas.stop_rule"]),
        (0, ["moaas.not_awake", "moaas.stop_rule"]),
    ],
)
def test_moaas_alerts_until_the_patient_is_awake(level: int, alerts: list[str]) -> None:
    result = score("moaa-s", [level])
    assert result.total == level
    assert [a.id for a in result.alerts] == alerts


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_above_0_raises_a_same_day_review_alert(item9: int) -> None:
    result = score("phq-9", [0] * 8 + [item9])
    assert len(result.alerts) == 1
    alert = result.alerts[0]
    assert alert.action == "same-day clinical review"
    assert alert.value == item9
    assert alert.source


def test_phq9_item9_at_0_raises_no_alert_even_with_a_severe_total() -> None:
    assert score("phq-9", [3] * 8 + [0]).alerts == ()


def test_the_result_is_frozen_and_serialisable() -> None:
    result = score("phq-9", [1] * 9)
    with pytest.raises(AttributeError):
        result.instrument_id = "gad-7"
    data = result.to_dict()
    assert data["total_points"] == 9
    assert data["instrument_version"] == "1"
    assert data["scores"][0]["loinc"] == "44261-6"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            [0] * 8,
            "PHQ-9 needs 9 answers (items 1, 2, 3, 4, 5, 6, 7, 8, 9 in order); "
            "got 8: item 9 is missing",
        ),
        ([0] * 7, "got 7: items 8, 9 are missing"),
        ([0] * 10, "got 10: 1 extra"),
        ({str(n): 0 for n in range(1, 9)}, "PHQ-9: item 9 is missing"),
        ({**{str(n): 0 for n in range(1, 10)}, "10": 1}, "PHQ-9 has no item '10'"),
        ([0] * 8 + [1.5], "PHQ-9 item 9 answer 1.5 is not a whole number; accepted: integers 0-3"),
        ([0] * 8 + [True], "PHQ-9 item 9 answer True is not accepted"),
        ([0] * 8 + ["2"], "PHQ-9 item 9 answer '2' is not accepted"),
        ("000000000", "answers must be a list of 9 integers"),
    ],
)
def test_it_refuses_incomplete_extra_and_malformed_answers(answers: object, message: str) -> None:
    with pytest.raises(UserInputError) as caught:
        score("phq-9", answers)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("instrument_id", "answers", "message"),
    [
        (
            "phq-9",
            [0] * 8 + [4],
            "PHQ-9 item 9 answer 4 is outside the accepted range; "
            "accepted: integers 0-3 (0 Not at all;",
        ),
        (
            "gad-7",
            [-1] + [0] * 6,
            "GAD-7 item 1 answer -1 is outside the accepted range; accepted: integers 0-3",
        ),
        (
            "pain-nrs",
            [11],
            "pain NRS item pain answer 11 is outside the accepted range; accepted: integers 0-10",
        ),
        (
            "cadss-6",
            [5] + [0] * 5,
            "CADSS-6 item cadss_1 answer 5 is outside the accepted range; accepted: integers 0-4",
        ),
        (
            "moaa-s",
            [6],
            "MOAA/S item responsiveness answer 6 is outside the accepted range; "
            "accepted: integers 0-5",
        ),
    ],
)
def test_it_refuses_out_of_range_answers_naming_item_and_range(
    instrument_id: str, answers: list[int], message: str
) -> None:
    with pytest.raises(OutOfRangeError) as caught:
        score(instrument_id, answers)
    assert message in str(caught.value)


def test_it_refuses_an_unknown_instrument() -> None:
    with pytest.raises(UnknownNameError, match="unknown instrument 'beck'"):
        score("beck", [0])


def test_asking_for_a_score_the_instrument_lacks_names_the_scores() -> None:
    with pytest.raises(
        UnknownNameError, match="BPI-SF has no score 'total'; accepted: severity, interference"
    ):
        score("bpi-sf", [0] * 11).value("total")


@st.composite
def _valid(draw: st.DrawFn) -> tuple[Instrument, list[int]]:
    inst = draw(st.sampled_from(sorted(instruments().values(), key=lambda i: i.id)))
    answers = [
        draw(st.integers(inst.answer_sets[i.answers].min, inst.answer_sets[i.answers].max))
        for i in inst.items
    ]
    return inst, answers


@given(_valid())
def test_every_score_lies_inside_its_range_and_has_its_band(
    case: tuple[Instrument, list[int]],
) -> None:
    inst, answers = case
    result = score(inst.id, answers)
    for value in result.values:
        assert value.low <= value.value <= value.high
        assert (value.low, value.high) == inst.score_range(value.id)
        assert (value.band is None) == (not inst.score_rule(value.id).bands)


@pytest.mark.parametrize("instrument_id", sorted(instruments()))
def test_bands_partition_the_score_range(instrument_id: str) -> None:
    inst = get_instrument(instrument_id)
    for rule in inst.scores:
        if not rule.bands:
            continue
        low, high = inst.score_range(rule.id)
        for value in range(int(low), int(high) + 1):
            assert sum(b.contains(value) for b in rule.bands) == 1, (rule.id, value)


@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_phq9_total_is_the_sum_and_the_alert_follows_item9(answers: list[int]) -> None:
    result = score("phq-9", answers)
    assert result.total == sum(answers)
    assert bool(result.alerts) == (answers[8] > 0)
