"""PostgreSQL: the application role may read and insert, never update or delete records.

Revision ID: 0005
Revises: 0004

The role (``KETACLINIC_PG_APP_ROLE``, default ``ketaclinic_app``) is created without login
when it does not exist; a deployment grants it to the login role the application uses. The
tables' owner (who runs migrations) keeps its rights; the triggers refuse changes for everyone.
Nothing to do on SQLite, which has no roles (the triggers guard it).
"""

from __future__ import annotations

from alembic import context, op

from ketaclinic.store._guards import ADMIN_TABLES, grant_statements

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INSERT_ONLY = (
    # 0001
    "patients",
    "patient_identifiers",
    "demographics",
    "weight_measurements",
    "child_pugh_assessments",
    "diagnoses",
    "pain_qualifiers",
    "medications",
    "allergies",
    "pain_treatments_tried",
    "substance_use",
    "pregnancy_status",
    "lab_results",
    # 0002
    "treatment_courses",
    "course_status_events",
    "orders",
    "order_overrides",
    "order_signatures",
    "double_checks",
    "opioid_use",
    # 0003
    "schedule_entries",
    "treatment_sessions",
    "doses_given",
    "vital_signs",
    "session_scores",
    "scheduled_checks",
    "adverse_events",
    "discharges",
    "assessments",
    "charges",
    "payments",
    # 0004
    "audit_events",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    role = context.config.attributes.get("app_role", "ketaclinic_app")
    for statement in grant_statements(role, INSERT_ONLY, ADMIN_TABLES, "audit_chain_head"):
        op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("ketaclinic migrations go forward only: restore a backup instead")
