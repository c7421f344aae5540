"""What a course costs, what a patient has been charged so far, and what a planned series
will cost before it starts.

Costs are read from the charges that session documentation stores (``_charges``: per
session the drug as used in whole vials or 28-mg devices, chair time per started 15 min,
monitoring, nurse time), in integer minor units per currency, never added across currencies.
The estimate prices the course's planned sessions with the same rules and the clinic's current
price list (``_prices``; the built-in DEMO list until a clinic manager sets one): the planned mg of
each session, and a chair time of the session's dosing plus the protocol's minimum
observation. It is an estimate: the real charges follow what is given and how long the patient
stays.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ketaclinic.errors import NotAllowedError, UserInputError
from ketaclinic.pharmacology import Dose
from ketaclinic.protocols import get_protocol
from ketaclinic.services._audit import Actor, Clock, UseCase, audited_read, utc_now
from ketaclinic.services._audit import audited_transaction as _transaction
from ketaclinic.services._blind_check import values_withheld_from
from ketaclinic.services._charges import session_items
from ketaclinic.services._courses import open_course
from ketaclinic.services._inputs import authorize, existing_patient
from ketaclinic.services._permissions import Permission
from ketaclinic.services._prices import current_prices
from ketaclinic.store import (
    Charge,
    Database,
    Order,
    Payment,
    TreatmentCourse,
    TreatmentSession,
    current_records,
    record_versions,
)

__all__ = [
    "CostEstimate",
    "CourseCost",
    "PatientCost",
    "course_cost",
    "estimate_course_cost",
    "patient_cost_to_date",
]


def _add(into: dict[str, dict[str, int]], currency: str, category: str, amount: int) -> None:
    into[currency][category] = into[currency].get(category, 0) + amount


def _plain(totals: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {c: dict(sorted(v.items())) for c, v in sorted(totals.items())}


def _original_session_ids(uc: UseCase, patient_id: int) -> dict[int, int]:
    """Every version id of every session -> its course id (charges point at any version)."""
    versions = record_versions(uc.session, TreatmentSession, patient_id)
    return {int(r.id): int(r.course_id) for r in versions}


@dataclass(frozen=True)
class CourseCost:
    course_id: int
    patient_id: int
    sessions_given: int
    sessions_charged: int
    by_currency: dict[str, dict[str, int]]

    @property
    def total_minor(self) -> dict[str, int]:
        return {c: sum(v.values()) for c, v in self.by_currency.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "course_id": self.course_id,
            "patient_id": self.patient_id,
            "sessions_given": self.sessions_given,
            "sessions_charged": self.sessions_charged,
            "by_currency_minor": self.by_currency,
            "total_minor": self.total_minor,
        }


def _course_cost(uc: UseCase, course: TreatmentCourse) -> CourseCost:
    sessions = _original_session_ids(uc, course.patient_id)
    totals: dict[str, dict[str, int]] = defaultdict(dict)
    charged: set[int] = set()
    for charge in current_records(uc.session, Charge, course.patient_id):
        if charge.session_id is not None and sessions.get(charge.session_id) == course.id:
            _add(totals, charge.currency, charge.category, int(charge.amount_minor))
            charged.add(charge.session_id)
    given = [
        v
        for v in current_records(uc.session, TreatmentSession, course.patient_id)
        if v.course_id == course.id and v.actual_start_at is not None
    ]
    return CourseCost(
        int(course.id), int(course.patient_id), len(given), len(charged), _plain(totals)
    )


def course_cost(
    db: Database, actor: Actor, course_id: int, *, clock: Clock = utc_now
) -> CourseCost:
    """The charges of a course's sessions so far, by currency and category (minor units)."""
    with audited_read(db, actor, clock) as uc:
        authorize(uc, Permission.COSTS_READ, "reading a course's cost")
        course = open_course(uc, course_id)
        uc.audit(
            "cost.course",
            record_type="treatment_courses",
            record_id=course.id,
            patient_id=course.patient_id,
        )
        return _course_cost(uc, course)


@dataclass(frozen=True)
class PatientCost:
    patient_id: int
    by_course: tuple[dict[str, Any], ...]
    other_charges_minor: dict[str, int]
    charged_minor: dict[str, int]
    paid_minor: dict[str, int]

    @property
    def balance_minor(self) -> dict[str, int]:
        codes = sorted(set(self.charged_minor) | set(self.paid_minor))
        return {c: self.charged_minor.get(c, 0) - self.paid_minor.get(c, 0) for c in codes}

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "by_course": list(self.by_course),
            "other_charges_minor": self.other_charges_minor,
            "charged_minor": self.charged_minor,
            "paid_minor": self.paid_minor,
            "balance_minor": self.balance_minor,
        }


def patient_cost_to_date(
    db: Database, actor: Actor, patient_id: int, *, clock: Clock = utc_now
) -> PatientCost:
    """Everything a patient has been charged, per course and in total, what they paid and
    the balance (per currency, minor units)."""
    with audited_read(db, actor, clock) as uc:
        authorize(uc, Permission.COSTS_READ, "reading a patient's costs")
        existing_patient(uc, patient_id)
        uc.audit(
            "cost.patient", record_type="patients", record_id=patient_id, patient_id=patient_id
        )
        return cost_of(uc, patient_id)


def cost_of(uc: UseCase, patient_id: int) -> PatientCost:
    """The patient's costs, inside a use case's transaction (not audited here)."""
    courses = current_records(uc.session, TreatmentCourse, patient_id)
    by_course = [_course_cost(uc, c) for c in courses]
    sessions = _original_session_ids(uc, patient_id)
    charged: dict[str, int] = defaultdict(int)
    other: dict[str, int] = defaultdict(int)
    for charge in current_records(uc.session, Charge, patient_id):
        charged[charge.currency] += int(charge.amount_minor)
        if charge.session_id is None or charge.session_id not in sessions:
            other[charge.currency] += int(charge.amount_minor)
    paid: dict[str, int] = defaultdict(int)
    for payment in current_records(uc.session, Payment, patient_id):
        paid[payment.currency] += int(payment.amount_minor)
    return PatientCost(
        patient_id,
        tuple(
            {
                "course_id": c.course_id,
                "protocol": course.protocol_id,
                **c.to_dict(),
            }
            for c, course in zip(by_course, courses, strict=True)
        ),
        dict(sorted(other.items())),
        dict(sorted(charged.items())),
        dict(sorted(paid.items())),
    )


def _planned_sessions(order: Order, protocol: Any, course: TreatmentCourse) -> list[dict[str, Any]]:
    """The plan's calendar as stored with the order; for an order stored without one (demo
    data), the protocol's calendar with the order's doses."""
    stored = order.plan.get("sessions") if isinstance(order.plan, dict) else None
    if stored:
        return list(stored)
    doses = [Dose.from_json(d) for d in order.doses]
    total = sum(d.total_mg(float(order.weight_kg)) for d in doses)
    start = course.planned_start_on or order.recorded_at.date()
    sessions: list[dict[str, Any]] = []
    last = 0
    for phase in protocol.schedule.phases:
        for offset in phase.day_offsets:
            last = max(last, offset)
            sessions.append({"phase": phase.name, "day": start + timedelta(days=offset)})
    maintenance = protocol.schedule.maintenance
    if maintenance is not None:
        for k in range(1, maintenance.shown + 1):
            day = start + timedelta(days=last + k * maintenance.every_days)
            sessions.append({"phase": "maintenance", "day": day})
    return [
        {
            "number": n,
            "phase": item["phase"],
            "date": item["day"].isoformat(),
            "doses": list(order.doses),
            "total_mg": total,
        }
        for n, item in enumerate(sessions, 1)
    ]


@dataclass(frozen=True)
class CostEstimate:
    """The estimated cost of a course's planned sessions, before they are given."""

    course_id: int
    protocol_id: str
    currency: str
    sessions: tuple[dict[str, Any], ...]
    series_minor: int
    maintenance_minor: int
    assumptions: tuple[str, ...]
    #: the price list version it was priced with (0: the built-in DEMO list)
    price_list_version: int = 0
    price_list_demo: bool = True

    @property
    def total_minor(self) -> int:
        return self.series_minor + self.maintenance_minor

    def to_dict(self) -> dict[str, Any]:
        return {
            "course_id": self.course_id,
            "protocol": self.protocol_id,
            "currency": self.currency,
            "sessions": list(self.sessions),
            "series_minor": self.series_minor,
            "maintenance_minor": self.maintenance_minor,
            "total_minor": self.total_minor,
            "assumptions": list(self.assumptions),
            "price_list_version": self.price_list_version,
            "price_list_demo": self.price_list_demo,
        }


def estimate_course_cost(
    db: Database,
    actor: Actor,
    course_id: int,
    *,
    maintenance_sessions: int | None = None,
    clock: Clock = utc_now,
) -> CostEstimate:
    """Price a course's planned sessions (its first order's plan): the series, and the
    maintenance sessions the plan shows (or ``maintenance_sessions`` of them)."""
    if maintenance_sessions is not None and (
        isinstance(maintenance_sessions, bool)
        or not isinstance(maintenance_sessions, int)
        or not 0 <= maintenance_sessions <= 120
    ):
        raise UserInputError(
            f"maintenance_sessions {maintenance_sessions!r} is not accepted: an integer from 0 "
            "to 120"
        )
    with _transaction(db, actor, clock) as uc:
        viewer = authorize(uc, Permission.COSTS_READ, "estimating a course's cost")
        version = current_prices(uc.session)
        price_list = version.prices
        course = open_course(uc, course_id)
        protocol = get_protocol(course.protocol_id)
        orders = [
            o
            for o in current_records(uc.session, Order, course.patient_id)
            if o.course_id == course.id
        ]
        order = max(orders, key=lambda o: o.id)
        if values_withheld_from(uc.session, order, viewer):
            raise NotAllowedError(
                f"the cost estimate of course {course.id} is withheld from "
                f"{viewer.username!r} until the independent double check of order {order.id}: "
                "it prices the planned mg"
            )
        planned = _planned_sessions(order, protocol, course)
        series = [s for s in planned if s["phase"] != "maintenance"]
        maintenance = [s for s in planned if s["phase"] == "maintenance"]
        if maintenance_sessions is not None:
            template = maintenance[:1] or series[-1:]
            maintenance = (
                [
                    {**template[0], "number": len(series) + k + 1}
                    for k in range(maintenance_sessions)
                ]
                if template
                else []
            )
        observation = float(protocol.monitoring.min_observation_min)
        lines = []
        totals = {"series": 0, "maintenance": 0}
        for part, items in (("series", series), ("maintenance", maintenance)):
            for planned_session in items:
                doses = [Dose.from_json(d) for d in planned_session["doses"]]
                dosing_min = max((d.end_min for d in doses), default=0.0)
                chair_min = dosing_min + observation
                priced = session_items(
                    str(doses[0].route) if doses else str(protocol.route),
                    float(planned_session["total_mg"]),
                    chair_min,
                    price_list,
                )
                amount = sum(int(i["amount_minor"]) for i in priced)
                totals[part] += amount
                lines.append(
                    {
                        "number": planned_session["number"],
                        "phase": planned_session["phase"],
                        "date": planned_session["date"],
                        "planned_mg": planned_session["total_mg"],
                        "chair_min": chair_min,
                        "items": priced,
                        "amount_minor": amount,
                    }
                )
        uc.audit(
            "cost.estimate",
            record_type="treatment_courses",
            record_id=course.id,
            patient_id=course.patient_id,
        )
        return CostEstimate(
            int(course.id),
            course.protocol_id,
            price_list.currency,
            tuple(lines),
            totals["series"],
            totals["maintenance"],
            (
                "doses as planned for the weight at planning (the real charges follow what is "
                "given)",
                f"chair time = dosing + the protocol's minimum observation ({observation:g} min)",
                f"prices: the clinic's price list, version {version.version} ({version.label})",
            ),
            version.version,
            version.demo,
        )
