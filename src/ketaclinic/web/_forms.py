"""Form helpers of the clinical pages: a page form parsed into the services' own input
models, with each error placed next to the field it belongs to.

The services declare their inputs once (Pydantic models with the ranges of
:mod:`ketaclinic.ranges`); pages validate the posted form with those same models, so the
message beside a field ("weight 700 kg is outside the accepted range 2-300 kg") is the one
the service would give, with the accepted range and unit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from pydantic import BaseModel, ValidationError

from ketaclinic.errors import UserInputError
from ketaclinic.ranges import ClinicalRange

__all__ = [
    "FormErrors",
    "local_input",
    "number",
    "parse_date",
    "parse_instant",
    "validate_form",
]

FormErrors = dict[str, str]


def _message(error: Mapping[str, Any]) -> str:
    text = str(error.get("msg", "")).removeprefix("Value error, ")
    if error.get("type") == "missing":
        return "required"
    if error.get("type") == "literal_error" and "expected" in error.get("ctx", {}):
        return f"accepted: {error['ctx']['expected']}"
    return text


def validate_form(
    model: type[BaseModel],
    data: Mapping[str, Any],
    field_of: Callable[[tuple[Any, ...]], str],
    errors: FormErrors,
) -> Any:
    """``data`` as ``model``, or None with each error under the form field ``field_of(loc)``
    names (the first error of a field is kept)."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        for error in exc.errors():
            errors.setdefault(field_of(tuple(error["loc"])), _message(error))
        return None


def number(
    form: Mapping[str, Any], name: str, clinical: ClinicalRange | None, errors: FormErrors
) -> float | None:
    """The form's ``name`` as a number within ``clinical`` (empty: None), else an error that
    names the accepted range and unit."""
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        accepted = f"; accepted: {clinical.describe()}" if clinical else ""
        errors[name] = f"{raw[:40]!r} is not a number{accepted}"
        return None
    if clinical is not None and not clinical.contains(value):
        errors[name] = (
            f"{clinical.label} {value:g} {clinical.unit} is outside the accepted range "
            f"{clinical.describe()}"
        )
        return None
    return value


def parse_date(raw: str | None, name: str, errors: FormErrors) -> date | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = f"{text[:40]!r} is not a date; accepted: YYYY-MM-DD, e.g. 2026-03-02"
        return None


def parse_instant(
    raw: str | None, name: str, errors: FormErrors, *, zone: tzinfo
) -> datetime | None:
    """A ``datetime-local`` field (``2026-03-02T09:30``) read in the clinic's time zone
    ``zone`` (an explicit offset, ``2026-03-02T09:30+01:00``, is taken as given), as UTC.
    A local time the clocks skip is refused, and one they pass twice needs its offset."""
    where = getattr(zone, "key", "UTC")
    text = (raw or "").strip()
    if not text:
        errors.setdefault(name, f"required: a date and time ({where} time), e.g. 2026-03-02T09:30")
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        errors[name] = (
            f"{text[:40]!r} is not a date and time; accepted: 2026-03-02T09:30 ({where} time)"
        )
        return None
    if value.tzinfo is None:
        local = _local(value, zone)
        if isinstance(local, str):
            errors[name] = f"{text[:40]} {local}"
            return None
        value = local
    return value.astimezone(UTC)


def _local(naive: datetime, zone: tzinfo) -> datetime | str:
    """``naive`` as a time in ``zone``, or why it names no single instant there."""
    early, late = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if early.utcoffset() == late.utcoffset():
        return early
    where = getattr(zone, "key", str(zone))
    if early.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return (
            f"does not exist in {where} (the clocks go forward then); accepted: a time "
            "before or after the change"
        )
    return (
        f"happens twice in {where} (the clocks go back then); accepted: the time with its "
        f"offset, {early.isoformat(timespec='minutes')} (first) or "
        f"{late.isoformat(timespec='minutes')} (second)"
    )


def local_input(moment: datetime, zone: tzinfo) -> str:
    """An instant as a ``datetime-local`` value (minutes) in the clinic's time zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def refuse_if(errors: FormErrors) -> None:
    if errors:
        raise UserInputError("; ".join(f"{k}: {v}" for k, v in errors.items()))
