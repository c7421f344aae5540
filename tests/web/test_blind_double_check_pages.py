"""The order page and the API keep the double check blind: a nurse who may still check an
order sees a notice and the way to the check, never its doses or weight, until a check of
hers or a matching one; the physician who prepared and signed it always sees them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from web_helpers import csrf_of, intake_form

INTAKE = intake_form("W-200")
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


def test_after_her_mismatch_a_checker_is_told_who_checks_next_and_cannot_check_again(
    staff,
) -> None:
    """One check per clinician, on the pages and in the API: her result page says where the
    order goes; the order page says why she may not check it; the check page and the API's
    check are a 403; what she typed is on the order."""
    doctor, checker = staff.page("physician"), staff.page("nurse.clark")
    _, order_path = _signed_order(doctor, staff)
    dose = re.search(r"<code>(iv-infusion [^<]+)</code>", doctor.get(order_path).text).group(1)
    task = checker.get(f"{order_path}/double-check")
    result = checker.post(
        f"{order_path}/double-check",
        data={"weight_kg": "86", "dose_0": dose, "csrf_token": csrf_of(task.text)},
    )
    assert result.status_code == 200, result.text
    assert "Mismatch in weight (kg)" in result.text
    assert "goes back to its prescriber" in result.text
    assert "Compare with the order" not in result.text  # no second form
    page = checker.get(order_path).text
    assert "You may not do this order's double check" in page
    assert "one check per clinician" in page
    assert "typed 86 kg" in page
    again = checker.get(f"{order_path}/double-check")
    assert again.status_code == 403
    assert "one check per clinician" in again.text
    posted = checker.post(
        f"{order_path}/double-check",
        data={"weight_kg": "68", "dose_0": dose, "csrf_token": csrf_of(page)},
    )
    assert posted.status_code == 403
    api, order_id = staff.api("nurse.clark"), order_path.rsplit("/", 1)[1]
    refused = api.post(
        f"/api/v1/orders/{order_id}/double-check", json={"weight_kg": 68, "doses": [dose]}
    )
    assert refused.status_code == 403
    assert "one check per clinician" in refused.json()["message"]
    assert api.get(f"/api/v1/orders/{order_id}").json()["double_check_refusal"]
    # a clinician who has not checked it does the check that counts
    nurse = staff.page("nurse")
    task = nurse.get(f"{order_path}/double-check")
    assert "One check per clinician" in task.text
    assert (
        "Match"
        in nurse.post(
            f"{order_path}/double-check",
            data={"weight_kg": "68", "dose_0": dose, "csrf_token": csrf_of(task.text)},
        ).text
    )


def test_the_eligibility_page_withholds_dose_findings_from_a_would_be_checker(staff) -> None:
    doctor, nurse = staff.page("physician"), staff.page("nurse")
    patient_id, order_path = _signed_order(doctor, staff)
    path = f"/patients/{patient_id}/eligibility"
    assert "Findings that name a dose or weight are withheld" not in doctor.get(path).text
    page = nurse.get(path)
    assert page.status_code == 200
    assert "Findings that name a dose or weight are withheld" in page.text
    assert f'<a href="{order_path}/double-check">do the independent double check</a>' in page.text
    assert "68 kg" not in page.text
    body = (
        staff.api("nurse")
        .get(
            f"/api/v1/patients/{patient_id}/eligibility",
            params={"start_on": (staff.clock().date() + timedelta(days=2)).isoformat()},
        )
        .json()
    )
    assert {e["double_check_path"] for e in body} == {f"{order_path}/double-check"}
    assert "68 kg" not in str(body)
