"""Scoring an instrument: answers in, a frozen result out (scores, bands, alerts, version).

Incomplete, extra and out-of-range answers are refused with a message that names the item and
the accepted range; nothing is guessed or prorated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ketaclinic.errors import OutOfRangeError, UnknownNameError, UserInputError
from ketaclinic.outcomes._loader import get_instrument
from ketaclinic.outcomes._schema import Instrument

__all__ = ["Alert", "Score", "ScoreValue", "score"]


@dataclass(frozen=True)
class ScoreValue:
    """One computed score (``total``, or a sub-scale such as ``interference``)."""

    id: str
    label: str
    value: float
    low: float
    high: float
    band: str | None
    loinc: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "value_points": self.value,
            "range_points": [self.low, self.high],
            "band": self.band,
            "loinc": self.loinc,
        }


@dataclass(frozen=True)
class Alert:
    """A finding that needs action now, such as PHQ-9 item 9 above 0."""

    id: str
    message: str
    action: str
    value: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message": self.message,
            "action": self.action,
            "value": self.value,
            "source": self.source,
        }


@dataclass(frozen=True)
class Score:
    """The result of scoring one set of answers with one instrument version.

    >>> s = score("phq-9", [1, 1, 1, 1, 1, 1, 1, 1, 0])
    >>> s.total, s.band, s.alerts
    (8.0, 'mild', ())
    """

    instrument_id: str
    instrument_name: str
    instrument_short_name: str
    instrument_version: str
    answers: tuple[tuple[str, int], ...]
    values: tuple[ScoreValue, ...]
    alerts: tuple[Alert, ...]

    def value(self, score_id: str = "total") -> ScoreValue:
        """One score by id; :class:`UnknownNameError` lists the scores this instrument has."""
        for v in self.values:
            if v.id == score_id:
                return v
        names = ", ".join(v.id for v in self.values)
        raise UnknownNameError(
            f"{self.instrument_short_name} has no score {score_id!r}; accepted: {names}"
        )

    @property
    def total(self) -> float | None:
        """The ``total`` score, or None for an instrument that has only sub-scales (BPI)."""
        return next((v.value for v in self.values if v.id == "total"), None)

    @property
    def band(self) -> str | None:
        """The band of the ``total`` score, where the instrument defines bands."""
        return next((v.band for v in self.values if v.id == "total"), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument_id,
            "instrument_name": self.instrument_name,
            "instrument_version": self.instrument_version,
            "answers": dict(self.answers),
            "total_points": self.total,
            "band": self.band,
            "scores": [v.to_dict() for v in self.values],
            "alerts": [a.to_dict() for a in self.alerts],
        }


def _items(ids: list[str]) -> str:
    return f"item {ids[0]} is" if len(ids) == 1 else f"items {', '.join(ids)} are"


def _as_mapping(instrument: Instrument, answers: object) -> dict[str, object]:
    ids = [i.id for i in instrument.items]
    name = instrument.short_name
    if isinstance(answers, Mapping):
        given = {str(k): v for k, v in answers.items()}
        extra = [k for k in given if k not in ids]
        if extra:
            raise UserInputError(
                f"{name} has no item {', '.join(map(repr, extra))}; items: {', '.join(ids)}"
            )
        missing = [i for i in ids if i not in given]
        if missing:
            raise UserInputError(
                f"{name}: {_items(missing)} missing; every item ({', '.join(ids)}) needs an answer"
            )
        return given
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise UserInputError(
            f"{name} answers must be a list of {len(ids)} integers (items {', '.join(ids)} "
            f"in order) or a mapping of item to answer"
        )
    values = list(answers)
    if len(values) < len(ids):
        missing = ids[len(values) :]
        raise UserInputError(
            f"{name} needs {len(ids)} answers (items {', '.join(ids)} in order); got "
            f"{len(values)}: {_items(missing)} missing"
        )
    if len(values) > len(ids):
        raise UserInputError(
            f"{name} needs {len(ids)} answers (items {', '.join(ids)} in order); got "
            f"{len(values)}: {len(values) - len(ids)} extra"
        )
    return dict(zip(ids, values, strict=True))


def _checked_answer(instrument: Instrument, item_id: str, raw: object) -> int:
    item = next(i for i in instrument.items if i.id == item_id)
    accepted = instrument.answer_sets[item.answers]
    labels = "; ".join(f"{k} {v}" for k, v in sorted(accepted.labels.items()))
    hint = f"{accepted.describe()}" + (f" ({labels})" if labels else "")
    where = f"{instrument.short_name} item {item_id}"
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise UserInputError(f"{where} answer {raw!r} is not accepted; accepted: {hint}")
    if isinstance(raw, float) and not (math.isfinite(raw) and raw.is_integer()):
        raise UserInputError(f"{where} answer {raw!r} is not a whole number; accepted: {hint}")
    number = int(raw)
    if not accepted.min <= number <= accepted.max:
        raise OutOfRangeError(
            f"{where} answer {number} is outside the accepted range; accepted: {hint}"
        )
    return number


def score(instrument_id: str, answers: Mapping[str, int] | Sequence[int]) -> Score:
    """Score one set of answers.

    ``answers`` is a list in item order, or a mapping of item id to answer. Every item needs
    an integer answer inside its range; anything else raises a
    :class:`~ketaclinic.errors.UserInputError` naming the item and what is accepted.

    >>> score("gad-7", [3, 3, 3, 3, 3, 0, 0]).band
    'severe'
    >>> score("phq-9", [0] * 8 + [1]).alerts[0].action
    'same-day clinical review'
    >>> score("phq-9", [0] * 8)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ketaclinic.errors.UserInputError: PHQ-9 needs 9 answers (items 1, ... in order); got 8: ...
    """
    instrument = get_instrument(instrument_id)
    given = _as_mapping(instrument, answers)
    checked = {i.id: _checked_answer(instrument, i.id, given[i.id]) for i in instrument.items}
    values = []
    for rule in instrument.scores:
        numbers = [checked[i.id] for i in instrument.items_of(rule)]
        value = float(sum(numbers)) / (len(numbers) if rule.method == "mean" else 1)
        low, high = instrument.score_range(rule.id)
        band = instrument.band_for(rule.id, value)
        values.append(
            ScoreValue(
                rule.id, rule.label, value, low, high, band.label if band else None, rule.loinc
            )
        )
    by_score = {v.id: v.value for v in values}
    alerts = []
    for alert in instrument.alerts:
        observed = float(checked[alert.item]) if alert.item else by_score[str(alert.score)]
        if alert.fires(observed):
            alerts.append(Alert(alert.id, alert.message, alert.action, observed, alert.source))
    return Score(
        instrument.id,
        instrument.name,
        instrument.short_name,
        instrument.version,
        tuple(checked.items()),
        tuple(values),
        tuple(alerts),
    )
