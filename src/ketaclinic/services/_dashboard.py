"""The clinic's alerts for one day: what needs someone's attention, most urgent first.

- ``assessment_alert``: an assessment that day raised an alert (PHQ-9 item 9 above 0:
  same-day clinical review, DOMAIN.md section 5);
- ``trial_decision_due``: an open course whose trial has reached its decision point (the
  recommendation is continue, stop or taper) and no decision was recorded since;
- ``weight_too_old``: a weight-based protocol's session scheduled that day, and the latest
  weight is older than the protocol allows (``weight_max_age_days``) on that day;
- ``liver_tests_due``, ``urinary_screen_due``, ``misuse_signal``: the exposure prompts
  (``_exposure``) of every patient with an open course;
- ``esketamine_monitoring``: an esketamine session scheduled or given that day (REMS: observe
  at least 2 h, BP before dosing, at about 40 min and before discharge), and the REMS Patient
  Monitoring Form of each esketamine session of the last 7 days (due within 7 days, SPRAVATO
  REMS; DOMAIN.md section 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from ketaclinic.errors import UserInputError
from ketaclinic.outcomes import evaluate_trial
from ketaclinic.protocols import get_protocol
from ketaclinic.ranges import CLINIC_DATE
from ketaclinic.services._audit import Actor, Clock, UseCase, utc_now
from ketaclinic.services._audit import audited_transaction as _transaction
from ketaclinic.services._courses import OPEN_STATUSES
from ketaclinic.services._exposure import exposure_of
from ketaclinic.services._inputs import authorize
from ketaclinic.services._patient_context import TableCache, latest
from ketaclinic.services._permissions import Permission
from ketaclinic.services._trial import criteria_of, trial_inputs
from ketaclinic.store import (
    Assessment,
    Database,
    Patient,
    ScheduleEntry,
    TreatmentCourse,
    TreatmentSession,
    TrialDecisionRecord,
    WeightMeasurement,
)

__all__ = ["ALERT_KINDS", "DashboardAlert", "dashboard_alerts"]

#: Alert kinds, most urgent first (the order of the dashboard).
ALERT_KINDS = (
    "assessment_alert",
    "weight_too_old",
    "esketamine_monitoring",
    "trial_decision_due",
    "liver_tests_due",
    "urinary_screen_due",
    "misuse_signal",
)
_PROMPT_KIND = {
    "liver_tests": "liver_tests_due",
    "urinary_screen": "urinary_screen_due",
    "misuse": "misuse_signal",
}
_REMS_FORM_DAYS = 7
_REMS = "SPRAVATO REMS (DOMAIN.md section 4)"
_ESKETAMINE = "esketamine-nasal"


@dataclass(frozen=True)
class DashboardAlert:
    kind: str
    patient_id: int
    mrn: str
    course_id: int | None
    message: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "patient_id": self.patient_id,
            "mrn": self.mrn,
            "course_id": self.course_id,
            "message": self.message,
            "source": self.source,
        }


def _window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0, 0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def _open_courses(cache: TableCache) -> list[Any]:
    found = []
    for course in sorted(cache.everyone(TreatmentCourse), key=lambda c: c.id):
        status = cache.status(course.id, course.patient_id)
        if status is None or status in OPEN_STATUSES:
            found.append(course)
    return found


def _assessment_alerts(uc: UseCase, day: date, mrn: dict[int, str]) -> list[DashboardAlert]:
    start, end = _window(day)
    rows = uc.session.scalars(
        select(Assessment)
        .where(Assessment.administered_at >= start)
        .where(Assessment.administered_at < end)
        .where(Assessment.entered_in_error.is_(False))
        .order_by(Assessment.administered_at, Assessment.id)
    ).all()
    found = []
    for row in rows:
        for alert in row.score.get("alerts", []):
            found.append(
                DashboardAlert(
                    "assessment_alert",
                    int(row.patient_id),
                    mrn[row.patient_id],
                    row.course_id,
                    f"{alert['message']} ({row.administered_at.isoformat(timespec='minutes')}; "
                    f"{alert['action']})",
                    str(alert["source"]),
                )
            )
    return found


def _course_alerts(cache: TableCache, course: Any, day: date, mrn: str) -> list[DashboardAlert]:
    protocol = get_protocol(course.protocol_id)
    start, end = _window(day)
    found: list[DashboardAlert] = []
    entries = [
        e
        for e in cache.of(ScheduleEntry, course.patient_id)
        if e.course_id == course.id and start <= e.starts_at < end
    ]
    visits: list[Any] = [
        v
        for v in cache.of(TreatmentSession, course.patient_id)
        if v.course_id == course.id and v.actual_start_at is not None
    ]
    planned_today = bool(entries) or course.planned_start_on == day
    if planned_today and protocol.dose_rule.basis == "weight":
        weight = latest(cache.of(WeightMeasurement, course.patient_id), "measured_on")
        limit = protocol.weight_max_age_days
        if weight is None or (day - weight.measured_on).days > limit:
            when = f"measured on {weight.measured_on.isoformat()}" if weight else "none recorded"
            found.append(
                DashboardAlert(
                    "weight_too_old",
                    int(course.patient_id),
                    mrn,
                    int(course.id),
                    f"weight-based dose today and the weight is older than {limit} days "
                    f"({when}): weigh the patient and re-plan the order",
                    f"{protocol.id}: weight_max_age_days {limit}",
                )
            )
    if protocol.id == _ESKETAMINE:
        today = [v for v in visits if start <= v.actual_start_at < end]
        if entries or today:
            found.append(
                DashboardAlert(
                    "esketamine_monitoring",
                    int(course.patient_id),
                    mrn,
                    int(course.id),
                    "esketamine session today: BP before dosing, at about 40 min and before "
                    "discharge; observe at least 2 h and until sedation and dissociation resolve",
                    _REMS,
                )
            )
        for visit in visits:
            due = visit.actual_start_at.date() + timedelta(days=_REMS_FORM_DAYS)
            if visit.actual_start_at < end and day <= due:
                found.append(
                    DashboardAlert(
                        "esketamine_monitoring",
                        int(course.patient_id),
                        mrn,
                        int(course.id),
                        f"REMS Patient Monitoring Form of the session on "
                        f"{visit.actual_start_at.date().isoformat()} is due by {due.isoformat()}",
                        _REMS,
                    )
                )
    criteria = criteria_of(course)
    course_start, sessions, scored = trial_inputs(cache.session, course, criteria, cache)
    as_of = end - timedelta(microseconds=1)
    decision = evaluate_trial(criteria, course_start, sessions, scored, as_of)
    if decision.recommendation in ("continue", "stop", "taper") and decision.decision_point:
        decided = [
            d
            for d in cache.of(TrialDecisionRecord, course.patient_id)
            if d.course_id == course.id and d.evaluated_at >= decision.decision_point
        ]
        if not decided:
            found.append(
                DashboardAlert(
                    "trial_decision_due",
                    int(course.patient_id),
                    mrn,
                    int(course.id),
                    f"trial of {protocol.id} judged on "
                    f"{decision.decision_point.date().isoformat()}: recommendation "
                    f"{decision.recommendation} ({'; '.join(decision.reasons)})",
                    criteria.source,
                )
            )
    return found


def dashboard_alerts(
    db: Database,
    actor: Actor,
    day: date,
    *,
    clock: Clock = utc_now,
) -> list[DashboardAlert]:
    """Every alert for ``day`` (a UTC calendar day), most urgent kind first; audited read."""
    if isinstance(day, datetime) or not isinstance(day, date):
        raise UserInputError(f"day {day!r} is not accepted: a date such as 2026-12-01")
    CLINIC_DATE.check(day, "day")
    with _transaction(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "reading the clinic's alerts")
        mrn = {int(p.id): p.mrn for p in uc.session.scalars(select(Patient))}
        alerts = _assessment_alerts(uc, day, mrn)
        cache = TableCache(uc.session)
        courses = _open_courses(cache)
        for course in courses:
            alerts += _course_alerts(cache, course, day, mrn[course.patient_id])
        as_of = min(_window(day)[1] - timedelta(microseconds=1), max(uc.now, _window(day)[0]))
        for patient_id in sorted({int(c.patient_id) for c in courses}):
            summary = exposure_of(uc.session, patient_id, as_of, cache)
            for prompt in summary.prompts:
                alerts.append(
                    DashboardAlert(
                        _PROMPT_KIND[prompt.kind],
                        patient_id,
                        mrn[patient_id],
                        None,
                        prompt.message,
                        prompt.source,
                    )
                )
        alerts.sort(key=lambda a: (ALERT_KINDS.index(a.kind), a.patient_id))
        uc.audit(
            "dashboard.read",
            details={
                "day": day.isoformat(),
                "alerts": len(alerts),
                "patients": sorted({a.patient_id for a in alerts}),
            },
        )
        return alerts
