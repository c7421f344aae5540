"""Who may still double-check an order blind, and what is withheld from them.

Ketamine is on ISMP's list of high-alert medications (ISMP List of High-Alert Medications in
Acute Care Settings, 2024): before the first dose of an order a second clinician re-enters the
weight and the doses without seeing the first clinician's. A clinician who may still do that
check (allowed to check, neither the order's preparer nor its signer, has not checked it, no
check has matched yet) is therefore never shown the order's weight, doses, findings or plan
(predicted concentrations, calendar), what earlier checkers typed, or anything else that
would give the doses away (a plan preview for the patient, the course's cost estimate, and on
the eligibility page the findings that name an amount, weight, rate or concentration).

One check per clinician: ISMP ("Independent double checks: worth the effort if used
judiciously and properly", ISMP Medication Safety Alert! Acute Care, 2019;
https://www.ismp.org/resources/independent-double-checks-worth-effort-if-used-judiciously-and-properly)
asks that the second practitioner work the values out alone, without knowing the first
practitioner's or what result is expected, and that the two be compared only after both are
done. A checker who has typed a check of an order has seen the comparison and, afterwards,
the order's values, so she is no longer independent of it: she may not check it again, nor an
order that replaces it. After a mismatch the order goes back to its prescriber (who re-plans it
when it was wrong) or to a clinician who has not checked it; what each checker typed stays
recorded with the order (``double_checks``). Once a check has matched, the values are shown
to everyone, so no later check could be independent: none is taken.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
    "MISMATCH_NEXT_STEP",
    "WITHHELD_FINDING",
    "WITHHELD_NOTICE",
    "blind_checks_pending",
    "dose_bearing",
    "double_check_refusal",
    "order_signature",
    "records_of_order",
    "refuse_blind_checker",
    "refuse_checker",
    "typed_values_hidden",
    "values_withheld_from",
    "withheld_findings",
]


def records_of_order(session: Session, model: Any, order: Order) -> list[Any]:
    """The current records of ``model`` (signatures, checks, overrides) of one order."""
    return [r for r in current_records(session, model, order.patient_id) if r.order_id == order.id]


def order_signature(session: Session, order: Order) -> OrderSignature | None:
    """The order's latest current signature, if any."""
    signatures = records_of_order(session, OrderSignature, order)
    found: OrderSignature | None = latest(signatures, "signed_at")
    return found


def _replaced_orders(session: Session, order: Order) -> list[Order]:
    """The order and every order it replaces (a re-plan amends the order it replaces)."""
    chain = [order]
    while chain[-1].amends_id is not None and len(chain) < 1000:
        older = session.get(Order, chain[-1].amends_id)
        if older is None:
            break
        chain.append(older)
    return chain


def double_check_refusal(session: Session, order: Order, viewer: StaffUser) -> str | None:
    """Why ``viewer`` may not do the independent double check of ``order`` (None: she may):
    she may not check (her role), prepared or signed it, has checked it or an order it
    replaces (one check per clinician), or a check has matched already."""
    if Permission.ORDER_DOUBLE_CHECK not in permissions_of(viewer.role):
        return f"{viewer.username!r} is a {viewer.role}: the double check is a clinician's"
    if viewer.id == order.recorded_by_id:
        return (
            f"{viewer.username!r} prepared order {order.id}: the double check must be done "
            "by another clinician"
        )
    signature = order_signature(session, order)
    if signature is not None and viewer.id == signature.signed_by_id:
        return (
            f"{viewer.username!r} signed order {order.id}: the double check must be done by "
            "a clinician who has not seen the order's values"
        )
    for checked in _replaced_orders(session, order):
        own = [
            c for c in records_of_order(session, DoubleCheck, checked) if c.checker_id == viewer.id
        ]
        if own:
            first = min(own, key=lambda c: (c.checked_at, c.id))
            which = (
                f"order {order.id}"
                if checked is order
                else f"order {checked.id}, which order {order.id} replaces,"
            )
            return (
                f"{viewer.username!r} checked {which} already ({first.result}, "
                f"{first.checked_at.isoformat()}) and is no longer independent of it: one check "
                f"per clinician. {MISMATCH_NEXT_STEP}"
            )
    if any(c.result == "match" for c in records_of_order(session, DoubleCheck, order)):
        return f"order {order.id} has a matching independent double check already"
    return None


def refuse_checker(session: Session, order: Order, checker: StaffUser) -> None:
    """:class:`NotAllowedError` unless ``checker`` may do the order's independent check."""
    refusal = double_check_refusal(session, order, checker)
    if refusal is not None:
        raise NotAllowedError(refusal)


def typed_values_hidden(session: Session, order: Order, viewer: StaffUser | None) -> bool:
    """Whether ``viewer`` could still be a blind checker of ``order``
    (:func:`double_check_refusal` finds nothing against it). Such a viewer never sees what
    earlier checkers typed."""
    return viewer is None or double_check_refusal(session, order, viewer) is None


MISMATCH_NEXT_STEP = (
    "After a mismatch the order goes back to its prescriber (re-plan it if it is wrong) or to "
    "a clinician who has not checked it; what each checker typed stays recorded with the order"
)
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


def blind_checks_pending(session: Session, patient_id: int, viewer: StaffUser) -> list[int]:
    """The patient's current orders ``viewer`` may still check blind (course open)."""
    return [
        int(o.id)
        for o in current_records(session, Order, patient_id)
        if _course_open(session, o.course_id) and values_withheld_from(session, o, viewer)
    ]


def refuse_blind_checker(session: Session, patient_id: int, viewer: StaffUser, doing: str) -> None:
    """Refuse ``doing`` (something that would show the doses the planner makes for the
    patient, such as a plan preview) to a clinician who may still check one of the
    patient's current orders blind (one that can still be checked: its course open)."""
    pending = blind_checks_pending(session, patient_id, viewer)
    if pending:
        raise NotAllowedError(
            f"{doing} is not allowed to {viewer.username!r} before the independent double "
            f"check of order {pending[0]}: it would show the doses; do the check first "
            f"(/orders/{pending[0]}/double-check)"
        )


#: A number with a unit of amount, body weight, volume, rate or concentration (mg, mcg, ug,
#: ng, g, kg, mL, L and their compounds: mg/kg, mg/kg/h, ng/mL): what a finding would give
#: away of the doses or the weight a blind checker has to work out herself.
_DOSE_BEARING = re.compile(r"\d\s*(?:mg|mcg|\u00b5g|ug|ng|g|kg|mL|ml|L)(?![A-Za-z])")

WITHHELD_FINDING = "withheld until your independent double check: it names a dose or weight"


def dose_bearing(finding: Mapping[str, Any]) -> bool:
    """Whether a finding's message or source names an amount, weight, rate or
    concentration (``0.5 mg/kg``, ``72.5 kg``, ``450 ng/mL``)."""
    text = f"{finding.get('message', '')} {finding.get('source', '')}"
    return _DOSE_BEARING.search(text) is not None


def withheld_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings as a would-be blind checker reads them: each dose-bearing one keeps its
    severity and code (so the verdict stays true) but not its message or source."""
    return [
        {**f, "message": WITHHELD_FINDING, "source": None, "withheld": True}
        if dose_bearing(f)
        else {**f, "withheld": False}
        for f in findings
    ]
