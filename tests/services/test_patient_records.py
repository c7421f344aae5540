"""Enrol, update, correct, withdraw, read and search patients (real databases, frozen clock)."""

from __future__ import annotations

from typing import Any

import pytest
from clinic_helpers import counts, enrol, enrolment, personas
from sqlalchemy import select, text

from ketaclinic.errors import NotAllowedError, RecordNotFoundError, RefusedError, UserInputError
from ketaclinic.services import (
    build_context,
    correct_patient_record,
    enrol_patient,
    get_patient_record,
    search_patients,
    update_patient,
    verify_audit,
    withdraw_patient_record,
)
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import AuditEvent, Database, Medication, history


def test_enrolment_keeps_every_section_and_derives_conditions_from_codes(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    patient_id = enrol(
        db,
        staff["nurse.brown"],
        clock,
        identifiers=[{"system": "national", "value": "123-45"}],
        child_pugh={"child_pugh_class": "A", "child_pugh_points": 6, "assessed_on": "2026-02-01"},
        diagnoses=[
            {"icd10cm_code": "g90511", "free_text": "CRPS I right upper limb"},
            {"icd10cm_code": "F33.2", "free_text": "recurrent major depression, severe"},
            {"icd10cm_code": "Z99.89", "free_text": "something the table does not map"},
        ],
        pain_qualifiers={
            "assessed_on": "2026-03-01",
            "opioid_tolerant": True,
            "neuropathic": True,
            "inflammatory": False,
            "depression": True,
        },
        medications=[
            {"drug_name": "sertraline", "dose_value": 100, "dose_unit": "mg/day", "route": "oral"}
        ],
        allergies=[{"substance": "penicillin", "reaction": "rash", "severity": "mild"}],
        pain_treatments=[
            {"treatment": "amitriptyline", "outcome": "no_effect", "started_on": "2024-01-01"}
        ],
        substance_use=[{"substance": "alcohol", "status": "past", "last_use_on": "2020-01-01"}],
        pregnancy={"assessed_on": "2026-03-01", "status": "not_pregnant"},
    )
    view = get_patient_record(db, staff["dr.adams"], patient_id, clock=clock).to_dict()
    assert view["mrn"] == "A1"
    assert view["age_years"] == pytest.approx(45.8, abs=0.05)
    assert view["latest_weight"]["weight_kg"] == 72.5
    codes = {d["icd10cm_code"]: d for d in view["diagnoses"]}
    assert codes["G90.511"]["conditions"] == ["crps"]
    assert codes["G90.511"]["free_text"] == "CRPS I right upper limb"
    assert codes["Z99.89"]["conditions"] == []
    assert set(view["conditions"]) == {"crps", "depression"}
    assert [m["dose_value"] for m in view["medications"]] == [100.0]
    assert view["identifiers"][0]["value"] == "123-45"
    with db.snapshot() as session:
        context = build_context(session, patient_id, clock())
    assert {str(c) for c in context.diagnoses} == {
        "crps",
        "depression",
        "opioid_tolerance",
        "neuropathic_pain",
    }
    assert context.weight_kg == 72.5
    assert str(context.child_pugh) == "A"
    assert [m.dose_mg_per_day for m in context.medications] == [100.0]
    assert str(context.substance_use) == "history"
    assert [str(t) for t in context.prior_pain_treatments] == ["amitriptyline"]
    assert "F33.2 recurrent major depression, severe" in context.notes
    assert verify_audit(db).ok


def test_a_record_number_is_used_once(db: Database, clock: FrozenClock) -> None:
    staff = personas(db, clock)
    enrol(db, staff["nurse.brown"], clock)
    before = counts(db)
    with pytest.raises(RefusedError, match="already a patient's"):
        enrol(db, staff["nurse.brown"], clock)
    assert counts(db) == before


BAD_ENROLMENTS: list[tuple[dict[str, Any], str]] = [
    ({"weight": {"weight_kg": 700, "measured_on": "2026-03-01"}}, "outside the accepted range"),
    ({"weight": {"weight_kg": 70, "measured_on": "2026-03-09"}}, "in the future"),
    ({"weight": {"weight_kg": 70, "measured_on": "1999-03-01"}}, "accepted dates"),
    ({"diagnoses": [{"icd10cm_code": "XYZ", "free_text": "x"}]}, "ICD-10-CM code 'XYZ'"),
    ({"diagnoses": [{"icd10cm_code": "F33.2", "free_text": ""}]}, "free_text"),
    (
        {
            "child_pugh": {
                "child_pugh_class": "A",
                "child_pugh_points": 8,
                "assessed_on": "2026-03-01",
            }
        },
        "8 points is Child-Pugh class B",
    ),
    ({"medications": [{"drug_name": "sertraline", "dose_value": 100}]}, "dose_unit"),
    (
        {"medications": [{"drug_name": "x", "dose_value": 1, "dose_unit": "spoons"}]},
        "dose_unit",
    ),
    ({"mrn": "has space"}, "mrn"),
    ({"favourite_colour": "blue"}, "favourite_colour is not a known field"),
    (
        {
            "demographics": {
                "given_name": "A",
                "family_name": "B",
                "birth_date": "2027-01-01",
                "sex_at_birth": "female",
            }
        },
        "after today",
    ),
    (
        {
            "pain_treatments": [
                {
                    "treatment": "pregabalin",
                    "outcome": "helped",
                    "started_on": "2025-01-01",
                    "stopped_on": "2024-01-01",
                }
            ]
        },
        "before it started",
    ),
]


@pytest.mark.parametrize(("changes", "message"), BAD_ENROLMENTS)
def test_bad_enrolments_are_refused_with_a_message_and_change_nothing(
    db: Database, clock: FrozenClock, changes: dict[str, Any], message: str
) -> None:
    staff = personas(db, clock)
    before = counts(db)
    with pytest.raises(UserInputError, match=message):
        enrol_patient(db, staff["nurse.brown"], enrolment(**changes), clock=clock)
    assert counts(db) == before


@pytest.mark.parametrize("username", ["outsider", "admin.davis", "res.evans"])
def test_only_active_clinicians_enrol_or_read(
    db: Database, clock: FrozenClock, username: str
) -> None:
    staff = personas(db, clock)
    patient_id = enrol(db, staff["nurse.brown"], clock)
    before = counts(db)
    with pytest.raises(NotAllowedError):
        enrol(db, staff[username], clock, mrn="B2")
    with pytest.raises(NotAllowedError):
        get_patient_record(db, staff[username], patient_id, clock=clock)
    with pytest.raises(NotAllowedError):
        search_patients(db, staff[username], "", clock=clock)
    assert counts(db) == before


def test_an_update_adds_facts_and_replacing_demographics_keeps_the_original(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    nurse = staff["nurse.brown"]
    patient_id = enrol(db, nurse, clock)
    clock.advance(days=1)
    new_name = {
        "given_name": "Ann",
        "family_name": "Lee-Smith",
        "birth_date": "1980-05-17",
        "sex_at_birth": "female",
    }
    with pytest.raises(UserInputError, match="needs a reason"):
        update_patient(db, nurse, patient_id, {"demographics": new_name}, clock=clock)
    added = update_patient(
        db,
        nurse,
        patient_id,
        {
            "demographics": new_name,
            "reason": "married",
            "weight": {"weight_kg": 71.0, "measured_on": "2026-03-03"},
        },
        clock=clock,
    )
    assert [a.split(":")[0] for a in added] == ["demographics", "weight_measurements"]
    view = get_patient_record(db, nurse, patient_id, clock=clock)
    assert view.demographics is not None
    assert view.demographics["family_name"] == "Lee-Smith"
    assert view.latest_weight is not None
    assert view.latest_weight["weight_kg"] == 71.0
    assert len(view.sections["weights"]) == 2
    with pytest.raises(UserInputError, match="holds no facts"):
        update_patient(db, nurse, patient_id, {}, clock=clock)
    with pytest.raises(RecordNotFoundError):
        update_patient(db, nurse, 999, {"weight": {"weight_kg": 70, "measured_on": "2026-03-03"}})


def test_a_correction_is_a_new_version_and_the_original_stays(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    nurse = staff["nurse.brown"]
    patient_id = enrol(
        db,
        nurse,
        clock,
        medications=[{"drug_name": "lorazepam", "dose_value": 2, "dose_unit": "mg/day"}],
    )
    original = get_patient_record(db, nurse, patient_id, clock=clock).sections["medications"][0]
    version = correct_patient_record(
        db,
        nurse,
        patient_id,
        "medications",
        original["id"],
        {"stopped_on": "2026-03-02"},
        reason="stopped before ketamine",
        clock=clock,
    )
    with db.snapshot() as session:
        versions = history(session, Medication, original["id"])
    assert next((m.id, m.stopped_on) for m in versions) == (original["id"], None)
    assert versions[-1].id == version
    assert str(versions[-1].stopped_on) == "2026-03-02"
    before = counts(db)
    with pytest.raises(RefusedError, match="already corrected"):
        correct_patient_record(
            db, nurse, patient_id, "medications", original["id"], {"dose_value": 1}, reason="x"
        )
    with pytest.raises(UserInputError, match="no field"):
        correct_patient_record(
            db, nurse, patient_id, "medications", version, {"colour": 1}, reason="x"
        )
    with pytest.raises(UserInputError, match="record type"):
        correct_patient_record(db, nurse, patient_id, "moods", version, {"x": 1}, reason="x")
    other = enrol(db, nurse, clock, mrn="B2")
    with pytest.raises(UserInputError, match="another patient"):
        correct_patient_record(
            db, nurse, other, "medications", version, {"dose_value": 1}, reason="x"
        )
    assert counts(db)["medications"] == before["medications"]
    assert counts(db)["audit_events"] == before["audit_events"] + 1  # the second enrolment


def test_a_withdrawn_diagnosis_no_longer_derives_a_condition(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    nurse = staff["nurse.brown"]
    patient_id = enrol(db, nurse, clock)
    diagnosis = get_patient_record(db, nurse, patient_id, clock=clock).sections["diagnoses"][0]
    withdraw_patient_record(
        db, nurse, patient_id, "diagnoses", diagnosis["id"], reason="wrong patient", clock=clock
    )
    view = get_patient_record(db, nurse, patient_id, clock=clock)
    assert view.sections["diagnoses"] == []
    assert view.conditions == ()
    with pytest.raises(UserInputError, match="needs a reason"):
        withdraw_patient_record(db, nurse, patient_id, "diagnoses", diagnosis["id"], reason=" ")


def test_search_finds_by_name_or_record_number_and_takes_wildcards_literally(
    db: Database, clock: FrozenClock
) -> None:
    staff = personas(db, clock)
    nurse = staff["nurse.brown"]
    first = enrol(db, nurse, clock, mrn="K100")
    second = enrol(
        db,
        nurse,
        clock,
        mrn="K200",
        demographics={
            "given_name": "Bo",
            "family_name": "Zhang",
            "birth_date": "1990-01-01",
            "sex_at_birth": "male",
        },
    )
    assert [p.patient_id for p in search_patients(db, nurse, "", clock=clock)] == [first, second]
    assert [p.patient_id for p in search_patients(db, nurse, "zhan", clock=clock)] == [second]
    assert [p.patient_id for p in search_patients(db, nurse, "ann lee", clock=clock)] == [first]
    assert [p.patient_id for p in search_patients(db, nurse, "k1", clock=clock)] == [first]
    assert search_patients(db, nurse, "%", clock=clock) == []
    assert search_patients(db, nurse, "_", clock=clock) == []
    with pytest.raises(UserInputError, match="limit"):
        search_patients(db, nurse, "", limit=0)
    with db.snapshot() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("patient.search") == 6
    assert verify_audit(db).ok


def test_the_list_pages_add_up_to_the_names_in_order_with_the_unnamed_where_the_database_sorts_them(
    db: Database, clock: FrozenClock
) -> None:
    """Family name then id, from the index; a patient whose demographics were withdrawn has
    no name and stands first on SQLite, last on PostgreSQL (where each sorts a missing name);
    every page is the slice of the whole list, and a corrected name moves its patient."""
    nurse = personas(db, clock)["nurse.brown"]
    names = ["Okafor", "Berg", "Okafor", "Adams", "Moreau", "Berg", "Zhou"]
    ids = [
        enrol(
            db,
            nurse,
            clock,
            mrn=f"L{n}",
            demographics={**enrolment()["demographics"], "family_name": name},
        )
        for n, name in enumerate(names)
    ]
    for patient_id in (ids[1], ids[4]):
        record = get_patient_record(db, nurse, patient_id, clock=clock)
        assert record.demographics is not None
        withdraw_patient_record(
            db, nurse, patient_id, "demographics", record.demographics["id"],
            reason="wrong patient", clock=clock,
        )  # fmt: skip
    renamed = {**enrolment()["demographics"], "family_name": "Abe"}
    update_patient(
        db, nurse, ids[6], {"demographics": renamed, "reason": "name changed"}, clock=clock
    )
    named = sorted(
        (("Abe" if i == ids[6] else name), i)
        for i, name in zip(ids, names, strict=True)
        if i not in (ids[1], ids[4])
    )
    unnamed = [ids[1], ids[4]]
    named_ids = [i for _, i in named]
    expected = unnamed + named_ids if db.dialect == "sqlite" else named_ids + unnamed
    whole = search_patients(db, nurse, "", limit=500, clock=clock)
    assert [p.patient_id for p in whole] == expected
    assert [p.family_name for p in whole if p.patient_id in unnamed] == [None, None]
    for limit in (1, 2, 3, 7):
        for offset in range(len(expected) + 2):
            page = search_patients(db, nurse, "", limit=limit, offset=offset, clock=clock)
            assert page == whole[offset : offset + limit], (limit, offset)
    assert [p.patient_id for p in search_patients(db, nurse, "l4", clock=clock)] == [ids[4]]
    assert [p.patient_id for p in search_patients(db, nurse, "abe", clock=clock)] == [ids[6]]


def test_a_list_page_is_walked_from_the_name_index_not_sorted(db: Database) -> None:
    """The page's statement reads demographics in ``(family_name, patient_id)`` order from
    ``ix_demographics_family_name_patient_id`` (on PostgreSQL, where a near-empty table is
    cheaper to sort, with sorting priced out of the plan)."""
    from ketaclinic.services._patient_reads import _named

    page = _named().limit(50).offset(100)
    with db.snapshot() as session:
        sql = str(page.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
        if db.dialect == "sqlite":
            plan = " | ".join(r[-1] for r in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
        else:
            session.execute(text("SET LOCAL enable_sort = off"))
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " | ".join(r[0] for r in session.execute(text(f"EXPLAIN {sql}")))
            assert "Sort" not in plan, plan
    assert "ix_demographics_family_name_patient_id" in plan, plan
