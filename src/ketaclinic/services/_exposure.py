"""Cumulative ketamine exposure of a patient, the prompts it raises, and the opioid-sparing
view (MME before and during treatment).

Exposure counts the sessions given (``actual_start_at``) and the mg given in each, as
session documentation computes it (infusions pro rata over the time they ran,
``dosing_times``); mg/kg uses the weight measured last on or before each session.

Prompts (DOMAIN.md section 3: repeated use raises liver enzymes and causes lower urinary tract
symptoms; long-term safety data are missing; ketamine is a drug of addiction):

- liver tests: none yet with repeated treatment (2 or more sessions, or a multi-day
  infusion), none in the last ``LIVER_TEST_INTERVAL_DAYS`` days, none since a multi-day
  infusion ended, or the latest ALT, AST or ALP at 3 or more times its upper reference limit
  (Noppers 2011, Pain 152:2173, PMID 21546160: 3 of 6 CRPS patients at >= 3 x ULN during a
  second 100-h infusion; Cotter 2021, Drug Saf, DOI 10.1007/s40264-021-01120-9);
- urinary symptoms: no screen in the last ``URINARY_SCREEN_INTERVAL_DAYS`` days while on
  repeated treatment, a positive screen, or a coded lower urinary tract condition;
- misuse signals: current substance use recorded, a positive misuse screen, a session sooner
  than the protocol allows after the one before (maintenance: its shortest interval), or a
  dose per kg 50 % or more above the first session's.

The intervals and the escalation threshold are clinical judgement (no guideline gives them);
they are declared here once.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ketaclinic.errors import UserInputError
from ketaclinic.protocols import get_protocol
from ketaclinic.services._audit import Actor, Clock, audited_read, utc_now
from ketaclinic.services._courses import open_course
from ketaclinic.services._discharge import dosing_times
from ketaclinic.services._inputs import authorize, check_instant, existing_patient
from ketaclinic.services._patient_context import Records, condition_table, latest
from ketaclinic.services._permissions import Permission
from ketaclinic.services._trial import criteria_of, trial_inputs
from ketaclinic.store import (
    Database,
    Diagnosis,
    DoseGiven,
    LabResult,
    OpioidUse,
    SubstanceUse,
    SymptomScreen,
    TreatmentCourse,
    TreatmentSession,
    WeightMeasurement,
    current_records,
)

__all__ = [
    "ESCALATION_FACTOR",
    "LIVER_TEST_INTERVAL_DAYS",
    "LIVER_ULN_FACTOR",
    "URINARY_SCREEN_INTERVAL_DAYS",
    "ExposureSummary",
    "OpioidSparing",
    "Prompt",
    "cumulative_exposure",
    "exposure_of",
    "opioid_sparing",
]

LIVER_TEST_INTERVAL_DAYS = 90  # [clinical judgement] every 3 months on repeated treatment
URINARY_SCREEN_INTERVAL_DAYS = 90  # [clinical judgement] every 3 months on repeated treatment
LIVER_ULN_FACTOR = 3.0  # Noppers 2011 (PMID 21546160): enzymes >= 3 x the upper limit
ESCALATION_FACTOR = 1.5  # [clinical judgement] dose per kg 50 % above the first session's
_LIVER_ENZYMES = ("1742-6", "1920-8", "6768-6")  # ALT, AST, ALP (LOINC)
_DAYS_PER_MONTH = 30.4375
_SOURCE_LIVER = "Noppers 2011, Pain 152:2173 (PMID 21546160); DOMAIN.md section 3"
_SOURCE_URINARY = "DOMAIN.md section 3 (FDA 2023: lower urinary tract symptoms, ketamine cystitis)"
_SOURCE_MISUSE = "DOMAIN.md section 1 (ketamine is a drug of addiction); Cohen 2018"


@dataclass(frozen=True)
class Prompt:
    """Something to do or to look at, with why (and the source)."""

    kind: str  # liver_tests | urinary_screen | misuse
    code: str
    message: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "message": self.message,
            "source": self.source,
        }


@dataclass(frozen=True)
class ExposureSummary:
    patient_id: int
    as_of: datetime
    sessions: int
    total_mg: float
    total_mg_per_kg: float | None
    first_session_at: datetime | None
    last_session_at: datetime | None
    months: float
    multi_day_sessions: int
    per_session: tuple[dict[str, Any], ...]
    prompts: tuple[Prompt, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "as_of": self.as_of.isoformat(),
            "sessions": self.sessions,
            "total_mg": self.total_mg,
            "total_mg_per_kg": self.total_mg_per_kg,
            "first_session_at": self.first_session_at.isoformat()
            if self.first_session_at
            else None,
            "last_session_at": self.last_session_at.isoformat() if self.last_session_at else None,
            "months": self.months,
            "multi_day_sessions": self.multi_day_sessions,
            "per_session": list(self.per_session),
            "prompts": [p.to_dict() for p in self.prompts],
        }


def _weight_on(weights: list[Any], day: date) -> float | None:
    found = latest([w for w in weights if w.measured_on <= day], "measured_on")
    return float(found.weight_kg) if found is not None else None


def _min_gaps_days(protocol_id: str) -> tuple[float | None, float | None]:
    """The shortest spacing of the protocol's series, and of its maintenance (days)."""
    protocol = get_protocol(protocol_id)
    offsets = sorted({o for phase in protocol.schedule.phases for o in phase.day_offsets})
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    maintenance = protocol.schedule.maintenance
    return (
        float(min(gaps)) if gaps else None,
        float(maintenance.range_days[0]) if maintenance is not None else None,
    )


def _series_length(protocol_id: str) -> int:
    return sum(len(phase.day_offsets) for phase in get_protocol(protocol_id).schedule.phases)


def exposure_of(
    session: Any, patient_id: int, as_of: datetime, records: Records | None = None
) -> ExposureSummary:
    """The exposure summary, inside a use case's transaction (``records``: a
    :class:`TableCache` when every patient is read, as the dashboard does)."""
    rows_of = records or Records(session)
    visits: list[Any] = sorted(
        (
            v
            for v in rows_of.of(TreatmentSession, patient_id)
            if v.actual_start_at is not None and v.actual_start_at <= as_of
        ),
        key=lambda v: (v.actual_start_at, v.id),
    )
    doses: dict[int, list[Any]] = defaultdict(list)
    for row in rows_of.of(DoseGiven, patient_id):
        doses[row.session_id].append(row)
    weights = list(rows_of.of(WeightMeasurement, patient_id))
    courses = {c.id: c for c in rows_of.of(TreatmentCourse, patient_id)}
    rows = []
    total_mg = 0.0
    total_per_kg: float | None = 0.0
    for visit in visits:
        original = rows_of.original_id(TreatmentSession, visit)
        given = dosing_times(doses.get(original, []) + doses.get(visit.id, [])).given_mg
        weight = _weight_on(weights, visit.actual_start_at.date())
        per_kg = given / weight if weight else None
        total_mg += given
        total_per_kg = (
            total_per_kg + per_kg if (total_per_kg is not None and per_kg is not None) else None
        )
        course = courses.get(visit.course_id)
        rows.append(
            {
                "session_id": original,
                "course_id": visit.course_id,
                "protocol": course.protocol_id if course else None,
                "started_at": visit.actual_start_at.isoformat(),
                "given_mg": round(given, 3),
                "weight_kg": weight,
                "given_mg_per_kg": round(per_kg, 4) if per_kg is not None else None,
                "multi_day": bool(visit.multi_day),
            }
        )
    first = visits[0].actual_start_at if visits else None
    last = visits[-1].actual_start_at if visits else None
    months = round((last - first).days / _DAYS_PER_MONTH, 2) if first and last else 0.0
    summary = ExposureSummary(
        patient_id=patient_id,
        as_of=as_of,
        sessions=len(visits),
        total_mg=round(total_mg, 3),
        total_mg_per_kg=round(total_per_kg, 4) if total_per_kg is not None and visits else None,
        first_session_at=first,
        last_session_at=last,
        months=months,
        multi_day_sessions=sum(1 for v in visits if v.multi_day),
        per_session=tuple(rows),
        prompts=(),
    )
    prompts = _prompts(rows_of, patient_id, as_of, summary, visits, courses)
    return ExposureSummary(**{**summary.__dict__, "prompts": tuple(prompts)})


def _prompts(
    rows_of: Records,
    patient_id: int,
    as_of: datetime,
    summary: ExposureSummary,
    visits: list[Any],
    courses: dict[int, Any],
) -> list[Prompt]:
    prompts: list[Prompt] = []
    repeated = summary.sessions >= 2 or summary.multi_day_sessions > 0
    labs = [lab for lab in rows_of.of(LabResult, patient_id) if lab.collected_at <= as_of]
    enzymes = [lab for lab in labs if lab.loinc_code in _LIVER_ENZYMES]
    last_lab = latest(enzymes, "collected_at")
    today = as_of.date()
    if repeated:
        if last_lab is None:
            prompts.append(
                Prompt(
                    "liver_tests",
                    "liver_tests.none",
                    "repeated ketamine and no liver tests (ALT, AST, ALP) recorded: order them",
                    _SOURCE_LIVER,
                )
            )
        elif last_lab.collected_at < as_of - timedelta(days=LIVER_TEST_INTERVAL_DAYS):
            prompts.append(
                Prompt(
                    "liver_tests",
                    "liver_tests.due",
                    f"last liver tests on {last_lab.collected_at.date().isoformat()}, more than "
                    f"{LIVER_TEST_INTERVAL_DAYS} days ago: repeat them",
                    _SOURCE_LIVER,
                )
            )
        multi = [v for v in visits if v.multi_day]
        if multi and last_lab is not None:
            ended = multi[-1].actual_end_at or multi[-1].actual_start_at
            if last_lab.collected_at < ended:
                prompts.append(
                    Prompt(
                        "liver_tests",
                        "liver_tests.after_multi_day",
                        f"no liver tests since the multi-day infusion ended on "
                        f"{ended.date().isoformat()}: check them",
                        _SOURCE_LIVER,
                    )
                )
    for loinc in _LIVER_ENZYMES:
        last = latest([lab for lab in enzymes if lab.loinc_code == loinc], "collected_at")
        if (
            last is not None
            and last.reference_high
            and last.value >= LIVER_ULN_FACTOR * last.reference_high
        ):
            prompts.append(
                Prompt(
                    "liver_tests",
                    "liver_tests.raised",
                    f"{last.test_name} {last.value:g} {last.unit} on "
                    f"{last.collected_at.date().isoformat()} is "
                    f"{last.value / last.reference_high:.1f} x the upper reference limit "
                    f"({last.reference_high:g} {last.unit}): review before the next session "
                    "(a stop rule of repeated protocols)",
                    _SOURCE_LIVER,
                )
            )
    screens = [s for s in rows_of.of(SymptomScreen, patient_id) if s.screened_on <= today]
    urinary = latest([s for s in screens if s.kind == "urinary_symptoms"], "screened_on")
    if repeated and (
        urinary is None
        or urinary.screened_on < today - timedelta(days=URINARY_SCREEN_INTERVAL_DAYS)
    ):
        when = f"last on {urinary.screened_on.isoformat()}" if urinary else "never screened"
        prompts.append(
            Prompt(
                "urinary_screen",
                "urinary_screen.due",
                f"screen for lower urinary tract symptoms ({when}; every "
                f"{URINARY_SCREEN_INTERVAL_DAYS} days on repeated ketamine)",
                _SOURCE_URINARY,
            )
        )
    if urinary is not None and urinary.result == "positive":
        prompts.append(
            Prompt(
                "urinary_screen",
                "urinary_screen.positive",
                f"urinary symptoms reported on {urinary.screened_on.isoformat()}: review (ketamine "
                "cystitis; a stop rule of repeated protocols)",
                _SOURCE_URINARY,
            )
        )
    table = condition_table()
    if any(
        "lower_urinary_tract_symptoms" in table.conditions(d.icd10cm_code)
        for d in rows_of.of(Diagnosis, patient_id)
    ):
        prompts.append(
            Prompt(
                "urinary_screen",
                "urinary_screen.coded",
                "a lower urinary tract condition is coded: weigh it before further ketamine",
                _SOURCE_URINARY,
            )
        )
    prompts += _misuse(rows_of, patient_id, today, screens, visits, courses, summary)
    return prompts


def _misuse(
    rows_of: Records,
    patient_id: int,
    today: date,
    screens: list[Any],
    visits: list[Any],
    courses: dict[int, Any],
    summary: ExposureSummary,
) -> list[Prompt]:
    found: list[Prompt] = []
    current = [s.substance for s in rows_of.of(SubstanceUse, patient_id) if s.status == "current"]
    if current:
        found.append(
            Prompt(
                "misuse",
                "misuse.current_substance_use",
                f"current substance use recorded ({', '.join(current)})",
                _SOURCE_MISUSE,
            )
        )
    misuse = latest([s for s in screens if s.kind == "misuse"], "screened_on")
    if misuse is not None and misuse.result == "positive":
        found.append(
            Prompt(
                "misuse",
                "misuse.positive_screen",
                f"misuse screen positive on {misuse.screened_on.isoformat()}",
                _SOURCE_MISUSE,
            )
        )
    by_course: dict[int, list[Any]] = defaultdict(list)
    for visit in visits:
        if visit.course_id in courses:
            by_course[visit.course_id].append(visit)
    for course_id, given in by_course.items():
        protocol_id = courses[course_id].protocol_id
        series_gap, maintenance_gap = _min_gaps_days(protocol_id)
        series = _series_length(protocol_id)
        early = []
        for number, (before, after) in enumerate(itertools.pairwise(given), 2):
            # the session's place says which spacing applies: the series, then maintenance
            gap = series_gap if number <= series else (maintenance_gap or series_gap)
            days = (after.actual_start_at - before.actual_start_at).total_seconds() / 86400
            if gap is not None and days < gap - 0.5:
                early.append(
                    f"{after.actual_start_at.date().isoformat()} ({days:.1f} < {gap:g} days)"
                )
        if early:
            found.append(
                Prompt(
                    "misuse",
                    "misuse.early_session",
                    f"{len(early)} session(s) of course {course_id} came sooner than {protocol_id} "
                    f"spaces them: {', '.join(early[:3])}{' ...' if len(early) > 3 else ''}",
                    _SOURCE_MISUSE,
                )
            )
    per_kg = [r["given_mg_per_kg"] for r in summary.per_session if r["given_mg_per_kg"]]
    if len(per_kg) >= 2 and per_kg[-1] >= ESCALATION_FACTOR * per_kg[0]:
        found.append(
            Prompt(
                "misuse",
                "misuse.dose_escalation",
                f"last session {per_kg[-1]:.3g} mg/kg, {per_kg[-1] / per_kg[0]:.1f} x the first "
                f"({per_kg[0]:.3g} mg/kg)",
                _SOURCE_MISUSE,
            )
        )
    return found


def cumulative_exposure(
    db: Database,
    actor: Actor,
    patient_id: int,
    *,
    as_of: datetime | None = None,
    clock: Clock = utc_now,
) -> ExposureSummary:
    """Sessions, mg, mg/kg and months of ketamine to ``as_of`` (default now), with prompts
    for liver tests, urinary-symptom screening and misuse signals; audited read."""
    with audited_read(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "reading a patient's ketamine exposure")
        existing_patient(uc, patient_id)
        when = check_instant(as_of, "as_of") if as_of is not None else uc.now
        summary = exposure_of(uc.session, patient_id, when)
        uc.audit(
            "exposure.read",
            record_type="patients",
            record_id=patient_id,
            patient_id=patient_id,
            details={"prompts": [p.code for p in summary.prompts]},
        )
        return summary


@dataclass(frozen=True)
class OpioidSparing:
    """Mean daily MME over the window before the course started and the latest window of
    treatment, per conversion table (MME from different tables is never added up)."""

    patient_id: int
    course_id: int
    course_start_on: date
    window_days: int
    by_table: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "course_id": self.course_id,
            "course_start_on": self.course_start_on.isoformat(),
            "window_days": self.window_days,
            "by_table": self.by_table,
            "caution": "MME tracks total opioid exposure; it is never a conversion between "
            "opioids (CDC 2022)",
        }


def _mean_daily(rows: list[Any], first: date, last: date) -> float:
    days = (last - first).days + 1
    total = 0.0
    for k in range(days):
        day = first + timedelta(days=k)
        total += sum(
            float(r.mme_mg_per_day)
            for r in rows
            if r.period_start_on <= day and (r.period_end_on is None or r.period_end_on >= day)
        )
    return round(total / days, 3)


def opioid_sparing(
    db: Database,
    actor: Actor,
    course_id: int,
    *,
    window_days: int = 28,
    as_of: datetime | None = None,
    clock: Clock = utc_now,
) -> OpioidSparing:
    """MME before vs during a course: the mean daily MME over the ``window_days`` before the
    course's first session (or planned start) and over the last ``window_days`` up to
    ``as_of``, per MME table and version; audited read."""
    if (
        isinstance(window_days, bool)
        or not isinstance(window_days, int)
        or not 1 <= window_days <= 365
    ):
        raise UserInputError(
            f"window_days {window_days!r} is not accepted: an integer from 1 to 365"
        )
    with audited_read(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "reading a patient's opioid use")
        course = open_course(uc, course_id)
        when = check_instant(as_of, "as_of") if as_of is not None else uc.now
        start, _, _ = trial_inputs(uc.session, course, criteria_of(course))
        start_on = start.date()
        rows = list(current_records(uc.session, OpioidUse, course.patient_id))
        by_table: dict[str, dict[str, Any]] = {}
        for key in sorted(
            {f"{r.mme_table_id} {r.mme_table_version}" for r in rows if r.mme_table_id}
        ):
            of_table = [r for r in rows if f"{r.mme_table_id} {r.mme_table_version}" == key]
            before = _mean_daily(
                of_table, start_on - timedelta(days=window_days), start_on - timedelta(days=1)
            )
            end = when.date()
            during = (
                _mean_daily(of_table, max(start_on, end - timedelta(days=window_days - 1)), end)
                if end >= start_on
                else None
            )
            change = round(during - before, 3) if during is not None else None
            by_table[key] = {
                "before_mme_mg_per_day": before,
                "during_mme_mg_per_day": during,
                "change_mme_mg_per_day": change,
                "change_percent": round(change / before * 100, 1)
                if change is not None and before
                else None,
            }
        uc.audit(
            "opioid_sparing.read",
            record_type="treatment_courses",
            record_id=course.id,
            patient_id=course.patient_id,
        )
        return OpioidSparing(
            int(course.patient_id), int(course.id), start_on, window_days, by_table
        )
