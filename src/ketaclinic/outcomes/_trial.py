"""The trial decision: is the ketamine trial working at its decision point?

DOMAIN.md: a trial of ketamine is short and is stopped when there is no clear benefit. A
:class:`TrialRule` (machine-readable trial criteria, fixed when a course starts) says which
instrument and score to follow, the thresholds, when to judge, the minimum data, and what to
recommend on failure. :func:`evaluate_trial` applies it to a course's dates and assessments
as of a given time (an argument: no clock is read) and recommends ``continue``, ``stop``,
``taper``, ``not_yet_due`` or ``insufficient_data``, with the numbers and reasons.

Time rules (all comparisons in UTC; a date means its midnight UTC, a naive time is UTC):

- baseline: assessments from ``baseline_window_days`` before the course start up to the start;
- decision point: the Nth session plus ``after_days``, or the course start plus ``after_days``;
- follow-up: assessments after the course start, at or after the decision point, up to
  ``as_of``. Sessions and assessments after ``as_of`` are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ketaclinic.errors import UserInputError
from ketaclinic.outcomes._change import Change, RuleOutcome, check_score_value, compare_scores
from ketaclinic.outcomes._loader import get_instrument
from ketaclinic.outcomes._schema import Level, Threshold
from ketaclinic.outcomes._scoring import Score

__all__ = [
    "Assessment",
    "DecisionPoint",
    "MinimumData",
    "Recommendation",
    "TrialDecision",
    "TrialRule",
    "evaluate_trial",
]

Recommendation = Literal["continue", "stop", "taper", "not_yet_due", "insufficient_data"]
Moment = datetime | date

SUCCESS_LEVELS: tuple[Level, ...] = ("remission", "substantial", "response")
PARTIAL_LEVELS: tuple[Level, ...] = ("partial", "minimal_important")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DecisionPoint(_Frozen):
    """When the trial is judged: ``after_days`` after the Nth session, or after the course
    start when ``after_sessions`` is absent.

    >>> DecisionPoint(after_sessions=4, after_days=7).describe()
    '7 days after session 4'
    """

    after_sessions: int | None = Field(default=None, ge=1, le=100)
    after_days: int = Field(default=0, ge=0, le=366)

    @model_validator(mode="after")
    def _somewhere(self) -> DecisionPoint:
        if self.after_sessions is None and self.after_days == 0:
            raise ValueError("a decision point needs after_sessions or after_days > 0")
        return self

    def describe(self) -> str:
        days = f"{self.after_days} day{'s' if self.after_days != 1 else ''}"
        if self.after_sessions is None:
            return f"{days} after the course start"
        if self.after_days == 0:
            return f"after session {self.after_sessions}"
        return f"{days} after session {self.after_sessions}"


class MinimumData(_Frozen):
    """What must be recorded before the trial can be judged."""

    baseline_required: bool = True
    baseline_window_days: int = Field(ge=0, le=90)
    baseline_aggregate: Literal["latest", "mean"] = "latest"
    min_follow_up_assessments: int = Field(default=1, ge=1, le=50)
    follow_up_aggregate: Literal["latest", "mean"] = "latest"


class TrialRule(_Frozen):
    """Machine-readable trial criteria (the ``trial:`` block of a protocol, fixed at the start
    of a course). Thresholds carry their sources; ``assumptions`` lists the numbers that are
    clinical judgement rather than published.
    """

    instrument_id: str
    scale: str = "total"
    thresholds: tuple[Threshold, ...] = Field(min_length=1)
    decision_point: DecisionPoint
    minimum_data: MinimumData
    on_partial: Literal["continue", "stop"] = "stop"
    on_failure: Literal["stop", "taper"] = "stop"
    taper_after_continuous_days: int | None = Field(default=None, ge=1, le=3650)
    taper_source: str | None = None
    assumptions: tuple[str, ...] = ()

    @field_validator("instrument_id")
    @classmethod
    def _known_instrument(cls, value: str) -> str:
        return get_instrument(value).id

    @model_validator(mode="after")
    def _consistent(self) -> TrialRule:
        instrument = get_instrument(self.instrument_id)
        scales = [s.id for s in instrument.scores]
        if self.scale not in scales:
            raise ValueError(
                f"{instrument.short_name} has no score {self.scale!r}; accepted: "
                f"{', '.join(scales)}"
            )
        low, high = instrument.score_range(self.scale)
        for t in self.thresholds:
            if t.metric == "below" and not low < t.value <= high:
                raise ValueError(f"{t.describe()} lies outside {low:g}-{high:g} points")
            if t.metric == "points_drop_from_baseline" and t.value > high - low:
                raise ValueError(f"{t.describe()} exceeds the range {low:g}-{high:g} points")
        if not any(t.level in SUCCESS_LEVELS for t in self.thresholds):
            raise ValueError(f"thresholds need a level among {', '.join(SUCCESS_LEVELS)}")
        if (self.taper_after_continuous_days is None) != (self.taper_source is None):
            raise ValueError("taper_after_continuous_days and taper_source go together")
        return self

    def summary(self) -> str:
        levels = "; ".join(f"{t.level} {t.describe()}" for t in self.thresholds)
        return (
            f"{get_instrument(self.instrument_id).short_name} {self.scale}: {levels}; judged "
            f"{self.decision_point.describe()}"
        )


@dataclass(frozen=True)
class Assessment:
    """One recorded score of one instrument at one time (``points`` of score ``scale``)."""

    instrument_id: str
    taken_at: Moment
    points: float
    scale: str = "total"

    @classmethod
    def of(cls, result: Score, taken_at: Moment, scale: str = "total") -> Assessment:
        """The assessment of a :class:`~ketaclinic.outcomes.Score` taken at ``taken_at``."""
        return cls(result.instrument_id, taken_at, result.value(scale).value, scale)


@dataclass(frozen=True)
class TrialDecision:
    """A recommendation with its reasons and every number it rests on."""

    recommendation: Recommendation
    reasons: tuple[str, ...]
    instrument_id: str
    instrument_version: str
    scale: str
    as_of: datetime
    course_start: datetime
    decision_point: datetime | None
    decision_point_rule: str
    sessions_done: int
    sessions_needed: int | None
    baseline_points: float | None
    latest_points: float | None
    drop_points: float | None
    drop_percent: float | None
    level: Level | None
    rules: tuple[RuleOutcome, ...]
    continuous_use_days: int
    assumptions: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommendation": self.recommendation,
            "reasons": list(self.reasons),
            "instrument": self.instrument_id,
            "instrument_version": self.instrument_version,
            "scale": self.scale,
            "as_of": self.as_of.isoformat(),
            "course_start": self.course_start.isoformat(),
            "decision_point": self.decision_point.isoformat() if self.decision_point else None,
            "decision_point_rule": self.decision_point_rule,
            "sessions_done": self.sessions_done,
            "sessions_needed": self.sessions_needed,
            "baseline_points": self.baseline_points,
            "latest_points": self.latest_points,
            "drop_points": self.drop_points,
            "drop_percent": self.drop_percent,
            "level": self.level,
            "rules": [r.to_dict() for r in self.rules],
            "continuous_use_days": self.continuous_use_days,
            "assumptions": list(self.assumptions),
        }


def _utc(moment: object, what: str) -> datetime:
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if isinstance(moment, date):
        return datetime.combine(moment, time(0, 0), tzinfo=UTC)
    raise UserInputError(f"{what} {moment!r} is not a date or date-time such as 2026-12-01")


def _day(moment: datetime) -> str:
    if moment.time() == time(0, 0):
        return moment.date().isoformat()
    return moment.isoformat(timespec="minutes").replace("+00:00", "Z")


def _pts(value: float) -> str:
    return f"{value:.3g}" if abs(value - round(value)) > 1e-9 else f"{round(value)}"


def _aggregate(values: list[float], how: str) -> float:
    return values[-1] if how == "latest" else sum(values) / len(values)


@dataclass(frozen=True)
class _Course:
    start: datetime
    as_of: datetime
    sessions: tuple[datetime, ...]
    series: tuple[tuple[datetime, float], ...]  # the followed score, by time


def _course(
    criteria: TrialRule,
    course_start: Moment,
    session_dates: Sequence[Moment],
    assessments: Sequence[Assessment],
    as_of: Moment,
) -> _Course:
    instrument = get_instrument(criteria.instrument_id)
    start = _utc(course_start, "course start")
    now = _utc(as_of, "as-of time")
    if isinstance(session_dates, str) or not isinstance(session_dates, Sequence):
        raise UserInputError("session dates must be a list of dates")
    sessions = sorted(_utc(s, "session date") for s in session_dates)
    early = [s for s in sessions if s < start]
    if early:
        raise UserInputError(
            f"session on {_day(early[0])} is before the course start {_day(start)}"
        )
    series = []
    for number, a in enumerate(assessments, 1):
        if not isinstance(a, Assessment):
            raise UserInputError(f"assessment {number} is not an Assessment")
        if get_instrument(a.instrument_id).id != instrument.id or a.scale != criteria.scale:
            continue
        taken = _utc(a.taken_at, f"assessment {number} time")
        if taken <= now:
            value = check_score_value(
                instrument, criteria.scale, a.points, f"assessment on {_day(taken)}"
            )
            series.append((taken, value))
    series.sort(key=lambda pair: pair[0])
    return _Course(start, now, tuple(s for s in sessions if s <= now), tuple(series))


def evaluate_trial(
    criteria: TrialRule,
    course_start: Moment,
    session_dates: Sequence[Moment],
    assessments: Sequence[Assessment],
    as_of: Moment,
) -> TrialDecision:
    """Judge a trial as of ``as_of`` against ``criteria`` (see the module docstring).

    >>> from datetime import date
    >>> from ketaclinic.outcomes import Threshold
    >>> rule = TrialRule(
    ...     instrument_id="phq-9",
    ...     thresholds=[Threshold(level="response", metric="percent_drop_from_baseline",
    ...                           at_least_percent=50, source="DOMAIN.md section 5")],
    ...     decision_point=DecisionPoint(after_sessions=2),
    ...     minimum_data=MinimumData(baseline_window_days=14))
    >>> phq = [Assessment("phq-9", date(2026, 12, 1), 20),
    ...        Assessment("phq-9", date(2026, 12, 4), 8)]
    >>> sessions = [date(2026, 12, 1), date(2026, 12, 3)]
    >>> d = evaluate_trial(rule, date(2026, 12, 1), sessions, phq, as_of=date(2026, 12, 5))
    >>> d.recommendation, d.baseline_points, d.latest_points, d.drop_percent
    ('continue', 20.0, 8.0, 60.0)
    """
    instrument = get_instrument(criteria.instrument_id)
    course = _course(criteria, course_start, session_dates, assessments, as_of)
    name = f"{instrument.short_name} {criteria.scale}"
    rule = criteria.decision_point
    data = criteria.minimum_data

    window_start = course.start - timedelta(days=data.baseline_window_days)
    before = [v for t, v in course.series if window_start <= t <= course.start]
    baseline = _aggregate(before, data.baseline_aggregate) if before else None
    after_start = [(t, v) for t, v in course.series if t > course.start]
    latest = after_start[-1][1] if after_start else None

    decision_point: datetime | None = None
    if rule.after_sessions is None:
        decision_point = course.start + timedelta(days=rule.after_days)
    elif len(course.sessions) >= rule.after_sessions:
        anchor = course.sessions[rule.after_sessions - 1]
        decision_point = anchor + timedelta(days=rule.after_days)
    last = course.sessions[-1] if course.sessions else None
    continuous_days = (last.date() - course.start.date()).days + 1 if last else 0

    def decide(
        recommendation: Recommendation, reasons: list[str], change: Change | None = None
    ) -> TrialDecision:
        drop: float | None = None
        percent: float | None = None
        if change is not None:
            drop, percent = change.drop_points, change.drop_percent
        elif baseline is not None and latest is not None:
            drop = baseline - latest
            percent = drop / baseline * 100 if baseline else None
        return TrialDecision(
            recommendation=recommendation,
            reasons=tuple(reasons),
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            scale=criteria.scale,
            as_of=course.as_of,
            course_start=course.start,
            decision_point=decision_point,
            decision_point_rule=rule.describe(),
            sessions_done=len(course.sessions),
            sessions_needed=rule.after_sessions,
            baseline_points=baseline,
            latest_points=change.follow_up_points if change else latest,
            drop_points=drop,
            drop_percent=percent,
            level=change.level if change else None,
            rules=change.outcomes if change else (),
            continuous_use_days=continuous_days,
            assumptions=criteria.assumptions,
        )

    if course.as_of < course.start:
        note = "" if baseline is not None else f"; record a {name} baseline before it"
        return decide("not_yet_due", [f"the course starts on {_day(course.start)}{note}"])
    if baseline is None and data.baseline_required:
        return decide(
            "insufficient_data",
            [
                f"no {name} baseline from {_day(window_start)} to the course start "
                f"{_day(course.start)} ({data.baseline_window_days} days before it): the trial "
                f"cannot be judged against a baseline"
            ],
        )
    if decision_point is None:
        return decide(
            "not_yet_due",
            [
                f"{len(course.sessions)} of {rule.after_sessions} sessions done; the trial is "
                f"judged {rule.describe()}"
            ],
        )
    if course.as_of < decision_point:
        return decide(
            "not_yet_due",
            [f"the trial is judged on {_day(decision_point)} ({rule.describe()})"],
        )
    follow_ups = [v for t, v in after_start if t >= decision_point]
    if len(follow_ups) < data.min_follow_up_assessments:
        return decide(
            "insufficient_data",
            [
                f"{len(follow_ups)} {name} assessment(s) at or after the decision point "
                f"{_day(decision_point)}; at least {data.min_follow_up_assessments} needed"
            ],
        )
    follow_up = _aggregate(follow_ups, data.follow_up_aggregate)
    change = compare_scores(instrument.id, baseline, follow_up, criteria.scale, criteria.thresholds)
    return decide(*_judge(criteria, change, name, decision_point, continuous_days), change)


def _judge(
    criteria: TrialRule, change: Change, name: str, decision_point: datetime, days: int
) -> tuple[Recommendation, list[str]]:
    moved = f"{name} {_pts(change.follow_up_points)} points at the decision point"
    if change.baseline_points is not None and change.drop_points is not None:
        percent = f", {_pts(change.drop_percent)} %" if change.drop_percent is not None else ""
        moved = (
            f"{name} {_pts(change.baseline_points)} -> {_pts(change.follow_up_points)} points "
            f"(drop {_pts(change.drop_points)} points{percent}) at the decision point "
            f"{_day(decision_point)}"
        )
    met = [o for o in change.outcomes if o.met]
    level = change.level
    if level in SUCCESS_LEVELS:
        best = next(o for o in met if o.level == level)
        return "continue", [moved, f"{level}: {best.rule} met ({best.source})"]
    if level in PARTIAL_LEVELS:
        best = next(o for o in met if o.level == level)
        verdict: Recommendation = criteria.on_partial
        return verdict, [
            moved,
            f"{level} only: {best.rule} met, no {'/'.join(SUCCESS_LEVELS)} threshold met; the "
            f"protocol recommends '{verdict}' on a partial result",
        ]
    wanted = "; ".join(o.rule for o in change.outcomes if o.level in SUCCESS_LEVELS)
    reasons = [moved, f"no clear benefit: none of {wanted} met"]
    limit = criteria.taper_after_continuous_days
    if limit is not None and days > limit:
        reasons.append(
            f"continuous use for {days} days (more than {limit}): taper rather than stop "
            f"({criteria.taper_source})"
        )
        return "taper", reasons
    if criteria.on_failure == "taper":
        return "taper", reasons
    return "stop", reasons
