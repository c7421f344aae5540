"""The clinical API: strict bodies ("70" is not a weight), a message for every refusal, the
intrathecal hard stop as a finding, and no 500 on a walk through plan, sign and session."""

from __future__ import annotations

ENROL = {
    "mrn": "API-1",
    "demographics": {
        "given_name": "Ada",
        "family_name": "Bell",
        "birth_date": "1980-01-01",
        "sex_at_birth": "female",
    },
    "weight": {"weight_kg": 70, "measured_on": "2026-03-01"},
    "diagnoses": [{"icd10cm_code": "F33.2", "free_text": "recurrent major depression"}],
}


def test_the_clinical_api_from_enrolment_to_a_signed_order(staff) -> None:
    api = staff.api("physician")
    lax = {**ENROL, "weight": {"weight_kg": "70", "measured_on": "2026-03-01"}}
    refused = api.post("/api/v1/patients", json=lax)
    assert refused.status_code == 422
    assert "weight_kg" in refused.json()["message"]
    enrolled = api.post("/api/v1/patients", json=ENROL)
    assert enrolled.status_code == 201
    patient = enrolled.json()["patient_id"]
    check = api.post(
        f"/api/v1/patients/{patient}/order-check",
        json={"protocol": "depression-iv", "doses": ["intrathecal 5 mg at 0 min"]},
    )
    assert check.status_code == 200
    assert "route.neuraxial" in [f["code"] for f in check.json()["findings"]]
    assert not check.json()["allowed"]
    micrograms = api.post(
        f"/api/v1/patients/{patient}/order-check",
        json={"protocol": "depression-iv", "doses": ["iv-bolus 5 mcg"]},
    )
    assert micrograms.status_code == 422
    assert "mg" in micrograms.json()["message"]
    planned = api.post(
        f"/api/v1/patients/{patient}/courses",
        json={"protocol": "depression-iv", "start_on": "2026-03-05", "risk_patients": 0},
    )
    assert planned.status_code == 201
    order = planned.json()["order_id"]
    details = api.get(f"/api/v1/orders/{order}").json()
    assert details["evidence"]["level"]
    assert details["plan"]["prediction"]["ketamine_ng_per_ml"]
    assert details["cost_estimate"]["total_minor"] > 0
    assert api.post(f"/api/v1/orders/{order}/sign", json={}).status_code == 200
    nurse = staff.api("nurse.clark")
    task = nurse.get(f"/api/v1/orders/{order}/double-check").json()
    assert "weight_kg" not in task
    history = api.get(f"/api/v1/patients/{patient}/history")
    assert history.status_code == 200


def test_refusals_carry_a_message_and_no_call_answers_500(staff) -> None:
    api = staff.api("physician")
    patient = api.post("/api/v1/patients", json=ENROL).json()["patient_id"]
    calls = [
        ("GET", "/api/v1/patients/999", None, 404),
        (
            "GET",
            f"/api/v1/patients/{patient}/plan-preview?protocol=nope&start_on=2026-03-05",
            None,
            422,
        ),
        ("POST", "/api/v1/orders/999/sessions", {"lot_number": "L"}, 404),
        (
            "POST",
            f"/api/v1/patients/{patient}/assessments",
            {
                "instrument": "phq-9",
                "administered_at": "2026-03-02T08:00:00Z",
                "answers": {"zz": 1},
            },
            422,
        ),
        ("GET", "/api/v1/schedule?from_day=2026-03-01&to_day=2027-03-01", None, 422),
        (
            "POST",
            "/api/v1/sessions/1/vitals",
            {"measured_at": "2026-03-02T08:00:00Z", "systolic_mmhg": 400},
            422,
        ),
    ]
    for method, path, body, status in calls:
        answer = api.request(method, path, **({"json": body} if body is not None else {}))
        assert answer.status_code == status, (path, answer.text)
        assert answer.json()["message"]
    assert api.get("/api/v1/dashboard").status_code == 200
    assert api.get(f"/api/v1/patients/{patient}/schedule.ics").text.startswith("BEGIN:VCALENDAR")
