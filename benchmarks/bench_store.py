"""The store at clinic scale: 10,000 patients / 100,000 sessions, on SQLite and PostgreSQL.

Measured per database:
- insert rate: audited "document a session" transactions per second (the real write path:
  8 rows and an audit event, one commit each), and bulk rows per second of the generator;
- one patient's full chart (every current record and version, 27 tables): median and p95 over
  random patients, from a read-only snapshot; and the same read audited (a write transaction
  that appends the audit event and commits);
- a cohort summary by indication (patients, courses by status, sessions, harms): median;
- 1,000 SIGKILL kill points of the crash-durability harness.
Baselines in the same run: a ``SELECT 1`` round trip through the same driver, and one
indexed primary-key fetch (raw sqlite3 / raw psycopg). Only the ratios are meaningful on a
shared machine; absolute figures are context. Targets: chart median < 20 ms, cohort < 500 ms.

The synthetic clinic is made by a simple generator of its own (bulk inserts with explicit
ids), not the realistic demo-data generator, which comes later.
``KETACLINIC_BENCH_PATIENTS`` (default 10000) and ``KETACLINIC_BENCH_KILL_POINTS`` (1000)
scale it down for a quick look; ``KETACLINIC_BENCH_DATABASES=sqlite`` runs one database.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from ketaclinic.config import load_settings
from ketaclinic.services import Actor, audited_transaction
from ketaclinic.services.crashtest import document_session, prepare, run_crash_test
from ketaclinic.services.testing import postgres_url
from ketaclinic.store import (
    METADATA,
    Database,
    cohort_summary,
    load_chart,
    open_database,
    reset_sequences,
    upgrade,
)

PATIENTS = int(os.environ.get("KETACLINIC_BENCH_PATIENTS", "10000"))
SESSIONS_PER_PATIENT = 10
KILL_POINTS = int(os.environ.get("KETACLINIC_BENCH_KILL_POINTS", "1000"))
INDICATIONS = ("depression", "crps", "chronic_pain", "palliative", "acute_pain")
T0 = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)


def _median_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


class _Ids:
    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def __call__(self, table: str) -> int:
        self.next[table] = self.next.get(table, 0) + 1
        return self.next[table]


def _clinic_rows(patients: int, seed: int = 7) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Rows of a synthetic clinic, yielded in batches of whole patients, parents first."""
    rng = random.Random(seed)
    ids = _Ids()
    yield (
        "staff_users",
        [
            {
                "id": ids("staff_users"),
                "username": "bench.nurse",
                "display_name": "Bench",
                "role": "nurse",
                "created_at": T0,
            }
        ],
    )
    yield (
        "chairs",
        [{"id": ids("chairs"), "name": f"chair {c}", "created_at": T0} for c in range(1, 7)],
    )
    batch: dict[str, list[dict[str, Any]]] = {}

    def put(table: str, **row: Any) -> int:
        row["id"] = ids(table)
        batch.setdefault(table, []).append(row)
        return int(row["id"])

    order = [t.name for t in METADATA.sorted_tables]
    for p in range(patients):
        at = T0 + timedelta(hours=p)
        pid = put("patients", mrn=f"M{p:06d}", created_at=at, created_by_id=1)
        who = {"patient_id": pid, "recorded_at": at, "recorded_by_id": 1, "entered_in_error": False}
        put(
            "demographics",
            given_name="Given",
            family_name=f"Family {p}",
            birth_date=date(1950 + p % 50, 1 + p % 12, 1 + p % 28),
            sex_at_birth="female",
            **who,
        )
        for w in range(2):
            put(
                "weight_measurements",
                measured_on=at.date() - timedelta(days=90 * w),
                weight_kg=55 + rng.random() * 50,
                **who,
            )
        put("diagnoses", icd10cm_code="F33.2", free_text="recurrent depression", **who)
        put("diagnoses", icd10cm_code="G90.50", free_text="CRPS", **who)
        put(
            "pain_qualifiers",
            assessed_on=at.date(),
            opioid_tolerant=bool(p % 3),
            neuropathic=bool(p % 2),
            inflammatory=False,
            depression=True,
            **who,
        )
        put("medications", drug_name="sertraline", dose_value=100.0, dose_unit="mg", **who)
        put("allergies", substance="penicillin", severity="mild", **who)
        put(
            "lab_results",
            loinc_code="1742-6",
            test_name="ALT",
            value=30.0,
            unit="U/L",
            collected_at=at,
            **who,
        )
        put(
            "opioid_use",
            drug="oxycodone",
            daily_dose_value=40.0,
            daily_dose_unit="mg/day",
            route="oral",
            period_start_on=at.date(),
            mme_mg_per_day=60.0,
            mme_table_id="cdc",
            mme_table_version="2022",
            **who,
        )
        indication = INDICATIONS[p % len(INDICATIONS)]
        course = put(
            "treatment_courses",
            indication=indication,
            protocol_id=indication,
            protocol_version="1",
            trial_criteria={"instrument": "phq9"},
            **who,
        )
        put(
            "course_status_events",
            course_id=course,
            status="active",
            reason="start",
            effective_at=at,
            **who,
        )
        put(
            "course_status_events",
            course_id=course,
            status=rng.choice(("maintenance", "stopped", "completed", "active")),
            reason="evaluated",
            effective_at=at + timedelta(days=20),
            **who,
        )
        order_id = put(
            "orders",
            course_id=course,
            doses=[{"route": "iv"}],
            findings=[],
            plan={},
            drug_library_version="1",
            weight_kg=70.0,
            **who,
        )
        put("order_signatures", order_id=order_id, signed_by_id=1, signed_at=at, **who)
        for k in range(SESSIONS_PER_PATIENT):
            start = at + timedelta(days=3 * k)
            sid = put(
                "treatment_sessions",
                course_id=course,
                order_id=order_id,
                chair_id=1,
                scheduled_start_at=start,
                actual_start_at=start,
                route="iv",
                lot_number="L1",
                multi_day=False,
                **who,
            )
            s = {"session_id": sid, **who}
            put(
                "doses_given",
                given_at=start,
                kind="infusion_start",
                amount_mg=35.0,
                dose={"route": "iv"},
                **s,
            )
            for m in (0, 40, 100):
                put(
                    "vital_signs",
                    measured_at=start + timedelta(minutes=m),
                    systolic_mmhg=130,
                    diastolic_mmhg=80,
                    heart_rate_per_min=70,
                    spo2_percent=98.0,
                    **s,
                )
            put(
                "session_scores",
                measured_at=start,
                instrument_id="moaas",
                instrument_version="1",
                score=5,
                **s,
            )
            put(
                "discharges",
                decided_at=start + timedelta(minutes=120),
                decision="discharged",
                observation_min=80.0,
                **s,
            )
            put(
                "charges",
                category="drug",
                description="ketamine",
                quantity=1.0,
                quantity_unit="vial",
                unit_price_minor=1500,
                amount_minor=1500,
                currency="EUR",
                **s,
            )
            if rng.random() < 0.05:
                put(
                    "adverse_events",
                    onset_at=start,
                    term="hypertension",
                    severity=rng.choice(("mild", "moderate", "severe")),
                    outcome="resolved",
                    **s,
                )
        for a in range(3):
            put(
                "assessments",
                course_id=course,
                instrument_id="phq9",
                instrument_version="1",
                administered_at=at + timedelta(days=7 * a),
                answers=[1, 2, 1, 0, 1, 2, 1, 0, 0],
                score={"total": 8},
                **who,
            )
        if (p + 1) % 500 == 0 or p == patients - 1:
            for table in order:
                if table in batch:
                    yield table, batch.pop(table)


def _generate(db: Database, patients: int) -> tuple[int, float]:
    rows = 0
    started = time.perf_counter()
    tables = METADATA.tables
    with db.transaction() as session:
        for table, batch in _clinic_rows(patients):
            session.execute(insert(tables[table]), batch)
            rows += len(batch)
        reset_sequences(session)
    # a live database has statistics (autovacuum / the planner's ANALYZE); a fresh bulk load
    # has none yet
    with db.writer_engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return rows, time.perf_counter() - started


def _baseline(db: Database) -> tuple[float, float]:
    """SELECT 1 round trip and one indexed primary-key fetch through the raw driver (ms)."""
    if db.dialect == "sqlite":
        assert db.sqlite_path is not None
        conn = sqlite3.connect(f"file:{db.sqlite_path}?mode=ro", uri=True)
        one = _median_ms(lambda: conn.execute("SELECT 1").fetchone(), 2000)[0]
        fetch = _median_ms(
            lambda: conn.execute(
                "SELECT * FROM patients WHERE id = ?", (random.randint(1, PATIENTS),)
            ).fetchone(),
            2000,
        )[0]
        conn.close()
        return one, fetch
    import psycopg

    url = db.url
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database
    ) as conn:
        one = _median_ms(lambda: conn.execute("SELECT 1").fetchone(), 500)[0]
        fetch = _median_ms(
            lambda: conn.execute(
                "SELECT * FROM patients WHERE id = %s", (random.randint(1, PATIENTS),)
            ).fetchone(),
            500,
        )[0]
    return one, fetch


def _measure(db: Database, label: str) -> None:
    rows, seconds = _generate(db, PATIENTS)
    print(
        f"{label}: generated {PATIENTS} patients / {PATIENTS * SESSIONS_PER_PATIENT} "
        f"sessions, {rows} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s bulk)"
    )
    one_ms, fetch_ms = _baseline(db)
    rng = random.Random(3)

    def chart() -> None:
        with db.snapshot() as session:
            load_chart(session, rng.randint(1, PATIENTS))

    actor = Actor("bench.nurse", "127.0.0.1", 1)

    def audited_chart() -> None:
        patient = rng.randint(1, PATIENTS)
        with audited_transaction(db, actor) as uc:
            load_chart(uc.session, patient)
            uc.audit("chart.read", record_type="patients", record_id=patient, patient_id=patient)

    chart_ms, chart_p95 = _median_ms(chart, 200)
    audited_ms, audited_p95 = _median_ms(audited_chart, 100)
    with db.snapshot() as session:
        counts = load_chart(session, 1).record_count
    cohort = []
    for indication in INDICATIONS:

        def summary(indication: str = indication) -> None:
            with db.snapshot() as session:
                cohort_summary(session, indication)

        cohort.append(_median_ms(summary, 5)[0])
    cohort_ms = statistics.median(cohort)
    ids = prepare(db)
    k = [0]

    def document() -> None:
        k[0] += 1
        document_session(db, actor, ids, k[0], lot="B", action="session.bench")

    doc_ms = _median_ms(document, 100)[0]
    print(f"{label}: baselines SELECT 1 {one_ms:.3f} ms, raw indexed fetch {fetch_ms:.3f} ms")
    print(
        f"{label}: chart ({counts} records) median {chart_ms:.2f} ms, p95 {chart_p95:.2f} ms "
        f"= x{chart_ms / one_ms:,.0f} SELECT 1, x{chart_ms / fetch_ms:,.0f} raw fetch "
        f"(target < 20 ms: {'met' if chart_ms < 20 else 'MISSED'})"
    )
    print(
        f"{label}: audited chart read (+ audit append + commit) median {audited_ms:.2f} ms, "
        f"p95 {audited_p95:.2f} ms"
    )
    print(
        f"{label}: cohort summary by indication median {cohort_ms:.1f} ms "
        f"= x{cohort_ms / one_ms:,.0f} SELECT 1 (target < 500 ms: "
        f"{'met' if cohort_ms < 500 else 'MISSED'})"
    )
    print(
        f"{label}: document a session (8 rows + audit, one commit) median {doc_ms:.2f} ms "
        f"= {1000 / doc_ms:,.0f} sessions/s, x{doc_ms / one_ms:,.0f} SELECT 1"
    )


def _crash(db: Database, label: str) -> None:
    """On a fresh database of its own: the kill points test durability, not scale."""
    prepare(db)
    settings = db.settings
    db.close()
    report = run_crash_test(settings, KILL_POINTS, seed=11)
    print(
        f"{label}: crash test {report.kill_points} kill points in {report.seconds:.0f} s: "
        f"{report.acknowledged} acknowledged, {report.survived} survived "
        f"({report.committed_not_acknowledged} committed as the kill came), lost "
        f"{report.lost}, half-written {report.partial}, out of order {report.out_of_order}, "
        f"{report.deep_checks} integrity + audit verifications: "
        f"{'PASS' if report.ok else 'FAIL'}"
    )


def _sqlite() -> None:
    for purpose in (_measure, _crash):
        folder = Path(tempfile.mkdtemp(prefix="kc-bench-"))
        db = open_database(load_settings(data_dir=folder))
        upgrade(db)
        try:
            purpose(db, "sqlite")
        finally:
            db.close()
            shutil.rmtree(folder, ignore_errors=True)


def _postgres() -> None:
    import psycopg

    url = postgres_url()
    name = f"kc_bench_{os.getpid()}"
    try:
        admin = psycopg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            dbname=url.database,
            autocommit=True,
            connect_timeout=3,
        )
    except psycopg.OperationalError as exc:
        print(f"postgresql: skipped ({str(exc).strip().splitlines()[0]})")
        return
    with admin:
        for purpose in (_measure, _crash):
            admin.execute(f"CREATE DATABASE {name}")
            try:
                db = open_database(
                    load_settings(
                        database_url=url.set(database=name).render_as_string(hide_password=False)
                    )
                )
                upgrade(db)
                purpose(db, "postgresql")
                db.close()
            finally:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    wanted = os.environ.get("KETACLINIC_BENCH_DATABASES", "sqlite,postgresql").split(",")
    if "sqlite" in wanted:
        _sqlite()
    if "postgresql" in wanted:
        _postgres()


if __name__ == "__main__":
    main()
