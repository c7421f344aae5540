"""Each role signs in through the real page in Chromium and sees what its role may open; the
pages pass axe-core with no serious or critical violation."""

from __future__ import annotations

import pytest
from browser_helpers import assert_accessible, sign_in
from web_helpers import ROLE_PERSONAS, password_of

NAV = {
    "physician": {"Home", "Dashboard", "Patients", "New patient", "Schedule"},
    "nurse": {"Home", "Dashboard", "Patients", "New patient", "Schedule"},
    "admin": {"Home", "Users", "Audit trail", "Audit check", "Prices"},
    "researcher": {"Home"},
}


@pytest.mark.parametrize("role", sorted(ROLE_PERSONAS))
def test_each_role_signs_in_and_sees_its_menu(page, live_server, role):
    username = ROLE_PERSONAS[role]
    sign_in(page, live_server.url, username, password_of(username))
    assert page.url == f"{live_server.url}/"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    menu = page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()
    assert set(menu) == NAV[role]
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/login")


def test_the_sign_in_page_is_accessible_and_says_what_went_wrong(page, live_server):
    page.goto(f"{live_server.url}/login")
    assert_accessible(page)
    sign_in(page, live_server.url, "dr.adams", "not the password at all")
    assert "wrong username or password" in page.get_by_role("alert").inner_text()
    assert_accessible(page)


def test_the_admin_pages_are_accessible(page, live_server):
    sign_in(page, live_server.url, "admin.davis", password_of("admin.davis"))
    for path in ("/admin/users", "/admin/audit", "/admin/audit/verify", "/admin/prices"):
        page.goto(f"{live_server.url}{path}")
        assert page.get_by_role("heading", level=1).is_visible()
        assert_accessible(page)


def test_the_keyboard_reaches_main_content_by_the_skip_link(page, live_server):
    page.goto(f"{live_server.url}/login")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent")
    assert focused.strip() == "Skip to main content"


def test_the_admin_sets_prices_from_the_keyboard_and_the_page_stays_accessible(page, live_server):
    sign_in(page, live_server.url, "admin.davis", password_of("admin.davis"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Prices").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Prices"
    chair = page.get_by_label("Chair time per started 15 min (minor units)")
    chair.fill("27.5")
    chair.press("Enter")  # the form submits from the keyboard
    assert "is not a whole number" in page.locator("#e-chair_per_15_min_minor").inner_text()
    assert "required: why the prices change" in page.locator("#e-reason").inner_text()
    assert_accessible(page)
    page.get_by_label("Chair time per started 15 min (minor units)").fill("2750")
    page.get_by_label("Why the prices change").fill("the new lease")
    page.get_by_role("button", name="Save a new version").focus()
    page.keyboard.press("Enter")
    assert "saved" in page.get_by_role("status").inner_text()
    assert "Current price list: version" in page.inner_text("main")
    assert_accessible(page)
