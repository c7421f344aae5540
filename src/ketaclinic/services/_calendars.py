"""Reading schedules: a patient's bookings and every chair's calendar for a date range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import select

from ketaclinic.errors import UserInputError
from ketaclinic.ranges import CLINIC_DATE
from ketaclinic.services._audit import Actor, Clock, UseCase, audited_transaction, utc_now
from ketaclinic.services._clinical import current_rows
from ketaclinic.services._inputs import authorize
from ketaclinic.services._permissions import Permission
from ketaclinic.services._scheduling import (
    MAX_CALENDAR_DAYS,
    ClinicHours,
    ScheduledEntry,
    _chains,
    _entry,
)
from ketaclinic.store import Chair, Database, ScheduleEntry

__all__ = ["ChairCalendar", "chair_calendar", "patient_schedule", "read_patient_entries"]


def patient_schedule(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    patient_id: int,
    include_cancelled: bool = False,
) -> tuple[ScheduledEntry, ...]:
    """A patient's booked sessions by start. An audited read."""
    with audited_transaction(db, actor, clock) as uc:
        authorize(uc, Permission.SCHEDULE_READ, "reading the schedule")
        return read_patient_entries(uc, patient_id, include_cancelled)


def read_patient_entries(
    uc: UseCase, patient_id: int, include_cancelled: bool
) -> tuple[ScheduledEntry, ...]:
    rows = list(
        uc.session.scalars(select(ScheduleEntry).where(ScheduleEntry.patient_id == patient_id))
    )
    entries = [
        _entry(uc, o, r, n)
        for o, r, n in _chains(rows)
        if include_cancelled or not r.entered_in_error
    ]
    uc.audit("schedule.read", record_type="schedule_entries", patient_id=patient_id)
    return tuple(sorted(entries, key=lambda e: (e.starts_at, e.entry_id)))


@dataclass(frozen=True)
class ChairCalendar:
    from_day: date
    to_day: date
    chairs: tuple[tuple[int, str], ...]
    entries: tuple[ScheduledEntry, ...]

    def of(self, chair_id: int) -> tuple[ScheduledEntry, ...]:
        return tuple(e for e in self.entries if e.chair_id == chair_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.from_day.isoformat(),
            "to": self.to_day.isoformat(),
            "chairs": [
                {"chair_id": c, "name": n, "entries": [e.to_dict() for e in self.of(c)]}
                for c, n in self.chairs
            ],
        }


def chair_calendar(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    from_day: date,
    to_day: date,
    hours: ClinicHours = ClinicHours(),  # noqa: B008 - frozen
) -> ChairCalendar:
    """Every chair's booked sessions from ``from_day`` to ``to_day`` (clinic days, inclusive,
    at most 92 days). Audited: one read event per patient shown."""
    CLINIC_DATE.check(from_day, "from")
    CLINIC_DATE.check(to_day, "to")
    if to_day < from_day or (to_day - from_day).days > MAX_CALENDAR_DAYS:
        raise UserInputError(
            f"the range {from_day.isoformat()} to {to_day.isoformat()} is not accepted; "
            f"accepted: 'to' on or after 'from', at most {MAX_CALENDAR_DAYS} days"
        )
    low = hours.instant(from_day, time(0))
    high = hours.instant(to_day + timedelta(days=1), time(0))
    with audited_transaction(db, actor, clock) as uc:
        authorize(uc, Permission.SCHEDULE_READ, "reading the schedule")
        rows = [
            r
            for r in current_rows(uc.session, ScheduleEntry)
            if r.starts_at < high and low < r.ends_at
        ]
        originals = {
            r.id: (o, n)
            for patient in {r.patient_id for r in rows}
            for o, r, n in _chains(
                list(
                    uc.session.scalars(
                        select(ScheduleEntry).where(ScheduleEntry.patient_id == patient)
                    )
                )
            )
        }
        entries = tuple(
            sorted(
                (_entry(uc, *originals[r.id][:1], r, originals[r.id][1]) for r in rows),
                key=lambda e: (e.chair_id, e.starts_at),
            )
        )
        chairs = tuple(
            (int(c.id), c.name) for c in uc.session.scalars(select(Chair).order_by(Chair.id))
        )
        for patient in sorted({e.patient_id for e in entries}):
            uc.audit("schedule.calendar.read", record_type="schedule_entries", patient_id=patient)
        return ChairCalendar(from_day, to_day, chairs, entries)
