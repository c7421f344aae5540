"""One router per area; the app includes every router of ``ROUTERS`` in order.

Pages: ``_auth_pages`` (sign-in/out), ``_home``, ``_admin_pages``, ``_admin_prices``. API
(``/api/v1``): ``_api_auth``, ``_api_admin``. Clinical pages: ``_pages_patients``,
``_pages_courses``, ``_pages_sessions``, ``_pages_outcomes``, ``_pages_schedule`` (dashboard
too), with their API twins ``_api_patients``, ``_api_courses``, ``_api_sessions``,
``_api_outcomes``.
``_health`` is public. A new area adds its module here.
"""

from __future__ import annotations

from fastapi import APIRouter

from ketaclinic.web.routes import (
    _admin_pages,
    _admin_prices,
    _api_admin,
    _api_auth,
    _api_courses,
    _api_outcomes,
    _api_patients,
    _api_sessions,
    _auth_pages,
    _health,
    _home,
    _pages_courses,
    _pages_outcomes,
    _pages_patients,
    _pages_schedule,
    _pages_sessions,
)

__all__ = ["ROUTERS"]

ROUTERS: list[APIRouter] = [
    _health.router,
    _auth_pages.router,
    _home.router,
    _admin_pages.router,
    _admin_prices.router,
    _api_auth.router,
    _api_admin.router,
    _pages_patients.router,
    _pages_courses.router,
    _pages_sessions.router,
    _pages_outcomes.router,
    _pages_schedule.router,
    _api_patients.router,
    _api_courses.router,
    _api_sessions.router,
    _api_outcomes.router,
]
