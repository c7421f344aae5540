"""Plan a course, sign its order, check it independently; may it be given?"""

from __future__ import annotations

from datetime import date

import pytest
from clinic_helpers import START, counts, enrol, personas
from sqlalchemy import select

from ketaclinic.errors import NotAllowedError, RefusedError, UnknownNameError, UserInputError
from ketaclinic.pharmacology import Dose
from ketaclinic.protocols import get_protocol
from ketaclinic.services import (
    Actor,
    administration_allowed,
    double_check_order,
    double_check_task,
    get_course,
    get_order,
    list_courses,
    plan_course,
    protocol_version,
    replan_order,
    set_course_status,
    sign_order,
    update_patient,
    verify_audit,
)
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import (
    AuditEvent,
    Database,
    DoubleCheck,
    Order,
    OrderOverride,
    TreatmentCourse,
)

DOSE = "iv-infusion 36 mg over 40 min at 0 min"  # 0.5 mg/kg x 72.5 kg, rounded to 1 mg


def test_planning_fixes_protocol_version_and_trial_criteria_and_stores_the_order(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    patient_id = enrol(db, staff["nurse.brown"], clock)
    planned = plan_course(db, staff["dr.adams"], patient_id, "depression-iv", START, clock=clock)
    protocol = get_protocol("depression-iv")
    assert planned.allowed
    assert planned.status == "planned"
    assert planned.protocol_version == protocol_version(protocol)
    assert planned.trial_criteria == protocol.trial.model_dump(mode="json")
    assert [d["dose"]["text"] for d in planned.doses] == [DOSE]
    assert [s["date"] for s in planned.sessions][:2] == ["2026-03-04", "2026-03-06"]
    with db.snapshot() as session:
        order = session.get(Order, planned.order_id)
        course = session.get(TreatmentCourse, planned.course_id)
        assert order is not None
        assert course is not None
        assert [str(Dose.from_json(d)) for d in order.doses] == [DOSE]
        assert order.findings == list(planned.findings)
        assert order.weight_kg == 72.5
        assert course.indication == "depression"
        assert course.planned_start_on == START
    view = get_course(db, staff["nurse.brown"], planned.course_id, clock=clock)
    assert view.status == "planned"
    assert [o["signed"] for o in view.orders] == [False]
    assert [c.course_id for c in list_courses(db, staff["dr.adams"], patient_id)] == [
        planned.course_id
    ]
    assert verify_audit(db).ok


def test_planning_is_refused_without_changing_anything(db: Database, clock: FrozenClock) -> None:
    staff = personas(db, clock)
    doctor = staff["dr.adams"]
    patient_id = enrol(db, staff["nurse.brown"], clock)
    no_weight = enrol(db, staff["nurse.brown"], clock, mrn="B2", weight=None)
    before = counts(db)
    with pytest.raises(NotAllowedError, match="needs a physician"):
        plan_course(db, staff["nurse.brown"], patient_id, "depression-iv", START, clock=clock)
    with pytest.raises(UnknownNameError, match="unknown protocol"):
        plan_course(db, doctor, patient_id, "homeopathy", START, clock=clock)
    with pytest.raises(UserInputError, match="in the past"):
        plan_course(db, doctor, patient_id, "depression-iv", date(2026, 3, 1), clock=clock)
    with pytest.raises(RefusedError, match="no weight"):
        plan_course(db, doctor, no_weight, "depression-iv", START, clock=clock)
    assert counts(db) == before
    plan_course(db, doctor, patient_id, "depression-iv", START, clock=clock)
    with pytest.raises(RefusedError, match="already has course"):
        plan_course(db, doctor, patient_id, "depression-iv", START, clock=clock)


def test_a_hard_stop_is_stored_but_can_never_be_signed(db: Database, clock: FrozenClock) -> None:
    staff = personas(db, clock)
    doctor = staff["dr.adams"]
    allergic = enrol(
        db,
        staff["nurse.brown"],
        clock,
        allergies=[{"substance": "ketamine", "reaction": "anaphylaxis", "severity": "severe"}],
    )
    planned = plan_course(db, doctor, allergic, "depression-iv", START, clock=clock)
    assert not planned.allowed
    assert planned.hard_stops == ("contraindication.ketamine_hypersensitivity",)
    before = counts(db)
    with pytest.raises(RefusedError, match="hard stop and cannot be signed"):
        sign_order(db, doctor, planned.order_id, clock=clock)
    with pytest.raises(RefusedError, match="hard stop and cannot be signed"):
        sign_order(
            db,
            doctor,
            planned.order_id,
            {"contraindication.ketamine_hypersensitivity": "benefit outweighs"},
            clock=clock,
        )
    assert counts(db) == before
    status = administration_allowed(db, staff["nurse.brown"], planned.order_id, clock=clock)
    assert not status.allowed
    assert any("hard stop contraindication.ketamine" in r for r in status.reasons)


def test_an_overridable_finding_needs_a_reason_recorded_with_the_physician(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    doctor = staff["dr.adams"]
    pregnant = enrol(
        db,
        staff["nurse.brown"],
        clock,
        pregnancy={"assessed_on": "2026-03-01", "status": "pregnant"},
    )
    planned = plan_course(db, doctor, pregnant, "depression-iv", START, clock=clock)
    assert planned.needs_override == ("contraindication.pregnancy",)
    with pytest.raises(NotAllowedError, match="needs a physician"):
        sign_order(db, staff["nurse.brown"], planned.order_id, clock=clock)
    with pytest.raises(RefusedError, match="needs a reason to override"):
        sign_order(db, doctor, planned.order_id, clock=clock)
    with pytest.raises(UserInputError, match="has no reason"):
        sign_order(db, doctor, planned.order_id, {"contraindication.pregnancy": " "}, clock=clock)
    reason = "severe suicidal depression, obstetric team consulted"
    with pytest.raises(UserInputError, match=r"made\.up is not accepted"):
        sign_order(
            db,
            doctor,
            planned.order_id,
            {"contraindication.pregnancy": reason, "made.up": "x"},
            clock=clock,
        )
    signed = sign_order(
        db, doctor, planned.order_id, {"contraindication.pregnancy": reason}, clock=clock
    )
    assert signed.signed_by_id == doctor.user_id
    assert signed.overrides == (
        {"finding_code": "contraindication.pregnancy", "reason": reason, "physician_id": 1},
    )
    with db.snapshot() as session:
        override = session.scalars(select(OrderOverride)).one()
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "order.override")
        ).one()
    assert override.physician_id == doctor.user_id
    assert event.reason == reason
    with pytest.raises(RefusedError, match="already signed"):
        sign_order(db, doctor, planned.order_id, {"contraindication.pregnancy": reason})


def test_a_new_weight_after_planning_means_a_new_order(db: Database, clock: FrozenClock) -> None:
    staff = personas(db, clock)
    patient_id = enrol(db, staff["nurse.brown"], clock)
    planned = plan_course(db, staff["dr.adams"], patient_id, "depression-iv", START, clock=clock)
    update_patient(
        db,
        staff["nurse.brown"],
        patient_id,
        {"weight": {"weight_kg": 80.0, "measured_on": "2026-03-02"}},
        clock=clock,
    )
    with pytest.raises(RefusedError, match="latest weight is 80 kg"):
        sign_order(db, staff["dr.adams"], planned.order_id, clock=clock)
    with pytest.raises(UserInputError, match="needs a reason"):
        replan_order(db, staff["dr.adams"], planned.course_id, START, " ", clock=clock)
    with pytest.raises(NotAllowedError, match="needs a physician"):
        replan_order(db, staff["nurse.brown"], planned.course_id, START, "new weight", clock=clock)
    again = replan_order(db, staff["dr.adams"], planned.course_id, START, "new weight", clock=clock)
    assert again.course_id == planned.course_id
    assert again.order_id != planned.order_id
    assert again.weight_kg == 80.0
    assert [d["dose"]["text"] for d in again.doses] == ["iv-infusion 40 mg over 40 min at 0 min"]
    assert again.trial_criteria == planned.trial_criteria
    status = administration_allowed(db, staff["nurse.brown"], planned.order_id, clock=clock)
    assert f"order {planned.order_id} was replaced by order {again.order_id}" in status.reasons
    with pytest.raises(RefusedError, match="replaced or withdrawn"):
        sign_order(db, staff["dr.adams"], planned.order_id, clock=clock)
    sign_order(db, staff["dr.adams"], again.order_id, clock=clock)
    view = get_course(db, staff["dr.adams"], planned.course_id, clock=clock)
    assert [o["order_id"] for o in view.orders] == [again.order_id]


def _signed(db: Database, clock: FrozenClock) -> tuple[dict[str, Actor], int]:
    staff = personas(db, clock)
    patient_id = enrol(db, staff["nurse.brown"], clock)
    planned = plan_course(db, staff["dr.adams"], patient_id, "depression-iv", START, clock=clock)
    return staff, planned.order_id


def test_the_double_check_is_independent_and_a_mismatch_blocks(
    db: Database, clock: FrozenClock
) -> None:
    staff, order_id = _signed(db, clock)
    doctor, nurse, checker = staff["dr.adams"], staff["nurse.brown"], staff["nurse.clark"]
    with pytest.raises(RefusedError, match="not signed yet"):
        double_check_order(db, checker, order_id, 72.5, [DOSE], clock=clock)
    sign_order(db, doctor, order_id, clock=clock)
    task = double_check_task(db, checker, order_id, clock=clock)
    assert "weight_kg" not in task.to_dict()
    assert "doses" not in task.to_dict()
    assert (task.dose_lines, task.route, task.signed) == (1, "iv", True)
    for who in (doctor, staff["outsider"]):
        with pytest.raises(NotAllowedError):
            double_check_order(db, who, order_id, 72.5, [DOSE], clock=clock)
    blocked = administration_allowed(db, nurse, order_id, clock=clock)
    assert blocked.reasons == (f"order {order_id} has no independent double check yet",)
    clock.advance(minutes=5)
    wrong = double_check_order(
        db,
        checker,
        order_id,
        75.0,
        ["iv-infusion 37.5 mg over 40 min"],
        clock=clock,
    )
    assert wrong.result == "mismatch"
    assert wrong.differing_fields == ("weight (kg)", "dose 1 amount (mg)", "dose 1 rate (mg/h)")
    assert "36" not in str(wrong.to_dict())  # the ordered values are not shown
    status = administration_allowed(db, nurse, order_id, clock=clock)
    assert not status.allowed
    assert "did not match (weight (kg)" in status.reasons[0]
    assert "goes back to its prescriber" in status.reasons[0]
    clock.advance(minutes=5)
    with pytest.raises(NotAllowedError, match="one check per clinician"):
        double_check_order(db, checker, order_id, 72.5, [DOSE], clock=clock)
    right = double_check_order(  # another clinician, who has not checked it
        db,
        nurse,
        order_id,
        72.5,
        ["iv-infusion 36.2 mg over 40 min at 0 min"],  # within 0.5 mg
        clock=clock,
    )
    assert right.matched
    assert administration_allowed(db, nurse, order_id, clock=clock).allowed
    view = get_order(db, doctor, order_id, clock=clock)
    assert [c["result"] for c in view.double_checks] == ["mismatch", "match"]
    assert verify_audit(db).ok


@pytest.mark.parametrize(
    ("weight", "doses", "error"),
    [
        (700, [DOSE], "outside the accepted range"),
        (72.5, [], "list of doses"),
        (72.5, DOSE, "list of doses"),
        (72.5, ["iv-infusion 36 mcg over 40 min"], "mcg"),
    ],
)
def test_bad_double_check_input_is_refused_and_changes_nothing(
    db: Database, clock: FrozenClock, weight: float, doses: object, error: str
) -> None:
    staff, order_id = _signed(db, clock)
    sign_order(db, staff["dr.adams"], order_id, clock=clock)
    before = counts(db)
    with pytest.raises(UserInputError, match=error):
        double_check_order(db, staff["nurse.clark"], order_id, weight, doses, clock=clock)
    assert counts(db) == before


def test_course_status_follows_its_transitions_and_closes_the_orders(
    db: Database, clock: FrozenClock
) -> None:
    staff, order_id = _signed(db, clock)
    doctor = staff["dr.adams"]
    with db.snapshot() as session:
        order = session.get(Order, order_id)
        assert order is not None
        course_id = order.course_id
    with pytest.raises(UserInputError, match="needs a reason"):
        set_course_status(db, doctor, course_id, "active", "", clock=clock)
    with pytest.raises(UserInputError, match="not accepted"):
        set_course_status(db, doctor, course_id, "paused", "why", clock=clock)
    with pytest.raises(RefusedError, match="cannot become maintenance"):
        set_course_status(db, doctor, course_id, "maintenance", "x", clock=clock)
    clock.advance(days=2)
    set_course_status(db, doctor, course_id, "active", "first infusion", clock=clock)
    set_course_status(db, doctor, course_id, "stopped", "patient moved away", clock=clock)
    with pytest.raises(RefusedError, match="closed"):
        set_course_status(db, doctor, course_id, "active", "back", clock=clock)
    view = get_course(db, doctor, course_id, clock=clock)
    assert [e["status"] for e in view.status_history] == ["planned", "active", "stopped"]
    assert view.status_history[-1]["reason"] == "patient moved away"
    with pytest.raises(RefusedError, match="orders are closed"):
        sign_order(db, doctor, order_id, clock=clock)
    status = administration_allowed(db, staff["nurse.brown"], order_id, clock=clock)
    assert f"course {course_id} is stopped" in status.reasons


def test_what_each_checker_typed_is_in_the_order_history_but_never_before_a_blind_check(
    db: Database, clock: FrozenClock
) -> None:
    staff, order_id = _signed(db, clock)
    doctor, other_nurse, checker = staff["dr.adams"], staff["nurse.brown"], staff["nurse.clark"]
    sign_order(db, doctor, order_id, clock=clock)
    clock.advance(minutes=5)
    typed_at = clock()
    double_check_order(
        db, checker, order_id, 75.0, ["iv-infusion 37.5 mg over 40 min"], clock=clock
    )
    # the physician who prepared and signed the order, and the checker herself, read it all
    for reader in (doctor, checker):
        (entry,) = get_order(db, reader, order_id, clock=clock).double_checks
        assert entry["checker"] == "nurse.clark"
        assert entry["checked_at"] == typed_at.isoformat()
        assert entry["result"] == "mismatch"
        assert entry["entered_weight_kg"] == 75.0
        assert entry["entered_doses"] == ["iv-infusion 37.5 mg over 40 min at 0 min"]
        assert entry["typed_values_withheld"] is False
    # another nurse may still check it blind: she sees that a check failed, not what was typed
    (hidden,) = get_order(db, other_nurse, order_id, clock=clock).double_checks
    assert (hidden["result"], hidden["typed_values_withheld"]) == ("mismatch", True)
    assert hidden["entered_weight_kg"] is None
    assert hidden["entered_doses"] is None
    assert "37.5" not in str(get_order(db, other_nurse, order_id, clock=clock).to_dict())
    assert "37.5" not in str(double_check_task(db, other_nurse, order_id, clock=clock).to_dict())
    clock.advance(minutes=5)
    double_check_order(
        db, other_nurse, order_id, 72.5, ["iv-infusion 36.2 mg over 40 min at 0 min"], clock=clock
    )
    # once a check matched, the whole history is readable, in the order it was typed
    history = get_order(db, staff["nurse.brown"], order_id, clock=clock).double_checks
    assert [(c["checker"], c["result"], c["entered_weight_kg"]) for c in history] == [
        ("nurse.clark", "mismatch", 75.0),
        ("nurse.brown", "match", 72.5),
    ]
    with db.snapshot() as session:
        stored = session.scalars(select(DoubleCheck).order_by(DoubleCheck.id)).all()
    assert [(c.entered_weight_kg, c.result) for c in stored] == [
        (75.0, "mismatch"),
        (72.5, "match"),
    ]
