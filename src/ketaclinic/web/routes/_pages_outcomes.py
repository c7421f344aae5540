"""Assessment forms (PHQ-9, GAD-7, pain NRS, BPI, PEG: the score shown on submit, PHQ-9 item
9 alerts at once) and the trial evaluation of a course (criteria, baseline, latest,
recommendation) with the physician's decision."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from ketaclinic.errors import KetaclinicError
from ketaclinic.outcomes import get_instrument
from ketaclinic.services import (
    Permission,
    SignedIn,
    evaluate_course_trial,
    get_patient_record,
    record_assessment,
    record_trial_decision,
)
from ketaclinic.web._clinic_time import clinic_zone
from ketaclinic.web._deps import clock, database, page_permission, request_actor
from ketaclinic.web._errors import status_of
from ketaclinic.web._forms import FormErrors, local_input, parse_instant
from ketaclinic.web._templates import render

router = APIRouter(include_in_schema=False)

Record = Annotated[SignedIn, Depends(page_permission(Permission.ASSESSMENT_RECORD))]
ReadPatients = Annotated[SignedIn, Depends(page_permission(Permission.PATIENT_READ))]
Decide = Annotated[SignedIn, Depends(page_permission(Permission.TRIAL_DECIDE))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]

#: The outcome forms of the clinic (the session scales MOAA/S and CADSS-6 are on the session).
FORMS = ("phq-9", "gad-7", "pain-nrs", "bpi-sf", "peg")
DECISIONS = ("continue", "stop", "taper")


def _assessment_page(
    request: Request,
    user: SignedIn,
    patient_id: int,
    instrument_id: str,
    status: int = 200,
    **extra: Any,
) -> Response:
    record = get_patient_record(
        database(request), request_actor(request, user), patient_id, clock=clock(request)
    )
    values = {
        "title": f"Assessment for {record.mrn}",
        "patient": record.to_dict(),
        "instrument": get_instrument(instrument_id) if instrument_id else None,
        "forms": [get_instrument(i) for i in FORMS],
        "now_local": local_input(clock(request)(), clinic_zone(request)),
        "form": {},
        "errors": {},
        "result": None,
        **extra,
    }
    return render(request, "pages/assessment.html", values, status)


@router.get("/patients/{patient_id}/assessments/new")
def assessment_form(
    request: Request,
    user: Record,
    patient_id: Id,
    instrument: Annotated[str, Query(pattern="^(phq-9|gad-7|pain-nrs|bpi-sf|peg|)$")] = "",
) -> Response:
    return _assessment_page(request, user, patient_id, instrument)


@router.post("/patients/{patient_id}/assessments")
async def assessment_post(request: Request, user: Record, patient_id: Id) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    instrument_id = form.get("instrument", "")
    errors: FormErrors = {}
    if instrument_id not in FORMS:
        errors["instrument"] = f"accepted: {', '.join(FORMS)}"
        return _assessment_page(request, user, patient_id, "", 422, errors=errors)
    instrument = get_instrument(instrument_id)
    at = parse_instant(
        form.get("administered_at"), "administered_at", errors, zone=clinic_zone(request)
    )
    answers: dict[str, int] = {}
    for item in instrument.items:
        raw = form.get(f"item-{item.id}", "").strip()
        accepted = instrument.answer_sets[item.answers]
        if not raw.isdigit() or not accepted.min <= int(raw) <= accepted.max:
            errors[f"item-{item.id}"] = f"required: one of {accepted.describe()}"
            continue
        answers[item.id] = int(raw)
    if errors or at is None:
        return _assessment_page(
            request, user, patient_id, instrument_id, 422, form=form, errors=errors
        )
    try:
        result = record_assessment(
            database(request),
            request_actor(request, user),
            patient_id,
            instrument_id,
            answers,
            at,
            clock=clock(request),
        )
    except KetaclinicError as exc:
        errors["form"] = str(exc)
        return _assessment_page(
            request, user, patient_id, instrument_id, status_of(exc), form=form, errors=errors
        )
    return _assessment_page(
        request, user, patient_id, instrument_id, result=result.to_dict(), form={}
    )


def _trial_page(
    request: Request, user: SignedIn, course_id: int, status: int = 200, **extra: Any
) -> Response:
    evaluation = evaluate_course_trial(
        database(request), request_actor(request, user), course_id, clock=clock(request)
    )
    return render(
        request,
        "pages/trial.html",
        {
            "title": f"Trial evaluation, course {course_id}",
            "evaluation": evaluation,
            "e": evaluation.to_dict(),
            "decisions": DECISIONS,
            "form": {},
            "errors": {},
            **extra,
        },
        status,
    )


@router.get("/courses/{course_id}/trial")
def trial_page(
    request: Request,
    user: ReadPatients,
    course_id: Id,
    decided: Annotated[int | None, Query(ge=0, le=1)] = None,
) -> Response:
    return _trial_page(request, user, course_id, decided=decided)


@router.post("/courses/{course_id}/trial")
async def trial_decision(request: Request, user: Decide, course_id: Id) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    decision = form.get("decision", "")
    if decision not in DECISIONS:
        errors = {"decision": f"accepted: {', '.join(DECISIONS)}"}
        return _trial_page(request, user, course_id, 422, form=form, errors=errors)
    try:
        record_trial_decision(
            database(request),
            request_actor(request, user),
            course_id,
            decision,
            form.get("reason", "").strip() or None,
            clock=clock(request),
        )
    except KetaclinicError as exc:
        errors = {"decision": str(exc)}
        return _trial_page(request, user, course_id, status_of(exc), form=form, errors=errors)
    return RedirectResponse(f"/courses/{course_id}/trial?decided=1", status_code=303)
