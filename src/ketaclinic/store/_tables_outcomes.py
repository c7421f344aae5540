"""Trial decisions and symptom screens (insert-only, migration 0006)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ketaclinic.store._base import Base, ClinicalRecord, amendment_rule, vocabulary

__all__ = ["RECOMMENDATIONS", "SCREEN_KINDS", "SymptomScreen", "TrialDecisionRecord"]

RECOMMENDATIONS = ("continue", "stop", "taper", "not_yet_due", "insufficient_data")
SCREEN_KINDS = ("urinary_symptoms", "misuse")


class TrialDecisionRecord(ClinicalRecord, Base):
    """A physician's decision on a course's trial, beside the evaluation it was shown (the
    recommendation, its reasons and every number, as ``TrialDecision.to_dict()``)."""

    __tablename__ = "trial_decisions"
    __table_args__ = (
        amendment_rule(),
        vocabulary("recommendation", RECOMMENDATIONS),
        vocabulary("decision", ("continue", "stop", "taper")),
        CheckConstraint("length(reason) > 0", name="reason"),
    )

    course_id: Mapped[int] = mapped_column(ForeignKey("treatment_courses.id"), index=True)
    evaluated_at: Mapped[datetime]
    recommendation: Mapped[str] = mapped_column(String(20))
    evaluation: Mapped[Any]
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str]
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))


class SymptomScreen(ClinicalRecord, Base):
    """A screen for lower urinary tract symptoms (ketamine cystitis) or for misuse."""

    __tablename__ = "symptom_screens"
    __table_args__ = (
        amendment_rule(),
        vocabulary("kind", SCREEN_KINDS),
        vocabulary("result", ("negative", "positive")),
    )

    kind: Mapped[str] = mapped_column(String(30))
    screened_on: Mapped[date]
    result: Mapped[str] = mapped_column(String(20))
    details: Mapped[str | None]
