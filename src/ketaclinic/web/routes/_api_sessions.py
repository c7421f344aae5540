"""``/api/v1``: sessions at the chair (start, doses and rate changes, vitals, MOAA/S and
CADSS-6, adverse events, the discharge gate and decision, multi-day checks)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import AwareDatetime, Field

from ketaclinic.ranges import (
    DIASTOLIC_MMHG,
    HEART_RATE_PER_MIN,
    RESPIRATORY_RATE_PER_MIN,
    SPO2_PERCENT,
    SYSTOLIC_MMHG,
)
from ketaclinic.services import (
    Permission,
    SignedIn,
    VitalsReading,
    change_rate,
    check_status,
    discharge,
    discharge_readiness,
    record_adverse_event,
    record_dose,
    record_session_score,
    record_vitals,
    session_record,
    start_session,
    stop_infusion,
)
from ketaclinic.web._clinic_time import clinic_zone
from ketaclinic.web._deps import api_permission, clock, database, request_actor
from ketaclinic.web._schemas import ERROR_RESPONSES, StrictModel, ranged

router = APIRouter(prefix="/api/v1", tags=["sessions"], responses=ERROR_RESPONSES)

Document = Annotated[SignedIn, Depends(api_permission(Permission.SESSION_DOCUMENT))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Instant = Annotated[AwareDatetime, Field(strict=False, description="ISO 8601 with a zone")]
Text = Annotated[str, Field(min_length=1, max_length=200)]


class StartRequest(StrictModel):
    lot_number: Text
    started_at: Instant | None = None


class DoseRequest(StrictModel):
    kind: Literal["dose", "rate", "stop"]
    given_at: Instant
    dose: Annotated[str, Field(min_length=1, max_length=200, description="dose grammar")] | None = (
        None
    )


class VitalsRequest(StrictModel):
    measured_at: Instant
    systolic_mmhg: Annotated[float, ranged(SYSTOLIC_MMHG)] | None = None
    diastolic_mmhg: Annotated[float, ranged(DIASTOLIC_MMHG)] | None = None
    heart_rate_per_min: Annotated[float, ranged(HEART_RATE_PER_MIN)] | None = None
    respiratory_rate_per_min: Annotated[float, ranged(RESPIRATORY_RATE_PER_MIN)] | None = None
    spo2_percent: Annotated[float, ranged(SPO2_PERCENT)] | None = None


class ScoreRequest(StrictModel):
    instrument: Literal["moaa-s", "cadss-6"]
    measured_at: Instant
    answers: Annotated[
        dict[Annotated[str, Field(max_length=40)], Annotated[int, Field(ge=0, le=10)]],
        Field(min_length=1, max_length=10),
    ]


class AdverseEventRequest(StrictModel):
    onset_at: Instant
    term: Text
    severity: Literal["mild", "moderate", "severe", "life_threatening"]
    outcome: Literal["resolved", "resolving", "ongoing", "admitted", "fatal", "unknown"]
    action_taken: Annotated[str, Field(max_length=2000)] | None = None


class DischargeRequest(StrictModel):
    decision: Literal["discharged", "admitted", "transferred"] = "discharged"
    reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    override_reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None


@router.post("/orders/{order_id}/sessions", status_code=201, summary="Start a session")
def start(request: Request, user: Document, order_id: Id, body: StartRequest) -> dict[str, Any]:
    session_id = start_session(
        database(request),
        request_actor(request, user),
        order_id=order_id,
        lot_number=body.lot_number,
        started_at=body.started_at,
        clock=clock(request),
    )
    return {"session_id": session_id}


@router.get("/sessions/{session_id}", summary="A session as documented, with its gate")
def read(request: Request, user: Document, session_id: Id) -> dict[str, Any]:
    db, actor, now = database(request), request_actor(request, user), clock(request)
    record = session_record(db, actor, session_id=session_id, clock=now)
    out = record.to_dict()
    if record.discharge is None:
        out["discharge_gate"] = discharge_readiness(
            db, actor, session_id=session_id, clock=now, zone=clinic_zone(request)
        ).to_dict()
    if record.multi_day:
        out["checks"] = [
            c.to_dict() for c in check_status(db, actor, session_id=session_id, clock=now)
        ]
    return out


@router.post("/sessions/{session_id}/doses", status_code=201, summary="A dose, rate or stop")
def dose(request: Request, user: Document, session_id: Id, body: DoseRequest) -> dict[str, Any]:
    db, actor, now = database(request), request_actor(request, user), clock(request)
    if body.kind == "stop":
        dose_id = stop_infusion(db, actor, session_id=session_id, given_at=body.given_at, clock=now)
    else:
        write = record_dose if body.kind == "dose" else change_rate
        dose_id = write(
            db,
            actor,
            session_id=session_id,
            given_at=body.given_at,
            dose=body.dose or "",
            clock=now,
        )
    return {"dose_id": dose_id}


@router.post("/sessions/{session_id}/vitals", status_code=201, summary="Vital signs")
def vitals(request: Request, user: Document, session_id: Id, body: VitalsRequest) -> dict[str, Any]:
    recorded = record_vitals(
        database(request),
        request_actor(request, user),
        session_id=session_id,
        reading=VitalsReading(**body.model_dump()),
        clock=clock(request),
    )
    return {"vitals_id": recorded.vitals_id, "flags": [f.to_dict() for f in recorded.flags]}


@router.post("/sessions/{session_id}/scores", status_code=201, summary="MOAA/S or CADSS-6")
def score(request: Request, user: Document, session_id: Id, body: ScoreRequest) -> dict[str, Any]:
    result = record_session_score(
        database(request),
        request_actor(request, user),
        session_id=session_id,
        instrument_id=body.instrument,
        answers=dict(body.answers),
        measured_at=body.measured_at,
        clock=clock(request),
    )
    return result.to_dict()


@router.post("/sessions/{session_id}/adverse-events", status_code=201, summary="An event")
def adverse_event(
    request: Request, user: Document, session_id: Id, body: AdverseEventRequest
) -> dict[str, Any]:
    event_id = record_adverse_event(
        database(request),
        request_actor(request, user),
        session_id=session_id,
        clock=clock(request),
        **body.model_dump(),
    )
    return {"adverse_event_id": event_id}


@router.post("/sessions/{session_id}/discharge", summary="The discharge decision")
def decide(
    request: Request, user: Document, session_id: Id, body: DischargeRequest
) -> dict[str, Any]:
    result = discharge(
        database(request),
        request_actor(request, user),
        session_id=session_id,
        clock=clock(request),
        zone=clinic_zone(request),
        **body.model_dump(),
    )
    return {
        "discharge_id": result.discharge_id,
        "decision": result.decision,
        "observation_min": result.observation_min,
        "gate": result.readiness.to_dict(),
    }
