"""Treatment courses, orders and their checks, opioid use.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ketaclinic.store._guards import refuse_change_statements

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Tables of this revision that are insert-only (clinical records, the audit trail).
INSERT_ONLY = (
    "treatment_courses",
    "course_status_events",
    "orders",
    "order_overrides",
    "order_signatures",
    "double_checks",
    "opioid_use",
)

#: Every clinical row: an original has no reason; an amendment says why (_base.amendment_rule).
AMENDMENT_RULE = (
    "(amends_id IS NULL AND amendment_reason IS NULL AND NOT entered_in_error)"
    " OR (amends_id IS NOT NULL AND amendment_reason IS NOT NULL"
    " AND length(amendment_reason) > 0)"
)


def upgrade() -> None:
    op.create_table(
        "treatment_courses",
        sa.Column("indication", sa.String(length=100), nullable=False),
        sa.Column("protocol_id", sa.String(length=100), nullable=False),
        sa.Column("protocol_version", sa.String(length=50), nullable=False),
        sa.Column("trial_criteria", sa.Text(), nullable=False),
        sa.Column("planned_start_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_treatment_courses_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["treatment_courses.id"],
            name=op.f("fk_treatment_courses_amends_id_treatment_courses"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_treatment_courses_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_treatment_courses_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_courses")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_treatment_courses_amends_id")),
    )
    op.create_index(
        op.f("ix_treatment_courses_indication"), "treatment_courses", ["indication"], unique=False
    )
    op.create_index(
        op.f("ix_treatment_courses_patient_id"), "treatment_courses", ["patient_id"], unique=False
    )
    op.create_table(
        "course_status_events",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('planned', 'active', 'maintenance', 'stopped', 'completed')",
            name=op.f("ck_course_status_events_status"),
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_course_status_events_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["course_status_events.id"],
            name=op.f("fk_course_status_events_amends_id_course_status_events"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["treatment_courses.id"],
            name=op.f("fk_course_status_events_course_id_treatment_courses"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_course_status_events_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_course_status_events_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_status_events")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_course_status_events_amends_id")),
    )
    op.create_index(
        op.f("ix_course_status_events_course_id"),
        "course_status_events",
        ["course_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_course_status_events_patient_id"),
        "course_status_events",
        ["patient_id"],
        unique=False,
    )
    op.create_table(
        "orders",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("doses", sa.Text(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("drug_library_version", sa.String(length=50), nullable=False),
        sa.Column("weight_kg", sa.Double(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_orders_amendment"),
        ),
        sa.CheckConstraint("weight_kg > 0", name=op.f("ck_orders_weight_positive")),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["orders.id"], name=op.f("fk_orders_amends_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["treatment_courses.id"],
            name=op.f("fk_orders_course_id_treatment_courses"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_orders_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_orders_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_orders_amends_id")),
    )
    op.create_index(op.f("ix_orders_course_id"), "orders", ["course_id"], unique=False)
    op.create_index(op.f("ix_orders_patient_id"), "orders", ["patient_id"], unique=False)
    op.create_table(
        "order_overrides",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("finding_code", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("physician_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_order_overrides_amendment"),
        ),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_order_overrides_reason")),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["order_overrides.id"],
            name=op.f("fk_order_overrides_amends_id_order_overrides"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_overrides_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_order_overrides_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["physician_id"],
            ["staff_users.id"],
            name=op.f("fk_order_overrides_physician_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_order_overrides_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_overrides")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_order_overrides_amends_id")),
    )
    op.create_index(
        op.f("ix_order_overrides_order_id"), "order_overrides", ["order_id"], unique=False
    )
    op.create_index(
        op.f("ix_order_overrides_patient_id"), "order_overrides", ["patient_id"], unique=False
    )
    op.create_table(
        "order_signatures",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_order_signatures_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["order_signatures.id"],
            name=op.f("fk_order_signatures_amends_id_order_signatures"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_signatures_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_order_signatures_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_order_signatures_recorded_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"],
            ["staff_users.id"],
            name=op.f("fk_order_signatures_signed_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_signatures")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_order_signatures_amends_id")),
    )
    op.create_index(
        op.f("ix_order_signatures_order_id"), "order_signatures", ["order_id"], unique=False
    )
    op.create_index(
        op.f("ix_order_signatures_patient_id"), "order_signatures", ["patient_id"], unique=False
    )
    op.create_table(
        "double_checks",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("checker_id", sa.Integer(), nullable=False),
        sa.Column("entered_weight_kg", sa.Double(), nullable=False),
        sa.Column("entered_doses", sa.Text(), nullable=False),
        sa.Column("result", sa.String(length=10), nullable=False),
        sa.Column("differences", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("result IN ('match', 'mismatch')", name=op.f("ck_double_checks_result")),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_double_checks_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["double_checks.id"],
            name=op.f("fk_double_checks_amends_id_double_checks"),
        ),
        sa.ForeignKeyConstraint(
            ["checker_id"], ["staff_users.id"], name=op.f("fk_double_checks_checker_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_double_checks_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_double_checks_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_double_checks_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_double_checks")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_double_checks_amends_id")),
    )
    op.create_index(op.f("ix_double_checks_order_id"), "double_checks", ["order_id"], unique=False)
    op.create_index(
        op.f("ix_double_checks_patient_id"), "double_checks", ["patient_id"], unique=False
    )
    op.create_table(
        "opioid_use",
        sa.Column("drug", sa.String(length=100), nullable=False),
        sa.Column("daily_dose_value", sa.Double(), nullable=False),
        sa.Column("daily_dose_unit", sa.String(length=30), nullable=False),
        sa.Column("route", sa.String(length=30), nullable=False),
        sa.Column("period_start_on", sa.Date(), nullable=False),
        sa.Column("period_end_on", sa.Date(), nullable=True),
        sa.Column("mme_mg_per_day", sa.Double(), nullable=True),
        sa.Column("mme_table_id", sa.String(length=50), nullable=True),
        sa.Column("mme_table_version", sa.String(length=50), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_opioid_use_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["opioid_use.id"], name=op.f("fk_opioid_use_amends_id_opioid_use")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_opioid_use_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_opioid_use_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opioid_use")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_opioid_use_amends_id")),
    )
    op.create_index(op.f("ix_opioid_use_patient_id"), "opioid_use", ["patient_id"], unique=False)
    for statement in refuse_change_statements(op.get_bind().dialect.name, INSERT_ONLY):
        op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("ketaclinic migrations go forward only: restore a backup instead")
