"""Dose, rate and cumulative limits from the drug library (hard and soft)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ketaclinic.safety._context import CheckContext, Given, limit_finding, mg_between, number
from ketaclinic.safety._findings import Finding, Severity

__all__ = ["cumulative_limits", "dose_form", "per_dose_limits", "session_limits", "window_max"]


def dose_form(ctx: CheckContext) -> list[Finding]:
    """A bolus or infusion the protocol does not use for this route (overridable)."""
    if ctx.entry is None:
        return []
    out = []
    for dose in ctx.doses:
        form = "infusion" if dose.is_infusion else "bolus"
        if form not in ctx.entry.forms:
            out.append(
                Finding(
                    Severity.OVERRIDABLE,
                    "dose.form_not_in_protocol",
                    f"{dose}: a {ctx.entry.route} {form} is not part of protocol "
                    f"{ctx.protocol_id} (it uses: {', '.join(ctx.entry.forms)}; source: drug "
                    f"library entry {ctx.protocol_id}/{ctx.entry.route})",
                    f"ketaclinic drug library, entry {ctx.protocol_id}/{ctx.entry.route}",
                )
            )
    return out


def per_dose_limits(ctx: CheckContext) -> list[Finding]:
    out: list[Finding] = []
    w = ctx.weight_kg
    for dose in ctx.doses:
        mg = ctx.mg(dose)
        if dose.is_infusion:
            rate = dose.rate_mg_per_h(w)
            detail = f"{dose}"
            out += limit_finding(ctx, "infusion_rate_mg_per_h", rate, "infusion rate", "mg/h")
            out += limit_finding(
                ctx,
                "infusion_rate_mg_per_kg_per_h",
                rate / w,
                "infusion rate",
                "mg/kg/h",
                detail=f"{number(rate)} mg/h at {w:g} kg; {detail}",
            )
        else:
            out += limit_finding(ctx, "bolus_mg", mg, "single dose", "mg", detail=str(dose))
            out += limit_finding(
                ctx,
                "bolus_mg_per_kg",
                mg / w,
                "single dose",
                "mg/kg",
                detail=f"{number(mg)} mg at {w:g} kg; {dose}",
            )
    return out


def session_limits(ctx: CheckContext) -> list[Finding]:
    if not ctx.doses:
        return []
    total = ctx.session_total_mg()
    out = limit_finding(ctx, "session_total_mg", total, "session total", "mg")
    out += limit_finding(
        ctx,
        "session_total_mg_per_kg",
        total / ctx.weight_kg,
        "session total",
        "mg/kg",
        detail=f"{number(total)} mg at {ctx.weight_kg:g} kg",
    )
    return out


def window_max(given: list[Given], window: timedelta, after: datetime) -> float:
    """The most mg given in any window of length ``window`` that ends after ``after``.

    The maximum of a sliding window over piecewise-constant input is reached with the window
    starting at an event start or ending at an event end, so only those are tried.
    """
    edges: list[datetime] = []
    for g in given:
        for event in g.dose.occurrences():
            edges.append(g.at + timedelta(minutes=event.start_min))
            edges.append(g.at + timedelta(minutes=event.end_min) - window)
    best = 0.0
    for low in edges:
        high = low + window
        if high <= after:
            continue
        best = max(best, mg_between(given, low, high))
    return best


def cumulative_limits(ctx: CheckContext) -> list[Finding]:
    """24-hour and 7-day totals: this order plus every earlier ketamine session."""
    if not ctx.doses or ctx.entry is None:
        return []
    given = ctx.previous_given() + ctx.order_given()
    out: list[Finding] = []
    for name, window, what in (
        ("total_24h_mg", timedelta(hours=24), "24-hour total"),
        ("weekly_total_mg", timedelta(days=7), "7-day total"),
    ):
        if ctx.entry.limit(name) is None:
            continue
        relevant = [g for g in given if g.end > ctx.start - window]
        amount = window_max(relevant, window, ctx.start)
        out += limit_finding(
            ctx, name, amount, what, "mg", detail="this order plus earlier sessions"
        )
    return out
