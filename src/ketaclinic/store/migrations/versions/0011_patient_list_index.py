"""The patient list's order as an index: demographics by family name, then patient.

Revision ID: 0011
Revises: 0010

``search_patients`` reads the current demographics in ``(family_name, patient_id)`` order and
stops at the end of the page; without the index the database sorted all 10,000 demo
patients' demographics for each page. An index only: no rows are written or changed.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_demographics_family_name_patient_id", "demographics", ["family_name", "patient_id"]
    )


def downgrade() -> None:
    raise RuntimeError("ketaclinic migrations go forward only: restore a backup instead")
