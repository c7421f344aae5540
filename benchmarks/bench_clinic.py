"""The demo clinic at benchmark scale (10,000 patients, about 100,000 sessions), on SQLite and
PostgreSQL: how fast ``ketaclinic demo-data`` fills it, and the two reads a clinic does all day
on it.

Measured per database, each against a baseline measured in the same run on the same rows:
- demo-data generation: patients, sessions and records per second (every record audited per
  patient, a batch per transaction), and the share of it spent making the rows in Python
  (the same generator run without a database);
- one patient's full chart (``load_chart``: every record and version, 27 tables): median and
  p95 over random patients, against a plain SELECT of the same rows through the raw driver;
- a cohort summary by indication (``cohort_summary``): median over the indications, against
  a plain COUNT of the same sessions through the raw driver;
- reading one session back through the services (``session_record``, audited: a write
  transaction), against the chart read.
Targets: chart median < 20 ms, cohort summary < 500 ms. Absolute times are context only.

``KETACLINIC_BENCH_CLINIC_PATIENTS`` (default 10000) sets the size;
``KETACLINIC_BENCH_DATABASES=sqlite`` runs one database.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ketaclinic.config import load_settings
from ketaclinic.services import Actor, generate_demo_data, session_record
from ketaclinic.services._demo_clinic import DemoClinic, StaffIds, batches
from ketaclinic.services.testing import FrozenClock, postgres_url
from ketaclinic.store import (
    CLINICAL_RECORDS,
    Database,
    TreatmentSession,
    cohort_summary,
    load_chart,
    open_database,
    table_of,
    upgrade,
)

PATIENTS = int(os.environ.get("KETACLINIC_BENCH_CLINIC_PATIENTS", "10000"))
AS_OF = date(2026, 3, 2)
INDICATIONS = ("depression", "crps", "chronic_pain", "acute_pain", "cancer_pain")
CLINICAL_TABLES = tuple(table_of(m).name for m in CLINICAL_RECORDS)


def _median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
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
    from datetime import UTC, datetime
    from datetime import time as clock_time

    now = datetime.combine(AS_OF, clock_time(18), tzinfo=UTC)
    clinic = DemoClinic(1, now, StaffIds((1, 2, 3), (4, 5, 6, 7), tuple(range(1, 251))), {})
    t0 = time.perf_counter()
    for _ in batches(clinic, 1, patients, 250):
        pass
    return time.perf_counter() - t0


class _Raw:
    """The same reads through the raw driver: the baseline."""

    def __init__(self, db: Database) -> None:
        self.sqlite = db.dialect == "sqlite"
        if self.sqlite:
            self.conn: Any = sqlite3.connect(f"file:{db.sqlite_path}?mode=ro", uri=True)
            self.mark = "?"
        else:
            import psycopg

            url = db.url
            self.conn = psycopg.connect(
                host=url.host, port=url.port, user=url.username, dbname=url.database
            )
            self.mark = "%s"

    def chart(self, patient_id: int) -> int:
        rows = 0
        for table in CLINICAL_TABLES:
            sql = f"SELECT * FROM {table} WHERE patient_id = {self.mark} ORDER BY id"
            rows += len(self.conn.execute(sql, (patient_id,)).fetchall())
        return rows

    def cohort(self, indication: str) -> int:
        sql = (
            "SELECT count(*) FROM treatment_sessions s JOIN treatment_courses c "
            f"ON c.id = s.course_id WHERE c.indication = {self.mark}"
        )
        return int(self.conn.execute(sql, (indication,)).fetchone()[0])

    def close(self) -> None:
        self.conn.close()


def _measure(db: Database, label: str) -> None:
    clock = FrozenClock()
    actor = Actor.command_line("cli:bench")
    result = generate_demo_data(db, actor, patients=PATIENTS, seed=1, as_of=AS_OF, clock=clock)
    with db.writer_engine.connect() as conn:  # a live database has planner statistics
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    making = _rows_only(PATIENTS)
    print(
        f"{label}: demo-data {result.patients} patients / {result.sessions} sessions / "
        f"{result.rows_total} records in {result.seconds:.1f} s = "
        f"{result.patients / result.seconds:,.0f} patients/s, "
        f"{result.sessions / result.seconds:,.0f} sessions/s, "
        f"{result.rows_total / result.seconds:,.0f} records/s; making the rows alone "
        f"{making:.1f} s (x{result.seconds / making:.1f} with the database)"
    )
    raw = _Raw(db)
    rng = random.Random(3)
    patients = [rng.randint(1, PATIENTS) for _ in range(300)]
    it = iter(patients * 3)

    def chart() -> None:
        with db.snapshot() as session:
            load_chart(session, next(it))

    raw_it = iter(patients * 3)
    chart_ms, chart_p95 = _median_ms(chart, 200)
    plain_ms, _ = _median_ms(lambda: raw.chart(next(raw_it)), 200)
    with db.snapshot() as session:
        records = load_chart(session, patients[0]).record_count
    print(
        f"{label}: chart of one patient (e.g. {records} records) median {chart_ms:.2f} ms, "
        f"p95 {chart_p95:.2f} ms = x{chart_ms / plain_ms:.1f} a plain SELECT of the same rows "
        f"({plain_ms:.2f} ms) (target < 20 ms: {'met' if chart_ms < 20 else 'MISSED'})"
    )
    cohort, plain = [], []
    for indication in INDICATIONS:

        def summary(indication: str = indication) -> None:
            with db.snapshot() as session:
                cohort_summary(session, indication)

        cohort.append(_median_ms(summary, 5)[0])
        plain.append(_median_ms(lambda indication=indication: raw.cohort(indication), 5)[0])
    cohort_ms, plain_cohort = statistics.median(cohort), statistics.median(plain)
    print(
        f"{label}: cohort summary by indication median {cohort_ms:.1f} ms "
        f"(slowest {max(cohort):.1f} ms) = x{cohort_ms / plain_cohort:.1f} a plain COUNT of the "
        f"same sessions ({plain_cohort:.1f} ms) (target < 500 ms: "
        f"{'met' if max(cohort) < 500 else 'MISSED'})"
    )
    with db.snapshot() as session:
        ids = session.scalars(select(TreatmentSession.id).limit(5000)).all()
    nurse = Actor("demo.rn.diaz", "127.0.0.1")
    picks = iter(rng.choices(ids, k=500))
    read_ms, read_p95 = _median_ms(
        lambda: session_record(db, nurse, clock=clock, session_id=next(picks)), 100
    )
    print(
        f"{label}: one session read back through the services (audited) median "
        f"{read_ms:.2f} ms, p95 {read_p95:.2f} ms = x{read_ms / chart_ms:.2f} a whole chart"
    )
    raw.close()


def _sqlite() -> None:
    folder = Path(tempfile.mkdtemp(prefix="kc-bench-clinic-"))
    db = open_database(load_settings(data_dir=folder))
    upgrade(db)
    try:
        _measure(db, "sqlite")
    finally:
        db.close()
        shutil.rmtree(folder, ignore_errors=True)


def _postgres() -> None:
    import psycopg

    url = postgres_url()
    name = f"kc_bench_clinic_{os.getpid()}"
    try:
        admin = psycopg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            dbname=url.database or "postgres",
            autocommit=True,
            connect_timeout=3,
        )
    except psycopg.OperationalError as exc:
        print(f"postgresql: skipped ({str(exc).strip().splitlines()[0]})")
        return
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            db = open_database(
                load_settings(
                    database_url=url.set(database=name).render_as_string(hide_password=False)
                )
            )
            upgrade(db)
            _measure(db, "postgresql")
            db.close()
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    wanted = os.environ.get("KETACLINIC_BENCH_DATABASES", "sqlite,postgresql").split(",")
    print(f"demo clinic of {PATIENTS} patients (KETACLINIC_BENCH_CLINIC_PATIENTS)")
    if "sqlite" in wanted:
        _sqlite()
    if "postgresql" in wanted:
        _postgres()


if __name__ == "__main__":
    main()
