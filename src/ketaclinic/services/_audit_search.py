"""The audit trail as a list an admin can filter, sort and page through (read-only).

Sort fields come from an allow-list, filter values are bound parameters, and a page holds at
most ``AUDIT_PAGE_SIZE_MAX`` events. Reading the trail needs ``audit.read`` (the admin, or the
command line's operator) and is itself audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ketaclinic.errors import UserInputError
from ketaclinic.services._audit import Actor, Clock, audited_transaction, utc_now
from ketaclinic.services._inputs import authorize_admin
from ketaclinic.services._permissions import Permission
from ketaclinic.store import AUDIT_SORT_COLUMNS, AuditFilter, Database, search_audit_events

__all__ = [
    "AUDIT_PAGE_SIZE_MAX",
    "AUDIT_SORT_FIELDS",
    "AuditEventView",
    "AuditPage",
    "AuditQuery",
    "search_audit",
]

AUDIT_SORT_FIELDS: tuple[str, ...] = tuple(AUDIT_SORT_COLUMNS)
AUDIT_PAGE_SIZE_MAX = 200


@dataclass(frozen=True)
class AuditQuery:
    """Filters, sort and page of the audit list; checked when made."""

    actor_username: str | None = None
    action: str | None = None
    record_type: str | None = None
    patient_id: int | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    sort: str = "seq"
    descending: bool = True
    page: int = 1
    page_size: int = 50

    def __post_init__(self) -> None:
        if self.sort not in AUDIT_SORT_COLUMNS:
            raise UserInputError(
                f"sort field {self.sort!r:.60} is not accepted; accepted: "
                f"{', '.join(AUDIT_SORT_FIELDS)}"
            )
        if not 1 <= self.page <= 1_000_000:
            raise UserInputError(f"page {self.page} is not accepted; accepted: 1 to 1000000")
        if not 1 <= self.page_size <= AUDIT_PAGE_SIZE_MAX:
            raise UserInputError(
                f"page size {self.page_size} is not accepted; accepted: 1 to {AUDIT_PAGE_SIZE_MAX}"
            )
        for name in ("occurred_from", "occurred_to"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise UserInputError(f"{name} needs a time zone (e.g. 2026-03-02T09:00:00Z)")
        for name in ("actor_username", "action", "record_type"):
            value = getattr(self, name)
            if value is not None and len(value) > 100:
                raise UserInputError(f"{name} is too long; accepted: at most 100 characters")


@dataclass(frozen=True)
class AuditEventView:
    seq: int
    occurred_at: datetime
    actor_username: str
    client_address: str
    action: str
    record_type: str | None
    record_id: int | None
    patient_id: int | None
    reason: str | None
    details: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "occurred_at": self.occurred_at.isoformat(),
            "actor_username": self.actor_username,
            "client_address": self.client_address,
            "action": self.action,
            "record_type": self.record_type,
            "record_id": self.record_id,
            "patient_id": self.patient_id,
            "reason": self.reason,
            "details": self.details,
        }


@dataclass(frozen=True)
class AuditPage:
    events: tuple[AuditEventView, ...]
    total: int
    query: AuditQuery

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.page_size))

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": [e.to_dict() for e in self.events],
            "total": self.total,
            "page": self.query.page,
            "page_size": self.query.page_size,
            "pages": self.pages,
            "sort": self.query.sort,
            "descending": self.query.descending,
        }


def search_audit(
    db: Database, actor: Actor, query: AuditQuery, *, clock: Clock = utc_now
) -> AuditPage:
    """One page of the audit trail (the search is audited in the same transaction)."""
    where = AuditFilter(
        actor_username=query.actor_username,
        action=query.action,
        record_type=query.record_type,
        patient_id=query.patient_id,
        occurred_from=query.occurred_from,
        occurred_to=query.occurred_to,
    )
    with audited_transaction(db, actor, clock) as uc:
        authorize_admin(uc, Permission.AUDIT_READ, "searching the audit trail")
        rows, total = search_audit_events(
            uc.session,
            where,
            sort=query.sort,
            descending=query.descending,
            offset=(query.page - 1) * query.page_size,
            limit=query.page_size,
        )
        events = tuple(
            AuditEventView(
                r.seq,
                r.occurred_at,
                r.actor_username,
                r.client_address,
                r.action,
                r.record_type,
                r.record_id,
                r.patient_id,
                r.reason,
                r.details,
            )
            for r in rows
        )
        uc.audit("audit.search", details={"sort": query.sort, "page": query.page})
    return AuditPage(events, total, query)
