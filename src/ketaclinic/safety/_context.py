"""Everything a rule may look at, resolved once per check (doses in mg, times in UTC)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ketaclinic.pharmacology import Dose, Route, expand_doses, plain_number
from ketaclinic.safety._body_size import dosing_weight
from ketaclinic.safety._findings import Finding, Severity
from ketaclinic.safety._inputs import Order, PatientContext, PreviousSession, as_utc
from ketaclinic.safety._library import LibraryEntry, Limit
from ketaclinic.safety._profile import ProtocolProfile

__all__ = ["CheckContext", "Given", "limit_finding", "mg_between", "number"]


@dataclass(frozen=True)
class Given:
    """A dose anchored in time: ``dose`` with its times counted from ``at``, in mg for
    ``weight_kg`` (the order's doses, or a previous session's)."""

    at: datetime
    dose: Dose
    weight_kg: float

    @property
    def start(self) -> datetime:
        return self.at + timedelta(minutes=self.dose.start_min)

    @property
    def end(self) -> datetime:
        return self.at + timedelta(minutes=self.dose.end_min)


def mg_between(given: Sequence[Given], low: datetime, high: datetime) -> float:
    """mg given in ``[low, high)`` by all of ``given`` (infusions pro rata)."""
    total = 0.0
    for g in given:
        lo = (low - g.at).total_seconds() / 60.0
        hi = (high - g.at).total_seconds() / 60.0
        total += g.dose.amount_mg_between(g.weight_kg, lo, hi)
    return total


@dataclass(frozen=True)
class CheckContext:
    order: Order
    patient: PatientContext
    profile: ProtocolProfile
    as_of: datetime
    start: datetime
    route: Route | None
    doses: tuple[Dose, ...]
    entry: LibraryEntry | None

    @property
    def weight_kg(self) -> float:
        return self.patient.weight_kg

    @property
    def dosing_weight_kg(self) -> float:
        """The weight the protocol's per-kg doses use for this patient (its weight basis)."""
        if not self.profile.weight_based:
            return self.weight_kg
        return dosing_weight(self.patient, self.profile.weight_basis).weight_kg

    @property
    def protocol_id(self) -> str:
        return self.profile.protocol_id

    @property
    def events(self) -> list[Dose]:
        """The order's single dose events (repeats expanded), by start."""
        return expand_doses(self.doses)

    def mg(self, dose: Dose) -> float:
        """mg of one occurrence of ``dose`` for this patient."""
        return dose.amount_mg(self.weight_kg)

    def session_total_mg(self) -> float:
        return sum(d.total_mg(self.weight_kg) for d in self.doses)

    def order_given(self) -> list[Given]:
        return [Given(self.start, d, self.weight_kg) for d in self.doses]

    def order_end(self) -> datetime:
        return max((g.end for g in self.order_given()), default=self.start)

    def previous(self, same_protocol: bool = False) -> list[PreviousSession]:
        """Sessions started before this order, oldest first."""
        sessions = [
            s
            for s in self.patient.previous_sessions
            if as_utc(s.start) < self.start
            and (not same_protocol or s.protocol == self.protocol_id)
        ]
        return sorted(sessions, key=lambda s: as_utc(s.start))

    def previous_given(self) -> list[Given]:
        # previous doses are absolute (mg, mg/h): the weight does not change them
        return [Given(as_utc(s.start), d, self.weight_kg) for s in self.previous() for d in s.doses]


def limit_finding(
    ctx: CheckContext,
    name: str,
    value: float,
    what: str,
    unit: str,
    *,
    minimum: bool = False,
    detail: str = "",
) -> list[Finding]:
    """The finding (if any) for ``value`` against the library limit ``name``.

    Codes: ``<family>.hard`` (HARD_STOP) or ``<family>.soft`` (OVERRIDABLE), where the family
    is the limit name, e.g. ``bolus_mg_per_kg.hard``.
    """
    if ctx.entry is None:
        return []
    limit = ctx.entry.limit(name)
    if limit is None:
        return []
    return _against(ctx, limit, name, value, what, unit, minimum, detail)


def number(value: float) -> str:
    """A measured quantity for a message: 4 significant digits, never an exponent.

    >>> number(16800.0), number(0.123456), number(24.5), number(0.00001234)
    ('16800', '0.1235', '24.5', '0.00001234')
    """
    if value == 0 or abs(value) >= 1000:
        return f"{value:.0f}"
    return plain_number(float(f"{value:.4g}"))


def _against(
    ctx: CheckContext,
    limit: Limit,
    name: str,
    value: float,
    what: str,
    unit: str,
    minimum: bool,
    detail: str,
) -> list[Finding]:
    def beyond(bound: float | None) -> bool:
        if bound is None:
            return False
        return value < bound - 1e-9 if minimum else value > bound + 1e-9

    where = f"for {ctx.protocol_id} ({ctx.entry.route if ctx.entry else '?'})"
    word = "below the minimum" if minimum else "above the"
    extra = f" ({detail})" if detail else ""
    shown = number(value)
    if beyond(limit.hard):
        return [
            Finding(
                Severity.HARD_STOP,
                f"{name}.hard",
                f"{what} {shown} {unit}{extra} is {word} hard limit {limit.hard:g} {unit} "
                f"{where}; hard limits cannot be overridden (source: {limit.describe_source()})",
                limit.describe_source(),
            )
        ]
    if beyond(limit.soft):
        return [
            Finding(
                Severity.OVERRIDABLE,
                f"{name}.soft",
                f"{what} {shown} {unit}{extra} is {word} soft limit {limit.soft:g} {unit} "
                f"{where}; a physician may override with a reason "
                f"(source: {limit.describe_source()})",
                limit.describe_source(),
            )
        ]
    return []
