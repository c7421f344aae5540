"""Plan a course (the planner and the safety engine), change its status, read it.

Planning is a physician's act: it fixes the protocol, its version (a digest of the protocol
as loaded) and its trial criteria for the whole course, and stores the first order with its
doses as ``Dose.to_json()`` values and the safety findings exactly as they were. An order with
a hard stop is stored too (the findings are the record of why) but can never be signed.

Course status moves planned -> active -> maintenance -> completed, or to stopped from any
open status; every change is a new status event with a reason. Stopped and completed are
final: a new course is planned instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ketaclinic.errors import RefusedError, UserInputError
from ketaclinic.protocols import SESSION_TIME_UTC, Protocol, get_protocol, plan
from ketaclinic.ranges import CLINIC_DATE
from ketaclinic.services._audit import Actor, Clock, UseCase, audited_read, utc_now
from ketaclinic.services._audit import audited_transaction as _transaction
from ketaclinic.services._blind_check import values_withheld_from
from ketaclinic.services._inputs import (
    authorize,
    check_instant,
    existing_patient,
    positive_id,
    who,
)
from ketaclinic.services._patient_context import build_context
from ketaclinic.services._permissions import Permission
from ketaclinic.store import (
    COURSE_STATUSES,
    CourseStatusEvent,
    Database,
    Order,
    OrderSignature,
    StaffUser,
    TreatmentCourse,
    add,
    amend,
    course_status,
    current_records,
    get,
)

__all__ = [
    "OPEN_STATUSES",
    "TRANSITIONS",
    "CoursePlan",
    "CourseView",
    "change_course_status",
    "get_course",
    "list_courses",
    "open_course",
    "plan_course",
    "protocol_version",
    "replan_order",
    "set_course_status",
]

OPEN_STATUSES = ("planned", "active", "maintenance")

#: The status changes a course may make (stopped and completed are final).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "planned": ("active", "stopped"),
    "active": ("maintenance", "stopped", "completed"),
    "maintenance": ("active", "stopped", "completed"),
    "stopped": (),
    "completed": (),
}

_MAX_REASON = 2000


def protocol_version(protocol: Protocol) -> str:
    """The protocol's version: a digest of its content as loaded (any change is a new one)."""
    digest = hashlib.sha256(protocol.model_dump_json().encode("utf-8")).hexdigest()
    return f"sha256:{digest[:16]}"


@dataclass(frozen=True)
class CoursePlan:
    """The result of planning: the course, its first order, and what the engine said."""

    course_id: int
    order_id: int
    patient_id: int
    protocol_id: str
    protocol_version: str
    status: str
    allowed: bool
    weight_kg: float
    doses: tuple[dict[str, Any], ...]
    findings: tuple[dict[str, Any], ...]
    sessions: tuple[dict[str, Any], ...]
    trial_criteria: dict[str, Any]

    @property
    def hard_stops(self) -> tuple[str, ...]:
        return tuple(f["code"] for f in self.findings if f["severity"] == "HARD_STOP")

    @property
    def needs_override(self) -> tuple[str, ...]:
        return tuple(f["code"] for f in self.findings if f["severity"] == "OVERRIDABLE")

    def to_dict(self) -> dict[str, Any]:
        return {
            "course_id": self.course_id,
            "order_id": self.order_id,
            "patient_id": self.patient_id,
            "protocol": self.protocol_id,
            "protocol_version": self.protocol_version,
            "status": self.status,
            "allowed": self.allowed,
            "weight_kg": self.weight_kg,
            "doses": list(self.doses),
            "findings": list(self.findings),
            "hard_stops": list(self.hard_stops),
            "needs_override": list(self.needs_override),
            "sessions": list(self.sessions),
            "trial_criteria": self.trial_criteria,
        }


def _start_moment(start_on: date) -> datetime:
    return datetime.combine(start_on, SESSION_TIME_UTC, tzinfo=UTC)


def _check_start(start_on: Any, today: date) -> date:
    if isinstance(start_on, datetime) or not isinstance(start_on, date):
        raise UserInputError(f"start date {start_on!r} is not accepted: a date such as 2026-12-01")
    CLINIC_DATE.check(start_on, "start date")
    if start_on < today:
        raise UserInputError(
            f"start date {start_on.isoformat()} is in the past (today is {today.isoformat()}); "
            "a course is planned from today on"
        )
    return start_on


def create_order(
    uc: UseCase,
    user: StaffUser,
    course: TreatmentCourse,
    protocol: Protocol,
    start_on: date,
    *,
    risk_patients: int = 0,
    replaces: Order | None = None,
    reason: str | None = None,
) -> tuple[Order, Any]:
    """Plan and store an order for ``course`` from ``start_on`` (inside a use case); with
    ``replaces``, the new order is an amendment of that one (which is then no longer given)."""
    context = build_context(uc.session, course.patient_id, _start_moment(start_on))
    planned = plan(protocol, context, start_on, risk_patients=risk_patients)
    fields: dict[str, Any] = {
        "patient_id": course.patient_id,
        "course_id": course.id,
        "doses": [d.dose.to_json() for d in planned.doses],
        "findings": [f.to_dict() for f in planned.report.findings],
        "plan": planned.to_dict(curve_step_min=10.0),
        "drug_library_version": planned.report.drug_library_version,
        "weight_kg": context.weight_kg,
    }
    if replaces is None:
        order = add(uc.session, Order(**fields, **who(uc, user)))
    else:
        order = amend(
            uc.session, replaces, Order(**fields), reason=reason or "re-planned", **who(uc, user)
        )
    uc.audit(
        "order.create",
        record_type="orders",
        record_id=order.id,
        patient_id=course.patient_id,
        reason=reason,
        details={
            "course_id": course.id,
            "replaces": replaces.id if replaces is not None else None,
            "protocol_version": protocol_version(protocol),
            "allowed": planned.allowed,
            "blocking": sorted(f.code for f in planned.report.blocking),
        },
    )
    return order, planned


def _plan_result(course: TreatmentCourse, order: Order, planned: Any, status: str) -> CoursePlan:
    return CoursePlan(
        course_id=int(course.id),
        order_id=int(order.id),
        patient_id=int(course.patient_id),
        protocol_id=course.protocol_id,
        protocol_version=course.protocol_version,
        status=status,
        allowed=planned.allowed,
        weight_kg=float(order.weight_kg),
        doses=tuple(d.to_dict() for d in planned.doses),
        findings=tuple(order.findings),
        sessions=tuple(s.to_dict() for s in planned.sessions),
        trial_criteria=course.trial_criteria,
    )


def plan_course(
    db: Database,
    actor: Actor,
    patient_id: int,
    protocol_id: str,
    start_on: date,
    *,
    risk_patients: int = 0,
    clock: Clock = utc_now,
) -> CoursePlan:
    """Plan a course of ``protocol_id`` for a patient from ``start_on`` (physicians only).

    Stores the course (status ``planned``, trial criteria fixed) and its first order; the
    plan's safety findings decide whether the order can be signed. ``risk_patients`` > 0 adds
    the population risk of exceeding the protocol's ceilings (virtual patients; slower).
    """
    protocol = get_protocol(protocol_id)
    if isinstance(risk_patients, bool) or not isinstance(risk_patients, int):
        raise UserInputError("risk_patients must be an integer from 0 to 100000")
    if not 0 <= risk_patients <= 100_000:
        raise UserInputError(f"risk_patients {risk_patients} is outside 0-100000")
    with _transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.COURSE_PLAN, "planning a course")
        existing_patient(uc, patient_id)
        start = _check_start(start_on, uc.now.date())
        for other in current_records(uc.session, TreatmentCourse, patient_id):
            status = course_status(uc.session, other.id)
            if other.protocol_id == protocol.id and status and status.status in OPEN_STATUSES:
                raise RefusedError(
                    f"patient {patient_id} already has course {other.id} of {protocol.id} "
                    f"({status.status}); stop or complete it before planning another"
                )
        version = protocol_version(protocol)
        criteria = protocol.trial.model_dump(mode="json")
        course = add(
            uc.session,
            TreatmentCourse(
                patient_id=patient_id,
                indication=protocol.category,
                protocol_id=protocol.id,
                protocol_version=version,
                trial_criteria=criteria,
                planned_start_on=start,
                **who(uc, user),
            ),
        )
        add(
            uc.session,
            CourseStatusEvent(
                patient_id=patient_id,
                course_id=course.id,
                status="planned",
                reason=f"planned: {protocol.title}",
                effective_at=uc.now,
                **who(uc, user),
            ),
        )
        uc.audit(
            "course.plan",
            record_type="treatment_courses",
            record_id=course.id,
            patient_id=patient_id,
            details={"protocol": protocol.id, "protocol_version": version},
        )
        order, planned = create_order(
            uc, user, course, protocol, start, risk_patients=risk_patients
        )
        return _plan_result(course, order, planned, "planned")


def replan_order(
    db: Database,
    actor: Actor,
    course_id: int,
    start_on: date,
    reason: str,
    *,
    risk_patients: int = 0,
    clock: Clock = utc_now,
) -> CoursePlan:
    """A new order for an open course from the patient's records now (a new weight, new
    medicines, the next maintenance session): physicians only. It replaces the course's
    current order (an amendment, with ``reason``), which can then no longer be signed or
    given; the course's trial criteria stay as they were fixed."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > _MAX_REASON:
        raise UserInputError(f"a new order needs a reason (1 to {_MAX_REASON} characters)")
    with _transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.COURSE_PLAN, "re-planning an order")
        course = open_course(uc, course_id)
        status = course_status(uc.session, course.id)
        if status is not None and status.status not in OPEN_STATUSES:
            raise RefusedError(f"course {course.id} is {status.status}: plan a new course")
        start = _check_start(start_on, uc.now.date())
        protocol = get_protocol(course.protocol_id)
        orders = [
            o
            for o in current_records(uc.session, Order, course.patient_id)
            if o.course_id == course.id
        ]
        current = max(orders, key=lambda o: o.id, default=None)
        order, planned = create_order(
            uc,
            user,
            course,
            protocol,
            start,
            risk_patients=risk_patients,
            replaces=current,
            reason=reason.strip(),
        )
        return _plan_result(course, order, planned, status.status if status else "planned")


def change_course_status(
    uc: UseCase,
    user: StaffUser,
    course: TreatmentCourse,
    status: str,
    reason: str,
    effective_at: datetime | None = None,
) -> CourseStatusEvent:
    """Record a status change inside a use case (checked against :data:`TRANSITIONS`)."""
    if status not in COURSE_STATUSES:
        raise UserInputError(
            f"course status {status!r} is not accepted; accepted: {', '.join(COURSE_STATUSES)}"
        )
    if not isinstance(reason, str) or not reason.strip() or len(reason) > _MAX_REASON:
        raise UserInputError(f"a status change needs a reason (1 to {_MAX_REASON} characters)")
    when = check_instant(effective_at, "effective time") if effective_at else uc.now
    if when > uc.now:
        raise UserInputError(f"effective time {when.isoformat()} is in the future")
    now = course_status(uc.session, course.id)
    current = now.status if now else "planned"
    if status not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current]) or "none (the course is closed)"
        raise RefusedError(
            f"course {course.id} is {current}: it cannot become {status}; accepted: {allowed}"
        )
    if now is not None and when < now.effective_at:
        raise UserInputError(
            f"effective time {when.isoformat()} is before the current status ({current}, "
            f"{now.effective_at.isoformat()})"
        )
    event = add(
        uc.session,
        CourseStatusEvent(
            patient_id=course.patient_id,
            course_id=course.id,
            status=status,
            reason=reason.strip(),
            effective_at=when,
            **who(uc, user),
        ),
    )
    uc.audit(
        "course.status",
        record_type="course_status_events",
        record_id=event.id,
        patient_id=course.patient_id,
        reason=reason.strip(),
        details={"course_id": course.id, "from": current, "to": status},
    )
    return event


def open_course(uc: UseCase, course_id: int) -> TreatmentCourse:
    """The current version of course ``course_id`` (a corrected or withdrawn one is refused)."""
    course = get(uc.session, TreatmentCourse, positive_id(course_id, "course id"))
    newer = uc.session.query(TreatmentCourse).filter(TreatmentCourse.amends_id == course.id).first()
    if newer is not None or course.entered_in_error:
        raise RefusedError(
            f"course {course_id} was corrected or withdrawn; use its current version"
        )
    return course


def set_course_status(
    db: Database,
    actor: Actor,
    course_id: int,
    status: str,
    reason: str,
    *,
    effective_at: datetime | None = None,
    clock: Clock = utc_now,
) -> str:
    """Change a course's status, with a reason (physicians only). Returns the new status."""
    with _transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.COURSE_PLAN, "changing a course's status")
        course = open_course(uc, course_id)
        change_course_status(uc, user, course, status, reason, effective_at)
        return status


@dataclass(frozen=True)
class CourseView:
    course_id: int
    patient_id: int
    indication: str
    protocol_id: str
    protocol_version: str
    planned_start_on: date | None
    status: str
    status_history: tuple[dict[str, Any], ...]
    orders: tuple[dict[str, Any], ...]
    trial_criteria: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "course_id": self.course_id,
            "patient_id": self.patient_id,
            "indication": self.indication,
            "protocol": self.protocol_id,
            "protocol_version": self.protocol_version,
            "planned_start_on": self.planned_start_on.isoformat()
            if self.planned_start_on
            else None,
            "status": self.status,
            "status_history": list(self.status_history),
            "orders": list(self.orders),
            "trial_criteria": self.trial_criteria,
        }


def _view(uc: UseCase, course: TreatmentCourse, viewer: StaffUser) -> CourseView:
    """The course as ``viewer`` reads it: an order's weight and doses withheld (``values_withheld``)
    from a clinician who may still double-check it blind."""
    events = [
        e
        for e in current_records(uc.session, CourseStatusEvent, course.patient_id)
        if e.course_id == course.id
    ]
    events.sort(key=lambda e: (e.effective_at, e.id))
    signed = {s.order_id for s in current_records(uc.session, OrderSignature, course.patient_id)}
    orders = []
    for o in current_records(uc.session, Order, course.patient_id):
        if o.course_id != course.id:
            continue
        blind = values_withheld_from(uc.session, o, viewer)
        orders.append(
            {
                "order_id": o.id,
                "recorded_at": o.recorded_at.isoformat(),
                "weight_kg": None if blind else o.weight_kg,
                "doses": [] if blind else o.doses,
                "values_withheld": blind,
                "signed": o.id in signed,
                "hard_stops": [f["code"] for f in o.findings if f["severity"] == "HARD_STOP"],
            }
        )
    return CourseView(
        course_id=int(course.id),
        patient_id=int(course.patient_id),
        indication=course.indication,
        protocol_id=course.protocol_id,
        protocol_version=course.protocol_version,
        planned_start_on=course.planned_start_on,
        status=events[-1].status if events else "planned",
        status_history=tuple(
            {
                "status": e.status,
                "reason": e.reason,
                "effective_at": e.effective_at.isoformat(),
                "recorded_by_id": e.recorded_by_id,
            }
            for e in events
        ),
        orders=tuple(orders),
        trial_criteria=course.trial_criteria,
    )


def get_course(db: Database, actor: Actor, course_id: int, *, clock: Clock = utc_now) -> CourseView:
    """One course with its status history and orders (audited read)."""
    with audited_read(db, actor, clock) as uc:
        viewer = authorize(uc, Permission.PATIENT_READ, "reading a course")
        course = open_course(uc, course_id)
        uc.audit(
            "course.read",
            record_type="treatment_courses",
            record_id=course.id,
            patient_id=course.patient_id,
        )
        return _view(uc, course, viewer)


def list_courses(
    db: Database, actor: Actor, patient_id: int, *, clock: Clock = utc_now
) -> list[CourseView]:
    """A patient's courses, oldest first (audited read)."""
    with audited_read(db, actor, clock) as uc:
        viewer = authorize(uc, Permission.PATIENT_READ, "reading a patient's courses")
        existing_patient(uc, patient_id)
        courses = current_records(uc.session, TreatmentCourse, patient_id)
        uc.audit("course.list", record_type="treatment_courses", patient_id=patient_id)
        return [_view(uc, c, viewer) for c in courses]
