"""Settings from the environment (``KETACLINIC_*``), read once at start-up.

Every setting works without configuration (an SQLite file in ``./data``). A bad value fails at
start-up with one line that names the variable, the value and what is accepted::

    KETACLINIC_SQLITE_BUSY_TIMEOUT_MS='soon' is not accepted: an integer number of
    milliseconds from 100 to 600000

========================================  =========================================================
Variable                                  Meaning (default)
========================================  =========================================================
``KETACLINIC_DATA_DIR``                   directory for the SQLite database, its writer lock and
                                          backups; created when missing (``./data``)
``KETACLINIC_DATABASE_URL``               ``sqlite:///PATH`` or ``postgresql://USER@HOST:PORT/DB``
                                          (``postgresql+psycopg://`` also accepted); default: the
                                          SQLite file ``ketaclinic.sqlite3`` in the data directory
``KETACLINIC_SQLITE_BUSY_TIMEOUT_MS``     how long an SQLite connection waits for a lock before
                                          it gives up, in ms (``10000``)
``KETACLINIC_PG_APP_ROLE``                the PostgreSQL role the application runs as; migrations
                                          grant it INSERT and SELECT but never UPDATE or DELETE on
                                          clinical and audit tables (``ketaclinic_app``)
``KETACLINIC_PG_POOL_SIZE``               connections per process kept open to PostgreSQL (``5``)
``KETACLINIC_UPGRADE_ON_START``           apply pending migrations when the application starts
                                          (``true``)
``KETACLINIC_SESSION_IDLE_TIMEOUT_MIN``   a signed-in session ends after this many minutes
                                          without a request (``15``)
``KETACLINIC_SESSION_MAX_AGE_H``          a signed-in session ends this many hours after
                                          sign-in, however active (``12``)
``KETACLINIC_COOKIE_SECURE``              send the session cookie over HTTPS only; set it
                                          when the application is served behind TLS (``false``)
``KETACLINIC_CLINIC_TIMEZONE``            the IANA time zone the pages show and read times in;
                                          stored times stay UTC (``Europe/London``)
========================================  =========================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ketaclinic.errors import ConfigurationError

__all__ = ["ENV_PREFIX", "SQLITE_FILE_NAME", "Settings", "load_settings"]

ENV_PREFIX = "KETACLINIC_"
SQLITE_FILE_NAME = "ketaclinic.sqlite3"

_URL_ACCEPTED = (
    "sqlite:///PATH (a file, not :memory:) or postgresql://USER@HOST:PORT/DATABASE (driver psycopg)"
)


class Settings(BaseSettings):
    """The application's settings; immutable once loaded. See the module docstring."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="directory for the SQLite database, its writer lock and backups",
        json_schema_extra={"accepted": "a directory path that can be created and written"},
    )
    database_url: str | None = Field(
        default=None,
        description="database URL; default: SQLite file in the data directory",
        json_schema_extra={"accepted": _URL_ACCEPTED},
    )
    sqlite_busy_timeout_ms: int = Field(
        default=10_000,
        ge=100,
        le=600_000,
        description="how long an SQLite connection waits for a lock, in ms",
        json_schema_extra={"accepted": "an integer number of milliseconds from 100 to 600000"},
    )
    pg_app_role: str = Field(
        default="ketaclinic_app",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL role the application runs as",
        json_schema_extra={
            "accepted": "a lower-case SQL identifier: a-z, 0-9 and _, at most 63 characters"
        },
    )
    pg_pool_size: int = Field(
        default=5,
        ge=1,
        le=100,
        description="PostgreSQL connections kept open per process",
        json_schema_extra={"accepted": "an integer from 1 to 100"},
    )
    upgrade_on_start: bool = Field(
        default=True,
        description="apply pending migrations when the application starts",
        json_schema_extra={"accepted": "true or false (also 1/0, yes/no, on/off)"},
    )

    session_idle_timeout_min: int = Field(
        default=15,
        ge=1,
        le=60,
        description="minutes without a request after which a session ends",
        json_schema_extra={"accepted": "an integer number of minutes from 1 to 60"},
    )
    session_max_age_h: int = Field(
        default=12,
        ge=1,
        le=24,
        description="hours after sign-in at which a session ends however active",
        json_schema_extra={"accepted": "an integer number of hours from 1 to 24"},
    )
    cookie_secure: bool = Field(
        default=False,
        description="send the session cookie over HTTPS only",
        json_schema_extra={"accepted": "true or false (also 1/0, yes/no, on/off)"},
    )

    clinic_timezone: str = Field(
        default="Europe/London",
        description="the time zone (IANA name) the pages show and read times in",
        json_schema_extra={
            "accepted": "an IANA time zone name from the system's tz database, e.g. "
            "Europe/London, America/New_York, Australia/Sydney or UTC"
        },
    )

    @field_validator("clinic_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        name = value.strip()
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError("not a time zone name")
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a time zone name") from None
        return name

    @property
    def clinic_zone(self) -> ZoneInfo:
        """The clinic's time zone (``clinic_timezone``)."""
        return ZoneInfo(self.clinic_timezone)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = _parse_url(value.strip())
        return url.render_as_string(hide_password=False)

    @property
    def sqlalchemy_url(self) -> URL:
        """The database URL SQLAlchemy connects to (the SQLite default filled in)."""
        if self.database_url is None:
            return URL.create("sqlite+pysqlite", database=str(self.data_dir / SQLITE_FILE_NAME))
        return make_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.get_backend_name() == "sqlite"


def _parse_url(text: str) -> URL:
    try:
        url = make_url(text)
    except ArgumentError:
        raise ValueError("not a database URL") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            raise ValueError("an SQLite URL needs a file path")
        return url.set(drivername="sqlite+pysqlite")
    if backend == "postgresql":
        if url.drivername not in ("postgresql", "postgresql+psycopg"):
            raise ValueError("the PostgreSQL driver must be psycopg")
        if not url.database:
            raise ValueError("a PostgreSQL URL needs a database name")
        return url.set(drivername="postgresql+psycopg")
    raise ValueError(f"database {backend!r} is not supported")


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment; keyword arguments override variables.

    Creates the data directory when it is missing. Raises :class:`ConfigurationError` with
    one line naming the variable, its value and what is accepted.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise _configuration_error(exc) from None
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"{ENV_PREFIX}DATA_DIR={str(settings.data_dir)!r} is not accepted: cannot create "
            f"it ({exc.strerror}); accepted: a directory path that can be created and written"
        ) from None
    return settings


def _configuration_error(exc: ValidationError) -> ConfigurationError:
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "?"
    field = Settings.model_fields.get(name)
    extra = field.json_schema_extra if field is not None else None
    accepted = extra.get("accepted") if isinstance(extra, dict) else None
    value = error.get("input")
    return ConfigurationError(
        f"{ENV_PREFIX}{name.upper()}={str(value)!r} is not accepted: {accepted or error['msg']}"
    )
