"""Charges per session (drug, chair time, monitoring, staff) and payments.

Money is integer minor units (cents) of an ISO 4217 currency, never a float. A session is
priced with the clinic's current price list (``_prices``: versioned clinic settings, the
built-in DEMO list until a clinic manager sets one); each charge keeps its unit price and the
version that priced it, so a later price change never rewrites it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ketaclinic.errors import RefusedError, UserInputError
from ketaclinic.pharmacology import Route
from ketaclinic.services._audit import Actor, Clock, UseCase, audited_transaction, utc_now
from ketaclinic.services._clinical import (
    checked_instant,
    current_rows,
    load_session,
    who,
)
from ketaclinic.services._discharge import dosing_times
from ketaclinic.services._inputs import authorize
from ketaclinic.services._permissions import Permission
from ketaclinic.services._prices import PriceList, currency_code, current_prices, money_minor
from ketaclinic.store import Charge, Database, DoseGiven, Payment, get_patient

__all__ = [
    "CHARGE_CATEGORIES",
    "PAYMENT_METHODS",
    "Account",
    "PriceList",
    "SessionCharges",
    "add_charge",
    "charge_session",
    "patient_account",
    "record_payment",
]

CHARGE_CATEGORIES = ("drug", "chair_time", "monitoring", "staff", "other")
PAYMENT_METHODS = ("cash", "card", "transfer", "insurance", "other")


@dataclass(frozen=True)
class SessionCharges:
    session_id: int
    charge_ids: tuple[int, ...]
    items: tuple[dict[str, Any], ...]
    total_minor: int
    currency: str
    #: the price list version that priced it (0: the built-in DEMO list)
    price_list_version: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "charge_ids": list(self.charge_ids),
            "items": list(self.items),
            "total_minor": self.total_minor,
            "currency": self.currency,
            "price_list_version": self.price_list_version,
        }


def session_items(
    route: str, given_mg: float, chair_min: float, prices: PriceList
) -> list[dict[str, Any]]:
    """The charge lines of one session (before they are stored)."""
    items: list[dict[str, Any]] = []
    if given_mg > 0:
        if route == str(Route.INTRANASAL):
            devices = math.ceil(given_mg / 28.0 - 1e-9)
            items.append(
                _item(
                    "drug",
                    "esketamine nasal device 28 mg",
                    devices,
                    "device",
                    prices.esketamine_device_minor,
                )
            )
        else:
            vials = math.ceil(given_mg / prices.ketamine_vial_mg - 1e-9)
            items.append(
                _item(
                    "drug",
                    f"ketamine vial {prices.ketamine_vial_mg:g} mg",
                    vials,
                    "vial",
                    prices.ketamine_vial_minor,
                )
            )
    slots = max(1, math.ceil(chair_min / 15.0 - 1e-9))
    items.append(
        _item(
            "chair_time",
            "chair time (per started 15 min)",
            slots,
            "15 min",
            prices.chair_per_15_min_minor,
        )
    )
    items.append(
        _item(
            "monitoring",
            "monitoring (vital signs, pulse oximetry, scales)",
            1,
            "session",
            prices.monitoring_per_session_minor,
        )
    )
    hours = round(chair_min / 60.0 / prices.patients_per_nurse, 2)
    items.append(
        _item(
            "staff",
            f"nurse time (1 nurse : {prices.patients_per_nurse} patients)",
            hours,
            "h",
            prices.nurse_per_hour_minor,
        )
    )
    return items


def _item(category: str, text: str, quantity: float, unit: str, price: int) -> dict[str, Any]:
    return {
        "category": category,
        "description": text,
        "quantity": float(quantity),
        "quantity_unit": unit,
        "unit_price_minor": price,
        "amount_minor": round(quantity * price),
    }


def charge_session(
    db: Database,
    actor: Actor,
    *,
    session_id: int,
    clock: Clock = utc_now,
) -> SessionCharges:
    """Charge an ended session once, at the clinic's current prices: the drug as used, the
    chair time from start to end, monitoring and staff time."""
    with audited_transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.CHARGES_RECORD, "charging a session")
        ctx = load_session(uc.session, session_id)
        start, end = ctx.visit.actual_start_at, ctx.visit.actual_end_at
        if start is None or end is None:
            raise RefusedError(f"session {session_id} has not ended: charge it after discharge")
        if current_rows(uc.session, Charge, session_id=ctx.session_id):
            raise RefusedError(
                f"session {session_id} is already charged: correct a charge by amending it"
            )
        price_list = current_prices(uc.session)
        prices = price_list.prices
        given = dosing_times(current_rows(uc.session, DoseGiven, session_id=ctx.session_id))
        items = session_items(
            ctx.visit.route, given.given_mg, (end - start).total_seconds() / 60.0, prices
        )
        rows = [
            Charge(
                session_id=ctx.session_id,
                currency=prices.currency,
                price_list_id=price_list.version or None,
                **item,
                **who(uc, user, ctx.patient_id),
            )
            for item in items
        ]
        uc.session.add_all(rows)
        uc.session.flush()
        total = sum(int(r.amount_minor) for r in rows)
        uc.audit(
            "charge.session",
            record_type="charges",
            record_id=rows[0].id,
            patient_id=ctx.patient_id,
            details={
                "session_id": ctx.session_id,
                "total_minor": total,
                "currency": prices.currency,
                "price_list_version": price_list.version,
            },
        )
        return SessionCharges(
            ctx.session_id,
            tuple(int(r.id) for r in rows),
            tuple(items),
            total,
            prices.currency,
            price_list.version,
        )


def add_charge(
    db: Database,
    actor: Actor,
    *,
    patient_id: int,
    category: str,
    description: str,
    quantity: float,
    quantity_unit: str,
    unit_price_minor: int,
    currency: str,
    session_id: int | None = None,
    clock: Clock = utc_now,
) -> int:
    """One charge line (of a session, or of the patient alone)."""
    if category not in CHARGE_CATEGORIES:
        raise UserInputError(
            f"category {category!r} is not accepted; accepted: " + ", ".join(CHARGE_CATEGORIES)
        )
    if not isinstance(description, str) or not 0 < len(description.strip()) <= 200:
        raise UserInputError("a charge needs a description of 1 to 200 characters")
    if not isinstance(quantity_unit, str) or not 0 < len(quantity_unit.strip()) <= 20:
        raise UserInputError("a charge needs a quantity unit of 1 to 20 characters (vial, h...)")
    if not isinstance(quantity, int | float) or not 0 < quantity <= 10_000:
        raise UserInputError(f"quantity {quantity!r} is not accepted; accepted: above 0 to 10000")
    price = money_minor(unit_price_minor, "unit_price_minor")
    amount = money_minor(round(quantity * price), "amount")
    code = currency_code(currency)
    with audited_transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.CHARGES_RECORD, "charging")
        sid = None
        if session_id is not None:
            ctx = load_session(uc.session, session_id)
            if ctx.patient_id != patient_id:
                raise UserInputError(f"session {session_id} is not patient {patient_id}'s")
            sid = ctx.session_id
        else:
            get_patient(uc.session, patient_id)
        row = Charge(
            session_id=sid,
            category=category,
            description=description.strip(),
            quantity=float(quantity),
            quantity_unit=quantity_unit.strip(),
            unit_price_minor=price,
            amount_minor=amount,
            currency=code,
            **who(uc, user, patient_id),
        )
        uc.session.add(row)
        uc.session.flush()
        uc.audit(
            "charge.add",
            record_type="charges",
            record_id=row.id,
            patient_id=patient_id,
            details={"amount_minor": amount, "currency": code},
        )
        return int(row.id)


def record_payment(
    db: Database,
    actor: Actor,
    *,
    patient_id: int,
    amount_minor: int,
    currency: str,
    method: str,
    received_at: datetime | None = None,
    payer: str | None = None,
    reference: str | None = None,
    clock: Clock = utc_now,
) -> int:
    """A payment received for the patient."""
    amount = money_minor(amount_minor, "amount_minor")
    if amount == 0:
        raise UserInputError("a payment of 0 is not accepted; accepted: 1 minor unit or more")
    code = currency_code(currency)
    if method not in PAYMENT_METHODS:
        raise UserInputError(
            f"method {method!r} is not accepted; accepted: " + ", ".join(PAYMENT_METHODS)
        )
    for text, what in ((payer, "payer"), (reference, "reference")):
        if text is not None and not 0 < len(text.strip()) <= 200:
            raise UserInputError(f"{what} must be 1 to 200 characters")
    with audited_transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.CHARGES_RECORD, "recording a payment")
        get_patient(uc.session, patient_id)
        at = uc.now if received_at is None else checked_instant(received_at, "received_at", uc.now)
        row = Payment(
            received_at=at,
            amount_minor=amount,
            currency=code,
            method=method,
            payer=payer.strip() if payer else None,
            reference=reference.strip() if reference else None,
            **who(uc, user, patient_id),
        )
        uc.session.add(row)
        uc.session.flush()
        uc.audit(
            "payment.record",
            record_type="payments",
            record_id=row.id,
            patient_id=patient_id,
            details={"amount_minor": amount, "currency": code},
        )
        return int(row.id)


@dataclass(frozen=True)
class Account:
    """A patient's charges and payments, per currency (minor units)."""

    patient_id: int
    charged_minor: dict[str, int]
    paid_minor: dict[str, int]
    charges: int
    payments: int

    @property
    def balance_minor(self) -> dict[str, int]:
        codes = sorted(set(self.charged_minor) | set(self.paid_minor))
        return {c: self.charged_minor.get(c, 0) - self.paid_minor.get(c, 0) for c in codes}

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "charged_minor": dict(self.charged_minor),
            "paid_minor": dict(self.paid_minor),
            "balance_minor": self.balance_minor,
            "charges": self.charges,
            "payments": self.payments,
        }


def _sums(rows: list[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r.currency] = out.get(r.currency, 0) + int(r.amount_minor)
    return dict(sorted(out.items()))


def patient_account(
    db: Database, actor: Actor, *, patient_id: int, clock: Clock = utc_now
) -> Account:
    """What the patient was charged and paid (current records). An audited read."""
    with audited_transaction(db, actor, clock) as uc:
        authorize(uc, Permission.COSTS_READ, "reading an account")
        return _account(uc, patient_id)


def _account(uc: UseCase, patient_id: int) -> Account:
    get_patient(uc.session, patient_id)
    charges = current_rows(uc.session, Charge, patient_id=patient_id)
    payments = current_rows(uc.session, Payment, patient_id=patient_id)
    uc.audit("account.read", record_type="charges", patient_id=patient_id)
    return Account(patient_id, _sums(charges), _sums(payments), len(charges), len(payments))
