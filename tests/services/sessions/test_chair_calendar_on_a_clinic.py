"""The chair calendar, found in SQL, against every current booking filtered in Python, on a
generated clinic with rescheduled and cancelled bookings; one audit event per patient shown."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from ketaclinic.services import Actor, ClinicHours, chair_calendar, generate_demo_data
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import AuditEvent, Database, ScheduleEntry, amend, content, withdraw


def _by_python(session: Any, low: datetime, high: datetime) -> list[tuple[int, int, Any]]:
    rows = list(session.scalars(select(ScheduleEntry)))
    amended = {r.amends_id for r in rows if r.amends_id is not None}
    return sorted(
        (int(r.patient_id), int(r.chair_id), r.starts_at)
        for r in rows
        if r.id not in amended and not r.entered_in_error and r.starts_at < high and low < r.ends_at
    )


def test_the_calendar_is_every_current_booking_in_the_range(
    db: Database, clock: FrozenClock
) -> None:
    generate_demo_data(db, Actor.command_line("cli:test"), patients=60, seed=9, clock=clock)
    day = clock().date()
    with db.transaction() as session:
        who = {"recorded_at": clock(), "recorded_by_id": 1}
        rows = list(session.scalars(select(ScheduleEntry).order_by(ScheduleEntry.id)))
        for row in rows[::5]:
            withdraw(session, row, reason="cancelled", **who)
        for row in [r for k, r in enumerate(rows) if k % 5 and k % 7 == 3]:
            moved = ScheduleEntry(
                **{
                    **content(row),
                    "starts_at": row.starts_at - timedelta(hours=30),
                    "ends_at": row.ends_at - timedelta(hours=2),
                }
            )
            amend(session, row, moved, reason="rescheduled", **who)
    nurse = Actor("demo.rn.diaz", "127.0.0.1")
    hours = ClinicHours()
    for first, last in ((day - timedelta(days=20), day), (day, day + timedelta(days=30))):
        low = hours.instant(first, time(0))
        high = hours.instant(last + timedelta(days=1), time(0))
        with db.snapshot() as session:
            expected = _by_python(session, low, high)
            before = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        calendar = chair_calendar(db, nurse, clock=clock, from_day=first, to_day=last)
        got = sorted((e.patient_id, e.chair_id, e.starts_at) for e in calendar.entries)
        assert got == expected
        assert expected
        with db.snapshot() as session:
            after = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        assert after - before == len({p for p, _, _ in expected})
