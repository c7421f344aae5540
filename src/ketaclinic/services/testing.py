"""Test support: real databases (SQLite and PostgreSQL), a frozen clock, staff personas and
a filler that puts rows in every table. Imported by the test suites' ``conftest.py`` files
(store, services, integration, and later the web app's), never by the application.

PostgreSQL comes from ``KETACLINIC_TEST_DATABASE_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/ketaclinic_test``): each test gets a database
of its own, copied from a template migrated once per test process. When the server cannot be
reached the PostgreSQL half of the suite is skipped with the reason, unless
``KETACLINIC_REQUIRE_POSTGRES=1`` (set by ``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, MetaData, insert, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.types import Boolean, Date, DateTime, Float, Integer, String

from ketaclinic.config import Settings, load_settings
from ketaclinic.services._audit import Actor
from ketaclinic.store import (
    METADATA,
    Database,
    JSONText,
    StaffUser,
    open_database,
    upgrade,
)

__all__ = [
    "DEFAULT_TEST_URL",
    "FROZEN_AT",
    "PERSONAS",
    "FrozenClock",
    "add_patient_with_course",
    "add_personas",
    "backend",
    "clock",
    "db",
    "discard_database",
    "empty_db",
    "fill_tables",
    "make_database",
    "postgres_db",
    "postgres_url",
    "require_postgres",
    "sqlite_db",
]

DEFAULT_TEST_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ketaclinic_test"
FROZEN_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

#: username -> (display name, role). ``outsider`` is disabled: it has no access at all.
PERSONAS: dict[str, tuple[str, str]] = {
    "dr.adams": ("Dr Ada Adams", "physician"),
    "nurse.brown": ("Ben Brown RN", "nurse"),
    "nurse.clark": ("Cleo Clark RN (second checker)", "nurse"),
    "admin.davis": ("Dee Davis", "admin"),
    "res.evans": ("Eve Evans", "researcher"),
    "outsider": ("Former employee", "nurse"),
}


class FrozenClock:
    """A clock that stands still until told to move (``advance``)."""

    def __init__(self, at: datetime = FROZEN_AT) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


def add_personas(db: Database, clock: FrozenClock) -> dict[str, Actor]:
    """Create the staff personas; returns an ``Actor`` for each (web address 127.0.0.1)."""
    actors: dict[str, Actor] = {}
    with db.transaction() as session:
        for username, (name, role) in PERSONAS.items():
            user = StaffUser(
                username=username,
                display_name=name,
                role=role,
                created_at=clock(),
                disabled_at=clock() if username == "outsider" else None,
            )
            session.add(user)
            session.flush()
            actors[username] = Actor(username, "127.0.0.1", user.id)
    return actors


# -- databases -------------------------------------------------------------------------------
def postgres_url() -> URL:
    return make_url(os.environ.get("KETACLINIC_TEST_DATABASE_URL", DEFAULT_TEST_URL))


_counter = itertools.count()


def _worker() -> str:
    """``<xdist worker>_<pid>``: unique per test process, and tells whether it still runs."""
    worker = re.sub(r"\W", "", os.environ.get("PYTEST_XDIST_WORKER", "main"))
    return f"{worker}_{os.getpid()}"


def _postgres_admin() -> Any:
    import psycopg

    url = postgres_url()
    return psycopg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname=url.database or "postgres",
        autocommit=True,
        connect_timeout=3,
    )


_REACHABLE: dict[str, str | None] = {}


def _postgres_unreachable() -> str | None:
    key = postgres_url().render_as_string()
    if key not in _REACHABLE:
        _REACHABLE[key] = _probe_postgres()
    return _REACHABLE[key]


def _probe_postgres() -> str | None:
    try:
        with _postgres_admin() as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL at {postgres_url().render_as_string()} unreachable: {exc}".strip()
    return None


def make_database(
    tmp_path: Path, backend_name: str, *, migrated: bool = True, **settings: Any
) -> tuple[Database, Settings]:
    """A fresh database of its own for one test (``migrated``: at head, else empty)."""
    data_dir = tmp_path / f"data{next(_counter)}"
    if backend_name == "sqlite":
        conf = load_settings(data_dir=data_dir, database_url=None, **settings)
        if migrated:
            shutil.copyfile(_sqlite_template(), data_dir / "ketaclinic.sqlite3")
        return open_database(conf), conf
    name = f"kc_test_{_worker()}_{next(_counter)}"
    with _postgres_admin() as conn:
        template = f" TEMPLATE {_postgres_template()}" if migrated else ""
        conn.execute(f"CREATE DATABASE {name}{template}")
    url = postgres_url().set(database=name).render_as_string(hide_password=False)
    conf = load_settings(data_dir=data_dir, database_url=url, **settings)
    return open_database(conf), conf


_TEMPLATES: dict[str, str] = {}


def _sqlite_template() -> str:
    if "sqlite" not in _TEMPLATES:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="ketaclinic-template-"))
        with open_database(load_settings(data_dir=folder)) as db:
            upgrade(db)
        _TEMPLATES["sqlite"] = str(folder / "ketaclinic.sqlite3")
    return _TEMPLATES["sqlite"]


def _sweep_stale_databases(conn: Any) -> None:
    """Drop test databases left by test processes that died (their pid is in the name)."""
    rows = conn.execute(
        "SELECT datname FROM pg_database WHERE datname ~ '^kc_(test|template)_'"
    ).fetchall()
    for (name,) in rows:
        pid = re.match(r"kc_(?:test|template)_\w+?_(\d+)", name)
        if pid and not Path(f"/proc/{pid.group(1)}").exists():
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _postgres_template() -> str:
    if "postgresql" not in _TEMPLATES:
        name = f"kc_template_{_worker()}"
        with _postgres_admin() as conn:
            _sweep_stale_databases(conn)
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        url = postgres_url().set(database=name).render_as_string(hide_password=False)
        with open_database(load_settings(database_url=url)) as db:
            upgrade(db)
        _TEMPLATES["postgresql"] = name
    return _TEMPLATES["postgresql"]


def _drop_postgres(db: Database) -> None:
    name = db.url.database
    db.close()
    with _postgres_admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session", autouse=False)
def _postgres_templates_cleanup() -> Iterator[None]:
    yield
    name = _TEMPLATES.pop("postgresql", None)
    if name:
        with _postgres_admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def discard_database(db: Database) -> None:
    """Close a database made by ``make_database`` (and drop it on PostgreSQL)."""
    if db.dialect == "postgresql":
        _drop_postgres(db)
    else:
        db.close()


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL is unreachable (fail under CI's requirement)."""
    _skip_or_fail_without_postgres()


def _skip_or_fail_without_postgres() -> None:
    reason = _postgres_unreachable()
    if reason is None:
        return
    if os.environ.get("KETACLINIC_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (KETACLINIC_REQUIRE_POSTGRES=1)")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each test that uses it runs on SQLite and on PostgreSQL."""
    name = str(request.param)
    if name == "postgresql":
        _skip_or_fail_without_postgres()
        request.getfixturevalue("_postgres_templates_cleanup")
    return name


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


def _database_fixture(tmp_path: Path, name: str, migrated: bool) -> Iterator[Database]:
    db, _ = make_database(tmp_path, name, migrated=migrated)
    try:
        yield db
    finally:
        discard_database(db)


@pytest.fixture
def db(backend: str, tmp_path: Path) -> Iterator[Database]:
    """An empty database at the newest schema, on each backend."""
    yield from _database_fixture(tmp_path, backend, True)


@pytest.fixture
def empty_db(backend: str, tmp_path: Path) -> Iterator[Database]:
    """A database with no schema at all, on each backend."""
    yield from _database_fixture(tmp_path, backend, False)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    yield from _database_fixture(tmp_path, "sqlite", True)


@pytest.fixture
def postgres_db(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Database]:
    _skip_or_fail_without_postgres()
    request.getfixturevalue("_postgres_templates_cleanup")
    yield from _database_fixture(tmp_path, "postgresql", True)


# -- filling every table ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Value:
    index: int
    full: bool


def _vocabularies(conn: Connection, table: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for check in inspect(conn).get_check_constraints(table):
        sql = check["sqltext"]
        if " IN (" not in sql and "= ANY" not in sql:  # SQLite keeps IN, PostgreSQL says ANY
            continue
        column = re.match(r"\W*(\w+)", sql)
        if column:
            found[column.group(1)] = re.findall(r"'([^']*)'", sql)
    return found


def _value(
    table: str, column: Any, n: int, full: bool, vocab: dict[str, list[str]], json_columns: set[str]
) -> Any:
    name, kind = column.name, column.type
    if name in vocab:
        return vocab[name][n % len(vocab[name])]
    if name == "amendment_reason":
        return f"correction {n}" if full else None
    if name == "currency":
        return "EUR"
    if name in json_columns:
        return f'{{"n":{n},"table":"{table}","values":[1.5,"x",null]}}'
    if isinstance(kind, Boolean):
        return False if name == "entered_in_error" else bool(n % 2)
    if isinstance(kind, DateTime):
        offset = list(column.table.columns).index(column)
        return FROZEN_AT + timedelta(days=n, minutes=offset, microseconds=123)
    if isinstance(kind, Date):
        return date(2026, 1, 1) + timedelta(days=n)
    if isinstance(kind, Float):
        return 70.25 + n
    if isinstance(kind, Integer):
        return 2 + n
    text = f"{n} {table}.{name} – ü"
    if isinstance(kind, String) and kind.length is not None:
        return text[: kind.length]
    return text


_REFLECTED: dict[tuple[str, str | None], tuple[MetaData, dict[str, dict[str, list[str]]]]] = {}


def _reflected(conn: Connection) -> tuple[MetaData, dict[str, dict[str, list[str]]]]:
    """The schema as reflected, cached per dialect and revision (reflection is slow)."""
    names = set(inspect(conn).get_table_names())
    revision = (
        conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        if "alembic_version" in names
        else None
    )
    key = (conn.dialect.name, revision)
    if key not in _REFLECTED:
        meta = MetaData()
        meta.reflect(conn)
        _REFLECTED[key] = (meta, {t: _vocabularies(conn, t) for t in meta.tables})
    return _REFLECTED[key]


def fill_tables(conn: Connection, rows_per_table: int = 2) -> dict[str, int]:
    """Insert rows into every table of the database's current schema (reflected), with
    values of each column's type, vocabularies read from its CHECK constraints, foreign keys
    pointing at rows already inserted, and each second row filling every optional column
    (an amendment of the first). Works at any revision; returns the rows added per table."""
    meta, vocabularies = _reflected(conn)
    added: dict[str, int] = {}
    for table in meta.sorted_tables:
        if table.name == "alembic_version":
            continue
        if conn.execute(select(table).limit(1)).first() is not None:
            continue  # already seeded by its migration (the audit chain head)
        vocab = vocabularies[table.name]
        model = METADATA.tables.get(table.name)
        json_columns = (
            {c.name for c in model.columns if isinstance(c.type, JSONText)}
            if model is not None
            else set()
        )
        ids: list[int] = []
        for n in range(rows_per_table):
            full = n % 2 == 1
            row: dict[str, Any] = {}
            for column in table.columns:
                if column.primary_key and column.name == "id":
                    continue
                fks = list(column.foreign_keys)
                if fks:
                    target = fks[0].column.table
                    if target.name == table.name:
                        row[column.name] = ids[-1] if (full and ids) else None
                    else:
                        row[column.name] = conn.execute(
                            select(fks[0].column).order_by(fks[0].column).limit(1)
                        ).scalar_one()
                    continue
                if column.nullable and not full and column.name != "entered_in_error":
                    row[column.name] = None
                    continue
                row[column.name] = _value(table.name, column, n, full, vocab, json_columns)
            if table.name == "audit_events":
                row["seq"] = 1000 + n
            result = conn.execute(insert(table).values(**row))
            if result.inserted_primary_key:
                ids.append(int(result.inserted_primary_key[0]))
        added[table.name] = rows_per_table
    return added


# -- a small realistic chart -----------------------------------------------------------------
def add_patient_with_course(
    session: Any,
    *,
    recorded_by_id: int,
    now: datetime,
    mrn: str,
    indication: str = "depression",
    sessions: int = 3,
    status: str = "active",
) -> int:
    """One patient with demographics, a weight, a diagnosis, a course with a status, a
    signed order and ``sessions`` sessions (doses, vitals, scores, discharge, a charge).
    Returns the patient id. For tests; the demo-data generator is the realistic one."""
    from ketaclinic.store import (
        Charge,
        CourseStatusEvent,
        Demographics,
        Diagnosis,
        Discharge,
        DoseGiven,
        Order,
        OrderSignature,
        Patient,
        SessionScore,
        TreatmentCourse,
        TreatmentSession,
        VitalSigns,
        WeightMeasurement,
    )

    who = {"recorded_at": now, "recorded_by_id": recorded_by_id}
    patient = Patient(mrn=mrn, created_at=now, created_by_id=recorded_by_id)
    session.add(patient)
    session.flush()
    pid = {"patient_id": patient.id, **who}
    session.add_all(
        [
            Demographics(
                given_name="Test",
                family_name=f"Patient {mrn}",
                birth_date=date(1980, 5, 17),
                sex_at_birth="female",
                **pid,
            ),
            WeightMeasurement(measured_on=now.date(), weight_kg=72.5, height_cm=168.0, **pid),
            Diagnosis(icd10cm_code="F33.2", free_text="recurrent major depression, severe", **pid),
        ]
    )
    course = TreatmentCourse(
        indication=indication,
        protocol_id=f"{indication}-iv",
        protocol_version="1",
        trial_criteria={"instrument": "phq9"},
        **pid,
    )
    session.add(course)
    session.flush()
    session.add(
        CourseStatusEvent(
            course_id=course.id, status=status, reason="started", effective_at=now, **pid
        )
    )
    dose = {
        "route": "iv",
        "value": 0.5,
        "unit": "mg/kg",
        "duration_min": 40.0,
        "text": "iv 0.5 mg/kg over 40 min",
    }
    order = Order(
        course_id=course.id,
        doses=[dose],
        findings=[],
        plan={"doses": [dose]},
        drug_library_version="2026.1",
        weight_kg=72.5,
        **pid,
    )
    session.add(order)
    session.flush()
    session.add(
        OrderSignature(order_id=order.id, signed_by_id=recorded_by_id, signed_at=now, **pid)
    )
    for k in range(sessions):
        start = now + timedelta(days=3 * k)
        visit = TreatmentSession(
            course_id=course.id,
            order_id=order.id,
            scheduled_start_at=start,
            actual_start_at=start,
            actual_end_at=start + timedelta(minutes=120),
            route="iv",
            lot_number=f"LOT{k}",
            multi_day=False,
            **pid,
        )
        session.add(visit)
        session.flush()
        sid = {"session_id": visit.id, **pid}
        session.add_all(
            [
                DoseGiven(
                    given_at=start,
                    kind="infusion_start",
                    dose=dose,
                    amount_mg=36.25,
                    rate_mg_per_h=54.4,
                    **sid,
                ),
                VitalSigns(
                    measured_at=start + timedelta(minutes=40),
                    systolic_mmhg=138,
                    diastolic_mmhg=84,
                    heart_rate_per_min=76,
                    respiratory_rate_per_min=14,
                    spo2_percent=98.0,
                    **sid,
                ),
                SessionScore(
                    measured_at=start + timedelta(minutes=40),
                    instrument_id="moaas",
                    instrument_version="1",
                    score=5,
                    **sid,
                ),
                Discharge(
                    decided_at=start + timedelta(minutes=120),
                    decision="discharged",
                    observation_min=80.0,
                    reason=None,
                    **sid,
                ),
                Charge(
                    category="drug",
                    description="ketamine 50 mg/mL",
                    quantity=1.0,
                    quantity_unit="vial",
                    unit_price_minor=1250,
                    amount_minor=1250,
                    currency="EUR",
                    **sid,
                ),
            ]
        )
    session.flush()
    return int(patient.id)
