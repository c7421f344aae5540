"""Sign an order, check it independently, and say whether it may be given.

- Signing is a physician's act. A hard stop can never be signed; each overridable finding
  needs the physician's reason, recorded with the physician. An order whose weight is no
  longer the patient's latest weight is refused (re-plan it).
- Ketamine is on ISMP's list of high-alert medications, so before the first dose of every
  order a second clinician (neither the one who prepared the order nor the one who signed it)
  re-enters the weight and the doses without seeing them (:func:`double_check_task` shows
  everything else). A mismatch blocks administration until a later check matches; the
  checker is told which fields differ, never the ordered values. One check per clinician
  (ISMP's independent double check, see ``_blind_check``): after a mismatch the order goes
  back to its prescriber (a re-plan is a new order) or to a clinician who has not checked it
  nor an order it replaces; after a match no further check is taken. What each checker typed
  (weight, doses), when and with which result is stored with the check and shown in the
  order's history (:func:`get_order`), except to a clinician who may still check the order
  blind (one allowed to check it, not its preparer or signer, who has not checked it, while
  no check has matched).
- :func:`administration_allowed` (and :func:`administration_status` inside another use case)
  says whether an order may be given now, with every reason it may not.

Tolerances of the double check [clinical judgement]: the weight within 0.1 kg (the
resolution of clinic scales), each dose within 0.5 mg or 1 % (half the 1 mg rounding step of
IV amounts), times and counts exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.errors import RefusedError, UserInputError
from ketaclinic.pharmacology import Dose, parse_dose
from ketaclinic.ranges import WEIGHT_KG
from ketaclinic.services._audit import Actor, Clock, utc_now
from ketaclinic.services._audit import audited_transaction as _transaction
from ketaclinic.services._blind_check import (
    MISMATCH_NEXT_STEP,
    WITHHELD_NOTICE,
    double_check_refusal,
    refuse_checker,
    values_withheld_from,
)
from ketaclinic.services._blind_check import (
    order_signature as _signature,
)
from ketaclinic.services._blind_check import (
    records_of_order as _of_order,
)
from ketaclinic.services._blind_check import (
    typed_values_hidden as _typed_values_hidden,
)
from ketaclinic.services._inputs import authorize, positive_id, who
from ketaclinic.services._patient_context import latest
from ketaclinic.services._permissions import Permission, permissions_of
from ketaclinic.store import (
    Database,
    DoubleCheck,
    Order,
    OrderOverride,
    OrderSignature,
    StaffUser,
    TreatmentCourse,
    WeightMeasurement,
    add,
    course_status,
    current_records,
    get,
)

__all__ = [
    "DOSE_TOLERANCE_MG",
    "DOSE_TOLERANCE_PERCENT",
    "WEIGHT_TOLERANCE_KG",
    "AdministrationStatus",
    "DoubleCheckResult",
    "DoubleCheckTask",
    "OrderView",
    "administration_allowed",
    "administration_status",
    "double_check_order",
    "double_check_task",
    "get_order",
    "sign_order",
]

WEIGHT_TOLERANCE_KG = 0.1
DOSE_TOLERANCE_MG = 0.5
DOSE_TOLERANCE_PERCENT = 1.0
_OPEN = ("planned", "active", "maintenance")


def _order(session: Session, order_id: int) -> Order:
    return get(session, Order, positive_id(order_id, "order id"))


def _superseded(session: Session, order: Order) -> Order | None:
    return session.scalars(select(Order).where(Order.amends_id == order.id)).first()


def _findings(order: Order, severity: str) -> list[dict[str, Any]]:
    return [f for f in order.findings if f.get("severity") == severity]


@dataclass(frozen=True)
class OrderView:
    """An order as stored, with its signature, overrides and double checks."""

    order_id: int
    patient_id: int
    course_id: int
    weight_kg: float | None
    doses: tuple[dict[str, Any], ...]
    findings: tuple[dict[str, Any], ...]
    drug_library_version: str
    signed_by_id: int | None
    signed_at: datetime | None
    overrides: tuple[dict[str, Any], ...]
    double_checks: tuple[dict[str, Any], ...]
    #: True for a clinician who may still check the order blind: ``weight_kg`` is None and
    #: ``doses`` and ``findings`` are empty until their own double check (or a matching one).
    values_withheld: bool = False
    #: where that clinician does the check (the web page; the API takes the same path under /api)
    double_check_path: str | None = None
    #: why the reader may not do the order's double check (None: she may, or she is not a
    #: clinician who checks); e.g. she has checked it already
    double_check_refusal: str | None = None

    @property
    def withheld_notice(self) -> str | None:
        """What a would-be blind checker is told instead of the values."""
        return WITHHELD_NOTICE if self.values_withheld else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "patient_id": self.patient_id,
            "course_id": self.course_id,
            "weight_kg": self.weight_kg,
            "doses": list(self.doses),
            "findings": list(self.findings),
            "drug_library_version": self.drug_library_version,
            "signed_by_id": self.signed_by_id,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
            "overrides": list(self.overrides),
            "double_checks": list(self.double_checks),
            "values_withheld": self.values_withheld,
            "withheld_notice": self.withheld_notice,
            "double_check_path": self.double_check_path,
            "double_check_refusal": self.double_check_refusal,
        }


def _check_entry(session: Session, check: DoubleCheck, hidden: bool) -> dict[str, Any]:
    checker = session.get(StaffUser, check.checker_id)
    entry: dict[str, Any] = {
        "double_check_id": int(check.id),
        "checker_id": check.checker_id,
        "checker": checker.username if checker is not None else None,
        "result": check.result,
        "checked_at": check.checked_at.isoformat(),
        "differences": [d["field"] for d in check.differences or []],
        "typed_values_withheld": hidden,
        "entered_weight_kg": None,
        "entered_doses": None,
    }
    if not hidden:
        entry["entered_weight_kg"] = float(check.entered_weight_kg)
        entry["entered_doses"] = [str(Dose.from_json(d)) for d in check.entered_doses]
    return entry


def _order_view(session: Session, order: Order, viewer: StaffUser | None = None) -> OrderView:
    """The order as ``viewer`` may read it: the double checks with what each checker typed
    (weight in kg, doses in the dose grammar), withheld from a possible blind checker."""
    signature = _signature(session, order)
    hidden = _typed_values_hidden(session, order, viewer)
    blind = values_withheld_from(session, order, viewer)
    return OrderView(
        order_id=int(order.id),
        patient_id=int(order.patient_id),
        course_id=int(order.course_id),
        weight_kg=None if blind else float(order.weight_kg),
        doses=() if blind else tuple(order.doses),
        findings=() if blind else tuple(order.findings),
        drug_library_version=order.drug_library_version,
        signed_by_id=signature.signed_by_id if signature else None,
        signed_at=signature.signed_at if signature else None,
        overrides=tuple(
            {"finding_code": o.finding_code, "reason": o.reason, "physician_id": o.physician_id}
            for o in _of_order(session, OrderOverride, order)
        ),
        double_checks=tuple(
            _check_entry(session, c, hidden)
            for c in sorted(_of_order(session, DoubleCheck, order), key=lambda c: c.checked_at)
        ),
        values_withheld=blind,
        double_check_path=f"/orders/{int(order.id)}/double-check" if blind else None,
        double_check_refusal=_refusal_of(session, order, viewer, signature),
    )


def _refusal_of(
    session: Session, order: Order, viewer: StaffUser | None, signature: OrderSignature | None
) -> str | None:
    if viewer is None or signature is None:
        return None
    if Permission.ORDER_DOUBLE_CHECK not in permissions_of(viewer.role):
        return None
    if any(c.result == "match" for c in _of_order(session, DoubleCheck, order)):
        return None  # nothing is left to check
    return double_check_refusal(session, order, viewer)


def get_order(db: Database, actor: Actor, order_id: int, *, clock: Clock = utc_now) -> OrderView:
    """The order with its findings, for the physician who signs it (audited read)."""
    with _transaction(db, actor, clock) as uc:
        viewer = authorize(uc, Permission.PATIENT_READ, "reading an order")
        order = _order(uc.session, order_id)
        uc.audit(
            "order.read", record_type="orders", record_id=order.id, patient_id=order.patient_id
        )
        return _order_view(uc.session, order, viewer)


def _refuse_closed(session: Session, order: Order) -> None:
    newer = _superseded(session, order)
    if newer is not None or order.entered_in_error:
        raise RefusedError(f"order {order.id} was replaced or withdrawn; use the current order")
    status = course_status(session, order.course_id)
    if status is not None and status.status not in _OPEN:
        raise RefusedError(f"course {order.course_id} is {status.status}: its orders are closed")


def _check_overrides(overrides: Any) -> dict[str, str]:
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise UserInputError("overrides must map a finding code to the physician's reason")
    checked = {}
    for code, reason in overrides.items():
        if not isinstance(code, str) or not isinstance(reason, str):
            raise UserInputError("overrides must map a finding code (text) to a reason (text)")
        if not reason.strip():
            raise UserInputError(f"override of {code!r} has no reason: an override needs one")
        if len(reason) > 2000:
            raise UserInputError(f"override reason of {code!r} is longer than 2000 characters")
        checked[code.strip()] = reason.strip()
    return checked


def sign_order(
    db: Database,
    actor: Actor,
    order_id: int,
    overrides: Mapping[str, str] | None = None,
    *,
    clock: Clock = utc_now,
) -> OrderView:
    """Sign an order (physicians only). ``overrides`` maps each OVERRIDABLE finding's code to
    the reason; hard stops are refused whatever the overrides say."""
    given = _check_overrides(overrides)
    with _transaction(db, actor, clock) as uc:
        user = authorize(uc, Permission.ORDER_SIGN, "signing an order")
        order = _order(uc.session, order_id)
        _refuse_closed(uc.session, order)
        if _signature(uc.session, order) is not None:
            raise RefusedError(f"order {order.id} is already signed")
        hard = _findings(order, "HARD_STOP")
        if hard:
            listed = "; ".join(f"{f['code']}: {f['message']}" for f in hard)
            raise RefusedError(f"order {order.id} has a hard stop and cannot be signed ({listed})")
        overridable = {f["code"]: f for f in _findings(order, "OVERRIDABLE")}
        unknown = sorted(set(given) - set(overridable))
        if unknown:
            accepted = ", ".join(overridable) or "none (nothing to override)"
            raise UserInputError(
                f"override of {', '.join(unknown)} is not accepted: not an overridable finding "
                f"of order {order.id}; accepted: {accepted}"
            )
        missing = [code for code in overridable if code not in given]
        if missing:
            listed = "; ".join(f"{c}: {overridable[c]['message']}" for c in missing)
            raise RefusedError(f"order {order.id} needs a reason to override each of: {listed}")
        weight = latest(
            current_records(uc.session, WeightMeasurement, order.patient_id), "measured_on"
        )
        if weight is None or abs(weight.weight_kg - order.weight_kg) > 1e-9:
            now_kg = f"{weight.weight_kg:g} kg" if weight is not None else "no weight"
            raise RefusedError(
                f"order {order.id} was planned for {order.weight_kg:g} kg; the patient's latest "
                f"weight is {now_kg}: re-plan the order (replan_order)"
            )
        bookkeeping = who(uc, user)
        for code, reason in given.items():
            override = add(
                uc.session,
                OrderOverride(
                    patient_id=order.patient_id,
                    order_id=order.id,
                    finding_code=code,
                    reason=reason,
                    physician_id=user.id,
                    **bookkeeping,
                ),
            )
            uc.audit(
                "order.override",
                record_type="order_overrides",
                record_id=override.id,
                patient_id=order.patient_id,
                reason=reason,
                details={"order_id": order.id, "finding_code": code},
            )
        signature = add(
            uc.session,
            OrderSignature(
                patient_id=order.patient_id,
                order_id=order.id,
                signed_by_id=user.id,
                signed_at=uc.now,
                **bookkeeping,
            ),
        )
        uc.audit(
            "order.sign",
            record_type="order_signatures",
            record_id=signature.id,
            patient_id=order.patient_id,
            details={"order_id": order.id, "overrides": sorted(given)},
        )
        return _order_view(uc.session, order, user)


@dataclass(frozen=True)
class DoubleCheckTask:
    """What the second clinician sees before re-entering: never the weight or the doses."""

    order_id: int
    patient_id: int
    mrn: str
    protocol_id: str
    route: str
    dose_lines: int
    dose_forms: tuple[str, ...]
    signed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "patient_id": self.patient_id,
            "mrn": self.mrn,
            "protocol": self.protocol_id,
            "route": self.route,
            "dose_lines": self.dose_lines,
            "dose_forms": list(self.dose_forms),
            "signed": self.signed,
        }


def double_check_task(
    db: Database, actor: Actor, order_id: int, *, clock: Clock = utc_now
) -> DoubleCheckTask:
    """The order as the second clinician may see it before entering weight and doses."""
    with _transaction(db, actor, clock) as uc:
        checker = authorize(uc, Permission.ORDER_DOUBLE_CHECK, "double-checking an order")
        order = _order(uc.session, order_id)
        signature = _signature(uc.session, order)
        refuse_checker(uc.session, order, checker)
        course = get(uc.session, TreatmentCourse, order.course_id)
        from ketaclinic.store import get_patient

        patient = get_patient(uc.session, order.patient_id)
        uc.audit(
            "order.double_check_task",
            record_type="orders",
            record_id=order.id,
            patient_id=order.patient_id,
        )
        return DoubleCheckTask(
            order_id=int(order.id),
            patient_id=int(order.patient_id),
            mrn=patient.mrn,
            protocol_id=course.protocol_id,
            route=str(order.doses[0]["route"]) if order.doses else "",
            dose_lines=len(order.doses),
            dose_forms=tuple(str(d.get("form", "")) for d in order.doses),
            signed=signature is not None,
        )


def _parse_entered(entered: Any) -> list[Dose]:
    if isinstance(entered, str | Mapping) or not isinstance(entered, Sequence) or not entered:
        raise UserInputError(
            "entered doses must be a list of doses in the dose grammar, e.g. "
            "['iv-infusion 35 mg over 40 min at 0 min']"
        )
    doses = []
    for item in entered:
        doses.append(Dose.from_json(item) if isinstance(item, Mapping) else parse_dose(item))
    return doses


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(DOSE_TOLERANCE_MG, DOSE_TOLERANCE_PERCENT / 100 * abs(b))


def _dose_differences(n: int, ordered: Dose, entered: Dose, weight_kg: float) -> list[str]:
    fields = []
    if ordered.route != entered.route or ordered.is_infusion != entered.is_infusion:
        fields.append(f"dose {n} route or form")
    if not _close(entered.total_mg(weight_kg), ordered.total_mg(weight_kg)):
        fields.append(f"dose {n} amount (mg)")
    if ordered.is_infusion and not _close(
        entered.rate_mg_per_h(weight_kg), ordered.rate_mg_per_h(weight_kg)
    ):
        fields.append(f"dose {n} rate (mg/h)")
    for name in ("duration_min", "start_min", "every_min", "count"):
        if getattr(ordered, name) != getattr(entered, name):
            fields.append(f"dose {n} {name}")
    return fields


@dataclass(frozen=True)
class DoubleCheckResult:
    """``match`` or ``mismatch``, and which fields differ (never the ordered values)."""

    double_check_id: int
    order_id: int
    result: str
    differing_fields: tuple[str, ...]

    @property
    def matched(self) -> bool:
        return self.result == "match"

    @property
    def next_step(self) -> str:
        """What happens now: the order may be given, or (a mismatch) who checks it next."""
        if self.matched:
            return f"order {self.order_id} may be given (signed and double-checked)"
        return (
            f"administration of order {self.order_id} stays blocked; you may not check it "
            f"again. {MISMATCH_NEXT_STEP}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "double_check_id": self.double_check_id,
            "order_id": self.order_id,
            "result": self.result,
            "differing_fields": list(self.differing_fields),
            "next_step": self.next_step,
        }


def double_check_order(
    db: Database,
    actor: Actor,
    order_id: int,
    entered_weight_kg: float,
    entered_doses: Sequence[str | Mapping[str, Any]],
    *,
    clock: Clock = utc_now,
) -> DoubleCheckResult:
    """The independent double check of a signed order: the second clinician's weight (kg)
    and doses (dose grammar, mg), compared with the order's. Both results are recorded."""
    weight = WEIGHT_KG.check(entered_weight_kg)
    entered = _parse_entered(entered_doses)
    with _transaction(db, actor, clock) as uc:
        checker = authorize(uc, Permission.ORDER_DOUBLE_CHECK, "double-checking an order")
        order = _order(uc.session, order_id)
        _refuse_closed(uc.session, order)
        signature = _signature(uc.session, order)
        refuse_checker(uc.session, order, checker)
        if signature is None:
            raise RefusedError(f"order {order.id} is not signed yet: sign it before the check")
        ordered = [Dose.from_json(d) for d in order.doses]
        differences: list[dict[str, Any]] = []
        if abs(weight - order.weight_kg) > WEIGHT_TOLERANCE_KG + 1e-9:
            differences.append(
                {"field": "weight (kg)", "ordered": order.weight_kg, "entered": weight}
            )
        if len(entered) != len(ordered):
            differences.append(
                {"field": "number of doses", "ordered": len(ordered), "entered": len(entered)}
            )
        else:
            for n, (a, b) in enumerate(zip(ordered, entered, strict=True), 1):
                for name in _dose_differences(n, a, b, weight):
                    differences.append({"field": name, "ordered": str(a), "entered": str(b)})
        result = "mismatch" if differences else "match"
        check = add(
            uc.session,
            DoubleCheck(
                patient_id=order.patient_id,
                order_id=order.id,
                checker_id=checker.id,
                entered_weight_kg=weight,
                entered_doses=[d.to_json() for d in entered],
                result=result,
                differences=differences or None,
                checked_at=uc.now,
                **who(uc, checker),
            ),
        )
        uc.audit(
            "order.double_check",
            record_type="double_checks",
            record_id=check.id,
            patient_id=order.patient_id,
            details={"order_id": order.id, "result": result},
        )
        return DoubleCheckResult(
            int(check.id), int(order.id), result, tuple(d["field"] for d in differences)
        )


@dataclass(frozen=True)
class AdministrationStatus:
    """May the order be given now? ``reasons`` lists everything that stands in the way."""

    order_id: int
    allowed: bool
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "allowed": self.allowed, "reasons": list(self.reasons)}


def administration_status(session: Session, order_id: int) -> AdministrationStatus:
    """The administration rule, inside another use case's transaction (for sessions)."""
    order = _order(session, order_id)
    reasons: list[str] = []
    newer = _superseded(session, order)
    if newer is not None:
        reasons.append(f"order {order.id} was replaced by order {newer.id}")
    if order.entered_in_error:
        reasons.append(f"order {order.id} was withdrawn (entered in error)")
    status = course_status(session, order.course_id)
    if status is not None and status.status not in _OPEN:
        reasons.append(f"course {order.course_id} is {status.status}")
    for finding in _findings(order, "HARD_STOP"):
        reasons.append(f"hard stop {finding['code']}: {finding['message']}")
    if _signature(session, order) is None:
        reasons.append(f"order {order.id} is not signed")
    checks = _of_order(session, DoubleCheck, order)
    last = latest(checks, "checked_at")
    if last is None:
        reasons.append(f"order {order.id} has no independent double check yet")
    elif last.result != "match":
        fields = ", ".join(d["field"] for d in last.differences or [])
        reasons.append(
            f"the latest double check ({last.checked_at.isoformat()}) did not match ({fields}): "
            "the order goes back to its prescriber (re-plan it if it is wrong) or to a "
            "clinician who has not checked it"
        )
    return AdministrationStatus(int(order.id), not reasons, tuple(reasons))


def administration_allowed(
    db: Database, actor: Actor, order_id: int, *, clock: Clock = utc_now
) -> AdministrationStatus:
    """May ``order_id`` be given now (signed, no hard stop, latest double check matched,
    course open, order current)? Audited read, for clinicians."""
    with _transaction(db, actor, clock) as uc:
        authorize(uc, Permission.PATIENT_READ, "asking whether an order may be given")
        status = administration_status(uc.session, order_id)
        order = _order(uc.session, order_id)
        uc.audit(
            "order.administration_check",
            record_type="orders",
            record_id=order.id,
            patient_id=order.patient_id,
            details={"allowed": status.allowed},
        )
        return status
