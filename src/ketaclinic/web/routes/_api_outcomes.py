"""``/api/v1``: assessments (scored on submit), the trial evaluation and decision, the
dashboard (today's chairs, alerts by pages of patients, courses by status), the chairs'
calendar and a patient's iCalendar file."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, Field

from ketaclinic.services import (
    DASHBOARD_PAGE_PATIENTS,
    DASHBOARD_PAGE_PATIENTS_MAX,
    Permission,
    SignedIn,
    chair_calendar,
    courses_by_status,
    dashboard_page,
    evaluate_course_trial,
    patient_ical,
    record_assessment,
    record_trial_decision,
)
from ketaclinic.web._clinic_time import clinic_hours, clinic_today, clinic_zone
from ketaclinic.web._deps import api_permission, clock, database, request_actor
from ketaclinic.web._schemas import ERROR_RESPONSES, StrictModel

router = APIRouter(prefix="/api/v1", tags=["outcomes and schedule"], responses=ERROR_RESPONSES)

Record = Annotated[SignedIn, Depends(api_permission(Permission.ASSESSMENT_RECORD))]
ReadPatients = Annotated[SignedIn, Depends(api_permission(Permission.PATIENT_READ))]
Decide = Annotated[SignedIn, Depends(api_permission(Permission.TRIAL_DECIDE))]
ReadSchedule = Annotated[SignedIn, Depends(api_permission(Permission.SCHEDULE_READ))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class AssessmentRequest(StrictModel):
    instrument: Literal["phq-9", "gad-7", "pain-nrs", "bpi-sf", "peg"]
    administered_at: Annotated[AwareDatetime, Field(strict=False)]
    answers: Annotated[
        dict[Annotated[str, Field(max_length=40)], Annotated[int, Field(ge=0, le=10)]],
        Field(min_length=1, max_length=20, description="item id -> answer (points)"),
    ]
    course_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class TrialDecisionRequest(StrictModel):
    decision: Literal["continue", "stop", "taper"]
    reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None


@router.post("/patients/{patient_id}/assessments", status_code=201, summary="Score and record")
def assess(
    request: Request, user: Record, patient_id: Id, body: AssessmentRequest
) -> dict[str, Any]:
    result = record_assessment(
        database(request),
        request_actor(request, user),
        patient_id,
        body.instrument,
        dict(body.answers),
        body.administered_at,
        course_id=body.course_id,
        clock=clock(request),
    )
    return result.to_dict()


@router.get("/courses/{course_id}/trial", summary="The trial recommendation now")
def trial(request: Request, user: ReadPatients, course_id: Id) -> dict[str, Any]:
    evaluation = evaluate_course_trial(
        database(request), request_actor(request, user), course_id, clock=clock(request)
    )
    return evaluation.to_dict()


@router.post("/courses/{course_id}/trial", summary="Record the physician's trial decision")
def decide(
    request: Request, user: Decide, course_id: Id, body: TrialDecisionRequest
) -> dict[str, Any]:
    evaluation = record_trial_decision(
        database(request),
        request_actor(request, user),
        course_id,
        body.decision,
        body.reason,
        clock=clock(request),
    )
    return evaluation.to_dict()


@router.get("/dashboard", summary="A day's chairs, alerts (by pages of patients), courses")
def dashboard(
    request: Request,
    user: ReadPatients,
    day: Annotated[date | None, Query(description="default today at the clinic")] = None,
    after: Annotated[
        int,
        Query(
            description="standing alerts of the patients with ids above this (0: from the "
            "first); the previous page's next_after",
            json_schema_extra={"minimum": 0, "maximum": 2**31 - 1},
        ),
    ] = 0,
    patients: Annotated[
        int,
        Query(
            description=f"patients with an open course per page, 1 to "
            f"{DASHBOARD_PAGE_PATIENTS_MAX} (default {DASHBOARD_PAGE_PATIENTS})",
            json_schema_extra={"minimum": 1, "maximum": DASHBOARD_PAGE_PATIENTS_MAX},
        ),
    ] = DASHBOARD_PAGE_PATIENTS,
) -> dict[str, Any]:
    """Every alert of the day, and the standing alerts (trial decision due, exposure
    prompts) of at most ``patients`` patients with an open course; ``more_patients`` have
    one after this page, read with ``after=next_after``. The service checks the paging
    values (the schema states their bounds), so a refusal names the accepted range. Without
    ``day``: today at the clinic (``KETACLINIC_CLINIC_TIMEZONE``), as on the page."""
    db, actor, now = database(request), request_actor(request, user), clock(request)
    when = day or clinic_today(request)
    zone, hours = clinic_zone(request), clinic_hours(request)
    page = dashboard_page(db, actor, when, after=after, patients=patients, clock=now, zone=zone)
    chairs = chair_calendar(db, actor, from_day=when, to_day=when, clock=now, hours=hours)
    return {
        "day": when.isoformat(),
        "chairs": chairs.to_dict(),
        "alerts": [a.to_dict() for a in page.alerts],
        "after": page.after,
        "patients": page.patients,
        "more_patients": page.more_patients,
        "next_after": page.next_after,
        "courses_by_status": courses_by_status(db, actor, clock=now),
    }


@router.get("/schedule", summary="The chairs' calendar (at most 92 days)")
def schedule(
    request: Request,
    user: ReadSchedule,
    from_day: Annotated[date | None, Query(description="default today at the clinic")] = None,
    to_day: Annotated[date | None, Query(description="default 6 days after from_day")] = None,
) -> dict[str, Any]:
    start = from_day or clinic_today(request)
    calendar = chair_calendar(
        database(request),
        request_actor(request, user),
        from_day=start,
        to_day=to_day or start + timedelta(days=6),
        clock=clock(request),
        hours=clinic_hours(request),
    )
    return calendar.to_dict()


@router.get(
    "/patients/{patient_id}/schedule.ics",
    summary="A patient's schedule as an iCalendar file",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
def ical(request: Request, user: ReadSchedule, patient_id: Id) -> Response:
    body = patient_ical(
        database(request), request_actor(request, user), patient_id=patient_id, clock=clock(request)
    )
    return Response(body, media_type="text/calendar; charset=utf-8")
