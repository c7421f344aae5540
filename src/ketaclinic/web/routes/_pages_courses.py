"""Planning pages: eligibility for every protocol, the plan of one protocol before it is
stored (evidence level, doses, calendar, the predicted curve with the threshold bands,
population risk, findings), the order (cost estimate, sign or override with a reason; a
hard stop cannot be signed), the independent double check, and a typed order's check."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from ketaclinic.errors import KetaclinicError, UserInputError
from ketaclinic.protocols import get_protocol, protocols
from ketaclinic.ranges import WEIGHT_KG
from ketaclinic.services import (
    DoubleCheckTask,
    Permission,
    SignedIn,
    check_patient_order,
    double_check_order,
    double_check_task,
    eligibility,
    estimate_course_cost,
    get_patient_record,
    order_details,
    plan_course,
    preview_plan,
    sign_order,
)
from ketaclinic.web._charts import concentration_figure
from ketaclinic.web._clinic_time import clinic_today
from ketaclinic.web._deps import clock, database, page_permission, request_actor
from ketaclinic.web._errors import status_of
from ketaclinic.web._forms import FormErrors, number, parse_date
from ketaclinic.web._templates import render

router = APIRouter(include_in_schema=False)

ReadPatients = Annotated[SignedIn, Depends(page_permission(Permission.PATIENT_READ))]
PlanCourses = Annotated[SignedIn, Depends(page_permission(Permission.COURSE_PLAN))]
SignOrders = Annotated[SignedIn, Depends(page_permission(Permission.ORDER_SIGN))]
DoubleCheck = Annotated[SignedIn, Depends(page_permission(Permission.ORDER_DOUBLE_CHECK))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
ProtocolId = Annotated[str, Query(max_length=60, pattern=r"^[a-z0-9-]+$")]

#: Virtual patients for the population risk of a plan: enough for a 95 % interval of about
#: +-3 percentage points, fast enough for a page (the planner's default is larger).
RISK_PATIENTS = 1000
EVIDENCE_CLASS = {"good": "good", "moderate": "moderate", "limited": "limited"}


def _start_on(request: Request, raw: str | None, errors: FormErrors) -> date:
    today = clinic_today(request)
    chosen = parse_date(raw, "start_on", errors)
    return chosen or today + timedelta(days=1)


@router.get("/patients/{patient_id}/eligibility")
def eligibility_page(
    request: Request,
    user: ReadPatients,
    patient_id: Id,
    start_on: Annotated[str | None, Query(max_length=20)] = None,
    enrolled: Annotated[int | None, Query(ge=0, le=1)] = None,
) -> Response:
    errors: FormErrors = {}
    start = _start_on(request, start_on, errors)
    db, actor, now = database(request), request_actor(request, user), clock(request)
    record = get_patient_record(db, actor, patient_id, clock=now)
    problem, options = None, []
    try:
        options = eligibility(db, actor, patient_id, start, clock=now)
    except KetaclinicError as exc:
        problem = str(exc)
    return render(
        request,
        "pages/eligibility.html",
        {
            "title": f"Eligibility {record.mrn}",
            "patient": record.to_dict(),
            "options": options,
            "problem": problem,
            "start_on": start.isoformat(),
            "errors": errors,
            "enrolled": bool(enrolled),
        },
    )


def _ceilings(protocol_id: str) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in get_protocol(protocol_id).ceilings]


def _figure(plan: dict[str, Any]) -> dict[str, Any] | None:
    prediction = plan.get("prediction")
    if not prediction:
        return None
    protocol = get_protocol(str(plan["protocol"]))
    return concentration_figure(prediction, str(protocol.drug), _ceilings(protocol.id))


@router.get("/patients/{patient_id}/plan")
def plan_page(
    request: Request,
    user: ReadPatients,
    patient_id: Id,
    protocol: ProtocolId,
    start_on: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    errors: FormErrors = {}
    start = _start_on(request, start_on, errors)
    db, actor, now = database(request), request_actor(request, user), clock(request)
    record = get_patient_record(db, actor, patient_id, clock=now)
    get_protocol(protocol)  # an unknown protocol is a 422 naming the known ones
    preview, problem = None, None
    try:
        preview = preview_plan(
            db, actor, patient_id, protocol, start, risk_patients=RISK_PATIENTS, clock=now
        )
    except KetaclinicError as exc:
        problem = str(exc)
    return render(
        request,
        "pages/plan.html",
        {
            "title": f"Plan {protocol} for {record.mrn}",
            "patient": record.to_dict(),
            "protocol": get_protocol(protocol),
            "plan": preview,
            "figure": _figure(preview) if preview else None,
            "protocol_ceilings": _ceilings(protocol),
            "problem": problem,
            "start_on": start.isoformat(),
            "errors": errors,
        },
    )


@router.post("/patients/{patient_id}/courses")
async def plan_post(request: Request, user: PlanCourses, patient_id: Id) -> Response:
    form = await request.form()
    protocol = str(form.get("protocol") or "")
    errors: FormErrors = {}
    start = parse_date(str(form.get("start_on") or ""), "start_on", errors)
    if protocol not in protocols() or start is None:
        raise UserInputError(
            f"choose a protocol ({', '.join(protocols())}) and a start date (YYYY-MM-DD)"
        )
    planned = plan_course(
        database(request),
        request_actor(request, user),
        patient_id,
        protocol,
        start,
        risk_patients=RISK_PATIENTS,
        clock=clock(request),
    )
    return RedirectResponse(f"/orders/{planned.order_id}?planned=1", status_code=303)


def _order_page(
    request: Request, user: SignedIn, order_id: int, status: int = 200, **extra: Any
) -> Response:
    db, actor, now = database(request), request_actor(request, user), clock(request)
    details = order_details(db, actor, order_id, clock=now)
    estimate = None
    try:
        if not details.order.values_withheld:  # the estimate prices the planned mg
            estimate = estimate_course_cost(db, actor, details.course_id, clock=now)
    except KetaclinicError:
        estimate = None
    plan = details.plan
    return render(
        request,
        "pages/order.html",
        {
            "title": f"Order {order_id}",
            "details": details,
            "order": details.order,
            "plan": plan,
            "figure": _figure(plan) if plan.get("prediction") else None,
            "protocol_ceilings": _ceilings(details.protocol_id),
            "estimate": estimate,
            **extra,
        },
        status,
    )


@router.get("/orders/{order_id}")
def order_page(
    request: Request,
    user: ReadPatients,
    order_id: Id,
    planned: Annotated[int | None, Query(ge=0, le=1)] = None,
    signed: Annotated[int | None, Query(ge=0, le=1)] = None,
) -> Response:
    return _order_page(request, user, order_id, planned=planned, signed=signed)


@router.post("/orders/{order_id}/sign")
async def sign(request: Request, user: SignOrders, order_id: Id) -> Response:
    form = await request.form()
    overrides = {
        str(key).removeprefix("override_"): str(value).strip()
        for key, value in form.items()
        if str(key).startswith("override_") and str(value).strip()
    }
    try:
        sign_order(
            database(request),
            request_actor(request, user),
            order_id,
            overrides or None,
            clock=clock(request),
        )
    except KetaclinicError as exc:
        return _order_page(
            request, user, order_id, status_of(exc), sign_error=str(exc), overrides=overrides
        )
    return RedirectResponse(f"/orders/{order_id}?signed=1", status_code=303)


def _check_page(
    request: Request,
    user: SignedIn,
    order_id: int,
    status: int = 200,
    task: DoubleCheckTask | None = None,
    **extra: Any,
) -> Response:
    if task is None:
        task = double_check_task(
            database(request), request_actor(request, user), order_id, clock=clock(request)
        )
    return render(
        request,
        "pages/double_check.html",
        {
            "title": f"Double check of order {order_id}",
            "task": task,
            "weight_range": WEIGHT_KG.describe(),
            "form": {},
            "errors": {},
            **extra,
        },
        status,
    )


@router.get("/orders/{order_id}/double-check")
def double_check_page(request: Request, user: DoubleCheck, order_id: Id) -> Response:
    return _check_page(request, user, order_id)


@router.post("/orders/{order_id}/double-check")
async def double_check_post(request: Request, user: DoubleCheck, order_id: Id) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    errors: FormErrors = {}
    weight = number(form, "weight_kg", WEIGHT_KG, errors)
    if weight is None and "weight_kg" not in errors:
        errors["weight_kg"] = f"required; accepted: {WEIGHT_KG.describe()}"
    doses = [form[k].strip() for k in sorted(form) if k.startswith("dose_") and form[k].strip()]
    if not doses:
        errors["dose_0"] = (
            "required: the dose as you prepared it, e.g. iv-infusion 35 mg over 40 min"
        )
    if errors or weight is None:
        return _check_page(request, user, order_id, 422, form=form, errors=errors)
    # the task before the check: afterwards its checker may not open it again (one check each)
    task = double_check_task(
        database(request), request_actor(request, user), order_id, clock=clock(request)
    )
    try:
        result = double_check_order(
            database(request),
            request_actor(request, user),
            order_id,
            weight,
            doses,
            clock=clock(request),
        )
    except KetaclinicError as exc:
        errors["form"] = str(exc)
        return _check_page(request, user, order_id, status_of(exc), task, form=form, errors=errors)
    return _check_page(request, user, order_id, task=task, result=result, form=form)


def _typed_page(
    request: Request, user: SignedIn, patient_id: int, status: int = 200, **extra: Any
) -> Response:
    record = get_patient_record(
        database(request), request_actor(request, user), patient_id, clock=clock(request)
    )
    return render(
        request,
        "pages/order_check.html",
        {
            "title": f"Check an order for {record.mrn}",
            "patient": record.to_dict(),
            "protocols": list(protocols().values()),
            "form": {},
            "errors": {},
            "report": None,
            **extra,
        },
        status,
    )


@router.get("/patients/{patient_id}/order-check")
def order_check_page(request: Request, user: PlanCourses, patient_id: Id) -> Response:
    return _typed_page(request, user, patient_id)


@router.post("/patients/{patient_id}/order-check")
async def order_check_post(request: Request, user: PlanCourses, patient_id: Id) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    errors: FormErrors = {}
    protocol = form.get("protocol", "")
    lines = [line for line in form.get("doses", "").splitlines() if line.strip()]
    if protocol not in protocols():
        errors["protocol"] = f"accepted: {', '.join(protocols())}"
    if not lines:
        errors["doses"] = "required: one dose a line, e.g. iv-infusion 0.5 mg/kg over 40 min"
    if errors:
        return _typed_page(request, user, patient_id, 422, form=form, errors=errors)
    try:
        report = check_patient_order(
            database(request),
            request_actor(request, user),
            patient_id,
            protocol,
            lines,
            clock=clock(request),
        )
    except KetaclinicError as exc:
        errors["doses"] = str(exc)
        return _typed_page(request, user, patient_id, status_of(exc), form=form, errors=errors)
    return _typed_page(request, user, patient_id, form=form, report=report)
