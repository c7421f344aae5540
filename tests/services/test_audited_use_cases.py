"""A use case is one transaction: its records and its audit events commit together."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ketaclinic.config import load_settings
from ketaclinic.errors import UserInputError
from ketaclinic.services import Actor, audited_transaction, open_clinic_database, verify_audit
from ketaclinic.services.testing import FrozenClock, add_patient_with_course, add_personas
from ketaclinic.store import AuditEvent, Database, Patient, current_revision, head_revision


def test_an_audit_event_says_who_what_when_where_and_why(db: Database, clock: FrozenClock) -> None:
    physician = add_personas(db, clock)["dr.adams"]
    with audited_transaction(db, physician, clock) as uc:
        assert physician.user_id is not None
        patient = add_patient_with_course(
            uc.session, recorded_by_id=physician.user_id, now=uc.now, mrn="W1"
        )
        uc.audit(
            "order.override",
            record_type="orders",
            record_id=7,
            patient_id=patient,
            reason="severe pain, soft limit exceeded on purpose",
            details={"finding": "DOSE_ABOVE_SOFT_LIMIT"},
        )
    with db.snapshot() as session:
        event = session.scalars(select(AuditEvent)).one()
    assert (event.actor_username, event.actor_user_id, event.client_address) == (
        "dr.adams",
        physician.user_id,
        "127.0.0.1",
    )
    assert (event.action, event.record_type, event.record_id, event.patient_id) == (
        "order.override",
        "orders",
        7,
        patient,
    )
    assert event.reason == "severe pain, soft limit exceeded on purpose"
    assert event.occurred_at == clock()
    assert event.details == {"finding": "DOSE_ABOVE_SOFT_LIMIT"}
    assert verify_audit(db).ok


def test_a_failed_use_case_leaves_neither_record_nor_audit_event(
    db: Database, clock: FrozenClock
) -> None:
    nurse = add_personas(db, clock)["nurse.brown"]
    assert nurse.user_id is not None

    def enrol_then_fail() -> None:
        with audited_transaction(db, nurse, clock) as uc:
            add_patient_with_course(
                uc.session, recorded_by_id=nurse.user_id or 0, now=uc.now, mrn="F1"
            )
            uc.audit("patient.enrol", record_type="patients")
            raise UserInputError("weight 700 kg is outside the accepted range 2-300 kg")

    with pytest.raises(UserInputError):
        enrol_then_fail()
    with db.snapshot() as session:
        assert session.scalars(select(Patient)).all() == []
        assert session.scalars(select(AuditEvent)).all() == []


@pytest.mark.parametrize(
    ("username", "address"), [("", "cli"), ("x" * 65, "cli"), ("dr.a", ""), ("dr.a", "a" * 101)]
)
def test_an_actor_needs_a_name_and_an_address(username: str, address: str) -> None:
    with pytest.raises(UserInputError, match="actor needs"):
        Actor(username, address)


def test_the_clock_must_be_aware(db: Database) -> None:
    from datetime import datetime

    with (
        pytest.raises(ValueError, match="timezone-aware"),
        audited_transaction(db, Actor.command_line("cli:test"), lambda: datetime(2026, 1, 1)),
    ):
        pass


def test_start_up_applies_pending_migrations(tmp_path: Path, clock: FrozenClock) -> None:
    settings = load_settings(data_dir=tmp_path / "new")
    db = open_clinic_database(settings, clock=clock)
    try:
        assert current_revision(db) == head_revision()
        report = verify_audit(db)
        assert (report.ok, report.events_checked) == (True, 1)  # the upgrade is audited
    finally:
        db.close()


def test_start_up_can_leave_the_schema_alone(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "new", upgrade_on_start=False)
    db = open_clinic_database(settings)
    try:
        assert current_revision(db) is None
    finally:
        db.close()
