"""Admin pages: accounts and roles (add, disable), the audit trail (filters, sorting,
pages), and the result of ``audit verify``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from ketaclinic.errors import KetaclinicError, UserInputError
from ketaclinic.services import (
    AUDIT_SORT_FIELDS,
    ROLE_PERMISSIONS,
    AuditQuery,
    Permission,
    SignedIn,
    add_staff_user,
    disable_staff_user,
    list_staff_users,
    search_audit,
    verify_audit,
)
from ketaclinic.web._deps import client_address, clock, database, page_permission
from ketaclinic.web._errors import status_of
from ketaclinic.web._templates import render

router = APIRouter(prefix="/admin", include_in_schema=False)

ManageUsers = Annotated[SignedIn, Depends(page_permission(Permission.USERS_MANAGE))]
ReadAudit = Annotated[SignedIn, Depends(page_permission(Permission.AUDIT_READ))]


def _users_page(request: Request, user: SignedIn, status: int = 200, **context: Any) -> Response:
    actor = user.actor(client_address(request))
    users = list_staff_users(database(request), actor, clock=clock(request))
    values = {"title": "Users and roles", "users": users, "roles": list(ROLE_PERMISSIONS)}
    return render(request, "admin/users.html", values | context, status)


@router.get("/users")
def users(request: Request, user: ManageUsers, added: str | None = None) -> Response:
    return _users_page(request, user, added=added)


@router.post("/users")
def add_user(
    request: Request,
    user: ManageUsers,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=20)],
    password: Annotated[str, Form(max_length=1024)],
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        add_staff_user(
            database(request),
            user.actor(client_address(request)),
            username=username,
            role=role,
            password=password,
            display_name=display_name or None,
            clock=clock(request),
        )
    except KetaclinicError as exc:
        form = {"username": username, "role": role, "display_name": display_name}
        return _users_page(request, user, status_of(exc), error=str(exc), form=form)
    return RedirectResponse(f"/admin/users?{urlencode({'added': username})}", status_code=303)


@router.post("/users/{username}/disable")
def disable_user(request: Request, user: ManageUsers, username: str) -> Response:
    try:
        disable_staff_user(
            database(request), user.actor(client_address(request)), username, clock=clock(request)
        )
    except KetaclinicError as exc:
        return _users_page(request, user, status_of(exc), error=str(exc))
    return RedirectResponse("/admin/users", status_code=303)


def _instant(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UserInputError(
            f"{name} {value!r:.40} is not a date and time; accepted: 2026-03-02T09:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        raise UserInputError(f"{name} needs a time zone; accepted: 2026-03-02T09:00:00Z")
    return parsed


@router.get("/audit")
def audit(
    request: Request,
    user: ReadAudit,
    actor_username: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    record_type: Annotated[str | None, Query(max_length=100)] = None,
    patient_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    occurred_from: Annotated[str | None, Query(max_length=40)] = None,
    occurred_to: Annotated[str | None, Query(max_length=40)] = None,
    sort: Annotated[str, Query(max_length=40)] = "seq",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    filters: dict[str, Any] = {
        "actor_username": actor_username or None,
        "action": action or None,
        "record_type": record_type or None,
        "patient_id": patient_id,
        "occurred_from": occurred_from or None,
        "occurred_to": occurred_to or None,
    }
    try:
        query = AuditQuery(
            actor_username=filters["actor_username"],
            action=filters["action"],
            record_type=filters["record_type"],
            patient_id=patient_id,
            occurred_from=_instant(occurred_from, "occurred_from"),
            occurred_to=_instant(occurred_to, "occurred_to"),
            sort=sort,
            descending=order == "desc",
            page=page,
            page_size=page_size,
        )
        result = search_audit(
            database(request), user.actor(client_address(request)), query, clock=clock(request)
        )
    except UserInputError as exc:
        return render(
            request,
            "admin/audit.html",
            {
                "title": "Audit trail",
                "error": str(exc),
                "filters": filters,
                "result": None,
                "sort_fields": AUDIT_SORT_FIELDS,
                "sort": "seq",
                "order": "desc",
                "links": {},
            },
            422,
        )
    kept = {k: v for k, v in filters.items() if v is not None}

    def link(**change: Any) -> str:
        values = {**kept, "sort": sort, "order": order, "page": page, "page_size": page_size}
        return "?" + urlencode({**values, **change})

    links = {
        "sort": {
            field: link(
                sort=field, order="asc" if field == sort and order == "desc" else "desc", page=1
            )
            for field in AUDIT_SORT_FIELDS
        },
        "previous": link(page=page - 1) if page > 1 else None,
        "next": link(page=page + 1) if page < result.pages else None,
    }
    return render(
        request,
        "admin/audit.html",
        {
            "title": "Audit trail",
            "result": result,
            "filters": filters,
            "sort_fields": AUDIT_SORT_FIELDS,
            "sort": sort,
            "order": order,
            "links": links,
        },
    )


@router.get("/audit/verify")
def audit_verify(request: Request, user: ReadAudit) -> Response:
    report = verify_audit(database(request))
    return render(request, "admin/verify.html", {"title": "Audit check", "report": report})
