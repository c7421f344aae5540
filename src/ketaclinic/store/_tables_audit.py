"""The audit trail: an append-only, hash-chained log, and the head of its chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.store._base import Base

__all__ = ["GENESIS_HASH", "AuditChainHead", "AuditEvent"]

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """Who did what to which record of which patient, when, from where and why.

    ``hash`` is SHA-256 over the row's content and ``prev_hash`` (see ``_audit``). No foreign
    keys: the trail must also record attempts on records that do not exist.
    """

    __tablename__ = "audit_events"
    __table_args__ = (CheckConstraint("seq > 0", name="seq_positive"),)
    insert_only = True

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime]
    actor_username: Mapped[str] = mapped_column(String(64))
    actor_user_id: Mapped[int | None]
    client_address: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    record_type: Mapped[str | None] = mapped_column(String(100))
    record_id: Mapped[int | None]
    patient_id: Mapped[int | None] = mapped_column(index=True)
    reason: Mapped[str | None]
    details: Mapped[Any | None]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """One row: the last sequence number and hash. Appenders lock it, which keeps the chain
    linear with several writers, and ``audit verify`` compares it with the last event, which
    catches a deleted tail."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
