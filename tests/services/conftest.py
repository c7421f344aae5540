"""Real databases on SQLite and PostgreSQL, a frozen clock and personas (services.testing)."""

from ketaclinic.services.testing import (  # noqa: F401 - fixtures
    _postgres_templates_cleanup,
    backend,
    clock,
    db,
    empty_db,
    postgres_db,
    sqlite_db,
)
