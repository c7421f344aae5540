"""Sessions at the chair (one row also covers a multi-day infusion), schedules and costs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.store._base import Base, ClinicalRecord, amendment_rule, vocabulary

__all__ = [
    "AdverseEvent",
    "Charge",
    "Discharge",
    "DoseGiven",
    "Payment",
    "ScheduleEntry",
    "ScheduledCheck",
    "SessionScore",
    "TreatmentSession",
    "VitalSigns",
]


class ScheduleEntry(ClinicalRecord, Base):
    """A planned session on a chair. Rescheduling is an amendment; cancelling, a withdrawal."""

    __tablename__ = "schedule_entries"
    __table_args__ = (
        amendment_rule(),
        vocabulary("kind", ("series", "maintenance", "other")),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    course_id: Mapped[int] = mapped_column(ForeignKey("treatment_courses.id"))
    chair_id: Mapped[int] = mapped_column(ForeignKey("chairs.id"))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))


class TreatmentSession(ClinicalRecord, Base):
    """A session: an outpatient infusion, or a multi-day inpatient infusion as one row."""

    __tablename__ = "treatment_sessions"
    __table_args__ = (
        amendment_rule(),
        # also serves lookups by course (0009 dropped the single-column index)
        Index("ix_treatment_sessions_cohort", "course_id", "entered_in_error"),
    )

    course_id: Mapped[int] = mapped_column(ForeignKey("treatment_courses.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    schedule_entry_id: Mapped[int | None] = mapped_column(ForeignKey("schedule_entries.id"))
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("chairs.id"))
    scheduled_start_at: Mapped[datetime]
    actual_start_at: Mapped[datetime | None]
    actual_end_at: Mapped[datetime | None]
    route: Mapped[str] = mapped_column(String(30))
    lot_number: Mapped[str | None] = mapped_column(String(100))
    multi_day: Mapped[bool]


class DoseGiven(ClinicalRecord, Base):
    """A dose or a rate change actually given (``dose`` as ``Dose.to_json()``)."""

    __tablename__ = "doses_given"
    __table_args__ = (
        amendment_rule(),
        vocabulary("kind", ("bolus", "infusion_start", "rate_change", "infusion_stop", "device")),
    )

    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_sessions.id"), index=True)
    given_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))
    dose: Mapped[Any | None]
    amount_mg: Mapped[float | None]
    rate_mg_per_h: Mapped[float | None]


class VitalSigns(ClinicalRecord, Base):
    __tablename__ = "vital_signs"
    __table_args__ = (amendment_rule(),)

    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_sessions.id"), index=True)
    measured_at: Mapped[datetime]
    systolic_mmhg: Mapped[int | None]
    diastolic_mmhg: Mapped[int | None]
    heart_rate_per_min: Mapped[int | None]
    respiratory_rate_per_min: Mapped[int | None]
    spo2_percent: Mapped[float | None]


class SessionScore(ClinicalRecord, Base):
    """A sedation (MOAA/S) or dissociation (CADSS-6) score during a session."""

    __tablename__ = "session_scores"
    __table_args__ = (amendment_rule(), vocabulary("instrument_id", ("moaas", "cadss6")))

    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_sessions.id"), index=True)
    measured_at: Mapped[datetime]
    instrument_id: Mapped[str] = mapped_column(String(20))
    instrument_version: Mapped[str] = mapped_column(String(50))
    score: Mapped[int]


class ScheduledCheck(ClinicalRecord, Base):
    """A check due during a multi-day infusion (pain, sedation, respiratory rate, BP, SpO2)."""

    __tablename__ = "scheduled_checks"
    __table_args__ = (
        amendment_rule(),
        vocabulary(
            "check_kind", ("pain", "sedation", "respiratory_rate", "blood_pressure", "spo2")
        ),
    )

    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_sessions.id"), index=True)
    due_at: Mapped[datetime]
    check_kind: Mapped[str] = mapped_column(String(30))


class AdverseEvent(ClinicalRecord, Base):
    __tablename__ = "adverse_events"
    __table_args__ = (
        amendment_rule(),
        vocabulary("severity", ("mild", "moderate", "severe", "life_threatening")),
        vocabulary("outcome", ("resolved", "resolving", "ongoing", "admitted", "fatal", "unknown")),
        # also serves lookups by session (0009 dropped the single-column index)
        Index("ix_adverse_events_cohort", "session_id", "entered_in_error", "severity"),
    )

    session_id: Mapped[int | None] = mapped_column(ForeignKey("treatment_sessions.id"))
    onset_at: Mapped[datetime]
    term: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    action_taken: Mapped[str | None]


class Discharge(ClinicalRecord, Base):
    """The discharge decision, with the minutes of observation it rests on."""

    __tablename__ = "discharges"
    __table_args__ = (
        amendment_rule(),
        vocabulary("decision", ("discharged", "not_yet", "admitted", "transferred")),
        CheckConstraint("observation_min >= 0", name="observation_not_negative"),
    )

    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_sessions.id"), index=True)
    decided_at: Mapped[datetime]
    decision: Mapped[str] = mapped_column(String(20))
    observation_min: Mapped[float]
    reason: Mapped[str | None]


_CURRENCY = "length(currency) = 3 AND upper(currency) = currency"


class Charge(ClinicalRecord, Base):
    """A charge in integer minor units (cents) of an ISO 4217 currency."""

    __tablename__ = "charges"
    __table_args__ = (
        amendment_rule(),
        vocabulary("category", ("drug", "chair_time", "monitoring", "staff", "other")),
        CheckConstraint(_CURRENCY, name="currency"),
    )

    session_id: Mapped[int | None] = mapped_column(ForeignKey("treatment_sessions.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[float]
    quantity_unit: Mapped[str] = mapped_column(String(20))  # vial, min, h, session...
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    #: the clinic_price_lists version that priced it (None: priced by hand or before 0010)
    price_list_id: Mapped[int | None]


class Payment(ClinicalRecord, Base):
    __tablename__ = "payments"
    __table_args__ = (
        amendment_rule(),
        vocabulary("method", ("cash", "card", "transfer", "insurance", "other")),
        CheckConstraint(_CURRENCY, name="currency"),
    )

    received_at: Mapped[datetime]
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(20))
    payer: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(200))
