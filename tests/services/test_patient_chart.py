"""The chart page's combined read: the same views as the finer use cases give one by one, in
one transaction with one audit event, in a number of statements that does not grow with the
patient's records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from ketaclinic.errors import NotAllowedError, RecordNotFoundError, UserInputError
from ketaclinic.services import (
    Actor,
    cumulative_exposure,
    generate_demo_data,
    get_patient_record,
    list_courses,
    patient_chart,
    patient_cost_to_date,
    patient_history,
    verify_audit,
)
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import (
    AuditEvent,
    Charge,
    CourseStatusEvent,
    Database,
    DoseGiven,
    TreatmentSession,
    WeightMeasurement,
    add,
    amend,
    content,
    load_chart,
    serving_chart,
    withdraw,
)

NURSE = Actor("demo.rn.diaz", "127.0.0.1")


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    engines = {id(e): e for e in (db.writer_engine, db.reader_engine)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def _clinic_with_corrections(db: Database, clock: FrozenClock) -> None:
    generate_demo_data(db, Actor.command_line("cli:test"), patients=24, seed=7, clock=clock)
    with db.transaction() as session:
        who = {"recorded_at": clock(), "recorded_by_id": 1}
        visits = list(session.scalars(select(TreatmentSession).order_by(TreatmentSession.id)))
        for visit in visits[::9]:
            withdraw(session, visit, reason="wrong patient", **who)
        for visit in [v for k, v in enumerate(visits) if k % 11 == 4 and k % 9]:
            moved = TreatmentSession(**{**content(visit), "lot_number": "LOT-CORRECTED"})
            amend(session, visit, moved, reason="lot corrected", **who)
        for given in list(session.scalars(select(DoseGiven).order_by(DoseGiven.id)))[::13]:
            withdraw(session, given, reason="dose entered twice", **who)
        for weight in list(session.scalars(select(WeightMeasurement)))[::5]:
            fixed = WeightMeasurement(**{**content(weight), "weight_kg": weight.weight_kg + 1})
            amend(session, weight, fixed, reason="scale error", **who)
        for status in list(session.scalars(select(CourseStatusEvent)))[::6]:
            withdraw(session, status, reason="status entered in error", **who)
        for charge in list(session.scalars(select(Charge)))[::8]:
            withdraw(session, charge, reason="charged twice", **who)


def _audit_rows(db: Database) -> int:
    with db.snapshot() as session:
        return int(session.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def test_the_combined_chart_is_the_finer_views_on_a_clinic_with_corrections(
    db: Database, clock: FrozenClock
) -> None:
    _clinic_with_corrections(db, clock)
    for patient_id in range(1, 25):
        before = _audit_rows(db)
        chart = patient_chart(db, NURSE, patient_id, clock=clock)
        assert _audit_rows(db) == before + 1
        assert chart.record == get_patient_record(db, NURSE, patient_id, clock=clock)
        assert chart.history == patient_history(db, NURSE, patient_id, clock=clock)
        assert list(chart.courses) == list_courses(db, NURSE, patient_id, clock=clock)
        assert chart.exposure == cumulative_exposure(db, NURSE, patient_id, clock=clock)
        assert chart.cost == patient_cost_to_date(db, NURSE, patient_id, clock=clock)
        assert chart.to_dict()["record"]["mrn"] == chart.record.mrn
    with db.snapshot() as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        reads = session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "patient.chart.read")
        ).scalar_one()
    assert last is not None
    assert last.action == "cost.patient"
    assert reads == 24
    assert verify_audit(db).ok


def test_the_number_of_statements_does_not_grow_with_the_records(
    db: Database, clock: FrozenClock
) -> None:
    _clinic_with_corrections(db, clock)
    with db.snapshot() as session:
        sizes = {p: load_chart(session, p).record_count for p in range(1, 25)}
    small, large = min(sizes, key=sizes.__getitem__), max(sizes, key=sizes.__getitem__)
    assert sizes[large] > 3 * sizes[small]
    counted = {}
    for patient_id in (small, large):
        with _statements(db) as seen:
            patient_chart(db, NURSE, patient_id, clock=clock)
        counted[patient_id] = len(seen)
    with _statements(db) as seen:
        for read in (get_patient_record, patient_history, list_courses, cumulative_exposure):
            read(db, NURSE, large, clock=clock)
        patient_cost_to_date(db, NURSE, large, clock=clock)
    # the tables are read through the driver's cursor (PostgreSQL: all in one pipeline), so
    # SQLAlchemy sees only the other statements: a few per course, never one per record
    assert counted[large] <= counted[small] + 8, counted
    assert counted[large] <= 48, counted
    assert 2 * counted[large] < len(seen), (counted, len(seen))


def test_who_may_read_the_combined_chart_and_what_it_refuses(
    db: Database, clock: FrozenClock
) -> None:
    generate_demo_data(db, Actor.command_line("cli:test"), patients=2, seed=1, clock=clock)
    before = _audit_rows(db)
    with pytest.raises(NotAllowedError, match="chart"):
        patient_chart(db, Actor("demo.admin", "127.0.0.1"), 1, clock=clock)
    with pytest.raises(UserInputError, match="positive integer"):
        patient_chart(db, NURSE, 0, clock=clock)
    with pytest.raises(RecordNotFoundError):
        patient_chart(db, NURSE, 999, clock=clock)
    assert _audit_rows(db) == before


def test_a_served_chart_refuses_writes(db: Database, clock: FrozenClock) -> None:
    generate_demo_data(db, Actor.command_line("cli:test"), patients=1, seed=1, clock=clock)
    with db.transaction() as session:
        chart = load_chart(session, 1)
        weight = chart.of(WeightMeasurement)[0]
        with serving_chart(session, chart), pytest.raises(RuntimeError, match="reads only"):
            add(session, WeightMeasurement(**{**weight._mapping, "id": None}))
