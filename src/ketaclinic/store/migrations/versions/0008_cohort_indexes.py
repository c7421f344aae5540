"""Covering indexes for the cohort summary by indication.

Revision ID: 0008
Revises: 0007

Each index holds what ``cohort_summary`` reads of its table (the join key, the withdrawn flag
and the counted column), so SQLite answers from the indexes alone, without one table row per
course, status event, session and adverse event. Indexes only: no row changes.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_treatment_courses_cohort": (
        "treatment_courses",
        ["indication", "entered_in_error", "patient_id"],
    ),
    "ix_course_status_events_cohort": (
        "course_status_events",
        ["course_id", "entered_in_error", "effective_at", "status"],
    ),
    "ix_treatment_sessions_cohort": ("treatment_sessions", ["course_id", "entered_in_error"]),
    "ix_adverse_events_cohort": ("adverse_events", ["session_id", "entered_in_error", "severity"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    raise RuntimeError("ketaclinic migrations go forward only: restore a backup instead")
