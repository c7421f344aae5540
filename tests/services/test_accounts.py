"""Accounts, passwords and sessions as services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import Type, extract_parameters
from sqlalchemy import select

from ketaclinic.errors import (
    AuthenticationError,
    RecordNotFoundError,
    RefusedError,
    ThrottledError,
    UserInputError,
)
from ketaclinic.services import (
    USERNAME_FAILURE_LIMIT,
    Actor,
    Permission,
    add_staff_user,
    authenticate,
    create_demo_accounts,
    disable_staff_user,
    generate_demo_data,
    list_staff_users,
    permissions_of,
    set_password,
    sign_in,
    sign_out,
)
from ketaclinic.store import LoginAttempt, StaffSession, StaffUser

ADMIN = Actor.command_line("cli:test")
PASSWORD = "a long enough pass phrase"


def _add(db, clock, username="dr.new", role="physician"):
    return add_staff_user(db, ADMIN, username=username, role=role, password=PASSWORD, clock=clock)


def test_passwords_are_argon2id_with_at_least_19_mib_and_2_passes(db, clock) -> None:
    _add(db, clock)
    with db.snapshot() as session:
        stored = session.scalar(select(StaffUser.password_hash))
    params = extract_parameters(stored)
    assert params.type is Type.ID
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2
    assert PASSWORD not in stored


def test_a_session_token_has_256_random_bits_and_only_its_hash_is_stored(db, clock) -> None:
    _add(db, clock)
    first = sign_in(db, "dr.new", PASSWORD, client_address="127.0.0.1", clock=clock)
    second = sign_in(db, "dr.new", PASSWORD, client_address="127.0.0.1", clock=clock)
    assert first.token != second.token
    assert len(first.token) >= 43  # 32 bytes in URL-safe base64
    with db.snapshot() as session:
        stored = session.scalars(select(StaffSession.token_sha256)).all()
    assert first.token not in stored
    assert len(stored) == 2


def test_a_wrong_password_an_unknown_user_and_a_disabled_user_look_the_same(db, clock) -> None:
    _add(db, clock)
    _add(db, clock, "nurse.gone", "nurse")
    disable_staff_user(db, ADMIN, "nurse.gone", clock=clock)
    messages = set()
    for username, password in (
        ("dr.new", "wrong password!!"),
        ("nobody", PASSWORD),
        ("nurse.gone", PASSWORD),
    ):
        with pytest.raises(AuthenticationError) as caught:
            sign_in(db, username, password, client_address="10.0.0.9", clock=clock)
        messages.add(str(caught.value))
    assert messages == {"wrong username or password"}


def test_sign_in_is_throttled_well_before_100_failures(db, clock) -> None:
    _add(db, clock)
    refused: list[ThrottledError] = []
    for _ in range(1, 100):
        try:
            sign_in(db, "dr.new", "wrong password!!", client_address="10.0.0.9", clock=clock)
        except ThrottledError as exc:
            refused.append(exc)
            break
        except AuthenticationError:
            clock.advance(seconds=1)
    assert refused, "100 failures and no throttle"
    assert refused[0].retry_after_s > 0
    with db.snapshot() as session:
        failures = session.scalars(select(LoginAttempt)).all()
    assert len(failures) == USERNAME_FAILURE_LIMIT < 100
    with pytest.raises(ThrottledError):  # even the right password waits
        sign_in(db, "dr.new", PASSWORD, client_address="10.0.0.9", clock=clock)
    clock.advance(minutes=16)
    assert sign_in(db, "dr.new", PASSWORD, client_address="10.0.0.9", clock=clock).token


def test_a_session_ends_after_15_min_idle(db, clock) -> None:
    _add(db, clock)
    new = sign_in(db, "dr.new", PASSWORD, client_address="127.0.0.1", clock=clock)
    clock.advance(minutes=14)
    assert authenticate(db, new.token, kind="browser", clock=clock).username == "dr.new"
    clock.advance(minutes=14)  # active 14 min ago: still alive
    authenticate(db, new.token, kind="browser", clock=clock)
    clock.advance(minutes=15, seconds=1)
    with pytest.raises(AuthenticationError, match="no request for 15 min"):
        authenticate(db, new.token, kind="browser", clock=clock)
    with pytest.raises(AuthenticationError, match="ended"):
        authenticate(db, new.token, kind="browser", clock=clock)


def test_a_session_ends_12_h_after_sign_in_however_active(db, clock) -> None:
    _add(db, clock)
    new = sign_in(db, "dr.new", PASSWORD, client_address="127.0.0.1", clock=clock)
    ended: list[str] = []
    for _ in range(12 * 6 + 1):
        clock.advance(minutes=10)
        try:
            authenticate(db, new.token, kind="browser", clock=clock)
        except AuthenticationError as exc:
            ended.append(str(exc))
            break
    assert ended, "the session outlived 12 h"
    assert "12 h" in ended[0]
    assert clock.at - new.signed_in.signed_in_at > timedelta(hours=12)


def test_disabling_a_user_ends_their_sessions_at_once(db, clock) -> None:
    _add(db, clock)
    new = sign_in(db, "dr.new", PASSWORD, client_address="127.0.0.1", clock=clock)
    api = sign_in(db, "dr.new", PASSWORD, client_address="127.0.0.1", kind="api", clock=clock)
    disable_staff_user(db, ADMIN, "dr.new", clock=clock)
    for token, kind in ((new.token, "browser"), (api.token, "api")):
        with pytest.raises(AuthenticationError, match="user disabled"):
            authenticate(db, token, kind=kind, clock=clock)


def test_sign_out_ends_the_session(db, clock) -> None:
    _add(db, clock)
    new = sign_in(db, "dr.new", PASSWORD, client_address="127.0.0.1", clock=clock)
    assert sign_out(db, new.token, client_address="127.0.0.1", clock=clock)
    assert not sign_out(db, new.token, client_address="127.0.0.1", clock=clock)
    with pytest.raises(AuthenticationError, match="signed out"):
        authenticate(db, new.token, kind="browser", clock=clock)


def test_the_last_active_admin_cannot_be_disabled(db, clock) -> None:
    _add(db, clock, "admin.one", "admin")
    with pytest.raises(RefusedError, match="last active admin"):
        disable_staff_user(db, ADMIN, "admin.one", clock=clock)
    _add(db, clock, "admin.two", "admin")
    assert not disable_staff_user(db, ADMIN, "admin.one", clock=clock).active


@pytest.mark.parametrize(
    ("username", "role", "password", "message"),
    [
        ("Dr.Upper", "physician", PASSWORD, "username"),
        ("", "physician", PASSWORD, "username"),
        ("x" * 65, "physician", PASSWORD, "username"),
        ("dr.ok", "surgeon", PASSWORD, "role"),
        ("dr.ok", "nurse", "short", "12 to 1024"),
    ],
)
def test_bad_account_input_is_refused_with_what_is_accepted(
    db, clock, username, role, password, message
) -> None:
    with pytest.raises(UserInputError, match=message):
        add_staff_user(db, ADMIN, username=username, role=role, password=password, clock=clock)


def test_a_taken_username_is_refused(db, clock) -> None:
    _add(db, clock)
    with pytest.raises(RefusedError, match="taken"):
        _add(db, clock)


def test_demo_accounts_are_one_per_role_and_made_only_once(db, clock) -> None:
    made = create_demo_accounts(db, ADMIN, clock=clock)
    assert sorted(role for role, _ in made.values()) == [
        "admin",
        "nurse",
        "physician",
        "researcher",
    ]
    for username, (_, password) in made.items():
        assert sign_in(db, username, password, client_address="127.0.0.1", clock=clock)
    assert len(list_staff_users(db, ADMIN)) == 4
    with pytest.raises(RefusedError):
        create_demo_accounts(db, ADMIN, clock=clock)


def test_the_demo_clinic_team_gets_one_password_per_role(db, clock) -> None:
    generate_demo_data(db, ADMIN, patients=3, seed=1, clock=clock)
    made = create_demo_accounts(db, ADMIN, clock=clock)
    assert sorted(made) == ["demo.admin", "demo.dr.ames", "demo.research", "demo.rn.diaz"]
    for username, (_, password) in made.items():
        assert sign_in(db, username, password, client_address="127.0.0.1", clock=clock)
    others = [a for a in list_staff_users(db, ADMIN) if a.username not in made]
    assert others  # the rest of the team has no password: nobody can sign in as them
    with pytest.raises(AuthenticationError):
        sign_in(db, others[0].username, "", client_address="127.0.0.1", clock=clock)


def test_a_new_password_ends_the_sessions_of_the_account(db, clock) -> None:
    _add(db, clock)
    new = sign_in(db, "dr.new", PASSWORD, client_address="127.0.0.1", clock=clock)
    set_password(db, ADMIN, "dr.new", "another long pass phrase", clock=clock)
    with pytest.raises(AuthenticationError, match="password changed"):
        authenticate(db, new.token, kind="browser", clock=clock)
    with pytest.raises(RecordNotFoundError):
        set_password(db, ADMIN, "nobody", "another long pass phrase", clock=clock)


def test_the_permission_table_keeps_signing_to_physicians() -> None:
    assert Permission.ORDER_SIGN in permissions_of("physician")
    assert Permission.ORDER_SIGN not in permissions_of("nurse")
    assert Permission.ORDER_OVERRIDE not in permissions_of("nurse")
    assert Permission.PATIENT_READ not in permissions_of("admin")
    assert permissions_of("researcher") == {Permission.COHORT_READ}
    with pytest.raises(UserInputError):
        permissions_of("janitor")


def test_a_busy_session_is_written_at_most_every_30_s_and_idle_logoff_stays_within_30_s(
    db, clock
) -> None:
    """Requests every 5 s for 2 min write the session row 4 times, not 24. The idle logoff
    counts from the last write, which is at most 30 s older than the last request: it comes
    between 14.5 and 15 min after the last request, never later."""
    from sqlalchemy import event

    _add(db, clock)
    new = sign_in(db, "dr.new", PASSWORD, client_address="127.0.0.1", clock=clock)
    writes: list[str] = []

    @event.listens_for(db.writer_engine, "before_cursor_execute")
    def count(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("UPDATE STAFF_SESSIONS"):
            writes.append(statement)

    for _ in range(24):
        clock.advance(seconds=5)
        authenticate(db, new.token, kind="browser", clock=clock)
    assert len(writes) == 4  # at 30, 60, 90 and 120 s
    clock.advance(seconds=25)
    authenticate(db, new.token, kind="browser", clock=clock)  # 25 s after the last write
    assert len(writes) == 4
    last_request = clock()
    clock.advance(minutes=14, seconds=36)  # 15 min 1 s after the last write
    with pytest.raises(AuthenticationError, match="no request for 15 min"):
        authenticate(db, new.token, kind="browser", clock=clock)
    assert timedelta(minutes=14, seconds=30) < clock() - last_request < timedelta(minutes=15)
