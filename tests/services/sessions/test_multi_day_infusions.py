"""Multi-day inpatient infusions: one session with rate changes, and scheduled checks that
are done, due, overdue or upcoming."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from ketaclinic.errors import RefusedError, UserInputError
from ketaclinic.services import (
    CHECK_KINDS,
    Actor,
    VitalsReading,
    change_rate,
    check_status,
    course_sessions,
    plan_checks,
    record_dose,
    record_session_score,
    record_vitals,
    session_record,
    start_session,
    stop_infusion,
)
from ketaclinic.services.testing import FrozenClock

MakeChart = Callable[..., Any]


def test_a_four_day_crps_infusion_is_one_session_with_its_checks(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    nurse = people["nurse.brown"]
    chart = make_chart("crps-continuous-4d")
    t0 = clock()
    sid = start_session(db, nurse, clock=clock, order_id=chart.order_id, lot_number="L4")
    record_dose(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        given_at=t0,
        dose="iv-infusion 22 mg/h for 96 h at 0 min",
    )
    # starting the session scheduled its checks to the planned end of the 96-h infusion:
    # BP, HR, RR, SpO2 and sedation: 4 checks in the first hour (every 15 min), 4 in the
    # next two (every 30 min), then hourly from 3 h to 96 h (94); pain every 4 h (25)
    scheduled = check_status(db, nurse, clock=clock, session_id=sid)
    assert len(scheduled) == 4 * (4 + 4 + 94) + 25
    assert Counter(s.kind for s in scheduled)["pain"] == 25
    assert max(s.due_at for s in scheduled) == t0 + timedelta(hours=96)
    assert plan_checks(db, nurse, clock=clock, session_id=sid) == 0  # not added twice
    # an infusion run longer is extended by plan_checks: hourly from 97 to 98 h, pain at 100 h
    longer = plan_checks(db, nurse, clock=clock, session_id=sid, until=t0 + timedelta(hours=100))
    assert longer == 4 * 4 + 1
    clock.advance(minutes=18)
    record_vitals(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        reading=VitalsReading(t0 + timedelta(minutes=1), 128, 78, 70, 14, 97.0),
    )
    record_session_score(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        instrument_id="moaa-s",
        answers=[5],
        measured_at=t0 + timedelta(minutes=1),
    )
    states = {
        (s.kind, int((s.due_at - t0).total_seconds() // 60)): s.state
        for s in check_status(db, nurse, clock=clock, session_id=sid)
    }
    for kind in ("sedation", "respiratory_rate", "blood_pressure", "spo2"):
        assert states[(kind, 0)] == "done"
        assert states[(kind, 15)] == "due"
        assert states[(kind, 30)] == "upcoming"
    assert states[("pain", 0)] == "overdue"
    clock.advance(minutes=60)
    later = Counter(s.state for s in check_status(db, nurse, clock=clock, session_id=sid))
    assert later["overdue"] == 1 + 4 * 4  # pain at 0; 15, 30, 45 and 60 min of four kinds
    assert later["done"] == 4


def test_rate_changes_and_a_stop_count_what_was_given(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    nurse = people["nurse.brown"]
    t0 = clock()
    sid = start_session(
        db, nurse, clock=clock, order_id=make_chart("crps-continuous-4d").order_id, lot_number="L4"
    )
    with pytest.raises(RefusedError, match="no infusion is running"):
        change_rate(
            db,
            nurse,
            clock=clock,
            session_id=sid,
            given_at=t0,
            dose="iv-infusion 30 mg/h for 95 h at 0 min",
        )
    record_dose(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        given_at=t0,
        dose="iv-infusion 22 mg/h for 96 h at 0 min",
    )
    clock.advance(hours=2)
    change_rate(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        given_at=t0 + timedelta(hours=1),
        dose="iv-infusion 30 mg/h for 95 h at 0 min",
    )
    stop_infusion(db, nurse, clock=clock, session_id=sid, given_at=t0 + timedelta(hours=2))
    with pytest.raises(RefusedError, match="no infusion is running"):
        stop_infusion(db, nurse, clock=clock, session_id=sid, given_at=t0 + timedelta(hours=2))
    with pytest.raises(UserInputError, match="a rate change is an infusion at a rate"):
        change_rate(
            db, nurse, clock=clock, session_id=sid, given_at=t0, dose="iv-bolus 5 mg at 0 min"
        )
    record = session_record(db, nurse, clock=clock, session_id=sid)
    assert record.multi_day
    assert [d["kind"] for d in record.doses] == ["infusion_start", "rate_change", "infusion_stop"]
    assert record.dosing.given_mg == pytest.approx(22.0 + 30.0)
    assert record.dosing.dosing_end_at == t0 + timedelta(hours=2)
    assert record.to_dict()["given_mg"] == pytest.approx(52.0)
    (summary,) = course_sessions(db, nurse, clock=clock, course_id=record.course_id)
    assert summary.session_id == sid


def test_a_palliative_burst_is_checked_every_4_h_on_day_1_then_daily(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    nurse = people["nurse.brown"]
    sid = start_session(
        db,
        nurse,
        clock=clock,
        order_id=make_chart("palliative-sc-burst").order_id,
        lot_number="SC1",
    )
    # the order's first step runs 24 h: starting the session scheduled the checks of day 1,
    # every 4 h (0, 4, ..., 20 h) and at 24 h, for each of the five kinds
    t0 = clock()
    day_1 = check_status(db, nurse, clock=clock, session_id=sid)
    assert Counter(s.kind for s in day_1) == dict.fromkeys(CHECK_KINDS, 7)
    assert sorted({(s.due_at - t0) / timedelta(hours=1) for s in day_1}) == [
        0,
        4,
        8,
        12,
        16,
        20,
        24,
    ]
    # the burst continues: extended to 3 days, then daily (48 and 72 h)
    until = t0 + timedelta(days=3)
    assert plan_checks(db, nurse, clock=clock, session_id=sid, until=until) == 5 * 2
    hours = sorted(
        {
            (s.due_at - t0) / timedelta(hours=1)
            for s in check_status(db, nurse, clock=clock, session_id=sid)
        }
    )
    assert hours == [0, 4, 8, 12, 16, 20, 24, 48, 72]


def test_a_day_case_has_no_scheduled_checks(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    nurse = people["nurse.brown"]
    sid = start_session(db, nurse, clock=clock, order_id=make_chart().order_id, lot_number="D1")
    assert check_status(db, nurse, clock=clock, session_id=sid) == ()
    with pytest.raises(RefusedError, match="is not a multi-day infusion"):
        plan_checks(db, nurse, clock=clock, session_id=sid)
