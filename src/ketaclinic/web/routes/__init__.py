"""One router per area; the app includes every router of ``ROUTERS`` in order.

Pages: ``_auth_pages`` (sign-in/out), ``_home``, ``_admin_pages``. API (``/api/v1``):
``_api_auth``, ``_api_admin``. ``_health`` is public. A new area adds its module here.
"""

from __future__ import annotations

from fastapi import APIRouter

from ketaclinic.web.routes import (
    _admin_pages,
    _api_admin,
    _api_auth,
    _auth_pages,
    _health,
    _home,
)

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [
    _health.router,
    _auth_pages.router,
    _home.router,
    _admin_pages.router,
    _api_auth.router,
    _api_admin.router,
]
