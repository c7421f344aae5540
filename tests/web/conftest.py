"""Web tests: a real database (SQLite, and PostgreSQL where marked), the app in-process
through httpx, personas signed in per role, and (tests/web/e2e) a live server for Chromium."""

from web_helpers import (  # noqa: F401 - fixtures
    app_db,
    client,
    clients,
    frozen,
    live_server,
    staff,
)

from ketaclinic.services.testing import (  # noqa: F401 - fixtures
    _postgres_templates_cleanup,
    backend,
    clock,
    db,
    sqlite_db,
)
