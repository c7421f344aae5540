"""The hash-chained audit trail and the head of its chain.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ketaclinic.store._guards import refuse_change_statements

GENESIS_HASH = "0" * 64  # the chain's first prev_hash (_tables_audit.GENESIS_HASH)
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Tables of this revision that are insert-only (clinical records, the audit trail).
INSERT_ONLY = ("audit_events",)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_username", sa.String(length=64), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("client_address", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("record_type", sa.String(length=100), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("seq > 0", name=op.f("ck_audit_events_seq_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_events_seq")),
    )
    op.create_index(
        op.f("ix_audit_events_patient_id"), "audit_events", ["patient_id"], unique=False
    )
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.execute(
        sa.text(
            "INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, 0, :genesis)"
        ).bindparams(genesis=GENESIS_HASH)
    )
    for statement in refuse_change_statements(op.get_bind().dialect.name, INSERT_ONLY):
        op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("ketaclinic migrations go forward only: restore a backup instead")
