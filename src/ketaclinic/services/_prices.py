"""The clinic's price list, kept as versioned clinic settings.

Each change is a new version in ``clinic_price_lists`` (insert-only): a price change never
rewrites a past charge, which keeps its unit prices and the version that priced it
(``charges.price_list_id``). Until a clinic manager sets the clinic's prices, the current list
is the built-in one (version 0), labelled DEMO: illustrative figures for demonstrations, not
published prices. Setting a version needs ``prices.set`` in ``ROLE_PERMISSIONS`` (the admin,
the clinic's manager); charging and cost estimates read the current version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.errors import OutOfRangeError, UserInputError
from ketaclinic.ranges import MONEY_MINOR
from ketaclinic.services._audit import Actor, Clock, audited_transaction, utc_now
from ketaclinic.services._inputs import authorize
from ketaclinic.services._permissions import Permission
from ketaclinic.store import ClinicPriceList, Database, StaffUser

__all__ = [
    "DEMO_LABEL",
    "PRICE_ACCEPTED",
    "PRICE_FIELDS",
    "PriceList",
    "PriceListVersion",
    "clinic_price_list",
    "currency_code",
    "current_prices",
    "money_minor",
    "price_list_history",
    "set_clinic_prices",
]

#: The fields of a price list, with their units (minor units of the list's currency).
PRICE_FIELDS: dict[str, str] = {
    "currency": "ISO 4217 code",
    "ketamine_vial_mg": "mg per racemic ketamine vial",
    "ketamine_vial_minor": "minor units per ketamine vial",
    "esketamine_device_minor": "minor units per 28-mg esketamine nasal device",
    "chair_per_15_min_minor": "minor units per started 15 min of chair time",
    "monitoring_per_session_minor": "minor units per session",
    "nurse_per_hour_minor": "minor units per nurse hour",
    "patients_per_nurse": "patients one nurse cares for at a time",
}
#: What each field accepts, as the messages say it (the price page shows it beside each field).
PRICE_ACCEPTED: dict[str, str] = {
    "currency": "an ISO 4217 code such as EUR or USD",
    "ketamine_vial_mg": "above 0 to 10000 mg",
    **{
        name: f"a whole number {MONEY_MINOR.low:g}-{MONEY_MINOR.high:g} minor units (cents)"
        for name in PRICE_FIELDS
        if name.endswith("_minor")
    },
    "patients_per_nurse": "a whole number 1 to 20",
}
DEMO_LABEL = (
    "DEMO prices: illustrative figures for demonstrations, not published prices; a clinic "
    "manager sets the clinic's own (ketaclinic prices set)"
)
_MAX_TEXT = 200

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def currency_code(code: str) -> str:
    if not isinstance(code, str) or not _CURRENCY.match(code):
        raise UserInputError(
            f"currency {code!r} is not accepted; accepted: {PRICE_ACCEPTED['currency']}"
        )
    return code


def money_minor(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserInputError(f"{what} must be a whole number of minor units (cents), got {value!r}")
    if not MONEY_MINOR.low <= value <= MONEY_MINOR.high:
        raise OutOfRangeError(
            f"{what} {value} is outside the accepted range {MONEY_MINOR.low:g}-"
            f"{MONEY_MINOR.high:g} minor units (cents)"
        )
    return value


@dataclass(frozen=True)
class PriceList:
    """The clinic's prices in minor units of ``currency`` (the defaults: the built-in DEMO
    list, illustrative figures, not published prices).

    Drug: whole vials of racemic ketamine (``ketamine_vial_mg``) or whole esketamine nasal
    devices of 28 mg (one device = 28 mg, SPRAVATO label) as used; chair time per started
    15 min; monitoring once a session; staff time as a share of the chair time (one nurse for
    ``patients_per_nurse`` patients)."""

    currency: str = "EUR"
    ketamine_vial_mg: float = 500.0
    ketamine_vial_minor: int = 1_500
    esketamine_device_minor: int = 29_000
    chair_per_15_min_minor: int = 2_500
    monitoring_per_session_minor: int = 6_000
    nurse_per_hour_minor: int = 6_000
    patients_per_nurse: int = 2

    def __post_init__(self) -> None:
        currency_code(self.currency)
        for name in (
            "ketamine_vial_minor",
            "esketamine_device_minor",
            "chair_per_15_min_minor",
            "monitoring_per_session_minor",
            "nurse_per_hour_minor",
        ):
            money_minor(getattr(self, name), name)
        vial = self.ketamine_vial_mg
        if isinstance(vial, bool) or not isinstance(vial, int | float) or not 0 < vial <= 10_000:
            raise UserInputError(
                f"ketamine_vial_mg {vial!r} is not accepted; accepted: "
                f"{PRICE_ACCEPTED['ketamine_vial_mg']}"
            )
        nurse = self.patients_per_nurse
        if isinstance(nurse, bool) or not isinstance(nurse, int) or not 1 <= nurse <= 20:
            raise UserInputError(
                f"patients_per_nurse {nurse!r} is not accepted; accepted: "
                f"{PRICE_ACCEPTED['patients_per_nurse']}"
            )


@dataclass(frozen=True)
class PriceListVersion:
    """A version of the price list: ``version`` 0 is the built-in DEMO list (never stored)."""

    version: int
    prices: PriceList
    demo: bool
    label: str
    set_at: datetime | None
    set_by: str | None
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "prices": asdict(self.prices),
            "units": dict(PRICE_FIELDS),
            "demo": self.demo,
            "label": self.label,
            "set_at": self.set_at.isoformat() if self.set_at else None,
            "set_by": self.set_by,
            "reason": self.reason,
        }


_BUILT_IN = PriceListVersion(0, PriceList(), True, DEMO_LABEL, None, None, None)


def _version(session: Session, row: ClinicPriceList) -> PriceListVersion:
    prices = PriceList(**{name: getattr(row, name) for name in PRICE_FIELDS})
    user = session.get(StaffUser, row.set_by_id)
    return PriceListVersion(
        int(row.id),
        prices,
        bool(row.demo),
        row.label,
        row.set_at,
        user.username if user is not None else None,
        row.reason,
    )


def current_prices(session: Session) -> PriceListVersion:
    """The current version inside a use case's transaction (the latest stored, else the
    built-in DEMO list)."""
    row = session.scalars(select(ClinicPriceList).order_by(ClinicPriceList.id.desc())).first()
    return _BUILT_IN if row is None else _version(session, row)


def clinic_price_list(db: Database) -> PriceListVersion:
    """The current price list (no patient data: no account needed, as for the command line's
    ``prices show``)."""
    with db.snapshot() as session:
        return current_prices(session)


def price_list_history(db: Database) -> tuple[PriceListVersion, ...]:
    """Every version, oldest first, the built-in DEMO list (version 0) at the start."""
    with db.snapshot() as session:
        rows = session.scalars(select(ClinicPriceList).order_by(ClinicPriceList.id)).all()
        return (_BUILT_IN, *(_version(session, r) for r in rows))


def _checked_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(changes, Mapping) or not changes:
        raise UserInputError(
            "give at least one price to change; accepted: " + ", ".join(PRICE_FIELDS)
        )
    unknown = sorted(set(changes) - set(PRICE_FIELDS))
    if unknown:
        raise UserInputError(
            f"{', '.join(unknown)} is not a price; accepted: " + ", ".join(PRICE_FIELDS)
        )
    types = {f.name: f.type for f in fields(PriceList)}
    out: dict[str, Any] = {}
    for name, value in changes.items():
        wanted = types[name]
        if wanted in (int, "int") and (isinstance(value, bool) or not isinstance(value, int)):
            raise UserInputError(
                f"{name} {value!r} is not accepted: a whole number ({PRICE_FIELDS[name]})"
            )
        if wanted in (float, "float") and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            raise UserInputError(f"{name} {value!r} is not accepted: a number (mg)")
        out[name] = float(value) if wanted in (float, "float") else value
    return out


def _text(value: str | None, what: str, needed: bool) -> str | None:
    if value is None or not value.strip():
        if needed:
            raise UserInputError(f"{what} is needed (1 to {_MAX_TEXT} characters)")
        return None
    text = " ".join(value.split())
    if len(text) > _MAX_TEXT:
        raise UserInputError(f"{what} is {len(text)} characters long; accepted: 1 to {_MAX_TEXT}")
    return text


def set_clinic_prices(
    db: Database,
    actor: Actor,
    changes: Mapping[str, Any],
    *,
    reason: str,
    label: str | None = None,
    clock: Clock = utc_now,
) -> PriceListVersion:
    """A new version of the price list: the current one with ``changes`` (field -> value,
    money in minor units) applied. Past charges keep their prices. Needs ``prices.set``."""
    checked = _checked_changes(changes)
    why = _text(reason, "a reason for the price change", needed=True)
    name = _text(label, "label", needed=False)
    with audited_transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.PRICES_SET, "setting the clinic's prices")
        current = current_prices(uc.session)
        prices = replace(current.prices, **checked)  # PriceList checks ranges and currency
        row = ClinicPriceList(
            **asdict(prices),
            demo=False,
            label=name or f"the clinic's prices (version set by {user.username})",
            reason=why,
            set_at=uc.now,
            set_by_id=user.id,
        )
        uc.session.add(row)
        uc.session.flush()
        uc.audit(
            "prices.set",
            record_type="clinic_price_lists",
            record_id=row.id,
            reason=why,
            details={"from_version": current.version, "changes": checked},
        )
        return _version(uc.session, row)
