"""Predicted concentration above the protocol's ceilings (pharmacology engine)."""

from __future__ import annotations

from ketaclinic.safety._context import CheckContext
from ketaclinic.safety._exposure import Unavailable, peak_ng_per_ml, predict
from ketaclinic.safety._findings import Finding, Severity

__all__ = ["predicted_concentration"]


def predicted_concentration(ctx: CheckContext) -> list[Finding]:
    if not ctx.doses:
        return []
    model = ctx.profile.model_id
    result = predict(model, ctx.patient.covariates, ctx.doses)
    if isinstance(result, Unavailable):
        return [
            Finding(
                Severity.WARNING,
                "prediction.unavailable",
                f"no concentration prediction with {model}: {result.reason}",
                "ketaclinic.pharmacology",
            )
        ]
    peak, site = peak_ng_per_ml(result)
    plasma = result.summary.ketamine.cmax_ng_per_ml
    out = []
    for ceiling in sorted(ctx.profile.ceilings, key=lambda c: c.severity.rank):
        if peak > ceiling.conc_ng_per_ml:
            kind = "hard" if ceiling.severity is Severity.HARD_STOP else "soft"
            out.append(
                Finding(
                    ceiling.severity,
                    f"concentration.{kind}",
                    f"predicted {site} peak {peak:.0f} ng/mL (plasma {plasma:.0f} ng/mL; "
                    f"{result.model.name}) is above the {kind} ceiling "
                    f"{ceiling.conc_ng_per_ml:g} ng/mL ({ceiling.label}) for "
                    f"{ctx.protocol_id} (source: {ceiling.source})",
                    f"{ceiling.source}; model: {result.model.source}",
                )
            )
            break
    for warning in result.warnings:
        if "extrapolation" in warning:
            out.append(
                Finding(Severity.INFO, "prediction.extrapolation", warning, result.model.source)
            )
    return out
