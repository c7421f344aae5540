"""Record what the trial and the harms are judged on: assessments (scored by
``ketaclinic.outcomes``), opioid use with its MME, liver tests, and symptom screens.

- An assessment stores the answers and the score as computed (instrument version inside);
  incomplete or out-of-range answers are refused by the scorer, naming the item. A PHQ-9
  item 9 answer above 0 (thoughts of self-harm) comes back as an alert and is audited as
  ``assessment.alert``; the dashboard lists it for same-day review.
- Opioid use stores the MME with the table and its version; a drug or route the table does
  not convert (buprenorphine, fentanyl other than a patch, any IV/SC opioid) is refused,
  never stored with a guessed number. MME is for tracking, never for converting.
- Liver tests are the ones repeated ketamine is known to raise (DOMAIN.md section 3), with
  their LOINC codes and accepted units; values outside the plausibility ranges are refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ketaclinic.errors import OutOfRangeError, UnknownNameError, UserInputError
from ketaclinic.outcomes import DEFAULT_MME_TABLE, get_instrument, mme, score
from ketaclinic.ranges import CLINIC_DATE
from ketaclinic.services._audit import Actor, Clock, UseCase, utc_now
from ketaclinic.services._audit import audited_transaction as _transaction
from ketaclinic.services._inputs import (
    authorize,
    check_instant,
    existing_patient,
    positive_id,
    record_of_patient,
    who,
)
from ketaclinic.services._permissions import Permission
from ketaclinic.store import (
    SCREEN_KINDS,
    Assessment,
    Database,
    LabResult,
    OpioidUse,
    SymptomScreen,
    TreatmentCourse,
    TreatmentSession,
    add,
)

__all__ = [
    "LIVER_TESTS",
    "OPIOID_ROUTES",
    "AssessmentRecorded",
    "LiverTest",
    "OpioidUseRecorded",
    "record_assessment",
    "record_lab_result",
    "record_opioid_use",
    "record_symptom_screen",
]

#: How far after the server's clock a recorded time may lie (device clock drift).
_DRIFT = timedelta(minutes=5)


@dataclass(frozen=True)
class LiverTest:
    """A liver test: LOINC code per unit, and a plausibility range per unit (values outside
    are typing errors, not clinical limits [assumption])."""

    key: str
    name: str
    units: Mapping[str, tuple[str, float, float]]  # unit -> (LOINC, low, high)


#: LOINC codes from the LOINC database (Regenstrief Institute), serum or plasma; a code
#: names a kind of property (mass or substance concentration), so g/dL and g/L share one.
LIVER_TESTS: dict[str, LiverTest] = {
    t.key: t
    for t in (
        LiverTest("alt", "alanine aminotransferase (ALT)", {"U/L": ("1742-6", 0.0, 20_000.0)}),
        LiverTest("ast", "aspartate aminotransferase (AST)", {"U/L": ("1920-8", 0.0, 20_000.0)}),
        LiverTest("alp", "alkaline phosphatase (ALP)", {"U/L": ("6768-6", 0.0, 10_000.0)}),
        LiverTest("ggt", "gamma-glutamyl transferase (GGT)", {"U/L": ("2324-2", 0.0, 10_000.0)}),
        LiverTest(
            "bilirubin_total",
            "bilirubin, total",
            {"mg/dL": ("1975-2", 0.0, 60.0), "umol/L": ("14631-6", 0.0, 1_000.0)},
        ),
        LiverTest(
            "albumin", "albumin", {"g/dL": ("1751-7", 0.5, 7.0), "g/L": ("1751-7", 5.0, 70.0)}
        ),
        LiverTest("inr", "INR (prothrombin time)", {"{INR}": ("6301-6", 0.5, 20.0)}),
    )
}

#: Routes the CDC MME tables convert: oral doses, and fentanyl as a transdermal patch.
OPIOID_ROUTES = ("oral", "transdermal")


def _course_and_session(
    uc: UseCase, patient_id: int, course_id: int | None, session_id: int | None
) -> None:
    if course_id is not None:
        record_of_patient(uc, TreatmentCourse, positive_id(course_id, "course id"), patient_id)
    if session_id is not None:
        visit = record_of_patient(
            uc, TreatmentSession, positive_id(session_id, "session id"), patient_id
        )
        if course_id is not None and visit.course_id != course_id:
            raise UserInputError(f"session {session_id} is not a session of course {course_id}")


def _past_instant(value: Any, what: str, now: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise UserInputError(f"{what} must be a date and time with a time zone, got {value!r}")
    moment = check_instant(value, what)
    if moment > now + _DRIFT:
        raise UserInputError(
            f"{what} {moment.isoformat()} is in the future (now {now.isoformat()})"
        )
    return moment


def _past_day(value: Any, what: str, today: date) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise UserInputError(f"{what} must be a date such as 2026-03-01, got {value!r}")
    CLINIC_DATE.check(value, what)
    if value > today:
        raise UserInputError(f"{what} {value.isoformat()} is in the future (today {today})")
    return value


@dataclass(frozen=True)
class AssessmentRecorded:
    assessment_id: int
    instrument_id: str
    instrument_version: str
    score: dict[str, Any]
    alerts: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "assessment_id": self.assessment_id,
            "instrument": self.instrument_id,
            "instrument_version": self.instrument_version,
            "score": self.score,
            "alerts": list(self.alerts),
        }


def record_assessment(
    db: Database,
    actor: Actor,
    patient_id: int,
    instrument_id: str,
    answers: Mapping[str, int] | Sequence[int],
    administered_at: datetime,
    *,
    course_id: int | None = None,
    session_id: int | None = None,
    clock: Clock = utc_now,
) -> AssessmentRecorded:
    """Score and store one instrument's answers (PHQ-9, GAD-7, pain NRS, BPI-SF, PEG...);
    alerts (PHQ-9 item 9 > 0) are returned and audited."""
    instrument = get_instrument(instrument_id)
    result = score(instrument.id, answers)
    with _transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.ASSESSMENT_RECORD, "recording an assessment")
        existing_patient(uc, patient_id)
        when = _past_instant(administered_at, "administered_at", uc.now)
        _course_and_session(uc, patient_id, course_id, session_id)
        record = add(
            uc.session,
            Assessment(
                patient_id=patient_id,
                course_id=course_id,
                session_id=session_id,
                instrument_id=result.instrument_id,
                instrument_version=result.instrument_version,
                administered_at=when,
                answers=dict(result.answers),
                score=result.to_dict(),
                **who(uc, user),
            ),
        )
        uc.audit(
            "assessment.record",
            record_type="assessments",
            record_id=record.id,
            patient_id=patient_id,
            details={"instrument": result.instrument_id, "total_points": result.total},
        )
        for alert in result.alerts:
            uc.audit(
                "assessment.alert",
                record_type="assessments",
                record_id=record.id,
                patient_id=patient_id,
                details=alert.to_dict(),
            )
        return AssessmentRecorded(
            int(record.id),
            result.instrument_id,
            result.instrument_version,
            result.to_dict(),
            tuple(a.to_dict() for a in result.alerts),
        )


@dataclass(frozen=True)
class OpioidUseRecorded:
    opioid_use_id: int
    mme: dict[str, Any]

    @property
    def mme_mg_per_day(self) -> float:
        return float(self.mme["mme_mg_per_day"])

    def to_dict(self) -> dict[str, Any]:
        return {"opioid_use_id": self.opioid_use_id, "mme": self.mme}


def record_opioid_use(
    db: Database,
    actor: Actor,
    patient_id: int,
    drug: str,
    daily_dose: str,
    route: str,
    period_start_on: date,
    period_end_on: date | None = None,
    *,
    table: str = DEFAULT_MME_TABLE,
    clock: Clock = utc_now,
) -> OpioidUseRecorded:
    """Store an opioid's daily dose (``"60 mg/day"``, a patch ``"25 mcg/h"``) over a period,
    with its MME from ``table`` (``cdc-2022``, or ``cdc-2016``) and the table's version."""
    if not isinstance(route, str) or route.strip().lower() not in OPIOID_ROUTES:
        raise UserInputError(
            f"route {route!r} is not accepted: the CDC MME tables convert oral doses and "
            "fentanyl patches (transdermal) only; an opioid given otherwise gets no MME"
        )
    route = route.strip().lower()
    if not isinstance(drug, str) or not drug.strip():
        raise UserInputError("drug is needed: an opioid's generic name, e.g. oxycodone")
    name = drug.strip()
    if route == "transdermal":
        if name.lower() not in ("fentanyl", "fentanyl transdermal", "fentanyl patch"):
            raise UserInputError(
                f"{name!r} as a patch is not converted: the CDC tables convert fentanyl "
                "patches only (buprenorphine patches get no MME)"
            )
        name = "fentanyl transdermal"
    elif "transdermal" in name.lower() or "patch" in name.lower():
        raise UserInputError(f"{name!r} is a patch: give route 'transdermal'")
    result = mme(name, daily_dose, table)
    with _transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.PATIENT_WRITE, "recording opioid use")
        existing_patient(uc, patient_id)
        start = _past_day(period_start_on, "period_start_on", uc.now.date())
        if period_end_on is not None:
            _past_day(period_end_on, "period_end_on", uc.now.date() + timedelta(days=366))
            if period_end_on < start:
                raise UserInputError(
                    f"period_end_on {period_end_on.isoformat()} is before period_start_on "
                    f"{start.isoformat()}"
                )
        record = add(
            uc.session,
            OpioidUse(
                patient_id=patient_id,
                drug=result.drug,
                daily_dose_value=result.daily_dose.amount,
                daily_dose_unit=result.daily_dose.unit,
                route=route,
                period_start_on=start,
                period_end_on=period_end_on,
                mme_mg_per_day=result.mme_mg_per_day,
                mme_table_id=result.table_id,
                mme_table_version=result.table_version,
                **who(uc, user),
            ),
        )
        uc.audit(
            "opioid_use.record",
            record_type="opioid_use",
            record_id=record.id,
            patient_id=patient_id,
            details={"drug": result.drug, "mme_mg_per_day": result.mme_mg_per_day},
        )
        return OpioidUseRecorded(int(record.id), result.to_dict())


def _liver_test(test: str) -> LiverTest:
    key = test.strip().lower() if isinstance(test, str) else test
    if key in LIVER_TESTS:
        return LIVER_TESTS[key]
    for item in LIVER_TESTS.values():  # a LOINC code names its test
        if any(code == key for code, _, _ in item.units.values()):
            return item
    raise UnknownNameError(
        f"lab test {test!r} is not accepted; accepted: {', '.join(LIVER_TESTS)} (or their "
        "LOINC codes)"
    )


def record_lab_result(
    db: Database,
    actor: Actor,
    patient_id: int,
    test: str,
    value: float,
    unit: str,
    collected_at: datetime,
    *,
    reference_low: float | None = None,
    reference_high: float | None = None,
    clock: Clock = utc_now,
) -> int:
    """Store a liver test (``alt``, ``ast``, ``alp``, ``ggt``, ``bilirubin_total``,
    ``albumin``, ``inr``) in one of its units; returns the record id."""
    item = _liver_test(test)
    if unit not in item.units:
        raise UserInputError(
            f"{item.name} in {unit!r} is not accepted; accepted units: {', '.join(item.units)}"
        )
    loinc, low, high = item.units[unit]
    numbers = {"value": value, "reference_low": reference_low, "reference_high": reference_high}
    for what, number in numbers.items():
        if number is None:
            continue
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise UserInputError(f"{item.name} {what} {number!r} is not a number")
        if not low <= float(number) <= high:
            raise OutOfRangeError(
                f"{item.name} {what} {number:g} {unit} is outside the accepted range "
                f"{low:g}-{high:g} {unit}"
            )
    if reference_low is not None and reference_high is not None and reference_high < reference_low:
        raise UserInputError("reference_high is below reference_low")
    with _transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.PATIENT_WRITE, "recording a lab result")
        existing_patient(uc, patient_id)
        when = _past_instant(collected_at, "collected_at", uc.now)
        record = add(
            uc.session,
            LabResult(
                patient_id=patient_id,
                loinc_code=loinc,
                test_name=item.name,
                value=float(value),
                unit=unit,
                reference_low=reference_low,
                reference_high=reference_high,
                collected_at=when,
                **who(uc, user),
            ),
        )
        uc.audit(
            "lab_result.record",
            record_type="lab_results",
            record_id=record.id,
            patient_id=patient_id,
            details={"loinc": loinc},
        )
        return int(record.id)


def record_symptom_screen(
    db: Database,
    actor: Actor,
    patient_id: int,
    kind: str,
    screened_on: date,
    result: str,
    details: str | None = None,
    *,
    clock: Clock = utc_now,
) -> int:
    """Store a screen for lower urinary tract symptoms (``urinary_symptoms``) or misuse
    (``misuse``): ``negative`` or ``positive``, with free-text details."""
    if kind not in SCREEN_KINDS:
        raise UserInputError(
            f"screen kind {kind!r} is not accepted; accepted: {', '.join(SCREEN_KINDS)}"
        )
    if result not in ("negative", "positive"):
        raise UserInputError(
            f"screen result {result!r} is not accepted; accepted: negative, positive"
        )
    if details is not None and (not isinstance(details, str) or len(details) > 2000):
        raise UserInputError("details must be a text of at most 2000 characters")
    with _transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.ASSESSMENT_RECORD, "recording a symptom screen")
        existing_patient(uc, patient_id)
        day = _past_day(screened_on, "screened_on", uc.now.date())
        record = add(
            uc.session,
            SymptomScreen(
                patient_id=patient_id,
                kind=kind,
                screened_on=day,
                result=result,
                details=details,
                **who(uc, user),
            ),
        )
        uc.audit(
            "symptom_screen.record",
            record_type="symptom_screens",
            record_id=record.id,
            patient_id=patient_id,
            details={"kind": kind, "result": result},
        )
        return int(record.id)
