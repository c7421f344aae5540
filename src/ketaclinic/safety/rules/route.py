"""Route rules: neuraxial routes refused, route in the protocol, oral route warning."""

from __future__ import annotations

from collections.abc import Sequence

from ketaclinic.pharmacology import Dose, Route
from ketaclinic.safety._context import CheckContext
from ketaclinic.safety._findings import Finding, Severity
from ketaclinic.safety._inputs import RefusedDose

__all__ = ["neuraxial_finding", "oral_route", "route_mismatch"]

NEURAXIAL_SOURCE = (
    "Miller's Anesthesia (neuraxial ketamine: preservative neurotoxicity, not approved); "
    "ASRA/AAPM/ASA chronic pain guideline, Cohen 2018, Reg Anesth Pain Med 43:521"
)
ORAL_SOURCE = (
    "oral bioavailability about 20 % racemic (Clements 1982; Yanagihara 2003, PMID 12516077), "
    "8 % S-ketamine (Fanta 2015, PMID 25724645); first pass forms much more norketamine than "
    "IV dosing (DOMAIN.md section 6)"
)


def neuraxial_finding(refused: Sequence[RefusedDose]) -> list[Finding]:
    """One HARD_STOP for every neuraxial route or dose of an order (not one per dose)."""
    if not refused:
        return []
    given = "; ".join(repr(r.text) for r in refused)
    return [
        Finding(
            Severity.HARD_STOP,
            "route.neuraxial",
            f"{given}: {refused[0].reason}",
            NEURAXIAL_SOURCE,
        )
    ]


def route_mismatch(doses: Sequence[Dose], protocol: str) -> list[Finding]:
    """Doses of different routes in one order (limits are per protocol and route)."""
    routes = sorted({str(d.route) for d in doses})
    if len(routes) < 2:
        return []
    return [
        Finding(
            Severity.HARD_STOP,
            "route.mismatch",
            f"the order's doses use several routes ({', '.join(routes)}): one order takes one "
            f"route (protocol {protocol})",
            "ketaclinic drug library: limits are per protocol and route",
        )
    ]


def oral_route(ctx: CheckContext) -> list[Finding]:
    if not any(d.route is Route.ORAL for d in ctx.doses):
        return []
    return [
        Finding(
            Severity.WARNING,
            "route.oral",
            "oral ketamine: low and variable bioavailability (about 20 % racemic, 8 % "
            "S-ketamine), more adverse effects and much more norketamine than parenteral "
            f"dosing; titrate slowly (source: {ORAL_SOURCE})",
            ORAL_SOURCE,
        )
    ]
