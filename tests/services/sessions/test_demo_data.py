"""The demo clinic: deterministic for a seed, audited, valid by the services' own rules."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ketaclinic.cli import app
from ketaclinic.errors import OutOfRangeError, RefusedError, UserInputError
from ketaclinic.protocols import protocols
from ketaclinic.services import (
    DEMO_STAFF,
    Actor,
    dashboard_alerts,
    discharge_readiness,
    generate_demo_data,
    verify_audit,
)
from ketaclinic.services.testing import FrozenClock, discard_database, make_database
from ketaclinic.store import (
    METADATA,
    AdverseEvent,
    AuditEvent,
    CourseStatusEvent,
    Discharge,
    OpioidUse,
    ScheduleEntry,
    TreatmentCourse,
    TreatmentSession,
    TrialDecisionRecord,
    course_status,
    table_digest,
)

CLI = Actor.command_line("cli:test")


def _digests(db: Any) -> dict[str, str]:
    with db.snapshot() as session:
        return {t.name: table_digest(session, t).sha256 for t in METADATA.sorted_tables}


def test_the_same_seed_gives_the_same_clinic_and_another_seed_another(
    backend: str, tmp_path: Path, clock: FrozenClock
) -> None:
    made = []
    for seed in (7, 7, 8):
        db, _ = make_database(tmp_path, backend)
        try:
            generate_demo_data(db, CLI, patients=30, seed=seed, clock=clock)
            made.append(_digests(db))
        finally:
            discard_database(db)
    assert made[0] == made[1]
    assert made[0]["treatment_sessions"] != made[2]["treatment_sessions"]


def test_a_demo_clinic_has_every_indication_outcome_and_harm_and_audits_each_patient(
    db: Any, clock: FrozenClock
) -> None:
    result = generate_demo_data(db, CLI, patients=200, seed=1, clock=clock)
    assert result.patients == 200
    assert result.sessions > 1000
    with db.snapshot() as session:
        courses = session.scalars(select(TreatmentCourse)).all()
        statuses = {c.id: course_status(session, c.id).status for c in courses}  # type: ignore[union-attr]
        sessions = session.execute(select(func.count()).select_from(TreatmentSession)).scalar()
        harms = session.scalars(select(AdverseEvent.term)).all()
        opioids = session.execute(select(func.count()).select_from(OpioidUse)).scalar()
        audited = session.scalars(
            select(AuditEvent.patient_id).where(AuditEvent.action == "demo.patient.generate")
        ).all()
        stopped = session.scalars(
            select(CourseStatusEvent.reason).where(CourseStatusEvent.status == "stopped")
        ).all()
    assert sessions == result.sessions == result.rows["treatment_sessions"]
    assert {c.protocol_id for c in courses} == set(protocols())
    assert {"maintenance", "stopped", "completed", "active"} <= set(statuses.values())
    assert any("no response" in r for r in stopped)
    assert any("partial response" in r for r in stopped)
    assert "hypertension (severe)" in harms
    assert 0.01 < harms.count("nausea") / sessions < 0.12
    assert opioids > 100
    assert sorted(audited) == list(range(1, 201))
    assert verify_audit(db).ok


def test_every_demo_trial_at_its_decision_point_is_decided_and_the_course_follows(
    db: Any, clock: FrozenClock
) -> None:
    """A demo physician records each trial decision as the evaluation recommends, at the
    trial's decision point (baseline inside the trial's window, follow-up at or after the
    point): the course's status agrees with it, and the dashboard holds no stale 'trial
    decision due' for decided courses."""
    generate_demo_data(db, CLI, patients=200, seed=1, clock=clock)
    with db.snapshot() as session:
        courses = session.scalars(select(TreatmentCourse)).all()
        statuses = {c.id: course_status(session, c.id).status for c in courses}  # type: ignore[union-attr]
        decisions = {d.course_id: d for d in session.scalars(select(TrialDecisionRecord))}
    closed = [c for c in courses if statuses[c.id] in ("stopped", "completed", "maintenance")]
    assert {c.protocol_id for c in closed if c.id in decisions} == set(protocols())
    assert all(c.id in decisions for c in closed)
    for course_id, decision in decisions.items():
        assert decision.decision == decision.recommendation == decision.evaluation["recommendation"]
        expected = ("stopped",) if decision.decision != "continue" else ("maintenance", "completed")
        assert statuses[course_id] in expected
    physician = Actor(username="demo.dr.ames", client_address="test")
    due = dashboard_alerts(db, physician, clock().date(), clock=clock)
    assert not [a for a in due if a.kind == "trial_decision_due" and a.course_id in decisions]


def test_every_demo_discharge_passes_the_discharge_gate(db: Any, clock: FrozenClock) -> None:
    generate_demo_data(db, CLI, patients=40, seed=2, clock=clock)
    nurse = Actor("demo.rn.diaz", "127.0.0.1")
    with db.snapshot() as session:
        done = session.execute(select(Discharge.session_id, Discharge.decided_at)).all()
    for session_id, decided_at in random.Random(5).sample(done, 25):
        readiness = discharge_readiness(
            db, nurse, clock=clock, session_id=session_id, at=decided_at
        )
        assert readiness.ready, (session_id, readiness.explain())


def test_demo_data_fills_only_an_empty_clinic_and_checks_its_arguments(
    db: Any, clock: FrozenClock
) -> None:
    with pytest.raises(OutOfRangeError, match="0 patients is outside the accepted range 1-100000"):
        generate_demo_data(db, CLI, patients=0, seed=1, clock=clock)
    with pytest.raises(UserInputError, match="seed -1 is not accepted; accepted: 0 to"):
        generate_demo_data(db, CLI, patients=5, seed=-1, clock=clock)
    generate_demo_data(db, CLI, patients=5, seed=1, clock=clock)
    with pytest.raises(
        RefusedError, match="demo-data fills an empty clinic; this database holds 5"
    ):
        generate_demo_data(db, CLI, patients=5, seed=1, clock=clock)


def test_the_demo_data_command_makes_a_clinic_and_refuses_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(tmp_path / "clinic"))
    monkeypatch.delenv("KETACLINIC_DATABASE_URL", raising=False)
    runner = CliRunner()
    first = runner.invoke(
        app, ["demo-data", "--patients", "12", "--seed", "4", "--as-of", "2026-03-02", "--json"]
    )
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert (data["patients"], data["seed"], data["as_of"]) == (12, 4, "2026-03-02")
    assert data["sessions"] == data["rows"]["treatment_sessions"]
    again = runner.invoke(app, ["demo-data", "--patients", "12"])
    assert again.exit_code == 3
    assert "demo-data fills an empty clinic" in again.stderr
    bad = runner.invoke(app, ["demo-data", "--as-of", "tomorrow"])
    assert bad.exit_code == 2
    assert "accepted: YYYY-MM-DD" in bad.stderr
    assert set(DEMO_STAFF) >= {"demo.dr.ames", "demo.rn.diaz", "demo.admin"}


def test_demo_bookings_keep_to_one_session_per_chair_at_a_time(db: Any, clock: FrozenClock) -> None:
    generate_demo_data(db, CLI, patients=120, seed=3, clock=clock)
    with db.snapshot() as session:
        entries = session.execute(
            select(
                ScheduleEntry.id,
                ScheduleEntry.chair_id,
                ScheduleEntry.starts_at,
                ScheduleEntry.ends_at,
            )
            .where(ScheduleEntry.entered_in_error.is_(False))
            .order_by(ScheduleEntry.chair_id, ScheduleEntry.starts_at)
        ).all()
        given = session.execute(
            select(TreatmentSession.chair_id, ScheduleEntry.chair_id).join(
                ScheduleEntry, ScheduleEntry.id == TreatmentSession.schedule_entry_id
            )
        ).all()
    assert len(entries) > 1000
    assert len({e.chair_id for e in entries}) == 3  # 120 patients, 40 a chair
    clashes = [
        (before.id, after.id)
        for before, after in itertools.pairwise(entries)
        if before.chair_id == after.chair_id and after.starts_at < before.ends_at
    ]
    assert clashes == []
    assert given
    assert all(session_chair == booked for session_chair, booked in given)


# Times that lie ahead by nature: bookings, checks due, a price list's or a session's planned
# window. Every other time stamps something that happened.
_PLANNED = {"scheduled_start_at", "due_at", "starts_at", "ends_at", "effective_at"}


def test_a_demo_made_during_the_day_has_nothing_after_the_clock(
    db: Any, clock: FrozenClock
) -> None:
    """The demo's day ends at 18:00 UTC, but a demo made at 09:00 stops at 09:00: a session
    documented at 14:00 would lie in the future, which the services themselves refuse (the
    old generator stamped 18 kinds of record after the clock)."""
    from ketaclinic.store._types import UTCDateTime

    assert clock().hour < 18
    generate_demo_data(db, CLI, patients=60, seed=4, clock=clock)
    late = {}
    with db.snapshot() as session:
        for table in METADATA.sorted_tables:
            for column in table.c:
                if isinstance(column.type, UTCDateTime) and column.name not in _PLANNED:
                    count = session.execute(
                        select(func.count()).select_from(table).where(column > clock())
                    ).scalar_one()
                    if count:
                        late[f"{table.name}.{column.name}"] = count
    assert late == {}
