"""Drop the single-column indexes that migration 0008's composite indexes make redundant.

Revision ID: 0009
Revises: 0008

Each dropped index is on the leading column of a composite index from 0008, so every lookup
it served (a join on the column, an equality or range on it) is served by the composite index,
and each insert maintains one index fewer. Indexes only: no row changes.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# dropped index -> (its table, the 0008 index that leads with the same column)
REDUNDANT = {
    "ix_treatment_courses_indication": ("treatment_courses", "ix_treatment_courses_cohort"),
    "ix_course_status_events_course_id": (
        "course_status_events",
        "ix_course_status_events_cohort",
    ),
    "ix_treatment_sessions_course_id": ("treatment_sessions", "ix_treatment_sessions_cohort"),
    "ix_adverse_events_session_id": ("adverse_events", "ix_adverse_events_cohort"),
}


def upgrade() -> None:
    for name, (table, _covering) in REDUNDANT.items():
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    raise RuntimeError("ketaclinic migrations go forward only: restore a backup instead")
