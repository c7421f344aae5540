"""Clinical ranges, declared once.

Validation, error messages and invalid-input tests all derive from these declarations, so a
range is changed in one place only. Each range carries its unit in its name and its reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from ketaclinic.errors import OutOfRangeError

__all__ = [
    "AGE_YEARS",
    "BIRTH_DATE",
    "CHILD_PUGH_POINTS",
    "CLINIC_DATE",
    "DASK_CONNECT_TIMEOUT_S",
    "DASK_LOCAL_WORKERS",
    "DIASTOLIC_MMHG",
    "DOSE_COUNT",
    "DOSE_MG",
    "GRID_POINTS",
    "HEART_RATE_PER_MIN",
    "HEIGHT_CM",
    "MONEY_MINOR",
    "OUTPUT_POINTS",
    "POPULATION_PATIENTS",
    "RATE_MG_PER_H",
    "RESPIRATORY_RATE_PER_MIN",
    "SESSION_MIN",
    "SPO2_PERCENT",
    "SYSTOLIC_MMHG",
    "THRESHOLD_COUNT",
    "TIME_MIN",
    "WEIGHT_KG",
    "ClinicalRange",
    "DateRange",
]


@dataclass(frozen=True)
class ClinicalRange:
    """An inclusive range of plausible values for one quantity.

    >>> WEIGHT_KG.check(70.0)
    70.0
    >>> WEIGHT_KG.check(700)
    Traceback (most recent call last):
    ...
    ketaclinic.errors.OutOfRangeError: weight 700 kg is outside the accepted range 2-300 kg
    """

    label: str
    unit: str
    low: float
    high: float
    reason: str
    low_inclusive: bool = True

    def contains(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        above_low = value >= self.low if self.low_inclusive else value > self.low
        return above_low and value <= self.high

    def describe(self) -> str:
        return f"{_fmt(self.low)}-{_fmt(self.high)} {self.unit}"

    def check(self, value: float) -> float:
        """Return ``value`` as float, or raise :class:`OutOfRangeError` naming the range."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise OutOfRangeError(
                f"{self.label} {value!r} is not a number; accepted: {self.describe()}"
            ) from None
        if not self.contains(number):
            raise OutOfRangeError(
                f"{self.label} {_fmt(number)} {self.unit} is outside the accepted range "
                f"{self.describe()}"
            )
        return number


def _fmt(value: float) -> str:
    return f"{value:g}"


WEIGHT_KG = ClinicalRange(
    "weight", "kg", 2.0, 300.0, "DESIGN.md: newborn to the heaviest adults a clinic doses"
)
AGE_YEARS = ClinicalRange("age", "years", 0.0, 120.0, "human lifespan")
HEIGHT_CM = ClinicalRange("height", "cm", 40.0, 250.0, "newborn to the tallest adults")
DOSE_MG = ClinicalRange(
    "dose",
    "mg",
    0.0,
    10000.0,
    "no ketamine dose reaches 10 g; anything above is a typing error",
    low_inclusive=False,
)
TIME_MIN = ClinicalRange("time", "min", 0.0, 366 * 24 * 60.0, "simulations cover at most one year")
DOSE_COUNT = ClinicalRange(
    "dose count", "doses", 1.0, 1000.0, "a repeated dose line ('every 8 h x N') covers at most 1000"
)

RATE_MG_PER_H = ClinicalRange(
    "infusion rate",
    "mg/h",
    0.0,
    1000.0,
    "a rate change may stop an infusion (0 mg/h); 1 g/h is above any ketamine infusion, so "
    "anything higher is a typing error",
)

# Vital signs a monitor or a person can record. They bound what is physically possible, not
# what is normal: a value outside is a typing or sensor error and is refused; values inside
# but abnormal are recorded and flagged (see services: the discharge gate's limits).
SYSTOLIC_MMHG = ClinicalRange(
    "systolic blood pressure", "mmHg", 40.0, 300.0, "the safety engine's accepted BP range"
)
DIASTOLIC_MMHG = ClinicalRange(
    "diastolic blood pressure", "mmHg", 20.0, 200.0, "the safety engine's accepted BP range"
)
HEART_RATE_PER_MIN = ClinicalRange(
    "heart rate", "/min", 20.0, 250.0, "the safety engine's accepted heart-rate range"
)
RESPIRATORY_RATE_PER_MIN = ClinicalRange(
    "respiratory rate",
    "/min",
    2.0,
    80.0,
    "a breathing patient who is being observed; apnoea is recorded as an adverse event",
)
SPO2_PERCENT = ClinicalRange(
    "SpO2", "%", 50.0, 100.0, "pulse oximeters do not report reliably below 50 %"
)
SESSION_MIN = ClinicalRange(
    "session length",
    "min",
    5.0,
    7 * 24 * 60.0,
    "one session, up to the longest inpatient infusion (palliative SC burst, at most 5-6 days)",
)
MONEY_MINOR = ClinicalRange(
    "amount",
    "minor units (cents)",
    0.0,
    100_000_000.0,
    "one charge or payment of at most 1,000,000.00 in the currency; more is a typing error",
)


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of calendar dates (for dates people type: plan starts, check
    times, order starts, measurements).

    >>> CLINIC_DATE.check(date(2026, 12, 1), "--start")
    datetime.date(2026, 12, 1)
    >>> CLINIC_DATE.check(date(9999, 12, 31), "--start")
    Traceback (most recent call last):
    ...
    ketaclinic.errors.OutOfRangeError: --start 9999-12-31 is outside the accepted dates \
2000-01-01 to 2099-12-31
    """

    label: str
    low: date
    high: date
    reason: str

    def contains(self, value: date | datetime) -> bool:
        day = value.date() if isinstance(value, datetime) else value
        return self.low <= day <= self.high

    def describe(self) -> str:
        return f"{self.low.isoformat()} to {self.high.isoformat()}"

    def check(self, value: date | datetime, what: str | None = None) -> date | datetime:
        """Return ``value``, or raise :class:`OutOfRangeError` naming the accepted dates."""
        if not self.contains(value):
            shown = value.date() if isinstance(value, datetime) else value
            raise OutOfRangeError(
                f"{what or self.label} {shown.isoformat()} is outside the accepted dates "
                f"{self.describe()}"
            )
        return value


CLINIC_DATE = DateRange(
    "date",
    date(2000, 1, 1),
    date(2099, 12, 31),
    "dates of treatment a clinic records or plans; a plan runs up to about a year past its "
    "start, and dates such as 0001-01-01 or 9999-12-31 are typing errors that would overflow "
    "the calendar",
)

BIRTH_DATE = DateRange(
    "birth date",
    date(1900, 1, 1),
    date(2099, 12, 31),
    "the oldest living patients were born after 1900 (AGE_YEARS allows 120 years); a birth date "
    "after the day it is recorded is refused by the service that records it",
)
CHILD_PUGH_POINTS = ClinicalRange(
    "Child-Pugh score",
    "points",
    5.0,
    15.0,
    "five criteria scored 1-3 each (Pugh 1973, Br J Surg 60:646, PMID 4541913): A 5-6, B 7-9, "
    "C 10-15",
)

# Limits of the engine's work per request, not clinical facts; declared here all the same so
# that every check and message uses the same number.
GRID_POINTS = ClinicalRange(
    "output grid",
    "points",
    1.0,
    2_000_000.0,
    "time points of one curve (two weeks at 1 s is 1.2 million): 2 million float64 values "
    "are 16 MB per concentration; metrics never need a grid (they come from the exact "
    "solution)",
)
OUTPUT_POINTS = ClinicalRange(
    "printed curve",
    "points",
    1.0,
    TIME_MIN.high + 1.0,
    "time points a command prints: the longest window (366 d) at the default 1-min step; "
    "a finer step over a long window would print hundreds of MB",
)
POPULATION_PATIENTS = ClinicalRange(
    "virtual patients",
    "patients",
    1.0,
    5_000_000.0,
    "one run keeps every patient's metrics and covariates (percentiles need them all): about "
    "120 bytes a patient plus 24 per threshold, so 5 million patients with 10 thresholds need "
    "about 1.8 GB; more is refused before anything is allocated",
)
THRESHOLD_COUNT = ClinicalRange(
    "thresholds",
    "values",
    0.0,
    10.0,
    "concentration thresholds of one run: each adds a number per patient and output",
)
DASK_LOCAL_WORKERS = ClinicalRange(
    "local Dask workers",
    "workers",
    1.0,
    32.0,
    "in-process workers of one local cluster (threads): more than the cores only adds start-up "
    "time and memory, and a few hundred take minutes to start",
)
DASK_CONNECT_TIMEOUT_S = 5.0
"""Seconds to wait for a Dask scheduler (a refused or silent address fails within this)."""
