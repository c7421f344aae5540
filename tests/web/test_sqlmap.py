"""sqlmap (Debian's package) against the running app on loopback: every query parameter of
the audit list (API with a bearer token, page with the session cookie), signed in as an
admin. It finds no injection point. Bounded: level 1, risk 1, 1 s time-based delay, 5 s
request timeout, 240 s at most per target."""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from web_helpers import password_of

SQLMAP = shutil.which("sqlmap")
PARAMETERS = "actor_username,action,record_type,patient_id,occurred_from,sort,order,page,page_size"
QUERY = (
    "actor_username=a&action=b&record_type=c&patient_id=1&occurred_from=2026-01-01T00:00:00Z"
    "&sort=seq&order=desc&page=1&page_size=50"
)


def _require_sqlmap() -> str:
    if SQLMAP is None:
        if os.environ.get("CI"):
            pytest.fail("sqlmap is missing (apt-get install sqlmap; .ci/run installs it)")
        pytest.skip("sqlmap is missing (apt-get install sqlmap)")
    return SQLMAP


def _token(base: str) -> str:
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token",
        data=json.dumps(
            {"username": "admin.davis", "password": password_of("admin.davis")}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.load(answer)["access_token"])


def _sqlmap(tmp_path: Path, url: str, *extra: str) -> str:
    result = subprocess.run(
        [
            _require_sqlmap(), "-u", url, *extra,
            "--batch", "--level", "1", "--risk", "1", "--time-sec", "1", "--timeout", "5",
            "--retries", "0", "--disable-coloring", "--output-dir", str(tmp_path / "sqlmap"),
        ],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    return result.stdout + result.stderr


def _assert_signed_in(out: str) -> None:
    """sqlmap really tested the signed-in route, not a 401 or the sign-in redirect."""
    assert "(Unauthorized)" not in out, out[-2000:]
    assert "redirect" not in out.lower(), out[-2000:]
    assert "testing 'Boolean-based blind" in out


@pytest.mark.slow
def test_sqlmap_finds_no_injection_in_the_audit_api(live_server, tmp_path) -> None:
    token = _token(live_server.url)
    out = _sqlmap(
        tmp_path,
        f"{live_server.url}/api/v1/admin/audit?{QUERY}",
        "-H", f"Authorization: Bearer {token}",
    )  # fmt: skip
    assert "all tested parameters do not appear to be injectable" in out, out[-2000:]
    assert "identified the following injection point" not in out
    _assert_signed_in(out)


@pytest.mark.slow
def test_sqlmap_finds_no_injection_in_the_audit_page(live_server, tmp_path) -> None:
    import urllib.parse

    from starlette.testclient import TestClient  # noqa: F401  (cookie by a real sign-in)

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{live_server.url}/login", timeout=10).read().decode()
    csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
    data = urllib.parse.urlencode(
        {"username": "admin.davis", "password": password_of("admin.davis"), "csrf_token": csrf}
    ).encode()
    opener.open(f"{live_server.url}/login", data=data, timeout=10)
    session = next(c.value for c in jar if c.name == "kc_session")
    out = _sqlmap(
        tmp_path,
        f"{live_server.url}/admin/audit?{QUERY}",
        "--cookie", f"kc_session={session}", "-p", PARAMETERS,
    )  # fmt: skip
    assert "all tested parameters do not appear to be injectable" in out, out[-2000:]
    assert "identified the following injection point" not in out
    _assert_signed_in(out)
