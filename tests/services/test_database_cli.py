"""``ketaclinic db upgrade|check``, ``backup``, ``restore``, ``audit verify``: output and exit
codes (0 ok, 2 bad input, 3 refused, 4 integrity failure), with ``--json``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ketaclinic.cli import app
from ketaclinic.cli._app import run_app


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(data))
    monkeypatch.delenv("KETACLINIC_DATABASE_URL", raising=False)
    return data


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_app(app, list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_upgrade_then_check_then_verify(clinic: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0
    assert "upgraded from empty to" in out
    code, out, _ = run(capsys, "db", "upgrade", "--json")
    assert (code, json.loads(out)["applied"]) == (0, [])
    code, out, _ = run(capsys, "db", "check", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["ok"]
    assert report["up_to_date"]
    assert report["sqlite"]["single_writer"] is True
    assert report["durability"]["journal_mode"] == "wal"
    code, out, _ = run(capsys, "db", "check")
    assert code == 0
    assert "protection: SQLite" in out
    code, out, _ = run(capsys, "audit", "verify", "--json")
    assert code == 0
    assert json.loads(out)["events_checked"] == 1


def test_check_without_a_schema_fails(clinic: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "db", "check")
    assert code == 4


def test_backup_and_restore_round_trip(
    clinic: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(capsys, "db", "upgrade")
    file = tmp_path / "b.backup"
    code, out, _ = run(capsys, "backup", str(file), "--json")
    assert code == 0
    written = json.loads(out)
    code, _, err = run(capsys, "backup", str(file))
    assert code == 2
    assert "already exists" in err
    code, _, err = run(capsys, "restore", str(file))
    assert code == 3
    assert "empty database" in err
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(tmp_path / "other"))
    code, out, _ = run(capsys, "restore", str(file), "--json")
    assert code == 0
    assert json.loads(out)["file_sha256"] == written["file_sha256"]
    code, _, _ = run(capsys, "audit", "verify")
    assert code == 0


def test_a_modified_backup_exits_4(
    clinic: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(capsys, "db", "upgrade")
    file = tmp_path / "b.backup"
    run(capsys, "backup", str(file))
    data = bytearray(file.read_bytes())
    data[10] ^= 0x01
    file.write_bytes(bytes(data))
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(tmp_path / "other"))
    code, out, err = run(capsys, "restore", str(file), "--json")
    assert code == 4
    assert json.loads(out)["exit_code"] == 4
    assert "modified" in err


def test_a_tampered_audit_trail_exits_4(clinic: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "db", "upgrade")
    conn = sqlite3.connect(clinic / "ketaclinic.sqlite3")
    conn.execute("DROP TRIGGER audit_events_refuse_update")
    conn.execute("UPDATE audit_events SET actor_username = 'mallory'")
    conn.commit()
    conn.close()
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 4
    assert "edited" in out
    code, out, _ = run(capsys, "db", "check", "--json")
    assert code == 4
    assert "lost its insert-only triggers" in " ".join(json.loads(out)["problems"])


def test_a_bad_setting_exits_2_with_one_line(
    clinic: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETACLINIC_DATABASE_URL", "mysql://root@localhost/x")
    code, _, err = run(capsys, "db", "check")
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("error: KETACLINIC_DATABASE_URL='mysql://root@localhost/x'")
