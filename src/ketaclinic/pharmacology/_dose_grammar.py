"""The dose grammar shared by people, scripts, the CLI and the API: text -> :class:`Dose`.

A dose is written as one line::

    ROUTE AMOUNT UNIT [over|for DURATION TIME-UNIT] [every INTERVAL TIME-UNIT x COUNT]
                      [at START TIME-UNIT]

Units are part of the grammar and are checked against the route: a bolus takes an amount
(mg or mg/kg), an infusion takes an amount with a duration (``over 40 min``) or a rate with a
duration (``0.25 mg/kg/h for 24 h``). Micrograms, grams, units, millilitres and naked decimals
(``.5``) are refused with a message that says what is expected, because each is a known source
of tenfold to thousandfold dosing errors (ISMP list of error-prone abbreviations). The text is
parsed once, at the edge; every layer behind it passes :class:`Dose` values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ketaclinic.errors import DoseSyntaxError
from ketaclinic.pharmacology._doses import Dose, DoseUnit, TimeUnit, route_of

__all__ = ["DOSE_GRAMMAR_HELP", "parse_dose", "parse_doses", "parse_duration_min", "parse_time"]

_TIME_WORDS = {
    "s": TimeUnit.S,
    "sec": TimeUnit.S,
    "min": TimeUnit.MIN,
    "mins": TimeUnit.MIN,
    "h": TimeUnit.H,
    "hr": TimeUnit.H,
    "hrs": TimeUnit.H,
    "hour": TimeUnit.H,
    "hours": TimeUnit.H,
    "d": TimeUnit.D,
    "day": TimeUnit.D,
    "days": TimeUnit.D,
}
_TIME_UNITS_TEXT = "s, min, h or d"

# the units people type -> the unit kept (synonyms are normalised)
_UNIT_WORDS = {
    "mg": DoseUnit.MG,
    "mg/kg": DoseUnit.MG_PER_KG,
    "mg/min": DoseUnit.MG_PER_MIN,
    "mg/h": DoseUnit.MG_PER_H,
    "mg/hr": DoseUnit.MG_PER_H,
    "mg/24h": DoseUnit.MG_PER_24H,
    "mg/d": DoseUnit.MG_PER_24H,
    "mg/day": DoseUnit.MG_PER_24H,
    "mg/kg/min": DoseUnit.MG_PER_KG_PER_MIN,
    "mg/kg/h": DoseUnit.MG_PER_KG_PER_H,
    "mg/kg/hr": DoseUnit.MG_PER_KG_PER_H,
    "mg/kg/24h": DoseUnit.MG_PER_KG_PER_24H,
    "mg/kg/d": DoseUnit.MG_PER_KG_PER_24H,
    "mg/kg/day": DoseUnit.MG_PER_KG_PER_24H,
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


def _time(tokens: list[str], what: str, source: str) -> tuple[float, TimeUnit, list[str]]:
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
    if unit not in _TIME_WORDS:
        raise DoseSyntaxError(
            f"{what} unit {unit!r} in {source!r} is not a time unit; accepted: {_TIME_UNITS_TEXT}"
        )
    time_unit = _TIME_WORDS[unit]
    return _number(num, what, source) * time_unit.minutes, time_unit, rest


def parse_time(text: str, what: str = "duration") -> tuple[float, TimeUnit]:
    """A time such as ``24h``, ``90 min`` or ``3 d``: minutes and the unit it was written in.

    >>> parse_time("24h")
    (1440.0, <TimeUnit.H: 'h'>)
    """
    source = " ".join(str(text).lower().split())
    tokens = re.sub(r"^([\d.]+)\s*([a-z]+)$", r"\1 \2", source).split()
    value, unit, rest = _time(tokens, what, source)
    if rest:
        raise DoseSyntaxError(f"{what} {text!r} is not a time such as 24h, 90 min or 3 d")
    return value, unit


def parse_duration_min(text: str, what: str = "duration") -> float:
    """Parse a time such as ``24h``, ``90 min`` or ``3 d`` into minutes.

    >>> parse_duration_min("24h"), parse_duration_min("1 min"), parse_duration_min("30 s")
    (1440.0, 1.0, 0.5)
    """
    return parse_time(text, what)[0]


def _unit_error(unit: str, source: str, expected: str) -> DoseSyntaxError:
    for pattern, message in _REFUSED_UNITS:
        if pattern.match(unit):
            return DoseSyntaxError(f"{message} (in {source!r})")
    return DoseSyntaxError(f"unit {unit!r} in {source!r} is not accepted; expected {expected}")


def _amount_and_unit(tokens: list[str], source: str) -> tuple[float, str, list[str]]:
    """``AMOUNT UNIT`` (one token ``35mg`` or two ``35 mg``) from ``tokens[1:]``."""
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
    return _number(num_text, "amount", source), unit, rest


def parse_dose(text: str) -> Dose:
    """Parse one line of the dose grammar into a :class:`Dose` (repeats kept as given).

    >>> str(parse_dose("ORAL 25mg every 8 hours x 3 at 60 min"))
    'oral 25 mg every 8 h x 3 at 60 min'
    >>> parse_dose("iv-bolus 0.5 mg/kg/h at 0 min")
    Traceback (most recent call last):
    ...
    ketaclinic.errors.DoseSyntaxError: a bolus takes an amount in mg or mg/kg, got the rate \
'mg/kg/h' in 'iv-bolus 0.5 mg/kg/h at 0 min'
    """
    if not isinstance(text, str):
        raise DoseSyntaxError(f"a dose must be text in the dose grammar, got {type(text).__name__}")
    source = " ".join(text.split())
    if not source:
        raise DoseSyntaxError("empty dose; " + DOSE_GRAMMAR_HELP.splitlines()[1].strip())
    normal = source.lower()
    normal = re.sub(r"/\s*24\s*h(ours?|rs?)?\b", "/24h", normal)
    normal = re.sub(r"\bx\s*(\d)", r"x \1", normal)
    tokens = normal.split()
    route, infusion = route_of(tokens[0])
    if len(tokens) < 2:
        raise DoseSyntaxError(f"{source!r} has no amount; for example 'iv-bolus 35 mg at 0 min'")
    value, unit_text, rest = _amount_and_unit(tokens, source)

    duration: tuple[float, TimeUnit] | None = None
    every: tuple[float, TimeUnit] | None = None
    count = 1
    start = (0.0, TimeUnit.MIN)
    seen: set[str] = set()
    while rest:
        word, rest = rest[0], rest[1:]
        if word in seen or (word in ("over", "for") and {"over", "for"} & seen):
            raise DoseSyntaxError(f"{word!r} appears twice in {source!r}")
        seen.add(word)
        if word in ("over", "for"):
            minutes, unit, rest = _time(rest, "duration", source)
            if minutes <= 0:
                raise DoseSyntaxError(f"duration must be above 0 min in {source!r}")
            duration = (minutes, unit)
        elif word == "every":
            minutes, unit, rest = _time(rest, "interval", source)
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
            if minutes <= 0:
                raise DoseSyntaxError(f"interval must be above 0 min in {source!r}")
            every = (minutes, unit)
        elif word == "at":
            minutes, unit, rest = _time(rest, "start", source)
            start = (minutes, unit)
        else:
            raise DoseSyntaxError(
                f"unexpected {word!r} in {source!r}; after the amount come 'over'/'for', "
                "'every ... x N' and 'at'"
            )

    dose_unit = _UNIT_WORDS.get(unit_text)
    if dose_unit is None:
        expected = (
            "an amount (mg, mg/kg) or a rate (mg/h, mg/kg/h, mg/min, mg/24h)"
            if infusion
            else "an amount in mg or mg/kg"
        )
        raise _unit_error(unit_text, source, expected)
    if dose_unit.is_rate:
        if not infusion:
            raise DoseSyntaxError(
                f"a bolus takes an amount in mg or mg/kg, got the rate {unit_text!r} in {source!r}"
            )
        if duration is None:
            raise DoseSyntaxError(
                f"an infusion rate needs a duration in {source!r}, for example 'for 24 h'"
            )
    elif infusion and duration is None:
        raise DoseSyntaxError(
            f"an infusion of an amount needs a duration in {source!r}, for example 'over 40 min'"
        )
    elif not infusion and duration is not None:
        raise DoseSyntaxError(
            f"a single {route} dose has no duration in {source!r}; for an infusion write "
            "iv-infusion or sc-infusion"
        )
    if every is not None and duration is not None and duration[0] > every[0]:
        raise DoseSyntaxError(
            f"infusions overlap in {source!r}: duration is longer than the interval"
        )
    try:
        return Dose(
            route,
            value,
            dose_unit,
            duration_min=duration[0] if duration else 0.0,
            start_min=start[0],
            every_min=every[0] if every else None,
            count=count,
            duration_unit=duration[1] if duration else TimeUnit.MIN,
            start_unit=start[1],
            every_unit=every[1] if every else TimeUnit.H,
        )
    except DoseSyntaxError as error:
        raise DoseSyntaxError(f"{error} (in {source!r})") from None


def parse_doses(doses: Iterable[str | Dose] | str | Dose) -> tuple[Dose, ...]:
    """Parse dose strings and pass :class:`Dose` objects through, in the order given.

    >>> [str(d) for d in parse_doses(["iv-bolus 35 mg", "oral 25 mg at 2 h"])]
    ['iv-bolus 35 mg at 0 min', 'oral 25 mg at 2 h']
    """
    items = [doses] if isinstance(doses, str | Dose) else list(doses)
    result: list[Dose] = []
    for item in items:
        if isinstance(item, Dose):
            result.append(item)
        elif isinstance(item, str):
            result.append(parse_dose(item))
        else:
            raise DoseSyntaxError(f"a dose must be a string or a Dose, got {type(item).__name__}")
    if not result:
        raise DoseSyntaxError("no dose given; " + DOSE_GRAMMAR_HELP.splitlines()[1].strip())
    return tuple(result)
