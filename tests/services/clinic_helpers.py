"""Shared by the clinical use-case tests: personas, a typical enrolment, row counts."""

from __future__ import annotations

from datetime import date
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
