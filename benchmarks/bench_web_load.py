"""Load on the web application (issue 12): concurrent users browsing charts and documenting
sessions on the demo clinic, on SQLite and PostgreSQL, over loopback only.

Per database: the demo clinic (``generate_demo_data``), one open session per user (enrolled,
planned, signed and double-checked through the services), then the app in its own process
(uvicorn on 127.0.0.1: one worker on SQLite, which allows one writing process; WORKERS on
PostgreSQL) and USERS clients, each signed in once, for SECONDS: each loop opens a random
demo patient's chart, the patient list, its own session page, and records a set of vitals
there, with THINK seconds between pages (default 0: every user always has a request in
flight). Reported per kind of page: requests, errors (any status >= 400 or transport error),
p50/p95 page time, and the p95 as a ratio to the p95 of ``GET /health`` under the same load
(the in-run baseline: same server, same loop, no database, no audit). Also the server's CPU
time per request (its processes' user + system time over the load, from psutil) and the
throughput: with no think time, Little's law puts the mean page time at USERS / throughput,
so a p95 under 100 ms for 20 users needs well over 200 requests/s. Target: p95 < 100 ms per
page, 0 errors. The load average is printed with the figures (the machine is shared).

Options: ``KETACLINIC_BENCH_WEB_PATIENTS`` (default 10000), ``KETACLINIC_BENCH_WEB_USERS``
(20), ``KETACLINIC_BENCH_WEB_SECONDS`` (60), ``KETACLINIC_BENCH_WEB_THINK_S`` (0),
``KETACLINIC_BENCH_WEB_PG_WORKERS`` (2), ``KETACLINIC_BENCH_DATABASES``
(``sqlite,postgresql``).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psutil

from ketaclinic.config import load_settings
from ketaclinic.services import (
    Actor,
    add_staff_user,
    double_check_order,
    enrol_patient,
    generate_demo_data,
    open_clinic_database,
    plan_course,
    sign_order,
    start_session,
)
from ketaclinic.services.testing import postgres_url

PATIENTS = int(os.environ.get("KETACLINIC_BENCH_WEB_PATIENTS", "10000"))
USERS = int(os.environ.get("KETACLINIC_BENCH_WEB_USERS", "20"))
SECONDS = float(os.environ.get("KETACLINIC_BENCH_WEB_SECONDS", "60"))
DATABASES = os.environ.get("KETACLINIC_BENCH_DATABASES", "sqlite,postgresql").split(",")
THINK_S = float(os.environ.get("KETACLINIC_BENCH_WEB_THINK_S", "0"))
PG_WORKERS = int(os.environ.get("KETACLINIC_BENCH_WEB_PG_WORKERS", "2"))
PASSWORD = "bench password, loopback only"
TARGET_P95_MS = 100.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(overrides: dict[str, Any]) -> list[tuple[str, int]]:
    """The demo clinic, the bench accounts, and one open session per user."""
    db = open_clinic_database(load_settings(**overrides), upgrade_schema=True)
    try:
        now = datetime.now(UTC)
        cli = Actor.command_line("cli:bench")
        result = generate_demo_data(db, cli, patients=PATIENTS, seed=1, as_of=now.date())
        print(
            f"  demo clinic: {result.patients} patients, {result.sessions} sessions "
            f"({result.seconds:.0f} s)",
            flush=True,
        )
        for name, role in (("bench.dr", "physician"), ("bench.check", "nurse")):
            add_staff_user(db, cli, username=name, role=role, password=PASSWORD)
        doctor, checker = Actor("bench.dr", "127.0.0.1"), Actor("bench.check", "127.0.0.1")
        users = []
        for n in range(USERS):
            username = f"bench.rn{n:02d}"
            add_staff_user(db, cli, username=username, role="nurse", password=PASSWORD)
            patient = enrol_patient(
                db,
                doctor,
                {
                    "mrn": f"BENCH-{n:04d}",
                    "demographics": {
                        "given_name": "Bench",
                        "family_name": f"Patient {n}",
                        "birth_date": "1980-05-01",
                        "sex_at_birth": "female",
                    },
                    "weight": {"weight_kg": 70, "measured_on": now.date().isoformat()},
                    "diagnoses": [{"icd10cm_code": "F33.2", "free_text": "major depression"}],
                },
            )
            planned = plan_course(db, doctor, patient, "depression-iv", now.date())
            sign_order(db, doctor, planned.order_id)
            doses = [d["dose"]["text"] for d in planned.doses]
            double_check_order(db, checker, planned.order_id, planned.weight_kg, doses)
            nurse = Actor(username, "127.0.0.1")
            users.append(
                (username, start_session(db, nurse, order_id=planned.order_id, lot_number="B1"))
            )
        return users
    finally:
        db.close()


async def _sign_in(client: httpx.AsyncClient, username: str) -> None:
    form = await client.get("/login")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    signed = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
    )
    if signed.status_code != 303:
        raise RuntimeError(f"{username} could not sign in: {signed.status_code}")


async def _user(
    client: httpx.AsyncClient,
    session_id: int,
    until: float,
    times: dict[str, list[float]],
    errors: dict[str, int],
    rng: random.Random,
) -> None:
    async def timed(kind: str, method: str, path: str, **kw: Any) -> httpx.Response | None:
        if THINK_S > 0:
            await asyncio.sleep(rng.expovariate(1 / THINK_S))
        t0 = time.perf_counter()
        try:
            answer = await client.request(method, path, **kw)
        except httpx.HTTPError:
            errors[kind] += 1
            return None
        times[kind].append((time.perf_counter() - t0) * 1000)
        if answer.status_code >= 400:
            errors[kind] += 1
        return answer

    while time.perf_counter() < until:
        await timed("health", "GET", "/health")
        await timed("chart", "GET", f"/patients/{rng.randint(1, PATIENTS)}")
        await timed("patient list", "GET", f"/patients?page={rng.randint(1, 20)}")
        page = await timed("session page", "GET", f"/sessions/{session_id}")
        if page is None or 'name="csrf_token" value="' not in page.text:
            continue
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")
        vitals = {
            "measured_at": at,
            "systolic_mmhg": str(rng.randint(110, 140)),
            "diastolic_mmhg": str(rng.randint(65, 90)),
            "heart_rate_per_min": str(rng.randint(60, 95)),
            "spo2_percent": "98",
            "csrf_token": token,
        }
        await timed("record vitals", "POST", f"/sessions/{session_id}/vitals", data=vitals)


async def _load(
    base: str, users: list[tuple[str, int]], server: subprocess.Popen[bytes]
) -> tuple[dict[str, list[float]], dict[str, int], float]:
    """Every user signs in (argon2id: not part of the measured load), then all browse for
    SECONDS; returns the page times, the errors and the server's CPU seconds meanwhile."""
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    clients = [httpx.AsyncClient(base_url=base, timeout=30) for _ in users]
    try:
        names = [name for name, _ in users]
        await asyncio.gather(*(_sign_in(c, n) for c, n in zip(clients, names, strict=True)))
        cpu_before = _cpu_s(server)
        until = time.perf_counter() + SECONDS
        await asyncio.gather(
            *(
                _user(c, session, until, times, errors, random.Random(i))
                for i, (c, (_, session)) in enumerate(zip(clients, users, strict=True))
            )
        )
        cpu_s = _cpu_s(server) - cpu_before
    finally:
        for c in clients:
            await c.aclose()
    return times, errors, cpu_s


def _serve(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    code = (
        "import uvicorn; uvicorn.run('ketaclinic.web:create_app_from_environment', "
        f"factory=True, host='127.0.0.1', port={port}, workers={workers}, log_level='warning')"
    )
    server = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, **env})
    deadline = time.monotonic() + 600  # start-up warms the kernels (a compile when not cached)
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                time.sleep(1 if workers == 1 else 5)  # every worker up and warm
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the app did not start")


def _cpu_s(server: subprocess.Popen[bytes]) -> float:
    """User + system CPU seconds of the server and its worker processes so far."""
    root = psutil.Process(server.pid)
    total = 0.0
    for process in (root, *root.children(recursive=True)):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


def _report(
    label: str, times: dict[str, list[float]], errors: dict[str, int], cpu_s: float, workers: int
) -> None:
    def p(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    base = p(times["health"], 0.95)
    total = sum(len(v) for v in times.values())
    print(
        f"{label}: {total} requests in {SECONDS:.0f} s by {USERS} users, think time "
        f"{THINK_S:g} s, {workers} worker(s) ({total / SECONDS:.0f}/s), "
        f"{sum(errors.values())} errors; {_load_average()}"
    )
    print(
        f"  server CPU {cpu_s:.1f} s = {cpu_s / SECONDS:.2f} cores busy, "
        f"{1000 * cpu_s / max(total, 1):.1f} ms per request (all kinds)"
    )
    for kind, values in times.items():
        p95 = p(values, 0.95)
        verdict = "" if kind == "health" else (" met" if p95 < TARGET_P95_MS else " MISSED")
        print(
            f"  {kind:<14} n={len(values):<6} p50 {statistics.median(values):7.1f} ms  "
            f"p95 {p95:7.1f} ms (x{p95 / base:5.1f} /health){verdict}  errors {errors[kind]}"
        )


def _run(label: str, overrides: dict[str, Any], env: dict[str, str]) -> None:
    print(f"{label}:", flush=True)
    users = _prepare(overrides)
    port = _free_port()
    workers = 1 if label == "sqlite" else PG_WORKERS
    server = _serve(env, port, workers)
    try:
        times, errors, cpu_s = asyncio.run(_load(f"http://127.0.0.1:{port}", users, server))
    finally:
        server.terminate()
        server.wait(timeout=30)
    _report(label, times, errors, cpu_s, workers)


def _sqlite() -> None:
    folder = Path(tempfile.mkdtemp(prefix="kc-bench-web-"))
    try:
        _run("sqlite", {"data_dir": folder}, {"KETACLINIC_DATA_DIR": str(folder)})
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _postgres() -> None:
    import psycopg

    url = postgres_url()
    name = f"kc_bench_web_{os.getpid()}"
    try:
        admin = psycopg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            dbname="postgres",
            autocommit=True,
            connect_timeout=3,
        )
    except psycopg.OperationalError as exc:
        print(f"postgresql: skipped, the server cannot be reached ({exc})")
        return
    admin.execute(f"CREATE DATABASE {name}")
    try:
        target = url.set(database=name).render_as_string(hide_password=False)
        _run("postgresql", {"database_url": target}, {"KETACLINIC_DATABASE_URL": target})
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def main() -> None:
    if "sqlite" in DATABASES:
        _sqlite()
    if "postgresql" in DATABASES:
        _postgres()


if __name__ == "__main__":
    main()
