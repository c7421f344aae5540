"""The dose value: one immutable :class:`Dose` that every layer passes around.

A dose keeps the form in which it was given: an amount (mg or mg/kg) given at once or over a
duration, or a rate (mg/h, mg/kg/h, mg/min, mg/24h...) for a duration, with a start and an
optional repeat. It renders back to what was typed (``str(dose)`` is dose-grammar text) and
serialises to JSON with the unit in every key (:meth:`Dose.to_json`, :meth:`Dose.from_json`)
without loss, so records store exactly this. The engine works on its single events
(:meth:`Dose.occurrences`, :func:`expand_doses`). The grammar that parses text into a Dose is
in ``_dose_grammar.py``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from ketaclinic.errors import DoseSyntaxError, RefusedRouteError
from ketaclinic.ranges import DOSE_COUNT, TIME_MIN

__all__ = [
    "NEURAXIAL_REFUSAL",
    "Dose",
    "DoseUnit",
    "Route",
    "TimeUnit",
    "expand_doses",
    "plain_number",
    "route_of",
]

FloatArray = NDArray[np.float64]


class Route(StrEnum):
    """Physical route of administration."""

    IV = "iv"
    SC = "sc"
    IM = "im"
    ORAL = "oral"
    INTRANASAL = "intranasal"
    SUBLINGUAL = "sublingual"
    RECTAL = "rectal"

    @property
    def allows_infusion(self) -> bool:
        return self in (Route.IV, Route.SC)


NEURAXIAL_REFUSAL = (
    "{route} ketamine is refused: neuraxial (intrathecal/epidural) ketamine is neurotoxic "
    "(preservatives such as chlorobutanol and benzethonium; spinal toxicity reported) and is not "
    "an approved route (Miller's Anesthesia; ASRA/AAPM/ASA chronic pain guideline, Cohen 2018, "
    "Reg Anesth Pain Med 43:521). Use iv, sc, im, oral, intranasal, sublingual or rectal."
)

# route word -> (route, is_infusion); the first word of each route is the one str() writes
ROUTE_WORDS: Mapping[str, tuple[Route, bool]] = {
    "iv-bolus": (Route.IV, False),
    "iv-infusion": (Route.IV, True),
    "sc": (Route.SC, False),
    "sc-bolus": (Route.SC, False),
    "sc-infusion": (Route.SC, True),
    "im": (Route.IM, False),
    "oral": (Route.ORAL, False),
    "po": (Route.ORAL, False),
    "intranasal": (Route.INTRANASAL, False),
    "sublingual": (Route.SUBLINGUAL, False),
    "rectal": (Route.RECTAL, False),
}
ROUTE_WORD_SYNONYMS = frozenset({"po", "sc-bolus"})
NEURAXIAL_WORDS: Mapping[str, str] = {
    "intrathecal": "Intrathecal",
    "it": "Intrathecal",
    "spinal": "Spinal (intrathecal)",
    "epidural": "Epidural",
    "caudal": "Caudal (epidural)",
    "neuraxial": "Neuraxial",
    "intrathecal-bolus": "Intrathecal",
    "epidural-infusion": "Epidural",
    "epidural-bolus": "Epidural",
}


def route_of(word: str) -> tuple[Route, bool]:
    """The route (and whether it is an infusion) a route word names.

    Accepts the dose grammar's route words (``iv-infusion``, ``sc``, ``po``...) and the plain
    route names (``iv``, ``oral``...). Neuraxial words raise :class:`RefusedRouteError`; other
    unknown words :class:`DoseSyntaxError` listing what is accepted.

    >>> route_of("iv-infusion"), route_of("IV")
    ((<Route.IV: 'iv'>, True), (<Route.IV: 'iv'>, False))
    >>> route_of("epidural")
    Traceback (most recent call last):
    ...
    ketaclinic.errors.RefusedRouteError: Epidural ketamine is refused: neuraxial \
(intrathecal/epidural) ketamine is neurotoxic (preservatives such as chlorobutanol and \
benzethonium; spinal toxicity reported) and is not an approved route (Miller's Anesthesia; \
ASRA/AAPM/ASA chronic pain guideline, Cohen 2018, Reg Anesth Pain Med 43:521). Use iv, sc, im, \
oral, intranasal, sublingual or rectal.
    """
    key = str(word).strip().lower()
    if key in NEURAXIAL_WORDS:
        raise RefusedRouteError(NEURAXIAL_REFUSAL.format(route=NEURAXIAL_WORDS[key]))
    if key in ROUTE_WORDS:
        return ROUTE_WORDS[key]
    for route in Route:
        if key == route.value:
            return route, False
    accepted = ", ".join(k for k in ROUTE_WORDS if k not in ROUTE_WORD_SYNONYMS)
    raise DoseSyntaxError(f"unknown route {word!r}; accepted: {accepted}")


class TimeUnit(StrEnum):
    """The unit a time was written in (times are kept in minutes; the unit is for display)."""

    S = "s"
    MIN = "min"
    H = "h"
    D = "d"

    @property
    def minutes(self) -> float:
        return _MINUTES[self]


_MINUTES = {TimeUnit.S: 1.0 / 60.0, TimeUnit.MIN: 1.0, TimeUnit.H: 60.0, TimeUnit.D: 1440.0}


class DoseUnit(StrEnum):
    """The unit of the number a dose was given in: an amount or a rate."""

    MG = "mg"
    MG_PER_KG = "mg/kg"
    MG_PER_MIN = "mg/min"
    MG_PER_H = "mg/h"
    MG_PER_24H = "mg/24h"
    MG_PER_KG_PER_MIN = "mg/kg/min"
    MG_PER_KG_PER_H = "mg/kg/h"
    MG_PER_KG_PER_24H = "mg/kg/24h"

    @property
    def per_kg(self) -> bool:
        return "/kg" in self.value

    @property
    def is_rate(self) -> bool:
        return self not in (DoseUnit.MG, DoseUnit.MG_PER_KG)

    @property
    def rate_minutes(self) -> float:
        """Minutes in this rate's time unit (1, 60 or 1440); 0 for an amount."""
        if not self.is_rate:
            return 0.0
        return {"min": 1.0, "h": 60.0, "24h": 1440.0}[self.value.rsplit("/", 1)[1]]

    @property
    def json_key(self) -> str:
        """The JSON key that carries a number in this unit, e.g. ``rate_mg_per_kg_per_h``."""
        kind = "rate" if self.is_rate else "amount"
        return f"{kind}_" + self.value.replace("/", "_per_")


_BY_JSON_KEY = {unit.json_key: unit for unit in DoseUnit}


def plain_number(value: float) -> str:
    """A number as people write it: no exponent, no trailing zeros, 12 significant digits.

    >>> plain_number(0.25), plain_number(1440.0), plain_number(1e-05), plain_number(0.1 + 0.2)
    ('0.25', '1440', '0.00001', '0.3')
    """
    text = f"{value:.12g}"
    if "e" in text:
        text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _time_text(minutes: float, unit: TimeUnit) -> str:
    return f"{plain_number(minutes / unit.minutes)} {unit}"


def _finite(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DoseSyntaxError(f"dose {what} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise DoseSyntaxError(f"dose {what} must be a finite number, got {value!r}")
    return number


@dataclass(frozen=True)
class Dose:
    """One dose as given: ``value`` in ``unit``, at ``start_min``, over/for ``duration_min``,
    repeated ``count`` times every ``every_min``.

    A bolus has ``duration_min == 0``; an infusion gives an amount over its duration or runs
    at a rate for its duration. ``duration_unit``, ``start_unit`` and ``every_unit`` say how the
    times were written, so the dose renders back as typed.

    >>> d = Dose(Route.IV, 0.25, DoseUnit.MG_PER_KG_PER_H, duration_min=1440,
    ...          duration_unit=TimeUnit.H, start_min=60)
    >>> str(d)
    'iv-infusion 0.25 mg/kg/h for 24 h at 60 min'
    >>> d.amount_mg(70.0), d.rate_mg_per_h(70.0)
    (420.0, 17.5)
    >>> Dose.from_json(d.to_json()) == d
    True
    """

    route: Route
    value: float
    unit: DoseUnit = DoseUnit.MG
    duration_min: float = 0.0
    start_min: float = 0.0
    every_min: float | None = None
    count: int = 1
    duration_unit: TimeUnit = TimeUnit.MIN
    start_unit: TimeUnit = TimeUnit.MIN
    every_unit: TimeUnit = TimeUnit.H

    def __post_init__(self) -> None:
        route = self.route
        if not isinstance(route, Route):
            route = route_of(str(route))[0]
            object.__setattr__(self, "route", route)
        unit = self.unit if isinstance(self.unit, DoseUnit) else _dose_unit(self.unit)
        object.__setattr__(self, "unit", unit)
        for name in ("duration_unit", "start_unit", "every_unit"):
            raw = getattr(self, name)
            object.__setattr__(self, name, raw if isinstance(raw, TimeUnit) else _time_unit(raw))
        for name in ("value", "duration_min", "start_min"):
            object.__setattr__(self, name, _finite(getattr(self, name), name))
        if self.value <= 0:
            raise DoseSyntaxError(
                f"dose must be above 0 {unit}, got {plain_number(self.value)} {unit}"
            )
        if self.start_min < 0:
            raise DoseSyntaxError(
                f"dose start must be at or after 0 min, got {plain_number(self.start_min)} min"
            )
        if self.duration_min < 0:
            raise DoseSyntaxError(
                f"infusion duration must be above 0 min, got {plain_number(self.duration_min)} min"
            )
        if self.duration_min > 0 and not route.allows_infusion:
            raise DoseSyntaxError(
                f"the {route} route takes a single dose, not an infusion; infusions are iv or sc"
            )
        if unit.is_rate and self.duration_min <= 0:
            raise DoseSyntaxError(
                f"a rate in {unit} needs a duration, for example "
                f"'{plain_number(self.value)} {unit} for 24 h'"
            )
        self._check_repeat()
        # display units of parts a dose does not have carry no information: keep them canonical
        if self.duration_min == 0:
            object.__setattr__(self, "duration_unit", TimeUnit.MIN)
        if self.every_min is None:
            object.__setattr__(self, "every_unit", TimeUnit.H)
        last_end = self.end_min
        if not TIME_MIN.contains(last_end):
            raise DoseSyntaxError(
                f"{self} ends at {plain_number(last_end)} min; doses must end within "
                f"{TIME_MIN.describe()} (one year)"
            )

    def _check_repeat(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            raise DoseSyntaxError(f"dose count must be a whole number, got {self.count!r}")
        if not DOSE_COUNT.contains(self.count):
            raise DoseSyntaxError(
                f"dose count {self.count} is not accepted; accepted: {DOSE_COUNT.describe()}"
            )
        if self.every_min is None:
            if self.count != 1:
                raise DoseSyntaxError("a repeated dose needs an interval ('every 8 h x 3')")
            return
        every = _finite(self.every_min, "interval")
        object.__setattr__(self, "every_min", every)
        if every <= 0:
            raise DoseSyntaxError(f"interval must be above 0 min, got {plain_number(every)} min")
        if self.duration_min > every:
            raise DoseSyntaxError(
                "infusions overlap: the duration "
                f"({_time_text(self.duration_min, self.duration_unit)}) is longer than the "
                f"interval ({_time_text(every, self.every_unit)})"
            )

    # --- what the dose is -------------------------------------------------------------------

    @property
    def per_kg(self) -> bool:
        """True when the number is per kg of body weight (mg/kg, mg/kg/h...)."""
        return self.unit.per_kg

    @property
    def is_infusion(self) -> bool:
        return self.duration_min > 0

    @property
    def is_rate(self) -> bool:
        return self.unit.is_rate

    @property
    def end_min(self) -> float:
        """When the last occurrence ends."""
        return self.last_start_min + self.duration_min

    @property
    def last_start_min(self) -> float:
        return self.start_min + (self.count - 1) * (self.every_min or 0.0)

    @property
    def route_word(self) -> str:
        """The dose grammar's word for this route and form (``iv-infusion``, ``oral``...)."""
        if self.route is Route.IV:
            return "iv-infusion" if self.is_infusion else "iv-bolus"
        if self.route is Route.SC and self.is_infusion:
            return "sc-infusion"
        return str(self.route)

    @overload
    def amount_mg(self, weight_kg: float) -> float: ...
    @overload
    def amount_mg(self, weight_kg: FloatArray) -> FloatArray: ...
    def amount_mg(self, weight_kg: float | FloatArray) -> float | FloatArray:
        """mg given by one occurrence for a patient of ``weight_kg`` (a float, or a NumPy
        array of weights for many patients: then an array of the same shape)."""
        amount = self.value
        if self.unit.is_rate:
            amount = self.value * self.duration_min / self.unit.rate_minutes
        if self.per_kg:
            return amount * weight_kg
        if isinstance(weight_kg, np.ndarray):
            return np.full(weight_kg.shape, amount)
        return amount

    def total_mg(self, weight_kg: float) -> float:
        """mg given by every occurrence together."""
        return float(self.amount_mg(weight_kg)) * self.count

    def rate_mg_per_h(self, weight_kg: float) -> float:
        """Infusion rate in mg/h (0 for a bolus)."""
        if not self.is_infusion:
            return 0.0
        return float(self.amount_mg(weight_kg)) / self.duration_min * 60.0

    def amount_mg_between(self, weight_kg: float, low_min: float, high_min: float) -> float:
        """mg given in ``[low_min, high_min)`` (dose time, min); an infusion counts pro rata."""
        total = 0.0
        mg = float(self.amount_mg(weight_kg))
        for event in self.occurrences():
            if event.duration_min <= 0:
                total += mg if low_min <= event.start_min < high_min else 0.0
                continue
            overlap = min(event.end_min, high_min) - max(event.start_min, low_min)
            total += mg * max(overlap, 0.0) / event.duration_min
        return total

    def occurrences(self) -> tuple[Dose, ...]:
        """The single dose events this dose stands for (repeats expanded)."""
        if self.count == 1:
            return (self,)
        every = self.every_min or 0.0
        return tuple(
            replace(self, start_min=self.start_min + i * every, every_min=None, count=1)
            for i in range(self.count)
        )

    def replace(self, **changes: Any) -> Dose:
        """A copy with ``changes`` applied (validated again)."""
        return replace(self, **changes)

    # --- text and JSON ------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return str(self)

    def __str__(self) -> str:
        text = f"{self.route_word} {plain_number(self.value)} {self.unit}"
        if self.is_infusion:
            word = "for" if self.unit.is_rate else "over"
            text += f" {word} {_time_text(self.duration_min, self.duration_unit)}"
        if self.every_min is not None:
            text += f" every {_time_text(self.every_min, self.every_unit)} x {self.count}"
        return text + f" at {_time_text(self.start_min, self.start_unit)}"

    def to_json(self) -> dict[str, Any]:
        """The dose as JSON: the number under a key naming its unit, times in min, the text.

        >>> Dose(Route.ORAL, 25, every_min=480, count=3).to_json()["amount_mg"]
        25.0
        """
        return {
            "text": str(self),
            "route": str(self.route),
            "form": "infusion" if self.is_infusion else "bolus",
            self.unit.json_key: self.value,
            "duration_min": self.duration_min,
            "start_min": self.start_min,
            "every_min": self.every_min,
            "count": self.count,
            "duration_unit": str(self.duration_unit),
            "start_unit": str(self.start_unit),
            "every_unit": str(self.every_unit),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Dose:
        """The dose :meth:`to_json` wrote; a ``text`` that disagrees with the fields is refused."""
        if not isinstance(data, Mapping):
            raise DoseSyntaxError(f"a dose in JSON must be an object, got {type(data).__name__}")
        known = {"text", "route", "form", "duration_min", "start_min", "every_min", "count"}
        known |= {"duration_unit", "start_unit", "every_unit"} | set(_BY_JSON_KEY)
        extra = sorted(set(data) - known)
        if extra:
            raise DoseSyntaxError(f"unknown dose fields {', '.join(extra)}")
        quantities = [k for k in data if k in _BY_JSON_KEY]
        if len(quantities) != 1:
            raise DoseSyntaxError(
                "a dose in JSON needs exactly one of "
                + ", ".join(_BY_JSON_KEY)
                + f"; got {', '.join(quantities) or 'none'}"
            )
        key = quantities[0]
        dose = cls(
            route=data.get("route", ""),
            value=data[key],
            unit=_BY_JSON_KEY[key],
            duration_min=data.get("duration_min", 0.0),
            start_min=data.get("start_min", 0.0),
            every_min=data.get("every_min"),
            count=data.get("count", 1),
            duration_unit=data.get("duration_unit", TimeUnit.MIN),
            start_unit=data.get("start_unit", TimeUnit.MIN),
            every_unit=data.get("every_unit", TimeUnit.H),
        )
        form = data.get("form")
        if form is not None and form != ("infusion" if dose.is_infusion else "bolus"):
            raise DoseSyntaxError(f"dose form {form!r} disagrees with its fields ({dose})")
        text = data.get("text")
        if text is not None and text != str(dose):
            raise DoseSyntaxError(f"dose text {text!r} disagrees with its fields ({dose})")
        return dose


def _dose_unit(raw: Any) -> DoseUnit:
    try:
        return DoseUnit(str(raw))
    except ValueError:
        accepted = ", ".join(u.value for u in DoseUnit)
        raise DoseSyntaxError(f"dose unit {raw!r} is not accepted; accepted: {accepted}") from None


def _time_unit(raw: Any) -> TimeUnit:
    try:
        return TimeUnit(str(raw))
    except ValueError:
        accepted = ", ".join(u.value for u in TimeUnit)
        raise DoseSyntaxError(f"time unit {raw!r} is not accepted; accepted: {accepted}") from None


def expand_doses(doses: Iterable[Dose]) -> list[Dose]:
    """Every single dose event of ``doses`` (repeats expanded), sorted by start time.

    The engine works on these; a :class:`Dose` keeps the form in which it was given.

    >>> [str(d) for d in expand_doses([Dose(Route.ORAL, 25, every_min=480, count=2)])]
    ['oral 25 mg at 0 min', 'oral 25 mg at 480 min']
    """
    return sorted((e for d in doses for e in d.occurrences()), key=lambda d: d.start_min)
