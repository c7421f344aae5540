"""``/api/v1/patients``: search, enrol, the chart, the history (trajectories, MME, sessions,
adverse events) and the eligibility of every protocol: the patient pages' use cases."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from ketaclinic.errors import UserInputError
from ketaclinic.safety import format_validation_error
from ketaclinic.services import (
    Enrolment,
    Permission,
    SignedIn,
    cumulative_exposure,
    eligibility,
    enrol_patient,
    get_patient_record,
    list_courses,
    patient_cost_to_date,
    patient_history,
    search_patients,
)
from ketaclinic.web._deps import api_permission, clock, database, request_actor
from ketaclinic.web._schemas import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/patients", tags=["patients"], responses=ERROR_RESPONSES)

ReadPatients = Annotated[SignedIn, Depends(api_permission(Permission.PATIENT_READ))]
WritePatients = Annotated[SignedIn, Depends(api_permission(Permission.PATIENT_WRITE))]
PatientId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a patient id")]


async def strict_json(request: Request, model: Any) -> Any:
    """The request's JSON body as ``model`` in strict mode (``"70"`` is not a weight; dates
    as ISO 8601 strings), after FastAPI's own check for the schema."""
    try:
        return model.model_validate_json(await request.body(), strict=True)
    except ValidationError as exc:
        raise UserInputError(format_validation_error(exc, "body")) from None


@router.get("", summary="Search patients by record number (prefix) or name")
def search(
    request: Request,
    user: ReadPatients,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    found = search_patients(
        database(request),
        request_actor(request, user),
        q,
        limit=limit,
        offset=offset,
        clock=clock(request),
    )
    return [p.to_dict() for p in found]


@router.post("", status_code=201, summary="Enrol a patient")
async def enrol(
    request: Request, user: WritePatients, enrolment: Annotated[Enrolment, Body()]
) -> JSONResponse:
    strict = await strict_json(request, Enrolment)
    patient_id = enrol_patient(
        database(request), request_actor(request, user), strict, clock=clock(request)
    )
    return JSONResponse({"patient_id": patient_id}, status_code=201)


@router.get("/{patient_id}", summary="A patient's chart: facts, courses, exposure, costs")
def chart(request: Request, user: ReadPatients, patient_id: PatientId) -> dict[str, Any]:
    db, actor, now = database(request), request_actor(request, user), clock(request)
    record = get_patient_record(db, actor, patient_id, clock=now)
    return {
        **record.to_dict(),
        "courses": [c.to_dict() for c in list_courses(db, actor, patient_id, clock=now)],
        "exposure": cumulative_exposure(db, actor, patient_id, clock=now).to_dict(),
        "cost": patient_cost_to_date(db, actor, patient_id, clock=now).to_dict(),
    }


@router.get("/{patient_id}/history", summary="Outcome trajectories, MME, sessions, events")
def history(request: Request, user: ReadPatients, patient_id: PatientId) -> dict[str, Any]:
    found = patient_history(
        database(request), request_actor(request, user), patient_id, clock=clock(request)
    )
    return found.to_dict()


@router.get("/{patient_id}/eligibility", summary="Every protocol planned, stored nowhere")
def eligible(
    request: Request,
    user: ReadPatients,
    patient_id: PatientId,
    start_on: Annotated[date, Query(description="first session, today or later")],
) -> list[dict[str, Any]]:
    return eligibility(
        database(request), request_actor(request, user), patient_id, start_on, clock=clock(request)
    )
