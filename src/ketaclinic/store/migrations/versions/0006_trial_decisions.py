"""Trial decisions and symptom screens (urinary symptoms, misuse).

Revision ID: 0006
Revises: 0005

Both are insert-only clinical records; on PostgreSQL the application role gets SELECT and
INSERT on them, as 0005 gave it on the others.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

from ketaclinic.store._guards import grant_statements, refuse_change_statements

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INSERT_ONLY = ("trial_decisions", "symptom_screens")

#: Every clinical row: an original has no reason; an amendment says why (_base.amendment_rule).
AMENDMENT_RULE = (
    "(amends_id IS NULL AND amendment_reason IS NULL AND NOT entered_in_error)"
    " OR (amends_id IS NOT NULL AND amendment_reason IS NOT NULL"
    " AND length(amendment_reason) > 0)"
)


def _record_columns(table: str) -> list[Any]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(AMENDMENT_RULE, name=op.f(f"ck_{table}_amendment")),
        sa.ForeignKeyConstraint(
            ["amends_id"], [f"{table}.id"], name=op.f(f"fk_{table}_amends_id_{table}")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f(f"fk_{table}_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f(f"fk_{table}_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("amends_id", name=op.f(f"uq_{table}_amends_id")),
    ]


def upgrade() -> None:
    op.create_table(
        "trial_decisions",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recommendation", sa.String(length=20), nullable=False),
        sa.Column("evaluation", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        *_record_columns("trial_decisions"),
        sa.CheckConstraint(
            "recommendation IN ('continue', 'stop', 'taper', 'not_yet_due', 'insufficient_data')",
            name=op.f("ck_trial_decisions_recommendation"),
        ),
        sa.CheckConstraint(
            "decision IN ('continue', 'stop', 'taper')", name=op.f("ck_trial_decisions_decision")
        ),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_trial_decisions_reason")),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["treatment_courses.id"],
            name=op.f("fk_trial_decisions_course_id_treatment_courses"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["staff_users.id"],
            name=op.f("fk_trial_decisions_decided_by_id_staff_users"),
        ),
    )
    op.create_index(
        op.f("ix_trial_decisions_course_id"), "trial_decisions", ["course_id"], unique=False
    )
    op.create_index(
        op.f("ix_trial_decisions_patient_id"), "trial_decisions", ["patient_id"], unique=False
    )
    op.create_table(
        "symptom_screens",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("screened_on", sa.Date(), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        *_record_columns("symptom_screens"),
        sa.CheckConstraint(
            "kind IN ('urinary_symptoms', 'misuse')", name=op.f("ck_symptom_screens_kind")
        ),
        sa.CheckConstraint(
            "result IN ('negative', 'positive')", name=op.f("ck_symptom_screens_result")
        ),
    )
    op.create_index(
        op.f("ix_symptom_screens_patient_id"), "symptom_screens", ["patient_id"], unique=False
    )
    dialect = op.get_bind().dialect.name
    for statement in refuse_change_statements(dialect, INSERT_ONLY):
        op.execute(statement)
    if dialect == "postgresql":
        role = context.config.attributes.get("app_role", "ketaclinic_app")
        for statement in grant_statements(role, INSERT_ONLY, (), "audit_chain_head"):
            op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("ketaclinic migrations go forward only: restore a backup instead")
