"""The clinical pages in-process (httpx against the app on a real SQLite database, frozen
clock): enrol with errors next to the fields, eligibility before any plan, plan, sign, the
double check, a session through discharge, an assessment scored on submit, the trial page,
the dashboard and calendar, and no-store on every page of patient data."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from web_helpers import csrf_of, intake_form

INTAKE = intake_form("W-100")


def _post(client: Any, path: str, form_page: str, data: dict[str, str]) -> Any:
    token = csrf_of(client.get(form_page).text)
    return client.post(path, data={**data, "csrf_token": token})


def _enrol(client: Any, **changes: str) -> int:
    answer = _post(client, "/patients", "/patients/new", {**INTAKE, **changes})
    assert answer.status_code == 303, answer.text
    return int(re.search(r"/patients/(\d+)/", answer.headers["location"]).group(1))


def test_an_intake_error_is_shown_next_to_its_field_with_the_range(staff) -> None:
    nurse = staff.page("nurse")
    answer = _post(nurse, "/patients", "/patients/new", {**INTAKE, "weight_kg": "700"})
    assert answer.status_code == 422
    error = re.search(r'<p class="error" id="e-weight_kg">([^<]*)</p>', answer.text)
    assert error
    assert "2-300 kg" in error.group(1)
    assert 'aria-invalid="true"' in answer.text
    assert 'value="W-100"' in answer.text  # the rest of the form is kept


def test_enrolment_leads_to_the_eligibility_findings_before_any_plan(staff) -> None:
    nurse = staff.page("nurse")
    patient_id = _enrol(nurse)
    page = nurse.get(f"/patients/{patient_id}/eligibility?enrolled=1")
    assert page.status_code == 200
    assert "Evidence:" in page.text
    assert "depression-iv" in page.text
    assert page.headers["cache-control"] == "no-store"
    chart = nurse.get(f"/patients/{patient_id}")
    assert chart.status_code == 200
    assert "F33.2" in chart.text
    assert "68" in chart.text


def test_a_physician_plans_signs_and_a_second_clinician_double_checks(staff) -> None:
    doctor, nurse = staff.page("physician"), staff.page("nurse.clark")
    patient_id = _enrol(doctor)
    start = (staff.clock().date() + timedelta(days=2)).isoformat()
    plan = doctor.get(f"/patients/{patient_id}/plan?protocol=depression-iv&start_on={start}")
    assert plan.status_code == 200
    assert "Evidence:" in plan.text
    assert 'data-figure="fig-prediction"' in plan.text
    answer = doctor.post(
        f"/patients/{patient_id}/courses",
        data={"protocol": "depression-iv", "start_on": start, "csrf_token": csrf_of(plan.text)},
    )
    assert answer.status_code == 303
    order_path = answer.headers["location"].split("?")[0]
    order = doctor.get(order_path)
    assert "Sign order" in order.text
    assert "Cost estimate" in order.text
    signed = doctor.post(f"{order_path}/sign", data={"csrf_token": csrf_of(order.text)})
    assert signed.status_code == 303
    task = nurse.get(f"{order_path}/double-check")
    assert task.status_code == 200
    assert "68" not in re.sub(r"<[^>]+>", " ", task.text.split("<form")[1].split("</form>")[0])
    dose = re.search(r"<code>(iv-infusion [^<]+)</code>", doctor.get(order_path).text).group(1)
    checked = nurse.post(
        f"{order_path}/double-check",
        data={"weight_kg": "68", "dose_0": dose, "csrf_token": csrf_of(task.text)},
    )
    assert checked.status_code == 200
    assert "Match" in checked.text
    assert "May be given" in nurse.get(order_path).text


def test_the_nurse_cannot_sign_and_a_wrong_double_check_blocks(staff) -> None:
    doctor, nurse = staff.page("physician"), staff.page("nurse.clark")
    patient_id = _enrol(doctor)
    order_path = _planned_order(doctor, patient_id, staff)
    assert "Sign order" not in nurse.get(order_path).text
    denied = nurse.post(
        f"{order_path}/sign", data={"csrf_token": csrf_of(nurse.get(order_path).text)}
    )
    assert denied.status_code == 403
    doctor.post(f"{order_path}/sign", data={"csrf_token": csrf_of(doctor.get(order_path).text)})
    task = nurse.get(f"{order_path}/double-check")
    answer = nurse.post(
        f"{order_path}/double-check",
        data={
            "weight_kg": "86",
            "dose_0": "iv-infusion 43 mg over 40 min at 0 min",
            "csrf_token": csrf_of(task.text),
        },
    )
    assert "Mismatch" in answer.text
    assert "did not match" in nurse.get(order_path).text
    # the order's history: who typed what, for the preparer and the checker herself ...
    for reader in (doctor, nurse):
        history = reader.get(order_path).text
        assert "by nurse.clark" in history
        assert "typed 86 kg, iv-infusion 43 mg over 40 min at 0 min" in history
    # ... never for a clinician who may still check the order blind
    other = staff.page("nurse").get(order_path).text
    assert "withheld until your own blind check" in other
    assert "43 mg" not in other


def _planned_order(doctor: Any, patient_id: int, staff: Any) -> str:
    start = (staff.clock().date() + timedelta(days=2)).isoformat()
    plan = doctor.get(f"/patients/{patient_id}/plan?protocol=depression-iv&start_on={start}")
    answer = doctor.post(
        f"/patients/{patient_id}/courses",
        data={"protocol": "depression-iv", "start_on": start, "csrf_token": csrf_of(plan.text)},
    )
    return str(answer.headers["location"].split("?")[0])


def test_an_intrathecal_order_is_a_hard_stop_on_the_check_page(staff) -> None:
    doctor = staff.page("physician")
    patient_id = _enrol(doctor)
    path = f"/patients/{patient_id}/order-check"
    answer = _post(
        doctor, path, path, {"protocol": "depression-iv", "doses": "intrathecal 5 mg at 0 min"}
    )
    assert answer.status_code == 200
    assert "Hard stop: this order cannot be signed" in answer.text
    assert "route.neuraxial" in answer.text


@pytest.mark.parametrize("instrument", ["phq-9", "gad-7", "pain-nrs", "bpi-sf", "peg"])
def test_every_assessment_form_shows_the_score_on_submit(staff, instrument) -> None:
    nurse = staff.page("nurse")
    patient_id = _enrol(nurse, mrn=f"W-{instrument}")
    form_page = f"/patients/{patient_id}/assessments/new?instrument={instrument}"
    page = nurse.get(form_page)
    items = sorted(set(re.findall(r'name="(item-[^"]+)"', page.text)))
    data = dict.fromkeys(items, "1")
    data |= {"instrument": instrument, "administered_at": "2026-03-02T08:30"}
    answer = _post(nurse, f"/patients/{patient_id}/assessments", form_page, data)
    assert answer.status_code == 200, answer.text
    assert "points" in answer.text
    assert 'role="status"' in answer.text


def test_a_phq9_item9_answer_alerts_at_once_and_a_missing_answer_is_named(staff) -> None:
    nurse = staff.page("nurse")
    patient_id = _enrol(nurse)
    form_page = f"/patients/{patient_id}/assessments/new?instrument=phq-9"
    answers = {f"item-{i}": "2" for i in range(1, 10)}
    answer = _post(
        nurse,
        f"/patients/{patient_id}/assessments",
        form_page,
        {**answers, "instrument": "phq-9", "administered_at": "2026-03-02T08:30"},
    )
    assert "18" in answer.text
    assert 'role="alert"' in answer.text
    del answers["item-4"]
    missing = _post(
        nurse,
        f"/patients/{patient_id}/assessments",
        form_page,
        {**answers, "instrument": "phq-9", "administered_at": "2026-03-02T08:30"},
    )
    assert missing.status_code == 422
    assert 'id="e-item-4"' in missing.text
    assert "0-3" in missing.text


def test_the_dashboard_and_the_calendar_render(staff) -> None:
    nurse = staff.page("nurse")
    for path in ("/dashboard", "/schedule", "/patients", "/patients?q=zz"):
        answer = nurse.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["cache-control"] == "no-store"


def test_user_text_is_escaped_on_the_chart(staff) -> None:
    nurse = staff.page("nurse")
    patient_id = _enrol(nurse, family_name="<script>alert(1)</script>")
    chart = nurse.get(f"/patients/{patient_id}")
    assert "<script>alert(1)</script>" not in chart.text
    assert "&lt;script&gt;" in chart.text


def _ready_order(staff: Any) -> tuple[str, int]:
    """A patient with a signed, double-checked depression order starting today."""
    doctor, checker = staff.page("physician"), staff.page("nurse.clark")
    patient_id = _enrol(doctor)
    today = staff.clock().date().isoformat()
    plan = doctor.get(f"/patients/{patient_id}/plan?protocol=depression-iv&start_on={today}")
    answer = doctor.post(
        f"/patients/{patient_id}/courses",
        data={"protocol": "depression-iv", "start_on": today, "csrf_token": csrf_of(plan.text)},
    )
    order_path = answer.headers["location"].split("?")[0]
    doctor.post(f"{order_path}/sign", data={"csrf_token": csrf_of(doctor.get(order_path).text)})
    dose = re.search(r"<code>(iv-infusion [^<]+)</code>", doctor.get(order_path).text).group(1)
    task = checker.get(f"{order_path}/double-check")
    checker.post(
        f"{order_path}/double-check",
        data={"weight_kg": "68", "dose_0": dose, "csrf_token": csrf_of(task.text)},
    )
    return order_path, patient_id


def test_a_session_is_documented_through_the_discharge_gate(staff) -> None:
    order_path, _ = _ready_order(staff)
    nurse = staff.page("nurse")
    order = nurse.get(order_path)
    dose = re.search(r"<code>(iv-infusion [^<]+)</code>", order.text).group(1)
    started = nurse.post(
        f"{order_path}/sessions",
        data={
            "lot_number": "LOT-7",
            "started_at": "2026-03-02T06:00",
            "csrf_token": csrf_of(order.text),
        },
    )
    assert started.status_code == 303, started.text
    session = started.headers["location"]
    page = nurse.get(session)
    assert "The discharge gate is closed" in page.text
    steps = [
        ("doses", {"kind": "dose", "dose": dose, "given_at": "2026-03-02T06:05"}),
        (
            "vitals",
            {
                "measured_at": "2026-03-02T06:00",
                "systolic_mmhg": "124",
                "diastolic_mmhg": "78",
                "heart_rate_per_min": "72",
                "respiratory_rate_per_min": "14",
                "spo2_percent": "98",
            },
        ),
        (
            "vitals",
            {
                "measured_at": "2026-03-02T08:40",
                "systolic_mmhg": "128",
                "diastolic_mmhg": "80",
                "heart_rate_per_min": "70",
                "respiratory_rate_per_min": "14",
                "spo2_percent": "98",
            },
        ),
        (
            "scores",
            {
                "instrument": "moaa-s",
                "moaa-s-responsiveness": "5",
                "moaa-s-measured_at": "2026-03-02T08:45",
            },
        ),
        (
            "scores",
            {
                "instrument": "cadss-6",
                **{f"cadss-6-cadss_{i}": "0" for i in (1, 2, 6, 7, 15, 22)},
                "cadss-6-measured_at": "2026-03-02T08:45",
            },
        ),
        (
            "adverse-events",
            {
                "term": "nausea",
                "severity": "mild",
                "outcome": "resolved",
                "onset_at": "2026-03-02T06:30",
            },
        ),
    ]
    for path, data in steps:
        answer = nurse.post(
            f"{session}/{path}", data={**data, "csrf_token": csrf_of(nurse.get(session).text)}
        )
        assert answer.status_code in (200, 303), (path, answer.text)
    page = nurse.get(session)
    assert "The discharge gate is open" in page.text, page.text
    done = nurse.post(
        f"{session}/discharge",
        data={"decision": "discharged", "csrf_token": csrf_of(page.text)},
    )
    assert done.status_code == 303
    sheet = nurse.get(done.headers["location"])
    assert "Do not drive" in sheet.text
    assert "until the next day" in sheet.text


def test_a_vitals_error_names_the_range_and_unit(staff) -> None:
    order_path, _ = _ready_order(staff)
    nurse = staff.page("nurse")
    order = nurse.get(order_path)
    started = nurse.post(
        f"{order_path}/sessions", data={"lot_number": "L", "csrf_token": csrf_of(order.text)}
    )
    session = started.headers["location"]
    answer = nurse.post(
        f"{session}/vitals",
        data={
            "measured_at": "2026-03-02T09:00",
            "systolic_mmhg": "400",
            "csrf_token": csrf_of(nurse.get(session).text),
        },
    )
    assert answer.status_code == 422
    error = re.search(r'id="e-systolic_mmhg">([^<]*)<', answer.text).group(1)
    assert "mmHg" in error
    assert "accepted range" in error
