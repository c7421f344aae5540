"""Staff, chairs, patients and the facts recorded about them.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ketaclinic.store._guards import refuse_change_statements

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: Tables of this revision that are insert-only (clinical records, the audit trail).
INSERT_ONLY = (
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
)

#: Every clinical row: an original has no reason; an amendment says why (_base.amendment_rule).
AMENDMENT_RULE = (
    "(amends_id IS NULL AND amendment_reason IS NULL AND NOT entered_in_error)"
    " OR (amends_id IS NOT NULL AND amendment_reason IS NOT NULL"
    " AND length(amendment_reason) > 0)"
)


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('physician', 'nurse', 'admin', 'researcher')",
            name=op.f("ck_staff_users_role"),
        ),
        sa.CheckConstraint("length(username) > 0", name=op.f("ck_staff_users_username_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    op.create_table(
        "chairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chairs")),
        sa.UniqueConstraint("name", name=op.f("uq_chairs_name")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mrn", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff_users.id"],
            name=op.f("fk_patients_created_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("mrn", name=op.f("uq_patients_mrn")),
    )
    op.create_table(
        "patient_identifiers",
        sa.Column("system", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_patient_identifiers_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["patient_identifiers.id"],
            name=op.f("fk_patient_identifiers_amends_id_patient_identifiers"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_identifiers_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_patient_identifiers_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_identifiers")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_patient_identifiers_amends_id")),
    )
    op.create_index(
        op.f("ix_patient_identifiers_patient_id"),
        "patient_identifiers",
        ["patient_id"],
        unique=False,
    )
    op.create_table(
        "demographics",
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex_at_birth", sa.String(length=20), nullable=False),
        sa.Column("gender_identity", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "sex_at_birth IN ('female', 'male', 'intersex', 'unknown')",
            name=op.f("ck_demographics_sex_at_birth"),
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_demographics_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["demographics.id"], name=op.f("fk_demographics_amends_id_demographics")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_demographics_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_demographics_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demographics")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_demographics_amends_id")),
    )
    op.create_index(
        op.f("ix_demographics_patient_id"), "demographics", ["patient_id"], unique=False
    )
    op.create_table(
        "weight_measurements",
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("weight_kg", sa.Double(), nullable=False),
        sa.Column("height_cm", sa.Double(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_weight_measurements_amendment"),
        ),
        sa.CheckConstraint("weight_kg > 0", name=op.f("ck_weight_measurements_weight_positive")),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["weight_measurements.id"],
            name=op.f("fk_weight_measurements_amends_id_weight_measurements"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_weight_measurements_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_weight_measurements_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weight_measurements")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_weight_measurements_amends_id")),
    )
    op.create_index(
        op.f("ix_weight_measurements_patient_id"),
        "weight_measurements",
        ["patient_id"],
        unique=False,
    )
    op.create_table(
        "child_pugh_assessments",
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("child_pugh_class", sa.String(length=1), nullable=False),
        sa.Column("child_pugh_points", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "child_pugh_class IN ('A', 'B', 'C')",
            name=op.f("ck_child_pugh_assessments_child_pugh_class"),
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_child_pugh_assessments_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["child_pugh_assessments.id"],
            name=op.f("fk_child_pugh_assessments_amends_id_child_pugh_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_child_pugh_assessments_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_child_pugh_assessments_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_pugh_assessments")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_child_pugh_assessments_amends_id")),
    )
    op.create_index(
        op.f("ix_child_pugh_assessments_patient_id"),
        "child_pugh_assessments",
        ["patient_id"],
        unique=False,
    )
    op.create_table(
        "diagnoses",
        sa.Column("icd10cm_code", sa.String(length=10), nullable=False),
        sa.Column("free_text", sa.Text(), nullable=False),
        sa.Column("onset_on", sa.Date(), nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_diagnoses_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["diagnoses.id"], name=op.f("fk_diagnoses_amends_id_diagnoses")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_diagnoses_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_diagnoses_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnoses")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_diagnoses_amends_id")),
    )
    op.create_index(op.f("ix_diagnoses_patient_id"), "diagnoses", ["patient_id"], unique=False)
    op.create_table(
        "pain_qualifiers",
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("opioid_tolerant", sa.Boolean(), nullable=False),
        sa.Column("neuropathic", sa.Boolean(), nullable=False),
        sa.Column("inflammatory", sa.Boolean(), nullable=False),
        sa.Column("depression", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_pain_qualifiers_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["pain_qualifiers.id"],
            name=op.f("fk_pain_qualifiers_amends_id_pain_qualifiers"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_pain_qualifiers_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_pain_qualifiers_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pain_qualifiers")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_pain_qualifiers_amends_id")),
    )
    op.create_index(
        op.f("ix_pain_qualifiers_patient_id"), "pain_qualifiers", ["patient_id"], unique=False
    )
    op.create_table(
        "medications",
        sa.Column("drug_name", sa.String(length=200), nullable=False),
        sa.Column("dose_value", sa.Double(), nullable=True),
        sa.Column("dose_unit", sa.String(length=30), nullable=True),
        sa.Column("route", sa.String(length=30), nullable=True),
        sa.Column("frequency", sa.String(length=100), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("stopped_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_medications_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["medications.id"], name=op.f("fk_medications_amends_id_medications")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_medications_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_medications_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medications")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_medications_amends_id")),
    )
    op.create_index(op.f("ix_medications_patient_id"), "medications", ["patient_id"], unique=False)
    op.create_table(
        "allergies",
        sa.Column("substance", sa.String(length=200), nullable=False),
        sa.Column("reaction", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "severity IN ('mild', 'moderate', 'severe', 'unknown')",
            name=op.f("ck_allergies_severity"),
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_allergies_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["allergies.id"], name=op.f("fk_allergies_amends_id_allergies")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_allergies_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_allergies_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allergies")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_allergies_amends_id")),
    )
    op.create_index(op.f("ix_allergies_patient_id"), "allergies", ["patient_id"], unique=False)
    op.create_table(
        "pain_treatments_tried",
        sa.Column("treatment", sa.String(length=200), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("stopped_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('helped', 'partial', 'no_effect', 'not_tolerated', 'unknown')",
            name=op.f("ck_pain_treatments_tried_outcome"),
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_pain_treatments_tried_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["pain_treatments_tried.id"],
            name=op.f("fk_pain_treatments_tried_amends_id_pain_treatments_tried"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_pain_treatments_tried_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_pain_treatments_tried_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pain_treatments_tried")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_pain_treatments_tried_amends_id")),
    )
    op.create_index(
        op.f("ix_pain_treatments_tried_patient_id"),
        "pain_treatments_tried",
        ["patient_id"],
        unique=False,
    )
    op.create_table(
        "substance_use",
        sa.Column("substance", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("last_use_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('current', 'past', 'never')", name=op.f("ck_substance_use_status")
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_substance_use_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["substance_use.id"],
            name=op.f("fk_substance_use_amends_id_substance_use"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_substance_use_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_substance_use_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_substance_use")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_substance_use_amends_id")),
    )
    op.create_index(
        op.f("ix_substance_use_patient_id"), "substance_use", ["patient_id"], unique=False
    )
    op.create_table(
        "pregnancy_status",
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("breastfeeding", sa.Boolean(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pregnant', 'not_pregnant', 'unknown', 'not_applicable')",
            name=op.f("ck_pregnancy_status_status"),
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_pregnancy_status_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["pregnancy_status.id"],
            name=op.f("fk_pregnancy_status_amends_id_pregnancy_status"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_pregnancy_status_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_pregnancy_status_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pregnancy_status")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_pregnancy_status_amends_id")),
    )
    op.create_index(
        op.f("ix_pregnancy_status_patient_id"), "pregnancy_status", ["patient_id"], unique=False
    )
    op.create_table(
        "lab_results",
        sa.Column("loinc_code", sa.String(length=20), nullable=True),
        sa.Column("test_name", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(length=30), nullable=False),
        sa.Column("reference_low", sa.Double(), nullable=True),
        sa.Column("reference_high", sa.Double(), nullable=True),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_lab_results_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["lab_results.id"], name=op.f("fk_lab_results_amends_id_lab_results")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_lab_results_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_lab_results_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_results")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_lab_results_amends_id")),
    )
    op.create_index(op.f("ix_lab_results_patient_id"), "lab_results", ["patient_id"], unique=False)
    for statement in refuse_change_statements(op.get_bind().dialect.name, INSERT_ONLY):
        op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("ketaclinic migrations go forward only: restore a backup instead")
