"""The audit trail page and API: filters, allow-listed sorting, pages, escaping."""

from __future__ import annotations

import pytest
from web_helpers import csrf_of

from ketaclinic.services import AUDIT_SORT_FIELDS, Actor, audited_transaction

PAYLOADS = [
    "<script>alert(1)</script>",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "%253Cscript%253Ealert(1)%253C%252Fscript%253E",
    '"><img src=x onerror=alert(1)>',
    "' OR '1'='1",
    "1; DROP TABLE staff_users; --",
]


@pytest.fixture
def trail(staff, app_db, frozen):
    """Audit events by several actors on several patients (ids 1-30)."""
    for n in range(30):
        actor = Actor(f"user{n % 3}", "10.0.0.1")
        with audited_transaction(app_db, actor, frozen) as uc:
            uc.audit("chart.read", record_type="patients", record_id=n + 1, patient_id=n + 1)
        frozen.advance(minutes=1)
    return staff


def test_the_audit_list_filters_by_actor_and_patient(trail) -> None:
    api = trail.api("admin")
    page = api.get("/api/v1/admin/audit", params={"actor_username": "user1"}).json()
    assert page["total"] == 10
    assert {e["actor_username"] for e in page["events"]} == {"user1"}
    one = api.get("/api/v1/admin/audit", params={"patient_id": 7}).json()
    assert [e["patient_id"] for e in one["events"]] == [7]


@pytest.mark.parametrize("field", AUDIT_SORT_FIELDS)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_the_audit_list_sorts_by_each_allowed_field(trail, field, order) -> None:
    events = (
        trail.api("admin")
        .get("/api/v1/admin/audit", params={"sort": field, "order": order, "page_size": 200})
        .json()["events"]
    )
    keys = [(e[field] is None, e[field]) for e in events if e[field] is not None]
    assert keys == sorted(keys, reverse=order == "desc")


@pytest.mark.parametrize("sort", ["hash", "seq desc", "seq; DROP TABLE audit_events", "1", ""])
def test_a_sort_field_outside_the_allow_list_is_refused(trail, sort) -> None:
    api = trail.api("admin")
    answer = api.get("/api/v1/admin/audit", params={"sort": sort})
    assert answer.status_code == 422
    assert answer.json()["message"]
    page = trail.page("admin").get("/admin/audit", params={"sort": sort})
    assert page.status_code == 422
    assert "not accepted" in page.text


def test_the_audit_list_pages_through_every_event(trail) -> None:
    api = trail.api("admin")
    seen = []
    for number in range(1, 5):
        params = {"page": number, "page_size": 10, "action": "chart.read"}
        page = api.get("/api/v1/admin/audit", params=params).json()
        seen += [e["seq"] for e in page["events"]]
    assert len(seen) == len(set(seen)) == 30
    assert page["pages"] == 3


def test_the_audit_page_links_sorting_and_pages(trail) -> None:
    html = trail.page("admin").get("/admin/audit", params={"page_size": 10}).text
    assert 'aria-sort="descending"' in html
    assert "Next page" in html
    assert "sort=occurred_at" in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_user_text_is_escaped_in_the_audit_page(trail, payload) -> None:
    html = trail.page("admin").get("/admin/audit", params={"actor_username": payload}).text
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_user_text_is_escaped_in_the_users_page(staff, payload) -> None:
    admin = staff.page("admin")
    form = admin.get("/admin/users")
    answer = admin.post(
        "/admin/users",
        data={
            "csrf_token": csrf_of(form.text),
            "username": "valid.name",
            "display_name": payload,
            "role": "nurse",
            "password": "long enough password",
        },
    )
    assert answer.status_code == 303
    html = admin.get("/admin/users").text
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_hostile_username_is_refused_and_shown_escaped(staff, payload) -> None:
    admin = staff.page("admin")
    form = admin.get("/admin/users")
    answer = admin.post(
        "/admin/users",
        data={
            "csrf_token": csrf_of(form.text),
            "username": payload,
            "role": "nurse",
            "password": "long enough password",
        },
    )
    assert answer.status_code == 422
    assert "<script>alert(1)</script>" not in answer.text
    assert "<img src=x" not in answer.text


def test_the_audit_check_page_shows_the_head_hash(trail) -> None:
    page, api = trail.page("admin"), trail.api("admin")  # both signed in (audited) first
    html = page.get("/admin/audit/verify").text
    assert "The audit trail is intact" in html
    report = api.get("/api/v1/admin/audit/verify").json()
    assert report["ok"]
    assert report["head_hash"] in html


def test_reading_the_audit_trail_is_audited(trail) -> None:
    api = trail.api("admin")
    api.get("/api/v1/admin/audit")
    page = api.get("/api/v1/admin/audit", params={"action": "audit.search"}).json()
    assert page["total"] >= 1
    assert page["events"][0]["actor_username"] == "admin.davis"
