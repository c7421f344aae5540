"""``/api/v1``: plan a course, its orders (sign, override, double check), a typed order's
check and a plan's preview: the planning pages' use cases."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field

from ketaclinic.ranges import WEIGHT_KG
from ketaclinic.services import (
    Permission,
    SignedIn,
    check_patient_order,
    double_check_order,
    double_check_task,
    estimate_course_cost,
    order_details,
    plan_course,
    preview_plan,
    sign_order,
)
from ketaclinic.web._deps import api_permission, clock, database, request_actor
from ketaclinic.web._schemas import ERROR_RESPONSES, StrictModel, ranged

router = APIRouter(prefix="/api/v1", tags=["courses and orders"], responses=ERROR_RESPONSES)

ReadPatients = Annotated[SignedIn, Depends(api_permission(Permission.PATIENT_READ))]
PlanCourses = Annotated[SignedIn, Depends(api_permission(Permission.COURSE_PLAN))]
SignOrders = Annotated[SignedIn, Depends(api_permission(Permission.ORDER_SIGN))]
DoubleCheck = Annotated[SignedIn, Depends(api_permission(Permission.ORDER_DOUBLE_CHECK))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
ProtocolId = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9-]+$")]
DoseLine = Annotated[str, Field(min_length=1, max_length=200)]
#: A preview's population risk is computed on the request: bounded so a call stays short.
RISK_PATIENTS_MAX = 2000


class CoursePlanRequest(StrictModel):
    protocol: ProtocolId
    start_on: Annotated[date, Field(strict=False, description="first session, YYYY-MM-DD")]
    risk_patients: Annotated[int, Field(ge=0, le=RISK_PATIENTS_MAX)] = 1000


class SignRequest(StrictModel):
    overrides: Annotated[
        dict[
            Annotated[str, Field(max_length=100)],
            Annotated[str, Field(min_length=1, max_length=2000)],
        ],
        Field(
            default_factory=dict,
            max_length=50,
            description="finding code -> the physician's reason",
        ),
    ]


class DoubleCheckRequest(StrictModel):
    weight_kg: Annotated[float, ranged(WEIGHT_KG)]
    doses: Annotated[list[DoseLine], Field(min_length=1, max_length=20)]


class OrderCheckRequest(StrictModel):
    protocol: ProtocolId
    doses: Annotated[list[DoseLine], Field(min_length=1, max_length=20)]


@router.post("/patients/{patient_id}/courses", status_code=201, summary="Plan a course")
def plan(
    request: Request, user: PlanCourses, patient_id: Id, body: CoursePlanRequest
) -> dict[str, Any]:
    planned = plan_course(
        database(request),
        request_actor(request, user),
        patient_id,
        body.protocol,
        body.start_on,
        risk_patients=body.risk_patients,
        clock=clock(request),
    )
    return planned.to_dict()


@router.get("/patients/{patient_id}/plan-preview", summary="A plan, stored nowhere")
def preview(
    request: Request,
    user: ReadPatients,
    patient_id: Id,
    protocol: Annotated[str, Query(max_length=60, pattern=r"^[a-z0-9-]+$")],
    start_on: Annotated[date, Query()],
    risk_patients: Annotated[int, Query(ge=0, le=RISK_PATIENTS_MAX)] = 0,
) -> dict[str, Any]:
    return preview_plan(
        database(request),
        request_actor(request, user),
        patient_id,
        protocol,
        start_on,
        risk_patients=risk_patients,
        clock=clock(request),
    )


@router.post("/patients/{patient_id}/order-check", summary="Check typed doses, store nothing")
def order_check(
    request: Request, user: PlanCourses, patient_id: Id, body: OrderCheckRequest
) -> dict[str, Any]:
    return check_patient_order(
        database(request),
        request_actor(request, user),
        patient_id,
        body.protocol,
        body.doses,
        clock=clock(request),
    )


@router.get("/orders/{order_id}", summary="An order with its plan and administration status")
def order(request: Request, user: ReadPatients, order_id: Id) -> dict[str, Any]:
    db, actor, now = database(request), request_actor(request, user), clock(request)
    details = order_details(db, actor, order_id, clock=now)
    if details.order.values_withheld:  # a would-be blind checker: the estimate prices the mg
        return {**details.to_dict(), "cost_estimate": None}
    estimate = estimate_course_cost(db, actor, details.course_id, clock=now)
    return {**details.to_dict(), "cost_estimate": estimate.to_dict()}


@router.post("/orders/{order_id}/sign", summary="Sign (overrides need a reason)")
def sign(request: Request, user: SignOrders, order_id: Id, body: SignRequest) -> dict[str, Any]:
    signed = sign_order(
        database(request),
        request_actor(request, user),
        order_id,
        dict(body.overrides) or None,
        clock=clock(request),
    )
    return signed.to_dict()


@router.get("/orders/{order_id}/double-check", summary="What the second clinician may see")
def check_task(request: Request, user: DoubleCheck, order_id: Id) -> dict[str, Any]:
    task = double_check_task(
        database(request), request_actor(request, user), order_id, clock=clock(request)
    )
    return task.to_dict()


@router.post("/orders/{order_id}/double-check", summary="The independent double check")
def check(
    request: Request, user: DoubleCheck, order_id: Id, body: DoubleCheckRequest
) -> dict[str, Any]:
    result = double_check_order(
        database(request),
        request_actor(request, user),
        order_id,
        body.weight_kg,
        body.doses,
        clock=clock(request),
    )
    return result.to_dict()
