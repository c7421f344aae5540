"""Protocols agree with themselves: a plan for a typical patient passes its own limits and
ceilings, the planner honours every cap, and the largest dose the soft limits let through
stays under the soft concentration ceiling."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

import pytest
from safety_helpers import patient

from ketaclinic.pharmacology import Dose
from ketaclinic.protocols import check, plan, protocols
from ketaclinic.safety import LIMIT_NAMES, Order, SafetyReport, Severity

START = date(2026, 12, 1)
AS_OF = datetime(2026, 12, 1, 9, tzinfo=UTC)
IDS = sorted(protocols())
# heights that keep the BMI plausible (about 19-39 kg/m2) for each weight
HEIGHTS_CM = {
    50.0: (155.0, 165.0),
    70.0: (165.0, 180.0),
    100.0: (170.0, 190.0),
    120.0: (175.0, 195.0),
}
TYPICAL = [
    {"weight_kg": w, "age_years": age, "sex": sex, "height_cm": h}
    for (w, heights), age, sex in itertools.product(
        HEIGHTS_CM.items(), (18, 40, 70), ("male", "female")
    )
    for h in heights
]
# maxima only: the spacing minima and course lengths do not change with the dose
DOSE_LIMITS = tuple(
    n
    for n in LIMIT_NAMES
    if n not in {"min_interval_h", "min_dose_interval_h", "max_course_days", "max_sessions_per_7d"}
)


def _limit_or_ceiling(code: str) -> bool:
    family = code.rsplit(".", 1)[0]
    return family in LIMIT_NAMES or family == "concentration" or code.startswith("unit.")


@pytest.mark.parametrize("protocol_id", IDS)
def test_a_plan_for_every_typical_patient_passes_its_own_limits_and_ceilings(
    protocol_id: str,
) -> None:
    for covariates in TYPICAL:
        p = plan(protocol_id, patient(**covariates), START, risk_patients=0)
        own = [f.code for f in p.report.findings if _limit_or_ceiling(f.code)]
        assert not own, (covariates, own, [d.calculation for d in p.doses])
        assert p.allowed, (covariates, [f.code for f in p.report.blocking])


def test_crps_daily_caps_a_heavy_patient_at_25_mg_per_h_and_says_so() -> None:
    p = plan(
        "crps-daily-10d",
        patient(weight_kg=120, sex="male", height_cm=185, age_years=40),
        START,
        risk_patients=0,
    )
    (dose,) = p.doses
    assert dose.rate_mg_per_h == pytest.approx(25.0)  # 0.35 mg/kg/h x 120 kg = 42 mg/h uncapped
    assert dose.capped
    assert "42 mg/h -> capped at 25 mg/h (Schwartzman 2009" in dose.calculation
    assert p.allowed, [f.code for f in p.report.blocking]


def test_a_cap_is_never_passed_by_rounding() -> None:
    # crps-continuous-4d: 0.32 mg/kg/h x 68 kg = 21.76 mg/h, below the fixed 22 mg/h; the
    # pump's 0.1 mg/h step must round it down to 21.7, not up to 21.8
    p = plan("crps-continuous-4d", patient(weight_kg=68), START, risk_patients=0)
    (dose,) = p.doses
    assert dose.rate_mg_per_h == pytest.approx(21.7)
    assert "rounded down" in dose.calculation


def _scaled(doses: tuple[Dose, ...], factors: tuple[float, ...]) -> tuple[Dose, ...]:
    return tuple(d.replace(value=d.value * k) for d, k in zip(doses, factors, strict=True))


def _report(protocol_id: str, doses: tuple[Dose, ...], who: Any) -> SafetyReport:
    order = Order(protocol=protocol_id, doses=doses, start=AS_OF)
    return check(order, who, as_of=AS_OF)


def _limited(report: SafetyReport) -> bool:
    return any(f.code.rsplit(".", 1)[0] in DOSE_LIMITS for f in report.findings)


def _largest_factor(protocol_id: str, doses: tuple[Dose, ...], line: int | None, who: Any) -> float:
    """The largest factor on the dose (one line, or all with ``line`` None) that no dose
    limit objects to, to 0.1 %."""

    def factors(k: float) -> tuple[float, ...]:
        return tuple(k if line is None or i == line else 1.0 for i in range(len(doses)))

    low, high = 1.0, 20.0
    assert not _limited(_report(protocol_id, doses, who)), "the planned dose is limited"
    if not _limited(_report(protocol_id, _scaled(doses, factors(high)), who)):
        return high
    while high / low > 1.001:
        mid = (low * high) ** 0.5
        limited = _limited(_report(protocol_id, _scaled(doses, factors(mid)), who))
        low, high = (low, mid) if limited else (mid, high)
    return low


@pytest.mark.parametrize("protocol_id", IDS)
def test_a_dose_at_the_soft_limits_stays_under_the_soft_ceiling(protocol_id: str) -> None:
    """Scale the planned session up to its first soft limit (all lines together, then each
    line alone): the soft limits and the soft concentration ceiling must agree (no
    concentration finding) for a 70 kg adult."""
    who = patient(weight_kg=70, age_years=40)
    doses = tuple(d.dose for d in plan(protocol_id, who, START, risk_patients=0).doses)
    lines: list[int | None] = [None, *range(len(doses))] if len(doses) > 1 else [None]
    for line in lines:
        k = _largest_factor(protocol_id, doses, line, who)
        assert k < 20.0, f"no dose limit ever stops {protocol_id}"
        factors = tuple(k if line is None or i == line else 1.0 for i in range(len(doses)))
        at_limit = _scaled(doses, factors)
        report = _report(protocol_id, at_limit, who)
        ceilings = [f for f in report.findings if f.code.startswith("concentration.")]
        assert not ceilings, (
            f"{protocol_id}: {[str(d) for d in at_limit]} passes the soft limits but "
            f"{[f.message for f in ceilings]}"
        )
        assert Severity.HARD_STOP not in {f.severity for f in ceilings}
