"""Weight: weight-based doses need a recent weight, and a stated weight basis in obesity."""

from __future__ import annotations

from ketaclinic.safety._body_size import ADULT_AGE_YEARS, BMI_SOURCE, dosing_weight
from ketaclinic.safety._context import CheckContext, number
from ketaclinic.safety._findings import Finding, Severity
from ketaclinic.safety._profile import WeightScalar

__all__ = ["body_size", "weight_age"]

SOURCE = (
    "ketaclinic protocol library: maximum age of the weight per protocol [clinical judgement]; "
    "ISMP: weigh patients for weight-based dosing"
)


def weight_age(ctx: CheckContext) -> list[Finding]:
    measured = ctx.patient.weight_measured_on
    today = ctx.as_of.date()
    days = (today - measured).days
    if days < 0:
        return [
            Finding(
                Severity.HARD_STOP,
                "weight.date_in_future",
                f"weight measured on {measured} is after the check date {today}: correct the date",
                SOURCE,
            )
        ]
    allowed = ctx.profile.weight_max_age_days
    if days <= allowed:
        return []
    severity = Severity.OVERRIDABLE if ctx.profile.weight_based else Severity.WARNING
    return [
        Finding(
            severity,
            "weight.stale",
            f"weight {ctx.patient.weight_kg:g} kg was measured {days} days ago ({measured}); "
            f"protocol {ctx.protocol_id} accepts at most {allowed} days: weigh the patient "
            f"(source: {SOURCE})",
            SOURCE,
        )
    ]


def body_size(ctx: CheckContext) -> list[Finding]:
    """The protocol's weight basis: a prompt above its BMI, or a missing height."""
    basis = ctx.profile.weight_basis
    if not ctx.profile.weight_based or basis is None:
        return []
    if ctx.patient.age_years < ADULT_AGE_YEARS:
        return []
    rule = (
        f"{ctx.protocol_id} doses on {basis.scalar} body weight from BMI "
        f"{basis.above_bmi_kg_per_m2:g} kg/m2"
        + (" [clinical judgement]" if basis.judgement else "")
    )
    if not ctx.patient.height_recorded:
        severity = Severity.INFO if basis.scalar is WeightScalar.ACTUAL else Severity.WARNING
        return [
            Finding(
                severity,
                "weight.height_missing",
                f"no height recorded: BMI cannot be computed and {rule}; the doses use the "
                f"actual weight {ctx.weight_kg:g} kg. Record height_cm (sources: {basis.source}; "
                f"{BMI_SOURCE})",
                f"{basis.source}; {BMI_SOURCE}",
            )
        ]
    dosing = dosing_weight(ctx.patient, basis)
    bmi = dosing.bmi_kg_per_m2
    if bmi is None or bmi < basis.above_bmi_kg_per_m2:
        return []
    per_kg = [d for d in ctx.doses if d.per_kg]
    order = ""
    if per_kg and not dosing.is_actual:
        order = "; this order's per-kg doses are read with the actual weight: " + "; ".join(
            f"{d} = {number(ctx.mg(d))} mg (on the dosing weight "
            f"{number(d.amount_mg(dosing.weight_kg))} mg)"
            for d in per_kg
        )
    sources = f"{basis.source}; {BMI_SOURCE}"
    return [
        Finding(
            Severity.WARNING,
            "weight.obesity",
            f"BMI {bmi:.1f} kg/m2 ({ctx.weight_kg:g} kg, {ctx.patient.covariates.height_cm:g} cm) "
            f"is at or above {basis.above_bmi_kg_per_m2:g} kg/m2 (obesity): {rule}; dosing "
            f"weight: {dosing.explanation}. The PK models scale with actual weight, so predicted "
            f"concentrations in obesity are uncertain: confirm the dose{order} "
            f"(sources: {sources})",
            sources,
        )
    ]
