"""Set-up for the session, schedule and charge tests: personas, and a patient with a course
of a given protocol, a signed order of the protocol's doses and (optionally) its double check.

The rows are written with the store directly (the enrol / plan / sign / double-check use
cases are another part of the services); everything under test goes through the services.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest

from ketaclinic.protocols import get_protocol
from ketaclinic.services import Actor
from ketaclinic.services.testing import FrozenClock, add_personas
from ketaclinic.store import (
    Chair,
    CourseStatusEvent,
    Database,
    Demographics,
    DoubleCheck,
    Order,
    OrderSignature,
    Patient,
    TreatmentCourse,
    WeightMeasurement,
)

WEIGHT_KG = 70.0


@dataclass(frozen=True)
class Chart:
    patient_id: int
    course_id: int
    order_id: int


@pytest.fixture
def people(db: Database, clock: FrozenClock) -> dict[str, Actor]:
    return add_personas(db, clock)


@pytest.fixture
def chairs(db: Database, clock: FrozenClock) -> list[int]:
    with db.transaction() as session:
        rows = [Chair(name=f"chair {k}", created_at=clock()) for k in (1, 2)]
        session.add_all(rows)
        session.flush()
        return [int(r.id) for r in rows]


MakeChart = Callable[..., Chart]


@pytest.fixture
def make_chart(db: Database, clock: FrozenClock, people: dict[str, Actor]) -> MakeChart:
    counter = [0]

    def make(
        protocol_id: str = "depression-iv",
        *,
        signed: bool = True,
        double_check: str | None = "match",
        birth_date: date = date(1980, 5, 17),
    ) -> Chart:
        counter[0] += 1
        physician = people["dr.adams"].user_id
        checker = people["nurse.clark"].user_id
        assert physician is not None
        assert checker is not None
        protocol = get_protocol(protocol_id)
        now = clock()
        with db.transaction() as session:
            patient = Patient(mrn=f"T{counter[0]:04d}", created_at=now, created_by_id=physician)
            session.add(patient)
            session.flush()
            who = {"patient_id": patient.id, "recorded_at": now, "recorded_by_id": physician}
            session.add_all(
                [
                    Demographics(
                        given_name="Test",
                        family_name=f"Patient {counter[0]}",
                        birth_date=birth_date,
                        sex_at_birth="female",
                        **who,
                    ),
                    WeightMeasurement(measured_on=now.date(), weight_kg=WEIGHT_KG, **who),
                ]
            )
            course = TreatmentCourse(
                indication=protocol.category,
                protocol_id=protocol.id,
                protocol_version="1",
                trial_criteria={"instrument_id": protocol.trial.instrument_id},
                planned_start_on=now.date(),
                **who,
            )
            session.add(course)
            session.flush()
            session.add(
                CourseStatusEvent(
                    course_id=course.id, status="active", reason="start", effective_at=now, **who
                )
            )
            doses = [item.dose.to_json() for item in protocol.dose_rule.doses]
            order = Order(
                course_id=course.id,
                doses=doses,
                findings=[],
                plan={"doses": doses},
                drug_library_version="test",
                weight_kg=WEIGHT_KG,
                **who,
            )
            session.add(order)
            session.flush()
            if signed:
                session.add(
                    OrderSignature(order_id=order.id, signed_by_id=physician, signed_at=now, **who)
                )
            if double_check is not None:
                session.add(
                    DoubleCheck(
                        order_id=order.id,
                        checker_id=checker,
                        entered_weight_kg=WEIGHT_KG,
                        entered_doses=doses,
                        result=double_check,
                        differences=None
                        if double_check == "match"
                        else [{"field": "weight_kg", "ordered": 70.0, "entered": 77.0}],
                        checked_at=now,
                        **who,
                    )
                )
            return Chart(int(patient.id), int(course.id), int(order.id))

    return make
