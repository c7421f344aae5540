"""Scheduling the series and maintenance: protocol spacing, clinic days and hours, chair
capacity; a patient's schedule as an iCalendar file; the chairs' calendar."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from ketaclinic.errors import NotAllowedError, RefusedError, UserInputError
from ketaclinic.protocols import get_protocol
from ketaclinic.services import (
    Actor,
    ClinicHours,
    cancel_entry,
    chair_calendar,
    patient_ical,
    patient_schedule,
    reschedule_entry,
    schedule_maintenance,
    schedule_series,
    schedule_session,
    session_length_min,
    spacing_for,
    verify_audit,
)
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import AuditEvent, ScheduleEntry

MakeChart = Callable[..., Any]
MONDAY = date(2026, 3, 9)  # the frozen clock stands on Monday 2026-03-02


def _count(db: Any) -> int:
    with db.snapshot() as session:
        return int(session.execute(select(func.count()).select_from(ScheduleEntry)).scalar_one())


def test_the_depression_series_follows_the_protocol_days_on_one_chair(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart, chairs: list[int]
) -> None:
    chart = make_chart("depression-iv")
    entries = schedule_series(
        db, people["nurse.brown"], clock=clock, course_id=chart.course_id, first_day=MONDAY
    )
    assert [e.starts_at.date() for e in entries] == [
        MONDAY + timedelta(days=d) for d in (0, 2, 4, 7, 9, 11)
    ]
    # 40-min infusion + 120 min observation = 160 min, in 15-min slots
    assert {(e.ends_at - e.starts_at) for e in entries} == {timedelta(minutes=165)}
    assert {e.chair_id for e in entries} == {chairs[0]}
    assert [e.kind for e in entries] == ["series"] * 6


def test_a_day_that_is_not_a_clinic_day_moves_the_rest_of_the_series_with_it(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart, chairs: list[int]
) -> None:
    chart = make_chart("depression-iv")
    entries = schedule_series(
        db,
        people["nurse.brown"],
        clock=clock,
        course_id=chart.course_id,
        first_day=date(2026, 3, 11),
    )  # Wednesday: day 4 is a Sunday
    days = [e.starts_at.date() for e in entries]
    assert days[:2] == [date(2026, 3, 11), date(2026, 3, 13)]
    assert all(d.weekday() < 5 for d in days)
    assert all((b - a).days >= 2 for a, b in itertools.pairwise(days))


def test_chair_capacity_one_session_per_chair_at_a_time(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart, chairs: list[int]
) -> None:
    nurse = people["nurse.brown"]
    at = datetime.combine(MONDAY, time(9, 0), tzinfo=UTC)
    first, second, third = (make_chart("depression-iv") for _ in range(3))
    a = schedule_session(db, nurse, clock=clock, course_id=first.course_id, starts_at=at)
    b = schedule_session(db, nurse, clock=clock, course_id=second.course_id, starts_at=at)
    assert (a.chair_id, b.chair_id) == tuple(chairs)
    with pytest.raises(RefusedError, match="no chair is free 2026-03-09 09:00-11:45 UTC"):
        schedule_session(db, nurse, clock=clock, course_id=third.course_id, starts_at=at)
    with pytest.raises(RefusedError, match=f"chair {chairs[0]} is taken"):
        schedule_session(
            db,
            nurse,
            clock=clock,
            course_id=third.course_id,
            starts_at=at + timedelta(hours=2),
            chair_id=chairs[0],
        )
    later = schedule_session(
        db,
        nurse,
        clock=clock,
        course_id=third.course_id,
        starts_at=at + timedelta(hours=2, minutes=45),
        chair_id=chairs[0],
    )
    assert later.chair_id == chairs[0]
    assert _count(db) == 3


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        (datetime(2026, 3, 14, 9, 0, tzinfo=UTC), "Sat 2026-03-14 is not a clinic day"),
        (datetime(2026, 3, 9, 6, 0, tzinfo=UTC), "06:00 is outside the clinic's hours"),
        (datetime(2026, 3, 9, 16, 0, tzinfo=UTC), "would end at 18:45, after closing time"),
        (datetime(2026, 3, 2, 8, 0, tzinfo=UTC), "is in the past"),
        (datetime(2126, 3, 2, 8, 0, tzinfo=UTC), "outside the accepted dates"),
    ],
)
def test_a_session_outside_the_clinic_days_and_hours_is_refused(
    db: Any,
    clock: FrozenClock,
    people: dict[str, Actor],
    make_chart: MakeChart,
    chairs: list[int],
    starts_at: datetime,
    message: str,
) -> None:
    chart = make_chart("depression-iv")
    with pytest.raises((RefusedError, UserInputError), match=message):
        schedule_session(
            db, people["nurse.brown"], clock=clock, course_id=chart.course_id, starts_at=starts_at
        )
    assert _count(db) == 0


def test_clinic_hours_are_in_the_clinic_time_zone(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart, chairs: list[int]
) -> None:
    berlin = ClinicHours(opens=time(8), closes=time(18), zone="Europe/Berlin")
    chart = make_chart("depression-iv")
    # 07:30 UTC is 08:30 in Berlin (CET, UTC+1 in March before the switch)
    entry = schedule_session(
        db,
        people["nurse.brown"],
        clock=clock,
        course_id=chart.course_id,
        starts_at=datetime(2026, 3, 9, 7, 30, tzinfo=UTC),
        hours=berlin,
    )
    assert entry.starts_at == datetime(2026, 3, 9, 7, 30, tzinfo=UTC)
    with pytest.raises(UserInputError, match="unknown time zone 'Mars/Olympus'"):
        ClinicHours(zone="Mars/Olympus")


def test_a_refusal_names_its_times_in_the_clinic_time_zone(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart, chairs: list[int]
) -> None:
    """A Tokyo clinic (UTC+9) books 09:00 JST, which is 00:00 UTC; a second session the
    next morning is refused in Tokyo time, not UTC."""
    tokyo = ClinicHours(zone="Asia/Tokyo")
    nurse, chart = people["nurse.brown"], make_chart("depression-iv")
    series = schedule_series(
        db, nurse, clock=clock, course_id=chart.course_id, first_day=MONDAY, hours=tokyo
    )
    assert series[0].starts_at == datetime(2026, 3, 9, 0, 0, tzinfo=UTC)  # 09:00 JST
    with pytest.raises(RefusedError) as refused:
        schedule_session(
            db,
            nurse,
            clock=clock,
            course_id=chart.course_id,
            starts_at=datetime(2026, 3, 10, 1, 0, tzinfo=UTC),  # 10:00 JST on Tuesday
            hours=tokyo,
        )
    message = str(refused.value)
    assert "2026-03-10 10:00 JST is 25 h from the course's session at 2026-03-09 09:00 JST" in (
        message
    )
    assert "UTC" not in message
    assert "(clinic hours Mon, Tue, Wed, Thu, Fri 08:00-18:00 (Asia/Tokyo))" in message


def test_sessions_closer_than_the_protocol_spacing_are_refused(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart, chairs: list[int]
) -> None:
    nurse = people["nurse.brown"]
    chart = make_chart("depression-iv")
    at = datetime.combine(MONDAY, time(9, 0), tzinfo=UTC)
    schedule_session(db, nurse, clock=clock, course_id=chart.course_id, starts_at=at)
    spacing = spacing_for(get_protocol("depression-iv"), "series")
    assert (spacing.min_days, spacing.min_hours) == (2, 20.0)
    with pytest.raises(RefusedError, match="accepted: at least 2 days and 20 h apart"):
        schedule_session(
            db, nurse, clock=clock, course_id=chart.course_id, starts_at=at + timedelta(days=1)
        )
    with pytest.raises(RefusedError, match=r"the patient already has a session|at least 2 days"):
        schedule_session(db, nurse, clock=clock, course_id=chart.course_id, starts_at=at)
    assert _count(db) == 1


def test_maintenance_keeps_to_the_protocol_interval(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart, chairs: list[int]
) -> None:
    nurse = people["nurse.brown"]
    chart = make_chart("depression-iv")
    entries = schedule_maintenance(
        db, nurse, clock=clock, course_id=chart.course_id, first_day=MONDAY, count=3
    )
    assert [e.starts_at.date() for e in entries] == [
        MONDAY,
        MONDAY + timedelta(days=28),
        MONDAY + timedelta(days=56),
    ]
    assert {e.kind for e in entries} == {"maintenance"}
    with pytest.raises(UserInputError, match=r"every_days 7 is outside .* accepted: 21-42 days"):
        schedule_maintenance(
            db,
            nurse,
            clock=clock,
            course_id=chart.course_id,
            first_day=MONDAY + timedelta(days=90),
            count=2,
            every_days=7,
        )
    acute = make_chart("acute-pain-iv")
    with pytest.raises(RefusedError, match="protocol acute-pain-iv has no maintenance phase"):
        schedule_maintenance(
            db, nurse, clock=clock, course_id=acute.course_id, first_day=MONDAY, count=1
        )
    assert _count(db) == 3


def test_a_series_that_cannot_be_placed_books_nothing(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart, chairs: list[int]
) -> None:
    weekend = ClinicHours(days=(5,), opens=time(9), closes=time(10))  # Saturdays 09-10 only
    chart = make_chart("depression-iv")
    with pytest.raises(RefusedError, match=r"no day within 14 days works .* nothing was scheduled"):
        schedule_series(
            db,
            people["nurse.brown"],
            clock=clock,
            course_id=chart.course_id,
            first_day=MONDAY,
            hours=weekend,
        )
    assert _count(db) == 0


def test_the_patient_calendar_is_rfc_5545_and_keeps_cancelled_sessions_as_cancelled(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart, chairs: list[int]
) -> None:
    nurse = people["nurse.brown"]
    chart = make_chart("esketamine-nasal")
    entries = schedule_series(db, nurse, clock=clock, course_id=chart.course_id, first_day=MONDAY)
    cancel_entry(db, nurse, clock=clock, entry_id=entries[1].entry_id, reason="patient unwell")
    with pytest.raises(RefusedError, match="already cancelled"):
        cancel_entry(db, nurse, clock=clock, entry_id=entries[1].entry_id, reason="twice")
    assert len(patient_schedule(db, nurse, clock=clock, patient_id=chart.patient_id)) == 11
    text = patient_ical(db, nurse, clock=clock, patient_id=chart.patient_id)
    calendar = Calendar.from_ical(text)
    events = calendar.walk("VEVENT")
    assert str(calendar["VERSION"]) == "2.0"
    assert len(events) == 12
    first = events[0]
    assert str(first["UID"]) == f"schedule-entry-{entries[0].entry_id}@ketaclinic.invalid"
    assert first.decoded("DTSTART") == entries[0].starts_at
    assert first.decoded("DTEND") == entries[0].ends_at
    assert [str(e["STATUS"]) for e in events].count("CANCELLED") == 1
    assert "No driving until the next day" in str(first["DESCRIPTION"])
    assert b"esketamine" not in text.lower()
    assert b"depress" not in text.lower()
    assert text.startswith(b"BEGIN:VCALENDAR\r\n")


def test_the_chairs_calendar_shows_a_date_range_and_audits_each_patient(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart, chairs: list[int]
) -> None:
    nurse = people["nurse.brown"]
    one, two = make_chart("depression-iv"), make_chart("crps-daily-10d")
    schedule_series(db, nurse, clock=clock, course_id=one.course_id, first_day=MONDAY)
    schedule_series(db, nurse, clock=clock, course_id=two.course_id, first_day=MONDAY)
    week = chair_calendar(
        db, nurse, clock=clock, from_day=MONDAY, to_day=MONDAY + timedelta(days=4)
    )
    assert [c for c, _ in week.chairs] == chairs
    assert len(week.entries) == 3 + 5  # Mon/Wed/Fri and the five weekdays of the CRPS course
    assert {e.chair_id for e in week.of(chairs[1])} == {chairs[1]}
    assert week.to_dict()["chairs"][0]["name"] == "chair 1"
    with db.snapshot() as session:
        read = session.scalars(
            select(AuditEvent.patient_id).where(AuditEvent.action == "schedule.calendar.read")
        ).all()
    assert sorted(read) == sorted([one.patient_id, two.patient_id])
    with pytest.raises(UserInputError, match="at most 92 days"):
        chair_calendar(db, nurse, clock=clock, from_day=MONDAY, to_day=MONDAY + timedelta(days=200))
    assert verify_audit(db).ok


def test_chair_time_is_the_doses_and_the_observation() -> None:
    assert session_length_min(get_protocol("esketamine-nasal")) == 120.0
    assert session_length_min(get_protocol("crps-daily-10d")) == 300.0
    assert session_length_min(get_protocol("crps-continuous-4d")) == 96 * 60 + 120


def test_outsiders_cannot_see_or_book_schedules(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart, chairs: list[int]
) -> None:
    chart = make_chart()
    with pytest.raises(NotAllowedError, match="is disabled"):
        schedule_series(
            db, people["outsider"], clock=clock, course_id=chart.course_id, first_day=MONDAY
        )
    with pytest.raises(NotAllowedError, match="exporting a patient's schedule needs a physician"):
        patient_ical(db, people["res.evans"], clock=clock, patient_id=chart.patient_id)


def test_a_moved_session_keeps_its_identity_and_follows_the_same_rules(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart, chairs: list[int]
) -> None:
    nurse = people["nurse.brown"]
    chart = make_chart("depression-iv")
    entries = schedule_series(db, nurse, clock=clock, course_id=chart.course_id, first_day=MONDAY)
    moved = reschedule_entry(
        db,
        nurse,
        clock=clock,
        entry_id=entries[0].entry_id,
        starts_at=entries[0].starts_at + timedelta(hours=2),
        reason="patient asked for later",
    )
    assert (moved.entry_id, moved.version) == (entries[0].entry_id, 2)
    assert moved.ends_at - moved.starts_at == timedelta(minutes=165)
    with pytest.raises(RefusedError, match=r"cannot move the session: .* at least 2 days"):
        reschedule_entry(
            db,
            nurse,
            clock=clock,
            entry_id=entries[0].entry_id,
            starts_at=entries[1].starts_at - timedelta(days=1),
            reason="x",
        )
    with pytest.raises(UserInputError, match="needs a reason"):
        reschedule_entry(
            db,
            nurse,
            clock=clock,
            entry_id=entries[0].entry_id,
            starts_at=entries[0].starts_at,
            reason=" ",
        )
    (first, *_) = patient_schedule(db, nurse, clock=clock, patient_id=chart.patient_id)
    assert first.starts_at == entries[0].starts_at + timedelta(hours=2)
    events = Calendar.from_ical(patient_ical(db, nurse, clock=clock, patient_id=chart.patient_id))
    first_event = events.walk("VEVENT")[0]
    assert str(first_event["UID"]).startswith(f"schedule-entry-{entries[0].entry_id}@")
    assert int(first_event["SEQUENCE"]) == 1
