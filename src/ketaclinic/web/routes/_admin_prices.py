"""The admin's price page: the clinic's current price list, every version before it, and a
form to set a new version with a reason (``prices.set``: the admin, as the clinic's
manager; the same use case as ``ketaclinic prices set``). Money is in whole minor units
(cents) of the list's currency, as the price list holds it; each field says what it accepts,
and a refused value is shown next to its field."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from ketaclinic.errors import KetaclinicError
from ketaclinic.services import (
    PRICE_ACCEPTED,
    PRICE_FIELDS,
    Permission,
    PriceListVersion,
    SignedIn,
    clinic_price_list,
    price_list_history,
    set_clinic_prices,
)
from ketaclinic.web._deps import clock, database, page_permission, request_actor
from ketaclinic.web._errors import status_of
from ketaclinic.web._forms import FormErrors
from ketaclinic.web._templates import render

router = APIRouter(prefix="/admin", include_in_schema=False)

SetPrices = Annotated[SignedIn, Depends(page_permission(Permission.PRICES_SET))]

#: The form's label of each price-list field (its unit follows from ``PRICE_FIELDS``).
LABELS: dict[str, str] = {
    "currency": "Currency",
    "ketamine_vial_mg": "Racemic ketamine vial size (mg)",
    "ketamine_vial_minor": "Price of one ketamine vial (minor units)",
    "esketamine_device_minor": "Price of one 28-mg esketamine device (minor units)",
    "chair_per_15_min_minor": "Chair time per started 15 min (minor units)",
    "monitoring_per_session_minor": "Monitoring per session (minor units)",
    "nurse_per_hour_minor": "One nurse hour (minor units)",
    "patients_per_nurse": "Patients one nurse cares for at a time",
}
_WHOLE = {name for name in PRICE_FIELDS if name.endswith("_minor")} | {"patients_per_nurse"}
_TEXTS = ("reason", "label")


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _changes(versions: tuple[PriceListVersion, ...]) -> list[dict[str, Any]]:
    """Every version, newest first, with what it changed against the one before it."""
    rows = []
    for before, after in zip((None, *versions[:-1]), versions, strict=True):
        old = asdict(before.prices) if before is not None else {}
        new = asdict(after.prices)
        changed = [
            f"{name} {_shown(old[name])} -> {_shown(new[name])}"
            for name in PRICE_FIELDS
            if old and old[name] != new[name]
        ]
        rows.append({"version": after, "changed": changed})
    return rows[::-1]


def _page(
    request: Request,
    status: int = 200,
    *,
    form: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    saved: int | None = None,
) -> Response:
    db = database(request)
    current = clinic_price_list(db)
    values = asdict(current.prices)
    return render(
        request,
        "admin/prices.html",
        {
            "title": "Prices",
            "current": current,
            "values": values,
            "history": _changes(price_list_history(db)),
            "fields": [
                (name, LABELS[name], PRICE_FIELDS[name], PRICE_ACCEPTED[name])
                for name in PRICE_FIELDS
            ],
            "form": form if form is not None else {k: _shown(v) for k, v in values.items()},
            "errors": errors or {},
            "saved": saved,
        },
        status,
    )


@router.get("/prices")
def prices_page(
    request: Request,
    user: SetPrices,
    saved: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    return _page(request, saved=saved)


def _parsed(name: str, text: str, errors: FormErrors) -> Any:
    accepted = PRICE_ACCEPTED[name]
    if not text:
        errors[name] = f"required; accepted: {accepted}"
        return None
    if name == "currency":
        return text
    try:
        return int(text) if name in _WHOLE else float(text)
    except ValueError:
        kind = "a whole number" if name in _WHOLE else "a number"
        errors[name] = f"{text[:40]!r} is not {kind}; accepted: {accepted}"
        return None


def _field_of(message: str) -> str:
    """The form field a refusal from the service names (its messages start with it)."""
    for name in PRICE_FIELDS:
        if message.startswith(f"{name} "):
            return name
    if message.startswith("a reason"):
        return "reason"
    return "label" if message.startswith("label") else "form"


@router.post("/prices")
async def set_prices(request: Request, user: SetPrices) -> Response:
    raw = await request.form()
    form = {
        name: str(raw.get(name) or "").strip()[:300]
        for name in (*PRICE_FIELDS, *_TEXTS)
        if isinstance(raw.get(name) or "", str)
    }
    errors: FormErrors = {}
    current = clinic_price_list(database(request)).prices
    changes = {}
    for name in PRICE_FIELDS:
        value = _parsed(name, form.get(name, ""), errors)
        if value is not None and value != getattr(current, name):
            changes[name] = value
    if not form.get("reason"):
        errors["reason"] = "required: why the prices change (1 to 200 characters)"
    if not errors and not changes:
        errors["form"] = "every price is as in the current version: change at least one"
    if errors:
        return _page(request, 422, form=form, errors=errors)
    try:
        version = set_clinic_prices(
            database(request),
            request_actor(request, user),
            changes,
            reason=form["reason"],
            label=form.get("label") or None,
            clock=clock(request),
        )
    except KetaclinicError as exc:
        errors[_field_of(str(exc))] = str(exc)
        return _page(request, status_of(exc), form=form, errors=errors)
    return RedirectResponse(f"/admin/prices?saved={version.version}", status_code=303)
