"""Hepatic impairment: Child-Pugh C avoid; Child-Pugh B as the protocol's hepatic basis says.

For Child-Pugh B the finding says what the protocol does (equal AUC, equal peak or no dose
change with monitoring advice, with its source) and what *this order* gives: its predicted
exposure with the declared clearance scaling, and, where the protocol adjusts doses, how that
compares with the target (the protocol's standard dose in a patient without impairment). It
never tells an already-adjusted order to be cut again.
"""

from __future__ import annotations

from ketaclinic.pharmacology import ChildPugh, SimulationResult
from ketaclinic.safety._context import CheckContext, number
from ketaclinic.safety._exposure import Unavailable, compare_hepatic, peak_ng_per_ml, predict
from ketaclinic.safety._findings import Finding, Severity
from ketaclinic.safety._profile import HepaticBasis

__all__ = ["hepatic_impairment"]

SOURCE_C = (
    "Cohen 2018 (Reg Anesth Pain Med 43:521): should not be used in severe hepatic disease; "
    "SPRAVATO prescribing information 8.6: Child-Pugh C not studied, not recommended"
)
SCALING = "clearance scaling as declared in ketaclinic.pharmacology.HEPATIC_SCALING"
MATCHES = 1.15  # within 15 % of the target counts as matching (doses are rounded)


def _metric(result: SimulationResult, basis: HepaticBasis) -> tuple[float, str, str]:
    if basis is HepaticBasis.EQUAL_PEAK:
        peak, site = peak_ng_per_ml(result)
        return peak, f"{site} peak", "ng/mL"
    return result.summary.ketamine.auc_ng_h_per_ml, "AUC", "ng*h/mL"


def _against_target(ctx: CheckContext, impaired: SimulationResult) -> str:
    """How this order's exposure compares with the protocol's target, in words."""
    policy = ctx.profile.hepatic
    if policy.basis is HepaticBasis.NONE or not ctx.profile.reference_doses:
        return ""
    who = ctx.patient.covariates.replace(child_pugh=ChildPugh.NONE)
    target = predict(ctx.profile.model_id, who, ctx.profile.reference_doses, long_horizon=True)
    if isinstance(target, Unavailable):
        return f"; the target exposure is unavailable ({target.reason})"
    mine, what, unit = _metric(impaired, policy.basis)
    goal = _metric(target, policy.basis)[0]
    ratio = mine / goal
    standard = "; ".join(str(d) for d in ctx.profile.reference_doses)
    text = (
        f"; target: the {what} of the standard dose ({standard}) without impairment, "
        f"{number(goal)} {unit}; this order gives x{ratio:.2f} of it"
    )
    if ratio > MATCHES:
        text += (
            f", above the target: the protocol's adjusted dose is about x{1 / ratio:.2f} of this "
            "order's dose (see `ketaclinic plan`)"
        )
    elif ratio < 1.0 / MATCHES:
        text += ", below the target"
    else:
        text += ", which matches it"
    return text


def hepatic_impairment(ctx: CheckContext) -> list[Finding]:
    grade = ctx.patient.child_pugh
    if grade == "C":
        return [
            Finding(
                Severity.HARD_STOP,
                "hepatic.child_pugh_c",
                f"Child-Pugh C (severe hepatic impairment): avoid ketamine (source: {SOURCE_C})",
                SOURCE_C,
            )
        ]
    if grade != "B":
        return []
    policy = ctx.profile.hepatic
    source = f"{policy.source}; {SCALING}"
    text = f"Child-Pugh B (moderate hepatic impairment): {policy.advice}"
    if ctx.doses:
        cmp = compare_hepatic(ctx.profile.model_id, ctx.patient.covariates, ctx.doses)
        if isinstance(cmp, Unavailable):
            text += f"; predicted exposure unavailable ({cmp.reason})"
        else:
            n, b = cmp.normal.summary.ketamine, cmp.impaired.summary.ketamine
            text += (
                f"; with {ctx.profile.model_id} this order gives AUC {number(b.auc_ng_h_per_ml)} "
                f"ng*h/mL and Cmax {number(b.cmax_ng_per_ml)} ng/mL with the impairment "
                f"(the same doses without it: AUC {number(n.auc_ng_h_per_ml)}, Cmax "
                f"{number(n.cmax_ng_per_ml)}; AUC x{cmp.auc_ratio:.2f})"
            )
            text += _against_target(ctx, cmp.impaired)
    return [Finding(Severity.WARNING, "hepatic.child_pugh_b", f"{text} (source: {source})", source)]
