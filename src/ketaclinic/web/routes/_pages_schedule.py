"""The dashboard (today's sessions by chair, alerts by pages of patients, courses by status),
the chairs' calendar of series and maintenance sessions, booking a course's series, and a
patient's schedule as an iCalendar file."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from ketaclinic.errors import UserInputError
from ketaclinic.services import (
    DASHBOARD_PAGE_PATIENTS,
    DASHBOARD_PAGE_PATIENTS_MAX,
    Permission,
    SignedIn,
    chair_calendar,
    courses_by_status,
    dashboard_page,
    patient_ical,
    schedule_series,
)
from ketaclinic.web._clinic_time import clinic_hours, clinic_today, clinic_zone
from ketaclinic.web._deps import clock, database, page_permission, request_actor
from ketaclinic.web._forms import FormErrors, parse_date
from ketaclinic.web._templates import render

router = APIRouter(include_in_schema=False)

ReadPatients = Annotated[SignedIn, Depends(page_permission(Permission.PATIENT_READ))]
ReadSchedule = Annotated[SignedIn, Depends(page_permission(Permission.SCHEDULE_READ))]
WriteSchedule = Annotated[SignedIn, Depends(page_permission(Permission.SCHEDULE_WRITE))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Day = Annotated[str | None, Query(max_length=20)]
Whole = Annotated[str | None, Query(max_length=20)]

CALENDAR_DAYS = 7


def _day(raw: str | None, name: str, default: date, errors: FormErrors) -> date:
    return parse_date(raw, name, errors) or default


def _whole(raw: str | None, name: str, low: int, high: int, default: int, what: str) -> int:
    """A paging parameter: a whole number from ``low`` to ``high``, else a 422 naming them."""
    text = (raw or "").strip()
    if not text:
        return default
    value = int(text) if text.isascii() and text.isdigit() else None
    if value is None or not low <= value <= high:
        raise UserInputError(
            f"{name} {text[:20]!r} is not accepted: {what}, a whole number from {low} to {high}"
        )
    return value


@router.get("/dashboard")
def dashboard(
    request: Request,
    user: ReadPatients,
    day: Day = None,
    after: Whole = None,
    patients: Whole = None,
) -> Response:
    """The day's alerts, and the standing alerts of ``patients`` patients with an open
    course (ids above ``after``); a link to the next page when more patients have one."""
    errors: FormErrors = {}
    first = _whole(after, "after", 0, 2**31 - 1, 0, "the patient id the page starts after")
    size = _whole(
        patients,
        "patients",
        1,
        DASHBOARD_PAGE_PATIENTS_MAX,
        DASHBOARD_PAGE_PATIENTS,
        "patients with an open course per page",
    )
    today = _day(day, "day", clinic_today(request), errors)
    db, actor, now = database(request), request_actor(request, user), clock(request)
    hours = clinic_hours(request)
    calendar = chair_calendar(db, actor, from_day=today, to_day=today, clock=now, hours=hours)
    alerts = dashboard_page(
        db, actor, today, after=first, patients=size, clock=now, zone=clinic_zone(request)
    )
    counts = courses_by_status(db, actor, clock=now)
    statuses = sorted({s for by in counts.values() for s in by})
    return render(
        request,
        "pages/dashboard.html",
        {
            "title": "Dashboard",
            "day": today,
            "calendar": calendar,
            "alerts": alerts.alerts,
            "page": alerts,
            "page_size": size,
            "counts": counts,
            "statuses": statuses,
            "errors": errors,
        },
    )


@router.get("/schedule")
def schedule(
    request: Request, user: ReadSchedule, from_day: Day = None, to_day: Day = None
) -> Response:
    errors: FormErrors = {}
    start = _day(from_day, "from_day", clinic_today(request), errors)
    end = _day(to_day, "to_day", start + timedelta(days=CALENDAR_DAYS - 1), errors)
    calendar = chair_calendar(
        database(request),
        request_actor(request, user),
        from_day=start,
        to_day=end,
        clock=clock(request),
        hours=clinic_hours(request),
    )
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return render(
        request,
        "pages/schedule.html",
        {
            "title": "Chairs' calendar",
            "calendar": calendar,
            "days": days,
            "from_day": start,
            "to_day": end,
            "previous": (start - timedelta(days=CALENDAR_DAYS)).isoformat(),
            "next": (start + timedelta(days=CALENDAR_DAYS)).isoformat(),
            "errors": errors,
        },
    )


@router.post("/courses/{course_id}/schedule")
async def book_series(request: Request, user: WriteSchedule, course_id: Id) -> Response:
    form = await request.form()
    errors: FormErrors = {}
    first_day = parse_date(str(form.get("first_day") or ""), "first_day", errors)
    if first_day is None:
        raise UserInputError(
            errors.get("first_day", "first_day is required: the first session's date, YYYY-MM-DD")
        )
    entries = schedule_series(
        database(request),
        request_actor(request, user),
        course_id=course_id,
        first_day=first_day,
        clock=clock(request),
        hours=clinic_hours(request),
    )
    first = min((e.starts_at for e in entries), default=None)
    shown = first.astimezone(clinic_zone(request)).date().isoformat() if first else None
    target = "/schedule" + (f"?from_day={shown}" if shown else "")
    return RedirectResponse(target, status_code=303)


@router.get("/patients/{patient_id}/schedule.ics")
def ical(request: Request, user: ReadSchedule, patient_id: Id) -> Response:
    body = patient_ical(
        database(request), request_actor(request, user), patient_id=patient_id, clock=clock(request)
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="patient-{patient_id}.ics"'},
    )
