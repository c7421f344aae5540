"""Multi-day inpatient infusions (CRPS 4-day, perioperative 24-48 h, palliative SC burst up
to 5-6 days): one session with rate changes, and checks scheduled at times (pain, sedation,
respiratory rate, BP, SpO2) that are done, due or overdue.

A check is done by a measurement of its kind: pain by a pain NRS assessment of the session,
sedation by a MOAA/S, the others by vital signs with that value. A measurement counts for
the check whose window holds it: from 10 min before the check is due until 10 min before the
next check of the same kind (or one interval after it). A check not done 15 min after it was
due is overdue [windows: clinical judgement].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ketaclinic.errors import RefusedError, UserInputError
from ketaclinic.pharmacology import Route
from ketaclinic.ranges import SESSION_MIN
from ketaclinic.services._audit import Actor, Clock, UseCase, audited_transaction, utc_now
from ketaclinic.services._clinical import (
    SessionContext,
    checked_instant,
    current_rows,
    load_session,
    order_doses,
    who,
)
from ketaclinic.services._inputs import authorize
from ketaclinic.services._permissions import Permission
from ketaclinic.store import (
    Assessment,
    Database,
    ScheduledCheck,
    SessionScore,
    StaffUser,
    VitalSigns,
)

__all__ = [
    "CHECK_KINDS",
    "CheckCadence",
    "CheckStatus",
    "cadence_for",
    "check_status",
    "plan_checks",
    "schedule_checks",
]

CHECK_KINDS = ("pain", "sedation", "respiratory_rate", "blood_pressure", "spo2")
EARLY = timedelta(minutes=10)
GRACE = timedelta(minutes=15)
LAST_WINDOW = timedelta(minutes=60)

IV_GUIDELINE = (
    "a hospital nursing guideline for ketamine infusions (DOMAIN.md section 4): BP, HR, SpO2, "
    "RR, sedation and dysphoria every 15 min for the first hour, every 30 min for 2 h, then "
    "hourly; pain every 4 h [clinical judgement]"
)
SC_FORMULARY = (
    "protocol palliative-sc-burst monitoring: sedation, psychomimetic effects and BP every 4 h "
    "on day 1, then daily (palliative formularies); respiratory rate, SpO2 and pain with them "
    "[clinical judgement]"
)


@dataclass(frozen=True)
class CheckCadence:
    """Intervals of one kind of check: ``steps`` of (until minute, every minutes), then
    ``then_every_min`` until the end."""

    kind: str
    steps: tuple[tuple[float, float], ...]
    then_every_min: float
    source: str

    def due_minutes(self, length_min: float) -> list[float]:
        out: list[float] = []
        t = 0.0
        for until, every in self.steps:
            while t < min(until, length_min) - 1e-9:
                out.append(t)
                t += every
        while t <= length_min + 1e-9:
            out.append(t)
            t += self.then_every_min
        return out


def cadence_for(route: Route) -> tuple[CheckCadence, ...]:
    """The checks of a multi-day infusion on ``route`` (SC: the palliative formulary; IV:
    the nursing guideline)."""
    if route is Route.SC:
        day1 = ((24 * 60.0, 240.0),)
        return tuple(CheckCadence(k, day1, 24 * 60.0, SC_FORMULARY) for k in CHECK_KINDS)
    iv = ((60.0, 15.0), (180.0, 30.0))
    return tuple(
        CheckCadence("pain", (), 240.0, IV_GUIDELINE)
        if kind == "pain"
        else CheckCadence(kind, iv, 60.0, IV_GUIDELINE)
        for kind in CHECK_KINDS
    )


@dataclass(frozen=True)
class CheckStatus:
    """One scheduled check and its state at ``at``: done, due, overdue or upcoming."""

    check_id: int
    kind: str
    due_at: datetime
    state: str
    done_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "kind": self.kind,
            "due_at": self.due_at.isoformat(),
            "state": self.state,
            "done_at": self.done_at.isoformat() if self.done_at else None,
        }


def plan_checks(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    session_id: int,
    until: datetime | None = None,
) -> int:
    """Schedule the checks of a multi-day session from its start until ``until`` (default:
    the planned end of the order's doses); returns how many were added. Checks already
    scheduled are kept and not added twice. :func:`start_session` schedules them to the
    planned end by itself; call this to extend them (an infusion run longer)."""
    with audited_transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.SESSION_DOCUMENT, "the checks of a multi-day infusion")
        ctx = load_session(uc.session, session_id)
        if not ctx.visit.multi_day:
            raise RefusedError(
                f"session {session_id} is not a multi-day infusion: its checks are the "
                "protocol's monitoring during the visit"
            )
        end = None if until is None else checked_instant(until, "until", uc.now + timedelta(days=7))
        return schedule_checks(uc, user, ctx, end)


def schedule_checks(
    uc: UseCase, user: StaffUser, ctx: SessionContext, until: datetime | None = None
) -> int:
    """Inside a use case: add the checks of the multi-day session ``ctx`` from its start to
    ``until`` (default: the planned end of the order's doses) that are not scheduled yet."""
    start = ctx.visit.actual_start_at or ctx.visit.scheduled_start_at
    if until is None:
        end = start + timedelta(minutes=max(d.end_min for d in order_doses(ctx.order)))
    else:
        end = until
    length = SESSION_MIN.check((end - start).total_seconds() / 60.0)
    existing = {
        (c.check_kind, c.due_at)
        for c in current_rows(uc.session, ScheduledCheck, session_id=ctx.session_id)
    }
    rows = [
        ScheduledCheck(
            session_id=ctx.session_id,
            due_at=start + timedelta(minutes=m),
            check_kind=cadence.kind,
            **who(uc, user, ctx.patient_id),
        )
        for cadence in cadence_for(Route(ctx.visit.route))
        for m in cadence.due_minutes(length)
        if (cadence.kind, start + timedelta(minutes=m)) not in existing
    ]
    uc.session.add_all(rows)
    uc.session.flush()
    uc.audit(
        "session.checks.plan",
        record_type="scheduled_checks",
        patient_id=ctx.patient_id,
        details={"session_id": ctx.session_id, "added": len(rows), "until": end.isoformat()},
    )
    return len(rows)


def _measured(s: Any, session_id: int) -> dict[str, list[datetime]]:
    vitals = current_rows(s, VitalSigns, session_id=session_id)
    scores = current_rows(s, SessionScore, session_id=session_id)
    pains = current_rows(s, Assessment, session_id=session_id)
    return {
        "pain": sorted(a.administered_at for a in pains if a.instrument_id == "pain-nrs"),
        "sedation": sorted(r.measured_at for r in scores if r.instrument_id == "moaas"),
        "respiratory_rate": sorted(
            v.measured_at for v in vitals if v.respiratory_rate_per_min is not None
        ),
        "blood_pressure": sorted(v.measured_at for v in vitals if v.systolic_mmhg is not None),
        "spo2": sorted(v.measured_at for v in vitals if v.spo2_percent is not None),
    }


def check_status(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    session_id: int,
    at: datetime | None = None,
) -> tuple[CheckStatus, ...]:
    """Every scheduled check of the session and its state at ``at`` (default now), by due
    time. An audited read."""
    with audited_transaction(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "reading the checks of a multi-day infusion")
        ctx = load_session(uc.session, session_id)
        when = uc.now if at is None else at
        if when.tzinfo is None:
            raise UserInputError("at has no time zone; give it in UTC")
        checks = current_rows(uc.session, ScheduledCheck, session_id=ctx.session_id)
        measured = _measured(uc.session, ctx.session_id)
        out: list[CheckStatus] = []
        by_kind: dict[str, list[Any]] = {}
        for c in checks:
            by_kind.setdefault(c.check_kind, []).append(c)
        for kind, items in by_kind.items():
            items.sort(key=lambda c: c.due_at)
            for i, c in enumerate(items):
                following = items[i + 1].due_at if i + 1 < len(items) else None
                low = c.due_at - EARLY
                high = (following - EARLY) if following else c.due_at + LAST_WINDOW
                done = next((t for t in measured[kind] if low <= t < high and t <= when), None)
                if done is not None:
                    state = "done"
                elif when > c.due_at + GRACE:
                    state = "overdue"
                elif when >= low:
                    state = "due"
                else:
                    state = "upcoming"
                out.append(CheckStatus(int(c.id), kind, c.due_at, state, done))
        out.sort(key=lambda s: (s.due_at, CHECK_KINDS.index(s.kind)))
        uc.audit(
            "session.checks.read",
            record_type="scheduled_checks",
            patient_id=ctx.patient_id,
            details={
                "session_id": ctx.session_id,
                "overdue": sum(s.state == "overdue" for s in out),
            },
        )
        return tuple(out)
