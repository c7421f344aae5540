"""Fixtures and helpers of the web tests: an app on a real database with the staff personas
(each with a password), clients signed in per role, and a live server for the browser."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.testclient import TestClient

from ketaclinic.cli._web import SERVER_OPTIONS
from ketaclinic.services import PASSWORD_HASHER
from ketaclinic.services.testing import (
    PERSONAS,
    FrozenClock,
    discard_database,
    make_database,
)
from ketaclinic.store import Database, StaffUser
from ketaclinic.web import create_app

#: One persona per role (and the disabled ``outsider``).
ROLE_PERSONAS = {
    "physician": "dr.adams",
    "nurse": "nurse.brown",
    "admin": "admin.davis",
    "researcher": "res.evans",
}


def password_of(username: str) -> str:
    return f"pw for {username}: correct horse battery"


@cache
def _hash(username: str) -> str:
    # Argon2id at 64 MiB takes a while; hash each persona's password once per process.
    return PASSWORD_HASHER.hash(password_of(username))


def add_personas_with_passwords(db: Database, clock: FrozenClock) -> None:
    with db.transaction() as session:
        for username, (name, role) in PERSONAS.items():
            session.add(
                StaffUser(
                    username=username,
                    display_name=name,
                    role=role,
                    password_hash=_hash(username),
                    created_at=clock(),
                    disabled_at=clock() if username == "outsider" else None,
                )
            )


@pytest.fixture
def frozen() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def app_db(tmp_path: Path, frozen: FrozenClock) -> Iterator[Database]:
    """A migrated SQLite database with the personas."""
    db, _ = make_database(tmp_path, "sqlite")
    add_personas_with_passwords(db, frozen)
    yield db
    discard_database(db)


def make_client(db: Database, clock: Any) -> TestClient:
    return TestClient(create_app(db=db, clock=clock, warm=False), follow_redirects=False)


@pytest.fixture
def client(app_db: Database, frozen: FrozenClock) -> Iterator[TestClient]:
    with make_client(app_db, frozen) as c:
        yield c


_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def intake_form(mrn: str) -> dict[str, str]:
    """The intake page's fields for a depressed adult the depression protocol allows."""
    return {
        "mrn": mrn,
        "given_name": "Wren",
        "family_name": "Ng",
        "birth_date": "1979-04-02",
        "sex_at_birth": "female",
        "weight_kg": "68",
        "height_cm": "165",
        "measured_on": "2026-03-01",
        "icd10cm_code_0": "F33.2",
        "diagnosis_text_0": "recurrent major depression",
    }


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in_page(client: TestClient, username: str, password: str | None = None) -> Any:
    """Sign in through the login form; returns the POST's response."""
    form = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password if password is not None else password_of(username),
            "csrf_token": csrf_of(form.text),
            "next": "/",
        },
    )


def api_token(client: TestClient, username: str) -> str:
    answer = client.post(
        "/api/v1/auth/token", json={"username": username, "password": password_of(username)}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


class Staff:
    """Clients signed in as each role (pages: cookie; API: bearer header)."""

    def __init__(self, db: Database, clock: Any, *, reuse: bool = False) -> None:
        self.db, self.clock, self.reuse = db, clock, reuse
        self._clients: list[TestClient] = []
        self._signed_in: dict[tuple[str, str], TestClient] = {}

    def page(self, role_or_user: str) -> TestClient:
        """A client signed in through the login form (reused when the fixture says so)."""
        username = ROLE_PERSONAS.get(role_or_user, role_or_user)
        if self.reuse and ("page", username) in self._signed_in:
            return self._signed_in["page", username]
        c = make_client(self.db, self.clock).__enter__()
        self._clients.append(c)
        assert sign_in_page(c, username).status_code == 303
        self._signed_in["page", username] = c
        return c

    def api(self, role_or_user: str) -> TestClient:
        """A client with a bearer token (reused when the fixture says so)."""
        username = ROLE_PERSONAS.get(role_or_user, role_or_user)
        if self.reuse and ("api", username) in self._signed_in:
            return self._signed_in["api", username]
        c = make_client(self.db, self.clock).__enter__()
        self._clients.append(c)
        c.headers["Authorization"] = f"Bearer {api_token(c, username)}"
        self._signed_in["api", username] = c
        return c

    def anonymous(self) -> TestClient:
        c = make_client(self.db, self.clock).__enter__()
        self._clients.append(c)
        return c

    def close(self) -> None:
        for c in self._clients:
            c.__exit__(None, None, None)


@pytest.fixture
def staff(app_db: Database, frozen: FrozenClock) -> Iterator[Staff]:
    s = Staff(app_db, frozen)
    yield s
    s.close()


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Staff]:
    """One database and signed-in clients (one per role and interface) shared by a module:
    for tests that neither sign out nor change accounts."""
    clock = FrozenClock()
    db, _ = make_database(tmp_path_factory.mktemp("web"), "sqlite")
    add_personas_with_passwords(db, clock)
    s = Staff(db, clock, reuse=True)
    yield s
    s.close()
    discard_database(db)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn serving the app on a free loopback port, in a thread of the test process."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(db=db, warm=False),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            **SERVER_OPTIONS,  # as ``ketaclinic run`` serves
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A running app on a migrated temporary database with the personas (real clock)."""
    db, _ = make_database(tmp_path_factory.mktemp("live"), "sqlite")
    from ketaclinic.services import utc_now

    add_personas_with_passwords(db, FrozenClock(utc_now()))
    with LiveServer(db) as server:
        yield server
    discard_database(db)
