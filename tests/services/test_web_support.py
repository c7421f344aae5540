"""The pages' view queries: a patient's history (trajectories with baseline and response
threshold, MME, sessions, events), an order with its stored plan, a plan and a typed order
checked without storing anything, every protocol's eligibility, courses by status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from clinic_helpers import START, counts, enrol, give_session, personas, ready_order

from ketaclinic.errors import NotAllowedError, RefusedError, UserInputError
from ketaclinic.services import (
    check_patient_order,
    courses_by_status,
    eligibility,
    order_details,
    patient_history,
    plan_course,
    preview_plan,
    record_assessment,
    record_opioid_use,
    verify_audit,
)
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import Database

FIRST_AT = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def test_history_has_each_score_with_its_baseline_and_the_response_threshold(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    nurse = staff["nurse.brown"]
    patient_id = enrol(db, nurse, clock)
    for days, answers in ((0, [3, 3, 2, 2, 2, 2, 2, 2, 0]), (7, [1, 1, 1, 1, 1, 1, 1, 1, 0])):
        record_assessment(
            db,
            nurse,
            patient_id,
            "phq-9",
            answers,
            clock() - timedelta(days=14 - days),
            clock=clock,
        )
    history = patient_history(db, nurse, patient_id, clock=clock)
    (phq9,) = [s for s in history.outcomes if s.instrument_id == "phq-9"]
    assert phq9.value_points == (18.0, 8.0)
    assert phq9.baseline_points == 18.0
    assert phq9.response_points == 9.0  # PHQ-9 response: at least 50 % below baseline
    assert "50" in (phq9.response_rule or "")
    assert phq9.response_source
    assert [a["total_points"] for a in history.assessments] == [18.0, 8.0]
    assert verify_audit(db).ok


def test_history_shows_opioid_mme_sessions_and_is_for_clinicians_only(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    patient_id, _, order_id = ready_order(db, staff, clock, "depression-iv")
    record_opioid_use(
        db,
        staff["nurse.brown"],
        patient_id,
        "oxycodone",
        "20 mg/day",
        "oral",
        clock().date() - timedelta(days=30),
        clock=clock,
    )
    give_session(db, staff["nurse.brown"], clock, order_id, FIRST_AT)
    history = patient_history(db, staff["dr.adams"], patient_id, clock=clock)
    (use,) = history.opioid_use
    assert use["mme_mg_per_day"] == pytest.approx(30.0)  # oxycodone x1.5, CDC 2022
    assert [s["protocol"] for s in history.sessions] == ["depression-iv"]
    for outsider in ("admin.davis", "res.evans"):
        with pytest.raises(NotAllowedError):
            patient_history(db, staff[outsider], patient_id, clock=clock)


def test_order_details_carry_the_stored_plan_and_why_it_may_not_be_given_yet(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    patient_id = enrol(db, staff["nurse.brown"], clock)
    planned = plan_course(db, staff["dr.adams"], patient_id, "depression-iv", START, clock=clock)
    details = order_details(db, staff["dr.adams"], planned.order_id, clock=clock)
    assert details.protocol_id == "depression-iv"
    assert details.evidence_level in ("good", "moderate", "limited", "very limited")
    prediction = details.plan["prediction"]
    assert prediction["times_min"]
    assert max(prediction["ketamine_ng_per_ml"]) > 50
    assert not details.administration.allowed
    assert any("not signed" in r for r in details.administration.reasons)


def test_a_preview_and_the_eligibility_store_nothing(db: Database, clock: FrozenClock) -> None:
    staff = personas(db, clock)
    patient_id = enrol(db, staff["nurse.brown"], clock)
    before = counts(db)
    preview = preview_plan(db, staff["dr.adams"], patient_id, "depression-iv", START, clock=clock)
    assert preview["allowed"]
    assert preview["prediction"]
    assert preview["evidence"]["level"]
    options = eligibility(db, staff["nurse.brown"], patient_id, START, clock=clock)
    by_id = {o["protocol"]: o for o in options}
    assert by_id["depression-iv"]["allowed"]
    assert len(options) >= 8
    after = counts(db)
    assert {k: v for k, v in after.items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }
    with pytest.raises(UserInputError, match="in the past"):
        preview_plan(
            db,
            staff["dr.adams"],
            patient_id,
            "depression-iv",
            START - timedelta(days=9),
            clock=clock,
        )


def test_an_intrathecal_order_is_a_hard_stop_and_is_stored_nowhere(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    patient_id = enrol(db, staff["nurse.brown"], clock)
    before = counts(db)
    report = check_patient_order(
        db,
        staff["dr.adams"],
        patient_id,
        "depression-iv",
        ["intrathecal 5 mg at 0 min"],
        clock=clock,
    )
    assert not report["allowed"]
    assert "route.neuraxial" in [
        f["code"] for f in report["findings"] if f["severity"] == "HARD_STOP"
    ]
    assert counts(db)["orders"] == before["orders"]
    with pytest.raises(NotAllowedError):
        check_patient_order(
            db, staff["nurse.brown"], patient_id, "depression-iv", ["iv-bolus 5 mg"], clock=clock
        )
    with pytest.raises(UserInputError, match="dose grammar"):
        check_patient_order(db, staff["dr.adams"], patient_id, "depression-iv", [], clock=clock)


def test_courses_are_counted_by_indication_and_status(db: Database, clock: FrozenClock) -> None:
    staff = personas(db, clock)
    ready_order(db, staff, clock, "depression-iv")
    other = enrol(db, staff["nurse.brown"], clock, mrn="B2")
    plan_course(db, staff["dr.adams"], other, "depression-iv", START, clock=clock)
    assert courses_by_status(db, staff["nurse.brown"], clock=clock) == {
        "depression": {"planned": 2}
    }
    with pytest.raises(NotAllowedError):
        courses_by_status(db, staff["res.evans"], clock=clock)


def test_a_patient_without_a_weight_cannot_be_previewed(db: Database, clock: FrozenClock) -> None:
    staff = personas(db, clock)
    patient_id = enrol(db, staff["nurse.brown"], clock, weight=None)
    with pytest.raises(RefusedError, match="weight"):
        eligibility(db, staff["dr.adams"], patient_id, START, clock=clock)
