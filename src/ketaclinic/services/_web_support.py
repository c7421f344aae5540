"""View queries for the clinic's pages: what one page shows, read in one audited transaction.

- ``patient_history``: a patient's outcome trajectories per instrument and score (with the
  baseline and the instrument's own response threshold), opioid use in MME over time, every
  session and every adverse event;
- ``order_details``: an order with the plan stored when it was made (the predicted curve,
  the population risk, the findings), its course and protocol, and whether it may be given;
- ``preview_plan``: the planner's plan for a patient and a protocol, stored nowhere: the
  eligibility and contraindication findings before any course is planned;
- ``check_patient_order``: the safety engine's findings for doses a physician types (a
  neuraxial route is a hard stop), stored nowhere;
- ``courses_by_status``: how many courses are in each status (the dashboard).

Who may: physicians and nurses (``check_patient_order`` and ``preview_plan``: physicians, who
plan). Every read is audited like the other reads of patient data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import exists, select

from ketaclinic.errors import UserInputError
from ketaclinic.outcomes import Threshold, get_instrument
from ketaclinic.protocols import SESSION_TIME_UTC, check, get_protocol, plan, protocols
from ketaclinic.safety import Order as SafetyOrder
from ketaclinic.safety import format_validation_error
from ketaclinic.services._audit import Actor, Clock, audited_read, utc_now
from ketaclinic.services._audit import audited_transaction as _transaction
from ketaclinic.services._blind_check import (
    blind_checks_pending,
    refuse_blind_checker,
    values_withheld_from,
    withheld_findings,
)
from ketaclinic.services._courses import protocol_version
from ketaclinic.services._inputs import (
    authorize,
    existing_patient,
    positive_id,
)
from ketaclinic.services._orders import (
    AdministrationStatus,
    OrderView,
    _order,
    _order_view,
    administration_status,
)
from ketaclinic.services._patient_context import build_context
from ketaclinic.services._permissions import Permission
from ketaclinic.store import (
    AdverseEvent,
    Assessment,
    CourseStatusEvent,
    Database,
    OpioidUse,
    PatientChart,
    TreatmentCourse,
    TreatmentSession,
    current_records,
    get,
    get_patient,
    load_chart,
    newer_version,
)

__all__ = [
    "OrderDetails",
    "OutcomeSeries",
    "PatientHistory",
    "check_patient_order",
    "courses_by_status",
    "eligibility",
    "order_details",
    "patient_history",
    "preview_plan",
]

#: Dose lines a typed order may have (a session's doses; more is a typing accident).
MAX_DOSE_LINES = 20


@dataclass(frozen=True)
class OutcomeSeries:
    """One score of one instrument over time. ``baseline_points``: the first value (the
    trial's baseline); ``response_points``: the score at which the instrument's response
    rule is met (e.g. PHQ-9: 50 % below baseline), with the rule and its source."""

    instrument_id: str
    instrument_name: str
    score_id: str
    label: str
    range_points: tuple[float, float]
    administered_at: tuple[datetime, ...]
    value_points: tuple[float, ...]
    baseline_points: float | None
    response_points: float | None
    response_rule: str | None
    response_source: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument_id,
            "instrument_name": self.instrument_name,
            "score": self.score_id,
            "label": self.label,
            "range_points": list(self.range_points),
            "administered_at": [t.isoformat() for t in self.administered_at],
            "value_points": list(self.value_points),
            "baseline_points": self.baseline_points,
            "response_points": self.response_points,
            "response_rule": self.response_rule,
            "response_source": self.response_source,
        }


@dataclass(frozen=True)
class PatientHistory:
    patient_id: int
    outcomes: tuple[OutcomeSeries, ...]
    opioid_use: tuple[dict[str, Any], ...]
    sessions: tuple[dict[str, Any], ...]
    adverse_events: tuple[dict[str, Any], ...]
    assessments: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "outcomes": [s.to_dict() for s in self.outcomes],
            "opioid_use": list(self.opioid_use),
            "sessions": list(self.sessions),
            "adverse_events": list(self.adverse_events),
            "assessments": list(self.assessments),
        }


def _response_rule(instrument_id: str, score_id: str) -> Threshold | None:
    instrument = get_instrument(instrument_id)
    for rule in instrument.scores:
        if rule.id == score_id:
            for threshold in rule.change_rules:
                if threshold.level == "response":
                    return threshold
    return None


def _response_points(threshold: Threshold | None, baseline: float | None) -> float | None:
    if threshold is None or baseline is None:
        return None
    if threshold.metric == "percent_drop_from_baseline":
        return round(baseline * (1 - threshold.value / 100), 2)
    if threshold.metric == "points_drop_from_baseline":
        return round(baseline - threshold.value, 2)
    return threshold.value


def _series(rows: Sequence[Any]) -> tuple[OutcomeSeries, ...]:
    points: dict[tuple[str, str], list[tuple[datetime, float, dict[str, Any], str]]] = {}
    for row in sorted(rows, key=lambda r: (r.administered_at, r.id)):
        score = row.score or {}
        for value in score.get("scores", ()):
            key = (row.instrument_id, str(value["id"]))
            name = str(score.get("instrument_name") or row.instrument_id)
            points.setdefault(key, []).append(
                (row.administered_at, float(value["value_points"]), value, name)
            )
    out = []
    for (instrument_id, score_id), values in points.items():
        baseline = values[0][1]
        rule = _response_rule(instrument_id, score_id)
        low, high = values[-1][2].get("range_points", (0, 0))
        out.append(
            OutcomeSeries(
                instrument_id=instrument_id,
                instrument_name=values[-1][3],
                score_id=score_id,
                label=str(values[-1][2].get("label", score_id)),
                range_points=(float(low), float(high)),
                administered_at=tuple(v[0] for v in values),
                value_points=tuple(v[1] for v in values),
                baseline_points=baseline,
                response_points=_response_points(rule, baseline),
                response_rule=rule.describe() if rule is not None else None,
                response_source=rule.source if rule is not None else None,
            )
        )
    return tuple(out)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def patient_history(
    db: Database, actor: Actor, patient_id: int, *, clock: Clock = utc_now
) -> PatientHistory:
    """Outcome trajectories, opioid MME over time, sessions and adverse events of a patient
    (physicians and nurses; one audited read)."""
    with audited_read(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "reading a patient's history")
        existing_patient(uc, patient_id)
        chart = load_chart(uc.session, patient_id)
        uc.audit(
            "patient.history.read",
            record_type="patients",
            record_id=patient_id,
            patient_id=patient_id,
        )
        return history_of(chart)


def history_of(chart: PatientChart) -> PatientHistory:
    """The history of the patient of a loaded chart (no reads of its own)."""
    patient_id = int(chart.patient.id)
    protocols = {c.id: c.protocol_id for c in chart.of(TreatmentCourse)}
    assessments = chart.of(Assessment)
    sessions = sorted(chart.of(TreatmentSession), key=lambda s: (s.scheduled_start_at, s.id))
    return PatientHistory(
        patient_id=patient_id,
        outcomes=_series(assessments),
        opioid_use=tuple(
            {
                "id": o.id,
                "drug": o.drug,
                "daily_dose": f"{o.daily_dose_value:g} {o.daily_dose_unit}",
                "route": o.route,
                "period_start_on": o.period_start_on.isoformat(),
                "period_end_on": _iso(o.period_end_on),
                "mme_mg_per_day": o.mme_mg_per_day,
                "mme_table": f"{o.mme_table_id} {o.mme_table_version}" if o.mme_table_id else None,
            }
            for o in sorted(chart.of(OpioidUse), key=lambda o: (o.period_start_on, o.id))
        ),
        sessions=tuple(
            {
                "session_id": s.id,
                "course_id": s.course_id,
                "protocol": protocols.get(s.course_id),
                "scheduled_start_at": s.scheduled_start_at.isoformat(),
                "actual_start_at": _iso(s.actual_start_at),
                "actual_end_at": _iso(s.actual_end_at),
                "route": s.route,
                "multi_day": s.multi_day,
            }
            for s in sessions
        ),
        adverse_events=tuple(
            {
                "id": a.id,
                "session_id": a.session_id,
                "onset_at": a.onset_at.isoformat(),
                "term": a.term,
                "severity": a.severity,
                "outcome": a.outcome,
                "action_taken": a.action_taken,
            }
            for a in sorted(chart.of(AdverseEvent), key=lambda a: (a.onset_at, a.id))
        ),
        assessments=tuple(
            {
                "id": a.id,
                "instrument": a.instrument_id,
                "administered_at": a.administered_at.isoformat(),
                "total_points": (a.score or {}).get("total_points"),
                "band": (a.score or {}).get("band"),
            }
            for a in sorted(assessments, key=lambda a: (a.administered_at, a.id))
        ),
    )


@dataclass(frozen=True)
class OrderDetails:
    """An order as its physician signs it: the stored plan (``plan``: the planner's output
    when the order was made, with ``prediction`` and ``population_risk``), its course, and
    whether it may be given now."""

    order: OrderView
    course_id: int
    protocol_id: str
    protocol_title: str
    evidence_level: str
    evidence_summary: str
    evidence_source: str
    course_status: str
    mrn: str
    plan: dict[str, Any]
    administration: AdministrationStatus

    @property
    def hard_stops(self) -> tuple[dict[str, Any], ...]:
        return tuple(f for f in self.order.findings if f["severity"] == "HARD_STOP")

    @property
    def overridable(self) -> tuple[dict[str, Any], ...]:
        return tuple(f for f in self.order.findings if f["severity"] == "OVERRIDABLE")

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.order.to_dict(),
            "protocol": self.protocol_id,
            "protocol_title": self.protocol_title,
            "evidence": {
                "level": self.evidence_level,
                "summary": self.evidence_summary,
                "source": self.evidence_source,
            },
            "course_status": self.course_status,
            "mrn": self.mrn,
            "plan": self.plan,
            "administration": self.administration.to_dict(),
        }


def order_details(
    db: Database, actor: Actor, order_id: int, *, clock: Clock = utc_now
) -> OrderDetails:
    """One order with its stored plan and administration status (clinicians; audited)."""
    positive_id(order_id, "order id")
    with audited_read(db, actor, clock) as uc:
        viewer = authorize(uc, Permission.PATIENT_READ, "reading an order")
        order = _order(uc.session, order_id)
        course = get(uc.session, TreatmentCourse, order.course_id)
        protocol = get_protocol(course.protocol_id)
        events = [
            e
            for e in current_records(uc.session, CourseStatusEvent, course.patient_id)
            if e.course_id == course.id
        ]
        status = max(events, key=lambda e: (e.effective_at, e.id)).status if events else "planned"
        uc.audit(
            "order.read", record_type="orders", record_id=order.id, patient_id=order.patient_id
        )
        return OrderDetails(
            order=_order_view(uc.session, order, viewer),
            course_id=int(course.id),
            protocol_id=course.protocol_id,
            protocol_title=protocol.title,
            evidence_level=protocol.evidence.level,
            evidence_summary=protocol.evidence.summary,
            evidence_source=protocol.evidence.source,
            course_status=status,
            mrn=get_patient(uc.session, order.patient_id).mrn,
            plan={} if values_withheld_from(uc.session, order, viewer) else dict(order.plan or {}),
            administration=administration_status(uc.session, int(order.id)),
        )


def _start(start_on: Any, today: date) -> date:
    if not isinstance(start_on, date) or isinstance(start_on, datetime):
        raise UserInputError(f"start_on must be a date such as {today.isoformat()}")
    if start_on < today:
        raise UserInputError(
            f"start_on {start_on.isoformat()} is in the past; accepted: today "
            f"({today.isoformat()}) or later"
        )
    return start_on


def preview_plan(
    db: Database,
    actor: Actor,
    patient_id: int,
    protocol_id: str,
    start_on: date,
    *,
    risk_patients: int = 0,
    clock: Clock = utc_now,
) -> dict[str, Any]:
    """The plan ``plan_course`` would make (doses, calendar, prediction, findings, the
    population risk with ``risk_patients`` > 0), stored nowhere: what the physician sees
    before planning. Physicians only; an audited read of the patient's facts."""
    protocol = get_protocol(protocol_id)
    if isinstance(risk_patients, bool) or not isinstance(risk_patients, int):
        raise UserInputError("risk_patients must be an integer from 0 to 2000")
    if not 0 <= risk_patients <= 2000:
        raise UserInputError(f"risk_patients {risk_patients} is outside 0-2000")
    with _transaction(db, actor, clock) as uc:
        viewer = authorize(uc, Permission.PATIENT_READ, "previewing a course plan")
        existing_patient(uc, patient_id)
        refuse_blind_checker(uc.session, patient_id, viewer, "previewing a course plan")
        start = _start(start_on, uc.now.date())
        moment = datetime.combine(start, SESSION_TIME_UTC, tzinfo=UTC)
        context = build_context(uc.session, patient_id, moment)
        planned = plan(protocol, context, start, risk_patients=risk_patients)
        uc.audit(
            "course.preview",
            record_type="patients",
            record_id=patient_id,
            patient_id=patient_id,
            details={"protocol": protocol.id, "allowed": planned.allowed},
        )
        return {
            **planned.to_dict(curve_step_min=5.0),
            "protocol_version": protocol_version(protocol),
            "evidence": protocol.evidence.model_dump(mode="json"),
        }


def eligibility(
    db: Database, actor: Actor, patient_id: int, start_on: date, *, clock: Clock = utc_now
) -> list[dict[str, Any]]:
    """Every protocol of the library planned for the patient from ``start_on``, stored
    nowhere: its evidence, whether it could be signed, and the eligibility and
    contraindication findings (clinicians; one audited read).

    A clinician who may still check one of the patient's orders blind reads each finding
    that names an amount, weight, rate or concentration with its severity and code only
    (``withheld``; ``withheld_findings`` counts them, ``double_check_path`` says where the
    check is): the planner doses this patient as the order does."""
    with _transaction(db, actor, clock) as uc:
        viewer = authorize(uc, Permission.PATIENT_READ, "reading a patient's eligibility")
        existing_patient(uc, patient_id)
        pending = blind_checks_pending(uc.session, patient_id, viewer)
        start = _start(start_on, uc.now.date())
        moment = datetime.combine(start, SESSION_TIME_UTC, tzinfo=UTC)
        context = build_context(uc.session, patient_id, moment)
        out = []
        for protocol in protocols().values():
            planned = plan(protocol, context, start, risk_patients=0)
            findings = [{**f.to_dict(), "withheld": False} for f in planned.report.findings]
            if pending:
                findings = withheld_findings(findings)
            out.append(
                {
                    "protocol": protocol.id,
                    "title": protocol.title,
                    "category": protocol.category,
                    "indication": protocol.indication,
                    "evidence": protocol.evidence.model_dump(mode="json"),
                    "allowed": planned.allowed,
                    "hard_stops": [f for f in findings if f["severity"] == "HARD_STOP"],
                    "overridable": [f for f in findings if f["severity"] == "OVERRIDABLE"],
                    "findings": findings,
                    "withheld_findings": sum(1 for f in findings if f.get("withheld")),
                    "double_check_path": f"/orders/{pending[0]}/double-check" if pending else None,
                }
            )
        uc.audit(
            "patient.eligibility",
            record_type="patients",
            record_id=patient_id,
            patient_id=patient_id,
            details={"allowed": [e["protocol"] for e in out if e["allowed"]]},
        )
        return out


def check_patient_order(
    db: Database,
    actor: Actor,
    patient_id: int,
    protocol_id: str,
    doses: Sequence[str],
    *,
    clock: Clock = utc_now,
) -> dict[str, Any]:
    """The safety engine's report for ``doses`` (dose grammar, one a line) under
    ``protocol_id`` for the patient now: like ``ketaclinic check``, stored nowhere. A
    neuraxial route is a HARD_STOP finding, not an input error. Physicians only; audited."""
    protocol = get_protocol(protocol_id)
    if isinstance(doses, str) or not isinstance(doses, Sequence):
        raise UserInputError("doses must be a list of dose-grammar lines")
    lines = [d.strip() for d in doses if isinstance(d, str) and d.strip()]
    if not lines or len(lines) != len([d for d in doses if not isinstance(d, str) or d.strip()]):
        raise UserInputError(
            "doses: give 1 to 20 lines in the dose grammar, e.g. "
            "'iv-infusion 0.5 mg/kg over 40 min at 0 min'"
        )
    if len(lines) > MAX_DOSE_LINES:
        raise UserInputError(f"doses: {len(lines)} lines; accepted: 1 to {MAX_DOSE_LINES}")
    with _transaction(db, actor, clock) as uc:
        authorize(uc, Permission.COURSE_PLAN, "checking an order")
        existing_patient(uc, patient_id)
        context = build_context(uc.session, patient_id, uc.now)
        try:
            order = SafetyOrder.model_validate(
                {"protocol": protocol.id, "doses": lines, "start": uc.now}
            )
        except ValidationError as error:
            raise UserInputError(format_validation_error(error, "order")) from None
        report = check(order, context, as_of=uc.now)
        uc.audit(
            "order.check",
            record_type="patients",
            record_id=patient_id,
            patient_id=patient_id,
            details={
                "protocol": protocol.id,
                "allowed": report.allowed,
                "hard_stops": sorted(f.code for f in report.findings if f.severity == "HARD_STOP"),
            },
        )
        return {
            "protocol": protocol.id,
            "doses": lines,
            "allowed": report.allowed,
            "findings": [f.to_dict() for f in report.findings],
            "drug_library_version": report.drug_library_version,
        }


def courses_by_status(
    db: Database, actor: Actor, *, clock: Clock = utc_now
) -> dict[str, dict[str, int]]:
    """How many current courses are in each status now, by indication (``{indication:
    {status: n}}``; clinicians; audited, no patient named)."""
    with audited_read(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "reading the courses by status")
        newer_course = newer_version(TreatmentCourse)
        newer_event = newer_version(CourseStatusEvent)
        courses = dict(
            uc.session.execute(
                select(TreatmentCourse.id, TreatmentCourse.indication)
                .where(TreatmentCourse.entered_in_error.is_(False))
                .where(~exists().where(newer_course.amends_id == TreatmentCourse.id))
            ).all()
        )
        events = uc.session.execute(
            select(CourseStatusEvent.course_id, CourseStatusEvent.status)
            .where(CourseStatusEvent.entered_in_error.is_(False))
            .where(~exists().where(newer_event.amends_id == CourseStatusEvent.id))
            .order_by(CourseStatusEvent.effective_at, CourseStatusEvent.id)
        ).all()
        latest = {row.course_id: row.status for row in events}  # the last event wins
        counts: dict[str, Counter[str]] = {}
        for course_id, indication in courses.items():
            counts.setdefault(indication, Counter())[latest.get(course_id, "planned")] += 1
        uc.audit("course.status_counts", record_type="treatment_courses")
        return {k: dict(sorted(v.items())) for k, v in sorted(counts.items())}
