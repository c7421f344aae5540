"""Scheduling the series and maintenance: minimum spacing from the protocol, clinic days and
hours, one session per chair at a time; the chairs' calendar for a date range.

A schedule entry is a clinical record: rescheduling is an amendment, cancelling a withdrawal
(both keep what was planned before). Times are UTC instants; clinic days and hours are given
in the clinic's time zone (``ClinicHours.zone``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from ketaclinic.errors import RecordNotFoundError, RefusedError, UserInputError
from ketaclinic.protocols import Protocol
from ketaclinic.ranges import CLINIC_DATE, SESSION_MIN
from ketaclinic.safety import drug_library
from ketaclinic.services._audit import Actor, Clock, UseCase, audited_transaction, utc_now
from ketaclinic.services._chair_book import overlaps
from ketaclinic.services._clinic_time import date_and_time, date_and_time_span
from ketaclinic.services._clinical import (
    current_rows,
    load_course,
    order_doses,
    who,
)
from ketaclinic.services._inputs import authorize
from ketaclinic.services._permissions import Permission
from ketaclinic.store import Chair, Database, Order, ScheduleEntry, amend, get, withdraw

__all__ = [
    "SCHEDULE_KINDS",
    "ClinicHours",
    "ScheduledEntry",
    "Spacing",
    "cancel_entry",
    "reschedule_entry",
    "schedule_maintenance",
    "schedule_series",
    "schedule_session",
    "session_length_min",
    "spacing_for",
]

SCHEDULE_KINDS = ("series", "maintenance", "other")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: a series day that cannot be kept moves to a later clinic day, at most this many days
MAX_SHIFT_DAYS = 14
MAX_CALENDAR_DAYS = 92
SLOT_MIN = 15


@dataclass(frozen=True)
class ClinicHours:
    """When the clinic treats: weekdays (0 = Monday) and opening hours in ``zone``. A day
    session must end by closing time; a multi-day inpatient session must start in hours."""

    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    opens: time = time(8, 0)
    closes: time = time(18, 0)
    zone: str = "UTC"

    def __post_init__(self) -> None:
        if not self.days or any(d not in range(7) for d in self.days):
            raise UserInputError("clinic days are weekdays 0 (Monday) to 6 (Sunday)")
        if self.closes <= self.opens:
            raise UserInputError("the clinic must close after it opens")
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserInputError(
                f"unknown time zone {self.zone!r}; accepted: IANA names such as Europe/Berlin"
            ) from None

    def describe(self) -> str:
        days = ", ".join(_WEEKDAYS[d] for d in sorted(self.days))
        return f"{days} {self.opens:%H:%M}-{self.closes:%H:%M} ({self.zone})"

    def local(self, at: datetime) -> datetime:
        return at.astimezone(ZoneInfo(self.zone))

    def shown(self, at: datetime) -> str:
        """``2026-03-02 09:00 GMT``: an instant as the clinic reads it."""
        return date_and_time(at, ZoneInfo(self.zone))

    def shown_span(self, starts: datetime, ends: datetime) -> str:
        """``2026-03-02 09:00-09:50 GMT``."""
        return date_and_time_span(starts, ends, ZoneInfo(self.zone))

    def instant(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=ZoneInfo(self.zone)).astimezone(ZoneInfo("UTC"))

    def problem(self, starts: datetime, ends: datetime, multi_day: bool) -> str | None:
        local = self.local(starts)
        if local.weekday() not in self.days:
            return f"{local:%a %Y-%m-%d} is not a clinic day"
        if local.time() < self.opens or local.time() > self.closes:
            return f"{local:%H:%M} is outside the clinic's hours"
        end = self.local(ends)
        if not multi_day and (end.date() != local.date() or end.time() > self.closes):
            return f"the session would end at {end:%H:%M}, after closing time"
        return None


@dataclass(frozen=True)
class Spacing:
    """The least time between the starts of two sessions of a course."""

    min_days: int
    min_hours: float
    source: str


def spacing_for(protocol: Protocol, kind: str) -> Spacing:
    """Series: the shortest gap between two days of the protocol's schedule; maintenance: the
    shortest maintenance interval; and never less than the drug library's hard minimum
    interval (start to start)."""
    offsets = sorted({o for phase in protocol.schedule.phases for o in phase.day_offsets})
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    maintenance = protocol.schedule.maintenance
    if kind == "maintenance" and maintenance is not None:
        days, source = maintenance.range_days[0], f"maintenance range ({maintenance.source})"
    else:
        days = min(gaps, default=0)
        source = f"protocol {protocol.id} schedule ({protocol.schedule.source})"
    entry = drug_library().find(protocol.id, str(protocol.route))
    limit = entry.limit("min_interval_h") if entry is not None else None
    hours = float(limit.hard) if limit is not None and limit.hard is not None else 0.0
    if hours:
        source += f"; drug library hard minimum {hours:g} h ({limit.describe_source()})"  # type: ignore[union-attr]
    return Spacing(days, hours, source)


def session_length_min(protocol: Protocol, order: Order | None = None) -> float:
    """Chair time of one session: the doses (the order's, else the protocol's) plus the
    minimum observation, in whole 15-min slots, at least 30 min."""
    doses = order_doses(order) if order is not None else [d.dose for d in protocol.dose_rule.doses]
    minutes = max(d.end_min for d in doses) + protocol.monitoring.min_observation_min
    return float(max(30, SLOT_MIN * math.ceil(minutes / SLOT_MIN)))


@dataclass(frozen=True)
class ScheduledEntry:
    """A current schedule entry (``entry_id``: the original id, kept across reschedules)."""

    entry_id: int
    patient_id: int
    course_id: int
    chair_id: int
    chair_name: str
    starts_at: datetime
    ends_at: datetime
    kind: str
    version: int = 1
    cancelled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "patient_id": self.patient_id,
            "course_id": self.course_id,
            "chair_id": self.chair_id,
            "chair_name": self.chair_name,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "kind": self.kind,
            "version": self.version,
            "cancelled": self.cancelled,
        }


def _chains(rows: list[ScheduleEntry]) -> list[tuple[int, ScheduleEntry, int]]:
    """(original id, current version, number of versions) of each line of versions."""
    by_id = {r.id: r for r in rows}
    amended = {r.amends_id for r in rows if r.amends_id is not None}
    out = []
    for row in rows:
        if row.id in amended:
            continue
        first, versions = row, 1
        while first.amends_id is not None and first.amends_id in by_id:
            first, versions = by_id[first.amends_id], versions + 1
        out.append((int(first.id), row, versions))
    return out


def _entry(uc: UseCase, original: int, row: ScheduleEntry, versions: int) -> ScheduledEntry:
    chair = get(uc.session, Chair, row.chair_id)
    return ScheduledEntry(
        original,
        int(row.patient_id),
        int(row.course_id),
        int(row.chair_id),
        chair.name,
        row.starts_at,
        row.ends_at,
        row.kind,
        versions,
        bool(row.entered_in_error),
    )


def _busy(
    uc: UseCase, starts: datetime, ends: datetime, exclude: int | None = None, **where: Any
) -> list[ScheduleEntry]:
    rows = current_rows(uc.session, ScheduleEntry, **where)
    return [r for r in rows if overlaps(starts, ends, r.starts_at, r.ends_at) and r.id != exclude]


@dataclass
class _Booking:
    course_id: int
    patient_id: int
    protocol: Protocol
    length_min: float
    multi_day: bool
    hours: ClinicHours
    planned: list[datetime] = field(default_factory=list)

    def spacing_problem(
        self, uc: UseCase, starts: datetime, kind: str, exclude: int | None = None
    ) -> str | None:
        spacing = spacing_for(self.protocol, kind)
        others = [
            r.starts_at
            for r in current_rows(uc.session, ScheduleEntry, course_id=self.course_id)
            if r.id != exclude
        ]
        for other in [*others, *self.planned]:
            days = abs((self.hours.local(starts).date() - self.hours.local(other).date()).days)
            gap_h = abs((starts - other).total_seconds()) / 3600.0
            if days < spacing.min_days or gap_h < spacing.min_hours:
                return (
                    f"{self.hours.shown(starts)} is {gap_h:.0f} h from the course's session at "
                    f"{self.hours.shown(other)}; accepted: at least {spacing.min_days} days"
                    + (f" and {spacing.min_hours:g} h" if spacing.min_hours else "")
                    + f" apart ({spacing.source})"
                )
        return None


def _booking(uc: UseCase, course_id: int, hours: ClinicHours) -> _Booking:
    course, protocol = load_course(uc.session, course_id)
    orders = current_rows(uc.session, Order, course_id=course_id)
    order = orders[-1] if orders else None
    length = session_length_min(protocol, order)
    doses = order_doses(order) if order is not None else [d.dose for d in protocol.dose_rule.doses]
    multi_day = max(d.end_min for d in doses) >= 24 * 60
    return _Booking(course_id, int(course.patient_id), protocol, length, multi_day, hours)


def _place(
    uc: UseCase,
    booking: _Booking,
    starts: datetime,
    chair_id: int | None,
    kind: str,
    length_min: float | None = None,
    exclude: int | None = None,
) -> tuple[int, datetime, datetime] | str:
    """A chair for ``starts`` or the reason there is none (``exclude``: an entry being moved)."""
    minutes = SESSION_MIN.check(length_min if length_min is not None else booking.length_min)
    ends = starts + timedelta(minutes=minutes)
    problem = booking.hours.problem(starts, ends, booking.multi_day) or booking.spacing_problem(
        uc, starts, kind, exclude
    )
    if problem:
        return problem
    if _busy(uc, starts, ends, exclude, patient_id=booking.patient_id):
        return f"the patient already has a session at {booking.hours.shown(starts)}"
    chairs = [
        c
        for c in uc.session.scalars(select(Chair).order_by(Chair.id))
        if c.retired_at is None and (chair_id is None or c.id == chair_id)
    ]
    if chair_id is not None and not chairs:
        raise RecordNotFoundError(f"no chair in use has id {chair_id}")
    for chair in chairs:
        if not _busy(uc, starts, ends, exclude, chair_id=chair.id):
            return int(chair.id), starts, ends
    return (
        f"no chair is free {booking.hours.shown_span(starts, ends)}"
        if chair_id is None
        else f"chair {chair_id} is taken {booking.hours.shown_span(starts, ends)}"
    )


def _add(
    uc: UseCase, user: Any, booking: _Booking, placed: tuple[int, datetime, datetime], kind: str
) -> ScheduledEntry:
    chair, starts, ends = placed
    row = ScheduleEntry(
        course_id=booking.course_id,
        chair_id=chair,
        starts_at=starts,
        ends_at=ends,
        kind=kind,
        **who(uc, user, booking.patient_id),
    )
    uc.session.add(row)
    uc.session.flush()
    booking.planned.append(starts)
    uc.audit(
        "schedule.add",
        record_type="schedule_entries",
        record_id=row.id,
        patient_id=booking.patient_id,
        details={"course_id": booking.course_id, "kind": kind, "starts_at": starts.isoformat()},
    )
    return _entry(uc, int(row.id), row, 1)


def _future(uc: UseCase, starts: datetime) -> datetime:
    if not isinstance(starts, datetime) or starts.tzinfo is None:
        raise UserInputError("starts_at must be a date and time with a time zone (UTC)")
    CLINIC_DATE.check(starts, "starts_at")
    if starts < uc.now:
        raise UserInputError(
            f"starts_at {starts.isoformat()} is in the past; accepted: from {uc.now.isoformat()}"
        )
    return starts


def schedule_session(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    course_id: int,
    starts_at: datetime,
    chair_id: int | None = None,
    kind: str = "series",
    length_min: float | None = None,
    hours: ClinicHours = ClinicHours(),
) -> ScheduledEntry:
    """Book one session (on ``chair_id``, or the first free chair); refused with the reason
    when the day, the hours, the spacing or the chairs do not allow it."""
    if kind not in SCHEDULE_KINDS:
        raise UserInputError(
            f"kind {kind!r} is not accepted; accepted: {', '.join(SCHEDULE_KINDS)}"
        )
    with audited_transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.SCHEDULE_WRITE, "scheduling sessions")
        booking = _booking(uc, course_id, hours)
        placed = _place(uc, booking, _future(uc, starts_at), chair_id, kind, length_min)
        if isinstance(placed, str):
            raise RefusedError(f"cannot schedule: {placed} (clinic hours {hours.describe()})")
        return _add(uc, user, booking, placed, kind)


def _book_days(
    uc: UseCase,
    user: Any,
    booking: _Booking,
    days: list[date],
    at: time,
    chair_id: int | None,
    kind: str,
) -> tuple[ScheduledEntry, ...]:
    out: list[ScheduledEntry] = []
    shift = 0
    for target in days:
        reasons: list[str] = []
        for extra in range(shift, shift + MAX_SHIFT_DAYS + 1):
            starts = booking.hours.instant(target + timedelta(days=extra), at)
            placed = _place(uc, booking, _future(uc, starts), chair_id, kind)
            if not isinstance(placed, str):
                out.append(_add(uc, user, booking, placed, kind))
                shift = extra  # later days keep their spacing from this one
                break
            reasons.append(placed)
        else:
            raise RefusedError(
                f"cannot schedule the {kind} session planned for {target.isoformat()}: no day "
                f"within {MAX_SHIFT_DAYS} days works (first reason: {reasons[0]}; clinic hours "
                f"{booking.hours.describe()}); nothing was scheduled"
            )
    return tuple(out)


def schedule_series(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    course_id: int,
    first_day: date,
    at: time = time(9, 0),
    chair_id: int | None = None,
    hours: ClinicHours = ClinicHours(),
) -> tuple[ScheduledEntry, ...]:
    """Book every session of the protocol's schedule from ``first_day`` at ``at`` (clinic
    time). A day that is not a clinic day, or has no free chair, moves to the next day that
    works, and the days after it move with it; all or nothing."""
    CLINIC_DATE.check(first_day, "first_day")
    with audited_transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.SCHEDULE_WRITE, "scheduling sessions")
        booking = _booking(uc, course_id, hours)
        offsets = [o for phase in booking.protocol.schedule.phases for o in phase.day_offsets]
        days = [first_day + timedelta(days=o) for o in offsets]
        return _book_days(uc, user, booking, days, at, chair_id, "series")


def schedule_maintenance(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    course_id: int,
    first_day: date,
    count: int,
    every_days: int | None = None,
    at: time = time(9, 0),
    chair_id: int | None = None,
    hours: ClinicHours = ClinicHours(),
) -> tuple[ScheduledEntry, ...]:
    """Book ``count`` maintenance sessions ``every_days`` apart (default: the protocol's
    interval; accepted: its maintenance range), from ``first_day``."""
    CLINIC_DATE.check(first_day, "first_day")
    if not isinstance(count, int) or not 1 <= count <= 24:
        raise UserInputError(f"count {count!r} is not accepted; accepted: 1 to 24 sessions")
    with audited_transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.SCHEDULE_WRITE, "scheduling sessions")
        booking = _booking(uc, course_id, hours)
        maintenance = booking.protocol.schedule.maintenance
        if maintenance is None:
            raise RefusedError(f"protocol {booking.protocol.id} has no maintenance phase")
        every = maintenance.every_days if every_days is None else every_days
        low, high = maintenance.range_days
        if not isinstance(every, int) or not low <= every <= high:
            raise UserInputError(
                f"every_days {every!r} is outside protocol {booking.protocol.id}'s maintenance "
                f"interval; accepted: {low}-{high} days ({maintenance.source})"
            )
        days = [first_day + timedelta(days=k * every) for k in range(count)]
        return _book_days(uc, user, booking, days, at, chair_id, "maintenance")


def cancel_entry(
    db: Database, actor: Actor, *, clock: Clock = utc_now, entry_id: int, reason: str
) -> None:
    """Cancel a booked session (a withdrawal: what was booked stays readable)."""
    if not reason or not reason.strip():
        raise UserInputError("cancelling a session needs a reason")
    with audited_transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.SCHEDULE_WRITE, "scheduling sessions")
        current = next((r for o, r, _ in _chains_of(uc, entry_id) if o == entry_id), None)
        if current is None:
            raise RecordNotFoundError(f"no schedule_entries record has id {entry_id}")
        if current.entered_in_error:
            raise RefusedError(f"schedule entry {entry_id} is already cancelled")
        withdraw(
            uc.session, current, reason=reason.strip(), recorded_at=uc.now, recorded_by_id=user.id
        )
        uc.audit(
            "schedule.cancel",
            record_type="schedule_entries",
            record_id=entry_id,
            patient_id=int(current.patient_id),
            reason=reason.strip(),
        )


def reschedule_entry(
    db: Database,
    actor: Actor,
    *,
    entry_id: int,
    starts_at: datetime,
    reason: str,
    chair_id: int | None = None,
    hours: ClinicHours = ClinicHours(),
    clock: Clock = utc_now,
) -> ScheduledEntry:
    """Move a booking (an amendment: the booking as it was stays readable) under the same
    rules as a new one; its length and kind stay."""
    if not reason or not reason.strip():
        raise UserInputError("moving a session needs a reason")
    with audited_transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.SCHEDULE_WRITE, "scheduling sessions")
        found = next(((r, n) for o, r, n in _chains_of(uc, entry_id) if o == entry_id), None)
        if found is None:
            raise RecordNotFoundError(f"no schedule_entries record has id {entry_id}")
        current, versions = found
        if current.entered_in_error:
            raise RefusedError(f"schedule entry {entry_id} is cancelled: book a new session")
        booking = _booking(uc, current.course_id, hours)
        minutes = (current.ends_at - current.starts_at).total_seconds() / 60.0
        placed = _place(
            uc, booking, _future(uc, starts_at), chair_id, current.kind, minutes, current.id
        )
        if isinstance(placed, str):
            raise RefusedError(
                f"cannot move the session: {placed} (clinic hours {hours.describe()})"
            )
        chair, starts, ends = placed
        moved = amend(
            uc.session,
            current,
            ScheduleEntry(
                course_id=current.course_id,
                chair_id=chair,
                starts_at=starts,
                ends_at=ends,
                kind=current.kind,
            ),
            reason=reason.strip(),
            recorded_at=uc.now,
            recorded_by_id=user.id,
        )
        uc.audit(
            "schedule.reschedule",
            record_type="schedule_entries",
            record_id=entry_id,
            patient_id=int(current.patient_id),
            reason=reason.strip(),
            details={"from": current.starts_at.isoformat(), "to": starts.isoformat()},
        )
        return _entry(uc, entry_id, moved, versions + 1)


def _chains_of(uc: UseCase, entry_id: int) -> list[tuple[int, ScheduleEntry, int]]:
    first = uc.session.get(ScheduleEntry, entry_id)
    if first is None:
        return []
    rows = list(
        uc.session.scalars(
            select(ScheduleEntry).where(ScheduleEntry.patient_id == first.patient_id)
        )
    )
    return _chains(rows)
