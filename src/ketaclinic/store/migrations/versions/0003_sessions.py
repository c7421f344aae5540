"""Schedules, sessions at the chair, assessments, charges and payments.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ketaclinic.store._guards import refuse_change_statements

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: Tables of this revision that are insert-only (clinical records, the audit trail).
INSERT_ONLY = (
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
)

#: Every clinical row: an original has no reason; an amendment says why (_base.amendment_rule).
AMENDMENT_RULE = (
    "(amends_id IS NULL AND amendment_reason IS NULL AND NOT entered_in_error)"
    " OR (amends_id IS NOT NULL AND amendment_reason IS NOT NULL"
    " AND length(amendment_reason) > 0)"
)


def upgrade() -> None:
    op.create_table(
        "schedule_entries",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("chair_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('series', 'maintenance', 'other')", name=op.f("ck_schedule_entries_kind")
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_schedule_entries_amendment"),
        ),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_schedule_entries_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["schedule_entries.id"],
            name=op.f("fk_schedule_entries_amends_id_schedule_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["chair_id"], ["chairs.id"], name=op.f("fk_schedule_entries_chair_id_chairs")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["treatment_courses.id"],
            name=op.f("fk_schedule_entries_course_id_treatment_courses"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_schedule_entries_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_schedule_entries_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_entries")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_schedule_entries_amends_id")),
    )
    op.create_index(
        op.f("ix_schedule_entries_patient_id"), "schedule_entries", ["patient_id"], unique=False
    )
    op.create_index(
        op.f("ix_schedule_entries_starts_at"), "schedule_entries", ["starts_at"], unique=False
    )
    op.create_table(
        "treatment_sessions",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("schedule_entry_id", sa.Integer(), nullable=True),
        sa.Column("chair_id", sa.Integer(), nullable=True),
        sa.Column("scheduled_start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actual_start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actual_end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("route", sa.String(length=30), nullable=False),
        sa.Column("lot_number", sa.String(length=100), nullable=True),
        sa.Column("multi_day", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_treatment_sessions_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_treatment_sessions_amends_id_treatment_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["chair_id"], ["chairs.id"], name=op.f("fk_treatment_sessions_chair_id_chairs")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["treatment_courses.id"],
            name=op.f("fk_treatment_sessions_course_id_treatment_courses"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_treatment_sessions_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_treatment_sessions_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_treatment_sessions_recorded_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["schedule_entry_id"],
            ["schedule_entries.id"],
            name=op.f("fk_treatment_sessions_schedule_entry_id_schedule_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_sessions")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_treatment_sessions_amends_id")),
    )
    op.create_index(
        op.f("ix_treatment_sessions_course_id"), "treatment_sessions", ["course_id"], unique=False
    )
    op.create_index(
        op.f("ix_treatment_sessions_patient_id"), "treatment_sessions", ["patient_id"], unique=False
    )
    op.create_table(
        "doses_given",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dose", sa.Text(), nullable=True),
        sa.Column("amount_mg", sa.Double(), nullable=True),
        sa.Column("rate_mg_per_h", sa.Double(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('bolus', 'infusion_start', 'rate_change', 'infusion_stop', 'device')",
            name=op.f("ck_doses_given_kind"),
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_doses_given_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["doses_given.id"], name=op.f("fk_doses_given_amends_id_doses_given")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_doses_given_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_doses_given_recorded_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_doses_given_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doses_given")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_doses_given_amends_id")),
    )
    op.create_index(op.f("ix_doses_given_patient_id"), "doses_given", ["patient_id"], unique=False)
    op.create_index(op.f("ix_doses_given_session_id"), "doses_given", ["session_id"], unique=False)
    op.create_table(
        "vital_signs",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("systolic_mmhg", sa.Integer(), nullable=True),
        sa.Column("diastolic_mmhg", sa.Integer(), nullable=True),
        sa.Column("heart_rate_per_min", sa.Integer(), nullable=True),
        sa.Column("respiratory_rate_per_min", sa.Integer(), nullable=True),
        sa.Column("spo2_percent", sa.Double(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_vital_signs_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["vital_signs.id"], name=op.f("fk_vital_signs_amends_id_vital_signs")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_vital_signs_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_vital_signs_recorded_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_vital_signs_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vital_signs")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_vital_signs_amends_id")),
    )
    op.create_index(op.f("ix_vital_signs_patient_id"), "vital_signs", ["patient_id"], unique=False)
    op.create_index(op.f("ix_vital_signs_session_id"), "vital_signs", ["session_id"], unique=False)
    op.create_table(
        "session_scores",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("instrument_id", sa.String(length=20), nullable=False),
        sa.Column("instrument_version", sa.String(length=50), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "instrument_id IN ('moaas', 'cadss6')", name=op.f("ck_session_scores_instrument_id")
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_session_scores_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["session_scores.id"],
            name=op.f("fk_session_scores_amends_id_session_scores"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_session_scores_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_session_scores_recorded_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_session_scores_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_scores")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_session_scores_amends_id")),
    )
    op.create_index(
        op.f("ix_session_scores_patient_id"), "session_scores", ["patient_id"], unique=False
    )
    op.create_index(
        op.f("ix_session_scores_session_id"), "session_scores", ["session_id"], unique=False
    )
    op.create_table(
        "scheduled_checks",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("check_kind", sa.String(length=30), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "check_kind IN ('pain', 'sedation', 'respiratory_rate', 'blood_pressure', 'spo2')",
            name=op.f("ck_scheduled_checks_check_kind"),
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_scheduled_checks_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["scheduled_checks.id"],
            name=op.f("fk_scheduled_checks_amends_id_scheduled_checks"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_scheduled_checks_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_scheduled_checks_recorded_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_scheduled_checks_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_checks")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_scheduled_checks_amends_id")),
    )
    op.create_index(
        op.f("ix_scheduled_checks_patient_id"), "scheduled_checks", ["patient_id"], unique=False
    )
    op.create_index(
        op.f("ix_scheduled_checks_session_id"), "scheduled_checks", ["session_id"], unique=False
    )
    op.create_table(
        "adverse_events",
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("onset_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("action_taken", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('resolved', 'resolving', 'ongoing', 'admitted', 'fatal', 'unknown')",
            name=op.f("ck_adverse_events_outcome"),
        ),
        sa.CheckConstraint(
            "severity IN ('mild', 'moderate', 'severe', 'life_threatening')",
            name=op.f("ck_adverse_events_severity"),
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_adverse_events_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["adverse_events.id"],
            name=op.f("fk_adverse_events_amends_id_adverse_events"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_adverse_events_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_adverse_events_recorded_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_adverse_events_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_events")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_adverse_events_amends_id")),
    )
    op.create_index(
        op.f("ix_adverse_events_patient_id"), "adverse_events", ["patient_id"], unique=False
    )
    op.create_table(
        "discharges",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("observation_min", sa.Double(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "decision IN ('discharged', 'not_yet', 'admitted', 'transferred')",
            name=op.f("ck_discharges_decision"),
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_discharges_amendment"),
        ),
        sa.CheckConstraint(
            "observation_min >= 0", name=op.f("ck_discharges_observation_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["discharges.id"], name=op.f("fk_discharges_amends_id_discharges")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_discharges_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_discharges_recorded_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_discharges_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharges")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_discharges_amends_id")),
    )
    op.create_index(op.f("ix_discharges_patient_id"), "discharges", ["patient_id"], unique=False)
    op.create_index(op.f("ix_discharges_session_id"), "discharges", ["session_id"], unique=False)
    op.create_index(
        op.f("ix_adverse_events_session_id"), "adverse_events", ["session_id"], unique=False
    )
    op.create_table(
        "assessments",
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("instrument_id", sa.String(length=50), nullable=False),
        sa.Column("instrument_version", sa.String(length=50), nullable=False),
        sa.Column("administered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("score", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_assessments_amendment"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["assessments.id"], name=op.f("fk_assessments_amends_id_assessments")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["treatment_courses.id"],
            name=op.f("fk_assessments_course_id_treatment_courses"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_assessments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_assessments_recorded_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_assessments_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_assessments_amends_id")),
    )
    op.create_index(op.f("ix_assessments_patient_id"), "assessments", ["patient_id"], unique=False)
    op.create_table(
        "charges",
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Double(), nullable=False),
        sa.Column("quantity_unit", sa.String(length=20), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "category IN ('drug', 'chair_time', 'monitoring', 'staff', 'other')",
            name=op.f("ck_charges_category"),
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_charges_amendment"),
        ),
        sa.CheckConstraint(
            "length(currency) = 3 AND upper(currency) = currency", name=op.f("ck_charges_currency")
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["charges.id"], name=op.f("fk_charges_amends_id_charges")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_charges_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_charges_recorded_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_charges_session_id_treatment_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charges")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_charges_amends_id")),
    )
    op.create_index(op.f("ix_charges_patient_id"), "charges", ["patient_id"], unique=False)
    op.create_index(op.f("ix_charges_session_id"), "charges", ["session_id"], unique=False)
    op.create_table(
        "payments",
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("payer", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "method IN ('cash', 'card', 'transfer', 'insurance', 'other')",
            name=op.f("ck_payments_method"),
        ),
        sa.CheckConstraint(
            AMENDMENT_RULE,
            name=op.f("ck_payments_amendment"),
        ),
        sa.CheckConstraint(
            "length(currency) = 3 AND upper(currency) = currency", name=op.f("ck_payments_currency")
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["payments.id"], name=op.f("fk_payments_amends_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_payments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_payments_recorded_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("amends_id", name=op.f("uq_payments_amends_id")),
    )
    op.create_index(op.f("ix_payments_patient_id"), "payments", ["patient_id"], unique=False)
    for statement in refuse_change_statements(op.get_bind().dialect.name, INSERT_ONLY):
        op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("ketaclinic migrations go forward only: restore a backup instead")
