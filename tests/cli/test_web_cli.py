"""``ketaclinic run`` and ``ketaclinic users``: real processes on a temporary data dir."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

KETACLINIC = [str(Path(sys.executable).parent / "ketaclinic")]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_")}
    env["KETACLINIC_DATA_DIR"] = str(tmp_path / "data")
    return env


def _cli(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KETACLINIC, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_users_add_list_and_disable(tmp_path: Path) -> None:
    assert _cli(tmp_path, "db", "upgrade").returncode == 0
    added = _cli(
        tmp_path,
        "users", "add", "--username", "admin.one", "--role", "admin", "--password-stdin",
        stdin="a long enough password\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    _cli(
        tmp_path,
        "users", "add", "--username", "nurse.one", "--role", "nurse", "--password-stdin",
        stdin="another long password\n",
    )  # fmt: skip
    listed = json.loads(_cli(tmp_path, "users", "list", "--json").stdout)
    assert [u["username"] for u in listed["users"]] == ["admin.one", "nurse.one"]
    assert _cli(tmp_path, "users", "disable", "nurse.one").returncode == 0
    listed = json.loads(_cli(tmp_path, "users", "list", "--json").stdout)
    assert [u["active"] for u in listed["users"]] == [True, False]


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (["--username", "x", "--role", "surgeon", "--password-stdin"], "long enough pw!!\n", 2,
         "role"),
        (["--username", "x", "--role", "nurse", "--password-stdin"], "short\n", 2, "12 to 1024"),
        (["--username", "x", "--role", "nurse"], "", 2, "--password-stdin"),
        (["--username", "x", "--role", "nurse", "--password-stdin"], "", 2, "no password"),
    ],
)  # fmt: skip
def test_bad_user_input_exits_2_with_one_line(tmp_path, args, stdin, code, message) -> None:
    _cli(tmp_path, "db", "upgrade")
    result = _cli(tmp_path, "users", "add", *args, stdin=stdin)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_taken_username_exits_3(tmp_path: Path) -> None:
    _cli(tmp_path, "db", "upgrade")
    args = ["users", "add", "--username", "dup", "--role", "nurse", "--password-stdin"]
    assert _cli(tmp_path, *args, stdin="long enough password\n").returncode == 0
    again = _cli(tmp_path, *args, stdin="long enough password\n")
    assert again.returncode == 3
    assert "taken" in again.stderr


def test_several_workers_on_sqlite_are_refused(tmp_path: Path) -> None:
    result = _cli(tmp_path, "run", "--workers", "2")
    assert result.returncode == 2
    assert "PostgreSQL" in result.stderr


def test_run_starts_a_demo_clinic_and_prints_the_demo_passwords_once(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [*KETACLINIC, "run", "--port", str(port), "--demo-patients", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(tmp_path),
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "Uvicorn running on" in line or not line:
                break
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as answer:
            assert json.load(answer)["status"] == "ok"
        demo = [line for line in lines if line.startswith("DEMO ") and "password" in line]
        assert len(demo) == 4, lines
        token_request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/auth/token",
            data=json.dumps(
                {"username": demo[0].split()[1], "password": demo[0].split()[-1]}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(token_request, timeout=10) as answer:
            assert json.load(answer)["token_type"] == "bearer"
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert any(line.startswith("demo clinic: 20 patients") for line in lines)
    # the engine is made ready, and said so, before the address is announced
    ready = next(i for i, line in enumerate(lines) if line.startswith("pharmacology engine ready"))
    announced = next(i for i, line in enumerate(lines) if line.startswith("ketaclinic on http"))
    assert ready < announced, lines
    again = json.loads(_cli(tmp_path, "users", "list", "--json").stdout)["users"]
    assert {u["role"] for u in again} == {"physician", "nurse", "admin", "researcher"}
    restarted = _cli(tmp_path, "run", "--workers", "2")  # refused before anything is made
    assert "DEMO" not in restarted.stdout


def test_several_workers_share_sessions_on_postgresql(tmp_path: Path) -> None:
    """Two worker processes on PostgreSQL: a token from one works on every request, whichever
    worker answers (the processes keep no state; sessions are in the database)."""
    from ketaclinic.services.testing import discard_database, make_database, require_postgres

    require_postgres()
    db, settings = make_database(tmp_path, "postgresql", migrated=False)
    env = _env(tmp_path)
    env["KETACLINIC_DATABASE_URL"] = str(settings.database_url)
    port = _free_port()
    process = subprocess.Popen(
        [*KETACLINIC, "run", "--port", str(port), "--workers", "2", "--demo-patients", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        started = 0
        deadline = time.monotonic() + 180
        while started < 2 and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            started += "Application startup complete" in line
        assert started == 2, lines
        admin = next(line for line in lines if line.startswith("DEMO  demo.admin"))
        token_request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/auth/token",
            data=json.dumps({"username": "demo.admin", "password": admin.split()[-1]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(token_request, timeout=10) as answer:
            token = json.load(answer)["access_token"]
        for _ in range(20):  # a new connection each time: the kernel spreads them
            me = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
            )
            with urllib.request.urlopen(me, timeout=10) as answer:
                assert json.load(answer)["role"] == "admin"
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
        discard_database(db)
