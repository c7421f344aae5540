"""The clinic's price list as versioned settings: the built-in DEMO list until a clinic
manager (admin) sets one; a new version never rewrites a past charge; charges and estimates
read the current version; bad prices are refused and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from ketaclinic.errors import NotAllowedError, UserInputError
from ketaclinic.services import (
    DEMO_LABEL,
    Actor,
    charge_session,
    clinic_price_list,
    discharge,
    price_list_history,
    record_dose,
    set_clinic_prices,
    start_session,
    verify_audit,
)
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import AuditEvent, Charge, ClinicPriceList, Database, row_counts

MakeChart = Callable[..., Any]
DOSE = "iv-infusion 35 mg over 40 min at 0 min"


def _charged_session(
    db: Database, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> Any:
    nurse = people["nurse.brown"]
    chart = make_chart("depression-iv")
    sid = start_session(db, nurse, clock=clock, order_id=chart.order_id, lot_number="P1")
    record_dose(db, nurse, clock=clock, session_id=sid, given_at=clock(), dose=DOSE)
    clock.advance(minutes=60)
    discharge(db, nurse, clock=clock, session_id=sid, decision="transferred", reason="ward")
    return charge_session(db, nurse, clock=clock, session_id=sid)


def test_a_new_clinic_prices_with_the_labelled_demo_list(db: Database) -> None:
    current = clinic_price_list(db)
    assert (current.version, current.demo, current.label) == (0, True, DEMO_LABEL)
    assert "DEMO" in current.to_dict()["label"]
    assert "not published prices" in current.label
    assert current.to_dict()["units"]["chair_per_15_min_minor"].startswith("minor units per")


def test_a_price_change_is_a_new_version_and_past_charges_keep_their_prices(
    db: Database, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    admin = people["admin.davis"]
    before = _charged_session(db, clock, people, make_chart)
    assert before.price_list_version == 0
    assert before.items[1]["unit_price_minor"] == 2_500  # chair time, demo list
    clock.advance(minutes=5)
    v1 = set_clinic_prices(
        db, admin, {"chair_per_15_min_minor": 3_000}, reason="2026 tariff", clock=clock
    )
    assert (v1.version, v1.demo, v1.set_by, v1.reason) == (1, False, "admin.davis", "2026 tariff")
    assert v1.prices.chair_per_15_min_minor == 3_000
    assert v1.prices.monitoring_per_session_minor == 6_000  # unchanged fields carried over
    after = _charged_session(db, clock, people, make_chart)
    assert (after.price_list_version, after.items[1]["unit_price_minor"]) == (1, 3_000)
    v2 = set_clinic_prices(db, admin, {"currency": "CHF"}, reason="moved", clock=clock)
    assert v2.version == 2
    with db.snapshot() as session:
        rows = {
            c.id: (c.unit_price_minor, c.price_list_id, c.currency)
            for c in session.scalars(select(Charge).where(Charge.category == "chair_time"))
        }
        stored = session.scalars(select(ClinicPriceList).order_by(ClinicPriceList.id)).all()
    assert sorted(rows.values()) == [(2_500, None, "EUR"), (3_000, 1, "EUR")]
    assert [r.chair_per_15_min_minor for r in stored] == [3_000, 3_000]
    assert [v.version for v in price_list_history(db)] == [0, 1, 2]
    assert clinic_price_list(db).prices.currency == "CHF"
    assert verify_audit(db).ok


@pytest.mark.parametrize("persona", ["dr.adams", "nurse.brown", "res.evans", "outsider"])
def test_only_the_role_holding_prices_set_may_change_prices(
    db: Database, clock: FrozenClock, people: dict[str, Actor], persona: str
) -> None:
    with db.snapshot() as session:
        before = row_counts(session)
    with pytest.raises(NotAllowedError):
        set_clinic_prices(db, people[persona], {"currency": "USD"}, reason="x", clock=clock)
    with db.snapshot() as session:
        assert row_counts(session) == before


@pytest.mark.parametrize(
    ("changes", "reason", "message"),
    [
        ({}, "r", "give at least one price"),
        ({"chair": 1}, "r", "chair is not a price; accepted: currency"),
        ({"currency": "euro"}, "r", "currency 'euro' is not accepted"),
        ({"ketamine_vial_minor": 12.5}, "r", "a whole number"),
        ({"ketamine_vial_minor": -1}, "r", "ketamine_vial_minor -1 is outside the accepted range"),
        ({"ketamine_vial_mg": 0}, "r", "ketamine_vial_mg 0.0 is not accepted; accepted: above 0"),
        ({"patients_per_nurse": 0}, "r", "patients_per_nurse 0 is not accepted"),
        ({"currency": "USD"}, " ", "a reason for the price change is needed"),
    ],
)
def test_bad_prices_are_refused_with_what_is_accepted_and_change_nothing(
    db: Database,
    clock: FrozenClock,
    people: dict[str, Actor],
    changes: dict[str, Any],
    reason: str,
    message: str,
) -> None:
    with pytest.raises(UserInputError, match=message):
        set_clinic_prices(db, people["admin.davis"], changes, reason=reason, clock=clock)
    assert clinic_price_list(db).version == 0
    with db.snapshot() as session:
        assert (
            session.scalars(select(AuditEvent).where(AuditEvent.action == "prices.set")).first()
            is None
        )
