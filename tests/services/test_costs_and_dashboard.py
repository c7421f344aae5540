"""Course cost, the patient's cost to date, the estimate before a series starts; the day's
alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from clinic_helpers import START, enrol, give_session, personas, ready_order

from ketaclinic.errors import NotAllowedError, UserInputError
from ketaclinic.services import (
    Actor,
    add_charge,
    course_cost,
    dashboard_alerts,
    dashboard_page,
    estimate_course_cost,
    generate_demo_data,
    patient_cost_to_date,
    record_assessment,
    record_payment,
    record_trial_decision,
    set_clinic_prices,
    update_patient,
    verify_audit,
)
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import Database

FIRST_AT = datetime.combine(START, datetime.min.time(), tzinfo=UTC).replace(hour=9)
DOSE = "iv-infusion 36 mg over 40 min at 0 min"


def test_course_cost_and_the_patients_cost_to_date_add_up_per_currency(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    nurse = staff["nurse.brown"]
    patient_id, course_id, order_id = ready_order(db, staff, clock, "depression-iv")
    sessions = [
        give_session(db, nurse, clock, order_id, FIRST_AT + timedelta(days=d), [DOSE])
        for d in (0, 2)
    ]
    for session_id in sessions:
        for category, price in (("drug", 1_500), ("chair_time", 25_000)):
            add_charge(
                db,
                staff["admin.davis"],
                patient_id=patient_id,
                session_id=session_id,
                category=category,
                description=category,
                quantity=1,
                quantity_unit="session",
                unit_price_minor=price,
                currency="EUR",
                clock=clock,
            )
    add_charge(
        db,
        staff["admin.davis"],
        patient_id=patient_id,
        category="other",
        description="consultation",
        quantity=1,
        quantity_unit="visit",
        unit_price_minor=9_000,
        currency="EUR",
        clock=clock,
    )
    record_payment(
        db,
        staff["admin.davis"],
        patient_id=patient_id,
        amount_minor=20_000,
        currency="EUR",
        method="card",
        clock=clock,
    )
    cost = course_cost(db, staff["admin.davis"], course_id, clock=clock)
    assert (cost.sessions_given, cost.sessions_charged) == (2, 2)
    assert cost.by_currency == {"EUR": {"chair_time": 50_000, "drug": 3_000}}
    assert cost.total_minor == {"EUR": 53_000}
    to_date = patient_cost_to_date(db, nurse, patient_id, clock=clock)
    assert to_date.charged_minor == {"EUR": 62_000}
    assert to_date.other_charges_minor == {"EUR": 9_000}
    assert to_date.paid_minor == {"EUR": 20_000}
    assert to_date.balance_minor == {"EUR": 42_000}
    assert [c["total_minor"] for c in to_date.by_course] == [{"EUR": 53_000}]
    with pytest.raises(NotAllowedError):
        course_cost(db, staff["res.evans"], course_id, clock=clock)
    assert verify_audit(db).ok


def test_the_estimate_prices_the_planned_series_before_it_starts(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    _, course_id, _ = ready_order(db, staff, clock, "depression-iv")
    estimate = estimate_course_cost(db, staff["admin.davis"], course_id, clock=clock)
    # one session: 36 mg -> 1 vial 1500; chair 40 min + 120 min observation -> 11 x 2500;
    # monitoring 6000; nurse 160 min / 2 patients = 1.33 h x 6000 = 7980
    per_session = 1_500 + 11 * 2_500 + 6_000 + 7_980
    assert [s["phase"] for s in estimate.sessions] == ["induction"] * 6 + ["maintenance"] * 3
    assert {s["amount_minor"] for s in estimate.sessions} == {per_session}
    assert estimate.series_minor == 6 * per_session
    assert estimate.maintenance_minor == 3 * per_session
    assert estimate.currency == "EUR"
    assert (estimate.price_list_version, estimate.price_list_demo) == (0, True)
    changes = {"currency": "USD", "ketamine_vial_minor": 900}
    set_clinic_prices(db, staff["admin.davis"], changes, reason="new supplier", clock=clock)
    year = estimate_course_cost(
        db, staff["admin.davis"], course_id, maintenance_sessions=12, clock=clock
    )
    assert (year.price_list_version, year.price_list_demo) == (1, False)
    assert year.currency == "USD"
    assert year.maintenance_minor == 12 * (per_session - 1_500 + 900)
    with pytest.raises(UserInputError, match="maintenance_sessions"):
        estimate_course_cost(db, staff["admin.davis"], course_id, maintenance_sessions=-1)


def _judged_trial(
    db: Database, staff: dict[str, Actor], clock: FrozenClock, first_at: datetime, then: timedelta
) -> int:
    """A depression course judged at its sixth session (``first_at`` + 11 days): a PHQ-9
    baseline of 20 points an hour before the first session, 9 points ``then`` after the
    sixth (a 55 % response: continue); the clock stands there. Returns the course id."""
    nurse = staff["nurse.brown"]
    patient_id, course_id, order_id = ready_order(db, staff, clock, "depression-iv")
    clock.at = first_at - timedelta(hours=1)
    record_assessment(db, nurse, patient_id, "phq-9", [3] * 6 + [2, 0, 0], clock(), clock=clock)
    for day in (0, 2, 4, 7, 9, 11):
        give_session(db, nurse, clock, order_id, first_at + timedelta(days=day), [DOSE])
    clock.at += then
    record_assessment(
        db, nurse, patient_id, "phq-9", [1] * 8 + [1], clock(), course_id=course_id, clock=clock
    )
    return course_id


def test_the_dashboard_lists_the_days_alerts_most_urgent_first(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    nurse, doctor = staff["nurse.brown"], staff["dr.adams"]
    course_id = _judged_trial(db, staff, clock, FIRST_AT, timedelta(hours=2))
    day = clock().date()
    alerts = dashboard_alerts(db, nurse, day, clock=clock)
    kinds = [a.kind for a in alerts]
    assert kinds[0] == "assessment_alert"
    assert "item 9" in alerts[0].message
    assert "trial_decision_due" in kinds
    trial = next(a for a in alerts if a.kind == "trial_decision_due")
    assert "recommendation continue" in trial.message  # PHQ-9 20 -> 9 points: a 55 % response
    assert {"liver_tests_due", "urinary_screen_due"} <= set(kinds)
    assert kinds == sorted(kinds, key=lambda k: [
        "assessment_alert", "weight_too_old", "esketamine_monitoring", "trial_decision_due",
        "liver_tests_due", "urinary_screen_due", "misuse_signal",
    ].index(k))  # fmt: skip
    assert "assessment_alert" not in {
        a.kind for a in dashboard_alerts(db, nurse, day + timedelta(days=1))
    }
    record_trial_decision(db, doctor, course_id, "continue", clock=clock)
    after = {a.kind for a in dashboard_alerts(db, nurse, day, clock=clock)}
    assert "trial_decision_due" not in after
    with pytest.raises(NotAllowedError):
        dashboard_alerts(db, staff["outsider"], day, clock=clock)
    with pytest.raises(UserInputError, match="accepted dates"):
        dashboard_alerts(db, nurse, date(1990, 1, 1), clock=clock)


def test_the_dashboard_day_is_a_day_at_the_clinic(db: Database, clock: FrozenClock) -> None:
    """A PHQ-9 with item 9 answered at 23:30 UTC on 2 March is 08:30 on 3 March in Tokyo:
    a Tokyo clinic sees its alert on the 3rd, a UTC clinic on the 2nd."""
    staff = personas(db, clock)
    nurse = staff["nurse.brown"]
    patient_id = enrol(db, nurse, clock)
    clock.at = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    record_assessment(db, nurse, patient_id, "phq-9", [1] * 9, clock(), clock=clock)
    tokyo = ZoneInfo("Asia/Tokyo")

    def item_9(day: date, **zone: ZoneInfo) -> list[int]:
        page = dashboard_page(db, nurse, day, clock=clock, **zone)
        whole = dashboard_alerts(db, nurse, day, clock=clock, **zone)
        assert [a.to_dict() for a in page.alerts] == [a.to_dict() for a in whole]
        return [a.patient_id for a in whole if a.kind == "assessment_alert"]

    assert item_9(date(2026, 3, 3), zone=tokyo) == [patient_id]
    assert item_9(date(2026, 3, 2), zone=tokyo) == []
    assert item_9(date(2026, 3, 2)) == [patient_id]  # UTC without a zone
    assert item_9(date(2026, 3, 3)) == []


def test_the_trial_decision_alert_names_the_clinic_date_of_its_decision_point(
    db: Database, clock: FrozenClock
) -> None:
    """The sixth session at 23:30 EDT on 15 March (03:30 UTC on the 16th) is the decision
    point: a New York clinic's dashboard of the 15th says the trial was judged on the 15th,
    not on the UTC date; a UTC clinic sees it on the 16th."""
    staff = personas(db, clock)
    nurse = staff["nurse.brown"]
    first_at = FIRST_AT.replace(hour=3, minute=30) + timedelta(days=1)
    _judged_trial(db, staff, clock, first_at, timedelta(minutes=15))
    new_york = ZoneInfo("America/New_York")
    assert clock().astimezone(new_york).date() == date(2026, 3, 15)

    def judged(day: date, **zone: ZoneInfo) -> list[str]:
        alerts = dashboard_alerts(db, nurse, day, clock=clock, **zone)
        return [a.message for a in alerts if a.kind == "trial_decision_due"]

    (message,) = judged(date(2026, 3, 15), zone=new_york)
    assert "judged on 2026-03-15: recommendation continue" in message
    (message,) = judged(date(2026, 3, 16))  # UTC without a zone
    assert "judged on 2026-03-16: recommendation continue" in message
    assert judged(date(2026, 3, 15)) == []  # before 03:30 UTC on the 16th


def test_a_weight_based_session_with_an_old_weight_is_an_alert(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    _, course_id, _ = ready_order(db, staff, clock, "depression-iv")
    clock.at = datetime(2026, 3, 4, 7, tzinfo=UTC)
    on_start = {a.kind for a in dashboard_alerts(db, staff["nurse.brown"], START, clock=clock)}
    assert "weight_too_old" not in on_start  # weighed on 2026-03-01
    old = enrol(
        db,
        staff["nurse.brown"],
        clock,
        mrn="OLD",
        weight={"weight_kg": 70, "measured_on": "2026-01-10"},
    )
    from ketaclinic.services import plan_course

    plan_course(db, staff["dr.adams"], old, "depression-iv", START, clock=clock)
    alerts = [
        a for a in dashboard_alerts(db, staff["nurse.brown"], START) if a.kind == "weight_too_old"
    ]
    assert [a.patient_id for a in alerts] == [old]
    assert "2026-01-10" in alerts[0].message
    update_patient(
        db,
        staff["nurse.brown"],
        old,
        {"weight": {"weight_kg": 70.5, "measured_on": "2026-03-04"}},
        clock=clock,
    )
    assert "weight_too_old" not in {
        a.kind for a in dashboard_alerts(db, staff["nurse.brown"], START, clock=clock)
    }
    assert course_id > 0


def test_the_read_services_work_on_a_demo_clinic(db: Database) -> None:
    from ketaclinic.services import (
        Actor,
        cumulative_exposure,
        evaluate_course_trial,
        generate_demo_data,
    )
    from ketaclinic.services.testing import FrozenClock as Clock

    clock = Clock(datetime(2026, 12, 1, 12, tzinfo=UTC))
    generate_demo_data(db, Actor.command_line("cli:demo"), patients=12, seed=3, clock=clock)
    with db.snapshot() as session:
        from ketaclinic.store import get_staff_user

        nurse = Actor("demo.rn.diaz", "127.0.0.1", get_staff_user(session, "demo.rn.diaz").id)
    recommendations = {
        evaluate_course_trial(db, nurse, course_id, clock=clock).recommendation
        for course_id in range(1, 13)
    }
    assert recommendations <= {"continue", "stop", "taper", "not_yet_due", "insufficient_data"}
    assert len(recommendations) >= 2
    assert sum(cumulative_exposure(db, nurse, p, clock=clock).sessions for p in range(1, 13)) > 0
    assert estimate_course_cost(db, nurse, 1, clock=clock).total_minor > 0
    alerts = dashboard_alerts(db, nurse, clock().date(), clock=clock)
    prompt_kinds = {"liver_tests_due", "urinary_screen_due", "misuse_signal"}
    from_dashboard = sorted((a.patient_id, a.message) for a in alerts if a.kind in prompt_kinds)
    one_by_one = sorted(
        (patient_id, prompt.message)
        for patient_id in {a.patient_id for a in alerts if a.kind in prompt_kinds}
        for prompt in cumulative_exposure(db, nurse, patient_id, clock=clock).prompts
    )
    assert from_dashboard
    assert from_dashboard == one_by_one  # the dashboard reads whole tables once: same answers
    assert verify_audit(db).ok


def test_the_dashboard_pages_add_up_to_the_whole_dashboard(
    db: Database, clock: FrozenClock
) -> None:
    generate_demo_data(db, Actor.command_line("cli:test"), patients=40, seed=3, clock=clock)
    nurse = Actor("demo.rn.diaz", "127.0.0.1")
    day = clock().date()
    whole = dashboard_alerts(db, nurse, day, clock=clock)
    day_kinds = {"assessment_alert", "weight_too_old", "esketamine_monitoring"}
    of_the_day = [a for a in whole if a.kind in day_kinds]
    standing = {a for a in whole if a.kind not in day_kinds}
    assert standing
    pages, seen, after = 0, set(), 0
    while True:
        page = dashboard_page(db, nurse, day, after=after, patients=3, clock=clock)
        pages += 1
        assert [a for a in page.alerts if a.kind in day_kinds] == of_the_day
        assert page.patients <= 3
        seen |= {a for a in page.alerts if a.kind not in day_kinds}
        if page.next_after is None:
            assert page.more_patients == 0
            break
        assert page.more_patients > 0
        after = page.next_after
    assert seen == standing
    assert pages > 2
    with pytest.raises(UserInputError, match="patients"):
        dashboard_page(db, nurse, day, patients=0, clock=clock)
    with pytest.raises(UserInputError, match="after"):
        dashboard_page(db, nurse, day, after=-1, clock=clock)
