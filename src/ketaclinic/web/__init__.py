"""The web application: server-rendered pages for the clinic team and the JSON API
``/api/v1`` (FastAPI + Jinja2). Pages and API parse, call :mod:`ketaclinic.services`, render;
they never touch the store.

``create_app(settings, db=..., clock=..., warm=...)`` builds the application;
``create_app_from_environment()`` is the factory ``ketaclinic run`` hands to uvicorn (each
worker process builds its own app from the ``KETACLINIC_*`` settings). How to add a page or an
API route: docs/web.md.
"""

from __future__ import annotations

from ketaclinic.web._app import create_app, create_app_from_environment
from ketaclinic.web._deps import (
    Access,
    ApiUser,
    PageUser,
    access_of,
    api_permission,
    client_address,
    csrf_protect,
    page_permission,
    route_table,
)
from ketaclinic.web._templates import render

__all__ = [
    "Access",
    "ApiUser",
    "PageUser",
    "access_of",
    "api_permission",
    "client_address",
    "create_app",
    "create_app_from_environment",
    "csrf_protect",
    "page_permission",
    "render",
    "route_table",
]
