"""The admin's price page: the current version and its history, a form for a new version
with a reason, each refused value next to its field with the accepted range and unit; admin
only (others 403), CSRF, no-store."""

from __future__ import annotations

import re

import pytest
from web_helpers import csrf_of

from ketaclinic.services import PRICE_ACCEPTED, PRICE_FIELDS, clinic_price_list


def _form(page_text: str, **changes: str) -> dict[str, str]:
    """What the form holds (the current prices), with ``changes``, and its CSRF token."""
    values = {
        name: re.search(rf'name="{name}" type="text" value="([^"]*)"', page_text).group(1)
        for name in PRICE_FIELDS
    }
    return {**values, "reason": "", **changes, "csrf_token": csrf_of(page_text)}


def test_the_admin_reads_the_current_prices_and_every_version(staff) -> None:
    page = staff.page("admin").get("/admin/prices")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "Current price list: version 0" in page.text
    assert "DEMO prices" in page.text
    for name, unit in PRICE_FIELDS.items():
        assert f'for="f-{name}"' in page.text  # every field has its label
        assert f"{unit}; accepted: {PRICE_ACCEPTED[name]}" in page.text
    assert '<a href="/admin/prices"' in page.text  # the admin's navigation links to it


def test_a_new_version_is_saved_with_its_reason_and_the_old_one_stays_in_the_history(
    staff, app_db
) -> None:
    admin = staff.page("admin")
    form = _form(admin.get("/admin/prices").text, chair_per_15_min_minor="2700")
    saved = admin.post("/admin/prices", data={**form, "reason": "new lease"})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/prices?saved=1"
    page = admin.get(saved.headers["location"]).text
    assert "Price list version 1 saved" in page
    assert "Current price list: version 1" in page
    assert "chair_per_15_min_minor 2500 -&gt; 2700" in page
    assert "new lease" in page
    assert "0 (DEMO)" in page  # the built-in version is still listed
    current = clinic_price_list(app_db)
    assert (current.version, current.prices.chair_per_15_min_minor) == (1, 2700)
    assert current.set_by == "admin.davis"
    assert current.reason == "new lease"


@pytest.mark.parametrize(
    ("field", "typed", "says"),
    [
        ("chair_per_15_min_minor", "27.5", "is not a whole number; accepted: a whole number 0-"),
        ("chair_per_15_min_minor", "-1", "outside the accepted range 0-"),
        ("nurse_per_hour_minor", "", "required; accepted: a whole number 0-"),
        ("ketamine_vial_mg", "0", "accepted: above 0 to 10000 mg"),
        ("ketamine_vial_mg", "lots", "is not a number; accepted: above 0 to 10000 mg"),
        ("patients_per_nurse", "21", "accepted: a whole number 1 to 20"),
        ("currency", "euro", "accepted: an ISO 4217 code such as EUR or USD"),
        ("reason", "", "required: why the prices change"),
        ("reason", "x" * 250, "accepted: 1 to 200"),
    ],
)
def test_a_refused_value_is_shown_next_to_its_field_and_nothing_is_saved(
    staff, app_db, field, typed, says
) -> None:
    admin = staff.page("admin")
    form = _form(admin.get("/admin/prices").text, monitoring_per_session_minor="6500")
    form = {**form, "reason": "yearly review", field: typed}
    answer = admin.post("/admin/prices", data=form)
    assert answer.status_code == 422, answer.text
    error = re.search(rf'<p class="error" id="e-{field}">([^<]*)</p>', answer.text)
    assert error is not None, answer.text
    assert says in error.group(1).replace("&#39;", "'")
    assert f'id="f-{field}"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert clinic_price_list(app_db).version == 0


def test_an_unchanged_form_saves_nothing(staff, app_db) -> None:
    admin = staff.page("admin")
    form = _form(admin.get("/admin/prices").text, reason="just looking")
    answer = admin.post("/admin/prices", data=form)
    assert answer.status_code == 422
    assert "change at least one" in answer.text
    assert clinic_price_list(app_db).version == 0


def test_only_the_admin_opens_or_posts_the_price_page_and_a_post_needs_csrf(staff, app_db) -> None:
    form = _form(staff.page("admin").get("/admin/prices").text, chair_per_15_min_minor="1")
    for role in ("physician", "nurse", "researcher"):
        client = staff.page(role)
        page = client.get("/admin/prices")
        assert page.status_code == 403
        assert "Price list" not in page.text
        assert '<a href="/admin/prices"' not in client.get("/").text
    admin = staff.page("admin")
    no_token = {k: v for k, v in form.items() if k != "csrf_token"}
    assert admin.post("/admin/prices", data={**no_token, "reason": "r"}).status_code == 403
    assert clinic_price_list(app_db).version == 0
