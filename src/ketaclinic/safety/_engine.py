"""The safety engine: order + patient context + protocol profile -> findings."""

from __future__ import annotations

from datetime import datetime

from ketaclinic.safety._context import CheckContext
from ketaclinic.safety._findings import Finding, SafetyReport, Severity, apply_overrides
from ketaclinic.safety._inputs import Order, PatientContext, as_utc
from ketaclinic.safety._library import DrugLibrary, drug_library
from ketaclinic.safety._medicines import interaction_tables
from ketaclinic.safety._profile import ProtocolProfile
from ketaclinic.safety.rules import DOSE_RULES, PATIENT_RULES
from ketaclinic.safety.rules.route import neuraxial_finding, route_mismatch

__all__ = ["check_order"]


def check_order(
    order: Order,
    patient: PatientContext,
    profile: ProtocolProfile,
    *,
    as_of: datetime,
    library: DrugLibrary | None = None,
) -> SafetyReport:
    """Check ``order`` for ``patient`` under ``profile`` at time ``as_of`` (no clock is read).

    The order arrives validated (doses are :class:`Dose` values); every clinical problem is a
    :class:`Finding`, a neuraxial route or dose a HARD_STOP. ``allowed`` is true when there is
    no HARD_STOP and every OVERRIDABLE finding carries a reason in ``order.overrides``.
    """
    lib = library or drug_library()
    now = as_utc(as_of)
    start = as_utc(order.start) if order.start is not None else now
    findings: list[Finding] = []
    if order.protocol != profile.protocol_id:
        findings.append(
            Finding(
                Severity.HARD_STOP,
                "order.protocol_mismatch",
                f"order names protocol {order.protocol!r} but was checked against "
                f"{profile.protocol_id!r}",
                "ketaclinic safety engine",
            )
        )
    findings += neuraxial_finding(order.refused)
    findings += route_mismatch(order.doses, profile.protocol_id)
    route = order.dose_route
    doses = order.doses
    entry = lib.find(profile.protocol_id, route.value) if route is not None else None
    if route is not None and entry is None:
        routes = [e.route for e in lib.entries if e.protocol == profile.protocol_id]
        findings.append(
            Finding(
                Severity.HARD_STOP,
                "route.not_in_protocol",
                f"route {route} is not part of protocol {profile.protocol_id} (drug library "
                f"{lib.version} lists: {', '.join(routes) or 'none'})",
                f"ketaclinic drug library {lib.version}",
            )
        )
    blocked_doses = any(f.severity is Severity.HARD_STOP for f in findings)
    ctx = CheckContext(
        order=order,
        patient=patient,
        profile=profile,
        as_of=now,
        start=start,
        route=route,
        doses=() if blocked_doses else doses,
        entry=None if blocked_doses else entry,
    )
    for rule in PATIENT_RULES:
        findings += rule(ctx)
    if ctx.entry is not None and ctx.doses:
        for rule in DOSE_RULES:
            findings += rule(ctx)
    return SafetyReport(
        tuple(apply_overrides(findings, order.overrides)),
        lib.version,
        interaction_tables().version,
    )
