"""Reading a session back: everything documented in it, for a page or the API (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from ketaclinic.services._audit import Actor, Clock, UseCase, audited_read, utc_now
from ketaclinic.services._clinical import (
    SessionContext,
    SessionRows,
    current_rows,
    load_course,
    load_session,
    session_rows,
)
from ketaclinic.services._discharge import (
    DischargeReadiness,
    DosingTimes,
    dosing_times,
    read_readiness,
)
from ketaclinic.services._inputs import authorize
from ketaclinic.services._permissions import Permission
from ketaclinic.services._sessions import vitals_flags
from ketaclinic.store import (
    AdverseEvent,
    Database,
    Discharge,
    TreatmentSession,
    VitalSigns,
)

__all__ = [
    "SessionRecord",
    "SessionSummary",
    "SessionView",
    "course_sessions",
    "session_record",
    "session_view",
]

# Clinicians only: a session holds clinical notes (vitals, scores, adverse events), which the
# admin role does not see (it manages users and the audit trail).


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class SessionRecord:
    """One session as documented (current versions; withdrawn records left out)."""

    session_id: int
    patient_id: int
    course_id: int
    order_id: int
    protocol_id: str
    route: str
    lot_number: str | None
    multi_day: bool
    scheduled_start_at: datetime
    actual_start_at: datetime | None
    actual_end_at: datetime | None
    dosing: DosingTimes
    doses: tuple[dict[str, Any], ...]
    vitals: tuple[dict[str, Any], ...]
    scores: tuple[dict[str, Any], ...]
    adverse_events: tuple[dict[str, Any], ...]
    discharge: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "patient_id": self.patient_id,
            "course_id": self.course_id,
            "order_id": self.order_id,
            "protocol_id": self.protocol_id,
            "route": self.route,
            "lot_number": self.lot_number,
            "multi_day": self.multi_day,
            "scheduled_start_at": _iso(self.scheduled_start_at),
            "actual_start_at": _iso(self.actual_start_at),
            "actual_end_at": _iso(self.actual_end_at),
            "first_dose_at": _iso(self.dosing.first_dose_at),
            "dosing_end_at": _iso(self.dosing.dosing_end_at),
            "given_mg": self.dosing.given_mg,
            "doses": list(self.doses),
            "vitals": list(self.vitals),
            "scores": list(self.scores),
            "adverse_events": list(self.adverse_events),
            "discharge": self.discharge,
        }


def _vitals(v: VitalSigns) -> dict[str, Any]:
    values = {
        "systolic_mmhg": v.systolic_mmhg,
        "diastolic_mmhg": v.diastolic_mmhg,
        "heart_rate_per_min": v.heart_rate_per_min,
        "respiratory_rate_per_min": v.respiratory_rate_per_min,
        "spo2_percent": v.spo2_percent,
    }
    floats = {k: (None if x is None else float(x)) for k, x in values.items()}
    return {
        "id": v.id,
        "measured_at": _iso(v.measured_at),
        **values,
        "flags": [f.to_dict() for f in vitals_flags(floats)],
    }


def session_record(
    db: Database, actor: Actor, *, clock: Clock = utc_now, session_id: int
) -> SessionRecord:
    """Everything documented in one session. An audited read."""
    with audited_read(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "reading a session")
        return _read_record(uc, load_session(uc.session, session_id))


@dataclass(frozen=True)
class SessionView:
    """What the chair-side session page shows: the record and, while the patient has not
    been discharged, the discharge gate as it stands now."""

    record: SessionRecord
    readiness: DischargeReadiness | None


def session_view(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    session_id: int,
    zone: tzinfo = UTC,
) -> SessionView:
    """``session_record`` and, before discharge, ``discharge_readiness`` at now (its
    messages' times in ``zone``, the clinic's), in one audited read (the same two audit
    events; one snapshot and one audit commit instead of two of each)."""
    with audited_read(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "reading a session")
        ctx = load_session(uc.session, session_id)
        rows = session_rows(uc.session, ctx.session_id)  # for the record and the gate
        record = _read_record(uc, ctx, rows)
        if record.discharge is not None:
            return SessionView(record, None)
        return SessionView(record, read_readiness(uc, ctx, uc.now, zone, rows))


def _read_record(
    uc: UseCase, ctx: SessionContext, rows: SessionRows | None = None
) -> SessionRecord:
    s, sid = uc.session, ctx.session_id
    rows = rows or session_rows(s, sid)
    doses = rows.doses
    done = current_rows(s, Discharge, session_id=sid)
    last = max(done, key=lambda d: (d.decided_at, d.id), default=None)
    record = SessionRecord(
        session_id=sid,
        patient_id=ctx.patient_id,
        course_id=int(ctx.course.id),
        order_id=int(ctx.visit.order_id),
        protocol_id=ctx.protocol.id,
        route=ctx.visit.route,
        lot_number=ctx.visit.lot_number,
        multi_day=ctx.visit.multi_day,
        scheduled_start_at=ctx.visit.scheduled_start_at,
        actual_start_at=ctx.visit.actual_start_at,
        actual_end_at=ctx.visit.actual_end_at,
        dosing=dosing_times(doses),
        doses=tuple(
            {
                "id": d.id,
                "given_at": _iso(d.given_at),
                "kind": d.kind,
                "dose": d.dose,
                "amount_mg": d.amount_mg,
                "rate_mg_per_h": d.rate_mg_per_h,
            }
            for d in sorted(doses, key=lambda d: (d.given_at, d.id))
        ),
        vitals=tuple(_vitals(v) for v in sorted(rows.vitals, key=lambda v: v.measured_at)),
        scores=tuple(
            {
                "id": r.id,
                "measured_at": _iso(r.measured_at),
                "instrument": r.instrument_id,
                "score_points": r.score,
            }
            for r in rows.scores
        ),
        adverse_events=tuple(
            {
                "id": a.id,
                "onset_at": _iso(a.onset_at),
                "term": a.term,
                "severity": a.severity,
                "outcome": a.outcome,
                "action_taken": a.action_taken,
            }
            for a in current_rows(s, AdverseEvent, session_id=sid)
        ),
        discharge=None
        if last is None
        else {
            "id": last.id,
            "decided_at": _iso(last.decided_at),
            "decision": last.decision,
            "observation_min": last.observation_min,
            "reason": last.reason,
        },
    )
    uc.audit(
        "session.read",
        record_type="treatment_sessions",
        record_id=sid,
        patient_id=ctx.patient_id,
    )
    return record


@dataclass(frozen=True)
class SessionSummary:
    session_id: int
    scheduled_start_at: datetime
    actual_start_at: datetime | None
    actual_end_at: datetime | None
    lot_number: str | None
    multi_day: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "scheduled_start_at": _iso(self.scheduled_start_at),
            "actual_start_at": _iso(self.actual_start_at),
            "actual_end_at": _iso(self.actual_end_at),
            "lot_number": self.lot_number,
            "multi_day": self.multi_day,
        }


def course_sessions(
    db: Database, actor: Actor, *, clock: Clock = utc_now, course_id: int
) -> tuple[SessionSummary, ...]:
    """The sessions of a course, by scheduled start. An audited read."""
    with audited_read(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "reading a session")
        course, _ = load_course(uc.session, course_id)
        rows = current_rows(uc.session, TreatmentSession, course_id=course_id)
        # the current version of a session points, by amends_id, to its original id
        out = tuple(
            SessionSummary(
                _first_id(uc.session, r),
                r.scheduled_start_at,
                r.actual_start_at,
                r.actual_end_at,
                r.lot_number,
                r.multi_day,
            )
            for r in sorted(rows, key=lambda r: (r.scheduled_start_at, r.id))
        )
        uc.audit(
            "course.sessions.read",
            record_type="treatment_courses",
            record_id=course_id,
            patient_id=int(course.patient_id),
        )
        return out


def _first_id(session: Any, row: TreatmentSession) -> int:
    while row.amends_id is not None:
        row = session.get(TreatmentSession, row.amends_id)
    return int(row.id)
