"""Route rules: neuraxial routes refused, route in the protocol, oral route warning."""

from __future__ import annotations

from ketaclinic.errors import DoseSyntaxError, RefusedRouteError, UserInputError
from ketaclinic.pharmacology import Dose, Route, parse_dose, parse_doses
from ketaclinic.safety._context import CheckContext
from ketaclinic.safety._findings import Finding, Severity

__all__ = ["neuraxial_finding", "oral_route", "resolve_doses", "resolve_route", "route_mismatch"]

NEURAXIAL_SOURCE = (
    "Miller's Anesthesia (neuraxial ketamine: preservative neurotoxicity, not approved); "
    "ASRA/AAPM/ASA chronic pain guideline, Cohen 2018, Reg Anesth Pain Med 43:521"
)
ORAL_SOURCE = (
    "oral bioavailability about 20 % racemic (Clements 1982; Yanagihara 2003, PMID 12516077), "
    "8 % S-ketamine (Fanta 2015, PMID 25724645); first pass forms much more norketamine than "
    "IV dosing (DOMAIN.md section 6)"
)


def neuraxial_finding(error: RefusedRouteError) -> Finding:
    return Finding(Severity.HARD_STOP, "route.neuraxial", str(error), NEURAXIAL_SOURCE)


def resolve_route(text: str) -> tuple[Route | None, list[Finding]]:
    """The order's route, or a HARD_STOP for a neuraxial route; unknown words are user errors."""
    word = text.strip().lower()
    for route in Route:
        if word == route.value:
            return route, []
    try:
        parse_dose(f"{word} 1 mg")
    except RefusedRouteError as error:
        return None, [neuraxial_finding(error)]
    except DoseSyntaxError:
        pass
    accepted = ", ".join(r.value for r in Route)
    raise UserInputError(f"order route {text!r} is not accepted; accepted: {accepted}")


def resolve_doses(doses: tuple[str, ...]) -> tuple[tuple[Dose, ...], list[Finding]]:
    """Parse the order's doses; a neuraxial dose becomes a HARD_STOP, other errors raise."""
    try:
        return tuple(parse_doses(list(doses))), []
    except RefusedRouteError as error:
        return (), [neuraxial_finding(error)]


def route_mismatch(route: Route | None, doses: tuple[Dose, ...], protocol: str) -> list[Finding]:
    if route is None:
        return []
    wrong = sorted({str(d.route) for d in doses if d.route is not route})
    if not wrong:
        return []
    return [
        Finding(
            Severity.HARD_STOP,
            "route.mismatch",
            f"the order's route is {route} but doses use {', '.join(wrong)}: one order takes "
            f"one route (protocol {protocol})",
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
