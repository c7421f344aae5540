"""Chair-side session pages (nurses and physicians): start a session from a double-checked
order, doses and rate changes, vitals, MOAA/S and CADSS-6, adverse events, the discharge gate
with its reasons while closed, the scheduled checks of a multi-day infusion, and the
printable discharge sheet with the post-infusion warnings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response

from ketaclinic.errors import KetaclinicError
from ketaclinic.outcomes import get_instrument
from ketaclinic.ranges import (
    DIASTOLIC_MMHG,
    HEART_RATE_PER_MIN,
    RESPIRATORY_RATE_PER_MIN,
    SPO2_PERCENT,
    SYSTOLIC_MMHG,
)
from ketaclinic.services import (
    ADVERSE_EVENT_OUTCOMES,
    ADVERSE_EVENT_SEVERITIES,
    Permission,
    SignedIn,
    VitalsReading,
    change_rate,
    check_status,
    discharge,
    record_adverse_event,
    record_dose,
    record_session_score,
    record_vitals,
    session_record,
    session_view,
    start_session,
    stop_infusion,
)
from ketaclinic.web._clinic_time import clinic_zone
from ketaclinic.web._deps import clock, database, page_permission, request_actor
from ketaclinic.web._errors import status_of
from ketaclinic.web._forms import FormErrors, local_input, number, parse_instant
from ketaclinic.web._templates import render

router = APIRouter(include_in_schema=False)

Document = Annotated[SignedIn, Depends(page_permission(Permission.SESSION_DOCUMENT))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]

VITALS = (
    ("systolic_mmhg", "Systolic (mmHg)", SYSTOLIC_MMHG),
    ("diastolic_mmhg", "Diastolic (mmHg)", DIASTOLIC_MMHG),
    ("heart_rate_per_min", "Heart rate (/min)", HEART_RATE_PER_MIN),
    ("respiratory_rate_per_min", "Respiratory rate (/min)", RESPIRATORY_RATE_PER_MIN),
    ("spo2_percent", "SpO2 (%)", SPO2_PERCENT),
)
SCALES = ("moaa-s", "cadss-6")
#: What the discharge sheet tells every patient (Spravato label and REMS: no driving or
#: operating machinery until the next day after a restful sleep; DOMAIN.md section 4).
POST_INFUSION_WARNINGS = (
    "Do not drive, cycle or operate machinery until the next day, after a restful sleep "
    "(Spravato label and REMS; DOMAIN.md section 4).",
    "Go home with a responsible adult; do not travel alone.",
    "No alcohol, sleeping tablets or sedatives for the rest of the day.",
    "Call the clinic or emergency services for chest pain, severe headache, confusion, "
    "breathing problems, or thoughts of harming yourself.",
)


def _form(raw: Any) -> dict[str, str]:
    return {k: v for k, v in raw.items() if isinstance(v, str)}


@router.post("/orders/{order_id}/sessions")
async def start(request: Request, user: Document, order_id: Id) -> Response:
    form = _form(await request.form())
    errors: FormErrors = {}
    started = (
        parse_instant(form.get("started_at"), "started_at", errors, zone=clinic_zone(request))
        if form.get("started_at", "").strip()
        else None
    )
    if errors:
        raise_input(errors)
    session_id = start_session(
        database(request),
        request_actor(request, user),
        order_id=order_id,
        lot_number=form.get("lot_number", ""),
        started_at=started,
        clock=clock(request),
    )
    return RedirectResponse(f"/sessions/{session_id}", status_code=303)


def raise_input(errors: FormErrors) -> None:
    from ketaclinic.errors import UserInputError

    raise UserInputError("; ".join(f"{k}: {v}" for k, v in errors.items()))


def _session_page(
    request: Request,
    user: SignedIn,
    session_id: int,
    status: int = 200,
    *,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    section: str | None = None,
    notice: str | None = None,
) -> Response:
    db, actor, now = database(request), request_actor(request, user), clock(request)
    view = session_view(db, actor, session_id=session_id, clock=now, zone=clinic_zone(request))
    record, readiness = view.record, view.readiness
    checks = check_status(db, actor, session_id=session_id, clock=now) if record.multi_day else ()
    return render(
        request,
        "pages/session.html",
        {
            "title": f"Session {record.session_id}",
            "s": record,
            "record": record.to_dict(),
            "readiness": readiness,
            "checks": checks,
            "vitals_fields": [(n, label, r.describe()) for n, label, r in VITALS],
            "scales": [get_instrument(i) for i in SCALES],
            "severities": ADVERSE_EVENT_SEVERITIES,
            "outcomes": ADVERSE_EVENT_OUTCOMES,
            "now_local": local_input(now(), clinic_zone(request)),
            "form": form or {},
            "errors": errors or {},
            "section": section,
            "notice": notice,
        },
        status,
    )


@router.get("/sessions/{session_id}")
def session_page(request: Request, user: Document, session_id: Id) -> Response:
    return _session_page(request, user, session_id)


def _done(session_id: int, what: str) -> Response:
    return RedirectResponse(f"/sessions/{session_id}?done={what}#{what}", status_code=303)


@router.post("/sessions/{session_id}/doses")
async def dose(request: Request, user: Document, session_id: Id) -> Response:
    form = _form(await request.form())
    errors: FormErrors = {}
    at = parse_instant(form.get("given_at"), "given_at", errors, zone=clinic_zone(request))
    kind = form.get("kind", "dose")
    text = form.get("dose", "").strip()
    if kind != "stop" and not text:
        errors["dose"] = "required: a dose in the dose grammar, e.g. iv-infusion 35 mg over 40 min"
    if kind not in ("dose", "rate", "stop"):
        errors["kind"] = "accepted: dose, rate, stop"
    if errors or at is None:
        return _session_page(
            request, user, session_id, 422, form=form, errors=errors, section="doses"
        )
    db, actor, now = database(request), request_actor(request, user), clock(request)
    try:
        if kind == "dose":
            record_dose(db, actor, session_id=session_id, given_at=at, dose=text, clock=now)
        elif kind == "rate":
            change_rate(db, actor, session_id=session_id, given_at=at, dose=text, clock=now)
        else:
            stop_infusion(db, actor, session_id=session_id, given_at=at, clock=now)
    except KetaclinicError as exc:
        errors["dose"] = str(exc)
        return _session_page(
            request, user, session_id, status_of(exc), form=form, errors=errors, section="doses"
        )
    return _done(session_id, "doses")


@router.post("/sessions/{session_id}/vitals")
async def vitals(request: Request, user: Document, session_id: Id) -> Response:
    form = _form(await request.form())
    errors: FormErrors = {}
    at = parse_instant(form.get("measured_at"), "measured_at", errors, zone=clinic_zone(request))
    values = {name: number(form, name, clinical, errors) for name, _, clinical in VITALS}
    if not errors and all(v is None for v in values.values()):
        errors["systolic_mmhg"] = "enter at least one vital sign"
    if errors or at is None:
        return _session_page(
            request, user, session_id, 422, form=form, errors=errors, section="vitals"
        )
    try:
        recorded = record_vitals(
            database(request),
            request_actor(request, user),
            session_id=session_id,
            reading=VitalsReading(measured_at=at, **values),
            clock=clock(request),
        )
    except KetaclinicError as exc:
        errors["vitals"] = str(exc)
        return _session_page(
            request, user, session_id, status_of(exc), form=form, errors=errors, section="vitals"
        )
    if recorded.flags:
        notice = "Recorded, flagged: " + "; ".join(f.message for f in recorded.flags)
        return _session_page(request, user, session_id, notice=notice, section="vitals")
    return _done(session_id, "vitals")


@router.post("/sessions/{session_id}/scores")
async def scores(request: Request, user: Document, session_id: Id) -> Response:
    form = _form(await request.form())
    errors: FormErrors = {}
    scale = form.get("instrument", "")
    if scale not in SCALES:
        errors["instrument"] = f"accepted: {', '.join(SCALES)}"
        return _session_page(
            request, user, session_id, 422, form=form, errors=errors, section="scores"
        )
    instrument = get_instrument(scale)
    at = parse_instant(
        form.get(f"{scale}-measured_at"), f"{scale}-measured_at", errors, zone=clinic_zone(request)
    )
    answers: dict[str, int] = {}
    for item in instrument.items:
        key = f"{scale}-{item.id}"
        raw = form.get(key, "").strip()
        answer_set = instrument.answer_sets[item.answers]
        if not raw.lstrip("-").isdigit():
            errors[key] = f"required: {answer_set.describe()}"
            continue
        answers[item.id] = int(raw)
    if errors or at is None:
        return _session_page(
            request, user, session_id, 422, form=form, errors=errors, section="scores"
        )
    try:
        result = record_session_score(
            database(request),
            request_actor(request, user),
            session_id=session_id,
            instrument_id=scale,
            answers=answers,
            measured_at=at,
            clock=clock(request),
        )
    except KetaclinicError as exc:
        errors[f"{scale}-form"] = str(exc)
        return _session_page(
            request, user, session_id, status_of(exc), form=form, errors=errors, section="scores"
        )
    alerts = " ".join(a.message for a in result.alerts)
    notice = f"{result.instrument_short_name} {result.total:g} points recorded. {alerts}".strip()
    return _session_page(request, user, session_id, notice=notice, section="scores")


@router.post("/sessions/{session_id}/adverse-events")
async def adverse_event(request: Request, user: Document, session_id: Id) -> Response:
    form = _form(await request.form())
    errors: FormErrors = {}
    at = parse_instant(form.get("onset_at"), "onset_at", errors, zone=clinic_zone(request))
    if not form.get("term", "").strip():
        errors["term"] = "required: what happened, e.g. nausea, hypertension"
    if errors or at is None:
        return _session_page(request, user, session_id, 422, form=form, errors=errors, section="ae")
    try:
        record_adverse_event(
            database(request),
            request_actor(request, user),
            session_id=session_id,
            onset_at=at,
            term=form.get("term", ""),
            severity=form.get("severity", ""),
            outcome=form.get("outcome", ""),
            action_taken=form.get("action_taken", "").strip() or None,
            clock=clock(request),
        )
    except KetaclinicError as exc:
        errors["term"] = str(exc)
        return _session_page(
            request, user, session_id, status_of(exc), form=form, errors=errors, section="ae"
        )
    return _done(session_id, "ae")


@router.post("/sessions/{session_id}/discharge")
async def discharge_post(request: Request, user: Document, session_id: Id) -> Response:
    form = _form(await request.form())
    decision = form.get("decision", "discharged")
    try:
        discharge(
            database(request),
            request_actor(request, user),
            session_id=session_id,
            decision=decision,
            reason=form.get("reason", "").strip() or None,
            override_reason=form.get("override_reason", "").strip() or None,
            clock=clock(request),
            zone=clinic_zone(request),
        )
    except KetaclinicError as exc:
        errors = {"discharge": str(exc)}
        return _session_page(
            request, user, session_id, status_of(exc), form=form, errors=errors, section="discharge"
        )
    return RedirectResponse(f"/sessions/{session_id}/discharge-sheet", status_code=303)


@router.get("/sessions/{session_id}/discharge-sheet")
def discharge_sheet(request: Request, user: Document, session_id: Id) -> Response:
    record = session_record(
        database(request), request_actor(request, user), session_id=session_id, clock=clock(request)
    )
    return render(
        request,
        "pages/discharge_sheet.html",
        {
            "title": f"Discharge sheet, session {record.session_id}",
            "s": record,
            "record": record.to_dict(),
            "warnings": POST_INFUSION_WARNINGS,
        },
    )
