"""Response and remission: compare a follow-up score with its baseline under sourced rules.

The rules of each instrument live in its data file (``change_rules``); a trial may bring its
own rules (fixed when a course starts). A follow-up is classified by the best level whose rule
it meets (:data:`~ketaclinic.outcomes.LEVELS`); the result keeps every number and source.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ketaclinic.errors import OutOfRangeError, UnknownNameError, UserInputError
from ketaclinic.outcomes._loader import get_instrument
from ketaclinic.outcomes._schema import LEVELS, Instrument, Level, ScoreRule, Threshold

__all__ = ["Change", "RuleOutcome", "check_score_value", "compare_scores", "score_rules"]

# Percent drops are computed in floating point: 3 -> 2.1 is a 30 % drop even though
# (3 - 2.1) / 3 * 100 comes out a hair below 30.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class RuleOutcome:
    """One rule checked against one follow-up: what was required, what was seen, met or not."""

    level: Level
    rule: str
    threshold: float
    unit: str
    observed: float | None
    met: bool
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "rule": self.rule,
            "threshold": self.threshold,
            "unit": self.unit,
            "observed": self.observed,
            "met": self.met,
            "source": self.source,
        }


@dataclass(frozen=True)
class Change:
    """A follow-up compared with its baseline.

    ``drop_points`` is positive when the score fell (improved: every scored instrument here is
    worse when higher); ``drop_percent`` is None when the baseline is 0 (undefined).

    >>> c = compare_scores("phq-9", 20, 9)
    >>> c.level, c.drop_points, round(c.drop_percent, 1)
    ('response', 11.0, 55.0)
    """

    instrument_id: str
    instrument_version: str
    score_id: str
    baseline_points: float | None
    follow_up_points: float
    drop_points: float | None
    drop_percent: float | None
    level: Level | None
    outcomes: tuple[RuleOutcome, ...]

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o.source for o in self.outcomes))

    def met(self, level: Level) -> bool:
        return any(o.met for o in self.outcomes if o.level == level)

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument_id,
            "instrument_version": self.instrument_version,
            "score": self.score_id,
            "baseline_points": self.baseline_points,
            "follow_up_points": self.follow_up_points,
            "drop_points": self.drop_points,
            "drop_percent": self.drop_percent,
            "level": self.level,
            "rules": [o.to_dict() for o in self.outcomes],
        }


def score_rules(instrument_id: str, score_id: str = "total") -> tuple[Threshold, ...]:
    """The change rules an instrument's data file gives for one of its scores."""
    instrument = get_instrument(instrument_id)
    return _rule(instrument, score_id).change_rules


def _rule(instrument: Instrument, score_id: str) -> ScoreRule:
    try:
        return instrument.score_rule(score_id)
    except KeyError:
        names = ", ".join(s.id for s in instrument.scores)
        raise UnknownNameError(
            f"{instrument.short_name} has no score {score_id!r}; accepted: {names}"
        ) from None


def check_score_value(instrument: Instrument, score_id: str, value: object, what: str) -> float:
    """``value`` as a float inside the score's range, or a user error naming the range."""
    low, high = instrument.score_range(score_id)
    accepted = f"{low:g}-{high:g} points"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserInputError(
            f"{instrument.short_name} {score_id} {what} {value!r} is not a number; "
            f"accepted: {accepted}"
        )
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high):
        raise OutOfRangeError(
            f"{instrument.short_name} {score_id} {what} {number:g} is outside the accepted "
            f"range {accepted}"
        )
    return number


def _outcome(t: Threshold, baseline: float | None, follow_up: float) -> RuleOutcome:
    observed: float | None
    if t.metric == "below":
        observed = follow_up
        met = follow_up < t.value
    elif baseline is None:
        observed, met = None, False
    elif t.metric == "points_drop_from_baseline":
        observed = baseline - follow_up
        met = observed >= t.value - _TOLERANCE
    elif baseline > 0:
        observed = (baseline - follow_up) / baseline * 100.0
        met = observed >= t.value - _TOLERANCE
    else:
        observed, met = None, False
    return RuleOutcome(t.level, t.describe(), t.value, t.unit, observed, met, t.source)


def compare_scores(
    instrument_id: str,
    baseline_points: float | None,
    follow_up_points: float,
    score_id: str = "total",
    rules: Sequence[Threshold] | None = None,
) -> Change:
    """Compare a follow-up score with its baseline under ``rules`` (default: the instrument's).

    Both scores are checked against the score's range. Without a baseline only ``below``
    rules (remission) can be met. The level is the best one with a rule met, or None.

    >>> compare_scores("pain-nrs", 8, 6).level  # 2 points lower (Farrar 2001)
    'response'
    >>> compare_scores("pain-nrs", 8, 7).level is None
    True
    >>> compare_scores("bpi-sf", 6.0, 4.5, score_id="interference").level
    'minimal_important'
    """
    instrument = get_instrument(instrument_id)
    chosen = tuple(rules) if rules is not None else _rule(instrument, score_id).change_rules
    _rule(instrument, score_id)
    follow_up = check_score_value(instrument, score_id, follow_up_points, "follow-up")
    baseline = (
        None
        if baseline_points is None
        else check_score_value(instrument, score_id, baseline_points, "baseline")
    )
    outcomes = tuple(_outcome(t, baseline, follow_up) for t in chosen)
    met_levels = {o.level for o in outcomes if o.met}
    level = next((lv for lv in LEVELS if lv in met_levels), None)
    drop = None if baseline is None else baseline - follow_up
    percent = None if baseline is None or baseline == 0 else (baseline - follow_up) / baseline * 100
    return Change(
        instrument.id,
        instrument.version,
        score_id,
        baseline,
        follow_up,
        drop,
        percent,
        level,
        outcomes,
    )
