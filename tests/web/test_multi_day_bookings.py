"""A booking over two days at the clinic (an inpatient infusion) reads with both dates on the
dashboard's chairs and on the chairs' calendar: "11:00-05:00 GMT" was an end before its
start. The oracle is ``clock_time_span`` (tests/web/test_clinic_time_zone.py pins its text)."""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import select

from ketaclinic.services import Actor, clock_time_span, generate_demo_data
from ketaclinic.store import ScheduleEntry


def test_a_booking_over_two_days_shows_both_dates(staff: Any, app_db: Any, frozen: Any) -> None:
    generate_demo_data(app_db, Actor.command_line("cli:test"), patients=200, seed=1, clock=frozen)
    zone = app_db.settings.clinic_zone
    with app_db.snapshot() as session:
        entries = session.scalars(
            select(ScheduleEntry).where(ScheduleEntry.entered_in_error.is_(False))
        ).all()
        spanning = [
            e
            for e in entries
            if e.starts_at.astimezone(zone).date() != e.ends_at.astimezone(zone).date()
        ]
    assert spanning, "the demo clinic books no session over two days"
    entry = min(spanning, key=lambda e: e.starts_at)
    day = entry.starts_at.astimezone(zone).date().isoformat()
    shown = clock_time_span(entry.starts_at, entry.ends_at, zone)
    assert " to " in shown
    nurse = staff.page("nurse")
    for path in (f"/schedule?from_day={day}", f"/dashboard?day={day}"):
        answer = nurse.get(path)
        assert answer.status_code == 200, answer.text
        assert shown in html.unescape(answer.text), path
