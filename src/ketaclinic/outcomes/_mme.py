"""Morphine milligram equivalents (MME) of one opioid's daily dose, from a versioned table.

MME is for tracking total opioid exposure (for example before and during ketamine), never for
converting one opioid to another (CDC): every result carries that caution. Drugs the table does
not convert (buprenorphine, non-transdermal fentanyl, anything not listed) are refused with a
message, never given a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ketaclinic.errors import DoseSyntaxError, OutOfRangeError, UnknownNameError, UserInputError
from ketaclinic.outcomes._loader import get_mme_table
from ketaclinic.outcomes._mme_schema import DoseUnit, MmeDrug, MmeTable
from ketaclinic.ranges import ClinicalRange

__all__ = [
    "DAILY_DOSE_MG",
    "DEFAULT_MME_TABLE",
    "PATCH_RATE_MCG_PER_H",
    "DailyDose",
    "MmeResult",
    "converts",
    "mme",
    "parse_daily_dose",
]

DEFAULT_MME_TABLE = "cdc-2022"

# Plausibility bounds for typed doses, not clinical limits (assumption: no oral opioid regimen
# reaches 10 g/day, no patch regimen 2000 mcg/h; anything above is a typing error).
DAILY_DOSE_MG = ClinicalRange(
    "opioid daily dose",
    "mg/day",
    0.0,
    10_000.0,
    "plausibility bound (assumption): above is a typing error",
    low_inclusive=False,
)
PATCH_RATE_MCG_PER_H = ClinicalRange(
    "transdermal patch rate",
    "mcg/h",
    0.0,
    2_000.0,
    "plausibility bound (assumption): above is a typing error",
    low_inclusive=False,
)

_NUMBER = r"(?P<amount>\d+(?:\.\d+)?)"
_MASS = {"mg": "mg", "milligram": "mg", "milligrams": "mg", "mcg": "mcg", "ug": "mcg"}
_MASS.update({"µg": "mcg", "μg": "mcg", "microgram": "mcg", "micrograms": "mcg"})
_PER = r"\s*(?:/|per\s+|a\s+)\s*"
_DAY = {"day", "d", "24h", "24 h", "24hour", "24 hour", "24hr", "24 hr"}
_HOUR = {"h", "hr", "hour"}
_PATTERN = re.compile(
    rf"^\s*{_NUMBER}\s*(?P<mass>[a-zµμ]+){_PER}(?P<time>[0-9a-z ]+?)\s*$", re.IGNORECASE
)
_EXAMPLES = "'60 mg/day' (by mouth) or '25 mcg/h' (transdermal fentanyl patch)"


@dataclass(frozen=True)
class DailyDose:
    """A daily opioid dose with its unit: mg/day, or mcg/h for a transdermal patch."""

    amount: float
    unit: DoseUnit

    def __str__(self) -> str:
        return f"{self.amount:g} {self.unit}"


def parse_daily_dose(text: str) -> DailyDose:
    """``"60 mg/day"`` -> ``DailyDose(60.0, 'mg/day')``; ``"25 mcg/h"`` -> mcg/h.

    The unit is required; a dose without a time base (``"60 mg"``) is refused.

    >>> parse_daily_dose("30 mg per day"), parse_daily_dose("12.5 mcg/hr")
    (DailyDose(amount=30.0, unit='mg/day'), DailyDose(amount=12.5, unit='mcg/h'))
    """
    if not isinstance(text, str):
        raise DoseSyntaxError(f"daily dose {text!r} is not text; give {_EXAMPLES}")
    match = _PATTERN.match(text)
    if match is None:
        raise DoseSyntaxError(
            f"daily dose {text!r} is not understood; give an amount with its unit, e.g. {_EXAMPLES}"
        )
    mass = _MASS.get(match["mass"].lower())
    time = match["time"].lower().strip()
    if time.endswith("s") and time[:-1] in _DAY | _HOUR:
        time = time[:-1]  # days, hours
    amount = float(match["amount"])
    if mass == "mg" and time in _DAY:
        return DailyDose(DAILY_DOSE_MG.check(amount), "mg/day")
    if mass == "mcg" and time in _HOUR:
        return DailyDose(PATCH_RATE_MCG_PER_H.check(amount), "mcg/h")
    raise DoseSyntaxError(
        f"daily dose {text!r}: unit {match['mass']}/{match['time'].strip()} is not accepted; "
        f"accepted: mg/day (by mouth) or mcg/h (transdermal fentanyl), e.g. {_EXAMPLES}"
    )


@dataclass(frozen=True)
class MmeResult:
    """The MME of one daily dose, with the factor, the table and its version stored beside it.

    >>> r = mme("oxycodone", "60 mg/day")
    >>> r.mme_mg_per_day, r.factor, r.table_id, r.table_version
    (90.0, 1.5, 'cdc-2022', '2022-11')
    """

    drug: str
    daily_dose: DailyDose
    factor: float
    tier: str | None
    mme_mg_per_day: float
    table_id: str
    table_version: str
    source: str
    caution: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "daily_dose": str(self.daily_dose),
            "daily_dose_amount": self.daily_dose.amount,
            "daily_dose_unit": self.daily_dose.unit,
            "factor": self.factor,
            "factor_unit": f"MME (mg/day oral morphine) per {self.daily_dose.unit}",
            "tier": self.tier,
            "mme_mg_per_day": self.mme_mg_per_day,
            "table": self.table_id,
            "table_version": self.table_version,
            "source": self.source,
            "caution": self.caution,
        }


def _key(name: str) -> str:
    # the oral tables: "oxycodone oral" and "oxycodone po" mean "oxycodone"
    words = re.sub(r"[^a-z ]", " ", name.lower()).split()
    return " ".join(w for w in words if w not in {"oral", "po"})


def _lookup(table: MmeTable, drug: str) -> MmeDrug:
    if not isinstance(drug, str):
        raise UnknownNameError(f"opioid {drug!r} is not a name")
    wanted = _key(drug)
    for item in table.drugs:
        if wanted in {_key(n) for n in (item.name, *item.aliases)}:
            return item
    for refused in table.unconverted:
        if wanted in {_key(n) for n in (refused.name, *refused.aliases)}:
            raise UserInputError(
                f"{drug!r} is not converted to MME by {table.id}: {refused.reason}"
            )
    names = ", ".join(d.name for d in table.drugs)
    raise UnknownNameError(
        f"opioid {drug!r} is not in the {table.id} MME table, so no MME is given; accepted: "
        f"{names} (oral daily doses; fentanyl as a transdermal patch only)"
    )


def converts(drug: str, table: str = DEFAULT_MME_TABLE) -> bool:
    """True when ``table`` gives an MME for ``drug`` (ask before recording an MME)."""
    try:
        _lookup(get_mme_table(table), drug)
    except UserInputError:
        return False
    return True


def _factor(item: MmeDrug, dose: DailyDose, table: MmeTable) -> tuple[float, str | None]:
    if item.factor is not None:
        return item.factor, None
    for tier in item.tiers:
        if dose.amount <= tier.up_to_mg_per_day:
            return tier.factor, tier.label
    top = item.tiers[-1]
    raise OutOfRangeError(
        f"{item.name} {dose}: the {table.id} table gives factors only up to "
        f"{top.up_to_mg_per_day:g} mg/day ({', '.join(t.label for t in item.tiers)}); no MME is "
        f"given above that"
    )


def mme(drug: str, daily_dose: str | DailyDose, table: str = DEFAULT_MME_TABLE) -> MmeResult:
    """MME (mg/day of oral morphine) of one opioid's daily dose from a CDC table.

    ``daily_dose`` is text with its unit (``"60 mg/day"``, ``"25 mcg/h"`` for transdermal
    fentanyl) or a :class:`DailyDose`. The unit must fit the drug; drugs the table does not
    convert are refused. MME is for tracking, never for converting one opioid to another.

    >>> mme("fentanyl transdermal", "25 mcg/h").mme_mg_per_day
    60.0
    >>> mme("methadone", "30 mg/day", table="cdc-2016").mme_mg_per_day
    240.0
    >>> mme("buprenorphine", "8 mg/day")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ketaclinic.errors.UserInputError: 'buprenorphine' is not converted to MME by cdc-2022: ...
    """
    conversion = get_mme_table(table)
    item = _lookup(conversion, drug)
    dose = daily_dose if isinstance(daily_dose, DailyDose) else parse_daily_dose(daily_dose)
    if dose.unit != item.dose_unit:
        raise UserInputError(
            f"{item.name} is converted from a dose in {item.dose_unit}, not {dose.unit}; e.g. "
            + ("'25 mcg/h'" if item.dose_unit == "mcg/h" else "'60 mg/day'")
        )
    if dose.unit == "mg/day":
        DAILY_DOSE_MG.check(dose.amount)
    else:
        PATCH_RATE_MCG_PER_H.check(dose.amount)
    factor, tier = _factor(item, dose, conversion)
    return MmeResult(
        drug=item.name,
        daily_dose=dose,
        factor=factor,
        tier=tier,
        # rounded so that 25 mcg/h x 2.4 reads 60, not 60.00000000000001
        mme_mg_per_day=round(dose.amount * factor, 6),
        table_id=conversion.id,
        table_version=conversion.version,
        source=conversion.source,
        caution=conversion.caution,
    )
