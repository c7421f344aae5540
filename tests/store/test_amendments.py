"""A correction is a new row that points to the original, which stays byte for byte."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ketaclinic.errors import RecordNotFoundError, RefusedError, UserInputError
from ketaclinic.services.testing import FrozenClock, add_patient_with_course, add_personas
from ketaclinic.store import (
    Database,
    Diagnosis,
    WeightMeasurement,
    add,
    amend,
    current_records,
    current_version,
    get,
    history,
    latest_weight,
    withdraw,
)


@pytest.fixture
def chart(db: Database, clock: FrozenClock) -> tuple[Database, int, int]:
    actors = add_personas(db, clock)
    nurse = actors["nurse.brown"].user_id
    assert nurse is not None
    with db.transaction() as session:
        patient = add_patient_with_course(session, recorded_by_id=nurse, now=clock(), mrn="A1")
    return db, patient, nurse


def _insert(db: Database, record: Diagnosis) -> None:
    with db.transaction() as session:
        session.add(record)
        session.flush()


def _raw(db: Database, table: str, row_id: int) -> tuple[object, ...]:
    with db.snapshot() as session:
        return tuple(
            session.execute(text(f"SELECT * FROM {table} WHERE id = :i"), {"i": row_id}).one()
        )


def test_an_amendment_leaves_the_original_readable_byte_for_byte(
    chart: tuple[Database, int, int], clock: FrozenClock
) -> None:
    db, patient, nurse = chart
    with db.transaction() as session:
        original = add(
            session,
            Diagnosis(
                patient_id=patient,
                icd10cm_code="G90.511",
                free_text="CRPS I right arm",
                recorded_at=clock(),
                recorded_by_id=nurse,
            ),
        )
    before = _raw(db, "diagnoses", original.id)
    clock.advance(hours=1)
    with db.transaction() as session:
        fixed = amend(
            session,
            get(session, Diagnosis, original.id),
            Diagnosis(icd10cm_code="G90.512", free_text="CRPS I left arm"),
            reason="wrong side",
            recorded_at=clock(),
            recorded_by_id=nurse,
        )
    assert _raw(db, "diagnoses", original.id) == before
    with db.snapshot() as session:
        versions = history(session, Diagnosis, original.id)
        assert [v.icd10cm_code for v in versions] == ["G90.511", "G90.512"]
        assert [v.id for v in history(session, Diagnosis, fixed.id)] == [original.id, fixed.id]
        assert current_version(session, Diagnosis, original.id).id == fixed.id
        assert fixed.amendment_reason == "wrong side"
        assert fixed.patient_id == patient
        codes = [d.icd10cm_code for d in current_records(session, Diagnosis, patient)]
        assert codes == ["F33.2", "G90.512"]


def test_only_the_current_version_can_be_amended(
    chart: tuple[Database, int, int], clock: FrozenClock
) -> None:
    db, patient, nurse = chart
    with db.transaction() as session:
        first = current_records(session, Diagnosis, patient)[0]
        amend(
            session,
            first,
            Diagnosis(icd10cm_code="F33.1", free_text="moderate"),
            reason="re-graded",
            recorded_at=clock(),
            recorded_by_id=nurse,
        )
    with pytest.raises(RefusedError, match="already amended"), db.transaction() as session:
        amend(
            session,
            get(session, Diagnosis, first.id),
            Diagnosis(icd10cm_code="F33.0", free_text="mild"),
            reason="again",
            recorded_at=clock(),
            recorded_by_id=nurse,
        )


def test_the_database_refuses_a_second_amendment_of_one_row(
    chart: tuple[Database, int, int], clock: FrozenClock
) -> None:
    db, patient, nurse = chart
    with db.transaction() as session:
        first = current_records(session, Diagnosis, patient)[0]
        amend(
            session,
            first,
            Diagnosis(icd10cm_code="F33.1", free_text="moderate"),
            reason="re-graded",
            recorded_at=clock(),
            recorded_by_id=nurse,
        )
    record = Diagnosis(
        patient_id=patient,
        icd10cm_code="F33.0",
        free_text="fork",
        amends_id=first.id,
        amendment_reason="branch",
        recorded_at=clock(),
        recorded_by_id=nurse,
    )
    with pytest.raises(IntegrityError):
        _insert(db, record)


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_amendment_needs_a_reason(
    chart: tuple[Database, int, int], clock: FrozenClock, reason: str
) -> None:
    db, patient, nurse = chart
    with db.transaction() as session:
        first = current_records(session, Diagnosis, patient)[0]
        correction = Diagnosis(icd10cm_code="F33.1", free_text="x")
        with pytest.raises(UserInputError, match="reason"):
            amend(
                session, first, correction, reason=reason, recorded_at=clock(), recorded_by_id=nurse
            )


def test_the_database_refuses_an_amendment_without_a_reason(
    chart: tuple[Database, int, int], clock: FrozenClock
) -> None:
    db, patient, nurse = chart
    with db.snapshot() as session:
        first = current_records(session, Diagnosis, patient)[0].id
    record = Diagnosis(
        patient_id=patient,
        icd10cm_code="F33.0",
        free_text="x",
        amends_id=first,
        recorded_at=clock(),
        recorded_by_id=nurse,
    )
    with pytest.raises(IntegrityError):
        _insert(db, record)


def test_an_amendment_stays_with_the_patient_and_the_kind(
    chart: tuple[Database, int, int], clock: FrozenClock
) -> None:
    db, patient, nurse = chart
    with db.transaction() as session:
        first = current_records(session, Diagnosis, patient)[0]
        with pytest.raises(UserInputError, match="same patient"):
            amend(
                session,
                first,
                Diagnosis(patient_id=patient + 1, icd10cm_code="F33.0", free_text="x"),
                reason="r",
                recorded_at=clock(),
                recorded_by_id=nurse,
            )
        with pytest.raises(UserInputError, match="only be amended by another diagnoses"):
            amend(
                session,
                first,
                WeightMeasurement(
                    measured_on=date(2026, 3, 1),  # type: ignore[type-var]
                    weight_kg=70.0,
                ),
                reason="r",
                recorded_at=clock(),
                recorded_by_id=nurse,
            )


def test_a_withdrawn_record_leaves_the_current_view_but_not_the_history(
    chart: tuple[Database, int, int], clock: FrozenClock
) -> None:
    db, patient, nurse = chart
    with db.transaction() as session:
        weight = latest_weight(session, patient)
        assert weight is not None
        withdraw(
            session,
            weight,
            reason="entered for the wrong patient",
            recorded_at=clock(),
            recorded_by_id=nurse,
        )
    with db.snapshot() as session:
        assert latest_weight(session, patient) is None
        versions = history(session, WeightMeasurement, weight.id)
        assert [v.entered_in_error for v in versions] == [False, True]
        assert versions[1].weight_kg == versions[0].weight_kg
        assert (
            len(current_records(session, WeightMeasurement, patient, include_withdrawn=True)) == 1
        )


def test_latest_weight_is_the_most_recent_measurement(
    chart: tuple[Database, int, int], clock: FrozenClock
) -> None:
    db, patient, nurse = chart
    with db.transaction() as session:
        add(
            session,
            WeightMeasurement(
                patient_id=patient,
                measured_on=date(2020, 1, 1),
                weight_kg=90.0,
                recorded_at=clock(),
                recorded_by_id=nurse,
            ),
        )
        latest = latest_weight(session, patient)
        assert latest is not None
        assert latest.weight_kg == 72.5


def test_an_unknown_record_is_a_clear_error(db: Database) -> None:
    with db.snapshot() as session, pytest.raises(RecordNotFoundError, match="has id 999"):
        get(session, Diagnosis, 999)
