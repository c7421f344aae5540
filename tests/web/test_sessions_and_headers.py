"""The session cookie, CSRF on sign-in, throttling through the page, and the headers."""

from __future__ import annotations

import re

import pytest
from web_helpers import api_token, csrf_of, make_client, password_of, sign_in_page


def _set_cookie(answer, name: str) -> str:
    headers = [v for k, v in answer.headers.multi_items() if k == "set-cookie"]
    found = [h for h in headers if h.startswith(f"{name}=")]
    assert found, headers
    return found[0]


def _session(client) -> str | None:
    """The session cookie the server set (a planted one has no domain)."""
    found = [c.value for c in client.cookies.jar if c.name == "kc_session" and c.domain]
    return found[-1] if found else None


def _plant(client, value: str) -> None:
    client.cookies.clear()
    client.cookies.set("kc_session", value)


def test_the_session_cookie_is_httponly_samesite_and_not_the_stored_value(client) -> None:
    answer = sign_in_page(client, "dr.adams")
    assert answer.status_code == 303
    cookie = _set_cookie(answer, "kc_session")
    assert "HttpOnly" in cookie
    assert re.search(r"SameSite=(lax|strict)", cookie, re.I)
    assert "Path=/" in cookie
    assert "Max-Age=43200" in cookie


def test_signing_in_always_issues_a_new_session_token(client) -> None:
    _plant(client, "planted-by-an-attacker")
    sign_in_page(client, "dr.adams")
    first = _session(client)
    assert first
    assert first != "planted-by-an-attacker"
    client.cookies.clear()
    client.cookies.set("kc_session", first)
    sign_in_page(client, "dr.adams")
    second = _session(client)
    assert second != first
    assert client.get("/").status_code == 200


def test_the_old_session_ends_when_the_browser_signs_in_again(app_db, frozen) -> None:
    with make_client(app_db, frozen) as browser, make_client(app_db, frozen) as thief:
        sign_in_page(browser, "dr.adams")
        old = _session(browser)
        sign_in_page(browser, "dr.adams")
        _plant(thief, old)
        assert thief.get("/").status_code == 303


def test_sign_out_ends_the_session_and_drops_the_cookie(client) -> None:
    sign_in_page(client, "nurse.brown")
    token = _session(client)
    home = client.get("/")
    answer = client.post("/logout", data={"csrf_token": csrf_of(home.text)})
    assert answer.status_code == 303
    assert 'kc_session=""' in _set_cookie(answer, "kc_session") or "Max-Age=0" in _set_cookie(
        answer, "kc_session"
    )
    _plant(client, token)
    assert client.get("/").status_code == 303


def test_an_idle_page_session_is_sent_to_sign_in_again(client, frozen) -> None:
    sign_in_page(client, "nurse.brown")
    frozen.advance(minutes=15, seconds=1)
    answer = client.get("/")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2F"


def test_sign_in_without_the_form_token_is_refused(client) -> None:
    client.get("/login")
    answer = client.post(
        "/login", data={"username": "dr.adams", "password": password_of("dr.adams")}
    )
    assert answer.status_code == 403
    assert "kc_session" not in client.cookies


def test_sign_in_through_the_page_is_throttled_before_100_failures(client) -> None:
    statuses = []
    for _ in range(30):
        answer = sign_in_page(client, "dr.adams", "a wrong password")
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert int(answer.headers["retry-after"]) > 0
            break
    assert statuses[-1] == 429
    assert len(statuses) < 100
    assert "too many failed sign-ins" in answer.text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_after_sign_in_only_paths_on_this_site_are_followed(client, target) -> None:
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={
            "username": "dr.adams",
            "password": password_of("dr.adams"),
            "csrf_token": csrf_of(form.text),
            "next": target,
        },
    )
    assert answer.headers["location"] == "/"


@pytest.mark.parametrize("path", ["/login", "/health", "/", "/api/v1/me", "/nowhere"])
def test_every_answer_has_the_security_headers_and_no_store(client, path) -> None:
    answer = client.get(path)
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script(clients) -> None:
    for path in ("/", "/admin/users", "/admin/audit", "/admin/audit/verify"):
        html = clients.page("admin").get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"<[^>]+\son[a-z]+=", html), path


def test_plotly_is_served_from_the_installed_package(client) -> None:
    answer = client.get("/static/vendor/plotly.min.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert len(answer.content) > 1_000_000
    assert answer.headers["cache-control"].startswith("public")
    assert client.get("/static/ketaclinic.css").status_code == 200


def test_a_bearer_token_ends_when_revoked(client) -> None:
    token = api_token(client, "admin.davis")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).json()["role"] == "admin"
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    answer = client.get("/api/v1/me", headers=headers)
    assert answer.status_code == 401
    assert "signed out" in answer.json()["message"]


def test_a_wrong_api_password_is_401_with_a_message(client) -> None:
    answer = client.post(
        "/api/v1/auth/token", json={"username": "dr.adams", "password": "not it at all"}
    )
    assert answer.status_code == 401
    assert answer.json() == {"message": "wrong username or password"}


def test_a_disabled_user_is_signed_out_of_the_pages_at_once(staff) -> None:
    nurse = staff.page("nurse")
    admin = staff.page("admin")
    assert nurse.get("/").status_code == 200
    users = admin.get("/admin/users")
    answer = admin.post(
        "/admin/users/nurse.brown/disable", data={"csrf_token": csrf_of(users.text)}
    )
    assert answer.status_code == 303
    assert nurse.get("/").status_code == 303
