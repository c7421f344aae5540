"""Sign-in sessions and login attempts: administrative rows of the web application.

A session's token never reaches the database: only its SHA-256 does, so a copy of the
database (a backup, a replica) cannot be used to sign in. Both tables may change (a session
is touched and ended; old attempts may be pruned) and hold no clinical facts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.store._base import Base, vocabulary

__all__ = ["SESSION_KINDS", "LoginAttempt", "StaffSession"]

#: ``browser``: the pages' cookie; ``api``: a bearer token from ``POST /api/v1/auth/token``.
SESSION_KINDS = ("browser", "api")


class StaffSession(Base):
    """One signed-in session of a staff user (a browser cookie or an API bearer token)."""

    __tablename__ = "staff_sessions"
    __table_args__ = (vocabulary("kind", SESSION_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    client_address: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(100))


class LoginAttempt(Base):
    """One attempt to sign in, kept for throttling (by username and by client address)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_attempted_at", "username", "attempted_at"),
        Index("ix_login_attempts_client_address_attempted_at", "client_address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client_address: Mapped[str] = mapped_column(String(100))
    attempted_at: Mapped[datetime]
    succeeded: Mapped[bool]
