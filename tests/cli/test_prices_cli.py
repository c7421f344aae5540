"""``ketaclinic prices show|set``: the DEMO list on a new clinic, a new version set as the
clinic's manager, refusals with exit codes (2 bad input, 3 refused), JSON with ``--json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

KETACLINIC = [str(Path(sys.executable).parent / "ketaclinic")]


def _cli(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_")}
    env["KETACLINIC_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [*KETACLINIC, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def test_prices_show_then_set_as_the_clinic_manager(tmp_path: Path) -> None:
    assert _cli(tmp_path, "db", "upgrade").returncode == 0
    shown = json.loads(_cli(tmp_path, "prices", "show", "--json").stdout)
    assert (shown["version"], shown["demo"]) == (0, True)
    assert shown["label"].startswith("DEMO prices")
    for username, role in (("mgr.one", "admin"), ("rn.one", "nurse")):
        added = _cli(
            tmp_path,
            "users", "add", "--username", username, "--role", role, "--password-stdin",
            stdin="a long enough password\n",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    refused = _cli(
        tmp_path, "prices", "set", "--as", "rn.one", "--reason", "x", "--currency", "USD"
    )
    assert refused.returncode == 3
    assert "needs an admin (permission prices.set); 'rn.one' is a nurse" in refused.stderr
    bad = _cli(tmp_path, "prices", "set", "--as", "mgr.one", "--reason", "x", "--currency", "euro")
    assert bad.returncode == 2
    assert "currency 'euro' is not accepted; accepted: an ISO 4217 code" in bad.stderr
    done = _cli(
        tmp_path,
        "prices", "set", "--as", "mgr.one", "--reason", "2027 tariff",
        "--chair-per-15-min-minor", "2700", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    version = json.loads(done.stdout)
    assert (version["version"], version["demo"], version["set_by"]) == (1, False, "mgr.one")
    assert version["prices"]["chair_per_15_min_minor"] == 2700
    history = json.loads(_cli(tmp_path, "prices", "show", "--history", "--json").stdout)
    assert [v["version"] for v in history["versions"]] == [0, 1]
    text = _cli(tmp_path, "prices", "show").stdout
    assert "price list version 1, set" in text
    assert "2700  minor units per started 15 min of chair time" in text
    assert _cli(tmp_path, "audit", "verify").returncode == 0
