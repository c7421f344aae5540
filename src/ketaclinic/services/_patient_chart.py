"""Everything the chart page shows of one patient, in one transaction with one audit event.

The record (``get_patient_record``), the history with outcome series and opioid use
(``patient_history``), the courses (``list_courses``), the cumulative exposure with its
prompts (``cumulative_exposure``) and the cost to date (``patient_cost_to_date``) are the same
views as those use cases give one by one; here the patient's chart is loaded once (one
query per table, ``load_chart``) and every view reads it (``serving_chart``), instead of each
view reading the same tables again in a transaction of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ketaclinic.services._audit import Actor, Clock, audited_read, utc_now
from ketaclinic.services._costs import PatientCost, cost_of
from ketaclinic.services._courses import CourseView
from ketaclinic.services._courses import _view as course_view
from ketaclinic.services._exposure import ExposureSummary, exposure_of
from ketaclinic.services._inputs import authorize, positive_id
from ketaclinic.services._patient_reads import PatientView, record_view
from ketaclinic.services._permissions import Permission
from ketaclinic.services._web_support import PatientHistory, history_of
from ketaclinic.store import Database, TreatmentCourse, load_chart, serving_chart

__all__ = ["PatientChartView", "patient_chart"]


@dataclass(frozen=True)
class PatientChartView:
    """The chart page's data: each part as the finer use case returns it."""

    record: PatientView
    history: PatientHistory
    courses: tuple[CourseView, ...]
    exposure: ExposureSummary
    cost: PatientCost

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": self.record.to_dict(),
            "history": self.history.to_dict(),
            "courses": [c.to_dict() for c in self.courses],
            "exposure": self.exposure.to_dict(),
            "cost": self.cost.to_dict(),
        }


def patient_chart(
    db: Database, actor: Actor, patient_id: int, *, clock: Clock = utc_now
) -> PatientChartView:
    """One patient's record, history, courses, exposure (as of now) and cost to date;
    clinicians only; one audited read (``patient.chart.read``)."""
    with audited_read(db, actor, clock) as uc:
        viewer = authorize(uc, Permission.PATIENT_READ, "reading a patient's chart")
        positive_id(patient_id, "patient id")  # load_chart: RecordNotFoundError if none
        chart = load_chart(uc.session, patient_id)
        with serving_chart(uc.session, chart):
            courses = tuple(
                course_view(uc, course, viewer)  # chart rows, read like the records
                for course in chart.of(TreatmentCourse)
            )
            view = PatientChartView(
                record=record_view(chart, uc.now.date()),
                history=history_of(chart),
                courses=courses,
                exposure=exposure_of(uc.session, patient_id, uc.now),
                cost=cost_of(uc, patient_id),
            )
        uc.audit(
            "patient.chart.read",
            record_type="patients",
            record_id=patient_id,
            patient_id=patient_id,
            details={"prompts": [p.code for p in view.exposure.prompts]},
        )
        return view
