"""Assessments, opioid use, liver tests and screens; cumulative exposure and its prompts; MME
before and during a course."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from clinic_helpers import START, counts, enrol, give_session, personas, ready_order
from sqlalchemy import select

from ketaclinic.errors import NotAllowedError, UnknownNameError, UserInputError
from ketaclinic.services import (
    cumulative_exposure,
    opioid_sparing,
    record_assessment,
    record_lab_result,
    record_opioid_use,
    record_symptom_screen,
    verify_audit,
)
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import AuditEvent, Database

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_a_phq9_item_9_answer_above_0_is_an_audited_alert(db: Database, clock: FrozenClock) -> None:
    staff = personas(db, clock)
    patient_id = enrol(db, staff["nurse.brown"], clock)
    recorded = record_assessment(
        db, staff["nurse.brown"], patient_id, "PHQ-9", [2] * 8 + [1], NOW, clock=clock
    )
    assert recorded.score["total_points"] == 17.0
    assert recorded.score["band"] == "moderately severe"
    assert [a["action"] for a in recorded.alerts] == ["same-day clinical review"]
    quiet = record_assessment(db, staff["nurse.brown"], patient_id, "phq-9", [0] * 9, NOW)
    assert quiet.alerts == ()
    with db.snapshot() as session:
        alerts = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "assessment.alert")
        ).all()
    assert [(a.record_id, a.patient_id) for a in alerts] == [(recorded.assessment_id, patient_id)]
    assert verify_audit(db).ok


BAD_ASSESSMENTS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"answers": [1] * 8}, UserInputError, "needs 9 answers"),
    ({"answers": [1] * 8 + [4]}, UserInputError, "item 9 answer 4 is outside"),
    ({"instrument_id": "hamd"}, UnknownNameError, "hamd"),
    ({"administered_at": NOW + timedelta(days=1)}, UserInputError, "in the future"),
    ({"administered_at": datetime(2026, 3, 1, 9)}, UserInputError, "no time zone"),
    ({"course_id": 99}, UnknownNameError, "no treatment_courses record has id 99"),
]


@pytest.mark.parametrize(("changes", "error", "message"), BAD_ASSESSMENTS)
def test_bad_assessments_are_refused_and_change_nothing(
    db: Database, clock: FrozenClock, changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    staff = personas(db, clock)
    patient_id = enrol(db, staff["nurse.brown"], clock)
    before = counts(db)
    arguments: dict[str, Any] = {
        "instrument_id": "phq-9",
        "answers": [1] * 9,
        "administered_at": NOW,
        **changes,
    }
    course_id = arguments.pop("course_id", None)
    with pytest.raises(error, match=message):
        record_assessment(
            db, staff["nurse.brown"], patient_id, course_id=course_id, clock=clock, **arguments
        )
    assert counts(db) == before


def test_opioid_use_stores_mme_with_the_table_version_and_refuses_what_it_cannot_convert(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    nurse = staff["nurse.brown"]
    patient_id = enrol(db, nurse, clock)
    oxy = record_opioid_use(
        db, nurse, patient_id, "oxycodone", "60 mg/day", "oral", date(2026, 1, 1), clock=clock
    )
    assert oxy.mme_mg_per_day == 90.0
    assert (oxy.mme["table"], oxy.mme["table_version"]) == ("cdc-2022", "2022-11")
    patch = record_opioid_use(
        db, nurse, patient_id, "fentanyl", "25 mcg/h", "transdermal", date(2026, 1, 1)
    )
    assert patch.mme_mg_per_day == 60.0
    old = record_opioid_use(
        db, nurse, patient_id, "methadone", "30 mg/day", "oral", date(2026, 1, 1), table="cdc-2016"
    )
    assert old.mme_mg_per_day == 240.0
    assert old.mme["table_version"] != "2022-11"
    before = counts(db)
    refused = [
        ("buprenorphine", "8 mg/day", "oral", "not converted to MME"),
        ("buprenorphine", "10 mcg/h", "transdermal", "fentanyl patches only"),
        ("morphine", "10 mg/day", "iv", "oral doses and fentanyl patches"),
        ("fentanyl", "100 mg/day", "oral", "not converted to MME"),
        ("kratom", "10 mg/day", "oral", "not in the cdc-2022 MME table"),
        ("oxycodone", "60 mg", "oral", "not understood"),
    ]
    for drug, dose, route, message in refused:
        with pytest.raises(UserInputError, match=message):
            record_opioid_use(db, nurse, patient_id, drug, dose, route, date(2026, 1, 1))
    with pytest.raises(UserInputError, match="before period_start_on"):
        record_opioid_use(
            db,
            nurse,
            patient_id,
            "morphine",
            "30 mg/day",
            "oral",
            date(2026, 2, 1),
            date(2026, 1, 1),
        )
    assert counts(db) == before


def test_liver_tests_are_coded_and_checked(db: Database, clock: FrozenClock) -> None:
    staff = personas(db, clock)
    nurse = staff["nurse.brown"]
    patient_id = enrol(db, nurse, clock)
    record_lab_result(db, nurse, patient_id, "ALT", 30, "U/L", NOW, reference_high=40, clock=clock)
    record_lab_result(db, nurse, patient_id, "1975-2", 0.8, "mg/dL", NOW, clock=clock)
    with db.snapshot() as session:
        from ketaclinic.store import LabResult

        codes = [(r.loinc_code, r.test_name) for r in session.scalars(select(LabResult))]
    assert codes == [("1742-6", "alanine aminotransferase (ALT)"), ("1975-2", "bilirubin, total")]
    before = counts(db)
    for args, message in [
        (("ALT", 30, "mmol/L"), "accepted units: U/L"),
        (("ALT", -3, "U/L"), "outside the accepted range"),
        (("cholesterol", 5, "mmol/L"), "lab test 'cholesterol' is not accepted"),
    ]:
        with pytest.raises(UserInputError, match=message):
            record_lab_result(db, nurse, patient_id, *args, NOW, clock=clock)  # type: ignore[arg-type]
    with pytest.raises(NotAllowedError):
        record_lab_result(db, staff["res.evans"], patient_id, "ALT", 30, "U/L", NOW, clock=clock)
    assert counts(db) == before


def test_exposure_counts_sessions_mg_and_mg_per_kg_and_prompts_what_is_due(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    nurse = staff["nurse.brown"]
    patient_id, course_id, order_id = ready_order(db, staff, clock, "depression-iv")
    first = datetime.combine(START, datetime.min.time(), tzinfo=UTC).replace(hour=9)
    dose = "iv-infusion 36 mg over 40 min at 0 min"
    for k, day in enumerate((0, 2, 4)):
        give_session(db, nurse, clock, order_id, first + timedelta(days=day), [dose])
        if k == 0:
            none = cumulative_exposure(db, nurse, patient_id, clock=clock)
            assert none.sessions == 1
            assert not none.prompts
    clock.advance(hours=2)
    summary = cumulative_exposure(db, nurse, patient_id, clock=clock)
    assert summary.sessions == 3
    assert summary.total_mg == pytest.approx(108.0)
    assert summary.total_mg_per_kg == pytest.approx(108.0 / 72.5, rel=1e-3)
    assert summary.months == pytest.approx(4 / 30.4375, abs=0.01)
    codes = {p.code for p in summary.prompts}
    assert codes == {"liver_tests.none", "urinary_screen.due"}
    record_lab_result(db, nurse, patient_id, "alt", 130, "U/L", clock(), reference_high=40)
    record_symptom_screen(db, nurse, patient_id, "urinary_symptoms", clock().date(), "positive")
    record_symptom_screen(db, nurse, patient_id, "misuse", clock().date(), "negative")
    codes = {p.code for p in cumulative_exposure(db, nurse, patient_id, clock=clock).prompts}
    assert codes == {"liver_tests.raised", "urinary_screen.positive"}
    clock.advance(days=100)
    later = cumulative_exposure(db, nurse, patient_id, clock=clock)
    assert {"liver_tests.due", "urinary_screen.due"} <= {p.code for p in later.prompts}
    assert course_id > 0
    assert verify_audit(db).ok


def test_an_early_session_and_an_escalating_dose_are_misuse_signals(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    nurse = staff["nurse.brown"]
    patient_id, _, order_id = ready_order(db, staff, clock, "depression-iv")
    first = datetime.combine(START, datetime.min.time(), tzinfo=UTC).replace(hour=9)
    give_session(db, nurse, clock, order_id, first, ["iv-infusion 20 mg over 40 min at 0 min"])
    give_session(
        db, nurse, clock, order_id, first + timedelta(hours=30), ["iv-infusion 36 mg over 40 min"]
    )
    clock.advance(hours=2)
    prompts = {p.code: p for p in cumulative_exposure(db, nurse, patient_id, clock=clock).prompts}
    assert "misuse.early_session" in prompts
    assert "(1.2 < 2 days)" in prompts["misuse.early_session"].message
    assert "misuse.dose_escalation" in prompts


def test_opioid_sparing_compares_mean_mme_before_and_during_the_course(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    nurse = staff["nurse.brown"]
    patient_id, course_id, order_id = ready_order(db, staff, clock, "depression-iv")
    before_end = date(2026, 3, 5)
    record_opioid_use(
        db, nurse, patient_id, "oxycodone", "60 mg/day", "oral", date(2026, 1, 1), before_end
    )
    first = datetime.combine(START, datetime.min.time(), tzinfo=UTC).replace(hour=9)
    give_session(db, nurse, clock, order_id, first, ["iv-infusion 36 mg over 40 min"])
    clock.at = datetime(2026, 3, 6, 12, tzinfo=UTC)
    record_opioid_use(
        db, nurse, patient_id, "oxycodone", "30 mg/day", "oral", date(2026, 3, 6), clock=clock
    )
    clock.at = datetime(2026, 4, 10, 12, tzinfo=UTC)
    view = opioid_sparing(db, nurse, course_id, clock=clock).to_dict()
    table = view["by_table"]["cdc-2022 2022-11"]
    assert table["before_mme_mg_per_day"] == 90.0
    assert table["during_mme_mg_per_day"] == 45.0  # the last 28 days: 30 mg/day x 1.5
    assert table["change_percent"] == -50.0
    assert view["course_start_on"] == "2026-03-04"
    with pytest.raises(UserInputError, match="window_days"):
        opioid_sparing(db, nurse, course_id, window_days=0, clock=clock)
