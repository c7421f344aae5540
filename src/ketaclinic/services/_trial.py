"""Evaluate a course's trial and record the physician's decision.

The criteria are the ones fixed when the course was planned (``treatment_courses.
trial_criteria``), never the protocol file as it reads today. The course starts at its first
session given (else on its planned start day, 09:00 UTC); the sessions are the ones given
(``actual_start_at``); the assessments are every current one of the criteria's instrument
(the baseline is usually taken before the course exists). ``ketaclinic.outcomes.
evaluate_trial`` then recommends continue / stop / taper / not yet due / insufficient data with
its reasons and numbers.

A decision is a physician's: ``continue``, ``stop`` or ``taper``, stored with the evaluation
it was shown. A decision that differs from the recommendation, or one taken before the trial
can be judged, needs a reason. ``stop`` also stops the course.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ketaclinic.errors import RefusedError, UserInputError
from ketaclinic.outcomes import Assessment as Scored
from ketaclinic.outcomes import TrialDecision, evaluate_trial, get_instrument
from ketaclinic.protocols import SESSION_TIME_UTC, TrialCriteria
from ketaclinic.safety import format_validation_error
from ketaclinic.services._audit import Actor, Clock, UseCase, utc_now
from ketaclinic.services._audit import audited_transaction as _transaction
from ketaclinic.services._courses import OPEN_STATUSES, change_course_status, open_course
from ketaclinic.services._inputs import authorize, check_instant, who
from ketaclinic.services._patient_context import Records
from ketaclinic.services._permissions import Permission
from ketaclinic.store import (
    Assessment,
    Database,
    TreatmentCourse,
    TreatmentSession,
    TrialDecisionRecord,
    add,
    course_status,
    current_records,
)

__all__ = [
    "DECISIONS",
    "TrialEvaluation",
    "criteria_of",
    "evaluate_course_trial",
    "record_trial_decision",
    "trial_inputs",
]

DECISIONS = ("continue", "stop", "taper")


def criteria_of(course: Any) -> TrialCriteria:
    """The trial criteria fixed when the course was planned."""
    try:
        return TrialCriteria.model_validate(course.trial_criteria)
    except ValidationError as error:
        raise RefusedError(
            format_validation_error(error, f"course {course.id}'s stored trial criteria")
        ) from None


def trial_inputs(
    session: Any, course: Any, criteria: TrialCriteria, records: Records | None = None
) -> tuple[datetime, list[datetime], list[Scored]]:
    """The course start, the sessions given and the assessments of the criteria's
    instrument, as ``evaluate_trial`` takes them."""
    rows_of = records or Records(session)
    sessions = sorted(
        s.actual_start_at
        for s in rows_of.of(TreatmentSession, course.patient_id)
        if s.course_id == course.id and s.actual_start_at is not None
    )
    if sessions:
        start = sessions[0]
    elif course.planned_start_on is not None:
        start = datetime.combine(course.planned_start_on, SESSION_TIME_UTC, tzinfo=UTC)
    else:
        start = course.recorded_at
    instrument = get_instrument(criteria.instrument_id).id
    scored = []
    for row in rows_of.of(Assessment, course.patient_id):
        if get_instrument(row.instrument_id).id != instrument:
            continue
        values = {v["id"]: v["value_points"] for v in row.score.get("scores", [])}
        if criteria.scale in values:
            scored.append(
                Scored(instrument, row.administered_at, values[criteria.scale], criteria.scale)
            )
    return start, sessions, scored


@dataclass(frozen=True)
class TrialEvaluation:
    """The recommendation for one course as of a time, and the decisions recorded so far."""

    course_id: int
    patient_id: int
    protocol_id: str
    criteria_summary: str
    decision: TrialDecision
    recorded_decisions: tuple[dict[str, Any], ...]

    @property
    def recommendation(self) -> str:
        return self.decision.recommendation

    def to_dict(self) -> dict[str, Any]:
        return {
            "course_id": self.course_id,
            "patient_id": self.patient_id,
            "protocol": self.protocol_id,
            "criteria": self.criteria_summary,
            **self.decision.to_dict(),
            "recorded_decisions": list(self.recorded_decisions),
        }


def _evaluate(uc: UseCase, course: TreatmentCourse, as_of: datetime) -> TrialEvaluation:
    criteria = criteria_of(course)
    start, sessions, scored = trial_inputs(uc.session, course, criteria)
    decision = evaluate_trial(criteria, start, sessions, scored, as_of)
    recorded = [
        d
        for d in current_records(uc.session, TrialDecisionRecord, course.patient_id)
        if d.course_id == course.id
    ]
    return TrialEvaluation(
        course_id=int(course.id),
        patient_id=int(course.patient_id),
        protocol_id=course.protocol_id,
        criteria_summary=criteria.summary(),
        decision=decision,
        recorded_decisions=tuple(
            {
                "decision": d.decision,
                "recommendation": d.recommendation,
                "reason": d.reason,
                "evaluated_at": d.evaluated_at.isoformat(),
                "decided_by_id": d.decided_by_id,
            }
            for d in recorded
        ),
    )


def evaluate_course_trial(
    db: Database,
    actor: Actor,
    course_id: int,
    *,
    as_of: datetime | None = None,
    clock: Clock = utc_now,
) -> TrialEvaluation:
    """The trial recommendation of a course as of ``as_of`` (default now); audited read."""
    with _transaction(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "evaluating a trial")
        course = open_course(uc, course_id)
        when = check_instant(as_of, "as_of") if as_of is not None else uc.now
        evaluation = _evaluate(uc, course, when)
        uc.audit(
            "trial.evaluate",
            record_type="treatment_courses",
            record_id=course.id,
            patient_id=course.patient_id,
            details={"recommendation": evaluation.recommendation, "as_of": when.isoformat()},
        )
        return evaluation


def record_trial_decision(
    db: Database,
    actor: Actor,
    course_id: int,
    decision: str,
    reason: str | None = None,
    *,
    clock: Clock = utc_now,
) -> TrialEvaluation:
    """Record a physician's trial decision (evaluated now). ``stop`` stops the course."""
    if decision not in DECISIONS:
        raise UserInputError(
            f"trial decision {decision!r} is not accepted; accepted: {', '.join(DECISIONS)}"
        )
    if reason is not None and (not isinstance(reason, str) or len(reason) > 2000):
        raise UserInputError("reason must be a text of at most 2000 characters")
    text = reason.strip() if reason else ""
    with _transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.TRIAL_DECIDE, "deciding a trial")
        course = open_course(uc, course_id)
        status = course_status(uc.session, course.id)
        if status is not None and status.status not in OPEN_STATUSES:
            raise RefusedError(f"course {course.id} is {status.status}: its trial is decided")
        evaluation = _evaluate(uc, course, uc.now)
        recommended = evaluation.recommendation
        if recommended not in DECISIONS and not text:
            raise UserInputError(
                f"the trial is {recommended.replace('_', ' ')} "
                f"({'; '.join(evaluation.decision.reasons)}): a decision now needs a reason"
            )
        if recommended in DECISIONS and decision != recommended and not text:
            raise UserInputError(
                f"the recommendation is {recommended!r}; deciding {decision!r} needs a reason"
            )
        record = add(
            uc.session,
            TrialDecisionRecord(
                patient_id=course.patient_id,
                course_id=course.id,
                evaluated_at=uc.now,
                recommendation=recommended,
                evaluation=evaluation.decision.to_dict(),
                decision=decision,
                reason=text or "; ".join(evaluation.decision.reasons),
                decided_by_id=user.id,
                **who(uc, user),
            ),
        )
        uc.audit(
            "trial.decide",
            record_type="trial_decisions",
            record_id=record.id,
            patient_id=course.patient_id,
            reason=text or None,
            details={"decision": decision, "recommendation": recommended},
        )
        if decision == "stop":
            change_course_status(
                uc, user, course, "stopped", f"trial decision: stop ({record.reason})"[:2000]
            )
        return _evaluate(uc, course, uc.now)
