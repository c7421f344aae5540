"""schemathesis against /openapi.json, signed in as an admin: every operation, generated
valid and invalid requests, every built-in check (no 500, statuses, bodies and headers as
documented, authentication enforced where declared). 0 failures.

The schema is read from the app at import (pytest 9 breaks schemathesis's lazy fixture
loader), on a database of this module's own in a temporary directory.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from web_helpers import add_personas_with_passwords, api_token, make_client, password_of

from ketaclinic.services import sign_in
from ketaclinic.services.testing import FrozenClock, discard_database, make_database
from ketaclinic.web import create_app

_FOLDER = Path(tempfile.mkdtemp(prefix="ketaclinic-schemathesis-"))
_CLOCK = FrozenClock()
_DB, _ = make_database(_FOLDER, "sqlite")
add_personas_with_passwords(_DB, _CLOCK)
APP = create_app(db=_DB, clock=_CLOCK, warm=False)
with make_client(_DB, _CLOCK) as _client:
    TOKEN = api_token(_client, "admin.davis")
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", APP, headers={"Authorization": f"Bearer {TOKEN}"}
)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    discard_database(_DB)
    shutil.rmtree(_FOLDER, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=40, suppress_health_check=list(HealthCheck), deadline=None)
def test_the_api_keeps_its_schema_for_any_input(case: Any) -> None:
    token = TOKEN
    if case.method == "DELETE":  # revoking a token: use one of its own, keep the admin's
        # (signed in from an address of its own: the fuzzed sign-ins throttle the test client)
        token = sign_in(
            _DB,
            "nurse.clark",
            password_of("nurse.clark"),
            client_address="127.0.0.2",
            kind="api",
            clock=_CLOCK,
        ).token
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
