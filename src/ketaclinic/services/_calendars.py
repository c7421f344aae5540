"""Reading schedules: a patient's bookings and every chair's calendar for a date range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, select

from ketaclinic.errors import UserInputError
from ketaclinic.ranges import CLINIC_DATE, SESSION_MIN
from ketaclinic.services._audit import Actor, Clock, UseCase, audited_transaction, utc_now
from ketaclinic.services._inputs import authorize
from ketaclinic.services._permissions import Permission
from ketaclinic.services._scheduling import (
    MAX_CALENDAR_DAYS,
    ClinicHours,
    ScheduledEntry,
    _chains,
    _entry,
)
from ketaclinic.store import (
    AuditEntry,
    Chair,
    Database,
    ScheduleEntry,
    append_audits,
    newer_version,
)

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
        rooms = list(uc.session.scalars(select(Chair).order_by(Chair.id)))  # held, so that
        chairs = tuple((int(c.id), c.name) for c in rooms)  # each entry finds its chair loaded
        rows = _overlapping(uc, low, high)
        originals = {
            r.id: (o, n) for o, r, n in _chains(_versions(uc, {int(r.patient_id) for r in rows}))
        }
        entries = tuple(
            sorted(
                (_entry(uc, *originals[r.id][:1], r, originals[r.id][1]) for r in rows),
                key=lambda e: (e.chair_id, e.starts_at),
            )
        )
        patients = sorted({e.patient_id for e in entries})
        append_audits(
            uc.session,
            [
                AuditEntry(
                    occurred_at=uc.now,
                    actor_username=uc.actor.username,
                    actor_user_id=uc.actor.user_id,
                    client_address=uc.actor.client_address,
                    action="schedule.calendar.read",
                    record_type="schedule_entries",
                    patient_id=patient,
                )
                for patient in patients
            ],
        )
        return ChairCalendar(from_day, to_day, chairs, entries)


#: the longest a booking can be (``SESSION_MIN``: the longest inpatient infusion); bookings
#: starting this long before a range are the earliest that can reach into it
_LONGEST_BOOKING = timedelta(minutes=SESSION_MIN.high)
_IN_LIST = 500  # patients per IN list


def _overlapping(uc: UseCase, low: datetime, high: datetime) -> list[ScheduleEntry]:
    """The current bookings that share a moment with [low, high), by id: on the start-time
    index, from the longest booking's length before ``low``."""
    newer = newer_version(ScheduleEntry)
    return list(
        uc.session.scalars(
            select(ScheduleEntry)
            .where(ScheduleEntry.starts_at >= low - _LONGEST_BOOKING)
            .where(ScheduleEntry.starts_at < high)
            .where(ScheduleEntry.ends_at > low)
            .where(ScheduleEntry.entered_in_error.is_(False))
            .where(~exists().where(newer.amends_id == ScheduleEntry.id))
            .order_by(ScheduleEntry.id)
        )
    )


def _versions(uc: UseCase, patients: set[int]) -> list[Any]:
    """The id and amended id of every version of every booking of ``patients`` (what the
    lines of versions are made of), 500 patients a query."""
    ids = sorted(patients)
    found: list[Any] = []
    for k in range(0, len(ids), _IN_LIST):
        found += uc.session.execute(
            select(ScheduleEntry.id, ScheduleEntry.amends_id).where(
                ScheduleEntry.patient_id.in_(ids[k : k + _IN_LIST])
            )
        ).all()
    return found
