"""``/api/v1/admin``: accounts and the audit trail, for admins (the pages' use cases)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from ketaclinic.errors import UserInputError
from ketaclinic.services import (
    AUDIT_PAGE_SIZE_MAX,
    PASSWORD_MAX_CHARS,
    PASSWORD_MIN_CHARS,
    AuditQuery,
    Permission,
    SignedIn,
    StaffAccount,
    add_staff_user,
    disable_staff_user,
    list_staff_users,
    search_audit,
    verify_audit,
)
from ketaclinic.web._deps import api_permission, client_address, clock, database
from ketaclinic.web._schemas import ERROR_RESPONSES, StrictModel

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)

ManageUsers = Annotated[SignedIn, Depends(api_permission(Permission.USERS_MANAGE))]
ReadAudit = Annotated[SignedIn, Depends(api_permission(Permission.AUDIT_READ))]

Role = Literal["physician", "nurse", "admin", "researcher"]
SortField = Literal["seq", "occurred_at", "actor_username", "action", "record_type", "patient_id"]
#: RFC 3339 date-time, written out: numbers are not read as Unix times (no lax coercion).
RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)
Instant = Annotated[
    str | None,
    Query(
        max_length=40,
        description="an RFC 3339 instant with its zone, e.g. 2026-03-02T09:00:00Z",
        json_schema_extra={"format": "date-time"},
    ),
]
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
Username = Annotated[str, Field(min_length=1, max_length=64, pattern=USERNAME_PATTERN)]


class NewUser(StrictModel):
    username: Username
    role: Role
    password: Annotated[str, Field(min_length=PASSWORD_MIN_CHARS, max_length=PASSWORD_MAX_CHARS)]
    display_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class Account(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    created_at: datetime
    disabled_at: datetime | None
    active: bool


def _account(a: StaffAccount) -> Account:
    return Account(**a.to_dict())


class AuditEventOut(BaseModel):
    seq: int
    occurred_at: datetime
    actor_username: str
    client_address: str
    action: str
    record_type: str | None
    record_id: int | None
    patient_id: int | None
    reason: str | None
    details: Any = None


class AuditPageOut(BaseModel):
    events: list[AuditEventOut]
    total: int
    page: int
    page_size: int
    pages: int
    sort: str
    descending: bool


class AuditVerification(BaseModel):
    ok: bool
    events_checked: int
    head_seq: int
    head_hash: str
    problems: list[dict[str, Any]]


def _instant(text: str | None) -> datetime | None:
    """An RFC 3339 instant; a leap second (:60) is read as :59 (Python has no :60)."""
    if text is None:
        return None
    match = RFC3339.fullmatch(text)
    if match is None:
        raise UserInputError(
            f"{text!r:.40} is not an RFC 3339 date-time; accepted: 2026-03-02T09:00:00Z"
        )
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = (match.group(7) or ".0")[1:7].ljust(6, "0")
    zone = match.group(8).upper()
    offset = timedelta(0)
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        return datetime(
            year,
            month,
            day,
            hour,
            minute,
            min(second, 59),
            int(fraction),
            tzinfo=timezone(offset),
        )
    except ValueError as exc:  # 2026-02-30, hour 25, an offset of 24 h or more
        raise UserInputError(f"{text!r:.40} is not a date and time that exists: {exc}") from None


@router.get("/users", summary="every staff account")
def users(user: ManageUsers, request: Request) -> list[Account]:
    actor = user.actor(client_address(request))
    return [_account(a) for a in list_staff_users(database(request), actor, clock=clock(request))]


@router.post("/users", status_code=201, summary="add a staff account")
def add_user(user: ManageUsers, request: Request, body: NewUser) -> Account:
    account = add_staff_user(
        database(request),
        user.actor(client_address(request)),
        username=body.username,
        role=body.role,
        password=body.password,
        display_name=body.display_name,
        clock=clock(request),
    )
    return _account(account)


@router.post("/users/{username}/disable", summary="disable an account and end its sessions")
def disable_user(
    user: ManageUsers,
    request: Request,
    username: Annotated[str, Path(pattern=USERNAME_PATTERN)],
) -> Account:
    account = disable_staff_user(
        database(request), user.actor(client_address(request)), username, clock=clock(request)
    )
    return _account(account)


@router.get("/audit", summary="the audit trail: filters, sorting, pages")
def audit(
    user: ReadAudit,
    request: Request,
    actor_username: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    record_type: Annotated[str | None, Query(max_length=100)] = None,
    patient_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    occurred_from: Instant = None,
    occurred_to: Instant = None,
    sort: SortField = "seq",
    order: Literal["asc", "desc"] = "desc",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=AUDIT_PAGE_SIZE_MAX)] = 50,
) -> AuditPageOut:
    query = AuditQuery(
        actor_username=actor_username,
        action=action,
        record_type=record_type,
        patient_id=patient_id,
        occurred_from=_instant(occurred_from),
        occurred_to=_instant(occurred_to),
        sort=sort,
        descending=order == "desc",
        page=page,
        page_size=page_size,
    )
    result = search_audit(
        database(request), user.actor(client_address(request)), query, clock=clock(request)
    )
    return AuditPageOut(**result.to_dict())


@router.get("/audit/verify", summary="recompute the audit trail's hash chain")
def audit_verify(user: ReadAudit, request: Request) -> AuditVerification:
    return AuditVerification(**verify_audit(database(request)).to_dict())
