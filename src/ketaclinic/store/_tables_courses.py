"""Treatment courses, their status events, orders with their checks, assessments, opioids."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.store._base import Base, ClinicalRecord, amendment_rule, vocabulary

__all__ = [
    "COURSE_STATUSES",
    "Assessment",
    "CourseStatusEvent",
    "DoubleCheck",
    "OpioidUse",
    "Order",
    "OrderOverride",
    "OrderSignature",
    "TreatmentCourse",
]

COURSE_STATUSES = ("planned", "active", "maintenance", "stopped", "completed")


class TreatmentCourse(ClinicalRecord, Base):
    """A course of treatment; the trial criteria are fixed, as JSON, when it starts."""

    __tablename__ = "treatment_courses"
    __table_args__ = (
        amendment_rule(),
        # cohort_summary reads these from the index alone (migration 0008); it also serves
        # lookups by indication (0009 dropped the single-column index)
        Index("ix_treatment_courses_cohort", "indication", "entered_in_error", "patient_id"),
    )

    indication: Mapped[str] = mapped_column(String(100))
    protocol_id: Mapped[str] = mapped_column(String(100))
    protocol_version: Mapped[str] = mapped_column(String(50))
    trial_criteria: Mapped[Any]
    planned_start_on: Mapped[date | None]


class CourseStatusEvent(ClinicalRecord, Base):
    """A change of a course's status is a new row, never an update of the course."""

    __tablename__ = "course_status_events"
    __table_args__ = (
        amendment_rule(),
        vocabulary("status", COURSE_STATUSES),
        # also serves lookups by course (0009 dropped the single-column index)
        Index(
            "ix_course_status_events_cohort",
            "course_id",
            "entered_in_error",
            "effective_at",
            "status",
        ),
    )

    course_id: Mapped[int] = mapped_column(ForeignKey("treatment_courses.id"))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str]
    effective_at: Mapped[datetime]


class Order(ClinicalRecord, Base):
    """An order as planned and checked: doses as ``Dose.to_json()`` objects, the safety
    findings and the plan exactly as they were when the order was made."""

    __tablename__ = "orders"
    __table_args__ = (amendment_rule(), CheckConstraint("weight_kg > 0", name="weight_positive"))

    course_id: Mapped[int] = mapped_column(ForeignKey("treatment_courses.id"), index=True)
    doses: Mapped[Any]
    findings: Mapped[Any]
    plan: Mapped[Any]
    drug_library_version: Mapped[str] = mapped_column(String(50))
    weight_kg: Mapped[float]


class OrderOverride(ClinicalRecord, Base):
    """A physician's override of one overridable finding, with the reason."""

    __tablename__ = "order_overrides"
    __table_args__ = (amendment_rule(), CheckConstraint("length(reason) > 0", name="reason"))

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    finding_code: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str]
    physician_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))


class OrderSignature(ClinicalRecord, Base):
    """A signature is a row of its own; the service refuses to sign a hard stop."""

    __tablename__ = "order_signatures"
    __table_args__ = (amendment_rule(),)

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    signed_at: Mapped[datetime]


class DoubleCheck(ClinicalRecord, Base):
    """An independent double check: the second clinician's re-entered weight and doses."""

    __tablename__ = "double_checks"
    __table_args__ = (amendment_rule(), vocabulary("result", ("match", "mismatch")))

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    checker_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    entered_weight_kg: Mapped[float]
    entered_doses: Mapped[Any]
    result: Mapped[str] = mapped_column(String(10))
    differences: Mapped[Any | None]
    checked_at: Mapped[datetime]


class Assessment(ClinicalRecord, Base):
    """An outcome instrument as answered, with the score as computed at the time."""

    __tablename__ = "assessments"
    __table_args__ = (amendment_rule(),)

    course_id: Mapped[int | None] = mapped_column(ForeignKey("treatment_courses.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("treatment_sessions.id"))
    instrument_id: Mapped[str] = mapped_column(String(50))
    instrument_version: Mapped[str] = mapped_column(String(50))
    administered_at: Mapped[datetime]
    answers: Mapped[Any]
    score: Mapped[Any]


class OpioidUse(ClinicalRecord, Base):
    """Opioid use over a period, with the MME and the conversion table it came from."""

    __tablename__ = "opioid_use"
    __table_args__ = (amendment_rule(),)

    drug: Mapped[str] = mapped_column(String(100))
    daily_dose_value: Mapped[float]
    daily_dose_unit: Mapped[str] = mapped_column(String(30))
    route: Mapped[str] = mapped_column(String(30))
    period_start_on: Mapped[date]
    period_end_on: Mapped[date | None]
    mme_mg_per_day: Mapped[float | None]
    mme_table_id: Mapped[str | None] = mapped_column(String(50))
    mme_table_version: Mapped[str | None] = mapped_column(String(50))
