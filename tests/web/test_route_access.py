"""Access control from the application's own route table: every route declares its access;
anonymous users are sent to sign in (pages) or get 401 (API); a role without the permission
gets 403 with no record in the body; a role with it is let through."""

from __future__ import annotations

import re
from typing import Any

import pytest
from web_helpers import ROLE_PERSONAS, make_client

from ketaclinic.services import ROLE_PERMISSIONS
from ketaclinic.web import create_app, route_table

APP = create_app(warm=False)
ROUTES = [r for r in route_table(APP) if r.path not in ("/openapi.json",)]
PUBLIC_PATHS = {
    "/health",
    "/login",
    "/logout",
    "/api/v1/auth/token",
    "/static/vendor/plotly.min.js",
}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "nobody", path)


def _ids(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _cases() -> list[tuple[str, str, Any]]:
    return [(method, r.path, r) for r in ROUTES for method in sorted(r.methods - {"HEAD"})]


def test_every_route_declares_exactly_one_access_rule() -> None:
    undeclared = [r.path for r in route_table(APP) if len(r.access) != 1]
    assert not undeclared, f"routes without exactly one access declaration: {undeclared}"


def test_only_the_sign_in_health_and_static_routes_are_public() -> None:
    public = {r.path for r in route_table(APP) if r.access[0].kind == "public"}
    assert public == PUBLIC_PATHS


def test_every_unsafe_page_route_checks_the_csrf_token() -> None:
    unchecked = [
        r.path
        for r in ROUTES
        if r.methods - {"GET", "HEAD"} and not r.path.startswith("/api/") and not r.csrf
    ]
    assert not unchecked


@pytest.mark.parametrize(("method", "path", "route"), _cases(), ids=_ids)
def test_anonymous_users_are_sent_to_sign_in(clients, method, path, route) -> None:
    if route.access[0].kind == "public":
        pytest.skip("public route")
    answer = clients.anonymous().request(method, _concrete(path))
    if path.startswith("/api/"):
        assert answer.status_code == 401
        assert answer.json()["message"]
        assert answer.headers["www-authenticate"] == "Bearer"
    else:
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


def _forbidden_cases() -> list[tuple[str, str, str, Any]]:
    cases = []
    for method, path, route in _cases():
        access = route.access[0]
        if access.kind != "permission":
            continue
        for role, granted in ROLE_PERMISSIONS.items():
            if access.permission not in granted:
                cases.append((role, method, path, route))
    return cases


@pytest.mark.parametrize(("role", "method", "path", "route"), _forbidden_cases(), ids=_ids)
def test_a_role_without_the_permission_gets_403_and_no_data(
    clients, role, method, path, route
) -> None:
    api = path.startswith("/api/")
    client = clients.api(role) if api else clients.page(role)
    data = {} if api else {"csrf_token": "x"}
    answer = client.request(method, _concrete(path), **({"data": data} if not api else {}))
    assert answer.status_code == 403, answer.text
    body = answer.text
    for username in ROLE_PERSONAS.values():
        if username != ROLE_PERSONAS[role]:
            assert username not in body
    if api:
        assert set(answer.json()) == {"message"}


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (role, r.path)
        for r in ROUTES
        if "GET" in r.methods and r.access[0].kind == "permission" and "{" not in r.path
        for role, granted in ROLE_PERMISSIONS.items()
        if r.access[0].permission in granted
    ],
)
def test_a_role_with_the_permission_is_let_through(clients, role, path) -> None:
    client = clients.api(role) if path.startswith("/api/") else clients.page(role)
    assert client.get(path).status_code == 200


def test_the_schema_is_for_signed_in_users_only(clients) -> None:
    assert clients.anonymous().get("/openapi.json").status_code == 401
    schema = clients.api("nurse").get("/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/auth/token" in schema.json()["paths"]
    assert clients.page("nurse").get("/openapi.json").status_code == 200


def test_a_session_cookie_is_no_bearer_token_and_the_reverse(clients) -> None:
    page = clients.page("admin")
    cookie = page.cookies.get("kc_session")
    bearer = make_client(clients.db, clients.clock)
    with bearer:
        bearer.headers["Authorization"] = f"Bearer {cookie}"
        assert bearer.get("/api/v1/me").status_code == 401
    api = clients.api("admin")
    token = api.headers["Authorization"].split()[1]
    with make_client(clients.db, clients.clock) as other:
        other.cookies.set("kc_session", token)
        assert other.get("/").status_code == 303


def _unsafe_page_routes() -> list[tuple[str, str]]:
    out = []
    for method, path, route in _cases():
        if method == "GET" or path.startswith("/api/"):
            continue
        access = route.access[0]
        if access.kind == "permission":
            role = next(r for r, p in ROLE_PERMISSIONS.items() if access.permission in p)
        else:
            role = "nurse"
        out.append((role, path))
    return out


@pytest.mark.parametrize(("role", "path"), _unsafe_page_routes())
@pytest.mark.parametrize("token", ["", "forged", None])
def test_an_unsafe_page_request_without_the_csrf_token_is_refused(
    clients, role, path, token
) -> None:
    client = clients.page(role)
    data = {"username": "someone.new", "password": "x" * 20, "role": "nurse"}
    if token is not None:
        data["csrf_token"] = token
    answer = client.post(_concrete(path), data=data)
    assert answer.status_code == 403, (path, answer.status_code)
    assert "reload the page" in answer.text or "not a form" in answer.text
