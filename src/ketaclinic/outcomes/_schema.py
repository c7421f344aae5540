"""The instrument schema: every instrument data file is validated against these models at load.

An instrument holds its items (answers are integers in a declared range), one or more scores
(``total`` for most; ``severity`` and ``interference`` for the BPI), severity bands that
partition a score's range, alerts on an item or a score, and the change rules (response,
remission...) that say what a drop from baseline means, each with its source.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "LEVELS",
    "AlertRule",
    "AnswerSet",
    "Band",
    "Instrument",
    "Item",
    "Level",
    "Metric",
    "ScoreRule",
    "Threshold",
]

Level = Literal["remission", "substantial", "response", "partial", "minimal_important"]
"""How good a change is, best first (see :data:`LEVELS`)."""

LEVELS: tuple[Level, ...] = ("remission", "substantial", "response", "partial", "minimal_important")
"""Every level, best first: a follow-up is classified by the best level whose rule it meets."""

Metric = Literal["percent_drop_from_baseline", "points_drop_from_baseline", "below"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Threshold(_Frozen):
    """One rule of a level: ``at_least_percent`` drop, ``at_least_points`` drop, or a score
    ``below_points`` (strictly below). The field carries the unit; exactly the one that fits
    ``metric`` is given.

    >>> Threshold(level="response", metric="percent_drop_from_baseline", at_least_percent=50,
    ...           source="DOMAIN.md").value
    50.0
    """

    level: Level
    metric: Metric
    at_least_percent: float | None = Field(default=None, gt=0, le=100)
    at_least_points: float | None = Field(default=None, gt=0)
    below_points: float | None = None
    label: str = ""
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _one_value(self) -> Threshold:
        wanted = {
            "percent_drop_from_baseline": "at_least_percent",
            "points_drop_from_baseline": "at_least_points",
            "below": "below_points",
        }[self.metric]
        given = [
            f
            for f in ("at_least_percent", "at_least_points", "below_points")
            if getattr(self, f) is not None
        ]
        if given != [wanted]:
            raise ValueError(f"metric {self.metric} needs exactly {wanted}; got {given or 'none'}")
        return self

    @property
    def value(self) -> float:
        """The threshold in its unit (percent or points)."""
        for name in ("at_least_percent", "at_least_points", "below_points"):
            number = getattr(self, name)
            if number is not None:
                return float(number)
        raise AssertionError("validated: one value is set")  # pragma: no cover

    @property
    def unit(self) -> str:
        return "%" if self.metric == "percent_drop_from_baseline" else "points"

    @property
    def needs_baseline(self) -> bool:
        return self.metric != "below"

    def describe(self) -> str:
        """``">= 50 % drop from baseline"``, ``">= 2 points drop"``, ``"below 5 points"``."""
        v = f"{self.value:g}"
        if self.metric == "percent_drop_from_baseline":
            return f">= {v} % drop from baseline"
        if self.metric == "points_drop_from_baseline":
            return f">= {v} points drop from baseline"
        return f"below {v} points"


class AnswerSet(_Frozen):
    """The integer answers an item accepts, with a label for some or all of them."""

    min: int
    max: int
    labels: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _labels_inside(self) -> AnswerSet:
        if self.max <= self.min:
            raise ValueError(f"answer range {self.min}-{self.max} is empty")
        outside = [k for k in self.labels if not self.min <= k <= self.max]
        if outside:
            raise ValueError(f"labels {outside} lie outside {self.min}-{self.max}")
        return self

    def describe(self) -> str:
        return f"integers {self.min}-{self.max}"


class Item(_Frozen):
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    text: str = Field(min_length=3)
    answers: str
    loinc: str | None = Field(default=None, pattern=r"^\d{1,7}-\d$")


class Band(_Frozen):
    """An inclusive score band such as 5-9 ``mild``."""

    low: float
    high: float
    label: str

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


class ScoreRule(_Frozen):
    """How one score is computed from the answers, with its bands and change rules."""

    id: str = Field(pattern=r"^[a-z_]+$")
    label: str
    method: Literal["sum", "mean", "single"]
    items: tuple[str, ...] = ()
    loinc: str | None = Field(default=None, pattern=r"^\d{1,7}-\d$")
    bands: tuple[Band, ...] = ()
    bands_source: str | None = None
    change_rules: tuple[Threshold, ...] = ()


class AlertRule(_Frozen):
    """Raise ``message`` when an item answer or a score is above or below a value."""

    id: str = Field(pattern=r"^[a-z0-9_.-]+$")
    item: str | None = None
    score: str | None = None
    above: float | None = None
    below: float | None = None
    action: str = Field(min_length=3)
    message: str = Field(min_length=3)
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _one_target(self) -> AlertRule:
        if (self.item is None) == (self.score is None):
            raise ValueError(f"alert {self.id}: give exactly one of item or score")
        if (self.above is None) == (self.below is None):
            raise ValueError(f"alert {self.id}: give exactly one of above or below")
        return self

    def fires(self, value: float) -> bool:
        if self.above is not None:
            return value > self.above
        return self.below is not None and value < self.below


class Instrument(_Frozen):
    """One outcome or monitoring instrument (one YAML file in ``outcomes/data/instruments``)."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    short_name: str = Field(min_length=2, max_length=12)
    version: str = Field(min_length=1)
    kind: Literal["patient_reported", "clinician_rated"]
    recall: str
    source: str = Field(min_length=5)
    licence: str = Field(min_length=5)
    item_texts: Literal["verbatim", "own_labels"]
    loinc_panel: str | None = Field(default=None, pattern=r"^\d{1,7}-\d$")
    loinc_note: str = ""
    answer_sets: dict[str, AnswerSet] = Field(min_length=1)
    items: tuple[Item, ...] = Field(min_length=1)
    scores: tuple[ScoreRule, ...] = Field(min_length=1)
    alerts: tuple[AlertRule, ...] = ()
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        ids = [i.id for i in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError(f"item ids repeat: {ids}")
        for item in self.items:
            if item.answers not in self.answer_sets:
                raise ValueError(f"item {item.id}: answer set {item.answers!r} is not declared")
        score_ids = [s.id for s in self.scores]
        if len(set(score_ids)) != len(score_ids):
            raise ValueError(f"score ids repeat: {score_ids}")
        for rule in self.scores:
            self._check_score(rule, ids)
        for alert in self.alerts:
            if alert.item is not None and alert.item not in ids:
                raise ValueError(f"alert {alert.id}: item {alert.item!r} is not an item")
            if alert.score is not None and alert.score not in score_ids:
                raise ValueError(f"alert {alert.id}: score {alert.score!r} is not a score")
        return self

    def _check_score(self, rule: ScoreRule, ids: list[str]) -> None:
        unknown = [i for i in rule.items if i not in ids]
        if unknown:
            raise ValueError(f"score {rule.id}: items {unknown} are not items")
        if rule.method == "single" and len(self.items_of(rule)) != 1:
            raise ValueError(f"score {rule.id}: method 'single' needs exactly one item")
        if rule.bands:
            if rule.method == "mean":
                raise ValueError(f"score {rule.id}: bands need an integer score (sum or single)")
            if not rule.bands_source:
                raise ValueError(f"score {rule.id}: bands need bands_source")
            low, high = self.score_range(rule.id)
            edges = [low, *[b.high + 1 for b in rule.bands]]
            if [b.low for b in rule.bands] != edges[:-1] or rule.bands[-1].high != high:
                raise ValueError(
                    f"score {rule.id}: bands must partition {low:g}-{high:g} without gaps"
                )
        low, high = self.score_range(rule.id)
        for t in rule.change_rules:
            if t.metric == "below" and not low < t.value <= high:
                raise ValueError(f"score {rule.id}: {t.describe()} lies outside {low:g}-{high:g}")
            if t.metric == "points_drop_from_baseline" and t.value > high - low:
                raise ValueError(f"score {rule.id}: {t.describe()} exceeds the range")

    def items_of(self, rule: ScoreRule) -> tuple[Item, ...]:
        """The items a score is computed from (all items when the rule names none)."""
        if not rule.items:
            return self.items
        by_id = {i.id: i for i in self.items}
        return tuple(by_id[i] for i in rule.items)

    def score_rule(self, score_id: str) -> ScoreRule:
        for rule in self.scores:
            if rule.id == score_id:
                return rule
        raise KeyError(score_id)

    def score_range(self, score_id: str) -> tuple[float, float]:
        """The lowest and highest possible value of a score."""
        rule = self.score_rule(score_id)
        sets = [self.answer_sets[i.answers] for i in self.items_of(rule)]
        low, high = float(sum(s.min for s in sets)), float(sum(s.max for s in sets))
        if rule.method == "mean":
            return low / len(sets), high / len(sets)
        return low, high

    def band_for(self, score_id: str, value: float) -> Band | None:
        for band in self.score_rule(score_id).bands:
            if band.contains(value):
                return band
        return None
