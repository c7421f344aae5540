"""The trial decision, table-driven per protocol: the criteria fixed at the start against the
baseline at the protocol's decision point (real databases, sessions given at the chair)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from clinic_helpers import START, give_session, personas, ready_order

from ketaclinic.errors import NotAllowedError, RefusedError, UserInputError
from ketaclinic.outcomes import get_instrument
from ketaclinic.protocols import get_protocol, protocols
from ketaclinic.services import (
    Actor,
    evaluate_course_trial,
    get_course,
    record_assessment,
    record_trial_decision,
    verify_audit,
)
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import Database

FIRST_AT = datetime.combine(START, datetime.min.time(), tzinfo=UTC).replace(hour=9)

#: (baseline, follow-up) points and the recommendation, per instrument family.
CASES = {
    "phq-9": {
        "remission": (20, 4, "continue"),
        "responder": (20, 9, "continue"),
        "partial": (20, 14, "stop"),  # 30 %: partial, and the protocols stop on a partial
        "non_responder": (20, 19, "stop"),
    },
    "pain-nrs": {
        "remission": (8, 3, "continue"),  # substantial: >= 50 %
        "responder": (8, 5, "continue"),  # >= 30 % and >= 2 points
        "partial": (8, 7, "stop"),  # 1 point: no level met
        "non_responder": (8, 8, "stop"),
    },
}


def _answers(instrument_id: str, total: int) -> list[int]:
    instrument = get_instrument(instrument_id)
    answers = []
    for item in instrument.items:
        top = instrument.answer_sets[item.answers].max
        answers.append(min(top, total - sum(answers)))
    assert sum(answers) == total
    return answers


def _session_times(protocol_id: str) -> list[datetime]:
    protocol = get_protocol(protocol_id)
    offsets = [o for phase in protocol.schedule.phases for o in phase.day_offsets]
    needed = protocol.trial.decision_point.after_sessions or 1
    return [FIRST_AT + timedelta(days=o) for o in offsets[:needed]]


def _decision_point(protocol_id: str) -> datetime:
    point = get_protocol(protocol_id).trial.decision_point
    anchor = _session_times(protocol_id)[-1] if point.after_sessions else FIRST_AT
    return anchor + timedelta(days=point.after_days)


def _course(
    db: Database,
    staff: dict[str, Actor],
    clock: FrozenClock,
    protocol_id: str,
    mrn: str,
    baseline: int | None,
    follow_up: int,
) -> int:
    clock.at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    patient_id, course_id, order_id = ready_order(db, staff, clock, protocol_id, mrn=mrn)
    instrument = get_protocol(protocol_id).trial.instrument_id
    nurse = staff["nurse.brown"]
    if baseline is not None:
        clock.at = FIRST_AT - timedelta(hours=1)
        record_assessment(
            db, nurse, patient_id, instrument, _answers(instrument, baseline), clock.at, clock=clock
        )
    for at in _session_times(protocol_id):
        give_session(db, nurse, clock, order_id, at)
    clock.at = _decision_point(protocol_id) + timedelta(hours=1)
    record_assessment(
        db,
        nurse,
        patient_id,
        instrument,
        _answers(instrument, follow_up),
        clock.at,
        course_id=course_id,
        clock=clock,
    )
    return course_id


@pytest.mark.parametrize("protocol_id", list(protocols()))
def test_the_trial_decision_of_each_protocol(
    db: Database, clock: FrozenClock, protocol_id: str
) -> None:
    staff = personas(db, clock)
    doctor = staff["dr.adams"]
    instrument = get_protocol(protocol_id).trial.instrument_id
    for n, (case, (baseline, follow_up, expected)) in enumerate(CASES[instrument].items()):
        course_id = _course(db, staff, clock, protocol_id, f"P{n}", baseline, follow_up)
        result = evaluate_course_trial(db, doctor, course_id, clock=clock)
        assert result.recommendation == expected, (case, result.decision.reasons)
        assert result.decision.baseline_points == baseline
        assert result.decision.latest_points == follow_up
        assert result.decision.drop_percent == pytest.approx(
            (baseline - follow_up) / baseline * 100
        )
        assert result.decision.reasons, case
        if case == "responder":
            early = evaluate_course_trial(
                db, doctor, course_id, as_of=FIRST_AT + timedelta(minutes=1), clock=clock
            )
            assert early.recommendation == "not_yet_due", early.decision.reasons
    missing = _course(db, staff, clock, protocol_id, "PX", None, 3)
    result = evaluate_course_trial(db, doctor, missing, clock=clock)
    assert result.recommendation == "insufficient_data"
    assert "no " in result.decision.reasons[0]
    assert "baseline" in result.decision.reasons[0]
    assert verify_audit(db).ok


def test_a_decision_is_recorded_with_its_evaluation_and_stop_stops_the_course(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    doctor = staff["dr.adams"]
    course_id = _course(db, staff, clock, "depression-iv", "S1", 20, 19)  # no response
    with pytest.raises(NotAllowedError, match="needs a physician"):
        record_trial_decision(db, staff["nurse.brown"], course_id, "stop", clock=clock)
    with pytest.raises(UserInputError, match="not accepted"):
        record_trial_decision(db, doctor, course_id, "pause", clock=clock)
    with pytest.raises(UserInputError, match="needs a reason"):
        record_trial_decision(db, doctor, course_id, "continue", clock=clock)
    result = record_trial_decision(db, doctor, course_id, "stop", clock=clock)
    assert [d["decision"] for d in result.recorded_decisions] == ["stop"]
    assert result.recorded_decisions[0]["recommendation"] == "stop"
    assert "no clear benefit" in result.recorded_decisions[0]["reason"]
    assert get_course(db, doctor, course_id, clock=clock).status == "stopped"
    with pytest.raises(RefusedError, match="is stopped"):
        record_trial_decision(db, doctor, course_id, "continue", "changed my mind", clock=clock)
    assert verify_audit(db).ok


def test_continuing_against_the_recommendation_needs_a_reason(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    doctor = staff["dr.adams"]
    course_id = _course(db, staff, clock, "depression-iv", "S2", 20, 14)  # partial
    result = record_trial_decision(
        db, doctor, course_id, "continue", "partial response, patient wants two more", clock=clock
    )
    decided = result.recorded_decisions[0]
    assert (decided["decision"], decided["recommendation"]) == ("continue", "stop")
    assert decided["reason"] == "partial response, patient wants two more"
    # its first session made the course active; continuing keeps it so
    assert get_course(db, doctor, course_id, clock=clock).status == "active"
