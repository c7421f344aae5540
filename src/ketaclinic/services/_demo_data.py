"""``ketaclinic demo-data``: fill an empty clinic database with a realistic demo clinic.

Deterministic for a seed and a date (``as_of``): the same arguments give the same rows. Rows
go in through the store in bulk, a batch of patients per transaction (few transactions, each
one use case), and every patient made is audited (``demo.patient.generate``) in the
transaction that makes it; the database's constraints and insert-only guards apply as for any
other write, and ``audit verify`` passes afterwards.
"""

from __future__ import annotations

import time as timer
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, select

from ketaclinic.errors import RefusedError, UserInputError
from ketaclinic.ranges import CLINIC_DATE, ClinicalRange
from ketaclinic.services._audit import Actor, Clock, audited_transaction, utc_now
from ketaclinic.services._demo_clinic import DemoClinic, StaffIds, batches
from ketaclinic.services._prices import current_prices
from ketaclinic.store import (
    METADATA,
    AuditEntry,
    Chair,
    Database,
    Patient,
    StaffUser,
    append_audits,
    bulk_insert,
    reset_sequences,
)

__all__ = ["DEMO_PATIENTS", "DEMO_STAFF", "DemoResult", "generate_demo_data"]

DEMO_PATIENTS = ClinicalRange(
    "demo patients",
    "patients",
    1.0,
    100_000.0,
    "a demonstration or benchmark clinic: 10,000 patients is the benchmark size",
)
#: username -> (display name, role): the demo clinic's team (no passwords are set)
DEMO_STAFF = {
    "demo.dr.ames": ("Dr Ada Ames", "physician"),
    "demo.dr.bose": ("Dr Ravi Bose", "physician"),
    "demo.dr.cruz": ("Dr Lena Cruz", "physician"),
    "demo.rn.diaz": ("Mia Diaz RN", "nurse"),
    "demo.rn.egan": ("Tom Egan RN", "nurse"),
    "demo.rn.fry": ("Ana Fry RN", "nurse"),
    "demo.rn.gill": ("Raj Gill RN", "nurse"),
    "demo.admin": ("Clinic Admin", "admin"),
    "demo.research": ("Research Fellow", "researcher"),
}
PATIENTS_PER_CHAIR = 40
BATCH_PATIENTS = 250


@dataclass(frozen=True)
class DemoResult:
    patients: int
    sessions: int
    seed: int
    as_of: date
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows_total(self) -> int:
        return sum(self.rows.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "patients": self.patients,
            "sessions": self.sessions,
            "seed": self.seed,
            "as_of": self.as_of.isoformat(),
            "rows": dict(self.rows),
            "rows_total": self.rows_total,
            "seconds": round(self.seconds, 3),
            "patients_per_s": round(self.patients / self.seconds, 1) if self.seconds else None,
            "sessions_per_s": round(self.sessions / self.seconds, 1) if self.seconds else None,
        }


def _first_ids(session: Any) -> dict[str, int]:
    out = {}
    for table in METADATA.sorted_tables:
        if "id" in table.columns:
            top = session.execute(select(func.max(table.c.id))).scalar()
            out[table.name] = int(top or 0) + 1
    return out


def generate_demo_data(
    db: Database,
    actor: Actor,
    *,
    patients: int,
    seed: int,
    as_of: date | None = None,
    clock: Clock = utc_now,
    batch_patients: int = BATCH_PATIENTS,
) -> DemoResult:
    """Fill an empty clinic with ``patients`` demo patients (their sessions, outcomes and
    accounts up to ``as_of``, default today; later sessions are bookings) and the demo team.
    Refused when the database already holds patients."""
    if isinstance(patients, bool) or not isinstance(patients, int):
        raise UserInputError(f"patients must be a whole number, got {patients!r}")
    DEMO_PATIENTS.check(patients)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise UserInputError(f"seed {seed!r} is not accepted; accepted: 0 to {2**32 - 1}")
    day = as_of if as_of is not None else clock().date()
    CLINIC_DATE.check(day, "as_of")
    # the clinic's day ends at 18:00 UTC; on the current day the demo stops at the present
    # moment, so that nothing in it happens after the clock (the services refuse records in
    # the future) and today's later sessions are bookings a nurse can document
    real, closing = clock(), datetime.combine(day, time(18, 0), tzinfo=UTC)
    now = real if day == real.date() and real < closing else closing
    started = timer.perf_counter()
    tables = METADATA.tables
    counts: dict[str, int] = {}
    with audited_transaction(db, actor, clock) as uc:
        existing = uc.session.execute(select(func.count()).select_from(Patient)).scalar_one()
        if existing:
            raise RefusedError(
                f"demo-data fills an empty clinic; this database holds {existing} patients "
                "(use a new KETACLINIC_DATA_DIR or database)"
            )
        taken = uc.session.scalars(
            select(StaffUser.username).where(StaffUser.username.in_(DEMO_STAFF))
        ).all()
        if taken:
            raise RefusedError(f"the demo staff accounts exist already: {', '.join(taken)}")
        staff = _team(uc, now, max(2, -(-patients // PATIENTS_PER_CHAIR)))
        first_ids = _first_ids(uc.session)
        prices = current_prices(uc.session)
        uc.audit(
            "demo.generate.start",
            details={"patients": patients, "seed": seed, "as_of": day.isoformat()},
        )
    clinic = DemoClinic(seed, now, staff, first_ids)
    clinic.prices, clinic.price_list_version = prices.prices, prices.version
    for ids, rows in batches(clinic, 1, patients, batch_patients):
        with audited_transaction(db, actor, clock) as uc:
            for table in METADATA.sorted_tables:
                batch = rows.get(table.name)
                if batch:
                    bulk_insert(uc.session, tables[table.name], batch)
                    counts[table.name] = counts.get(table.name, 0) + len(batch)
            append_audits(
                uc.session,
                [
                    AuditEntry(
                        occurred_at=uc.now,
                        actor_username=actor.username,
                        actor_user_id=actor.user_id,
                        client_address=actor.client_address,
                        action="demo.patient.generate",
                        record_type="patients",
                        record_id=pid,
                        patient_id=pid,
                        details={"seed": seed},
                    )
                    for pid in ids
                ],
            )
    with audited_transaction(db, actor, clock) as uc:
        reset_sequences(uc.session)
        uc.audit("demo.generate.end", details={"patients": patients, "sessions": clinic.sessions})
    return DemoResult(
        patients,
        clinic.sessions,
        seed,
        day,
        dict(sorted(counts.items())),
        timer.perf_counter() - started,
    )


def _team(uc: Any, now: datetime, chairs: int) -> StaffIds:
    users = []
    for username, (name, role) in DEMO_STAFF.items():
        user = StaffUser(
            username=username,
            display_name=name,
            role=role,
            password_hash=None,
            created_at=now,
            disabled_at=None,
        )
        uc.session.add(user)
        users.append(user)
    rooms = [
        Chair(
            name=f"demo chair {k}",
            location="day unit" if k > 1 else "ward bed",
            created_at=now,
            retired_at=None,
        )
        for k in range(1, chairs + 1)
    ]
    uc.session.add_all(rooms)
    uc.session.flush()
    for user in users:
        uc.audit(
            "staff.create",
            record_type="staff_users",
            record_id=user.id,
            details={"username": user.username, "role": user.role},
        )
    return StaffIds(
        tuple(u.id for u in users if u.role == "physician"),
        tuple(u.id for u in users if u.role == "nurse"),
        tuple(c.id for c in rooms),
    )
