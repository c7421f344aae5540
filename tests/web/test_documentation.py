"""docs/web.md documents every route of the application and every permission."""

from __future__ import annotations

from pathlib import Path

from ketaclinic.services import ROLE_PERMISSIONS, Permission
from ketaclinic.web import create_app, route_table

DOC = (Path(__file__).resolve().parents[2] / "docs" / "web.md").read_text()


def test_every_route_is_documented() -> None:
    missing = [
        f"{method} {route.path}"
        for route in route_table(create_app(warm=False))
        for method in sorted(route.methods - {"HEAD"})
        if f"`{method} {route.path}`" not in DOC
    ]
    assert not missing, f"routes missing from docs/web.md: {missing}"


def test_every_permission_and_role_is_documented() -> None:
    assert all(f"`{p.value}`" in DOC for p in Permission)
    assert all(f"| {role} |" in DOC for role in ROLE_PERMISSIONS)
