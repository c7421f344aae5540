"""The independent double check stays blind: a clinician who may still check an order never
reads its weight, doses, findings, plan or cost estimate (nor a plan preview for the patient)
until their own check or a matching one; its preparer and signer always read everything."""

from __future__ import annotations

import pytest
from clinic_helpers import START, enrol, personas

from ketaclinic.errors import NotAllowedError
from ketaclinic.services import (
    Actor,
    double_check_order,
    estimate_course_cost,
    get_course,
    get_order,
    list_courses,
    order_details,
    patient_chart,
    plan_course,
    preview_plan,
    sign_order,
)
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import Database, StaffUser

DOSE = "iv-infusion 36 mg over 40 min at 0 min"  # 0.5 mg/kg x 72.5 kg, rounded to 1 mg
NOTICE = "Doses and weight are withheld until your independent double check"


def _second_physician(db: Database, clock: FrozenClock) -> Actor:
    with db.transaction() as session:
        user = StaffUser(
            username="dr.baker", display_name="Dr Bo Baker", role="physician", created_at=clock()
        )
        session.add(user)
        session.flush()
        return Actor("dr.baker", "127.0.0.1", user.id)


def _sees_the_order(db: Database, reader: Actor, order_id: int, clock: FrozenClock) -> bool:
    details = order_details(db, reader, order_id, clock=clock)
    view = get_order(db, reader, order_id, clock=clock)
    shown = (details.order.weight_kg, [d["text"] for d in details.order.doses])
    assert view.values_withheld is details.order.values_withheld
    if details.order.values_withheld:
        assert shown == (None, [])
        assert details.order.findings == ()
        assert details.plan == {}
        assert details.order.withheld_notice == NOTICE
        assert details.order.double_check_path == f"/orders/{order_id}/double-check"
        for text in (str(details.to_dict()), str(view.to_dict())):
            assert "36 mg" not in text
            assert "72.5" not in text
            assert "prediction" not in text
        return False
    assert shown == (72.5, [DOSE])
    assert details.plan["prediction"]["times_min"]
    assert details.order.withheld_notice is None
    return True


def test_a_clinician_who_may_still_check_reads_no_dose_or_weight_of_the_order(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    second = _second_physician(db, clock)
    doctor, nurse, checker = staff["dr.adams"], staff["nurse.brown"], staff["nurse.clark"]
    patient_id = enrol(db, nurse, clock)
    planned = plan_course(db, doctor, patient_id, "depression-iv", START, clock=clock)
    order_id, course_id = planned.order_id, planned.course_id
    # before the signature: a nurse may check it later; another physician reads it to sign it
    assert not _sees_the_order(db, nurse, order_id, clock)
    assert _sees_the_order(db, second, order_id, clock)
    sign_order(db, doctor, order_id, clock=clock)
    # signed: the preparer-signer reads it all, every other clinician who may check nothing
    assert _sees_the_order(db, doctor, order_id, clock)
    for reader in (nurse, checker, second):
        assert not _sees_the_order(db, reader, order_id, clock)
        (course,) = list_courses(db, reader, patient_id, clock=clock)
        for text in (
            str(course.to_dict()),
            str(get_course(db, reader, course_id, clock=clock).to_dict()),
            str(patient_chart(db, reader, patient_id, clock=clock).to_dict()["courses"]),
        ):
            assert "36 mg" not in text
            assert "'values_withheld': True" in text
        with pytest.raises(NotAllowedError, match=f"double check of order {order_id}"):
            preview_plan(db, reader, patient_id, "depression-iv", START, clock=clock)
        with pytest.raises(NotAllowedError, match="withheld"):
            estimate_course_cost(db, reader, course_id, clock=clock)
    assert "36 mg" in str(list_courses(db, doctor, patient_id, clock=clock)[0].to_dict())
    assert estimate_course_cost(db, doctor, course_id, clock=clock).sessions
    # a mismatch: the nurse who typed it may reconcile with the order, the others stay blind
    double_check_order(db, checker, order_id, 75.0, [DOSE], clock=clock)
    assert _sees_the_order(db, checker, order_id, clock)
    assert not _sees_the_order(db, nurse, order_id, clock)
    assert not _sees_the_order(db, second, order_id, clock)
    # a matching check: everyone reads the order, the preview and the estimate again
    double_check_order(db, nurse, order_id, 72.5, [DOSE], clock=clock)
    for reader in (doctor, nurse, checker, second):
        assert _sees_the_order(db, reader, order_id, clock)
        assert preview_plan(db, reader, patient_id, "depression-iv", START, clock=clock)["doses"]
        assert estimate_course_cost(db, reader, course_id, clock=clock).sessions
