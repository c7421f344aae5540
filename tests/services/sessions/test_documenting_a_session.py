"""Documenting a session: doses given as Dose values, vitals (implausible refused, severe BP
flagged), MOAA/S and CADSS-6, adverse events; administration only after the double check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from ketaclinic.errors import (
    NotAllowedError,
    OutOfRangeError,
    RecordNotFoundError,
    RefusedError,
    UserInputError,
)
from ketaclinic.pharmacology import parse_dose
from ketaclinic.services import (
    Actor,
    VitalsReading,
    record_adverse_event,
    record_dose,
    record_session_score,
    record_vitals,
    start_session,
    verify_audit,
)
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import (
    AdverseEvent,
    AuditEvent,
    Database,
    DoseGiven,
    SessionScore,
    TreatmentSession,
    VitalSigns,
)

MakeChart = Callable[..., Any]


def _count(db: Database, model: type) -> int:
    with db.snapshot() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_session_records_what_was_given_and_seen_and_audits_each_step(
    db: Database, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    nurse = people["nurse.brown"]
    chart = make_chart("depression-iv")
    sid = start_session(db, nurse, clock=clock, order_id=chart.order_id, lot_number="KET-2026-17")
    dose_id = record_dose(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        given_at=clock(),
        dose=parse_dose("iv-infusion 0.5 mg/kg over 40 min at 0 min"),
    )
    clock.advance(minutes=40)
    vitals = record_vitals(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        reading=VitalsReading(clock(), 142, 88, 80, 14, 97.0),
    )
    moaas = record_session_score(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        instrument_id="moaa-s",
        answers=[4],
        measured_at=clock(),
    )
    cadss = record_session_score(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        instrument_id="CADSS-6",
        answers=[1, 2, 0, 1, 0, 1],
        measured_at=clock(),
    )
    event = record_adverse_event(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        onset_at=clock(),
        term="nausea",
        severity="mild",
        outcome="resolved",
        action_taken="ondansetron 4 mg IV",
    )
    assert vitals.flags == ()
    assert (moaas.total, cadss.total) == (4.0, 5.0)
    with db.snapshot() as session:
        visit = session.get(TreatmentSession, sid)
        dose = session.get(DoseGiven, dose_id)
        scores = session.scalars(select(SessionScore).order_by(SessionScore.id)).all()
        ae = session.get(AdverseEvent, event)
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert visit is not None
    assert dose is not None
    assert ae is not None
    assert (visit.route, visit.lot_number, visit.multi_day) == ("iv", "KET-2026-17", False)
    assert (dose.kind, dose.amount_mg, dose.rate_mg_per_h) == ("infusion_start", 35.0, 52.5)
    assert dose.dose == parse_dose("iv-infusion 0.5 mg/kg over 40 min at 0 min").to_json()
    assert [(s.instrument_id, s.score) for s in scores] == [("moaas", 4), ("cadss6", 5)]
    assert (ae.severity, ae.outcome, ae.action_taken) == ("mild", "resolved", "ondansetron 4 mg IV")
    assert actions == [
        "session.start",
        "session.dose.infusion_start",
        "session.vitals.record",
        "session.score.record",
        "session.score.record",
        "session.adverse_event.record",
    ]
    assert verify_audit(db).ok


@pytest.mark.parametrize(
    ("signed", "double_check", "reason"),
    [
        (False, "match", "is not signed"),
        (True, None, "has no independent double check"),
        (True, "mismatch", "did not match"),
    ],
)
def test_administration_is_refused_until_the_order_is_signed_and_double_checked(
    db: Database,
    clock: FrozenClock,
    people: dict[str, Actor],
    make_chart: MakeChart,
    signed: bool,
    double_check: str | None,
    reason: str,
) -> None:
    nurse = people["nurse.brown"]
    chart = make_chart("depression-iv", signed=signed, double_check=double_check)
    sid = start_session(db, nurse, clock=clock, order_id=chart.order_id, lot_number="L1")
    audit_before = _count(db, AuditEvent)
    with pytest.raises(RefusedError, match=f"administration refused: .*{reason}"):
        record_dose(
            db,
            nurse,
            clock=clock,
            session_id=sid,
            given_at=clock(),
            dose="iv-infusion 0.5 mg/kg over 40 min at 0 min",
        )
    assert _count(db, DoseGiven) == 0
    assert _count(db, AuditEvent) == audit_before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("systolic_mmhg", 400, "systolic blood pressure 400 mmHg is outside the accepted range"),
        ("diastolic_mmhg", 5, "diastolic blood pressure 5 mmHg is outside the accepted range"),
        ("heart_rate_per_min", 0, "heart rate 0 /min is outside the accepted range 20-250"),
        ("respiratory_rate_per_min", 120, "respiratory rate 120 /min is outside"),
        ("spo2_percent", 101, "SpO2 101 % is outside the accepted range 50-100 %"),
        ("spo2_percent", float("nan"), "SpO2 nan % is outside"),
    ],
)
def test_implausible_vitals_are_refused_naming_the_accepted_range(
    db: Database,
    clock: FrozenClock,
    people: dict[str, Actor],
    make_chart: MakeChart,
    field: str,
    value: float,
    message: str,
) -> None:
    nurse = people["nurse.brown"]
    sid = start_session(db, nurse, clock=clock, order_id=make_chart().order_id, lot_number="L1")
    values = {"systolic_mmhg": 120, "diastolic_mmhg": 80, "spo2_percent": 98.0, field: value}
    with pytest.raises(OutOfRangeError, match=message):
        record_vitals(
            db, nurse, clock=clock, session_id=sid, reading=VitalsReading(clock(), **values)
        )
    assert _count(db, VitalSigns) == 0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"systolic_mmhg": 80, "diastolic_mmhg": 120}, "diastolic must be below the systolic"),
        ({"systolic_mmhg": 120}, "needs both systolic_mmhg and diastolic_mmhg"),
        ({}, "needs at least one of"),
    ],
)
def test_an_inconsistent_reading_is_refused(
    db: Database,
    clock: FrozenClock,
    people: dict[str, Actor],
    make_chart: MakeChart,
    values: dict[str, float],
    message: str,
) -> None:
    nurse = people["nurse.brown"]
    sid = start_session(db, nurse, clock=clock, order_id=make_chart().order_id, lot_number="L1")
    with pytest.raises(UserInputError, match=message):
        record_vitals(
            db, nurse, clock=clock, session_id=sid, reading=VitalsReading(clock(), **values)
        )


def test_a_severe_blood_pressure_is_recorded_and_flagged(
    db: Database, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    nurse = people["nurse.brown"]
    sid = start_session(db, nurse, clock=clock, order_id=make_chart().order_id, lot_number="L1")
    recorded = record_vitals(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        reading=VitalsReading(clock(), 184, 96, 90, 16, 97.0),
    )
    assert [f.code for f in recorded.flags] == ["vitals.severe_hypertension"]
    assert "184/96 mmHg" in recorded.flags[0].message
    assert "Hartle 2016" in recorded.flags[0].source
    with db.snapshot() as session:
        row = session.get(VitalSigns, recorded.vitals_id)
    assert row is not None
    assert (row.systolic_mmhg, row.diastolic_mmhg) == (184, 96)


@pytest.mark.parametrize("persona", ["outsider", "res.evans", "admin.davis"])
def test_only_active_clinicians_document_a_session(
    db: Database, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart, persona: str
) -> None:
    chart = make_chart()
    with pytest.raises(
        NotAllowedError, match=r"is disabled|documenting a session needs a physician or a nurse"
    ):
        start_session(db, people[persona], clock=clock, order_id=chart.order_id, lot_number="L1")
    stranger = Actor("nobody", "127.0.0.1")
    with pytest.raises(NotAllowedError, match="is not a staff account of this clinic"):
        start_session(db, stranger, clock=clock, order_id=chart.order_id, lot_number="L1")
    assert _count(db, TreatmentSession) == 0


def test_bad_doses_and_times_are_refused_with_what_is_accepted(
    db: Database, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    nurse = people["nurse.brown"]
    sid = start_session(db, nurse, clock=clock, order_id=make_chart().order_id, lot_number="L1")
    with pytest.raises(UserInputError, match="route is sc; this session's order is iv"):
        record_dose(
            db,
            nurse,
            clock=clock,
            session_id=sid,
            given_at=clock(),
            dose="sc-infusion 100 mg/24h for 24 h at 0 min",
        )
    with pytest.raises(UserInputError, match="'at 0 min' with its time in given_at"):
        record_dose(
            db,
            nurse,
            clock=clock,
            session_id=sid,
            given_at=clock(),
            dose="iv-bolus 10 mg every 1 h x 3 at 0 min",
        )
    with pytest.raises(UserInputError, match="is in the future"):
        record_dose(
            db,
            nurse,
            clock=clock,
            session_id=sid,
            given_at=clock() + timedelta(hours=1),
            dose="iv-bolus 10 mg at 0 min",
        )
    with pytest.raises(UserInputError, match="before the session started"):
        record_dose(
            db,
            nurse,
            clock=clock,
            session_id=sid,
            given_at=clock() - timedelta(hours=1),
            dose="iv-bolus 10 mg at 0 min",
        )
    with pytest.raises(UserInputError, match="unknown session instrument 'phq-9'; accepted"):
        record_session_score(
            db,
            nurse,
            clock=clock,
            session_id=sid,
            instrument_id="phq-9",
            answers=[0] * 9,
            measured_at=clock(),
        )
    with pytest.raises(OutOfRangeError, match="responsiveness"):
        record_session_score(
            db,
            nurse,
            clock=clock,
            session_id=sid,
            instrument_id="moaa-s",
            answers=[7],
            measured_at=clock(),
        )
    with pytest.raises(UserInputError, match="severity 'awful' is not accepted; accepted: mild"):
        record_adverse_event(
            db,
            nurse,
            clock=clock,
            session_id=sid,
            onset_at=clock(),
            term="x",
            severity="awful",
            outcome="resolved",
        )
    with pytest.raises(RecordNotFoundError, match="no treatment_sessions record has id 999"):
        record_vitals(
            db, nurse, clock=clock, session_id=999, reading=VitalsReading(clock(), 120, 80)
        )
    assert _count(db, DoseGiven) + _count(db, SessionScore) + _count(db, AdverseEvent) == 0


def test_each_nasal_device_is_recorded_on_its_own(
    db: Database, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    nurse = people["nurse.brown"]
    sid = start_session(
        db, nurse, clock=clock, order_id=make_chart("esketamine-nasal").order_id, lot_number="E1"
    )
    with pytest.raises(UserInputError, match="accepted: 'intranasal 28 mg at 0 min'"):
        record_dose(
            db,
            nurse,
            clock=clock,
            session_id=sid,
            given_at=clock(),
            dose="intranasal 56 mg at 0 min",
        )
    record_dose(
        db, nurse, clock=clock, session_id=sid, given_at=clock(), dose="intranasal 28 mg at 0 min"
    )
    with db.snapshot() as session:
        (row,) = session.scalars(select(DoseGiven)).all()
    assert (row.kind, row.amount_mg) == ("device", 28.0)
