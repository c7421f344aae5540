"""Staff accounts and chairs: administrative rows that may change (never clinical facts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.store._base import Base, vocabulary

__all__ = ["ROLES", "Chair", "StaffUser"]

ROLES = ("physician", "nurse", "admin", "researcher")


class StaffUser(Base):
    """A member of the clinic team. ``password_hash`` is set by the web application's login."""

    __tablename__ = "staff_users"
    __table_args__ = (
        vocabulary("role", ROLES),
        CheckConstraint("length(username) > 0", name="username_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None]
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class Chair(Base):
    """A treatment chair or bed that sessions are scheduled on."""

    __tablename__ = "chairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    location: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]
