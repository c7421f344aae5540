"""Dose events and the dose grammar shared by people, scripts, the CLI and the API.

A dose is written as one line::

    ROUTE AMOUNT UNIT [over|for DURATION TIME-UNIT] [every INTERVAL TIME-UNIT x COUNT]
                      [at START TIME-UNIT]

Units are part of the grammar and are checked against the route: a bolus takes an amount
(mg or mg/kg), an infusion takes an amount with a duration (``over 40 min``) or a rate with a
duration (``0.25 mg/kg/h for 24 h``). Micrograms, grams, units, millilitres and naked decimals
(``.5``) are refused with a message that says what is expected, because each is a known source
of tenfold to thousandfold dosing errors (ISMP list of error-prone abbreviations).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.errors import DoseSyntaxError, RefusedRouteError

__all__ = [
    "DOSE_GRAMMAR_HELP",
    "NEURAXIAL_REFUSAL",
    "Dose",
    "Route",
    "expand_doses",
    "parse_dose",
    "parse_doses",
    "parse_duration_min",
]


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

# keyword -> (route, is_infusion)
_ROUTE_WORDS: dict[str, tuple[Route, bool]] = {
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
_NEURAXIAL_WORDS = {
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

_MIN_PER = {
    "s": 1 / 60,
    "sec": 1 / 60,
    "min": 1.0,
    "mins": 1.0,
    "h": 60.0,
    "hr": 60.0,
    "hrs": 60.0,
    "hour": 60.0,
    "hours": 60.0,
    "d": 1440.0,
    "day": 1440.0,
    "days": 1440.0,
}
_TIME_UNITS_TEXT = "s, min, h or d"

# amount units: unit -> per_kg
_AMOUNT_UNITS = {"mg": False, "mg/kg": True}
# rate units: unit -> (per_kg, minutes per rate time unit)
_RATE_UNITS = {
    "mg/min": (False, 1.0),
    "mg/h": (False, 60.0),
    "mg/hr": (False, 60.0),
    "mg/24h": (False, 1440.0),
    "mg/d": (False, 1440.0),
    "mg/day": (False, 1440.0),
    "mg/kg/min": (True, 1.0),
    "mg/kg/h": (True, 60.0),
    "mg/kg/hr": (True, 60.0),
    "mg/kg/24h": (True, 1440.0),
    "mg/kg/d": (True, 1440.0),
    "mg/kg/day": (True, 1440.0),
}
_REFUSED_UNITS = [
    (
        re.compile(r"^(mcg|ug|µg|μg|microgram|micrograms)(/|$)"),
        "micrograms are not accepted: give ketamine doses in mg (1 mcg = 0.001 mg) so that a "
        "thousandfold mix-up cannot happen",
    ),
    (
        re.compile(r"^(g|gram|grams)(/|$)"),
        "grams are not accepted: give ketamine doses in mg (1 g = 1000 mg)",
    ),
    (
        re.compile(r"^(u|iu|units?)(/|$)"),
        "units (U, IU) are not a dose unit for ketamine: give the dose in mg",
    ),
    (
        re.compile(r"^(cc|ml|l)(/|$)"),
        "volumes (mL, cc) depend on the concentration of the vial: give the dose in mg",
    ),
]

_NUMBER = re.compile(r"^\d+(\.\d+)?$")

DOSE_GRAMMAR_HELP = """\
Dose grammar (one dose per --dose):
  ROUTE AMOUNT UNIT [over|for DURATION] [every INTERVAL x COUNT] [at START]
Routes: iv-bolus, iv-infusion, sc, sc-infusion, im, oral, intranasal, sublingual, rectal
  (intrathecal and epidural are refused: neuraxial ketamine is neurotoxic).
Amounts: mg or mg/kg; infusion rates: mg/h, mg/kg/h, mg/min, mg/kg/min, mg/24h.
Times: s, min, h, d. START defaults to 0 min. Write 0.5, never .5; mcg, g, U and mL are refused.
Examples:
  iv-bolus 35 mg at 0 min
  iv-infusion 0.5 mg/kg over 40 min at 0 min
  iv-infusion 0.25 mg/kg/h for 24 h at 60 min
  sc-infusion 100 mg/24h for 3 d
  oral 25 mg every 8 h x 9 at 0 min
  intranasal 56 mg at 0 min
  im 0.5 mg/kg at 0 min
  sublingual 25 mg at 0 min"""


@dataclass(frozen=True)
class Dose:
    """One dose event: a bolus (``duration_min == 0``) or a zero-order infusion.

    ``amount`` is the total amount in mg, or in mg/kg when ``per_kg`` is true.

    >>> d = Dose(Route.IV, 0.5, per_kg=True, start_min=0.0, duration_min=40.0)
    >>> d.amount_mg(70.0)
    35.0
    >>> str(d)
    'iv-infusion 0.5 mg/kg over 40 min at 0 min'
    """

    route: Route
    amount: float
    per_kg: bool = False
    start_min: float = 0.0
    duration_min: float = 0.0

    def __post_init__(self) -> None:
        route = self.route
        if not isinstance(route, Route):
            route = _route_from_text(str(route))[0]
            object.__setattr__(self, "route", route)
        for name in ("amount", "start_min", "duration_min"):
            value = float(getattr(self, name))
            if not math.isfinite(value):
                raise DoseSyntaxError(f"dose {name} must be a finite number, got {value!r}")
            object.__setattr__(self, name, value)
        unit = "mg/kg" if self.per_kg else "mg"
        if self.amount <= 0:
            raise DoseSyntaxError(f"dose amount must be above 0 {unit}, got {self.amount:g} {unit}")
        if self.start_min < 0:
            raise DoseSyntaxError(
                f"dose start must be at or after 0 min, got {self.start_min:g} min"
            )
        if self.duration_min < 0:
            raise DoseSyntaxError(
                f"infusion duration must be above 0 min, got {self.duration_min:g} min"
            )
        if self.duration_min > 0 and not route.allows_infusion:
            raise DoseSyntaxError(
                f"the {route} route takes a single dose, not an infusion; infusions are iv or sc"
            )

    @property
    def is_infusion(self) -> bool:
        return self.duration_min > 0

    def occurrences(self) -> tuple[Dose, ...]:
        """The single dose events this dose stands for (repeats expanded)."""
        return (self,)

    @property
    def end_min(self) -> float:
        return self.start_min + self.duration_min

    def amount_mg(self, weight_kg: float) -> float:
        """Total amount in mg for a patient of ``weight_kg``."""
        return self.amount * weight_kg if self.per_kg else self.amount

    def rate_mg_per_h(self, weight_kg: float) -> float:
        """Infusion rate in mg/h (0 for a bolus)."""
        if not self.is_infusion:
            return 0.0
        return self.amount_mg(weight_kg) / self.duration_min * 60.0

    def __str__(self) -> str:
        unit = "mg/kg" if self.per_kg else "mg"
        if self.route is Route.IV:
            word = "iv-infusion" if self.is_infusion else "iv-bolus"
        elif self.route is Route.SC and self.is_infusion:
            word = "sc-infusion"
        else:
            word = str(self.route)
        text = f"{word} {self.amount:g} {unit}"
        if self.is_infusion:
            text += f" over {self.duration_min:g} min"
        return text + f" at {self.start_min:g} min"


def _route_from_text(word: str) -> tuple[Route, bool]:
    key = word.strip().lower()
    if key in _NEURAXIAL_WORDS:
        raise RefusedRouteError(NEURAXIAL_REFUSAL.format(route=_NEURAXIAL_WORDS[key]))
    if key in _ROUTE_WORDS:
        return _ROUTE_WORDS[key]
    for route in Route:
        if key == route.value:
            return route, False
    accepted = ", ".join(k for k in _ROUTE_WORDS if k not in ("po", "sc-bolus"))
    raise DoseSyntaxError(f"unknown route {word!r}; accepted: {accepted}")


def _number(text: str, what: str, source: str) -> float:
    if text.startswith("."):
        raise DoseSyntaxError(
            f"{what} {text!r} in {source!r} has a naked decimal point: write 0{text} "
            "(a leading zero prevents tenfold errors)"
        )
    if text.startswith("-"):
        raise DoseSyntaxError(f"{what} must be positive, got {text} in {source!r}")
    if not _NUMBER.match(text):
        raise DoseSyntaxError(
            f"{what} {text!r} in {source!r} is not a plain number such as 35 or 0.5"
        )
    return float(text)


def _time_min(tokens: list[str], what: str, source: str) -> tuple[float, list[str]]:
    """Read ``NUMBER UNIT`` or ``NUMBERUNIT`` from the front of ``tokens``."""
    if not tokens:
        raise DoseSyntaxError(f"{what} needs a time such as 40 min in {source!r}")
    match = re.match(r"^([-+]?[\d.]+)([a-z]*)$", tokens[0])
    if not match:
        raise DoseSyntaxError(f"{what} {tokens[0]!r} in {source!r} is not a time such as 40 min")
    num, unit = match.group(1), match.group(2)
    rest = tokens[1:]
    if not unit:
        if not rest:
            raise DoseSyntaxError(
                f"{what} {num} in {source!r} has no time unit; accepted: {_TIME_UNITS_TEXT}"
            )
        unit, rest = rest[0], rest[1:]
    if unit not in _MIN_PER:
        raise DoseSyntaxError(
            f"{what} unit {unit!r} in {source!r} is not a time unit; accepted: {_TIME_UNITS_TEXT}"
        )
    return _number(num, what, source) * _MIN_PER[unit], rest


def parse_duration_min(text: str, what: str = "duration") -> float:
    """Parse a time such as ``24h``, ``90 min`` or ``3 d`` into minutes.

    >>> parse_duration_min("24h"), parse_duration_min("1 min"), parse_duration_min("30 s")
    (1440.0, 1.0, 0.5)
    """
    source = " ".join(str(text).lower().split())
    tokens = re.sub(r"^([\d.]+)\s*([a-z]+)$", r"\1 \2", source).split()
    value, rest = _time_min(tokens, what, source)
    if rest:
        raise DoseSyntaxError(f"{what} {text!r} is not a time such as 24h, 90 min or 3 d")
    return value


def _unit_error(unit: str, source: str, expected: str) -> DoseSyntaxError:
    for pattern, message in _REFUSED_UNITS:
        if pattern.match(unit):
            return DoseSyntaxError(f"{message} (in {source!r})")
    return DoseSyntaxError(f"unit {unit!r} in {source!r} is not accepted; expected {expected}")


def parse_dose(text: str) -> list[Dose]:
    """Parse one line of the dose grammar into dose events (repeats expanded).

    >>> [str(d) for d in parse_dose("oral 25 mg every 8 h x 3 at 60 min")]
    ['oral 25 mg at 60 min', 'oral 25 mg at 540 min', 'oral 25 mg at 1020 min']
    >>> parse_dose("iv-bolus 0.5 mg/kg/h at 0 min")
    Traceback (most recent call last):
    ...
    ketaclinic.errors.DoseSyntaxError: a bolus takes an amount in mg or mg/kg, got the rate \
'mg/kg/h' in 'iv-bolus 0.5 mg/kg/h at 0 min'
    """
    source = " ".join(str(text).split())
    if not source:
        raise DoseSyntaxError("empty dose; " + DOSE_GRAMMAR_HELP.splitlines()[1].strip())
    normal = source.lower()
    normal = re.sub(r"/\s*24\s*h(ours?|rs?)?\b", "/24h", normal)
    normal = re.sub(r"\bx\s*(\d)", r"x \1", normal)
    tokens = normal.split()
    route, infusion = _route_from_text(tokens[0])
    if len(tokens) < 2:
        raise DoseSyntaxError(f"{source!r} has no amount; for example 'iv-bolus 35 mg at 0 min'")

    # AMOUNT UNIT (either one token "35mg" or two tokens "35 mg")
    if re.match(r"^[-+]?[\d.]+e[-+]?\d", tokens[1]):  # else "1e3" reads as 1 with unit "e3"
        raise DoseSyntaxError(
            f"amount {tokens[1]!r} in {source!r} is in scientific notation: write a plain "
            "number such as 1000 or 0.5"
        )
    match = re.match(r"^([-+]?[\d.,]*)([a-zµμ/0-9.]*)$", tokens[1])
    if not match or not match.group(1):
        raise DoseSyntaxError(
            f"amount {tokens[1]!r} in {source!r} is not a number; for example 35 mg or 0.5 mg/kg"
        )
    num_text, unit = match.group(1), match.group(2)
    rest = tokens[2:]
    if not unit:
        if not rest or rest[0] in ("over", "for", "every", "at"):
            raise DoseSyntaxError(
                f"amount {num_text} in {source!r} has no unit; accepted: mg, mg/kg "
                "(and for infusions mg/h, mg/kg/h, mg/24h)"
            )
        unit, rest = rest[0], rest[1:]
    if "," in num_text:
        raise DoseSyntaxError(
            f"amount {num_text!r} in {source!r} contains a comma: use a point for decimals "
            "(0.5) and no thousands separators"
        )
    value = _number(num_text, "amount", source)

    duration: float | None = None
    every: float | None = None
    count = 1
    start = 0.0
    seen: set[str] = set()
    while rest:
        word, rest = rest[0], rest[1:]
        if word in seen:
            raise DoseSyntaxError(f"{word!r} appears twice in {source!r}")
        seen.add(word)
        if word in ("over", "for"):
            duration, rest = _time_min(rest, "duration", source)
            if duration <= 0:
                raise DoseSyntaxError(f"duration must be above 0 min in {source!r}")
        elif word == "every":
            every, rest = _time_min(rest, "interval", source)
            if not rest or rest[0] != "x" or len(rest) < 2:
                raise DoseSyntaxError(
                    f"'every' needs a count in {source!r}, for example 'every 8 h x 9'"
                )
            count_text, rest = rest[1], rest[2:]
            if not count_text.isdigit() or not 1 <= int(count_text) <= 1000:
                raise DoseSyntaxError(
                    f"count {count_text!r} in {source!r} must be a whole number from 1 to 1000"
                )
            count = int(count_text)
            if every <= 0:
                raise DoseSyntaxError(f"interval must be above 0 min in {source!r}")
        elif word == "at":
            start, rest = _time_min(rest, "start", source)
        else:
            raise DoseSyntaxError(
                f"unexpected {word!r} in {source!r}; after the amount come 'over'/'for', "
                "'every ... x N' and 'at'"
            )

    per_kg: bool
    if unit in _AMOUNT_UNITS:
        per_kg = _AMOUNT_UNITS[unit]
        if infusion and duration is None:
            raise DoseSyntaxError(
                f"an infusion of an amount needs a duration in {source!r}, for example "
                "'over 40 min'"
            )
        if not infusion and duration is not None:
            raise DoseSyntaxError(
                f"a single {route} dose has no duration in {source!r}; for an infusion write "
                "iv-infusion or sc-infusion"
            )
        amount = value
    elif unit in _RATE_UNITS:
        if not infusion:
            raise DoseSyntaxError(
                f"a bolus takes an amount in mg or mg/kg, got the rate {unit!r} in {source!r}"
            )
        if duration is None:
            raise DoseSyntaxError(
                f"an infusion rate needs a duration in {source!r}, for example 'for 24 h'"
            )
        per_kg, minutes_per_unit = _RATE_UNITS[unit]
        amount = value * duration / minutes_per_unit
    else:
        expected = (
            "an amount (mg, mg/kg) or a rate (mg/h, mg/kg/h, mg/min, mg/24h)"
            if infusion
            else "an amount in mg or mg/kg"
        )
        raise _unit_error(unit, source, expected)

    if every is not None and infusion and duration is not None and duration > every:
        raise DoseSyntaxError(
            f"infusions overlap in {source!r}: duration is longer than the interval"
        )
    step = every or 0.0
    return [
        Dose(route, amount, per_kg, start + i * step, duration if infusion and duration else 0.0)
        for i in range(count)
    ]


def parse_doses(doses: Iterable[str | Dose] | str | Dose) -> list[Dose]:
    """Parse dose strings and pass :class:`Dose` objects through, sorted by start time."""
    items: Sequence[str | Dose] = [doses] if isinstance(doses, str | Dose) else list(doses)
    result: list[Dose] = []
    for item in items:
        if isinstance(item, Dose):
            result.append(item)
        elif isinstance(item, str):
            result.extend(parse_dose(item))
        else:
            raise DoseSyntaxError(f"a dose must be a string or a Dose, got {type(item).__name__}")
    if not result:
        raise DoseSyntaxError("no dose given; " + DOSE_GRAMMAR_HELP.splitlines()[1].strip())
    return sorted(result, key=lambda d: d.start_min)


def expand_doses(doses: Iterable[Dose]) -> list[Dose]:
    """Every single dose event of ``doses`` (repeats expanded), sorted by start time.

    The engine works on these; a :class:`Dose` keeps the form in which it was given."""
    return sorted((e for d in doses for e in d.occurrences()), key=lambda d: d.start_min)
