"""Charges per session (drug, chair time, monitoring, staff) and payments, in minor units."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ketaclinic.errors import NotAllowedError, OutOfRangeError, RefusedError, UserInputError
from ketaclinic.services import (
    Actor,
    add_charge,
    charge_session,
    discharge,
    patient_account,
    record_dose,
    record_payment,
    set_clinic_prices,
    start_session,
)
from ketaclinic.services.testing import FrozenClock

MakeChart = Callable[..., Any]


def test_a_session_is_charged_once_for_drug_chair_monitoring_and_staff(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    nurse, admin = people["nurse.brown"], people["admin.davis"]
    chart = make_chart("depression-iv")
    sid = start_session(db, nurse, clock=clock, order_id=chart.order_id, lot_number="L1")
    with pytest.raises(RefusedError, match="has not ended"):
        charge_session(db, admin, clock=clock, session_id=sid)
    record_dose(
        db,
        nurse,
        clock=clock,
        session_id=sid,
        given_at=clock(),
        dose="iv-infusion 35 mg over 40 min at 0 min",
    )
    clock.advance(minutes=60)
    discharge(db, nurse, clock=clock, session_id=sid, decision="transferred", reason="ward")
    charged = charge_session(db, admin, clock=clock, session_id=sid)
    assert [(i["category"], i["quantity"], i["amount_minor"]) for i in charged.items] == [
        ("drug", 1.0, 1_500),
        ("chair_time", 4.0, 10_000),
        ("monitoring", 1.0, 6_000),
        ("staff", 0.5, 3_000),
    ]
    assert (charged.total_minor, charged.currency) == (20_500, "EUR")
    with pytest.raises(RefusedError, match="already charged"):
        charge_session(db, admin, clock=clock, session_id=sid)
    record_payment(
        db,
        admin,
        clock=clock,
        patient_id=chart.patient_id,
        amount_minor=15_000,
        currency="EUR",
        method="card",
        reference="POS 1181",
    )
    account = patient_account(db, admin, clock=clock, patient_id=chart.patient_id)
    assert account.balance_minor == {"EUR": 5_500}
    assert (account.charges, account.payments) == (4, 1)


def test_esketamine_is_charged_per_28_mg_device(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    nurse = people["nurse.brown"]
    chart = make_chart("esketamine-nasal")
    sid = start_session(db, nurse, clock=clock, order_id=chart.order_id, lot_number="E1")
    for _ in range(3):
        record_dose(
            db,
            nurse,
            clock=clock,
            session_id=sid,
            given_at=clock(),
            dose="intranasal 28 mg at 0 min",
        )
        clock.advance(minutes=5)
    clock.advance(minutes=120)
    discharge(db, nurse, clock=clock, session_id=sid, decision="admitted", reason="observation")
    changes = {"currency": "USD", "esketamine_device_minor": 30_000}
    set_clinic_prices(db, people["admin.davis"], changes, reason="USD clinic", clock=clock)
    charged = charge_session(db, nurse, clock=clock, session_id=sid)
    drug = charged.items[0]
    assert (drug["quantity"], drug["quantity_unit"], drug["amount_minor"]) == (
        3.0,
        "device",
        90_000,
    )
    assert charged.currency == "USD"


def test_bad_money_is_refused_and_outsiders_cannot_bill(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    admin = people["admin.davis"]
    chart = make_chart()
    pid = chart.patient_id
    with pytest.raises(UserInputError, match="currency 'euro' is not accepted; accepted: an ISO"):
        record_payment(
            db, admin, clock=clock, patient_id=pid, amount_minor=100, currency="euro", method="card"
        )
    with pytest.raises(UserInputError, match="whole number of minor units"):
        record_payment(
            db,
            admin,
            clock=clock,
            patient_id=pid,
            amount_minor=12.5,  # type: ignore[arg-type]
            currency="EUR",
            method="card",
        )
    with pytest.raises(OutOfRangeError, match="unit_price_minor -5 is outside the accepted range"):
        add_charge(
            db,
            admin,
            clock=clock,
            patient_id=pid,
            category="other",
            description="x",
            quantity=1,
            quantity_unit="item",
            unit_price_minor=-5,
            currency="EUR",
        )
    with pytest.raises(UserInputError, match="method 'bitcoin' is not accepted"):
        record_payment(
            db,
            admin,
            clock=clock,
            patient_id=pid,
            amount_minor=100,
            currency="EUR",
            method="bitcoin",
        )
    with pytest.raises(NotAllowedError):
        patient_account(db, people["outsider"], clock=clock, patient_id=pid)
    with pytest.raises(NotAllowedError):
        record_payment(
            db,
            people["res.evans"],
            clock=clock,
            patient_id=pid,
            amount_minor=100,
            currency="EUR",
            method="card",
        )
    line = add_charge(
        db,
        admin,
        clock=clock,
        patient_id=pid,
        category="other",
        description="missed-appointment fee",
        quantity=1,
        quantity_unit="item",
        unit_price_minor=2_500,
        currency="EUR",
    )
    assert line > 0
    assert patient_account(db, admin, clock=clock, patient_id=pid).balance_minor == {"EUR": 2_500}
