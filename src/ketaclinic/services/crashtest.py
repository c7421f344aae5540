"""Crash-durability harness: SIGKILL a process that documents sessions, at random points.

A child (forked from the caller after every import, so each kill point costs milliseconds)
documents one session per transaction: the session, one dose, three vital signs, a discharge,
a charge and the audit event, and writes the session's number to a pipe only after the
commit returned. The parent kills it after a random delay (uniform up to a scale that
grows while kills land before any commit, as on a loaded machine), then checks that

- every session whose commit returned is there (durability),
- no session is there in part (atomicity: each has all of its rows),
- the sessions there are exactly 0..k: a prefix of the commit order (at most one more
  than acknowledged: the one whose commit finished as the kill arrived),

and, every ``deep_every`` kill points and at the end, that the integrity check passes and the
audit chain verifies. Used by ``tests/store/test_crash_durability.py`` (200 kill points per
database) and ``benchmarks/bench_store.py`` (1,000).
"""

from __future__ import annotations

import os
import random
import select
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, text
from sqlalchemy import select as sql_select

from ketaclinic.config import Settings
from ketaclinic.services._audit import Actor, audited_transaction, verify_audit
from ketaclinic.store import (
    Charge,
    Database,
    Discharge,
    DoseGiven,
    TreatmentSession,
    VitalSigns,
    check_database,
    open_database,
)

__all__ = ["CrashReport", "document_session", "prepare", "run_crash_test"]

_T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: rows each documented session writes besides itself: table -> count
_CHILD_ROWS = {"doses_given": 1, "vital_signs": 3, "discharges": 1, "charges": 1}


@dataclass(frozen=True)
class CrashReport:
    kill_points: int
    acknowledged: int
    survived: int
    committed_not_acknowledged: int
    lost: int
    partial: int
    out_of_order: int
    deep_checks: int
    seconds: float

    @property
    def ok(self) -> bool:
        return not (self.lost or self.partial or self.out_of_order)


def prepare(db: Database) -> dict[str, int]:
    """A nurse, a patient, a course and an order for the sessions to belong to."""
    from ketaclinic.services.testing import add_patient_with_course
    from ketaclinic.store import Order, StaffUser

    with db.transaction() as session:
        nurse = StaffUser(username="nurse.crash", display_name="N", role="nurse", created_at=_T0)
        session.add(nurse)
        session.flush()
        patient = add_patient_with_course(
            session, recorded_by_id=nurse.id, now=_T0, mrn="CRASH", sessions=0
        )
        order = session.scalars(sql_select(Order).where(Order.patient_id == patient)).one()
        return {"nurse": nurse.id, "patient": patient, "course": order.course_id, "order": order.id}


def _child(db: Database, ids: dict[str, int], first: int, out: int) -> None:
    actor = Actor("nurse.crash", "127.0.0.1", ids["nurse"])
    with db.transaction() as session:  # connect (and take the SQLite writer lock) first
        session.execute(text("SELECT 1"))
    os.write(out, b"R\n")
    k = first
    while True:
        document_session(db, actor, ids, k)
        os.write(out, f"{k}\n".encode())
        k += 1


def document_session(
    db: Database,
    actor: Actor,
    ids: dict[str, int],
    k: int,
    lot: str = "K",
    action: str = "session.document",
) -> None:
    """One session with all of its rows and its audit event, in one transaction."""
    at = _T0 + timedelta(minutes=k)
    with audited_transaction(db, actor, lambda: at) as uc:
        who = {"patient_id": ids["patient"], "recorded_at": at, "recorded_by_id": ids["nurse"]}
        visit = TreatmentSession(
            course_id=ids["course"],
            order_id=ids["order"],
            scheduled_start_at=at,
            actual_start_at=at,
            route="iv",
            lot_number=f"{lot}{k}",
            multi_day=False,
            **who,
        )
        uc.session.add(visit)
        uc.session.flush()
        rows: list[Any] = [
            DoseGiven(
                session_id=visit.id,
                given_at=at,
                kind="bolus",
                dose={"route": "iv", "value": 0.35, "unit": "mg/kg"},
                amount_mg=25.0,
                **who,
            )
        ]
        rows += [
            VitalSigns(
                session_id=visit.id,
                measured_at=at + timedelta(minutes=m),
                systolic_mmhg=120 + m,
                **who,
            )
            for m in (0, 20, 40)
        ]
        rows.append(
            Discharge(
                session_id=visit.id,
                decided_at=at,
                decision="discharged",
                observation_min=60.0,
                **who,
            )
        )
        rows.append(
            Charge(
                session_id=visit.id,
                category="drug",
                description="ketamine",
                quantity=1.0,
                quantity_unit="vial",
                unit_price_minor=900,
                amount_minor=900,
                currency="EUR",
                **who,
            )
        )
        uc.session.add_all(rows)
        uc.audit(
            action,
            record_type="treatment_sessions",
            record_id=visit.id,
            patient_id=ids["patient"],
            details={"k": k},
        )


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _wait_ready(fd: int, timeout_s: float) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout_s
    while b"R\n" not in data:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise RuntimeError("the writer process did not start")
        chunk = os.read(fd, 65536)
        if not chunk:
            raise RuntimeError("the writer process ended before it started writing")
        data += chunk
    return data


_CHILD_APP = "ketaclinic-crash-writer"


def _wait_for_server(db: Database, timeout_s: float = 30.0) -> None:
    """PostgreSQL: wait until no backend serves a killed writer (its last COMMIT, if it had
    reached the server, is then either committed or rolled back for good)."""
    if db.dialect != "postgresql":
        return
    deadline = time.monotonic() + timeout_s
    while True:
        with db.snapshot() as session:
            busy = session.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
                    "AND datname = current_database()"
                ),
                {"name": _CHILD_APP},
            ).scalar_one()
        if not busy:
            return
        if time.monotonic() > deadline:
            raise AssertionError("PostgreSQL still serves a killed writer after 30 s")
        time.sleep(0.005)


def _survivors(db: Database) -> tuple[list[int], int]:
    """Session numbers present, and how many sessions lack some of their rows."""
    with db.snapshot() as session:
        numbers = [
            int((lot or "K-1")[1:])
            for lot in session.scalars(
                sql_select(TreatmentSession.lot_number).where(
                    TreatmentSession.lot_number.like("K%")
                )
            )
        ]
        partial = 0
        for table, expected in _CHILD_ROWS.items():
            partial += int(
                session.execute(
                    text(
                        "SELECT count(*) FROM treatment_sessions s WHERE s.lot_number LIKE 'K%'"
                        f" AND (SELECT count(*) FROM {table} c WHERE c.session_id = s.id)"
                        f" <> {expected}"
                    )
                ).scalar_one()
            )
        audited = session.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'session.document'")
        ).scalar_one()
        partial += abs(int(audited) - len(numbers))
        assert session.execute(
            sql_select(func.count()).select_from(TreatmentSession)
        ).scalar_one() >= len(numbers)
    return sorted(numbers), partial


def run_crash_test(
    settings: Settings,
    kill_points: int,
    *,
    seed: int = 1,
    max_delay_ms: float = 100.0,
    deep_every: int = 50,
) -> CrashReport:
    """Kill a writer ``kill_points`` times; the database must be prepared (``prepare``) and
    no connection of this process may be open (each fork starts clean)."""
    rng = random.Random(seed)
    writer_settings = settings
    if not settings.is_sqlite:
        # PostgreSQL may still be finishing the killed client's COMMIT after the client is
        # gone; the writer's connections carry a name so that the parent can wait for the
        # server to be done with them before it looks (see _wait_for_server).
        url = settings.sqlalchemy_url.update_query_dict({"application_name": _CHILD_APP})
        writer_settings = settings.model_copy(
            update={"database_url": url.render_as_string(hide_password=False)}
        )
    ids_db = open_database(writer_settings)
    with ids_db.snapshot() as session:
        row = session.execute(
            text(
                "SELECT o.id, o.course_id, o.patient_id, o.recorded_by_id FROM orders o "
                "JOIN patients p ON p.id = o.patient_id WHERE p.mrn = 'CRASH'"
            )
        ).one()
    ids = {"order": row[0], "course": row[1], "patient": row[2], "nurse": row[3]}
    # warm SQLAlchemy's statement caches here, once; the children inherit the engines
    # (not their connections, nor the writer lock: disconnect() before each fork)
    writer = ids_db
    document_session(
        writer,
        Actor("nurse.crash", "127.0.0.1", ids["nurse"]),
        ids,
        0,
        lot="W",
        action="session.warmup",
    )
    writer.disconnect()
    acknowledged: set[int] = set()
    present_before: set[int] = set()
    delay_scale_ms = max_delay_ms
    lost = partial = out_of_order = unacknowledged = deep = 0
    started = time.monotonic()
    for point in range(kill_points):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child ends by SIGKILL
            os.close(read_fd)
            try:
                _child(writer, ids, len(present_before), write_fd)
            finally:
                os._exit(3)
        os.close(write_fd)
        data = _wait_ready(read_fd, 30.0)
        time.sleep(rng.uniform(0.0, delay_scale_ms) / 1000)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        data += _read_all(read_fd)
        os.close(read_fd)
        acked_now = {int(line) for line in data.split() if line != b"R"}
        acknowledged |= acked_now
        # a loaded machine commits more slowly: stretch the delays until kills land among
        # commits again (and shrink them back), so that every run tests writes in flight
        if acked_now:
            delay_scale_ms = max(max_delay_ms, delay_scale_ms * 0.9)
        else:
            delay_scale_ms = min(10 * max_delay_ms, delay_scale_ms * 1.25)
        db = open_database(settings)
        try:
            _wait_for_server(db)
            present, broken = _survivors(db)
            partial += broken
            present_set = set(present)
            lost += len(acknowledged - present_set)
            if present != list(range(len(present))) or not present_before <= present_set:
                out_of_order += 1
            # at most one commit can finish between its return and the kill
            new_unacknowledged = len(present_set - present_before - acked_now)
            if new_unacknowledged > 1:
                out_of_order += 1
            unacknowledged += new_unacknowledged
            present_before = present_set
            if (point + 1) % deep_every == 0 or point == kill_points - 1:
                deep += 1
                report = check_database(db)
                audit = verify_audit(db)
                if not report.ok or not audit.ok:
                    raise AssertionError(
                        f"after kill point {point}: {report.problems} {audit.problems}"
                    )
        finally:
            db.close()
    writer.close()
    return CrashReport(
        kill_points=kill_points,
        acknowledged=len(acknowledged),
        survived=len(present_before),
        committed_not_acknowledged=unacknowledged,
        lost=lost,
        partial=partial,
        out_of_order=out_of_order,
        deep_checks=deep,
        seconds=time.monotonic() - started,
    )
