"""Weight freshness: weight-based doses need a recent weight."""

from __future__ import annotations

from ketaclinic.safety._context import CheckContext
from ketaclinic.safety._findings import Finding, Severity

__all__ = ["weight_age"]

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
