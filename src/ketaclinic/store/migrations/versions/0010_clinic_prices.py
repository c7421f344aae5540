"""The clinic's price list as versioned settings, and the version each charge was priced with.

Revision ID: 0010
Revises: 0009

``clinic_price_lists`` is insert-only (a price change is a new version, never an edit), so a
new price never rewrites a past charge: charges keep their unit prices and, in the new
nullable ``charges.price_list_id``, the version that priced them (NULL for charges made before
this migration or priced by hand). No rows are written or changed: until a clinic manager
sets its prices the services use the built-in list, labelled DEMO.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from ketaclinic.store._guards import grant_statements, refuse_change_statements

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "clinic_price_lists"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("ketamine_vial_mg", sa.Double(), nullable=False),
        sa.Column("ketamine_vial_minor", sa.BigInteger(), nullable=False),
        sa.Column("esketamine_device_minor", sa.BigInteger(), nullable=False),
        sa.Column("chair_per_15_min_minor", sa.BigInteger(), nullable=False),
        sa.Column("monitoring_per_session_minor", sa.BigInteger(), nullable=False),
        sa.Column("nurse_per_hour_minor", sa.BigInteger(), nullable=False),
        sa.Column("patients_per_nurse", sa.Integer(), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "length(currency) = 3 AND upper(currency) = currency",
            name=op.f(f"ck_{TABLE}_currency"),
        ),
        sa.CheckConstraint(
            "ketamine_vial_mg > 0 AND patients_per_nurse >= 1 AND ketamine_vial_minor >= 0 "
            "AND esketamine_device_minor >= 0 AND chair_per_15_min_minor >= 0 "
            "AND monitoring_per_session_minor >= 0 AND nurse_per_hour_minor >= 0",
            name=op.f(f"ck_{TABLE}_amounts"),
        ),
        sa.CheckConstraint("length(label) > 0", name=op.f(f"ck_{TABLE}_label_not_empty")),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["staff_users.id"], name=op.f(f"fk_{TABLE}_set_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.add_column("charges", sa.Column("price_list_id", sa.Integer(), nullable=True))
    dialect = op.get_bind().dialect.name
    for statement in refuse_change_statements(dialect, (TABLE,)):
        op.execute(statement)
    if dialect == "postgresql":
        role = context.config.attributes.get("app_role", "ketaclinic_app")
        for statement in grant_statements(role, (TABLE,), (), "audit_chain_head"):
            op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("ketaclinic migrations go forward only: restore a backup instead")
