"""Patient pages: search and list, the intake form (a new patient with the facts the safety
engine needs), and the chart (summary, diagnoses, medications, weights, outcome trajectories
against baseline and the response threshold, opioid MME, courses, sessions, adverse events,
cumulative exposure, costs)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from ketaclinic.errors import KetaclinicError
from ketaclinic.ranges import HEIGHT_CM, WEIGHT_KG
from ketaclinic.services import (
    Enrolment,
    Permission,
    SignedIn,
    enrol_patient,
    patient_chart,
    search_patients,
)
from ketaclinic.web._charts import mme_figure, outcome_figure
from ketaclinic.web._clinic_time import clinic_today
from ketaclinic.web._deps import client_address, clock, database, page_permission
from ketaclinic.web._errors import status_of
from ketaclinic.web._forms import FormErrors, validate_form
from ketaclinic.web._templates import render

router = APIRouter(include_in_schema=False)

ReadPatients = Annotated[SignedIn, Depends(page_permission(Permission.PATIENT_READ))]
WritePatients = Annotated[SignedIn, Depends(page_permission(Permission.PATIENT_WRITE))]
PatientId = Annotated[int, Path(ge=1, le=2**31 - 1)]

PAGE_SIZE = 50
SEXES = ("female", "male", "intersex", "unknown")
CHILD_PUGH = ("", "A", "B", "C")
PREGNANCY = ("", "pregnant", "not_pregnant", "unknown", "not_applicable")
SUBSTANCE_STATUS = ("current", "past", "never")
DIAGNOSIS_ROWS = 2
MEDICATION_ROWS = 3
MEDICATION_UNITS = ("", "mg", "mg/day", "mcg", "mcg/day", "mcg/h", "g", "mL", "units", "puffs")
QUALIFIERS = ("opioid_tolerant", "neuropathic", "inflammatory", "depression")


@router.get("/patients")
def patients(
    request: Request,
    user: ReadPatients,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    found = search_patients(
        database(request),
        user.actor(client_address(request)),
        q,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
        clock=clock(request),
    )
    more = len(found) > PAGE_SIZE

    def link(number: int) -> str:
        return "/patients?" + urlencode({"q": q, "page": number})

    return render(
        request,
        "pages/patients.html",
        {
            "title": "Patients",
            "q": q,
            "patients": found[:PAGE_SIZE],
            "page": page,
            "previous": link(page - 1) if page > 1 else None,
            "next": link(page + 1) if more else None,
        },
    )


def _intake(
    request: Request, form: dict[str, Any], errors: FormErrors, status: int = 200
) -> Response:
    return render(
        request,
        "pages/intake.html",
        {
            "title": "New patient",
            "form": form,
            "errors": errors,
            "sexes": SEXES,
            "child_pugh": CHILD_PUGH,
            "pregnancy": PREGNANCY,
            "substance_status": SUBSTANCE_STATUS,
            "diagnosis_rows": range(DIAGNOSIS_ROWS),
            "medication_rows": range(MEDICATION_ROWS),
            "medication_units": MEDICATION_UNITS,
            "qualifiers": QUALIFIERS,
            "weight_range": WEIGHT_KG.describe(),
            "height_range": HEIGHT_CM.describe(),
        },
        status,
    )


@router.get("/patients/new")
def new_patient(request: Request, user: WritePatients) -> Response:
    today = clinic_today(request).isoformat()
    return _intake(request, {"measured_on": today}, {})


def _text(form: Any, name: str) -> str:
    return str(form.get(name) or "").strip()


def _enrolment(form: Any, today: date) -> tuple[dict[str, Any], dict[tuple[Any, ...], str]]:
    """The form as the ``Enrolment`` input of the service, and where each part came from."""
    data: dict[str, Any] = {
        "mrn": _text(form, "mrn"),
        "demographics": {
            "given_name": _text(form, "given_name"),
            "family_name": _text(form, "family_name"),
            "birth_date": _text(form, "birth_date") or None,
            "sex_at_birth": _text(form, "sex_at_birth") or None,
        },
    }
    fields: dict[tuple[Any, ...], str] = {}
    weight = _text(form, "weight_kg")
    if weight or _text(form, "height_cm"):
        data["weight"] = {
            "weight_kg": weight or None,
            "measured_on": _text(form, "measured_on") or None,
            "height_cm": _text(form, "height_cm") or None,
        }
    fields[("weight", "measured_on")] = "measured_on"
    diagnoses: list[dict[str, Any]] = []
    for row in range(DIAGNOSIS_ROWS):
        code, text = _text(form, f"icd10cm_code_{row}"), _text(form, f"diagnosis_text_{row}")
        if code or text:
            fields[("diagnoses", len(diagnoses), "icd10cm_code")] = f"icd10cm_code_{row}"
            fields[("diagnoses", len(diagnoses), "free_text")] = f"diagnosis_text_{row}"
            diagnoses.append({"icd10cm_code": code, "free_text": text or code})
    data["diagnoses"] = diagnoses
    medications: list[dict[str, Any]] = []
    for row in range(MEDICATION_ROWS):
        name = _text(form, f"drug_name_{row}")
        value, unit = _text(form, f"dose_value_{row}"), _text(form, f"dose_unit_{row}")
        if name or value or unit:
            for key in ("drug_name", "dose_value", "dose_unit"):
                fields[("medications", len(medications), key)] = f"{key}_{row}"
            fields[("medications", len(medications))] = f"drug_name_{row}"
            medications.append(
                {"drug_name": name, "dose_value": value or None, "dose_unit": unit or None}
            )
    data["medications"] = medications
    ticked = {q: form.get(q) == "yes" for q in QUALIFIERS}
    if any(ticked.values()):
        data["pain_qualifiers"] = {"assessed_on": today, **ticked}
    if _text(form, "child_pugh_class"):
        data["child_pugh"] = {
            "child_pugh_class": _text(form, "child_pugh_class"),
            "assessed_on": today,
        }
    if _text(form, "substance"):
        data["substance_use"] = [
            {"substance": _text(form, "substance"), "status": _text(form, "substance_status")}
        ]
        fields[("substance_use", 0, "status")] = "substance_status"
        fields[("substance_use", 0, "substance")] = "substance"
    if _text(form, "pregnancy_status"):
        data["pregnancy"] = {"assessed_on": today, "status": _text(form, "pregnancy_status")}
        fields[("pregnancy", "status")] = "pregnancy_status"
    return data, fields


def _field_namer(fields: dict[tuple[Any, ...], str]) -> Any:
    def name(loc: tuple[Any, ...]) -> str:
        for length in range(len(loc), 0, -1):
            if loc[:length] in fields:
                return fields[loc[:length]]
        if len(loc) >= 2 and loc[0] in ("demographics", "weight"):
            return str(loc[1])
        return str(loc[0]) if loc else "form"

    return name


@router.post("/patients")
async def enrol(request: Request, user: WritePatients) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    today = clinic_today(request)
    data, fields = _enrolment(values, today)
    errors: FormErrors = {}
    enrolment = validate_form(Enrolment, data, _field_namer(fields), errors)
    if enrolment is None:
        return _intake(request, values, errors, 422)
    try:
        patient_id = enrol_patient(
            database(request),
            user.actor(client_address(request)),
            enrolment,
            clock=clock(request),
        )
    except KetaclinicError as exc:
        errors["form"] = str(exc)
        return _intake(request, values, errors, status_of(exc))
    return RedirectResponse(f"/patients/{patient_id}/eligibility?enrolled=1", status_code=303)


def _chart_context(request: Request, user: SignedIn, patient_id: int) -> dict[str, Any]:
    db, actor, now = database(request), user.actor(client_address(request)), clock(request)
    chart = patient_chart(db, actor, patient_id, clock=now)  # one audited read
    record, history, courses = chart.record, chart.history, list(chart.courses)
    exposure, cost = chart.exposure, chart.cost
    figures = {
        f"outcome-{i}": outcome_figure(series.to_dict())
        for i, series in enumerate(history.outcomes)
    }
    if any(o["mme_mg_per_day"] is not None for o in history.opioid_use):
        figures["mme"] = mme_figure(history.opioid_use)
    return {
        "title": f"Chart {record.mrn}",
        "record": record,
        "patient": record.to_dict(),
        "history": history,
        "courses": courses,
        "figures": figures,
        "exposure": exposure,
        "cost": cost,
    }


@router.get("/patients/{patient_id}")
def chart(request: Request, user: ReadPatients, patient_id: PatientId) -> Response:
    return render(request, "pages/chart.html", _chart_context(request, user, patient_id))
