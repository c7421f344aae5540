"""The demo clinic at benchmark scale (10,000 patients, about 100,000 sessions), on SQLite and
PostgreSQL: how fast ``ketaclinic demo-data`` fills it, and the reads a clinic does all day.

Measured per database, against baselines measured in the same run on the same database (a
``SELECT 1`` round trip and a primary-key fetch through the same engine):
- demo-data generation: patients, sessions and records per second (every patient audited, a
  batch per transaction), and the share of it spent making the rows in Python;
- one patient's full chart: ``patient_chart`` (the chart page's one audited use case:
  record, history, courses, exposure, cost) and ``load_chart`` (the store's read of every
  record and version, from a read-only snapshot), median and p95 over random patients; and
  the five finer use cases the page called before, on the same patients;
- a cohort summary by indication (``cohort_summary``): median and slowest over indications;
- the day's dashboard, whole (``dashboard_alerts``) and its first page (``dashboard_page``),
  and a week's chair calendar (``chair_calendar``);
- one session read back through the services (``session_record``).
Targets (issue 11): chart median < 20 ms, cohort summary < 500 ms. Absolute times are
context only: the machine is shared, so the load average is printed with the figures.

Building 10,000 patients takes minutes, so each database is built once per size, seed,
schema and generator source and kept (SQLite: a file under ``KETACLINIC_BENCH_CACHE``,
default the temp dir; PostgreSQL: a database ``kcb_...``); every run measures a fresh copy of
it (a copied file, ``CREATE DATABASE ... TEMPLATE``) and prints the generation figures of the
build, saying when and at what load it was made. ``KETACLINIC_BENCH_FRESH=1`` rebuilds.
``KETACLINIC_BENCH_CLINIC_PATIENTS`` (default 10000) sets the size;
``KETACLINIC_BENCH_DATABASES=sqlite`` runs one database.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

import ketaclinic.services as services_package
import ketaclinic.store as store_package
from ketaclinic.config import load_settings
from ketaclinic.services import (
    Actor,
    chair_calendar,
    cumulative_exposure,
    dashboard_alerts,
    dashboard_page,
    generate_demo_data,
    get_patient_record,
    list_courses,
    patient_chart,
    patient_cost_to_date,
    patient_history,
    session_record,
)
from ketaclinic.services._demo_clinic import DemoClinic, StaffIds, batches
from ketaclinic.services.testing import FrozenClock, postgres_url
from ketaclinic.store import (
    Database,
    Patient,
    TreatmentSession,
    cohort_summary,
    head_revision,
    load_chart,
    open_database,
    upgrade,
)

PATIENTS = int(os.environ.get("KETACLINIC_BENCH_CLINIC_PATIENTS", "10000"))
SEED = 1
AS_OF = date(2026, 3, 2)
NOW = datetime.combine(AS_OF, clock_time(18), tzinfo=UTC)
INDICATIONS = ("depression", "crps", "chronic_pain", "acute_pain", "cancer_pain")
CACHE = Path(os.environ.get("KETACLINIC_BENCH_CACHE", Path(tempfile.gettempdir()) / "kc-bench"))
FRESH = os.environ.get("KETACLINIC_BENCH_FRESH") == "1"
NURSE = Actor("demo.rn.diaz", "127.0.0.1")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


def _fingerprint() -> str:
    """What the built clinic depends on: the schema and the generator's source."""
    sha = hashlib.sha256(f"{head_revision()} {PATIENTS} {SEED} {AS_OF}".encode())
    services = Path(services_package.__file__).parent
    store = Path(store_package.__file__).parent
    for path in sorted([*services.glob("_demo_*.py"), *store.glob("_tables*.py")]):
        sha.update(path.read_bytes())
    return sha.hexdigest()[:10]


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and p95 in ms of ``repeat`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def _rows_only(patients: int) -> float:
    """Seconds to make the same clinic's rows without a database."""
    clinic = DemoClinic(SEED, NOW, StaffIds((1, 2, 3), (4, 5, 6, 7), tuple(range(1, 251))), {})
    t0 = time.perf_counter()
    for _ in batches(clinic, 1, patients, 250):
        pass
    return time.perf_counter() - t0


def _build(db: Database) -> dict[str, Any]:
    upgrade(db)
    result = generate_demo_data(
        db,
        Actor.command_line("cli:bench"),
        patients=PATIENTS,
        seed=SEED,
        as_of=AS_OF,
        clock=FrozenClock(NOW),
    )
    with db.writer_engine.connect() as conn:  # a live database has planner statistics
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return {
        "patients": result.patients,
        "sessions": result.sessions,
        "records": result.rows_total,
        "seconds": result.seconds,
        "making_seconds": _rows_only(PATIENTS),
        "built_at": datetime.now(UTC).isoformat(timespec="minutes"),
        "load": _load(),
    }


def _report_build(label: str, built: dict[str, Any], cached: bool) -> None:
    seconds = built["seconds"]
    print(
        f"{label}: demo-data {built['patients']} patients / {built['sessions']} sessions / "
        f"{built['records']} records in {seconds:.1f} s = "
        f"{built['patients'] / seconds:,.0f} patients/s, "
        f"{built['sessions'] / seconds:,.0f} sessions/s, "
        f"{built['records'] / seconds:,.0f} records/s; making the rows alone "
        f"{built['making_seconds']:.1f} s (x{seconds / built['making_seconds']:.1f} with the "
        f"database); "
        + (
            f"CACHED: built {built['built_at']} at {built['load']} "
            "(KETACLINIC_BENCH_FRESH=1 rebuilds)"
            if cached
            else f"built in this run at {built['load']}"
        )
    )


def _verdict(ms: float, target: float) -> str:
    return f"target < {target:g} ms: {'met' if ms < target else 'MISSED'}"


def _measure(db: Database, label: str) -> None:
    clock = FrozenClock(NOW)
    print(f"{label}: measuring at {_load()}")
    rng = random.Random(3)
    picks = [rng.randint(1, PATIENTS) for _ in range(400)]

    def cycling() -> Callable[[], int]:
        it = iter(picks * 4)
        return lambda: next(it)

    def select_one() -> None:
        with db.snapshot() as session:
            session.execute(text("SELECT 1")).scalar_one()

    pick = cycling()

    def by_key() -> None:
        with db.snapshot() as session:
            session.execute(select(Patient.mrn).where(Patient.id == pick())).scalar_one()

    one_ms, _ = _timed(select_one, 300)
    key_ms, _ = _timed(by_key, 300)
    print(
        f"{label}: baselines SELECT 1 round trip {one_ms:.3f} ms, primary-key fetch {key_ms:.3f} ms"
    )

    def ratios(ms: float) -> str:
        return f"x{ms / one_ms:.0f} SELECT 1, x{ms / key_ms:.0f} a key fetch"

    pick = cycling()
    chart_ms, chart_p95 = _timed(lambda: patient_chart(db, NURSE, pick(), clock=clock), 200)
    pick = cycling()

    def five_reads() -> None:
        patient_id = pick()
        get_patient_record(db, NURSE, patient_id, clock=clock)
        patient_history(db, NURSE, patient_id, clock=clock)
        list_courses(db, NURSE, patient_id, clock=clock)
        cumulative_exposure(db, NURSE, patient_id, clock=clock)
        patient_cost_to_date(db, NURSE, patient_id, clock=clock)

    five_ms, _ = _timed(five_reads, 60)
    pick = cycling()

    def store_chart() -> None:
        with db.snapshot() as session:
            load_chart(session, pick())

    load_ms, load_p95 = _timed(store_chart, 200)
    with db.snapshot() as session:
        records = statistics.median(load_chart(session, p).record_count for p in picks[:50])
    print(
        f"{label}: chart page (patient_chart, one audited use case; median {records:.0f} "
        f"records a patient) median {chart_ms:.2f} ms, p95 {chart_p95:.2f} ms = "
        f"{ratios(chart_ms)}; the five use cases it replaces {five_ms:.2f} ms "
        f"(x{five_ms / chart_ms:.1f}) ({_verdict(chart_ms, 20)})"
    )
    print(
        f"{label}: load_chart (store, snapshot, every record and version) median "
        f"{load_ms:.2f} ms, p95 {load_p95:.2f} ms = {ratios(load_ms)} ({_verdict(load_ms, 20)})"
    )
    cohort = []
    for indication in INDICATIONS:

        def summary(indication: str = indication) -> None:
            with db.snapshot() as session:
                cohort_summary(session, indication)

        cohort.append(_timed(summary, 5)[0])
    cohort_ms = statistics.median(cohort)
    print(
        f"{label}: cohort summary by indication median {cohort_ms:.1f} ms, slowest "
        f"{max(cohort):.1f} ms = {ratios(cohort_ms)} ({_verdict(max(cohort), 500)})"
    )
    t0 = time.perf_counter()
    alerts = dashboard_alerts(db, NURSE, AS_OF, clock=clock)
    first_ms = (time.perf_counter() - t0) * 1000
    dash_ms = _timed(lambda: dashboard_alerts(db, NURSE, AS_OF, clock=clock), 3)[0]
    print(
        f"{label}: dashboard of {AS_OF.isoformat()} ({len(alerts)} alerts) median "
        f"{dash_ms:.1f} ms (first call {first_ms:.1f} ms) = {ratios(dash_ms)}"
    )
    page = dashboard_page(db, NURSE, AS_OF, clock=clock)
    page_ms = _timed(lambda: dashboard_page(db, NURSE, AS_OF, clock=clock), 5)[0]
    print(
        f"{label}: dashboard_page (every alert of the day, the standing ones of the first "
        f"{page.patients} patients with an open course; {page.more_patients} more; "
        f"{len(page.alerts)} alerts) median {page_ms:.1f} ms = {ratios(page_ms)}"
    )
    week = (AS_OF - timedelta(days=AS_OF.weekday()), AS_OF + timedelta(days=6 - AS_OF.weekday()))
    calendar = chair_calendar(db, NURSE, clock=clock, from_day=week[0], to_day=week[1])
    cal_ms = _timed(
        lambda: chair_calendar(db, NURSE, clock=clock, from_day=week[0], to_day=week[1]), 5
    )[0]
    print(
        f"{label}: chair calendar of the week {week[0].isoformat()} ({len(calendar.chairs)} "
        f"chairs, {len(calendar.entries)} bookings) median {cal_ms:.1f} ms = {ratios(cal_ms)}"
    )
    with db.snapshot() as session:
        ids = session.scalars(select(TreatmentSession.id).limit(5000)).all()
    chosen = iter(rng.choices(ids, k=500))
    read_ms, read_p95 = _timed(
        lambda: session_record(db, NURSE, clock=clock, session_id=next(chosen)), 100
    )
    print(
        f"{label}: one session read back through the services (audited) median "
        f"{read_ms:.2f} ms, p95 {read_p95:.2f} ms = {ratios(read_ms)}"
    )


def _sqlite() -> None:
    key = CACHE / f"sqlite-{PATIENTS}-{_fingerprint()}"
    figures = key / "built.json"
    cached = figures.exists() and not FRESH
    if not cached:
        shutil.rmtree(key, ignore_errors=True)
        (key / "data").mkdir(parents=True)
        db = open_database(load_settings(data_dir=key / "data"))
        try:
            built = _build(db)
        finally:
            db.close()
        figures.write_text(json.dumps(built))
    built = json.loads(figures.read_text())
    _report_build("sqlite", built, cached)
    work = Path(tempfile.mkdtemp(prefix="kc-bench-clinic-"))
    try:
        shutil.copytree(key / "data", work / "data")
        db = open_database(load_settings(data_dir=work / "data"))
        try:
            _measure(db, "sqlite")
        finally:
            db.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _postgres() -> None:
    import psycopg

    url = postgres_url()
    name = f"kcb_{PATIENTS}_{_fingerprint()}"
    work = f"kc_bench_clinic_{os.getpid()}"
    figures = CACHE / f"{name}.json"
    try:
        admin = psycopg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            dbname="postgres",  # the maintenance database: the test one may not exist
            autocommit=True,
            connect_timeout=3,
        )
    except psycopg.OperationalError as exc:
        print(f"postgresql: skipped ({str(exc).strip().splitlines()[0]})")
        return

    def database(db_name: str) -> Database:
        rendered = url.set(database=db_name).render_as_string(hide_password=False)
        return open_database(load_settings(database_url=rendered))

    with admin:
        present = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        cached = present is not None and figures.exists() and not FRESH
        if not cached:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {name}")
            db = database(name)
            try:
                built = _build(db)
            finally:
                db.close()
            CACHE.mkdir(parents=True, exist_ok=True)
            figures.write_text(json.dumps(built))
        _report_build("postgresql", json.loads(figures.read_text()), cached)
        print(f"postgresql: measuring a copy of {name} (CREATE DATABASE ... TEMPLATE)")
        admin.execute(f"CREATE DATABASE {work} TEMPLATE {name}")
        try:
            db = database(work)
            try:
                _measure(db, "postgresql")
            finally:
                db.close()
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {work} WITH (FORCE)")


def main() -> None:
    wanted = os.environ.get("KETACLINIC_BENCH_DATABASES", "sqlite,postgresql").split(",")
    print(f"demo clinic of {PATIENTS} patients (KETACLINIC_BENCH_CLINIC_PATIENTS), seed {SEED}")
    if "sqlite" in wanted:
        _sqlite()
    if "postgresql" in wanted:
        _postgres()


if __name__ == "__main__":
    main()
