"""The application factory: settings, database, routers, static files, headers, errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from ketaclinic import __version__
from ketaclinic.config import Settings, load_settings
from ketaclinic.outcomes import instruments, mme_tables
from ketaclinic.protocols import protocols
from ketaclinic.services import Clock, open_clinic_database, utc_now
from ketaclinic.web._deps import page_or_api_user, public
from ketaclinic.web._errors import install_error_handlers
from ketaclinic.web._security import SecurityHeaders
from ketaclinic.web.routes import ROUTERS

__all__ = ["PLOTLY_JS", "create_app", "create_app_from_environment"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Plotly's JavaScript as the installed ``plotly`` package ships it (nothing from a CDN).
PLOTLY_JS = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))

_log = logging.getLogger("ketaclinic.web")

#: Threads for sync routes per worker (anyio's default is 40); see the lifespan.
THREADS = 8


def create_app(
    settings: Settings | None = None,
    *,
    db: Any = None,
    clock: Clock = utc_now,
    warm: bool = True,
) -> FastAPI:
    """Build the application.

    ``db``: an open database (tests pass theirs; it is then left open on shutdown); by
    default the one the settings name is opened at start-up, migrations applied when
    ``KETACLINIC_UPGRADE_ON_START``. ``warm``: compile or load the pharmacology kernels at
    start-up, so that no request pays for it.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = db is None
        app.state.db = db if db is not None else open_clinic_database(settings)
        if warm:
            from ketaclinic.compute import keep_freed_memory
            from ketaclinic.pharmacology import warm_up

            _log.info("warmed up: %s", ", ".join(warm_up()))
            # population runs reuse the memory earlier runs freed instead of faulting in
            # fresh pages (a fifth of a plan's CPU in a VM); the worker process is ours
            _log.info("allocator keeps freed memory: %s", keep_freed_memory())
            # the packaged protocols, instruments and MME tables, parsed and validated once
            # here rather than by the first request that needs each
            protocols(), instruments(), mme_tables()
        # Sync routes run in anyio's thread pool. They are CPU-bound Python under one GIL:
        # more threads than this interleave every request (each finishes late) instead of
        # finishing them in turn, and starve the thread that commits the audit events.
        to_thread.current_default_thread_limiter().total_tokens = THREADS
        try:
            yield
        finally:
            if owned:
                app.state.db.close()

    app = FastAPI(
        title="ketaclinic",
        version=__version__,
        description="Clinic records, planning and dose safety for ketamine therapy. "
        "Bearer tokens from POST /api/v1/auth/token.",
        lifespan=lifespan,
        docs_url=None,  # the interactive docs load their scripts from a CDN
        redoc_url=None,
        openapi_url=None,  # served below, to signed-in users only
    )
    app.state.db = db
    app.state.clock = clock
    app.state.settings = settings if settings is not None else getattr(db, "settings", None)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(page_or_api_user)])
    def openapi_schema() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get(
        "/static/vendor/plotly.min.js", include_in_schema=False, dependencies=[Depends(public)]
    )
    def plotly_js(request: Request) -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SecurityHeaders)
    return app


def create_app_from_environment() -> FastAPI:
    """The factory uvicorn calls in each worker (``ketaclinic run``)."""
    return create_app(load_settings())
