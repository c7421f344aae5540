"""The discharge gate: a patient goes home only when the protocol's minimum observation has
passed, sedation is back to awake, dissociation has resolved (CADSS-6) and the vital signs are
within limits; for esketamine also the SPRAVATO REMS blood pressures (before dosing, at about
40 min, before discharge).

Dissociation resolved: the REMS and DOMAIN.md section 4 say "until dissociation resolves" and
give no number, and the CADSS-6 has no published cut-off (Rodrigues 2021), so "resolved" is
read as a CADSS-6 total since the end of dosing no higher than the session's own pre-dose
total, or 0 when none was scored before dosing [clinical judgement]. A protocol that lists
CADSS-6 among its monitoring scales needs a score since the end of dosing; on the others a
score recorded since then is held to the same rule.

Hepatic impairment: the SPRAVATO label (8.6) says patients with moderate impairment (Child-Pugh
B) may need monitoring for longer, without a number, and DOMAIN.md and the protocols give none;
so no longer minimum is invented: the gate adds a notice (not a block) with the protocol's
hepatic advice, for the clinician's judgement.

Observation counts from the end of dosing: the last bolus or nasal device, or the end of the
last infusion (its planned end, or when it was stopped). The REMS counts "at least 2 hours
after administration"; for an infusion, counting from its end is the cautious reading
[clinical judgement].

A refusal names each reason and, where waiting is enough, when the gate may open. Its times
are in the clinic's time zone with the zone's abbreviation (``zone``, passed in by the
interface: the pages' ``KETACLINIC_CLINIC_TIMEZONE``; UTC without one); ``opens_at`` and the
other instants stay UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from ketaclinic.errors import RefusedError, UserInputError
from ketaclinic.pharmacology import Drug
from ketaclinic.services._audit import (
    Actor,
    Clock,
    UseCase,
    audited_read,
    audited_transaction,
    utc_now,
)
from ketaclinic.services._clinic_time import clock_time, clock_time_span, date_and_time
from ketaclinic.services._clinical import (
    SessionContext,
    SessionRows,
    checked_instant,
    current_rows,
    load_session,
    session_rows,
    who,
)
from ketaclinic.services._inputs import authorize
from ketaclinic.services._permissions import Permission, permissions_of
from ketaclinic.services._sessions import SEVERE_BP_SOURCE
from ketaclinic.store import (
    ChildPughAssessment,
    Database,
    Discharge,
    TreatmentSession,
    amend,
    current_version,
)

__all__ = [
    "DISCHARGE_DECISIONS",
    "DISCHARGE_LIMITS",
    "DischargeBlock",
    "DischargeReadiness",
    "DischargeResult",
    "DosingTimes",
    "VitalLimit",
    "discharge",
    "discharge_readiness",
    "dosing_times",
    "read_readiness",
]

DISCHARGE_DECISIONS = ("discharged", "admitted", "transferred")

NEWS2 = (
    "Royal College of Physicians, National Early Warning Score (NEWS) 2, 2017: a single "
    "parameter scoring 3 (red) calls for urgent review"
)
REMS = "SPRAVATO prescribing information section 2 and the SPRAVATO REMS"
#: Vitals count as the reading "before discharge" when measured in the 30 min before it.
RECENT_VITALS = timedelta(minutes=30)
RECENT_SOURCE = "30 min before the decision [clinical judgement]"
#: "BP at about 40 min" after the first esketamine device: 30-50 min [clinical judgement].
BP_40_MIN_WINDOW = (timedelta(minutes=30), timedelta(minutes=50))
#: "BP before dosing": in the 2 h before the first dose (the safety engine's fresh-BP window).
BP_BEFORE_WINDOW = timedelta(minutes=120)
AWAKE_MOAAS = 5
DISSOCIATION = (
    "DOMAIN.md section 4 and the SPRAVATO REMS: observe until dissociation resolves; resolved "
    "read as a CADSS-6 total no higher than the pre-dose total (0 without one): Rodrigues 2021 "
    "(PMID 33418362) publishes no CADSS-6 cut-off [clinical judgement]"
)
HEPATIC_NOTICE = (
    "SPRAVATO prescribing information 8.6 (moderate hepatic impairment: may need monitoring "
    "for a longer period); no longer minimum is published in the label, DOMAIN.md or the "
    "protocols, so none is enforced"
)
#: The only block a physician may override: a documentation gap waiting cannot fill.
OVERRIDABLE_BLOCK = "rems_bp_40_min_missed"


@dataclass(frozen=True)
class VitalLimit:
    """A vital sign is within limits when ``low <= value <= high``."""

    field: str
    low: float | None
    high: float | None
    unit: str
    source: str

    def problem(self, value: float) -> str | None:
        if self.low is not None and value < self.low:
            return f"{self.field} {value:g} {self.unit} is below {self.low:g} {self.unit}"
        if self.high is not None and value > self.high:
            return f"{self.field} {value:g} {self.unit} is above {self.high:g} {self.unit}"
        return None


#: Limits for discharge: no single NEWS2 parameter in its red band (score 3), and blood
#: pressure below the severe-hypertension threshold of the safety engine.
DISCHARGE_LIMITS = (
    VitalLimit("systolic_mmhg", 91, 179, "mmHg", f"{NEWS2} (<= 90); {SEVERE_BP_SOURCE}"),
    VitalLimit("diastolic_mmhg", None, 109, "mmHg", SEVERE_BP_SOURCE),
    VitalLimit("heart_rate_per_min", 41, 130, "/min", f"{NEWS2} (<= 40 or >= 131)"),
    VitalLimit("respiratory_rate_per_min", 9, 24, "/min", f"{NEWS2} (<= 8 or >= 25)"),
    VitalLimit("spo2_percent", 92, None, "%", f"{NEWS2} (SpO2 scale 1, <= 91 %)"),
)


@dataclass(frozen=True)
class DischargeBlock:
    """One reason the gate is closed; ``opens_at``: when waiting alone will lift it."""

    code: str
    message: str
    source: str
    opens_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "source": self.source,
            "opens_at": self.opens_at.isoformat() if self.opens_at else None,
        }


@dataclass(frozen=True)
class DosingTimes:
    first_dose_at: datetime | None
    dosing_end_at: datetime | None
    given_mg: float


@dataclass(frozen=True)
class DischargeReadiness:
    session_id: int
    at: datetime
    ready: bool
    observation_min: float
    min_observation_min: float
    blocks: tuple[DischargeBlock, ...]
    #: what the clinician should weigh that does not close the gate (hepatic impairment)
    notices: tuple[DischargeBlock, ...] = ()

    @property
    def opens_at(self) -> datetime | None:
        """When the gate opens by waiting alone (None: something must be done first)."""
        if not self.blocks or any(b.opens_at is None for b in self.blocks):
            return None
        return max(b.opens_at for b in self.blocks if b.opens_at is not None)

    def explain(self) -> str:
        if self.ready:
            return "discharge allowed"
        return "; ".join(b.message for b in self.blocks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "at": self.at.isoformat(),
            "ready": self.ready,
            "observation_min": self.observation_min,
            "min_observation_min": self.min_observation_min,
            "opens_at": self.opens_at.isoformat() if self.opens_at else None,
            "blocks": [b.to_dict() for b in self.blocks],
            "notices": [n.to_dict() for n in self.notices],
        }


@dataclass(frozen=True)
class DischargeResult:
    discharge_id: int
    decision: str
    observation_min: float
    readiness: DischargeReadiness


def dosing_times(doses: list[Any]) -> DosingTimes:
    """First dose, end of dosing and mg given, from a session's doses (rows, any order).

    A rate change or a stop ends the infusion running before it; an infusion runs to its
    planned end otherwise. mg given counts an infusion pro rata over the time it ran."""
    ordered = sorted(doses, key=lambda d: (d.given_at, d.id))
    first = next((d.given_at for d in ordered if d.kind != "infusion_stop"), None)
    end: datetime | None = None
    given = 0.0
    running: tuple[datetime, datetime, float] | None = None  # start, planned end, mg/h

    def close(at: datetime) -> None:
        nonlocal given, end, running
        if running is not None:
            stop = min(at, running[1])
            given += running[2] * max((stop - running[0]).total_seconds(), 0.0) / 3600.0
            end = max(end or stop, stop)
            running = None

    for d in ordered:
        if d.kind in ("bolus", "device"):
            given += float(d.amount_mg or 0.0)
            end = max(end or d.given_at, d.given_at)
        elif d.kind in ("infusion_start", "rate_change", "infusion_stop"):
            close(d.given_at)
            if d.kind != "infusion_stop":
                planned = d.given_at + timedelta(minutes=float(d.dose["duration_min"]))
                running = (d.given_at, planned, float(d.rate_mg_per_h or 0.0))
    if running is not None:
        close(running[1])
    return DosingTimes(first, end, round(given, 3))


def _latest(rows: list[Any], attr: str, before: datetime, after: datetime | None = None) -> Any:
    found = [
        r
        for r in rows
        if getattr(r, attr) <= before and (after is None or getattr(r, attr) >= after)
    ]
    return max(found, key=lambda r: (getattr(r, attr), r.id), default=None)


def _readiness(
    uc: UseCase,
    ctx: SessionContext,
    at: datetime,
    zone: tzinfo = UTC,
    rows: SessionRows | None = None,
) -> DischargeReadiness:
    s = uc.session
    rows = rows or session_rows(s, ctx.session_id)
    doses, vitals, scores = rows.doses, rows.vitals, rows.scores
    times = dosing_times(doses)
    minimum = float(ctx.protocol.monitoring.min_observation_min)
    monitoring = f"protocol {ctx.protocol.id} monitoring ({ctx.protocol.monitoring.source})"
    blocks: list[DischargeBlock] = []
    observed = 0.0
    if times.dosing_end_at is None:
        blocks.append(DischargeBlock("no_dose", "no dose is recorded in this session", monitoring))
    else:
        observed = max((at - times.dosing_end_at).total_seconds() / 60.0, 0.0)
        if observed < minimum:
            opens = times.dosing_end_at + timedelta(minutes=minimum)
            blocks.append(
                DischargeBlock(
                    "observation",
                    f"observed {observed:.0f} min since the end of dosing "
                    f"({clock_time(times.dosing_end_at, zone)}); the protocol needs at least "
                    f"{minimum:g} min: not before {date_and_time(opens, zone)}",
                    monitoring,
                    opens,
                )
            )
        sedation = [r for r in scores if r.instrument_id == "moaas"]
        latest = _latest(sedation, "measured_at", at, times.dosing_end_at)
        if latest is None:
            blocks.append(
                DischargeBlock(
                    "sedation_unknown",
                    "no MOAA/S recorded since the end of dosing: record one (5 = awake)",
                    "issue 11 and the SPRAVATO REMS: discharge when sedation has resolved",
                )
            )
        elif latest.score < AWAKE_MOAAS:
            blocks.append(
                DischargeBlock(
                    "sedation",
                    f"MOAA/S {latest.score} at {clock_time(latest.measured_at, zone)}: not back "
                    "to awake (5); keep observing and score again",
                    "issue 11 and the SPRAVATO REMS: discharge when sedation has resolved",
                )
            )
        dissociation = [r for r in scores if r.instrument_id == "cadss6"]
        blocks.extend(_dissociation_blocks(ctx, dissociation, times, at, zone))
    blocks.extend(_vitals_blocks(vitals, at, zone))
    if ctx.protocol.drug is Drug.ESKETAMINE and times.first_dose_at is not None:
        blocks.extend(_rems_blocks(vitals, times.first_dose_at, at, zone))
    return DischargeReadiness(
        ctx.session_id,
        at,
        not blocks,
        round(observed, 1),
        minimum,
        tuple(blocks),
        _hepatic_notices(uc, ctx, minimum),
    )


def _dissociation_blocks(
    ctx: SessionContext, scores: list[Any], times: DosingTimes, at: datetime, zone: tzinfo
) -> list[DischargeBlock]:
    if times.dosing_end_at is None:  # no dose: the no_dose block says so
        return []
    before = _latest(scores, "measured_at", times.first_dose_at) if times.first_dose_at else None
    allowed = int(before.score) if before is not None else 0
    basis = (
        f"the pre-dose CADSS-6 of {allowed} ({clock_time(before.measured_at, zone)})"
        if before is not None
        else "0 (no CADSS-6 before dosing)"
    )
    latest = _latest(scores, "measured_at", at, times.dosing_end_at)
    required = any("CADSS-6" in scale for scale in ctx.protocol.monitoring.scales)
    if latest is None:
        if not required:
            return []
        return [
            DischargeBlock(
                "dissociation_unknown",
                f"no CADSS-6 recorded since the end of dosing: record one (dissociation has "
                f"resolved at a total of {basis} or less; protocol {ctx.protocol.id} monitors "
                "CADSS-6)",
                DISSOCIATION,
            )
        ]
    if latest.score > allowed:
        return [
            DischargeBlock(
                "dissociation",
                f"CADSS-6 {latest.score} at {clock_time(latest.measured_at, zone)}: dissociation "
                f"has not resolved (accepted: {basis} or less); keep observing and score again",
                DISSOCIATION,
            )
        ]
    return []


def _hepatic_notices(
    uc: UseCase, ctx: SessionContext, minimum: float
) -> tuple[DischargeBlock, ...]:
    rows = current_rows(uc.session, ChildPughAssessment, patient_id=ctx.patient_id)
    found = max(rows, key=lambda r: (r.assessed_on, r.id), default=None)
    if found is None or found.child_pugh_class == "A":
        return ()
    return (
        DischargeBlock(
            f"hepatic_child_pugh_{found.child_pugh_class.lower()}",
            f"Child-Pugh {found.child_pugh_class} (assessed {found.assessed_on.isoformat()}): "
            f"{ctx.protocol.hepatic.advice}; the gate keeps the protocol's {minimum:g} min: "
            "judge whether to observe longer",
            f"{HEPATIC_NOTICE}; protocol {ctx.protocol.id}: {ctx.protocol.hepatic.source}",
        ),
    )


def _vitals_blocks(vitals: list[Any], at: datetime, zone: tzinfo) -> list[DischargeBlock]:
    recent = [v for v in vitals if at - RECENT_VITALS <= v.measured_at <= at]
    if not recent:
        return [
            DischargeBlock(
                "vitals_missing",
                "no vital signs in the 30 min before discharge: measure BP, heart rate, "
                "respiratory rate and SpO2",
                RECENT_SOURCE,
            )
        ]
    blocks: list[DischargeBlock] = []
    for limit in DISCHARGE_LIMITS:
        latest = _latest(
            [v for v in recent if getattr(v, limit.field) is not None], "measured_at", at
        )
        if latest is None:
            if limit.field in ("systolic_mmhg", "spo2_percent"):
                blocks.append(
                    DischargeBlock(
                        f"{limit.field}_missing",
                        f"no {limit.field} in the 30 min before discharge: measure it",
                        RECENT_SOURCE,
                    )
                )
            continue
        problem = limit.problem(float(getattr(latest, limit.field)))
        if problem is not None:
            blocks.append(
                DischargeBlock(
                    f"{limit.field}_out_of_limits",
                    f"{problem} (measured {clock_time(latest.measured_at, zone)}): not within "
                    "discharge limits",
                    limit.source,
                )
            )
    return blocks


def _rems_blocks(
    vitals: list[Any], first: datetime, at: datetime, zone: tzinfo
) -> list[DischargeBlock]:
    bps = [v for v in vitals if v.systolic_mmhg is not None]
    blocks: list[DischargeBlock] = []
    if not any(first - BP_BEFORE_WINDOW <= v.measured_at <= first for v in bps):
        blocks.append(
            DischargeBlock(
                "rems_bp_before",
                "no blood pressure recorded in the 2 h before the first esketamine dose "
                "(REMS: BP before dosing)",
                REMS,
            )
        )
    low, high = first + BP_40_MIN_WINDOW[0], first + BP_40_MIN_WINDOW[1]
    if not any(low <= v.measured_at <= high for v in bps):
        if at <= high:
            code = "rems_bp_40_min_due"
            message = (
                f"the REMS blood pressure at about 40 min is due {clock_time_span(low, high, zone)}"
            )
        else:
            code = "rems_bp_40_min_missed"
            message = (
                "no blood pressure was recorded at about 40 min "
                f"({clock_time_span(low, high, zone)}, REMS): a physician may discharge with a "
                "recorded override reason"
            )
        blocks.append(DischargeBlock(code, message, REMS))
    return blocks


def _decision_time(uc: UseCase, decided_at: datetime | None) -> datetime:
    return uc.now if decided_at is None else checked_instant(decided_at, "decided_at", uc.now)


def discharge_readiness(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    session_id: int,
    at: datetime | None = None,
    zone: tzinfo = UTC,
) -> DischargeReadiness:
    """Whether the patient may be discharged at ``at`` (default now), and if not, why and
    when the gate may open (the messages' times in ``zone``, the clinic's). An audited read."""
    with audited_read(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "reading the discharge gate")
        ctx = load_session(uc.session, session_id)
        return read_readiness(uc, ctx, _decision_time(uc, at), zone)


def read_readiness(
    uc: UseCase,
    ctx: SessionContext,
    at: datetime,
    zone: tzinfo = UTC,
    rows: SessionRows | None = None,
) -> DischargeReadiness:
    """The gate at ``at`` inside a caller's use case, with its audit event (for reads that
    show the gate beside other records: the session page, which passes the session's
    ``rows`` it has read already)."""
    readiness = _readiness(uc, ctx, at, zone, rows)
    uc.audit(
        "session.discharge.readiness",
        record_type="treatment_sessions",
        record_id=ctx.session_id,
        patient_id=ctx.patient_id,
        details={
            "ready": readiness.ready,
            "blocks": [b.code for b in readiness.blocks],
            "notices": [n.code for n in readiness.notices],
        },
    )
    return readiness


def discharge(
    db: Database,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    session_id: int,
    decision: str = "discharged",
    decided_at: datetime | None = None,
    reason: str | None = None,
    override_reason: str | None = None,
    zone: tzinfo = UTC,
) -> DischargeResult:
    """Record the discharge decision and end the session.

    ``discharged`` passes the gate or is refused with its reasons (:class:`RefusedError`);
    only a missed REMS 40-min blood pressure may be overridden, by a physician, with
    ``override_reason``. ``admitted`` and ``transferred`` need a ``reason`` and no gate.
    A refusal's times are in ``zone`` (the clinic's)."""
    if decision not in DISCHARGE_DECISIONS:
        raise UserInputError(
            f"decision {decision!r} is not accepted; accepted: {', '.join(DISCHARGE_DECISIONS)}"
        )
    if decision != "discharged" and not (reason and reason.strip()):
        raise UserInputError(f"a decision '{decision}' needs a reason")
    with audited_transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.SESSION_DOCUMENT, "deciding a discharge")
        ctx = load_session(uc.session, session_id)
        if ctx.visit.actual_end_at is not None:
            raise RefusedError(
                f"session {session_id} already ended at "
                f"{date_and_time(ctx.visit.actual_end_at, zone)}"
            )
        at = _decision_time(uc, decided_at)
        readiness = _readiness(uc, ctx, at, zone)
        note = reason.strip() if reason else None
        if decision == "discharged" and not readiness.ready:
            only_missed_bp = all(b.code == OVERRIDABLE_BLOCK for b in readiness.blocks)
            if not only_missed_bp:
                raise RefusedError(f"discharge refused: {readiness.explain()}")
            if Permission.ORDER_OVERRIDE not in permissions_of(user.role) or not (
                override_reason and override_reason.strip()
            ):
                raise RefusedError(
                    f"discharge refused: {readiness.explain()} (a physician with an "
                    "override_reason may discharge)"
                )
            note = f"override (REMS 40-min BP missed): {override_reason.strip()}"
        row = Discharge(
            session_id=ctx.session_id,
            decided_at=at,
            decision=decision,
            observation_min=readiness.observation_min,
            reason=note,
            **who(uc, user, ctx.patient_id),
        )
        uc.session.add(row)
        uc.session.flush()
        _end_session(uc, ctx, user, at)
        uc.audit(
            "session.discharge",
            record_type="discharges",
            record_id=row.id,
            patient_id=ctx.patient_id,
            reason=override_reason,
            details={"session_id": ctx.session_id, "decision": decision},
        )
        return DischargeResult(int(row.id), decision, readiness.observation_min, readiness)


def _end_session(uc: UseCase, ctx: SessionContext, user: Any, at: datetime) -> None:
    visit = current_version(uc.session, TreatmentSession, ctx.session_id)
    ended = TreatmentSession(
        course_id=visit.course_id,
        order_id=visit.order_id,
        schedule_entry_id=visit.schedule_entry_id,
        chair_id=visit.chair_id,
        scheduled_start_at=visit.scheduled_start_at,
        actual_start_at=visit.actual_start_at,
        actual_end_at=at,
        route=visit.route,
        lot_number=visit.lot_number,
        multi_day=visit.multi_day,
    )
    amend(
        uc.session,
        visit,
        ended,
        reason="session ended at the discharge decision",
        recorded_at=uc.now,
        recorded_by_id=user.id,
    )
