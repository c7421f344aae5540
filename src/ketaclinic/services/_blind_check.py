"""Who may still double-check an order blind, and what is withheld from them.

Ketamine is on ISMP's list of high-alert medications (ISMP List of High-Alert Medications in
Acute Care Settings, 2024): before the first dose of an order a second clinician re-enters the
weight and the doses without seeing the first clinician's. A clinician who may still do that
check (allowed to check, neither the order's preparer nor its signer, has not checked it, no
check has matched yet) is therefore never shown the order's weight, doses, findings or plan
(predicted concentrations, calendar), what earlier checkers typed, or anything else that
would give the doses away (a plan preview for the patient, the course's cost estimate).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.errors import NotAllowedError
from ketaclinic.services._patient_context import latest
from ketaclinic.services._permissions import Permission, permissions_of
from ketaclinic.store import (
    DoubleCheck,
    Order,
    OrderSignature,
    StaffUser,
    course_status,
    current_records,
)

__all__ = [
    "WITHHELD_NOTICE",
    "order_signature",
    "records_of_order",
    "refuse_blind_checker",
    "typed_values_hidden",
    "values_withheld_from",
]


def records_of_order(session: Session, model: Any, order: Order) -> list[Any]:
    """The current records of ``model`` (signatures, checks, overrides) of one order."""
    return [r for r in current_records(session, model, order.patient_id) if r.order_id == order.id]


def order_signature(session: Session, order: Order) -> OrderSignature | None:
    """The order's latest current signature, if any."""
    signatures = records_of_order(session, OrderSignature, order)
    found: OrderSignature | None = latest(signatures, "signed_at")
    return found


def typed_values_hidden(session: Session, order: Order, viewer: StaffUser | None) -> bool:
    """Whether ``viewer`` could still be a blind checker of ``order``: a clinician allowed to
    check it (not its preparer or signer) who has not typed a check of it, while no check has
    matched. Such a viewer never sees what earlier checkers typed."""
    if viewer is None:
        return True
    checks = records_of_order(session, DoubleCheck, order)
    if any(c.result == "match" for c in checks) or any(c.checker_id == viewer.id for c in checks):
        return False
    signature = order_signature(session, order)
    prepared_or_signed = viewer.id == order.recorded_by_id or (
        signature is not None and viewer.id == signature.signed_by_id
    )
    return not prepared_or_signed and Permission.ORDER_DOUBLE_CHECK in permissions_of(viewer.role)


WITHHELD_NOTICE = "Doses and weight are withheld until your independent double check"


def values_withheld_from(session: Session, order: Order, viewer: StaffUser | None) -> bool:
    """Whether the order's weight, doses, findings and plan (predicted concentrations,
    calendar) are withheld from ``viewer`` because they may still do its blind double check
    (ISMP high-alert practice: the second clinician re-enters weight and doses without
    seeing the first's). The rule of the typed values (:func:`typed_values_hidden`), except
    that before the signature a physician who may sign reads the order to sign it."""
    if not typed_values_hidden(session, order, viewer):
        return False
    if viewer is None:
        return True
    may_sign = Permission.ORDER_SIGN in permissions_of(viewer.role)
    return order_signature(session, order) is not None or not may_sign


def _course_open(session: Session, course_id: int) -> bool:
    status = course_status(session, course_id)
    return status is None or status.status in ("planned", "active", "maintenance")


def refuse_blind_checker(session: Session, patient_id: int, viewer: StaffUser, doing: str) -> None:
    """Refuse ``doing`` (something that would show the doses the planner makes for the
    patient, such as a plan preview) to a clinician who may still check one of the
    patient's current orders blind (one that can still be checked: its course open)."""
    pending = [
        int(o.id)
        for o in current_records(session, Order, patient_id)
        if _course_open(session, o.course_id) and values_withheld_from(session, o, viewer)
    ]
    if pending:
        raise NotAllowedError(
            f"{doing} is not allowed to {viewer.username!r} before the independent double "
            f"check of order {pending[0]}: it would show the doses; do the check first "
            f"(/orders/{pending[0]}/double-check)"
        )
