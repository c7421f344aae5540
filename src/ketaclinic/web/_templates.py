"""Jinja2 templates (autoescaped): ``render(request, name, context, status)`` fills in the
signed-in user, the navigation their role may see and the CSRF token for forms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ketaclinic import __version__
from ketaclinic.services import Permission, SignedIn
from ketaclinic.web._clinic_time import clinic_span, clinic_time, clinic_zone, zone_name
from ketaclinic.web._security import CSRF_FIELD, csrf_token_from_cookies

__all__ = ["NAVIGATION", "TEMPLATES", "money", "render"]

#: ISO 4217 minor-unit exponents that are not 2 (the rest of the world uses cents).
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}


def money(minor: int, currency: str) -> str:
    """An amount in minor units as text: ``money(123450, "EUR")`` -> ``"1,234.50 EUR"``."""
    exponent = _EXPONENTS.get(currency, 2)
    return f"{minor / 10**exponent:,.{exponent}f} {currency}"


TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
TEMPLATES.env.autoescape = True  # every .html, and strings rendered from any name alike
# the packaged templates do not change while the app runs: no stat() of each file per render
TEMPLATES.env.auto_reload = False
TEMPLATES.env.globals["Permission"] = Permission  # templates ask user.can(Permission.X)
TEMPLATES.env.filters["money"] = money
TEMPLATES.env.filters["clinic_time"] = clinic_time
TEMPLATES.env.filters["clinic_span"] = clinic_span

#: (label, path, permission needed or None for any signed-in user), in menu order. Pages add
#: their entries here.
NAVIGATION: list[tuple[str, str, Permission | None]] = [
    ("Home", "/", None),
    ("Dashboard", "/dashboard", Permission.PATIENT_READ),
    ("Patients", "/patients", Permission.PATIENT_READ),
    ("New patient", "/patients/new", Permission.PATIENT_WRITE),
    ("Schedule", "/schedule", Permission.SCHEDULE_READ),
    ("Users", "/admin/users", Permission.USERS_MANAGE),
    ("Audit trail", "/admin/audit", Permission.AUDIT_READ),
    ("Audit check", "/admin/audit/verify", Permission.AUDIT_READ),
    ("Prices", "/admin/prices", Permission.PRICES_SET),
]


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    *,
    csrf_token: str | None = None,
) -> HTMLResponse:
    """Render template ``name`` with the page's common context."""
    user: SignedIn | None = getattr(request.state, "user", None)
    nav = [
        (label, path, path == request.url.path)
        for label, path, needed in NAVIGATION
        if user is not None and (needed is None or user.can(needed))
    ]
    zone = clinic_zone(request)
    values = {
        "clinic_zone": zone,
        "clinic_zone_name": zone_name(zone),
        "user": user,
        "nav": nav,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token or csrf_token_from_cookies(dict(request.cookies)) or "",
        "version": __version__,
        **(context or {}),
    }
    return TEMPLATES.TemplateResponse(request, name, values, status_code=status_code)
