"""Esketamine nasal spray: whole 28 mg devices, start dose by age, 28 mg steps (label)."""

from __future__ import annotations

from ketaclinic.pharmacology import Drug, Route
from ketaclinic.safety._context import CheckContext, number
from ketaclinic.safety._findings import Finding, Severity

__all__ = ["DEVICE_MG", "esketamine_steps"]

DEVICE_MG = 28.0
LABEL = "SPRAVATO (esketamine) prescribing information section 2 (dosage and administration)"
OLDER_AGE_YEARS = 65.0


def esketamine_steps(ctx: CheckContext) -> list[Finding]:
    if ctx.profile.drug is not Drug.ESKETAMINE:
        return []
    nasal = [d for d in ctx.doses if d.route is Route.INTRANASAL]
    if not nasal:
        return []
    out = []
    total = sum(d.total_mg(ctx.weight_kg) for d in nasal)
    if any(abs(ctx.mg(d) / DEVICE_MG - round(ctx.mg(d) / DEVICE_MG)) > 1e-9 for d in nasal):
        out.append(
            Finding(
                Severity.HARD_STOP,
                "esketamine.device_steps",
                f"esketamine {number(total)} mg is not a whole number of {DEVICE_MG:g} mg devices "
                f"(accepted: 28, 56 or 84 mg) (source: {LABEL})",
                LABEL,
            )
        )
        return out
    earlier = [s for s in ctx.previous(same_protocol=True) if s.route is Route.INTRANASAL]
    if not earlier:
        older = ctx.patient.age_years >= OLDER_AGE_YEARS
        start = 28.0 if older else 56.0
        if total > start:
            who = f"age {ctx.patient.age_years:g} (65 or older)" if older else "adults under 65"
            out.append(
                Finding(
                    Severity.OVERRIDABLE,
                    "esketamine.start_dose",
                    f"first esketamine dose {number(total)} mg is above the label's day-1 dose "
                    f"{start:g} mg for {who} (source: {LABEL})",
                    LABEL,
                )
            )
        return out
    last = earlier[-1].total_mg
    if abs(total - last) > DEVICE_MG + 1e-9:
        out.append(
            Finding(
                Severity.OVERRIDABLE,
                "esketamine.step",
                f"esketamine {number(total)} mg after {number(last)} mg last session: change "
                f"the dose in {DEVICE_MG:g} mg steps (source: {LABEL})",
                LABEL,
            )
        )
    return out
