"""The clinic's main flows in Chromium against the live server (real clock, real SQLite):
enrol a patient; plan a depression course and sign it; the independent double check; an
intrathecal order's hard stop; a session documented through discharge; PHQ-9 answers and
the trend chart; a trial evaluated. Each main page passes axe-core (no serious or critical
violation). Set-up a flow does not test goes through the services, not the browser."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from browser_helpers import assert_accessible, sign_in
from web_helpers import password_of

from ketaclinic.services import (
    Actor,
    double_check_order,
    enrol_patient,
    plan_course,
    record_assessment,
    sign_order,
)

DOCTOR, NURSE, CHECKER = "dr.adams", "nurse.brown", "nurse.clark"
_mrns = itertools.count(1)


def _actor(username: str) -> Actor:
    return Actor(username, "127.0.0.1")


def _enrolled(db: Any) -> int:
    today = datetime.now(UTC).date()
    return enrol_patient(
        db,
        _actor(DOCTOR),
        {
            "mrn": f"E2E-{next(_mrns)}-{datetime.now(UTC):%H%M%S%f}",
            "demographics": {
                "given_name": "Iris",
                "family_name": "Vale",
                "birth_date": "1984-06-09",
                "sex_at_birth": "female",
            },
            "weight": {"weight_kg": 64, "measured_on": today.isoformat()},
            "diagnoses": [{"icd10cm_code": "F33.2", "free_text": "recurrent major depression"}],
        },
    )


def _ready(db: Any, *, checked: bool = True) -> tuple[int, Any]:
    patient_id = _enrolled(db)
    planned = plan_course(db, _actor(DOCTOR), patient_id, "depression-iv", datetime.now(UTC).date())
    sign_order(db, _actor(DOCTOR), planned.order_id)
    if checked:
        doses = [d["dose"]["text"] for d in planned.doses]
        double_check_order(db, _actor(CHECKER), planned.order_id, planned.weight_kg, doses)
    return patient_id, planned


def _as(page: Any, server: Any, username: str) -> None:
    sign_in(page, server.url, username, password_of(username))


def _clinic_input(server: Any, moment: datetime) -> str:
    """What a nurse types: the instant in the clinic's time zone (the server's setting)."""
    return moment.astimezone(server.db.settings.clinic_zone).strftime("%Y-%m-%dT%H:%M")


def _clinic_label(server: Any, what: str) -> str:
    return f"{what} ({server.db.settings.clinic_timezone} time)"


def test_a_physician_enrols_a_patient_and_sees_the_eligibility_first(page, live_server):
    _as(page, live_server, DOCTOR)
    page.get_by_role("link", name="New patient").click()
    assert_accessible(page)
    page.get_by_label("Record number").fill(f"E2E-NEW-{datetime.now(UTC):%H%M%S%f}")
    page.get_by_label("Given name").fill("Noor")
    page.get_by_label("Family name").fill("Haddad")
    page.get_by_label("Birth date").fill("1988-02-11")
    page.get_by_label("Sex at birth").select_option("female")
    page.get_by_label("Weight (kg)").fill("700")
    page.get_by_label("Diagnosis 1 code").fill("F33.2")
    page.get_by_label("Diagnosis 1 as written").fill("recurrent major depression")
    page.get_by_role("button", name="Enrol patient").click()
    assert "2-300 kg" in page.locator("#e-weight_kg").inner_text()  # next to the field
    assert_accessible(page)
    page.get_by_label("Weight (kg)").fill("70")
    page.get_by_role("button", name="Enrol patient").click()
    assert "/eligibility" in page.url
    assert (
        page.get_by_role("heading", name="Treatment-resistant depression", exact=False).count() >= 0
    )
    assert "Evidence:" in page.inner_text("main")
    assert_accessible(page)


def test_a_physician_plans_a_depression_course_and_signs_it(page, live_server):
    patient_id = _enrolled(live_server.db)
    _as(page, live_server, DOCTOR)
    page.goto(f"{live_server.url}/patients/{patient_id}/plan?protocol=depression-iv")
    assert "Evidence:" in page.locator(".evidence.banner").inner_text()
    page.wait_for_selector(".chart .main-svg")  # Plotly drew the curve under the CSP
    assert_accessible(page)
    page.get_by_role("button", name="Plan this course").click()
    assert "/orders/" in page.url
    assert_accessible(page)
    page.get_by_role("button", name="Sign order").click()
    assert "Order signed" in page.get_by_role("status").first.inner_text()
    assert "no independent double check yet" in page.inner_text("main")


def test_a_second_clinician_does_the_double_check_before_the_first_dose(page, live_server):
    _, planned = _ready(live_server.db, checked=False)
    _as(page, live_server, CHECKER)
    page.goto(f"{live_server.url}/orders/{planned.order_id}")
    dose_text = planned.doses[0]["dose"]["text"]
    before = page.inner_text("main")  # the order is blind to its would-be checker
    assert "Doses and weight are withheld until your independent double check" in before
    assert dose_text not in before
    assert f"{planned.weight_kg:g} kg" not in before
    assert_accessible(page)
    page.get_by_role("link", name="Do the independent double check").click()
    assert_accessible(page)
    assert str(planned.weight_kg) not in page.inner_text("form")
    page.get_by_label("Weight you measured (kg)").fill(str(planned.weight_kg))
    page.get_by_label("Dose 1", exact=False).fill(planned.doses[0]["dose"]["text"])
    page.get_by_role("button", name="Compare with the order").click()
    assert "Match" in page.get_by_role("status").inner_text()
    page.goto(f"{live_server.url}/orders/{planned.order_id}")
    assert "May be given" in page.inner_text("main")
    assert dose_text in page.inner_text("main")


def test_an_intrathecal_order_shows_the_hard_stop(page, live_server):
    patient_id = _enrolled(live_server.db)
    _as(page, live_server, DOCTOR)
    page.goto(f"{live_server.url}/patients/{patient_id}")
    page.get_by_role("link", name="Check a typed order").click()
    page.get_by_label("Protocol").select_option("depression-iv")
    page.get_by_label("Doses, one a line").fill("intrathecal 5 mg at 0 min")
    page.get_by_role("button", name="Check").click()
    alert = page.get_by_role("alert").inner_text()
    assert "Hard stop: this order cannot be signed" in alert
    assert "neurotoxic" in page.inner_text("main")
    assert_accessible(page)


def test_a_nurse_documents_a_session_through_discharge(page, live_server):
    _, planned = _ready(live_server.db)
    now = datetime.now(UTC)
    started = now - timedelta(minutes=175)
    _as(page, live_server, NURSE)
    page.goto(f"{live_server.url}/orders/{planned.order_id}")
    page.get_by_label("Lot number").fill("LOT-E2E")
    page.get_by_label(_clinic_label(live_server, "Started at")).fill(
        _clinic_input(live_server, started)
    )
    page.get_by_role("button", name="Start the session").click()
    assert "/sessions/" in page.url
    assert "The discharge gate is closed" in page.inner_text("#discharge")
    assert_accessible(page)
    page.locator("#doses").get_by_label("Dose", exact=True).fill(planned.doses[0]["dose"]["text"])
    page.get_by_label(_clinic_label(live_server, "Given at")).fill(
        _clinic_input(live_server, started + timedelta(minutes=1))
    )
    page.locator("#doses").get_by_role("button", name="Record").click()
    for at in (started, now - timedelta(minutes=5)):
        page.get_by_label(_clinic_label(live_server, "Measured at")).fill(
            _clinic_input(live_server, at)
        )
        page.get_by_label("Systolic (mmHg)").fill("126")
        page.get_by_label("Diastolic (mmHg)").fill("79")
        page.get_by_label("Heart rate (/min)").fill("74")
        page.get_by_label("Respiratory rate (/min)").fill("14")
        page.get_by_label("SpO2 (%)").fill("98")
        page.get_by_role("button", name="Record vitals").click()
    page.get_by_label("responsiveness (observer rating)").select_option("5")
    page.get_by_role("button", name="Record MOAA/S").click()
    assert "MOAA/S 5 points recorded" in page.get_by_role("status").first.inner_text()
    assert "no CADSS-6 recorded since the end of dosing" in page.inner_text("#discharge")
    dissociation = page.get_by_role("form", name="CADSS-6")
    for item in (1, 2, 6, 7, 15, 22):
        dissociation.get_by_label(f"CADSS item {item}", exact=True).select_option("0")
    dissociation.get_by_role("button", name="Record CADSS-6").click()
    assert "CADSS-6 0 points recorded" in page.get_by_role("status").first.inner_text()
    assert "The discharge gate is open" in page.inner_text("#discharge")
    page.get_by_role("button", name="Record the decision").click()
    assert page.get_by_role("heading", name="Discharge sheet").is_visible()
    assert "no driving" in page.inner_text("main").lower() or "not drive" in page.inner_text("main")
    assert_accessible(page)


def test_phq9_answers_are_scored_and_the_trend_chart_drawn(page, live_server):
    patient_id = _enrolled(live_server.db)
    record_assessment(
        live_server.db,
        _actor(NURSE),
        patient_id,
        "phq-9",
        [3, 3, 2, 2, 2, 2, 2, 2, 0],
        datetime.now(UTC) - timedelta(days=14),
    )
    _as(page, live_server, NURSE)
    page.goto(f"{live_server.url}/patients/{patient_id}")
    page.get_by_role("link", name="Record PHQ-9").click()
    assert_accessible(page)
    for item in range(1, 10):
        page.locator(f'input[name="item-{item}"][value="{1 if item < 9 else 0}"]').check()
    page.get_by_role("button", name="Score and record").click()
    assert "PHQ-9 total 8.0 points" in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="See the trend chart").click()
    page.wait_for_selector(".chart .main-svg")
    assert "response" in page.locator(".chart").first.inner_text()
    assert_accessible(page)


def test_a_physician_evaluates_a_trial_and_records_the_decision(page, live_server):
    _patient_id, planned = _ready(live_server.db)
    _as(page, live_server, DOCTOR)
    page.goto(f"{live_server.url}/courses/{planned.course_id}/trial")
    assert "Recommendation:" in page.inner_text("main")
    assert_accessible(page)
    page.get_by_label("Decision").select_option("continue")
    page.get_by_label("Reason").fill("too early to judge; continue the series")
    page.get_by_role("button", name="Record the decision").click()
    assert "Decision recorded" in page.get_by_role("status").first.inner_text()


def test_the_dashboard_patients_and_calendar_pass_axe(page, live_server):
    _enrolled(live_server.db)
    _as(page, live_server, NURSE)
    for link in ("Dashboard", "Patients", "Schedule"):
        page.get_by_role("navigation", name="Main").get_by_role("link", name=link).click()
        assert page.get_by_role("heading", level=1).is_visible()
        assert_accessible(page)


def test_the_dashboards_next_page_of_standing_alerts_is_reached_by_keyboard(page, live_server):
    for _ in range(2):  # two patients with an open course: a page of one leaves one out
        _ready(live_server.db, checked=False)
    _as(page, live_server, NURSE)
    page.goto(f"{live_server.url}/dashboard?patients=1")
    pager = page.get_by_role("navigation", name="Alert pages")
    assert "more patient" in pager.inner_text()
    assert_accessible(page)
    link = pager.get_by_role("link", name="Next page of standing alerts")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard?*after=*")
    assert page.get_by_role("heading", level=1).is_visible()
    first = page.get_by_role("navigation", name="Alert pages").get_by_role(
        "link", name="First page of alerts"
    )
    assert first.is_visible()
    assert_accessible(page)


def test_after_a_mismatch_the_checker_is_sent_on_and_cannot_check_again(page, live_server):
    _, planned = _ready(live_server.db, checked=False)
    _as(page, live_server, CHECKER)
    page.goto(f"{live_server.url}/orders/{planned.order_id}/double-check")
    page.get_by_label("Weight you measured (kg)").fill(str(planned.weight_kg + 5))
    page.get_by_label("Dose 1", exact=False).fill(planned.doses[0]["dose"]["text"])
    page.get_by_role("button", name="Compare with the order").focus()
    page.keyboard.press("Enter")
    alert = page.get_by_role("alert").inner_text()
    assert "Mismatch in weight (kg)" in alert
    assert "goes back to its prescriber" in alert
    assert page.get_by_role("button", name="Compare with the order").count() == 0
    assert_accessible(page)
    page.get_by_role("link", name="Back to the order").click()
    main = page.inner_text("main")
    assert "You may not do this order's double check" in main
    assert page.get_by_role("link", name="Do the independent double check").count() == 0
    assert_accessible(page)
