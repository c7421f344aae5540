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

The database finds the candidates (SQL, on indexes): the open courses (each course's latest
status by a window function), the day's bookings, the esketamine sessions of the last week
and the day's assessments; only the candidates' patients are read, table by table with IN
lists (``TableCache``), never every patient's records. ``dashboard_page`` bounds the work: it
gives every alert of the day (assessment, weight, esketamine) and the standing ones (trial
decision due, exposure prompts) of at most ``patients`` patients with an open course, with
how many more there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import false, or_, select

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
    CourseStatusEvent,
    Database,
    Patient,
    ScheduleEntry,
    TreatmentCourse,
    TreatmentSession,
    TrialDecisionRecord,
    WeightMeasurement,
    course_status_rank,
    newer_version,
)

__all__ = [
    "ALERT_KINDS",
    "DASHBOARD_PAGE_PATIENTS",
    "DASHBOARD_PAGE_PATIENTS_MAX",
    "DashboardAlert",
    "DashboardPage",
    "dashboard_alerts",
    "dashboard_page",
]

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
_DAY_KINDS = ("assessment_alert", "weight_too_old", "esketamine_monitoring")
#: patients with an open course whose standing alerts a dashboard page evaluates (default;
#: at most ``_PAGE_MAX``): about 0.5 s of trial and exposure evaluation at 10,000 patients
DASHBOARD_PAGE_PATIENTS = 50
DASHBOARD_PAGE_PATIENTS_MAX = 200
_PAGE_MAX = DASHBOARD_PAGE_PATIENTS_MAX
_IN_LIST = 500  # ids per IN list
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


@dataclass(frozen=True)
class _Day:
    """A calendar day at the clinic and the UTC instants it spans (``start`` inclusive,
    ``end`` exclusive; 23 or 25 h on the days the clocks change)."""

    day: date
    start: datetime
    end: datetime
    zone: tzinfo

    @classmethod
    def at(cls, day: date, zone: tzinfo) -> _Day:
        start = datetime.combine(day, time(0, 0), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
        return cls(day, start.astimezone(UTC), end.astimezone(UTC), zone)

    def date_of(self, moment: datetime) -> date:
        """The clinic's calendar date of an instant."""
        return moment.astimezone(self.zone).date()


def _current(model: Any) -> Any:
    """Not withdrawn and not amended (as ``current_records``)."""
    newer = newer_version(model)
    amended = select(newer.amends_id).where(newer.amends_id.is_not(None))
    return (model.entered_in_error == false()) & model.id.not_in(amended)


def _open_courses(uc: UseCase) -> list[Any]:
    """The current courses whose latest current status is open (or that have none yet),
    by patient and id: one statement, each course's latest status by a window function."""
    ranked = (
        select(
            CourseStatusEvent.course_id,
            CourseStatusEvent.status,
            course_status_rank(),
        )
        .where(_current(CourseStatusEvent))
        .subquery()
    )
    latest = select(ranked.c.course_id, ranked.c.status).where(ranked.c.rank == 1).subquery()
    query = (
        select(TreatmentCourse)
        .outerjoin(latest, latest.c.course_id == TreatmentCourse.id)
        .where(_current(TreatmentCourse))
        .where(or_(latest.c.status.is_(None), latest.c.status.in_(OPEN_STATUSES)))
        .order_by(TreatmentCourse.patient_id, TreatmentCourse.id)
    )
    return list(uc.session.scalars(query))


def _day_courses(uc: UseCase, courses: list[Any], day: _Day) -> list[Any]:
    """The open courses that can have an alert of the day: a booking that day, planned to
    start that day, or esketamine with a session in the REMS form's last week."""
    start, end = day.start, day.end
    booked = set(
        uc.session.scalars(
            select(ScheduleEntry.course_id)
            .where(ScheduleEntry.starts_at >= start)
            .where(ScheduleEntry.starts_at < end)
            .where(_current(ScheduleEntry))
        )
    )
    esketamine = [c.id for c in courses if c.protocol_id == _ESKETAMINE]
    recent: set[int] = set()
    for k in range(0, len(esketamine), _IN_LIST):
        recent |= set(
            uc.session.scalars(
                select(TreatmentSession.course_id)
                .where(TreatmentSession.course_id.in_(esketamine[k : k + _IN_LIST]))
                .where(TreatmentSession.actual_start_at >= start - timedelta(days=_REMS_FORM_DAYS))
                .where(TreatmentSession.actual_start_at < end)
                .where(_current(TreatmentSession))
            )
        )
    return [c for c in courses if c.id in booked or c.id in recent or c.planned_start_on == day.day]


def _mrns(uc: UseCase, patients: set[int]) -> dict[int, str]:
    ids = sorted(patients)
    found: dict[int, str] = {}
    for k in range(0, len(ids), _IN_LIST):
        rows = uc.session.execute(
            select(Patient.id, Patient.mrn).where(Patient.id.in_(ids[k : k + _IN_LIST]))
        )
        found.update({int(r.id): r.mrn for r in rows})
    return found


def _assessment_rows(uc: UseCase, day: _Day) -> list[Any]:
    start, end = day.start, day.end
    return list(
        uc.session.scalars(
            select(Assessment)
            .where(Assessment.administered_at >= start)
            .where(Assessment.administered_at < end)
            .where(Assessment.entered_in_error.is_(False))
            .order_by(Assessment.administered_at, Assessment.id)
        )
    )


def _assessment_alerts(rows: list[Any], mrn: dict[int, str]) -> list[DashboardAlert]:
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


def _day_alerts(cache: TableCache, course: Any, day: _Day, mrn: str) -> list[DashboardAlert]:
    """The weight and esketamine alerts of an open course on ``day``."""
    protocol = get_protocol(course.protocol_id)
    start, end = day.start, day.end
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
    planned_today = bool(entries) or course.planned_start_on == day.day
    if planned_today and protocol.dose_rule.basis == "weight":
        weight = latest(cache.of(WeightMeasurement, course.patient_id), "measured_on")
        limit = protocol.weight_max_age_days
        if weight is None or (day.day - weight.measured_on).days > limit:
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
            due = day.date_of(visit.actual_start_at) + timedelta(days=_REMS_FORM_DAYS)
            if visit.actual_start_at < end and day.day <= due:
                found.append(
                    DashboardAlert(
                        "esketamine_monitoring",
                        int(course.patient_id),
                        mrn,
                        int(course.id),
                        f"REMS Patient Monitoring Form of the session on "
                        f"{day.date_of(visit.actual_start_at).isoformat()} is due by "
                        f"{due.isoformat()}",
                        _REMS,
                    )
                )
    return found


def _trial_alert(cache: TableCache, course: Any, day: _Day, mrn: str) -> list[DashboardAlert]:
    """An open course's trial at its decision point with no decision recorded since."""
    protocol = get_protocol(course.protocol_id)
    end = day.end
    found: list[DashboardAlert] = []
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
                    f"{day.date_of(decision.decision_point).isoformat()}: recommendation "
                    f"{decision.recommendation} ({'; '.join(decision.reasons)})",
                    criteria.source,
                )
            )
    return found


@dataclass(frozen=True)
class DashboardPage:
    """The alerts of one page: every alert of the day, and the standing alerts (trial
    decision due, exposure prompts) of the patients with an open course whose ids are
    above ``after`` (at most ``patients`` of them); ``more_patients`` have an open course
    after this page (``next_after``: the ``after`` of the next page)."""

    day: date
    alerts: tuple[DashboardAlert, ...]
    after: int
    patients: int
    more_patients: int
    next_after: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "alerts": [a.to_dict() for a in self.alerts],
            "after": self.after,
            "patients": self.patients,
            "more_patients": self.more_patients,
            "next_after": self.next_after,
        }


def _check_day(day: Any) -> None:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise UserInputError(f"day {day!r} is not accepted: a date such as 2026-12-01")
    CLINIC_DATE.check(day, "day")


def _standing(uc: UseCase, courses: list[Any], day: _Day, mrn: dict[int, str]) -> list[Any]:
    """The trial and exposure alerts of ``courses`` (open courses of a few patients)."""
    cache = TableCache(uc.session, {int(c.patient_id) for c in courses})
    alerts = []
    for course in courses:
        alerts += _trial_alert(cache, course, day, mrn[course.patient_id])
    as_of = min(day.end - timedelta(microseconds=1), max(uc.now, day.start))
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
    return alerts


def _alerts(
    uc: UseCase, day: _Day, after: int, limit: int | None
) -> tuple[list[DashboardAlert], list[int], int]:
    """(alerts sorted, the patients whose standing alerts are in, how many more)."""
    courses = _open_courses(uc)
    assessments = _assessment_rows(uc, day)
    day_courses = _day_courses(uc, courses, day)
    open_patients = sorted({int(c.patient_id) for c in courses if c.patient_id > after})
    page = open_patients if limit is None else open_patients[:limit]
    wanted = set(page)
    mrn = _mrns(
        uc,
        {int(a.patient_id) for a in assessments}
        | {int(c.patient_id) for c in day_courses}
        | wanted,
    )
    alerts = _assessment_alerts(assessments, mrn)
    cache = TableCache(uc.session, {int(c.patient_id) for c in day_courses})
    for course in day_courses:
        alerts += _day_alerts(cache, course, day, mrn[course.patient_id])
    chunk = _PAGE_MAX
    for k in range(0, len(page), chunk):
        some = set(page[k : k + chunk])
        alerts += _standing(uc, [c for c in courses if c.patient_id in some], day, mrn)
    alerts.sort(key=lambda a: (ALERT_KINDS.index(a.kind), a.patient_id))
    return alerts, page, len(open_patients) - len(page)


def dashboard_alerts(
    db: Database,
    actor: Actor,
    day: date,
    *,
    clock: Clock = utc_now,
    zone: tzinfo = UTC,
) -> list[DashboardAlert]:
    """Every alert for ``day`` (a calendar day in the clinic's ``zone``; UTC without one),
    most urgent kind first; audited read.
    Reads the patients with an open course 200 at a time; ``dashboard_page`` bounds it."""
    _check_day(day)
    with _transaction(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "reading the clinic's alerts")
        alerts, _, _ = _alerts(uc, _Day.at(day, zone), 0, None)
        uc.audit(
            "dashboard.read",
            details={
                "day": day.isoformat(),
                "alerts": len(alerts),
                "patients": sorted({a.patient_id for a in alerts}),
            },
        )
        return alerts


def dashboard_page(
    db: Database,
    actor: Actor,
    day: date,
    *,
    after: int = 0,
    patients: int = DASHBOARD_PAGE_PATIENTS,
    clock: Clock = utc_now,
    zone: tzinfo = UTC,
) -> DashboardPage:
    """The alerts of ``day``: all of the day's, and the standing ones of at most
    ``patients`` (1 to 200) patients with an open course, those with ids above ``after``;
    most urgent kind first; audited read. ``day`` is a calendar day in the clinic's
    ``zone`` (UTC without one)."""
    _check_day(day)
    if (
        isinstance(patients, bool)
        or not isinstance(patients, int)
        or not 1 <= patients <= _PAGE_MAX
    ):
        raise UserInputError(
            f"patients {patients!r} is not accepted: an integer from 1 to {_PAGE_MAX}"
        )
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise UserInputError(f"after {after!r} is not accepted: a patient id, 0 or more")
    with _transaction(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "reading the clinic's alerts")
        alerts, page, more = _alerts(uc, _Day.at(day, zone), after, patients)
        uc.audit(
            "dashboard.read",
            details={
                "day": day.isoformat(),
                "after": after,
                "alerts": len(alerts),
                "patients": sorted({a.patient_id for a in alerts}),
            },
        )
        return DashboardPage(
            day, tuple(alerts), after, len(page), more, page[-1] if more and page else None
        )
