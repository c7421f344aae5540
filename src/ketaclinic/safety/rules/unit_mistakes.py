"""Probable unit and decimal mistakes: 10x/100x the usual dose, mg/kg vs mg, rate vs amount.

A smart pump flags doses far from the usual one because a slipped decimal point or a wrong
unit gives tenfold to hundredfold errors (ISMP list of error-prone abbreviations; the dose
grammar already refuses mcg, g, mL and naked decimals). Severity follows the limits: a
suspicious dose above a hard limit is a HARD_STOP, above a soft limit OVERRIDABLE, otherwise
a WARNING asking to confirm it.
"""

from __future__ import annotations

from ketaclinic.pharmacology import Dose, DoseUnit, plain_number
from ketaclinic.safety._context import CheckContext, number
from ketaclinic.safety._findings import Finding, Severity

__all__ = ["unit_mistakes"]

SOURCE = (
    "ISMP list of error-prone abbreviations, symbols and dose designations (tenfold and "
    "hundredfold errors); usual dose from the ketaclinic drug library"
)
TENFOLD_FROM = 7.0  # ratios from 7 upward read as a slipped decimal or a wrong unit
HUNDREDFOLD_FROM = 30.0


def _above(ctx: CheckContext, dose: Dose) -> Severity:
    """How far past the library limits this single dose is."""
    entry = ctx.entry
    assert entry is not None
    w = ctx.weight_kg
    mg = ctx.mg(dose)
    if dose.is_infusion:
        rate = dose.rate_mg_per_h(w)
        pairs = [
            (entry.infusion_rate_mg_per_h, rate),
            (entry.infusion_rate_mg_per_kg_per_h, rate / w),
        ]
    else:
        pairs = [(entry.bolus_mg, mg), (entry.bolus_mg_per_kg, mg / w)]
    pairs += [(entry.session_total_mg, mg), (entry.session_total_mg_per_kg, mg / w)]
    severity = Severity.WARNING
    for limit, value in pairs:
        if limit is None:
            continue
        if limit.hard is not None and value > limit.hard + 1e-9:
            return Severity.HARD_STOP
        if limit.soft is not None and value > limit.soft + 1e-9:
            severity = Severity.OVERRIDABLE
    return severity


def _finding(ctx: CheckContext, dose: Dose, code: str, text: str, low: bool = False) -> Finding:
    severity = Severity.OVERRIDABLE if low else _above(ctx, dose)
    return Finding(severity, code, f"{dose}: {text} (source: {SOURCE})", SOURCE)


def _swap_per_kg(unit: DoseUnit) -> DoseUnit:
    """mg/kg <-> mg, mg/kg/h <-> mg/h, ...: the unit with or without "/kg"."""
    if unit.per_kg:
        return DoseUnit(unit.value.replace("/kg", "", 1))
    return DoseUnit(unit.value.replace("mg", "mg/kg", 1))


def _absolute(unit: DoseUnit) -> DoseUnit:
    return _swap_per_kg(unit) if unit.per_kg else unit


def _quantity(dose: Dose, weight_kg: float) -> float:
    """What the usual dose is compared with: the rate (mg/h) of an infusion, else the mg."""
    return dose.rate_mg_per_h(weight_kg) if dose.is_infusion else dose.amount_mg(weight_kg)


def unit_mistakes(ctx: CheckContext) -> list[Finding]:
    entry = ctx.entry
    if entry is None:
        return []
    usual = entry.usual
    w = ctx.weight_kg
    dw = ctx.dosing_weight_kg  # the usual dose is what the protocol plans for this patient
    out: list[Finding] = []
    for dose in ctx.doses:
        mg = ctx.mg(dose)
        if dose.is_infusion:
            usual_rate = usual.rate_mg_per_h_for(dw)
            usual_amount = usual.infusion_mg_for(dw)
            if usual_rate is None:
                continue
            rate = dose.rate_mg_per_h(w)
            value, reference, what = rate, usual_rate, "rate"
            shown = f"{number(rate)} mg/h"
            usual_shown = f"{number(usual_rate)} mg/h"
        else:
            usual_amount = usual.bolus_mg_for(dw)
            if usual_amount is None:
                continue
            value, reference, what = mg, usual_amount, "dose"
            shown, usual_shown = f"{number(mg)} mg", f"{number(usual_amount)} mg"
        ratio = value / reference
        # the same number read with (or without) "/kg": what the prescriber may have meant
        other = _quantity(dose.replace(unit=_swap_per_kg(dose.unit)), w)
        typed = f"{plain_number(dose.value)} {dose.unit}"
        if dose.per_kg and ratio >= TENFOLD_FROM and 0.2 <= other / reference <= 5.0:
            out.append(
                _finding(
                    ctx,
                    dose,
                    "unit.mg_per_kg_for_mg",
                    f"{typed} gives {shown}, {ratio:.0f}x the usual {what} {usual_shown}; "
                    f"{plain_number(dose.value)} looks like "
                    f"{_swap_per_kg(dose.unit)} entered as {dose.unit}",
                )
            )
        elif not dose.per_kg and ratio <= 1.0 / TENFOLD_FROM and 0.2 <= other / reference <= 5.0:
            out.append(
                _finding(
                    ctx,
                    dose,
                    "unit.mg_for_mg_per_kg",
                    f"{shown} is 1/{1 / ratio:.0f} of the usual {what} {usual_shown} "
                    f"({number(reference / dw)} {_swap_per_kg(_absolute(dose.unit))}); it looks "
                    f"like a dose in {_swap_per_kg(dose.unit)} entered as {dose.unit}",
                    low=True,
                )
            )
        elif ratio >= TENFOLD_FROM:
            fold = "100" if ratio >= HUNDREDFOLD_FROM else "10"
            out.append(
                _finding(
                    ctx,
                    dose,
                    f"unit.{'hundred' if fold == '100' else 'ten'}fold",
                    f"{shown} is {ratio:.0f}x the usual {what} {usual_shown}: a probable "
                    f"{fold}-fold decimal or unit mistake",
                )
            )
        if dose.is_infusion and usual_amount is not None:
            out += _rate_amount(ctx, dose, usual_amount, usual.rate_mg_per_h_for(dw))
    return out


def _rate_amount(
    ctx: CheckContext, dose: Dose, usual_amount: float, usual_rate: float | None
) -> list[Finding]:
    """A rate typed where an amount was meant (``100 mg/h`` for ``100 mg/24h``) or back."""
    w = ctx.weight_kg
    rate, amount = dose.rate_mg_per_h(w), ctx.mg(dose)
    if 0.5 <= rate / usual_amount <= 2.0 and amount >= 3.0 * usual_amount:
        return [
            _finding(
                ctx,
                dose,
                "unit.rate_for_amount",
                f"the rate {number(rate)} mg/h is about the usual total amount "
                f"{number(usual_amount)} mg, giving {number(amount)} mg in all: was an amount "
                "(or mg/24h) entered as mg/h?",
            )
        ]
    if (
        usual_rate is not None
        and 0.5 <= amount / usual_rate <= 2.0
        and rate <= usual_rate / 3.0
        and dose.duration_min >= 120.0
    ):
        return [
            _finding(
                ctx,
                dose,
                "unit.amount_for_rate",
                f"the amount {number(amount)} mg is about the usual hourly rate "
                f"{number(usual_rate)} mg/h, so the pump would run at only {number(rate)} mg/h: "
                "was a rate in mg/h entered as an amount?",
                low=True,
            )
        ]
    return []
