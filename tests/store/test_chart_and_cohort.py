"""One patient's full chart and a cohort summary by indication."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ketaclinic.services.testing import FrozenClock, add_patient_with_course, add_personas
from ketaclinic.store import (
    TABLES,
    AdverseEvent,
    CourseStatusEvent,
    Database,
    Diagnosis,
    TreatmentCourse,
    TreatmentSession,
    VitalSigns,
    add,
    amend,
    cohort_summary,
    course_status,
    current_records,
    load_chart,
    withdraw,
)


def test_a_chart_holds_every_current_record_and_every_version(
    db: Database, clock: FrozenClock
) -> None:
    nurse = add_personas(db, clock)["nurse.brown"].user_id
    assert nurse is not None
    with db.transaction() as session:
        patient = add_patient_with_course(
            session, recorded_by_id=nurse, now=clock(), mrn="C1", sessions=4
        )
        other = add_patient_with_course(session, recorded_by_id=nurse, now=clock(), mrn="C2")
        diagnosis = current_records(session, Diagnosis, patient)[0]
        amend(
            session,
            diagnosis,
            Diagnosis(icd10cm_code="F33.1", free_text="moderate"),
            reason="re-graded",
            recorded_at=clock(),
            recorded_by_id=nurse,
        )
        vitals = current_records(session, VitalSigns, patient)[0]
        withdraw(session, vitals, reason="wrong chair", recorded_at=clock(), recorded_by_id=nurse)
    with db.snapshot() as session:
        chart = load_chart(session, patient)
    assert chart.patient.mrn == "C1"
    assert [d.icd10cm_code for d in chart.of(Diagnosis)] == ["F33.1"]
    assert len(chart.all_versions(Diagnosis)) == 2
    assert len(chart.of(TreatmentSession)) == 4
    assert len(chart.of(VitalSigns)) == 3
    assert len(chart.all_versions(VitalSigns)) == 5
    assert all(row.patient_id == patient for rows in chart.versions.values() for row in rows)
    assert other != patient
    # read through the driver's cursor, each value through its column's type: the same rows,
    # values and types as a plain select of each table
    by_name = {t.name: t for t in TABLES}
    with db.snapshot() as session:
        for name, rows in chart.versions.items():
            table = by_name[name]
            query = select(table).where(table.c.patient_id == patient).order_by(table.c.id)
            expected = session.execute(query).all()
            assert [tuple(r) for r in rows] == [tuple(r) for r in expected], name
            assert [type(v) for r in rows for v in r] == [type(v) for r in expected for v in r]
            assert all(r._fields == tuple(table.c.keys()) for r in rows), name
        patients = by_name["patients"]
        row = session.execute(select(patients).where(patients.c.id == patient)).one()
        assert tuple(chart.patient) == tuple(row)


def test_the_course_status_is_its_latest_event(db: Database, clock: FrozenClock) -> None:
    nurse = add_personas(db, clock)["nurse.brown"].user_id
    assert nurse is not None
    with db.transaction() as session:
        patient = add_patient_with_course(
            session, recorded_by_id=nurse, now=clock(), mrn="S1", status="planned"
        )
        course = current_records(session, TreatmentCourse, patient)[0]
        assert course_status(session, course.id).status == "planned"  # type: ignore[union-attr]
        add(
            session,
            CourseStatusEvent(
                patient_id=patient,
                course_id=course.id,
                status="stopped",
                reason="no benefit at session 6",
                effective_at=clock() + timedelta(days=20),
                recorded_at=clock(),
                recorded_by_id=nurse,
            ),
        )
        status = course_status(session, course.id)
        assert status is not None
        assert (status.status, status.reason) == ("stopped", "no benefit at session 6")


def test_a_cohort_summary_counts_current_courses_sessions_and_harms(
    db: Database, clock: FrozenClock
) -> None:
    nurse = add_personas(db, clock)["nurse.brown"].user_id
    assert nurse is not None
    with db.transaction() as session:
        for k, status in enumerate(["active", "active", "stopped", "maintenance"]):
            add_patient_with_course(
                session, recorded_by_id=nurse, now=clock(), mrn=f"D{k}", status=status, sessions=2
            )
        add_patient_with_course(
            session, recorded_by_id=nurse, now=clock(), mrn="P1", indication="crps", sessions=5
        )
        visit = session.query(TreatmentSession).first()
        assert visit is not None
        for severity in ("mild", "mild", "severe"):
            add(
                session,
                AdverseEvent(
                    patient_id=visit.patient_id,
                    session_id=visit.id,
                    onset_at=clock(),
                    term="hypertension",
                    severity=severity,
                    outcome="resolved",
                    recorded_at=clock(),
                    recorded_by_id=nurse,
                ),
            )
    with db.snapshot() as session:
        summary = cohort_summary(session, "depression")
        empty = cohort_summary(session, "tinnitus")
    assert summary.to_dict() == {
        "indication": "depression",
        "patients": 4,
        "courses": 4,
        "courses_by_status": {"active": 2, "maintenance": 1, "stopped": 1},
        "sessions": 8,
        "sessions_per_course_mean": 2.0,
        "adverse_events_by_severity": {"mild": 2, "severe": 1},
    }
    assert (empty.patients, empty.courses, empty.sessions_per_course_mean) == (0, 0, None)
