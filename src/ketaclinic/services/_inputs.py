"""The edge of the clinical use cases: who acts (an active staff member whose role holds the
use case's permission in ``ROLE_PERMISSIONS``), input
validated into one-line errors, and the field types with their declared ranges.

Every clinical service validates its input here, before it writes anything, with ranges from
:mod:`ketaclinic.ranges`. A request that fails validation raises :class:`UserInputError`
(exit 2, HTTP 422); one that a rule refuses raises :class:`RefusedError` (exit 3, HTTP 409),
or :class:`NotAllowedError` (HTTP 403) when the actor's role may not do it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from ketaclinic.errors import NotAllowedError, OutOfRangeError, UserInputError
from ketaclinic.ranges import BIRTH_DATE, CLINIC_DATE, HEIGHT_CM, WEIGHT_KG
from ketaclinic.safety import format_validation_error
from ketaclinic.services._audit import UseCase
from ketaclinic.services._permissions import (
    OPERATOR_ROLE,
    Permission,
    holders_of,
    permissions_of,
)
from ketaclinic.store import ClinicalRecord, Patient, StaffUser, get, get_patient

__all__ = [
    "ClinicDay",
    "HeightCm",
    "Input",
    "Instant",
    "Reason",
    "WeightKg",
    "authorize",
    "check_instant",
    "existing_patient",
    "record_of_patient",
    "staff_member",
    "validated",
    "who",
]

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R", bound=ClinicalRecord)

_MAX_REASON = 2000


class Input(BaseModel):
    """Base of every service input: immutable, unknown fields refused, text trimmed."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def validated(model: type[M], data: M | Mapping[str, Any], what: str) -> M:
    """``data`` as a ``model``, or one :class:`UserInputError` line naming every bad field."""
    if isinstance(data, model):
        return data
    if not isinstance(data, Mapping):
        raise UserInputError(f"{what}: expected an object of fields, got {type(data).__name__}")
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        raise UserInputError(format_validation_error(error, what)) from None


def _clinic_day(value: date) -> date:
    CLINIC_DATE.check(value)
    return value


def _birth_day(value: date) -> date:
    BIRTH_DATE.check(value)
    return value


def check_instant(value: datetime, what: str = "time") -> datetime:
    """An aware instant inside the clinic dates, in UTC; a naive time is refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise UserInputError(
            f"{what} {value.isoformat()} has no time zone; give it with one, e.g. "
            "2026-12-01T09:30:00Z"
        )
    CLINIC_DATE.check(value, what)
    return value.astimezone(UTC)


def _instant(value: datetime) -> datetime:
    return check_instant(value)


ClinicDay = Annotated[date, AfterValidator(_clinic_day)]
BirthDay = Annotated[date, AfterValidator(_birth_day)]
Instant = Annotated[datetime, AfterValidator(_instant)]
WeightKg = Annotated[float, AfterValidator(WEIGHT_KG.check)]
HeightCm = Annotated[float, AfterValidator(HEIGHT_CM.check)]
Reason = Annotated[str, Field(min_length=1, max_length=_MAX_REASON)]


def staff_member(uc: UseCase) -> StaffUser:
    """The staff account the use case acts for; an unknown or disabled account is refused."""
    actor = uc.actor
    query = select(StaffUser).where(StaffUser.username == actor.username)
    user = uc.session.scalars(query).one_or_none()
    if user is None or (actor.user_id is not None and actor.user_id != user.id):
        raise NotAllowedError(f"{actor.username!r} is not a staff account of this clinic")
    if user.disabled_at is not None:
        raise NotAllowedError(
            f"the account {actor.username!r} is disabled (since "
            f"{user.disabled_at.date().isoformat()}): it has no access to patient records"
        )
    return user


def _a(role: str) -> str:
    return f"an {role}" if role[:1] in "aeiou" else f"a {role}"


def authorize(uc: UseCase, permission: Permission, doing: str) -> StaffUser:
    """The acting staff member, if their role holds ``permission`` in ``ROLE_PERMISSIONS``
    (the one table every interface asks); else NotAllowedError naming who may."""
    user = staff_member(uc)
    if permission not in permissions_of(user.role):
        allowed = " or ".join(_a(r) for r in holders_of(permission)) or "nobody"
        raise NotAllowedError(
            f"{doing} needs {allowed} (permission {permission.value}); "
            f"{user.username!r} is {_a(user.role)}"
        )
    return user


def authorize_admin(uc: UseCase, permission: Permission, doing: str) -> StaffUser | None:
    """:func:`authorize` for the administration use cases the command line runs too
    (accounts, audit search, backup and restore): the command line's operator
    (``Actor.is_operator``) holds the permissions of ``OPERATOR_ROLE`` in
    ``ROLE_PERMISSIONS`` (None: no staff account acts); anyone else is a staff member whose
    role must hold ``permission``."""
    if uc.actor.is_operator:
        if permission not in permissions_of(OPERATOR_ROLE):
            raise NotAllowedError(
                f"{doing} needs {' or '.join(_a(r) for r in holders_of(permission))} "
                f"(permission {permission.value}); the command line acts as {_a(OPERATOR_ROLE)}"
            )
        return None
    return authorize(uc, permission, doing)


def who(uc: UseCase, user: StaffUser) -> dict[str, Any]:
    """The bookkeeping columns of a new clinical record made in this use case."""
    return {"recorded_at": uc.now, "recorded_by_id": user.id}


def existing_patient(uc: UseCase, patient_id: int) -> Patient:
    """The patient ``patient_id``; an id that is not a positive integer is bad input."""
    if isinstance(patient_id, bool) or not isinstance(patient_id, int) or patient_id < 1:
        raise UserInputError(f"patient id {patient_id!r} is not accepted: a positive integer")
    return get_patient(uc.session, patient_id)


def record_of_patient(uc: UseCase, model: type[R], record_id: int, patient_id: int | None) -> R:
    """The record ``record_id`` of ``model``, checked to belong to ``patient_id`` if given."""
    if isinstance(record_id, bool) or not isinstance(record_id, int) or record_id < 1:
        raise UserInputError(f"record id {record_id!r} is not accepted: a positive integer")
    record = get(uc.session, model, record_id)
    if patient_id is not None and record.patient_id != patient_id:
        raise UserInputError(
            f"{model.__tablename__} record {record_id} belongs to another patient, not to "  # type: ignore[attr-defined]
            f"patient {patient_id}"
        )
    return record


def positive_id(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserInputError(f"{what} {value!r} is not accepted: a positive integer")
    return value


def check_range(value: Any, low: float, high: float, what: str, unit: str) -> float:
    """A finite number within [low, high], or OutOfRangeError naming the range and unit."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OutOfRangeError(
            f"{what} {value!r} is not a number; accepted: {low:g}-{high:g} {unit}"
        ) from None
    if not low <= number <= high:
        raise OutOfRangeError(
            f"{what} {number:g} {unit} is outside the accepted range {low:g}-{high:g} {unit}"
        )
    return number
