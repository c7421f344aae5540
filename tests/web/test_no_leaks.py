"""Ids never leak: on every route with a path parameter, a role without the permission gets
the same 403 body whatever the id (1,000 generated, existing ones among them, spread over
the routes and roles), so an answer tells nothing about which records exist or hold."""

from __future__ import annotations

import re

from web_helpers import ROLE_PERSONAS

from ketaclinic.services import ROLE_PERMISSIONS
from ketaclinic.web import create_app, route_table

IDS = 1_000


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for route in route_table(create_app(warm=False)):
        access = route.access[0]
        if "{" not in route.path or access.kind != "permission":
            continue
        for method in sorted(route.methods - {"HEAD"}):
            for role, granted in ROLE_PERMISSIONS.items():
                if access.permission not in granted:
                    cases.append((role, method, route.path))
    return cases


def _ids(n: int) -> list[str]:
    """Existing usernames and small numbers first, then generated names, numbers and
    hostile text."""
    known = [*ROLE_PERSONAS.values(), "outsider", "nurse.clark", "1", "2", "3"]
    generated = [str(k) for k in range(4, 400)]
    generated += [f"user.{k:03d}" for k in range(400)]
    generated += [f"x{k}%2F..%2F{k}" for k in range(100)]
    generated += [f"{k}' OR '1'='1" for k in range(100)]
    return (known + generated)[:n]


def test_the_generator_makes_a_thousand_distinct_ids() -> None:
    assert len(set(_ids(IDS))) == IDS


def test_every_route_with_an_id_is_covered() -> None:
    assert {path for _, _, path in _cases()} >= {
        "/admin/users/{username}/disable",
        "/api/v1/admin/users/{username}/disable",
    }


def test_a_forbidden_role_learns_nothing_from_any_id(clients) -> None:
    cases = _cases()
    bodies: dict[tuple[str, str, str], set[str]] = {case: set() for case in cases}
    for k, value in enumerate(_ids(IDS)):
        role, method, path = case = cases[k % len(cases)]
        api = path.startswith("/api/")
        client = clients.api(role) if api else clients.page(role)
        concrete = re.sub(r"\{[^}]+\}", value, path)
        answer = client.request(method, concrete, **({} if api else {"data": {}}))
        if answer.status_code == 404:  # not routable (a / in the id): nothing answered
            continue
        assert answer.status_code == 403, (concrete, answer.status_code)
        bodies[case].add(answer.text)
    for case, seen in bodies.items():
        assert len(seen) == 1, f"the refusal differs between ids on {case}"
        body = next(iter(seen))
        for username in ROLE_PERSONAS.values():
            if username != ROLE_PERSONAS[case[0]]:
                assert username not in body
