"""The order page and the API keep the double check blind: a nurse who may still check an
order sees a notice and the way to the check, never its doses or weight, until a check of
hers or a matching one; the physician who prepared and signed it always sees them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from web_helpers import csrf_of

INTAKE = {
    "mrn": "W-200",
    "given_name": "Wren",
    "family_name": "Ng",
    "birth_date": "1979-04-02",
    "sex_at_birth": "female",
    "weight_kg": "68",
    "height_cm": "165",
    "measured_on": "2026-03-01",
    "icd10cm_code_0": "F33.2",
    "diagnosis_text_0": "recurrent major depression",
}
NOTICE = "Doses and weight are withheld until your independent double check"


def _signed_order(doctor: Any, staff: Any) -> tuple[int, str]:
    token = csrf_of(doctor.get("/patients/new").text)
    enrolled = doctor.post("/patients", data={**INTAKE, "csrf_token": token})
    patient_id = int(re.search(r"/patients/(\d+)/", enrolled.headers["location"]).group(1))
    start = (staff.clock().date() + timedelta(days=2)).isoformat()
    plan = doctor.get(f"/patients/{patient_id}/plan?protocol=depression-iv&start_on={start}")
    answer = doctor.post(
        f"/patients/{patient_id}/courses",
        data={"protocol": "depression-iv", "start_on": start, "csrf_token": csrf_of(plan.text)},
    )
    order_path = str(answer.headers["location"].split("?")[0])
    doctor.post(f"{order_path}/sign", data={"csrf_token": csrf_of(doctor.get(order_path).text)})
    return patient_id, order_path


def test_a_nurse_who_may_check_sees_no_dose_or_weight_of_the_order_until_a_match(staff) -> None:
    doctor, nurse = staff.page("physician"), staff.page("nurse")
    patient_id, order_path = _signed_order(doctor, staff)
    mine = doctor.get(order_path).text
    dose = re.search(r"<code>(iv-infusion [^<]+)</code>", mine).group(1)
    assert "Doses (weight 68" in mine
    assert NOTICE not in mine
    start = (staff.clock().date() + timedelta(days=2)).isoformat()
    api, order_id = staff.api("nurse"), order_path.rsplit("/", 1)[1]

    def blind() -> bool:
        page = nurse.get(order_path)
        assert page.status_code == 200
        read = api.get(f"/api/v1/orders/{order_id}")
        chart = api.get(f"/api/v1/patients/{patient_id}").json()
        orders = [o for c in chart["courses"] for o in c["orders"]]
        if NOTICE not in page.text:
            assert dose in page.text
            assert read.json()["doses"]
            return False
        assert f'<a href="{order_path}/double-check">Do the independent double check</a>' in (
            page.text
        )
        for text in (page.text, read.text, str(orders)):
            assert dose.split(" over")[0] not in text  # "iv-infusion 34 mg"
            assert "Doses (weight" not in text
            assert "Predicted concentration" not in text
        body = read.json()
        assert (body["weight_kg"], body["doses"], body["plan"]) == (None, [], {})
        assert (body["values_withheld"], body["withheld_notice"]) == (True, NOTICE)
        assert body["double_check_path"] == f"{order_path}/double-check"
        assert body["cost_estimate"] is None
        assert [o["values_withheld"] for o in orders] == [True]
        preview = f"/patients/{patient_id}/plan?protocol=depression-iv&start_on={start}"
        shown = nurse.get(preview).text  # the page says why there is no plan
        assert f"before the independent double check of order {order_id}" in shown
        assert dose.split(" over")[0] not in shown
        refused = api.get(
            f"/api/v1/patients/{patient_id}/plan-preview?protocol=depression-iv&start_on={start}"
        )
        assert refused.status_code == 403
        assert "double check" in refused.text
        return True

    assert blind()
    # the other nurse's mismatch does not open the order to this one
    checker = staff.page("nurse.clark")
    task = checker.get(f"{order_path}/double-check")
    checker.post(
        f"{order_path}/double-check",
        data={"weight_kg": "86", "dose_0": dose, "csrf_token": csrf_of(task.text)},
    )
    assert dose in checker.get(order_path).text
    assert blind()
    task = nurse.get(f"{order_path}/double-check")
    checked = nurse.post(
        f"{order_path}/double-check",
        data={"weight_kg": "68", "dose_0": dose, "csrf_token": csrf_of(task.text)},
    )
    assert "Match" in checked.text
    assert not blind()
    assert "May be given" in nurse.get(order_path).text
    assert dose in doctor.get(order_path).text
