"""Staff accounts, passwords and signed-in sessions.

Passwords are hashed with Argon2id, RFC 9106's second recommended profile ("low memory"):
64 MiB, 3 passes, 4 lanes (RFC 9106 section 4; OWASP's Password Storage Cheat Sheet asks at
least 19 MiB and 2 passes). A session is a random 256-bit token (``secrets``); only its
SHA-256 is stored, so a copy of the database cannot sign anyone in. A session ends when the
user signs out, when it has seen no request for ``KETACLINIC_SESSION_IDLE_TIMEOUT_MIN``
(15 min), ``KETACLINIC_SESSION_MAX_AGE_H`` (12 h) after sign-in, and at once when its user is
disabled. ``last_seen_at`` is written at most every 30 s (a write per request would
serialise every page on SQLite's single writer), so a session may end up to 30 s early,
never late.

Managing accounts (add, disable, set a password, list) needs ``users.manage`` in
``ROLE_PERMISSIONS`` (the admin); the command line's operator (``Actor.is_operator``: ``ketaclinic
users``, the first admin and the demo accounts at ``run``) acts with the admin role's.

Sign-in throttling: after 5 failed attempts for one username (since its last success) within
15 min, or 20 from one client address, further attempts are refused without looking at the
password until the oldest counted failure is 15 min old (OWASP Authentication Cheat Sheet,
"Account lockout"; NIST SP 800-63B section 5.2.2 allows at most 100 consecutive failures).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import func, select

from ketaclinic.errors import (
    AuthenticationError,
    RecordNotFoundError,
    RefusedError,
    ThrottledError,
    UserInputError,
)
from ketaclinic.services._audit import Actor, Clock, audited_read, audited_transaction, utc_now
from ketaclinic.services._inputs import authorize_admin
from ketaclinic.services._permissions import Permission, permissions_of
from ketaclinic.store import (
    ROLES,
    SESSION_KINDS,
    Database,
    LoginAttempt,
    StaffSession,
    StaffUser,
    end_sessions_of_user,
    failed_logins_since,
    session_by_token_hash,
)

__all__ = [
    "ADDRESS_FAILURE_LIMIT",
    "PASSWORD_HASHER",
    "PASSWORD_MAX_CHARS",
    "PASSWORD_MIN_CHARS",
    "THROTTLE_WINDOW_MIN",
    "USERNAME_FAILURE_LIMIT",
    "NewSession",
    "SignedIn",
    "StaffAccount",
    "add_staff_user",
    "authenticate",
    "count_staff_users",
    "create_demo_accounts",
    "disable_staff_user",
    "list_staff_users",
    "set_password",
    "sign_in",
    "sign_out",
]

#: Argon2id, RFC 9106 section 4, second recommended option (64 MiB, t=3, p=4).
PASSWORD_HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
PASSWORD_MIN_CHARS = 12  # NIST SP 800-63B-4 section 3.1.1.2: at least 8; we ask 12
PASSWORD_MAX_CHARS = 1024  # long pass phrases allowed (>= 64 per NIST), bounded hashing work
USERNAME_FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 20
THROTTLE_WINDOW_MIN = 15
TOUCH_INTERVAL_S = 30

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_USERNAME_ACCEPTED = "1 to 64 characters: lower-case letters, digits and . _ - (not first)"
# Verified against when a username does not exist, so that the answer takes as long.
_DUMMY_HASH = PASSWORD_HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class StaffAccount:
    """A staff account as the interfaces see it (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    created_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "created_at": self.created_at.isoformat(),
            "disabled_at": None if self.disabled_at is None else self.disabled_at.isoformat(),
            "active": self.active,
        }


def _account(user: StaffUser) -> StaffAccount:
    return StaffAccount(
        user.id, user.username, user.display_name, user.role, user.created_at, user.disabled_at
    )


@dataclass(frozen=True)
class SignedIn:
    """The user behind a valid session, with the permissions of their role."""

    user_id: int
    username: str
    display_name: str
    role: str
    session_id: int
    kind: str
    signed_in_at: datetime
    permissions: frozenset[Permission]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def actor(self, client_address: str) -> Actor:
        """The ``Actor`` the services audit this user's requests as."""
        return Actor(self.username, client_address[:100] or "unknown", self.user_id)


@dataclass(frozen=True)
class NewSession:
    """A session just created: ``token`` is shown once (cookie or bearer) and never stored."""

    token: str
    signed_in: SignedIn
    expires_at: datetime


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_username(username: str) -> str:
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        raise UserInputError(f"username {username!r:.80} is not accepted; {_USERNAME_ACCEPTED}")
    return username


def check_password(password: str) -> str:
    if not isinstance(password, str) or not (
        PASSWORD_MIN_CHARS <= len(password) <= PASSWORD_MAX_CHARS
    ):
        raise UserInputError(
            f"a password needs {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters"
        )
    return password


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise UserInputError(f"role {role!r:.40} is not known; accepted: {', '.join(ROLES)}")
    return role


def add_staff_user(
    db: Database,
    actor: Actor,
    *,
    username: str,
    role: str,
    password: str,
    display_name: str | None = None,
    clock: Clock = utc_now,
) -> StaffAccount:
    """Create an account with an Argon2id password hash (audited)."""
    check_username(username)
    _check_role(role)
    check_password(password)
    name = (display_name or username).strip()
    if not 1 <= len(name) <= 200:
        raise UserInputError("a display name needs 1 to 200 characters")
    password_hash = PASSWORD_HASHER.hash(password)
    with audited_transaction(db, actor, clock) as uc:
        authorize_admin(uc, Permission.USERS_MANAGE, "adding a staff account")
        taken = uc.session.scalar(select(StaffUser.id).where(StaffUser.username == username))
        if taken is not None:
            raise RefusedError(f"username {username!r} is taken; choose another")
        user = StaffUser(
            username=username,
            display_name=name,
            role=role,
            password_hash=password_hash,
            created_at=uc.now,
            disabled_at=None,
        )
        uc.session.add(user)
        uc.session.flush()
        uc.audit(
            "staff_user.add",
            record_type="staff_users",
            record_id=user.id,
            details={"username": username, "role": role},
        )
        return _account(user)


def disable_staff_user(
    db: Database, actor: Actor, username: str, *, clock: Clock = utc_now
) -> StaffAccount:
    """Disable an account and end its sessions at once (audited). The last active admin
    cannot be disabled: nobody could manage accounts afterwards."""
    with audited_transaction(db, actor, clock) as uc:
        authorize_admin(uc, Permission.USERS_MANAGE, "disabling a staff account")
        user = uc.session.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is None:
            raise RecordNotFoundError(f"no staff user is called {username!r:.80}")
        if user.disabled_at is not None:
            return _account(user)
        if user.role == "admin":
            admins = uc.session.scalar(
                select(func.count()).where(
                    StaffUser.role == "admin", StaffUser.disabled_at.is_(None)
                )
            )
            if admins == 1:
                raise RefusedError(
                    f"{username} is the last active admin; add another admin before disabling it"
                )
        user.disabled_at = uc.now
        ended = end_sessions_of_user(uc.session, user.id, uc.now, "user disabled")
        uc.audit(
            "staff_user.disable",
            record_type="staff_users",
            record_id=user.id,
            details={"username": username, "sessions_ended": ended},
        )
        return _account(user)


def list_staff_users(
    db: Database, actor: Actor, *, clock: Clock = utc_now
) -> tuple[StaffAccount, ...]:
    """Every account, by username (``users.manage``: the admin, or the command line)."""
    with audited_read(db, actor, clock) as uc:
        authorize_admin(uc, Permission.USERS_MANAGE, "listing the staff accounts")
        users = uc.session.scalars(select(StaffUser).order_by(StaffUser.username)).all()
        uc.audit("staff_user.list", record_type="staff_users", details={"accounts": len(users)})
        return tuple(_account(u) for u in users)


def count_staff_users(db: Database, *, with_password: bool = False) -> int:
    """How many accounts there are (``with_password``: that can sign in)."""
    query = select(func.count()).select_from(StaffUser)
    if with_password:
        query = query.where(StaffUser.password_hash.is_not(None))
    with db.snapshot() as session:
        return int(session.scalar(query) or 0)


def _throttle(db: Database, username: str, address: str, now: datetime) -> None:
    window = timedelta(minutes=THROTTLE_WINDOW_MIN)
    with db.snapshot() as session:
        by_user, oldest_user = failed_logins_since(session, now - window, username=username)
        by_address, oldest_address = failed_logins_since(session, now - window, address=address)
    for count, limit, oldest in (
        (by_user, USERNAME_FAILURE_LIMIT, oldest_user),
        (by_address, ADDRESS_FAILURE_LIMIT, oldest_address),
    ):
        if count >= limit and oldest is not None:
            wait_s = max(1, int((oldest + window - now).total_seconds()) + 1)
            raise ThrottledError(
                f"too many failed sign-ins ({count} in {THROTTLE_WINDOW_MIN} min); try again "
                f"in {(wait_s + 59) // 60} min",
                wait_s,
            )


def sign_in(
    db: Database,
    username: str,
    password: str,
    *,
    client_address: str,
    kind: str = "browser",
    clock: Clock = utc_now,
) -> NewSession:
    """Check a username and password and open a session with a new random token.

    Raises :class:`ThrottledError` while too many attempts failed, and
    :class:`AuthenticationError` ("wrong username or password") for an unknown user, a
    disabled one, or a wrong password alike. Every attempt is recorded and audited.
    """
    if kind not in SESSION_KINDS:
        raise UserInputError(f"session kind {kind!r} is not known; accepted: {SESSION_KINDS}")
    address = (client_address or "unknown")[:100]
    name = username[:64] if isinstance(username, str) else ""
    now = clock()
    _throttle(db, name, address, now)
    with db.snapshot() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == name))
        stored = user.password_hash if user is not None else None
    ok = False
    try:
        ok = PASSWORD_HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and user.disabled_at is None
    actor = Actor(name or "anonymous", address, user.id if (ok and user) else None)
    with audited_transaction(db, actor, clock) as uc:
        uc.session.add(
            LoginAttempt(username=name, client_address=address, attempted_at=now, succeeded=ok)
        )
        if not ok or user is None:
            uc.audit("auth.sign_in_failed", details={"kind": kind})
            new: NewSession | None = None
        else:
            token = secrets.token_urlsafe(32)
            row = StaffSession(
                token_sha256=token_sha256(token),
                user_id=user.id,
                kind=kind,
                client_address=address,
                created_at=now,
                last_seen_at=now,
            )
            uc.session.add(row)
            if stored is not None and PASSWORD_HASHER.check_needs_rehash(stored):
                fresh = uc.session.get(StaffUser, user.id)
                assert fresh is not None
                fresh.password_hash = PASSWORD_HASHER.hash(password)
            uc.session.flush()
            uc.audit("auth.sign_in", record_type="staff_sessions", record_id=row.id)
            max_age = timedelta(hours=db.settings.session_max_age_h)
            new = NewSession(token, _signed_in(user, row), now + max_age)
    if new is None:
        raise AuthenticationError("wrong username or password")
    return new


def _signed_in(user: StaffUser, row: StaffSession) -> SignedIn:
    return SignedIn(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        session_id=row.id,
        kind=row.kind,
        signed_in_at=row.created_at,
        permissions=permissions_of(user.role),
    )


def authenticate(db: Database, token: str, *, kind: str, clock: Clock = utc_now) -> SignedIn:
    """The user behind a session token; ends the session when it has run out.

    Raises :class:`AuthenticationError` for an unknown token, one of another kind (a cookie
    used as a bearer token or the reverse), or a session that has ended, saying why.
    """
    if not token or len(token) > 200:
        raise AuthenticationError("not signed in")
    digest = token_sha256(token)
    now = clock()
    with db.snapshot() as session:
        found = session_by_token_hash(session, digest)
    if found is None or found[0].kind != kind:
        raise AuthenticationError("not signed in")
    row, user = found
    if row.ended_at is not None:
        raise AuthenticationError(f"your session has ended ({row.end_reason}); sign in again")
    settings = db.settings
    reason = None
    if user.disabled_at is not None:
        reason = "user disabled"
    elif now - row.last_seen_at > timedelta(minutes=settings.session_idle_timeout_min):
        reason = f"no request for {settings.session_idle_timeout_min} min"
    elif now - row.created_at > timedelta(hours=settings.session_max_age_h):
        reason = f"signed in more than {settings.session_max_age_h} h ago"
    if reason is not None:
        with db.transaction() as session:
            live = session.get(StaffSession, row.id)
            if live is not None and live.ended_at is None:
                live.ended_at, live.end_reason = now, reason
        raise AuthenticationError(f"your session has ended ({reason}); sign in again")
    if (now - row.last_seen_at).total_seconds() >= TOUCH_INTERVAL_S:
        with db.transaction() as session:
            live = session.get(StaffSession, row.id)
            if live is not None and live.ended_at is None:
                live.last_seen_at = now
    return _signed_in(user, row)


def sign_out(db: Database, token: str, *, client_address: str, clock: Clock = utc_now) -> bool:
    """End the session of ``token`` (audited); ``False`` when there was none open."""
    if not token or len(token) > 200:
        return False
    digest = token_sha256(token)
    with db.snapshot() as session:
        found = session_by_token_hash(session, digest)
    if found is None or found[0].ended_at is not None:
        return False
    row, user = found
    actor = Actor(user.username, (client_address or "unknown")[:100], user.id)
    with audited_transaction(db, actor, clock) as uc:
        live = uc.session.get(StaffSession, row.id)
        if live is None or live.ended_at is not None:
            return False
        live.ended_at, live.end_reason = uc.now, "signed out"
        uc.audit("auth.sign_out", record_type="staff_sessions", record_id=row.id)
    return True


def create_demo_accounts(
    db: Database, actor: Actor, *, clock: Clock = utc_now
) -> dict[str, tuple[str, str]]:
    """Give one demo account per role a random password; returns username -> (role, password).

    The demo clinic's team (``demo-data``) has no passwords: the first of each role gets
    one; a role without a demo member gets a new ``demo.<role>`` account. Only while no
    account has a password (the first start): demo passwords are printed once, on the console.
    """
    with db.snapshot() as session:
        if session.scalar(select(func.count()).where(StaffUser.password_hash.is_not(None))):
            raise RefusedError(
                "the clinic already has accounts with passwords; demo accounts are made once"
            )
        team = session.scalars(
            select(StaffUser)
            .where(StaffUser.username.startswith("demo."), StaffUser.disabled_at.is_(None))
            .order_by(StaffUser.id)
        ).all()
    first_of_role: dict[str, str] = {}
    for user in team:
        first_of_role.setdefault(user.role, user.username)
    made: dict[str, tuple[str, str]] = {}
    for role in ROLES:
        password = secrets.token_urlsafe(12)
        username = first_of_role.get(role)
        if username is None:
            username = f"demo.{role}"
            add_staff_user(
                db,
                actor,
                username=username,
                role=role,
                password=password,
                display_name=f"Demo {role}",
                clock=clock,
            )
        else:
            set_password(db, actor, username, password, clock=clock)
        made[username] = (role, password)
    return made


def set_password(
    db: Database, actor: Actor, username: str, password: str, *, clock: Clock = utc_now
) -> StaffAccount:
    """Set (or replace) an account's password; its open sessions end (audited)."""
    check_password(password)
    password_hash = PASSWORD_HASHER.hash(password)
    with audited_transaction(db, actor, clock) as uc:
        authorize_admin(uc, Permission.USERS_MANAGE, "setting a password")
        user = uc.session.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is None:
            raise RecordNotFoundError(f"no staff user is called {username!r:.80}")
        user.password_hash = password_hash
        ended = end_sessions_of_user(uc.session, user.id, uc.now, "password changed")
        uc.audit(
            "staff_user.set_password",
            record_type="staff_users",
            record_id=user.id,
            details={"username": username, "sessions_ended": ended},
        )
        return _account(user)
