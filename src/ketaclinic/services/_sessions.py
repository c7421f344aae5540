"""Documenting a session at the chair: start, doses and rate changes given (as ``Dose``
values), vital signs (implausible values refused, abnormal ones flagged), MOAA/S and CADSS-6
scores, adverse events. The discharge gate is in ``_discharge``, the scheduled checks of a
multi-day inpatient infusion in ``_inpatient``.

Each function is one use case: one transaction, audited, refused input changes nothing.
``session_id`` is the id returned by :func:`start_session`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ketaclinic.errors import RefusedError, UserInputError
from ketaclinic.outcomes import Score, score
from ketaclinic.pharmacology import Dose, Route, parse_dose
from ketaclinic.ranges import (
    DIASTOLIC_MMHG,
    HEART_RATE_PER_MIN,
    RATE_MG_PER_H,
    RESPIRATORY_RATE_PER_MIN,
    SPO2_PERCENT,
    SYSTOLIC_MMHG,
    ClinicalRange,
)
from ketaclinic.services._audit import Actor, Clock, UseCase, audited_transaction, utc_now
from ketaclinic.services._clinical import (
    administration_block,
    checked_instant,
    current_rows,
    load_session,
    order_doses,
    who,
)
from ketaclinic.services._courses import change_course_status, open_course
from ketaclinic.services._inpatient import schedule_checks
from ketaclinic.services._inputs import authorize
from ketaclinic.services._permissions import Permission
from ketaclinic.store import (
    AdverseEvent,
    Chair,
    Database,
    DoseGiven,
    Order,
    ScheduleEntry,
    SessionScore,
    TreatmentSession,
    VitalSigns,
    course_status,
    current_version,
    get,
)

__all__ = [
    "ADVERSE_EVENT_OUTCOMES",
    "ADVERSE_EVENT_SEVERITIES",
    "SESSION_INSTRUMENTS",
    "VitalsFlag",
    "VitalsReading",
    "VitalsRecorded",
    "change_rate",
    "record_adverse_event",
    "record_dose",
    "record_session_score",
    "record_vitals",
    "start_session",
    "stop_infusion",
    "vitals_flags",
]

ADVERSE_EVENT_SEVERITIES = ("mild", "moderate", "severe", "life_threatening")
ADVERSE_EVENT_OUTCOMES = ("resolved", "resolving", "ongoing", "admitted", "fatal", "unknown")
#: outcome instrument id -> the id the session_scores table stores
SESSION_INSTRUMENTS = {"moaa-s": "moaas", "cadss-6": "cadss6"}

# Severe hypertension: the threshold the safety engine uses before dosing (180/110 mmHg).
SEVERE_SYSTOLIC_MMHG = 180.0
SEVERE_DIASTOLIC_MMHG = 110.0
SEVERE_BP_SOURCE = (
    "Hartle 2016, AAGBI/BHS guideline, Anaesthesia 71:326 (DOI 10.1111/anae.13348): 180/110 "
    "mmHg, the safety engine's severe-hypertension threshold"
)
_TEXT_MAX = 200
#: one esketamine nasal spray device (SPRAVATO prescribing information section 2)
DEVICE_MG = 28.0


@dataclass(frozen=True)
class VitalsReading:
    """One set of vital signs at ``measured_at`` (any field may be missing, not all)."""

    measured_at: datetime
    systolic_mmhg: float | None = None
    diastolic_mmhg: float | None = None
    heart_rate_per_min: float | None = None
    respiratory_rate_per_min: float | None = None
    spo2_percent: float | None = None


@dataclass(frozen=True)
class VitalsFlag:
    code: str
    message: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "source": self.source}


@dataclass(frozen=True)
class VitalsRecorded:
    vitals_id: int
    flags: tuple[VitalsFlag, ...]


def _writer(db: Database, actor: Actor, clock: Clock) -> Any:
    return audited_transaction(db, actor, clock)


def start_session(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    order_id: int,
    lot_number: str,
    started_at: datetime | None = None,
    schedule_entry_id: int | None = None,
    chair_id: int | None = None,
) -> int:
    """Open a session for ``order_id`` (its course's session); returns the session id.

    The scheduled time is the schedule entry's start when one is given (else the start);
    the route is the order's; a session whose order runs longer than a day is multi-day,
    and its scheduled checks (pain, sedation, respiratory rate, BP, SpO2; ``_inpatient``) are
    scheduled with it, to the planned end of the order's doses.
    """
    with _writer(db, actor, clock) as uc:
        user = authorize(uc, Permission.SESSION_DOCUMENT, "documenting a session")
        order = current_version(uc.session, Order, order_id)
        if order.entered_in_error:
            raise RefusedError(f"order {order_id} was withdrawn (entered in error)")
        course = open_course(uc, order.course_id)
        state = course_status(uc.session, course.id)
        current = state.status if state else "planned"
        if current in ("stopped", "completed"):
            raise RefusedError(
                f"course {course.id} is {current}: no session can start on it (accepted: a "
                "planned, active or maintenance course; plan a new course instead)"
            )
        start = checked_instant(started_at or uc.now, "started_at", uc.now)
        lot = _text(lot_number, "lot number", 100)
        doses = order_doses(order)
        scheduled = start
        if schedule_entry_id is not None:
            entry = current_version(uc.session, ScheduleEntry, schedule_entry_id)
            if entry.entered_in_error or entry.course_id != order.course_id:
                raise RefusedError(
                    f"schedule entry {schedule_entry_id} is not a current entry of course "
                    f"{order.course_id}"
                )
            scheduled = entry.starts_at
            chair_id = entry.chair_id if chair_id is None else chair_id
        if chair_id is not None:
            get(uc.session, Chair, chair_id)
        visit = TreatmentSession(
            course_id=order.course_id,
            order_id=order_id,
            schedule_entry_id=schedule_entry_id,
            chair_id=chair_id,
            scheduled_start_at=scheduled,
            actual_start_at=start,
            actual_end_at=None,
            route=str(doses[0].route),
            lot_number=lot,
            multi_day=max(d.end_min for d in doses) >= 24 * 60,
            **who(uc, user, order.patient_id),
        )
        uc.session.add(visit)
        uc.session.flush()
        uc.audit(
            "session.start",
            record_type="treatment_sessions",
            record_id=visit.id,
            patient_id=order.patient_id,
            details={"order_id": order_id, "lot_number": lot},
        )
        if visit.multi_day:  # its scheduled checks, to the planned end of the doses
            schedule_checks(uc, user, load_session(uc.session, int(visit.id)))
        if current == "planned":  # the first session given makes the course active
            # a session documented afterwards may have started before the plan was recorded
            since = max(start, state.effective_at) if state is not None else start
            change_course_status(uc, user, course, "active", "first session started", since)
        return int(visit.id)


def _text(value: str, what: str, limit: int = _TEXT_MAX) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UserInputError(f"{what} is needed (1 to {limit} characters)")
    text = " ".join(value.split())
    if len(text) > limit:
        raise UserInputError(f"{what} is {len(text)} characters long; accepted: 1 to {limit}")
    return text


def _as_dose(dose: Dose | str) -> Dose:
    value = parse_dose(dose) if isinstance(dose, str) else dose
    if not isinstance(value, Dose):
        raise UserInputError(f"a dose is a Dose or a dose text, got {type(dose).__name__}")
    if value.start_min != 0 or value.count != 1:
        raise UserInputError(
            f"record a dose as given, once, 'at 0 min' with its time in given_at (got {value}); "
            "repeat doses are recorded one by one"
        )
    return value


def _session_open(uc: UseCase, session_id: int) -> Any:
    ctx = load_session(uc.session, session_id)
    if ctx.visit.actual_end_at is not None:
        raise RefusedError(
            f"session {session_id} ended at {ctx.visit.actual_end_at.isoformat()}: nothing "
            "more is given in it (amend a record to correct it)"
        )
    return ctx


def _given_at(ctx: Any, given_at: datetime, now: datetime) -> datetime:
    checked_instant(given_at, "given_at", now)
    if ctx.visit.actual_start_at is not None and given_at < ctx.visit.actual_start_at:
        raise UserInputError(
            f"given_at {given_at.isoformat()} is before the session started "
            f"({ctx.visit.actual_start_at.isoformat()})"
        )
    return given_at


def _add_dose(
    uc: UseCase, ctx: Any, user: Any, given_at: datetime, kind: str, dose: Dose | None
) -> int:
    block = administration_block(uc.session, ctx.order)
    if block is not None:
        raise RefusedError(f"administration refused: {block}")
    weight = float(ctx.order.weight_kg)
    row = DoseGiven(
        session_id=ctx.session_id,
        given_at=given_at,
        kind=kind,
        dose=dose.to_json() if dose is not None else None,
        amount_mg=round(float(dose.amount_mg(weight)), 3) if dose is not None else None,
        rate_mg_per_h=(
            round(dose.rate_mg_per_h(weight), 3) if dose is not None and dose.is_infusion else None
        ),
        **who(uc, user, ctx.patient_id),
    )
    uc.session.add(row)
    uc.session.flush()
    uc.audit(
        f"session.dose.{kind}",
        record_type="doses_given",
        record_id=row.id,
        patient_id=ctx.patient_id,
        details={"session_id": ctx.session_id, "dose": str(dose) if dose else None},
    )
    return int(row.id)


def record_dose(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    session_id: int,
    given_at: datetime,
    dose: Dose | str,
) -> int:
    """A dose given at ``given_at``: a bolus, an infusion start or one nasal device.

    Refused when the order is not signed or its double check has not matched, and when the
    route is not the order's."""
    given = _as_dose(dose)
    with _writer(db, actor, clock) as uc:
        user = authorize(uc, Permission.SESSION_DOCUMENT, "documenting a session")
        ctx = _session_open(uc, session_id)
        _given_at(ctx, given_at, uc.now)
        if str(given.route) != ctx.visit.route:
            raise UserInputError(
                f"the dose's route is {given.route}; this session's order is {ctx.visit.route}"
            )
        if given.route is Route.INTRANASAL:
            if given.per_kg or abs(given.value - DEVICE_MG) > 1e-9:
                raise UserInputError(
                    f"record each nasal device on its own: {given} is not one device; "
                    f"accepted: 'intranasal {DEVICE_MG:g} mg at 0 min' (one SPRAVATO device = "
                    f"{DEVICE_MG:g} mg, 5 min apart)"
                )
            kind = "device"
        else:
            kind = "infusion_start" if given.is_infusion else "bolus"
        return _add_dose(uc, ctx, user, given_at, kind, given)


def _running_infusion(uc: UseCase, ctx: Any, at: datetime) -> DoseGiven | None:
    doses = sorted(
        current_rows(uc.session, DoseGiven, session_id=ctx.session_id),
        key=lambda d: (d.given_at, d.id),
    )
    running: DoseGiven | None = None
    for d in doses:
        if d.given_at > at:
            break
        if d.kind in ("infusion_start", "rate_change"):
            end = d.given_at + timedelta(minutes=float(d.dose["duration_min"]))
            running = d if end > at else None
        elif d.kind == "infusion_stop":
            running = None
    return running


def change_rate(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    session_id: int,
    given_at: datetime,
    dose: Dose | str,
) -> int:
    """A new rate for the running infusion, as the infusion that runs from ``given_at`` on
    (e.g. ``"iv-infusion 30 mg/h for 48 h at 0 min"``); it replaces the running one."""
    given = _as_dose(dose)
    if not given.is_infusion:
        raise UserInputError(f"a rate change is an infusion at a rate, got {given}")
    with _writer(db, actor, clock) as uc:
        user = authorize(uc, Permission.SESSION_DOCUMENT, "documenting a session")
        ctx = _session_open(uc, session_id)
        _given_at(ctx, given_at, uc.now)
        if str(given.route) != ctx.visit.route:
            raise UserInputError(
                f"the dose's route is {given.route}; this session's order is {ctx.visit.route}"
            )
        if _running_infusion(uc, ctx, given_at) is None:
            raise RefusedError(
                f"no infusion is running in session {session_id} at {given_at.isoformat()}: "
                "start one with record_dose"
            )
        RATE_MG_PER_H.check(given.rate_mg_per_h(float(ctx.order.weight_kg)))
        return _add_dose(uc, ctx, user, given_at, "rate_change", given)


def stop_infusion(
    db: Database, actor: Actor, *, clock: Clock = utc_now, session_id: int, given_at: datetime
) -> int:
    """The running infusion stopped at ``given_at`` (before its planned end)."""
    with _writer(db, actor, clock) as uc:
        user = authorize(uc, Permission.SESSION_DOCUMENT, "documenting a session")
        ctx = _session_open(uc, session_id)
        _given_at(ctx, given_at, uc.now)
        if _running_infusion(uc, ctx, given_at) is None:
            raise RefusedError(
                f"no infusion is running in session {session_id} at {given_at.isoformat()}"
            )
        row = DoseGiven(
            session_id=ctx.session_id,
            given_at=given_at,
            kind="infusion_stop",
            dose=None,
            amount_mg=None,
            rate_mg_per_h=0.0,
            **who(uc, user, ctx.patient_id),
        )
        uc.session.add(row)
        uc.session.flush()
        uc.audit(
            "session.dose.infusion_stop",
            record_type="doses_given",
            record_id=row.id,
            patient_id=ctx.patient_id,
            details={"session_id": ctx.session_id},
        )
        return int(row.id)


_VITAL_RANGES: dict[str, ClinicalRange] = {
    "systolic_mmhg": SYSTOLIC_MMHG,
    "diastolic_mmhg": DIASTOLIC_MMHG,
    "heart_rate_per_min": HEART_RATE_PER_MIN,
    "respiratory_rate_per_min": RESPIRATORY_RATE_PER_MIN,
    "spo2_percent": SPO2_PERCENT,
}


def _checked_vitals(reading: VitalsReading) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    for name, limits in _VITAL_RANGES.items():
        raw = getattr(reading, name)
        values[name] = None if raw is None else limits.check(raw)
    if all(v is None for v in values.values()):
        raise UserInputError(
            "a vital-signs reading needs at least one of " + ", ".join(_VITAL_RANGES)
        )
    sys_, dia = values["systolic_mmhg"], values["diastolic_mmhg"]
    if (sys_ is None) != (dia is None):
        raise UserInputError("a blood pressure needs both systolic_mmhg and diastolic_mmhg")
    if sys_ is not None and dia is not None and dia >= sys_:
        raise UserInputError(
            f"blood pressure {sys_:g}/{dia:g} mmHg: the diastolic must be below the systolic"
        )
    return values


def vitals_flags(values: Mapping[str, float | None]) -> tuple[VitalsFlag, ...]:
    """Flags of a plausible reading that needs attention now (severe BP at 180/110 mmHg)."""
    sys_, dia = values.get("systolic_mmhg"), values.get("diastolic_mmhg")
    if sys_ is None or dia is None:
        return ()
    if sys_ >= SEVERE_SYSTOLIC_MMHG or dia >= SEVERE_DIASTOLIC_MMHG:
        return (
            VitalsFlag(
                "vitals.severe_hypertension",
                f"blood pressure {sys_:g}/{dia:g} mmHg is at or above 180/110 mmHg: tell the "
                "physician now, re-measure (twice, at least 1 min apart) and record an "
                "adverse event if it persists",
                SEVERE_BP_SOURCE,
            ),
        )
    return ()


def record_vitals(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    session_id: int,
    reading: VitalsReading,
) -> VitalsRecorded:
    """Record one set of vital signs; implausible values are refused (ranges.py), a severe
    blood pressure is recorded and flagged."""
    values = _checked_vitals(reading)
    with _writer(db, actor, clock) as uc:
        user = authorize(uc, Permission.SESSION_DOCUMENT, "documenting a session")
        ctx = load_session(uc.session, session_id)
        _measured_in_session(ctx, reading.measured_at, uc.now)
        row = VitalSigns(
            session_id=ctx.session_id,
            measured_at=reading.measured_at,
            systolic_mmhg=_int(values["systolic_mmhg"]),
            diastolic_mmhg=_int(values["diastolic_mmhg"]),
            heart_rate_per_min=_int(values["heart_rate_per_min"]),
            respiratory_rate_per_min=_int(values["respiratory_rate_per_min"]),
            spo2_percent=values["spo2_percent"],
            **who(uc, user, ctx.patient_id),
        )
        uc.session.add(row)
        uc.session.flush()
        flags = vitals_flags(values)
        uc.audit(
            "session.vitals.record",
            record_type="vital_signs",
            record_id=row.id,
            patient_id=ctx.patient_id,
            details={"session_id": ctx.session_id, "flags": [f.code for f in flags]},
        )
        return VitalsRecorded(int(row.id), flags)


def _measured_in_session(ctx: Any, measured_at: datetime, now: datetime) -> None:
    checked_instant(measured_at, "measured_at", now)
    end = ctx.visit.actual_end_at
    if end is not None and measured_at > end:
        raise RefusedError(
            f"measured_at {measured_at.isoformat()} is after session {ctx.session_id} ended "
            f"({end.isoformat()}); accepted: times up to its end"
        )


def _int(value: float | None) -> int | None:
    return None if value is None else round(value)


def record_session_score(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    session_id: int,
    instrument_id: str,
    answers: Mapping[str, int] | Sequence[int],
    measured_at: datetime,
) -> Score:
    """A sedation (``moaa-s``) or dissociation (``cadss-6``) score during the session."""
    key = str(instrument_id).strip().lower()
    if key not in SESSION_INSTRUMENTS:
        raise UserInputError(
            f"unknown session instrument {instrument_id!r}; accepted: "
            + ", ".join(SESSION_INSTRUMENTS)
        )
    result = score(key, answers)
    total = result.total
    assert total is not None  # both instruments have a total
    with _writer(db, actor, clock) as uc:
        user = authorize(uc, Permission.SESSION_DOCUMENT, "documenting a session")
        ctx = load_session(uc.session, session_id)
        _measured_in_session(ctx, measured_at, uc.now)
        row = SessionScore(
            session_id=ctx.session_id,
            measured_at=measured_at,
            instrument_id=SESSION_INSTRUMENTS[key],
            instrument_version=result.instrument_version,
            score=round(total),
            **who(uc, user, ctx.patient_id),
        )
        uc.session.add(row)
        uc.session.flush()
        uc.audit(
            "session.score.record",
            record_type="session_scores",
            record_id=row.id,
            patient_id=ctx.patient_id,
            details={"session_id": ctx.session_id, "instrument": key, "score_points": total},
        )
        return result


def record_adverse_event(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    session_id: int,
    onset_at: datetime,
    term: str,
    severity: str,
    outcome: str,
    action_taken: str | None = None,
) -> int:
    """An adverse event in the session, with its severity and outcome."""
    name = _text(term, "an adverse event term")
    if severity not in ADVERSE_EVENT_SEVERITIES:
        raise UserInputError(
            f"severity {severity!r} is not accepted; accepted: "
            + ", ".join(ADVERSE_EVENT_SEVERITIES)
        )
    if outcome not in ADVERSE_EVENT_OUTCOMES:
        raise UserInputError(
            f"outcome {outcome!r} is not accepted; accepted: " + ", ".join(ADVERSE_EVENT_OUTCOMES)
        )
    action = None if action_taken is None else _text(action_taken, "action taken", 2000)
    with _writer(db, actor, clock) as uc:
        user = authorize(uc, Permission.SESSION_DOCUMENT, "documenting a session")
        ctx = load_session(uc.session, session_id)
        checked_instant(onset_at, "onset_at", uc.now)
        row = AdverseEvent(
            session_id=ctx.session_id,
            onset_at=onset_at,
            term=name,
            severity=severity,
            outcome=outcome,
            action_taken=action,
            **who(uc, user, ctx.patient_id),
        )
        uc.session.add(row)
        uc.session.flush()
        uc.audit(
            "session.adverse_event.record",
            record_type="adverse_events",
            record_id=row.id,
            patient_id=ctx.patient_id,
            details={"session_id": ctx.session_id, "severity": severity, "term": name},
        )
        return int(row.id)
