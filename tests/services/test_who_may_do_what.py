"""Personas against every clinical use case: the outsider (a disabled account) may do
nothing, researchers and admins read no identifiable record, nurses do not order; a refusal
writes nothing, not even an audit event."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from clinic_helpers import START, counts, personas, ready_order

from ketaclinic import services as s
from ketaclinic.errors import NotAllowedError
from ketaclinic.services import Actor
from ketaclinic.services import _permissions as permissions
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import Database

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)

Call = Callable[[Database, Actor, dict[str, int], FrozenClock], Any]

USE_CASES: dict[str, tuple[Call, tuple[str, ...]]] = {
    # name: (call, roles that may do it)
    "enrol_patient": (
        lambda db, a, ids, c: s.enrol_patient(
            db,
            a,
            {
                "mrn": "Z9",
                "demographics": {
                    "given_name": "Z",
                    "family_name": "Z",
                    "birth_date": "1970-01-01",
                    "sex_at_birth": "male",
                },
            },
            clock=c,
        ),
        ("physician", "nurse"),
    ),
    "update_patient": (
        lambda db, a, ids, c: s.update_patient(
            db,
            a,
            ids["patient"],
            {"weight": {"weight_kg": 72.5, "measured_on": "2026-03-02"}},
            clock=c,
        ),
        ("physician", "nurse"),
    ),
    "get_patient_record": (
        lambda db, a, ids, c: s.get_patient_record(db, a, ids["patient"], clock=c),
        ("physician", "nurse"),
    ),
    "search_patients": (
        lambda db, a, ids, c: s.search_patients(db, a, "", clock=c),
        ("physician", "nurse"),
    ),
    "plan_course": (
        lambda db, a, ids, c: s.plan_course(db, a, ids["patient"], "acute-pain-iv", START, clock=c),
        ("physician",),
    ),
    "set_course_status": (
        lambda db, a, ids, c: s.set_course_status(db, a, ids["course"], "active", "go", clock=c),
        ("physician",),
    ),
    "get_course": (
        lambda db, a, ids, c: s.get_course(db, a, ids["course"], clock=c),
        ("physician", "nurse"),
    ),
    "get_order": (
        lambda db, a, ids, c: s.get_order(db, a, ids["order"], clock=c),
        ("physician", "nurse"),
    ),
    "administration_allowed": (
        lambda db, a, ids, c: s.administration_allowed(db, a, ids["order"], clock=c),
        ("physician", "nurse"),
    ),
    "record_assessment": (
        lambda db, a, ids, c: s.record_assessment(
            db, a, ids["patient"], "pain-nrs", [5], NOW, clock=c
        ),
        ("physician", "nurse"),
    ),
    "record_opioid_use": (
        lambda db, a, ids, c: s.record_opioid_use(
            db, a, ids["patient"], "morphine", "30 mg/day", "oral", date(2026, 1, 1), clock=c
        ),
        ("physician", "nurse"),
    ),
    "record_lab_result": (
        lambda db, a, ids, c: s.record_lab_result(
            db, a, ids["patient"], "alt", 20, "U/L", NOW, clock=c
        ),
        ("physician", "nurse"),
    ),
    "record_symptom_screen": (
        lambda db, a, ids, c: s.record_symptom_screen(
            db, a, ids["patient"], "misuse", date(2026, 3, 1), "negative", clock=c
        ),
        ("physician", "nurse"),
    ),
    "evaluate_course_trial": (
        lambda db, a, ids, c: s.evaluate_course_trial(db, a, ids["course"], clock=c),
        ("physician", "nurse"),
    ),
    "record_trial_decision": (
        lambda db, a, ids, c: s.record_trial_decision(
            db, a, ids["course"], "stop", "patient's wish", clock=c
        ),
        ("physician",),
    ),
    "cumulative_exposure": (
        lambda db, a, ids, c: s.cumulative_exposure(db, a, ids["patient"], clock=c),
        ("physician", "nurse"),
    ),
    "opioid_sparing": (
        lambda db, a, ids, c: s.opioid_sparing(db, a, ids["course"], clock=c),
        ("physician", "nurse"),
    ),
    "course_cost": (
        lambda db, a, ids, c: s.course_cost(db, a, ids["course"], clock=c),
        ("physician", "nurse", "admin"),
    ),
    "patient_cost_to_date": (
        lambda db, a, ids, c: s.patient_cost_to_date(db, a, ids["patient"], clock=c),
        ("physician", "nurse", "admin"),
    ),
    "estimate_course_cost": (
        lambda db, a, ids, c: s.estimate_course_cost(db, a, ids["course"], clock=c),
        ("physician", "nurse", "admin"),
    ),
    "dashboard_alerts": (
        lambda db, a, ids, c: s.dashboard_alerts(db, a, date(2026, 3, 2), clock=c),
        ("physician", "nurse"),
    ),
    # administration: the admin's (and the command line's, below), never a clinician's
    "add_staff_user": (
        lambda db, a, ids, c: s.add_staff_user(
            db, a, username="new.nurse", role="nurse", password=PASSWORD, clock=c
        ),
        ("admin",),
    ),
    "disable_staff_user": (
        lambda db, a, ids, c: s.disable_staff_user(db, a, "nurse.clark", clock=c),
        ("admin",),
    ),
    "set_password": (
        lambda db, a, ids, c: s.set_password(db, a, "nurse.clark", PASSWORD, clock=c),
        ("admin",),
    ),
    "list_staff_users": (
        lambda db, a, ids, c: s.list_staff_users(db, a, clock=c),
        ("admin",),
    ),
    "search_audit": (
        lambda db, a, ids, c: s.search_audit(db, a, s.AuditQuery(), clock=c),
        ("admin",),
    ),
    "backup_database": (
        lambda db, a, ids, c: s.backup_database(
            db, Path(tempfile.mkdtemp()) / "clinic.backup", a, c
        ),
        ("admin",),
    ),
}
PASSWORD = "a long enough pass phrase"

ROLE_OF = {
    "dr.adams": "physician",
    "nurse.brown": "nurse",
    "admin.davis": "admin",
    "res.evans": "researcher",
    "outsider": "nobody",
}


@pytest.mark.parametrize("use_case", sorted(USE_CASES))
def test_each_use_case_refuses_the_roles_it_is_not_for_and_writes_nothing(
    db: Database, clock: FrozenClock, use_case: str
) -> None:
    staff = personas(db, clock)
    patient, course, order = ready_order(db, staff, clock, "depression-iv")
    ids = {"patient": patient, "course": course, "order": order}
    call, roles = USE_CASES[use_case]
    for username, role in ROLE_OF.items():
        if role in roles:
            continue
        before = counts(db)
        with pytest.raises(NotAllowedError):
            call(db, staff[username], ids, clock)
        assert counts(db) == before, username
    allowed = next(u for u, r in ROLE_OF.items() if r in roles)
    before = counts(db)["audit_events"]
    call(db, staff[allowed], ids, clock)
    assert counts(db)["audit_events"] > before  # the allowed call is audited
    assert s.verify_audit(db).ok


def test_the_second_checker_persona_cannot_sign_and_the_preparer_cannot_check(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    patient = s.enrol_patient(
        db,
        staff["nurse.brown"],
        {
            "mrn": "Q1",
            "demographics": {
                "given_name": "Q",
                "family_name": "Q",
                "birth_date": "1970-01-01",
                "sex_at_birth": "female",
            },
            "weight": {"weight_kg": 60, "measured_on": "2026-03-01"},
        },
        clock=clock,
    )
    planned = s.plan_course(db, staff["dr.adams"], patient, "depression-iv", START, clock=clock)
    with pytest.raises(NotAllowedError, match="needs a physician"):
        s.sign_order(db, staff["nurse.clark"], planned.order_id, clock=clock)
    s.sign_order(db, staff["dr.adams"], planned.order_id, clock=clock)
    with pytest.raises(NotAllowedError, match="prepared order"):
        s.double_check_task(db, staff["dr.adams"], planned.order_id, clock=clock)


def _table_with(
    monkeypatch: pytest.MonkeyPatch, role: str, add: set[Any], remove: set[Any]
) -> None:
    table = dict(permissions.ROLE_PERMISSIONS)
    table[role] = frozenset((table[role] | add) - remove)
    monkeypatch.setattr(permissions, "ROLE_PERMISSIONS", MappingProxyType(table))


def test_the_services_ask_the_role_permission_table_and_nothing_else(
    db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = personas(db, clock)
    patient, course, _ = ready_order(db, staff, clock, "depression-iv")
    with pytest.raises(NotAllowedError, match=r"needs a physician or a nurse \(permission"):
        s.get_patient_record(db, staff["res.evans"], patient, clock=clock)
    _table_with(monkeypatch, "researcher", {s.Permission.PATIENT_READ}, set())
    assert s.get_patient_record(db, staff["res.evans"], patient, clock=clock)
    _table_with(monkeypatch, "nurse", set(), {s.Permission.PATIENT_READ})
    with pytest.raises(NotAllowedError, match=r"'nurse\.brown' is a nurse"):
        s.get_course(db, staff["nurse.brown"], course, clock=clock)
    assert s.get_course(db, staff["dr.adams"], course, clock=clock)


def test_every_listed_use_case_is_open_to_exactly_the_holders_of_one_permission() -> None:
    holder_sets = {permissions.holders_of(p) for p in s.Permission}
    for name, (_, roles) in USE_CASES.items():
        assert tuple(r for r in s.ROLE_PERMISSIONS if r in roles) in holder_sets, name


ADMINISTRATION = (
    "add_staff_user",
    "disable_staff_user",
    "set_password",
    "list_staff_users",
    "search_audit",
    "backup_database",
)


@pytest.mark.parametrize("use_case", ADMINISTRATION)
def test_the_command_line_operator_administers_with_the_admin_role_and_a_staff_name_does_not(
    db: Database, clock: FrozenClock, use_case: str
) -> None:
    """``Actor.command_line("cli:<os user>")`` (the CLI's) acts with ``OPERATOR_ROLE``'s
    permissions; a staff account acting from the command line keeps its own role's."""
    staff = personas(db, clock)
    call, _ = USE_CASES[use_case]
    before = counts(db)
    with pytest.raises(NotAllowedError, match=r"'nurse\.brown' is a nurse"):
        call(db, Actor.command_line("nurse.brown"), {}, clock)
    assert counts(db) == before
    assert staff["nurse.brown"].username == "nurse.brown"
    call(db, Actor.command_line("cli:operator"), {}, clock)
    assert s.verify_audit(db).ok


def test_the_operator_holds_the_admin_role_and_restore_is_the_command_lines_only(
    db: Database, clock: FrozenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = personas(db, clock)
    assert permissions.OPERATOR_ROLE == "admin"
    backup = tmp_path / "clinic.backup"
    s.backup_database(db, backup, Actor.command_line("cli:operator"), clock)
    for who in (staff["admin.davis"], staff["dr.adams"]):
        with pytest.raises(NotAllowedError, match="restoring a database is the command line"):
            s.restore_database(db, backup, who, clock)
    # the operator asks the table too: without the admin's permission it is refused
    _table_with(monkeypatch, "admin", set(), {s.Permission.AUDIT_READ})
    with pytest.raises(NotAllowedError, match="the command line acts as an admin"):
        s.search_audit(db, Actor.command_line("cli:operator"), s.AuditQuery(), clock=clock)
