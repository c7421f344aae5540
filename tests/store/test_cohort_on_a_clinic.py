"""The cohort summary, aggregated in SQL, against the same counts made row by row in Python
on a generated clinic with corrections in it (amended and withdrawn records)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from ketaclinic.services import Actor, generate_demo_data
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import (
    AdverseEvent,
    CourseStatusEvent,
    TreatmentCourse,
    TreatmentSession,
    amend,
    cohort_summary,
    content,
    withdraw,
)

INDICATIONS = ("depression", "crps", "chronic_pain", "acute_pain", "cancer_pain", "tinnitus")


def _current(rows: list[Any]) -> list[Any]:
    amended = {r.amends_id for r in rows if r.amends_id is not None}
    return [r for r in rows if r.id not in amended and not r.entered_in_error]


def _by_python(session: Any, indication: str) -> dict[str, Any]:
    courses = [
        c
        for c in _current(list(session.scalars(select(TreatmentCourse))))
        if c.indication == indication
    ]
    ids = {c.id for c in courses}
    events = sorted(
        (
            e
            for e in _current(list(session.scalars(select(CourseStatusEvent))))
            if e.course_id in ids
        ),
        key=lambda e: (e.effective_at, e.id),
    )
    latest = {e.course_id: e.status for e in events}
    by_status = Counter(latest.values())
    if len(ids) > len(latest):
        by_status["no status"] = len(ids) - len(latest)
    visits = {
        s.id
        for s in _current(list(session.scalars(select(TreatmentSession))))
        if s.course_id in ids
    }
    harms = Counter(
        a.severity
        for a in _current(list(session.scalars(select(AdverseEvent))))
        if a.session_id in visits
    )
    return {
        "indication": indication,
        "patients": len({c.patient_id for c in courses}),
        "courses": len(courses),
        "courses_by_status": dict(sorted(by_status.items())),
        "sessions": len(visits),
        "sessions_per_course_mean": len(visits) / len(courses) if courses else None,
        "adverse_events_by_severity": dict(sorted(harms.items())),
    }


def test_the_cohort_summary_matches_a_count_row_by_row(db: Any, clock: FrozenClock) -> None:
    generate_demo_data(db, Actor.command_line("cli:test"), patients=60, seed=5, clock=clock)
    with db.transaction() as session:
        who = {"recorded_at": clock(), "recorded_by_id": 1}
        visits = list(session.scalars(select(TreatmentSession).order_by(TreatmentSession.id)))
        for visit in visits[::40]:
            withdraw(session, visit, reason="wrong patient", **who)
        events = list(
            session.scalars(
                select(CourseStatusEvent).where(CourseStatusEvent.status == "maintenance")
            )
        )
        for event in events[:3]:
            corrected = CourseStatusEvent(**{**content(event), "status": "stopped"})
            amend(session, event, corrected, reason="status corrected", **who)
        harms = list(session.scalars(select(AdverseEvent).order_by(AdverseEvent.id)))
        for harm in harms[::7]:
            withdraw(session, harm, reason="not an adverse event", **who)
        course = session.scalars(
            select(TreatmentCourse).where(TreatmentCourse.indication == "depression")
        ).first()
        withdraw(session, course, reason="duplicate course", **who)
    with db.snapshot() as session:
        for indication in INDICATIONS:
            assert cohort_summary(session, indication).to_dict() == _by_python(session, indication)


def test_a_chart_holds_what_the_repositories_read(db: Any, clock: FrozenClock) -> None:
    """load_chart (one round trip on PostgreSQL) against current_records, value for value
    and type for type, on a generated clinic with corrections."""
    from ketaclinic.store import CLINICAL_RECORDS, current_records, load_chart, table_of

    generate_demo_data(db, Actor.command_line("cli:test"), patients=12, seed=4, clock=clock)
    with db.transaction() as session:
        who = {"recorded_at": clock(), "recorded_by_id": 1}
        visits = list(session.scalars(select(TreatmentSession).order_by(TreatmentSession.id)))
        for visit in visits[::6]:
            withdraw(session, visit, reason="wrong patient", **who)
    with db.snapshot() as session:
        for patient_id in range(1, 13):
            chart = load_chart(session, patient_id)
            assert chart.patient.id == patient_id
            for model in CLINICAL_RECORDS:
                keys = [c.key for c in table_of(model).columns]
                for withdrawn in (False, True):
                    want = [
                        tuple(getattr(r, k) for k in keys)
                        for r in current_records(
                            session, model, patient_id, include_withdrawn=withdrawn
                        )
                    ]
                    rows = chart.newest_of(model) if withdrawn else chart.of(model)
                    got = [tuple(getattr(r, k) for k in keys) for r in rows]
                    assert got == want, (model.__name__, patient_id)
                    assert [list(map(type, g)) for g in got] == [list(map(type, w)) for w in want]
                    assert all(dict(r._mapping) == dict(zip(keys, r, strict=True)) for r in rows)
