"""Load on the web application (issue 12): concurrent users browsing charts and documenting
sessions on the demo clinic, on SQLite and PostgreSQL, over loopback only.

Per database: the demo clinic (``generate_demo_data``), one open session per user (enrolled,
planned, signed and double-checked through the services), then the app in its own process
(uvicorn on 127.0.0.1: one worker on SQLite, which allows one writing process; WORKERS on
PostgreSQL) and USERS clients (aiohttp, in this process), each signed in once before the clock
starts (argon2id is not part of the measured load).

Two readings per database, each for SECONDS: with THINK seconds of mean think time between
pages (exponential), the reading the target applies to: 20 concurrent users are 20 people,
each reading a page before asking for the next (a clinician's pace is slower still); and
with no think time (every user always has a request in flight), which measures the server's
capacity, not a clinic's day. Each user's loop opens a random demo
patient's chart, the patient list, its own session page, and records a set of vitals there.
Reported per kind of page: requests, errors (any status >= 400 or transport error), p50/p95
page time, and the p95 as a ratio to the p95 of ``GET /health`` under the same load (the
in-run baseline: same server, same loop, no database, no audit); the throughput; the server's
CPU time per request (its processes' user + system time, from psutil) and the load client's
(this process's). With no think time, Little's law puts the mean page time at USERS /
throughput. Then each kind of page alone for PAGE_SECONDS: the server's CPU milliseconds per
request of that page, which is what a change to the page's code moves. Target: p95 < 100 ms
per page, 0 errors. The load average is printed with the figures (the machine is shared).

Options: ``KETACLINIC_BENCH_WEB_PATIENTS`` (default 10000), ``KETACLINIC_BENCH_WEB_USERS``
(20), ``KETACLINIC_BENCH_WEB_SECONDS`` (60), ``KETACLINIC_BENCH_WEB_THINK_S`` (1; 0 runs the
no-think reading only), ``KETACLINIC_BENCH_WEB_PAGE_SECONDS`` (5; 0 skips the per-page CPU),
``KETACLINIC_BENCH_WEB_PG_WORKERS`` (2), ``KETACLINIC_BENCH_DATABASES``
(``sqlite,postgresql``).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import psutil

from ketaclinic.cli._web import SERVER_OPTIONS
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
THINK_S = float(os.environ.get("KETACLINIC_BENCH_WEB_THINK_S", "1"))
PAGE_SECONDS = float(os.environ.get("KETACLINIC_BENCH_WEB_PAGE_SECONDS", "5"))
PG_WORKERS = int(os.environ.get("KETACLINIC_BENCH_WEB_PG_WORKERS", "2"))
PASSWORD = "bench password, loopback only"
ZONE = load_settings().clinic_zone  # the vitals form reads its time in the clinic's zone
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


_TOKEN = 'name="csrf_token" value="'
KINDS = ("health", "chart", "patient list", "session page", "record vitals")


def _csrf(html: str) -> str:
    return html.split(_TOKEN)[1].split('"')[0]


async def _sign_in(client: aiohttp.ClientSession, username: str, session_id: int) -> str:
    """Sign in through the form; returns the session page's form token (bound to the
    session cookie, so it stays valid for every vitals form of this user)."""
    async with client.get("/login") as form:
        token = _csrf(await form.text())
    data = {"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"}
    async with client.post("/login", data=data, allow_redirects=False) as signed:
        if signed.status != 303:
            raise RuntimeError(f"{username} could not sign in: {signed.status}")
    async with client.get(f"/sessions/{session_id}") as page:
        return _csrf(await page.text())


class _Tally:
    """Page times (ms) and errors by kind of page."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.examples: list[str] = []  # the first few errors, to say what they were

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{kind}: {what}")

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.times.values()) + sum(self.errors.values())


def _request(kind: str, session_id: int, token: str, rng: random.Random) -> tuple[Any, ...]:
    if kind == "health":
        return "GET", "/health", {}
    if kind == "chart":
        return "GET", f"/patients/{rng.randint(1, PATIENTS)}", {}
    if kind == "patient list":
        return "GET", f"/patients?page={rng.randint(1, 20)}", {}
    if kind == "session page":
        return "GET", f"/sessions/{session_id}", {}
    vitals = {
        "measured_at": datetime.now(ZONE).strftime("%Y-%m-%dT%H:%M"),
        "systolic_mmhg": str(rng.randint(110, 140)),
        "diastolic_mmhg": str(rng.randint(65, 90)),
        "heart_rate_per_min": str(rng.randint(60, 95)),
        "spo2_percent": "98",
        "csrf_token": token,
    }
    return "POST", f"/sessions/{session_id}/vitals", {"data": vitals, "allow_redirects": False}


async def _user(
    client: aiohttp.ClientSession,
    session_id: int,
    token: str,
    until: float,
    kinds: tuple[str, ...],
    think_s: float,
    tally: _Tally,
    rng: random.Random,
) -> None:
    while time.perf_counter() < until:
        for kind in kinds:
            if think_s > 0:
                await asyncio.sleep(rng.expovariate(1 / think_s))
            method, path, options = _request(kind, session_id, token, rng)
            t0 = time.perf_counter()
            try:
                async with client.request(method, path, **options) as answer:
                    body = await answer.read()
                    failed = answer.status >= 400
            except aiohttp.ClientError as exc:
                tally.error(kind, f"{method} {path}: {exc!r}")
                continue
            tally.times[kind].append((time.perf_counter() - t0) * 1000)
            # a page that answers 200 without its form is broken too
            if failed or (kind == "session page" and _TOKEN.encode() not in body):
                text = body[:300].decode("utf-8", "replace").replace("\n", " ")
                tally.error(kind, f"{method} {path}: {answer.status} {text}")


class _Reading(NamedTuple):
    tally: _Tally
    seconds: float
    server_cpu_s: float
    client_cpu_s: float
    load: str


async def _read(
    users: list[tuple[aiohttp.ClientSession, int, str]],
    server: subprocess.Popen[bytes],
    *,
    kinds: tuple[str, ...],
    think_s: float,
    seconds: float,
) -> _Reading:
    """Every user runs ``kinds`` in a loop for ``seconds``; the server's and this process's
    CPU time meanwhile."""
    tally, me = _Tally(), psutil.Process()
    server_before, client_before = _cpu_s(server), _own_cpu_s(me)
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(
        *(
            _user(c, session, token, until, kinds, think_s, tally, random.Random(i))
            for i, (c, session, token) in enumerate(users)
        )
    )
    elapsed = time.perf_counter() - started
    return _Reading(
        tally,
        elapsed,
        _cpu_s(server) - server_before,
        _own_cpu_s(me) - client_before,
        _load_average(),
    )


async def _load(
    base: str, accounts: list[tuple[str, int]], server: subprocess.Popen[bytes]
) -> tuple[list[tuple[float, _Reading]], dict[str, _Reading]]:
    """Sign every user in, then the readings (no think time, then THINK_S) and each page
    alone (PAGE_SECONDS)."""
    connector = aiohttp.TCPConnector(limit=0)
    clients = [
        aiohttp.ClientSession(
            base,
            connector=connector,
            connector_owner=False,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # a loopback address
            timeout=aiohttp.ClientTimeout(total=30),
        )
        for _ in accounts
    ]
    try:
        tokens = await asyncio.gather(
            *(_sign_in(c, n, s) for c, (n, s) in zip(clients, accounts, strict=True))
        )
        users = [(c, s, t) for c, (_, s), t in zip(clients, accounts, tokens, strict=True)]
        readings = []
        for think_s in sorted({0.0, THINK_S}):
            reading = await _read(users, server, kinds=KINDS, think_s=think_s, seconds=SECONDS)
            readings.append((think_s, reading))
        pages = {}
        if PAGE_SECONDS > 0:
            for kind in KINDS:
                pages[kind] = await _read(
                    users, server, kinds=(kind,), think_s=0, seconds=PAGE_SECONDS
                )
    finally:
        for c in clients:
            await c.close()
        await connector.close()
    return readings, pages


def _up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _serve(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    code = (
        "import uvicorn; uvicorn.run('ketaclinic.web:create_app_from_environment', "
        f"factory=True, host='127.0.0.1', port={port}, workers={workers}, log_level='warning', "
        f"**{SERVER_OPTIONS!r})"  # as ``ketaclinic run`` serves
    )
    server = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, **env})
    deadline = time.monotonic() + 600  # start-up warms the kernels (a compile when not cached)
    while time.monotonic() < deadline:
        if _up(port):
            time.sleep(1 if workers == 1 else 5)  # every worker up and warm
            return server
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


def _own_cpu_s(me: psutil.Process) -> float:
    """This process's (the load client's) user + system CPU seconds so far."""
    times = me.cpu_times()
    return float(times.user + times.system)


def _load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _report_reading(label: str, think_s: float, reading: _Reading, workers: int) -> None:
    tally, seconds = reading.tally, reading.seconds
    total = tally.requests
    base = _p(tally.times["health"], 0.95)
    print(
        f"{label}, think time {think_s:g} s"
        f"{' (capacity: no target)' if think_s == 0 else f' (target: p95 < {TARGET_P95_MS:g} ms)'}"
        f": {total} requests in {seconds:.0f} s by {USERS} "
        f"users, {workers} worker(s) ({total / seconds:.0f}/s), "
        f"{sum(tally.errors.values())} errors; {reading.load}"
    )
    print(
        f"  server CPU {reading.server_cpu_s:.1f} s = {reading.server_cpu_s / seconds:.2f} "
        f"cores busy, {1000 * reading.server_cpu_s / max(total, 1):.1f} ms per request; "
        f"load client CPU {1000 * reading.client_cpu_s / max(total, 1):.2f} ms per request "
        f"({reading.client_cpu_s / seconds:.2f} cores)"
    )
    for kind in KINDS:
        values = tally.times[kind]
        p95 = _p(values, 0.95)
        if kind == "health" or think_s == 0:  # the baseline; the capacity reading
            verdict = ""
        else:
            verdict = " met" if p95 < TARGET_P95_MS else " MISSED"
        print(
            f"  {kind:<14} n={len(values):<6} p50 {_p(values, 0.5):7.1f} ms  "
            f"p95 {p95:7.1f} ms (x{p95 / base:5.1f} /health){verdict}  "
            f"errors {tally.errors[kind]}"
        )
    for example in tally.examples:
        print(f"  error: {example}")


def _report_pages(label: str, pages: dict[str, _Reading]) -> None:
    if not pages:
        return
    print(f"{label}, each page alone ({PAGE_SECONDS:g} s, no think time): server CPU per request")
    for kind, reading in pages.items():
        total = reading.tally.requests
        print(
            f"  {kind:<14} n={total:<6} server {1000 * reading.server_cpu_s / max(total, 1):6.2f}"
            f" ms, client {1000 * reading.client_cpu_s / max(total, 1):5.2f} ms per request, "
            f"{total / reading.seconds:5.0f}/s, errors {sum(reading.tally.errors.values())}; "
            f"{reading.load}"
        )


def _run(label: str, overrides: dict[str, Any], env: dict[str, str]) -> None:
    print(f"{label}:", flush=True)
    users = _prepare(overrides)
    port = _free_port()
    workers = 1 if label == "sqlite" else PG_WORKERS
    server = _serve(env, port, workers)
    try:
        readings, pages = asyncio.run(_load(f"http://127.0.0.1:{port}", users, server))
    finally:
        server.terminate()
        server.wait(timeout=30)
    for think_s, reading in readings:
        _report_reading(label, think_s, reading, workers)
    _report_pages(label, pages)


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
