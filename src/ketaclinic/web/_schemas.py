"""API types: strict Pydantic models, error bodies, and fields bounded by the clinical ranges.

Follow this pattern in every API module: request bodies are ``StrictModel`` subclasses (no
lax coercion: ``"70"`` is not a weight), numbers with a clinical meaning use
:func:`ranged` so that the OpenAPI schema, validation and the message all come from
``ketaclinic.ranges``, and routers declare ``ERROR_RESPONSES``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ketaclinic.ranges import ClinicalRange

__all__ = ["ERROR_RESPONSES", "ErrorBody", "FieldError", "StrictModel", "ranged"]


class StrictModel(BaseModel):
    """Base of request bodies: strict types, unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error: a one-line ``message``; for invalid input also ``detail`` per field."""

    message: str
    detail: list[FieldError] | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "malformed request"),
        (401, "not signed in, or the session has ended"),
        (403, "the role may not do this"),
        (404, "no such record"),
        (409, "refused by a rule"),
        (422, "invalid input: the message names the field and what is accepted"),
        (429, "too many failed sign-ins"),
    )
}


def ranged(clinical: ClinicalRange, **extra: Any) -> Any:
    """A ``Field`` bounded by a clinical range, its unit in the description."""
    low = {"ge": clinical.low} if clinical.low_inclusive else {"gt": clinical.low}
    options: dict[str, Any] = {
        "description": f"{clinical.label} in {clinical.unit}, accepted {clinical.describe()}",
        "le": clinical.high,
        **low,
        **extra,
    }
    return Field(**options)
