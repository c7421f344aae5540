"""Shared by the clinical use-case tests: personas, a typical enrolment, row counts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ketaclinic.services import Actor, enrol_patient
from ketaclinic.services.testing import FrozenClock, add_personas
from ketaclinic.store import Database, row_counts

START = date(2026, 3, 4)  # the frozen clock stands at 2026-03-02 09:00 UTC


def personas(db: Database, clock: FrozenClock) -> dict[str, Actor]:
    return add_personas(db, clock)


def enrolment(mrn: str = "A1", **changes: Any) -> dict[str, Any]:
    """A depressed adult with a fresh weight: the depression protocol allows her plan."""
    data: dict[str, Any] = {
        "mrn": mrn,
        "demographics": {
            "given_name": "Ann",
            "family_name": "Lee",
            "birth_date": "1980-05-17",
            "sex_at_birth": "female",
        },
        "weight": {"weight_kg": 72.5, "measured_on": "2026-03-01", "height_cm": 168},
        "diagnoses": [{"icd10cm_code": "F33.2", "free_text": "recurrent major depression"}],
    }
    data.update(changes)
    return data


def enrol(db: Database, actor: Actor, clock: FrozenClock, mrn: str = "A1", **changes: Any) -> int:
    return enrol_patient(db, actor, enrolment(mrn, **changes), clock=clock)


def counts(db: Database) -> dict[str, int]:
    with db.snapshot() as session:
        return row_counts(session)


ALL_INDICATIONS = {
    "diagnoses": [
        {"icd10cm_code": "F33.2", "free_text": "recurrent major depression"},
        {"icd10cm_code": "G90.511", "free_text": "CRPS I, right upper limb"},
        {"icd10cm_code": "C50.911", "free_text": "breast cancer"},
        {"icd10cm_code": "G89.29", "free_text": "other chronic pain"},
    ],
    "pain_treatments": [
        {"treatment": t, "outcome": "no_effect"}
        for t in ("morphine", "ibuprofen", "amitriptyline", "gabapentin")
    ],
}


def ready_order(
    db: Database,
    staff: dict[str, Actor],
    clock: FrozenClock,
    protocol_id: str,
    mrn: str = "A1",
    start: date = START,
) -> tuple[int, int, int]:
    """A patient with every indication, a planned course of ``protocol_id``, its order signed
    (with a reason for any overridable finding) and double-checked. (patient, course, order)"""
    from ketaclinic.services import double_check_order, plan_course, sign_order

    patient_id = enrol(db, staff["nurse.brown"], clock, mrn=mrn, **ALL_INDICATIONS)
    planned = plan_course(db, staff["dr.adams"], patient_id, protocol_id, start, clock=clock)
    assert not planned.hard_stops, planned.findings
    overrides = dict.fromkeys(planned.needs_override, "reviewed for the test")
    sign_order(db, staff["dr.adams"], planned.order_id, overrides, clock=clock)
    doses = [d["dose"]["text"] for d in planned.doses]
    check = double_check_order(
        db, staff["nurse.clark"], planned.order_id, planned.weight_kg, doses, clock=clock
    )
    assert check.matched
    return patient_id, planned.course_id, planned.order_id


def give_session(
    db: Database,
    actor: Actor,
    clock: FrozenClock,
    order_id: int,
    at: datetime,
    doses: list[str] | None = None,
) -> int:
    """A session started at ``at`` (the clock moves there) with ``doses`` given at its start."""
    from ketaclinic.services import record_dose, start_session

    clock.at = at
    session_id = start_session(db, actor, clock=clock, order_id=order_id, lot_number="LOT-1")
    for dose in doses or []:
        record_dose(db, actor, clock=clock, session_id=session_id, given_at=at, dose=dose)
    return session_id
