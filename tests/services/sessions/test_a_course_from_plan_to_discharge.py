"""A depression course through every use case: enrol, plan, sign, schedule, double check,
document a session, discharge (the administration rule is the orders' own)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from clinic_helpers import START, enrol

from ketaclinic.errors import NotAllowedError, RefusedError
from ketaclinic.services import (
    Actor,
    VitalsReading,
    discharge,
    double_check_order,
    get_course,
    plan_course,
    record_dose,
    record_session_score,
    record_vitals,
    schedule_series,
    session_record,
    set_course_status,
    sign_order,
    start_session,
    verify_audit,
)
from ketaclinic.services.testing import FrozenClock


def test_a_planned_signed_and_double_checked_course_is_given_and_discharged(
    db: Any, clock: FrozenClock, people: dict[str, Actor], chairs: list[int]
) -> None:
    doctor, nurse, checker = people["dr.adams"], people["nurse.brown"], people["nurse.clark"]
    patient = enrol(db, nurse, clock)
    planned = plan_course(db, doctor, patient, "depression-iv", START, clock=clock)
    entries = schedule_series(
        db, nurse, clock=clock, course_id=planned.course_id, first_day=START, at=time(9, 0)
    )
    assert len(entries) == 6
    sign_order(db, doctor, planned.order_id, clock=clock)
    clock.at = datetime.combine(START, time(9, 0), tzinfo=UTC)
    sid = start_session(
        db,
        nurse,
        clock=clock,
        order_id=planned.order_id,
        lot_number="K-77",
        schedule_entry_id=entries[0].entry_id,
    )
    course = get_course(db, doctor, planned.course_id, clock=clock)
    assert course.status == "active"
    assert course.status_history[-1]["reason"] == "first session started"
    dose = planned.doses[0]["dose"]["text"]
    with pytest.raises(RefusedError, match=r"administration refused: .*no independent double"):
        record_dose(db, nurse, clock=clock, session_id=sid, given_at=clock(), dose=dose)
    double_check_order(db, checker, planned.order_id, planned.weight_kg, [dose], clock=clock)
    record_dose(db, nurse, clock=clock, session_id=sid, given_at=clock(), dose=dose)
    clock.advance(minutes=160)
    record_vitals(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        reading=VitalsReading(clock(), 132, 84, 76, 14, 98.0),
    )
    record_session_score(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        instrument_id="moaa-s",
        answers=[5],
        measured_at=clock(),
    )
    with pytest.raises(RefusedError, match="no CADSS-6 recorded since the end of dosing"):
        discharge(db, nurse, clock=clock, session_id=sid)
    record_session_score(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        instrument_id="cadss-6",
        answers=[0] * 6,
        measured_at=clock(),
    )
    result = discharge(db, nurse, clock=clock, session_id=sid)
    assert result.observation_min == 120.0
    record = session_record(db, doctor, clock=clock, session_id=sid)
    assert record.scheduled_start_at == entries[0].starts_at
    assert record.actual_end_at == clock()
    assert record.dosing.given_mg == planned.doses[0]["amount_mg"]
    assert record.discharge is not None
    assert record.discharge["decision"] == "discharged"
    assert record.dosing.dosing_end_at == datetime.combine(START, time(9, 40), tzinfo=UTC)
    assert clock() - record.dosing.dosing_end_at == timedelta(minutes=120)
    assert verify_audit(db).ok
    with pytest.raises(NotAllowedError):
        session_record(db, people["admin.davis"], clock=clock, session_id=sid)


def test_no_session_starts_on_a_stopped_course(
    db: Any, clock: FrozenClock, people: dict[str, Actor]
) -> None:
    doctor, nurse = people["dr.adams"], people["nurse.brown"]
    patient = enrol(db, nurse, clock)
    planned = plan_course(db, doctor, patient, "depression-iv", START, clock=clock)
    sign_order(db, doctor, planned.order_id, clock=clock)
    set_course_status(db, doctor, planned.course_id, "stopped", "patient declined", clock=clock)
    with pytest.raises(RefusedError, match=r"course \d+ is stopped: no session can start"):
        start_session(db, nurse, clock=clock, order_id=planned.order_id, lot_number="K-78")


def test_a_session_entered_afterwards_activates_the_course_from_its_plan_at_the_earliest(
    db: Any, clock: FrozenClock, people: dict[str, Actor]
) -> None:
    """A session documented later may have started before the plan was recorded: the course
    is active from the plan's time then, never before its own 'planned' status."""
    doctor, nurse = people["dr.adams"], people["nurse.brown"]
    patient = enrol(db, nurse, clock)
    planned = plan_course(db, doctor, patient, "depression-iv", START, clock=clock)
    sign_order(db, doctor, planned.order_id, clock=clock)
    planned_at = clock()
    start_session(
        db,
        nurse,
        clock=clock,
        order_id=planned.order_id,
        lot_number="K-79",
        started_at=planned_at - timedelta(hours=3),
    )
    course = get_course(db, doctor, planned.course_id, clock=clock)
    assert course.status == "active"
    assert course.status_history[-1]["effective_at"] == planned_at.isoformat()
