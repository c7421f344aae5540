"""The independent double check stays blind: a clinician who may still check an order never
reads its weight, doses, findings, plan or cost estimate (nor a plan preview for the patient)
until their own check or a matching one; its preparer and signer always read everything."""

from __future__ import annotations

import pytest
from clinic_helpers import START, counts, enrol, personas

from ketaclinic.errors import NotAllowedError
from ketaclinic.services import (
    Actor,
    double_check_order,
    double_check_task,
    eligibility,
    estimate_course_cost,
    get_course,
    get_order,
    list_courses,
    order_details,
    patient_chart,
    plan_course,
    preview_plan,
    replan_order,
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


def _dose_of(db: Database, reader: Actor, order_id: int, clock: FrozenClock) -> str:
    (dose,) = get_order(db, reader, order_id, clock=clock).doses
    return str(dose["text"])


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


def test_a_checker_who_saw_her_own_mismatch_may_not_check_again(
    db: Database, clock: FrozenClock
) -> None:
    """ISMP's independent double check: one check per clinician. After her mismatch the
    checker reads the order (she has compared already) but may not check it again; what she
    typed stays recorded; a clinician who has not checked it may; after a match nobody may."""
    staff = personas(db, clock)
    doctor, nurse, checker = staff["dr.adams"], staff["nurse.brown"], staff["nurse.clark"]
    second = _second_physician(db, clock)
    patient_id = enrol(db, nurse, clock)
    order_id = plan_course(db, doctor, patient_id, "depression-iv", START, clock=clock).order_id
    sign_order(db, doctor, order_id, clock=clock)
    wrong = double_check_order(db, checker, order_id, 75.0, [DOSE], clock=clock)
    assert wrong.result == "mismatch"
    assert "goes back to its prescriber" in wrong.to_dict()["next_step"]
    assert _sees_the_order(db, checker, order_id, clock)
    refusal = get_order(db, checker, order_id, clock=clock).double_check_refusal
    assert refusal is not None
    assert "one check per clinician" in refusal
    before = counts(db)
    for attempt in (
        lambda: double_check_task(db, checker, order_id, clock=clock),
        lambda: double_check_order(db, checker, order_id, 72.5, [DOSE], clock=clock),
    ):
        with pytest.raises(NotAllowedError, match=r"checked order .* already .*mismatch"):
            attempt()
    assert counts(db) == before
    (typed,) = get_order(db, doctor, order_id, clock=clock).double_checks
    assert (typed["checker"], typed["entered_weight_kg"]) == ("nurse.clark", 75.0)
    # another clinician still checks blind, and may
    assert not _sees_the_order(db, second, order_id, clock)
    assert get_order(db, second, order_id, clock=clock).double_check_refusal is None
    assert double_check_order(db, second, order_id, 72.5, [DOSE], clock=clock).matched
    with pytest.raises(NotAllowedError, match="matching independent double check already"):
        double_check_order(db, nurse, order_id, 72.5, [DOSE], clock=clock)
    assert get_order(db, nurse, order_id, clock=clock).double_check_refusal is None


def test_a_re_planned_order_is_checked_by_a_clinician_who_checked_neither(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    doctor, nurse, checker = staff["dr.adams"], staff["nurse.brown"], staff["nurse.clark"]
    patient_id = enrol(db, nurse, clock)
    planned = plan_course(db, doctor, patient_id, "depression-iv", START, clock=clock)
    sign_order(db, doctor, planned.order_id, clock=clock)
    double_check_order(db, checker, planned.order_id, 75.0, [DOSE], clock=clock)
    # the prescriber re-plans: a new order, which replaces the one she checked
    new_id = replan_order(
        db, doctor, planned.course_id, START, "mismatch at the double check", clock=clock
    ).order_id
    sign_order(db, doctor, new_id, clock=clock)
    with pytest.raises(NotAllowedError, match=f"order {planned.order_id}, which order {new_id}"):
        double_check_task(db, checker, new_id, clock=clock)
    assert _sees_the_order(db, checker, new_id, clock)  # she is no blind checker of it
    assert not _sees_the_order(db, nurse, new_id, clock)
    assert double_check_order(db, nurse, new_id, 72.5, [DOSE], clock=clock).matched


def test_the_eligibility_page_withholds_the_findings_that_name_a_dose_or_weight(
    db: Database, clock: FrozenClock
) -> None:
    """A 160-kg patient weighed 62 days ago: findings name her weight (stale weight,
    obesity, the model's range); a would-be blind checker reads their severity and code
    only, the prescriber everything, and the checker too once she has checked."""
    staff = personas(db, clock)
    doctor, nurse, checker = staff["dr.adams"], staff["nurse.brown"], staff["nurse.clark"]
    weight = {"weight_kg": 160, "measured_on": "2026-01-01", "height_cm": 168}
    patient_id = enrol(db, nurse, clock, weight=weight)
    order_id = plan_course(db, doctor, patient_id, "depression-iv", START, clock=clock).order_id
    overridable = [
        f["code"]
        for f in get_order(db, doctor, order_id, clock=clock).findings
        if f["severity"] == "OVERRIDABLE"
    ]
    sign_order(db, doctor, order_id, dict.fromkeys(overridable, "weighed today"), clock=clock)

    def shown(reader: Actor) -> list[dict[str, object]]:
        return eligibility(db, reader, patient_id, START, clock=clock)

    full = shown(doctor)
    assert all(e["withheld_findings"] == 0 and e["double_check_path"] is None for e in full)
    blind = shown(checker)
    assert "160 kg" in str(full)
    assert "160 kg" not in str(blind)
    assert "kg" not in " ".join(
        str(f["message"]) for e in blind for f in e["findings"] if not f["withheld"]
    )
    for mine, theirs in zip(blind, full, strict=True):
        # the verdict stays true: the same severities and codes, in the same order
        assert [(f["severity"], f["code"]) for f in mine["findings"]] == [
            (f["severity"], f["code"]) for f in theirs["findings"]
        ]
        assert mine["allowed"] == theirs["allowed"]
        assert mine["double_check_path"] == f"/orders/{order_id}/double-check"
    depression = next(e for e in blind if e["protocol"] == "depression-iv")
    stale = next(f for f in depression["findings"] if f["code"] == "weight.stale")
    assert stale["withheld"]
    assert stale["source"] is None
    assert depression["withheld_findings"] >= 2
    vitals = next(f for f in depression["findings"] if f["code"] == "vitals.missing")
    assert not vitals["withheld"]
    assert "blood pressure" in str(vitals["message"])
    double_check_order(
        db, checker, order_id, 160, [_dose_of(db, doctor, order_id, clock)], clock=clock
    )
    assert shown(checker) == full
