"""Staff accounts and chairs: administrative rows that may change (never clinical facts); the
clinic's price list, a setting kept as insert-only versions."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.store._base import Base, vocabulary

__all__ = ["ROLES", "Chair", "ClinicPriceList", "StaffUser"]

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


class ClinicPriceList(Base):
    """One version of the clinic's prices, in integer minor units of ``currency``.

    A price change is a new row (the table is insert-only); charges keep the unit prices they
    were made with and the version (``charges.price_list_id``). ``demo`` marks illustrative
    figures, never published prices."""

    __tablename__ = "clinic_price_lists"
    __table_args__ = (
        CheckConstraint("length(currency) = 3 AND upper(currency) = currency", name="currency"),
        CheckConstraint(
            "ketamine_vial_mg > 0 AND patients_per_nurse >= 1 AND ketamine_vial_minor >= 0 "
            "AND esketamine_device_minor >= 0 AND chair_per_15_min_minor >= 0 "
            "AND monitoring_per_session_minor >= 0 AND nurse_per_hour_minor >= 0",
            name="amounts",
        ),
        CheckConstraint("length(label) > 0", name="label_not_empty"),
    )
    insert_only: ClassVar[bool] = True

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    ketamine_vial_mg: Mapped[float]
    ketamine_vial_minor: Mapped[int] = mapped_column(BigInteger)
    esketamine_device_minor: Mapped[int] = mapped_column(BigInteger)
    chair_per_15_min_minor: Mapped[int] = mapped_column(BigInteger)
    monitoring_per_session_minor: Mapped[int] = mapped_column(BigInteger)
    nurse_per_hour_minor: Mapped[int] = mapped_column(BigInteger)
    patients_per_nurse: Mapped[int]
    demo: Mapped[bool]
    label: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None]
    set_at: Mapped[datetime]
    set_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
