"""The dashboard page and its API twin by pages of patients: every alert of the day on each
page, the standing alerts (trial decision due, exposure prompts) of a few patients with an
open course per page, a "more patients" line with a link to the next page, and bad paging
values refused with the accepted range. The oracle is the whole dashboard
(``dashboard_alerts``) of the same demo clinic."""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any

import pytest

from ketaclinic.services import (
    DASHBOARD_PAGE_PATIENTS_MAX,
    Actor,
    dashboard_alerts,
    generate_demo_data,
)

DAY_KINDS = {"assessment_alert", "weight_too_old", "esketamine_monitoring"}
_ROW = re.compile(r'<tr class="alert-(\w+)"><td>[^<]*</td><td><a href="/patients/(\d+)">')
_NEXT = re.compile(r'<a href="([^"]+)" rel="next">Next page of standing alerts</a>')


@pytest.fixture
def demo_clinic(staff: Any, app_db: Any, frozen: Any) -> tuple[Counter, Counter]:
    """A demo clinic of 12 patients; (its day alerts, its standing alerts) by (kind, patient)."""
    generate_demo_data(app_db, Actor.command_line("cli:test"), patients=12, seed=3, clock=frozen)
    nurse = Actor("demo.rn.diaz", "127.0.0.1")
    whole = dashboard_alerts(app_db, nurse, frozen().date(), clock=frozen)
    day = Counter((a.kind, a.patient_id) for a in whole if a.kind in DAY_KINDS)
    standing = Counter((a.kind, a.patient_id) for a in whole if a.kind not in DAY_KINDS)
    assert len({patient for _, patient in standing}) > 2  # more than one page of 2 patients
    return day, standing


def _rows(text: str) -> tuple[Counter, Counter]:
    rows = [(kind, int(patient)) for kind, patient in _ROW.findall(text)]
    return (
        Counter(r for r in rows if r[0] in DAY_KINDS),
        Counter(r for r in rows if r[0] not in DAY_KINDS),
    )


def test_the_dashboard_page_links_to_the_patients_a_page_leaves_out(
    staff: Any, frozen: Any, demo_clinic: tuple[Counter, Counter]
) -> None:
    day_alerts, standing = demo_clinic
    nurse = staff.page("nurse")
    path = f"/dashboard?day={frozen().date().isoformat()}&patients=2"
    seen: Counter = Counter()
    pages = 0
    while path:
        answer = nurse.get(path)
        assert answer.status_code == 200, answer.text
        pages += 1
        of_day, of_page = _rows(answer.text)
        assert of_day == day_alerts  # every page has all of the day's alerts
        assert len({patient for _, patient in of_page}) <= 2
        assert not seen & of_page  # a patient's standing alerts are on one page only
        seen += of_page
        found = _NEXT.search(answer.text)
        more = re.search(r"(\d+) more patients? with an open course", answer.text)
        assert bool(found) == bool(more)
        if pages == 1:
            assert found, "the first page of 2 patients should link to the next"
            assert 'aria-label="Alert pages"' in answer.text
        path = html.unescape(found.group(1)) if found else ""
        assert pages < 20
    assert seen == standing  # the pages together show the whole dashboard's standing alerts
    assert pages > 1
    assert "First page of alerts" in answer.text  # the last page leads back to the first


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("patients=0", f"from 1 to {DASHBOARD_PAGE_PATIENTS_MAX}"),
        (f"patients={DASHBOARD_PAGE_PATIENTS_MAX + 1}", f"from 1 to {DASHBOARD_PAGE_PATIENTS_MAX}"),
        ("patients=ten", f"from 1 to {DASHBOARD_PAGE_PATIENTS_MAX}"),
        ("after=-1", "from 0 to"),
        ("after=1.5", "from 0 to"),
    ],
)
def test_bad_paging_values_on_the_page_are_refused_with_the_range(
    clients: Any, query: str, expected: str
) -> None:
    answer = clients.page("nurse").get(f"/dashboard?{query}")
    assert answer.status_code == 422, answer.text
    name = query.split("=")[0]
    assert re.search(
        rf"{name} .* is not accepted: .*{re.escape(expected)}", html.unescape(answer.text)
    )


def test_the_api_dashboard_pages_add_up_to_the_whole_dashboard(
    staff: Any, frozen: Any, demo_clinic: tuple[Counter, Counter]
) -> None:
    day_alerts, standing = demo_clinic
    api = staff.api("nurse")
    after, seen, pages = 0, Counter(), 0
    while True:
        answer = api.get(
            "/api/v1/dashboard",
            params={"day": frozen().date().isoformat(), "after": after, "patients": 2},
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages += 1
        rows = [(a["kind"], a["patient_id"]) for a in body["alerts"]]
        assert Counter(r for r in rows if r[0] in DAY_KINDS) == day_alerts
        of_page = Counter(r for r in rows if r[0] not in DAY_KINDS)
        assert body["after"] == after
        assert 0 < body["patients"] <= 2
        assert len({patient for _, patient in of_page}) <= body["patients"]
        seen += of_page
        if body["next_after"] is None:
            assert body["more_patients"] == 0
            break
        assert body["more_patients"] > 0
        assert body["next_after"] > after
        after = body["next_after"]
    assert seen == standing
    assert pages > 1


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"patients": 0}, f"from 1 to {DASHBOARD_PAGE_PATIENTS_MAX}"),
        ({"patients": DASHBOARD_PAGE_PATIENTS_MAX + 1}, f"from 1 to {DASHBOARD_PAGE_PATIENTS_MAX}"),
        ({"after": -1}, "0 or more"),
        ({"patients": "ten"}, "integer"),
    ],
)
def test_bad_paging_values_in_the_api_are_refused_with_a_message(
    clients: Any, params: dict[str, Any], expected: str
) -> None:
    answer = clients.api("nurse").get("/api/v1/dashboard", params=params)
    assert answer.status_code == 422, answer.text
    message = answer.json()["message"]
    assert next(iter(params)) in message
    assert expected in message


def test_the_openapi_schema_states_the_paging_bounds(clients: Any) -> None:
    schema = clients.api("nurse").get("/openapi.json").json()
    params = {p["name"]: p for p in schema["paths"]["/api/v1/dashboard"]["get"]["parameters"]}
    assert params["patients"]["schema"]["minimum"] == 1
    assert params["patients"]["schema"]["maximum"] == DASHBOARD_PAGE_PATIENTS_MAX
    assert params["after"]["schema"]["minimum"] == 0
