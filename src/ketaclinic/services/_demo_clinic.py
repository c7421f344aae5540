"""The rows of a realistic demonstration clinic, made from a seed (no database here).

One patient at a time: identity, demographics, weights, ICD-10-CM diagnoses, pain
qualifiers, medicines, opioid use (MME from the CDC 2022 table), liver tests, a course of one
protocol of the library with its trial criteria, a signed and double-checked order of the
protocol's doses for the patient's weight, the bookings, and every session up to ``now``
(doses and rate changes given, vitals, MOAA/S, CADSS-6, adverse events, the discharge after
the protocol's minimum observation, charges); outcome assessments that follow a responder,
partial or non-responder trajectory, the baseline inside the trial's baseline window and the
follow-up at its decision point; the physician's trial decision there, as the evaluation
recommends, and the course's status events that follow it (stopped trials, maintenance,
completed); payments. Later bookings stay bookings; a follow-up not yet due is not made.

Rates used (demonstration assumptions, each named with what informed it):
- response at the decision point: depression 55 % responders, 20 % partial (Sanacora 2017
  reviews response in about half to two thirds of patients in open series); pain 45 %
  responders (Cohen 2018: moderate evidence for CRPS only, weak elsewhere);
- severe hypertension (BP >= 180/110 mmHg) in about 1 % of depression sessions, mostly the
  first three (DOMAIN.md section 4, real-world depression clinics);
- per session: nausea 6 %, dizziness 5 %, transient dysphoria or anxiety 3 %, headache 3 %
  (assumption: session-level rates well below the patient-level rates of the SPRAVATO label
  section 6.1, where over a whole induction nausea reached 28 %, dizziness 29 %);
- PHQ-9 item 9 above 0 in 4 % of depression assessments (assumption).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Any

from ketaclinic.outcomes import Assessment as Scored
from ketaclinic.outcomes import evaluate_trial, mme, score
from ketaclinic.protocols import Protocol, concrete_dose, get_protocol
from ketaclinic.safety import drug_library
from ketaclinic.services._chair_book import ChairBook
from ketaclinic.services._courses import protocol_version
from ketaclinic.services._demo_sessions import SessionRows

__all__ = ["DEMO_MIX", "DemoClinic", "StaffIds"]

#: protocol id -> share of patients
DEMO_MIX = {
    "depression-iv": 0.40,
    "esketamine-nasal": 0.15,
    "crps-daily-10d": 0.10,
    "chronic-pain-iv-series": 0.12,
    "crps-continuous-4d": 0.05,
    "acute-pain-iv": 0.10,
    "palliative-sc-burst": 0.04,
    "palliative-oral": 0.04,
}
_DIAGNOSES = {
    "depression": [
        ("F33.2", "recurrent major depressive disorder, severe"),
        ("F32.2", "major depressive episode, severe, single"),
    ],
    "crps": [
        ("G90.511", "complex regional pain syndrome I of right upper limb"),
        ("G90.512", "complex regional pain syndrome I of left upper limb"),
        ("G90.521", "complex regional pain syndrome I of right lower limb"),
    ],
    "chronic_pain": [("G89.29", "other chronic pain"), ("G89.4", "chronic pain syndrome")],
    "acute_pain": [("G89.18", "other acute postprocedural pain")],
    "cancer_pain": [("G89.3", "neoplasm related pain")],
}
_CANCERS = [
    ("C34.90", "lung cancer"),
    ("C50.919", "breast cancer"),
    ("C61", "prostate cancer"),
    ("C25.9", "pancreatic cancer"),
]
_GIVEN = [
    "Ada",
    "Ben",
    "Cleo",
    "Dan",
    "Eva",
    "Finn",
    "Gita",
    "Hugo",
    "Ines",
    "Jon",
    "Kira",
    "Luis",
    "Mara",
    "Nils",
    "Olga",
    "Pia",
    "Raj",
    "Sara",
    "Tom",
    "Uma",
    "Vera",
    "Wim",
]
_FAMILY = [
    "Berg",
    "Costa",
    "Dahl",
    "Eze",
    "Fox",
    "Gray",
    "Haas",
    "Ito",
    "Jung",
    "Khan",
    "Lund",
    "Moss",
    "Nagy",
    "Ortiz",
    "Park",
    "Quinn",
    "Rossi",
    "Sato",
    "Tran",
    "Weiss",
    "Young",
]
_OPIOIDS = [
    ("oxycodone", "mg/day", (20, 120), "oral"),
    ("morphine", "mg/day", (30, 200), "oral"),
    ("hydromorphone", "mg/day", (8, 32), "oral"),
    ("tapentadol", "mg/day", (100, 400), "oral"),
]


@dataclass(frozen=True)
class StaffIds:
    physicians: tuple[int, ...]
    nurses: tuple[int, ...]
    chairs: tuple[int, ...]


@cache
def _protocol(protocol_id: str) -> tuple[Protocol, str, dict[str, Any]]:
    protocol = get_protocol(protocol_id)
    return protocol, protocol_version(protocol), protocol.trial.model_dump(mode="json")


@lru_cache(maxsize=4096)
def _mme(drug: str, mg_per_day: int) -> float:
    return float(mme(drug, f"{mg_per_day} mg/day").mme_mg_per_day)


@cache
def _answers(instrument: str, total: int, items: int, top: int) -> tuple[tuple[int, ...], Any]:
    """Item answers that add up to ``total`` (spread evenly), and their score."""
    base, extra = divmod(total, items)
    answers = tuple(min(top, base + (1 if k < extra else 0)) for k in range(items))
    return answers, score(instrument, list(answers)).to_dict()


class DemoClinic(SessionRows):
    """Rows of ``patients`` demo patients, table by table, in batches (ids from ``first_ids``)."""

    def __init__(self, seed: int, now: datetime, staff: StaffIds, first_ids: dict[str, int]):
        self.rng = random.Random(seed)
        self.now = now
        self.staff = staff
        self.next_id = dict(first_ids)
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.sessions = 0
        self.library_version = drug_library().version
        self.chairs = ChairBook(staff.chairs)

    def _put(self, table: str, **row: Any) -> int:
        row["id"] = self.next_id.get(table, 1)
        self.next_id[table] = row["id"] + 1
        self.rows.setdefault(table, []).append(row)
        return int(row["id"])

    def take(self) -> dict[str, list[dict[str, Any]]]:
        rows, self.rows = self.rows, {}
        return rows

    # -- one patient -----------------------------------------------------------------------
    def patient(self, number: int) -> int:
        rng = self.rng
        protocol_id = rng.choices(list(DEMO_MIX), weights=list(DEMO_MIX.values()))[0]
        protocol, version, trial = _protocol(protocol_id)
        doctor = rng.choice(self.staff.physicians)
        start_day = (self.now - timedelta(days=rng.randint(3, 900))).date()
        enrolled = datetime.combine(
            start_day - timedelta(days=14), time(10), tzinfo=self.now.tzinfo
        )
        pid = self._put(
            "patients", mrn=f"DEMO{number:06d}", created_at=enrolled, created_by_id=doctor
        )
        who = {
            "patient_id": pid,
            "recorded_at": enrolled,
            "recorded_by_id": doctor,
            "entered_in_error": False,
        }
        palliative = protocol.category == "cancer_pain"
        age = rng.randint(60, 88) if palliative else rng.randint(19, 79)
        sex = rng.choice(("female", "male"))
        self._put(
            "demographics",
            given_name=rng.choice(_GIVEN),
            family_name=rng.choice(_FAMILY),
            birth_date=date(enrolled.year - age, rng.randint(1, 12), rng.randint(1, 28)),
            sex_at_birth=sex,
            **who,
        )
        height = round(rng.gauss(176 if sex == "male" else 164, 7), 1)
        weight = round(min(max(rng.gauss(82 if sex == "male" else 70, 14), 42), 160), 1)
        if palliative:
            weight = round(weight * 0.85, 1)
        for months in (6, 0):
            self._put(
                "weight_measurements",
                measured_on=enrolled.date() - timedelta(days=30 * months),
                weight_kg=round(weight + rng.uniform(-2, 2) * (months > 0), 1),
                height_cm=height,
                **who,
            )
        code, text = rng.choice(_DIAGNOSES[protocol.category])
        self._put(
            "diagnoses", icd10cm_code=code, free_text=text, onset_on=None, resolved_on=None, **who
        )
        if palliative:
            c_code, c_text = rng.choice(_CANCERS)
            self._put(
                "diagnoses",
                icd10cm_code=c_code,
                free_text=c_text,
                onset_on=None,
                resolved_on=None,
                **who,
            )
        depressed = protocol.category == "depression"
        if not depressed:
            self._put(
                "pain_qualifiers",
                assessed_on=enrolled.date(),
                opioid_tolerant=rng.random() < 0.4,
                neuropathic=rng.random() < 0.5,
                inflammatory=rng.random() < 0.2,
                depression=rng.random() < 0.3,
                **who,
            )
        self._put(
            "medications",
            drug_name="sertraline" if depressed else "pregabalin",
            dose_value=100.0 if depressed else 150.0,
            dose_unit="mg",
            route="oral",
            frequency="once daily" if depressed else "twice daily",
            started_on=None,
            stopped_on=None,
            **who,
        )
        if rng.random() < 0.1:
            self._put("allergies", substance="penicillin", reaction="rash", severity="mild", **who)
        if rng.random() < 0.15:
            self._put(
                "substance_use",
                substance="alcohol",
                status="past",
                last_use_on=enrolled.date() - timedelta(days=rng.randint(400, 3000)),
                notes=None,
                **who,
            )
        if sex == "female" and age < 50:
            self._put(
                "pregnancy_status",
                assessed_on=enrolled.date(),
                status="not_pregnant",
                breastfeeding=False,
                **who,
            )
        for loinc, test, high in (("1742-6", "ALT", 40.0), ("1920-8", "AST", 40.0)):
            self._put(
                "lab_results",
                loinc_code=loinc,
                test_name=test,
                value=round(rng.uniform(12, 38), 1),
                unit="U/L",
                reference_low=0.0,
                reference_high=high,
                collected_at=enrolled,
                **who,
            )
        responder = self._outcome(protocol)
        if not depressed or rng.random() < 0.1:
            drug, unit, (low, high), route = rng.choice(_OPIOIDS)
            mg = int(rng.randint(low, high) // 5 * 5)
            before_end = start_day - timedelta(days=1)
            self._put(
                "opioid_use",
                drug=drug,
                daily_dose_value=float(mg),
                daily_dose_unit=unit,
                route=route,
                period_start_on=before_end - timedelta(days=180),
                period_end_on=before_end,
                mme_mg_per_day=_mme(drug, mg),
                mme_table_id="cdc-2022",
                mme_table_version="2022",
                **who,
            )
            during = mg if responder != "responder" else max(5, int(mg * 0.6) // 5 * 5)
            self._put(
                "opioid_use",
                drug=drug,
                daily_dose_value=float(during),
                daily_dose_unit=unit,
                route=route,
                period_start_on=start_day,
                period_end_on=None,
                mme_mg_per_day=_mme(drug, during),
                mme_table_id="cdc-2022",
                mme_table_version="2022",
                **who,
            )
        self._course(pid, protocol, version, trial, weight, age, start_day, responder, doctor)
        return pid

    def _outcome(self, protocol: Protocol) -> str:
        r = self.rng.random()
        if protocol.category == "depression":
            return "responder" if r < 0.55 else "partial" if r < 0.75 else "non_responder"
        return "responder" if r < 0.45 else "partial" if r < 0.65 else "non_responder"

    # -- the course --------------------------------------------------------------------------
    def _course(
        self,
        pid: int,
        protocol: Protocol,
        version: str,
        trial: dict[str, Any],
        weight: float,
        age: int,
        start_day: date,
        outcome: str,
        doctor: int,
    ) -> None:
        rng, tz = self.rng, self.now.tzinfo
        planned_at = datetime.combine(start_day - timedelta(days=7), time(11), tzinfo=tz)
        who = {
            "patient_id": pid,
            "recorded_at": planned_at,
            "recorded_by_id": doctor,
            "entered_in_error": False,
        }
        course = self._put(
            "treatment_courses",
            indication=protocol.category,
            protocol_id=protocol.id,
            protocol_version=version,
            trial_criteria=trial,
            planned_start_on=start_day,
            **who,
        )
        self._status(course, "planned", "planned from the protocol", planned_at, who)
        doses = [
            concrete_dose(item, weight, first_session=False, age_years=age).dose
            for item in protocol.dose_rule.doses
        ]
        dose_json = [d.to_json() for d in doses]
        order = self._put(
            "orders",
            course_id=course,
            doses=dose_json,
            findings=[],
            plan={"generated_by": "ketaclinic demo-data", "protocol": protocol.id},
            drug_library_version=self.library_version,
            weight_kg=weight,
            **who,
        )
        self._put(
            "order_signatures", order_id=order, signed_by_id=doctor, signed_at=planned_at, **who
        )
        checker = rng.choice(self.staff.nurses)
        self._put(
            "double_checks",
            order_id=order,
            checker_id=checker,
            entered_weight_kg=weight,
            entered_doses=dose_json,
            result="match",
            differences=None,
            checked_at=planned_at + timedelta(minutes=20),
            **{**who, "recorded_by_id": checker},
        )
        offsets = [o for phase in protocol.schedule.phases for o in phase.day_offsets]
        kinds = ["series"] * len(offsets)
        maintenance = protocol.schedule.maintenance
        induction = len(offsets)
        if maintenance is not None and outcome == "responder":
            last = offsets[-1]
            for k in range(1, rng.randint(10, 30) + 1):
                offsets.append(last + k * maintenance.every_days)
                kinds.append("maintenance")
        stop_after = induction if outcome != "responder" else len(offsets)
        hour = rng.choice((8, 9, 11, 13))
        first_chair = pid % len(self.staff.chairs)
        shift = timedelta(0)  # days a full clinic pushed this course's bookings back
        baseline = self._baseline(protocol)
        started: list[datetime] = []  # the sessions given, and the trial's scores so far
        # baseline two days ahead, or on the morning of the first session when the trial's
        # baseline window is shorter (acute and palliative: 1 day)
        if protocol.trial.minimum_data.baseline_window_days >= 2:
            baseline_at = datetime.combine(start_day - timedelta(days=2), time(10), tzinfo=tz)
        else:
            baseline_at = datetime.combine(start_day, time(hour - 1), tzinfo=tz)
        scored = [self._assessment(pid, course, protocol, baseline, 0, baseline_at, who)]
        for k, (offset, kind) in enumerate(zip(offsets, kinds, strict=True)):
            if k >= stop_after:
                break
            length = self._length_min(protocol, doses)
            while True:  # the chair-capacity rule: a day with no free chair moves to the next
                starts = datetime.combine(
                    start_day + timedelta(days=offset) + shift, time(hour), tzinfo=tz
                )
                chair = self.chairs.book(starts, starts + timedelta(minutes=length), first_chair)
                if chair is not None:
                    break
                shift += timedelta(days=1)
            entry = self._put(
                "schedule_entries",
                course_id=course,
                chair_id=chair,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=length),
                kind=kind,
                **who,
            )
            if starts + timedelta(minutes=length) > self.now:
                continue  # booked, not yet given
            nurse = rng.choice(self.staff.nurses)
            started.append(
                self._session(
                    pid, course, order, entry, chair, protocol, doses, weight, starts, k, nurse
                )
            )
            if k == 0:
                self._status(course, "active", "first session given", starts, who)
            if k + 1 == induction or (kind == "maintenance" and k % 3 == 0):
                at = starts + timedelta(days=1)
                if k + 1 == induction:  # the follow-up the trial is judged on
                    point = evaluate_trial(protocol.trial, started[0], started, scored, at)
                    if point.decision_point is not None:
                        at = max(at, point.decision_point + timedelta(hours=1))
                if at > self.now:
                    continue  # not yet assessed (nor decided)
                progress = 1.0 if k + 1 >= induction else (k + 1) / induction
                value = self._follow_up(protocol, baseline, outcome, progress)
                scored.append(self._assessment(pid, course, protocol, value, k + 1, at, who))
                if k + 1 == induction:
                    decided = self._trial_decision(
                        course, protocol, started, scored, at, doctor, who
                    )
                    if not self._decision(course, protocol, outcome, decided, at, who):
                        break

    def _status(
        self, course: int, status: str, reason: str, at: datetime, who: dict[str, Any]
    ) -> None:
        self._put(
            "course_status_events",
            course_id=course,
            status=status,
            reason=reason,
            effective_at=at,
            **{**who, "recorded_at": at},
        )

    def _trial_decision(
        self,
        course: int,
        protocol: Protocol,
        started: list[datetime],
        scored: list[Scored],
        at: datetime,
        doctor: int,
        who: dict[str, Any],
    ) -> str | None:
        """The physician's trial decision at the decision point, as ``record_trial_decision``
        records it: the evaluation of what was given and scored, decided as recommended
        (nothing is recorded while the trial cannot be judged). Returns the decision."""
        evaluation = evaluate_trial(protocol.trial, started[0], started, scored, at)
        if evaluation.recommendation not in ("continue", "stop", "taper"):
            return None
        self._put(
            "trial_decisions",
            course_id=course,
            evaluated_at=at,
            recommendation=evaluation.recommendation,
            evaluation=evaluation.to_dict(),
            decision=evaluation.recommendation,
            reason="; ".join(evaluation.reasons),
            decided_by_id=doctor,
            **{**who, "recorded_at": at, "recorded_by_id": doctor},
        )
        return evaluation.recommendation

    def _decision(
        self,
        course: int,
        protocol: Protocol,
        outcome: str,
        decided: str | None,
        at: datetime,
        who: dict[str, Any],
    ) -> bool:
        """The course's status after its trial: the recorded decision's, or the outcome's when
        the trial could not be judged. True when the course goes on to maintenance."""
        responded = decided == "continue" if decided is not None else outcome == "responder"
        if responded:
            if protocol.schedule.maintenance is not None and outcome == "responder":
                self._status(
                    course, "maintenance", "responded at the decision point: maintenance", at, who
                )
                return True
            self._status(course, "completed", "responded: course completed", at, who)
            return False
        why = "partial response" if outcome == "partial" else "no response"
        self._status(
            course,
            "stopped",
            f"{why} at the decision point: trial stopped (no clear benefit)",
            at,
            who,
        )
        return False

    # -- outcomes ----------------------------------------------------------------------------
    def _baseline(self, protocol: Protocol) -> int:
        if protocol.category == "depression":
            return min(27, max(10, round(self.rng.gauss(19, 3.5))))
        return min(10, max(5, round(self.rng.gauss(7.2, 1.2))))

    def _follow_up(self, protocol: Protocol, baseline: int, outcome: str, progress: float) -> int:
        drop = {
            "responder": self.rng.uniform(0.5, 0.85),
            "partial": self.rng.uniform(0.3, 0.45),
            "non_responder": self.rng.uniform(-0.1, 0.2),
        }[outcome]
        if protocol.category != "depression":
            drop = {
                "responder": self.rng.uniform(0.35, 0.7),
                "partial": self.rng.uniform(0.2, 0.28),
                "non_responder": self.rng.uniform(-0.1, 0.15),
            }[outcome]
        top = 27 if protocol.category == "depression" else 10
        return min(top, max(0, round(baseline * (1 - drop * progress))))

    def _assessment(
        self,
        pid: int,
        course: int,
        protocol: Protocol,
        total: int,
        k: int,
        at: datetime,
        who: dict[str, Any],
    ) -> Scored:
        """One outcome assessment's rows; returns it as the trial reads it."""
        if protocol.category == "depression":
            answers, scored = _answers("phq-9", total, 9, 3)
            if total and k and self.rng.random() < 0.04:
                answers = (*answers[:8], 1)
                scored = score("phq-9", list(answers)).to_dict()
            instrument = "phq-9"
        else:
            answers, scored = _answers("pain-nrs", total, 1, 10)
            instrument = "pain-nrs"
        self._put(
            "assessments",
            course_id=course,
            session_id=None,
            instrument_id=instrument,
            instrument_version=str(scored["instrument_version"]),
            administered_at=at,
            answers=list(answers),
            score=scored,
            **{**who, "recorded_at": at},
        )
        scale = protocol.trial.scale
        values = {v["id"]: v["value_points"] for v in scored["scores"]}
        return Scored(instrument, at, values[scale], scale)


def batches(
    clinic: DemoClinic, first: int, patients: int, size: int
) -> Iterator[tuple[list[int], dict[str, list[dict[str, Any]]]]]:
    """(patient ids, rows) for ``size`` patients at a time."""
    for low in range(first, first + patients, size):
        ids = [clinic.patient(n) for n in range(low, min(low + size, first + patients))]
        yield ids, clinic.take()
