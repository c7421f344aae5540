"""Everything a rule may look at, resolved once per check (doses in mg, times in UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ketaclinic.pharmacology import Dose, Route
from ketaclinic.safety._findings import Finding, Severity
from ketaclinic.safety._inputs import Order, PatientContext, PreviousSession, as_utc
from ketaclinic.safety._library import LibraryEntry, Limit
from ketaclinic.safety._profile import ProtocolProfile

__all__ = ["CheckContext", "Event", "limit_finding"]


@dataclass(frozen=True)
class Event:
    """An amount given from ``start`` over ``duration_min`` (0: all at once)."""

    start: datetime
    amount_mg: float
    duration_min: float

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.duration_min)

    def amount_between(self, low: datetime, high: datetime) -> float:
        """mg given in ``[low, high)``; an infusion counts pro rata."""
        if self.duration_min <= 0:
            return self.amount_mg if low <= self.start < high else 0.0
        overlap = (min(self.end, high) - max(self.start, low)).total_seconds() / 60.0
        return self.amount_mg * max(overlap, 0.0) / self.duration_min


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
    def protocol_id(self) -> str:
        return self.profile.protocol_id

    def mg(self, dose: Dose) -> float:
        return dose.amount_mg(self.weight_kg)

    def session_total_mg(self) -> float:
        return sum(self.mg(d) for d in self.doses)

    def order_events(self) -> list[Event]:
        return [
            Event(self.start + timedelta(minutes=d.start_min), self.mg(d), d.duration_min)
            for d in self.doses
        ]

    def order_end(self) -> datetime:
        return max((e.end for e in self.order_events()), default=self.start)

    def previous(self, same_protocol: bool = False) -> list[PreviousSession]:
        """Sessions started before this order, oldest first."""
        sessions = [
            s
            for s in self.patient.previous_sessions
            if as_utc(s.start) < self.start
            and (not same_protocol or s.protocol == self.protocol_id)
        ]
        return sorted(sessions, key=lambda s: as_utc(s.start))

    def previous_events(self) -> list[Event]:
        return [Event(as_utc(s.start), s.dose_mg, s.duration_min) for s in self.previous()]


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
    if beyond(limit.hard):
        return [
            Finding(
                Severity.HARD_STOP,
                f"{name}.hard",
                f"{what} {value:.4g} {unit}{extra} is {word} hard limit {limit.hard:g} {unit} "
                f"{where}; hard limits cannot be overridden (source: {limit.describe_source()})",
                limit.describe_source(),
            )
        ]
    if beyond(limit.soft):
        return [
            Finding(
                Severity.OVERRIDABLE,
                f"{name}.soft",
                f"{what} {value:.4g} {unit}{extra} is {word} soft limit {limit.soft:g} {unit} "
                f"{where}; a physician may override with a reason "
                f"(source: {limit.describe_source()})",
                limit.describe_source(),
            )
        ]
    return []
