"""The discharge gate, table-driven: minimum observation since the end of dosing, sedation
back to awake (MOAA/S 5), dissociation resolved (CADSS-6 back to the pre-dose total, 0
without one), vitals within limits; esketamine: the REMS blood pressures; a Child-Pugh B
patient's notice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from ketaclinic.errors import RefusedError, UserInputError
from ketaclinic.services import (
    Actor,
    VitalsReading,
    discharge,
    discharge_readiness,
    record_dose,
    record_session_score,
    record_vitals,
    session_record,
    session_view,
    start_session,
    stop_infusion,
    update_patient,
    verify_audit,
)
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import AuditEvent, Discharge, TreatmentSession

MakeChart = Callable[..., Any]
OK = (130, 80, 72, 14, 98.0)
DEPRESSION = "iv-infusion 0.5 mg/kg over 40 min at 0 min"
DEVICE = "intranasal 28 mg at 0 min"
LONDON = ZoneInfo("Europe/London")

# (case, protocol, events as (kind, minute, value), decide at minute, blocks, opens at minute)
CASES: list[tuple[str, str, list[tuple[str, float, Any]], float, list[str], float | None]] = [
    (
        "ready",
        "depression-iv",
        [("dose", 0, DEPRESSION), ("vitals", 150, OK), ("moaas", 150, 5), ("cadss", 150, 0)],
        165,
        [],
        None,
    ),
    (
        "observation not over",
        "depression-iv",
        [("dose", 0, DEPRESSION), ("vitals", 150, OK), ("moaas", 150, 5), ("cadss", 150, 0)],
        150,
        ["observation"],
        160,
    ),
    (
        "still sedated",
        "depression-iv",
        [("dose", 0, DEPRESSION), ("vitals", 150, OK), ("moaas", 150, 4), ("cadss", 150, 0)],
        165,
        ["sedation"],
        None,
    ),
    (
        "awake only during the infusion",
        "depression-iv",
        [("dose", 0, DEPRESSION), ("vitals", 150, OK), ("moaas", 30, 5), ("cadss", 30, 0)],
        165,
        ["sedation_unknown", "dissociation_unknown"],
        None,
    ),
    (
        "no CADSS-6 since dosing",
        "depression-iv",
        [("dose", 0, DEPRESSION), ("vitals", 150, OK), ("moaas", 150, 5)],
        165,
        ["dissociation_unknown"],
        None,
    ),
    (
        "still dissociated",
        "depression-iv",
        [("dose", 0, DEPRESSION), ("vitals", 150, OK), ("moaas", 150, 5), ("cadss", 150, 1)],
        165,
        ["dissociation"],
        None,
    ),
    (
        "dissociation back to the pre-dose score",
        "depression-iv",
        [
            ("cadss", -5, 3),
            ("dose", 0, DEPRESSION),
            ("cadss", 60, 9),
            ("vitals", 150, OK),
            ("moaas", 150, 5),
            ("cadss", 150, 3),
        ],
        165,
        [],
        None,
    ),
    (
        "above the pre-dose score",
        "depression-iv",
        [
            ("cadss", -5, 3),
            ("dose", 0, DEPRESSION),
            ("vitals", 150, OK),
            ("moaas", 150, 5),
            ("cadss", 150, 4),
        ],
        165,
        ["dissociation"],
        None,
    ),
    (
        "esketamine without CADSS-6",
        "esketamine-nasal",
        [
            ("vitals", -10, OK),
            ("dose", 0, DEVICE),
            ("dose", 5, DEVICE),
            ("vitals", 40, OK),
            ("vitals", 126, OK),
            ("moaas", 126, 5),
        ],
        126,
        ["dissociation_unknown"],
        None,
    ),
    (
        "oral palliative: CADSS-6 not monitored",
        "palliative-oral",
        [("dose", 0, "oral 10 mg at 0 min"), ("vitals", 20, OK), ("moaas", 20, 5)],
        25,
        [],
        None,
    ),
    (
        "oral palliative: a CADSS-6 recorded still counts",
        "palliative-oral",
        [
            ("dose", 0, "oral 10 mg at 0 min"),
            ("vitals", 20, OK),
            ("moaas", 20, 5),
            ("cadss", 20, 2),
        ],
        25,
        ["dissociation"],
        None,
    ),
    (
        "low SpO2",
        "depression-iv",
        [
            ("dose", 0, DEPRESSION),
            ("vitals", 150, (130, 80, 72, 14, 90.0)),
            ("moaas", 150, 5),
            ("cadss", 150, 0),
        ],
        165,
        ["spo2_percent_out_of_limits"],
        None,
    ),
    (
        "severe BP",
        "depression-iv",
        [
            ("dose", 0, DEPRESSION),
            ("vitals", 150, (185, 100, 72, 14, 98.0)),
            ("moaas", 150, 5),
            ("cadss", 150, 0),
        ],
        165,
        ["systolic_mmhg_out_of_limits"],
        None,
    ),
    (
        "slow breathing",
        "depression-iv",
        [
            ("dose", 0, DEPRESSION),
            ("vitals", 150, (130, 80, 72, 8, 98.0)),
            ("moaas", 150, 5),
            ("cadss", 150, 0),
        ],
        165,
        ["respiratory_rate_per_min_out_of_limits"],
        None,
    ),
    (
        "no recent vitals",
        "depression-iv",
        [("dose", 0, DEPRESSION), ("vitals", 100, OK), ("moaas", 150, 5), ("cadss", 150, 0)],
        165,
        ["vitals_missing"],
        None,
    ),
    (
        "infusion stopped early",
        "depression-iv",
        [
            ("dose", 0, DEPRESSION),
            ("stop", 20, None),
            ("vitals", 140, OK),
            ("moaas", 140, 5),
            ("cadss", 140, 0),
        ],
        141,
        [],
        None,
    ),
    ("no dose", "depression-iv", [("vitals", 150, OK)], 165, ["no_dose"], None),
    (
        "esketamine ready",
        "esketamine-nasal",
        [
            ("vitals", -10, OK),
            ("dose", 0, DEVICE),
            ("dose", 5, DEVICE),
            ("vitals", 40, OK),
            ("vitals", 126, OK),
            ("moaas", 126, 5),
            ("cadss", 126, 0),
        ],
        126,
        [],
        None,
    ),
    (
        "esketamine before 2 h",
        "esketamine-nasal",
        [
            ("vitals", -10, OK),
            ("dose", 0, DEVICE),
            ("dose", 5, DEVICE),
            ("vitals", 40, OK),
            ("vitals", 110, OK),
            ("moaas", 110, 5),
            ("cadss", 110, 0),
        ],
        110,
        ["observation"],
        125,
    ),
    (
        "esketamine without BP before dosing",
        "esketamine-nasal",
        [
            ("dose", 0, DEVICE),
            ("dose", 5, DEVICE),
            ("vitals", 40, OK),
            ("vitals", 126, OK),
            ("moaas", 126, 5),
            ("cadss", 126, 0),
        ],
        126,
        ["rems_bp_before"],
        None,
    ),
    (
        "esketamine 40-min BP missed",
        "esketamine-nasal",
        [
            ("vitals", -10, OK),
            ("dose", 0, DEVICE),
            ("dose", 5, DEVICE),
            ("vitals", 126, OK),
            ("moaas", 126, 5),
            ("cadss", 126, 0),
        ],
        126,
        ["rems_bp_40_min_missed"],
        None,
    ),
    (
        "esketamine early on",
        "esketamine-nasal",
        [
            ("vitals", -10, OK),
            ("dose", 0, DEVICE),
            ("dose", 5, DEVICE),
            ("vitals", 20, OK),
            ("moaas", 20, 4),
            ("cadss", 20, 0),
        ],
        25,
        ["observation", "sedation", "rems_bp_40_min_due"],
        None,
    ),
]


def _run(
    db: Any, clock: FrozenClock, nurse: Actor, chart: Any, events: list[Any], decide: float
) -> int:
    t0 = clock()
    clock.advance(minutes=decide)
    sid = start_session(
        db,
        nurse,
        clock=clock,
        order_id=chart.order_id,
        lot_number="L1",
        started_at=t0 + timedelta(minutes=min(0, *(e[1] for e in events))),
    )
    for kind, minute, value in events:
        at = t0 + timedelta(minutes=minute)
        if kind == "dose":
            record_dose(db, nurse, clock=clock, session_id=sid, given_at=at, dose=value)
        elif kind == "stop":
            stop_infusion(db, nurse, clock=clock, session_id=sid, given_at=at)
        elif kind == "vitals":
            record_vitals(db, nurse, clock=clock, session_id=sid, reading=VitalsReading(at, *value))
        elif kind == "cadss":  # a CADSS-6 total: the first items 4 each, the rest 0
            answers = [min(4, max(0, value - 4 * i)) for i in range(6)]
            record_session_score(
                db,
                nurse,
                clock=clock,
                session_id=sid,
                instrument_id="cadss-6",
                answers=answers,
                measured_at=at,
            )
        else:
            record_session_score(
                db,
                nurse,
                clock=clock,
                session_id=sid,
                instrument_id="moaa-s",
                answers=[value],
                measured_at=at,
            )
    return sid


@pytest.mark.parametrize(
    ("protocol", "events", "decide", "blocks", "opens"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_gate_opens_only_when_every_condition_holds(
    db: Any,
    clock: FrozenClock,
    people: dict[str, Actor],
    make_chart: MakeChart,
    protocol: str,
    events: list[Any],
    decide: float,
    blocks: list[str],
    opens: float | None,
) -> None:
    t0 = clock()
    nurse = people["nurse.brown"]
    sid = _run(db, clock, nurse, make_chart(protocol), events, decide)
    readiness = discharge_readiness(db, nurse, clock=clock, session_id=sid)
    assert [b.code for b in readiness.blocks] == blocks
    assert readiness.ready is (not blocks)
    expected_open = None if opens is None else t0 + timedelta(minutes=opens)
    assert readiness.opens_at == expected_open
    if blocks:
        with pytest.raises(RefusedError, match="discharge refused: ") as refused:
            discharge(db, nurse, clock=clock, session_id=sid)
        assert readiness.blocks[0].message in str(refused.value)
        with db.snapshot() as session:
            assert session.execute(select(func.count()).select_from(Discharge)).scalar_one() == 0
    else:
        result = discharge(db, nurse, clock=clock, session_id=sid)
        assert result.decision == "discharged"
        assert result.observation_min >= readiness.min_observation_min
    assert verify_audit(db).ok


def test_a_discharge_ends_the_session_once(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    nurse = people["nurse.brown"]
    sid = _run(db, clock, nurse, make_chart(), CASES[0][2], 165)
    result = discharge(db, nurse, clock=clock, session_id=sid)
    with db.snapshot() as session:
        versions = session.scalars(select(TreatmentSession).order_by(TreatmentSession.id)).all()
        row = session.get(Discharge, result.discharge_id)
    assert [v.actual_end_at for v in versions] == [None, clock()]
    assert versions[1].amends_id == sid
    assert row is not None
    assert (row.decision, row.observation_min) == ("discharged", 125.0)
    with pytest.raises(RefusedError, match=f"session {sid} already ended"):
        discharge(db, nurse, clock=clock, session_id=sid)
    clock.advance(minutes=5)
    with pytest.raises(RefusedError, match=r"is after session .* ended"):
        record_vitals(db, nurse, clock=clock, session_id=sid, reading=VitalsReading(clock(), *OK))
    with pytest.raises(RefusedError, match="nothing more is given"):
        record_dose(db, nurse, clock=clock, session_id=sid, given_at=clock(), dose=DEPRESSION)


def test_only_a_physician_may_discharge_past_a_missed_40_minute_blood_pressure(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    missed = next(c for c in CASES if c[0] == "esketamine 40-min BP missed")
    nurse, physician = people["nurse.brown"], people["dr.adams"]
    sid = _run(db, clock, nurse, make_chart("esketamine-nasal"), missed[2], missed[3])
    with pytest.raises(RefusedError, match="a physician with an override_reason may discharge"):
        discharge(db, nurse, clock=clock, session_id=sid, override_reason="BP machine failed")
    with pytest.raises(RefusedError, match="a physician with an override_reason"):
        discharge(db, physician, clock=clock, session_id=sid)
    result = discharge(
        db,
        physician,
        clock=clock,
        session_id=sid,
        override_reason="BP machine failed; 126 min fine",
    )
    with db.snapshot() as session:
        row = session.get(Discharge, result.discharge_id)
    assert row is not None
    assert row.reason == "override (REMS 40-min BP missed): BP machine failed; 126 min fine"


def test_an_observation_refusal_cannot_be_overridden(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    early = next(c for c in CASES if c[0] == "observation not over")
    sid = _run(db, clock, people["nurse.brown"], make_chart(), early[2], early[3])
    with pytest.raises(RefusedError, match=r"needs at least 120 min: not before .* 11:40 UTC"):
        discharge(db, people["dr.adams"], clock=clock, session_id=sid, override_reason="in a hurry")


def test_admission_or_transfer_needs_a_reason_and_no_gate(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    nurse = people["nurse.brown"]
    sid = _run(db, clock, nurse, make_chart(), [("dose", 0, DEPRESSION)], 30)
    with pytest.raises(UserInputError, match="a decision 'admitted' needs a reason"):
        discharge(db, nurse, clock=clock, session_id=sid, decision="admitted")
    with pytest.raises(UserInputError, match="decision 'home' is not accepted; accepted: disch"):
        discharge(db, nurse, clock=clock, session_id=sid, decision="home")
    result = discharge(
        db, nurse, clock=clock, session_id=sid, decision="admitted", reason="persistent dysphoria"
    )
    assert result.decision == "admitted"
    assert not result.readiness.ready


def test_a_refusal_for_dissociation_names_the_score_and_what_is_accepted(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    case = next(c for c in CASES if c[0] == "above the pre-dose score")
    nurse = people["nurse.brown"]
    sid = _run(db, clock, nurse, make_chart(), case[2], case[3])
    with pytest.raises(RefusedError) as refused:
        discharge(db, nurse, clock=clock, session_id=sid)
    message = str(refused.value)
    assert "CADSS-6 4 at" in message
    assert "accepted: the pre-dose CADSS-6 of 3" in message
    unknown = next(c for c in CASES if c[0] == "no CADSS-6 since dosing")
    other = _run(db, clock, nurse, make_chart(), unknown[2], unknown[3])
    gate = discharge_readiness(db, nurse, clock=clock, session_id=other)
    assert "no CADSS-6 recorded since the end of dosing" in gate.explain()
    assert "a total of 0 (no CADSS-6 before dosing) or less" in gate.explain()


@pytest.mark.parametrize(
    ("child_pugh", "notices"), [(None, []), ("A", []), ("B", ["hepatic_child_pugh_b"])]
)
def test_child_pugh_b_adds_a_notice_and_no_invented_minimum(
    db: Any,
    clock: FrozenClock,
    people: dict[str, Actor],
    make_chart: MakeChart,
    child_pugh: str | None,
    notices: list[str],
) -> None:
    nurse = people["nurse.brown"]
    chart = make_chart("esketamine-nasal")
    if child_pugh is not None:
        update_patient(
            db,
            people["dr.adams"],
            chart.patient_id,
            {"child_pugh": {"child_pugh_class": child_pugh, "assessed_on": clock().date()}},
            clock=clock,
        )
    ready = next(c for c in CASES if c[0] == "esketamine ready")
    sid = _run(db, clock, nurse, chart, ready[2], ready[3])
    gate = discharge_readiness(db, nurse, clock=clock, session_id=sid)
    assert [n.code for n in gate.notices] == notices
    assert gate.ready  # the notice does not close the gate
    assert gate.min_observation_min == 120  # the label gives no longer minimum: none invented
    if notices:
        (notice,) = gate.notices
        assert "Child-Pugh B" in notice.message
        assert "monitored for adverse reactions for longer" in notice.message
        assert "SPRAVATO prescribing information 8.6" in notice.source
        assert gate.to_dict()["notices"][0]["code"] == "hepatic_child_pugh_b"


def _actions(db: Any) -> list[str]:
    with db.snapshot() as session:
        return list(session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


@pytest.mark.parametrize("case", [CASES[0], CASES[1], CASES[2]], ids=lambda c: c[0])
def test_the_session_page_reads_the_record_and_the_gate_as_the_two_reads_do(
    db: Any,
    clock: FrozenClock,
    people: dict[str, Actor],
    make_chart: MakeChart,
    case: tuple[str, str, list[Any], float, list[str], float | None],
) -> None:
    _, protocol, events, decide, _, _ = case
    nurse = people["nurse.brown"]
    sid = _run(db, clock, nurse, make_chart(protocol), events, decide)
    before = len(_actions(db))
    view = session_view(db, nurse, clock=clock, session_id=sid)
    assert _actions(db)[before:] == ["session.read", "session.discharge.readiness"]
    assert view.record == session_record(db, nurse, clock=clock, session_id=sid)
    assert view.readiness == discharge_readiness(db, nurse, clock=clock, session_id=sid)
    if view.readiness is not None and view.readiness.ready:
        discharge(db, nurse, clock=clock, session_id=sid)
        after = session_view(db, nurse, clock=clock, session_id=sid)
        assert after.readiness is None
        assert after.record.discharge is not None
    assert verify_audit(db).ok


def test_the_session_page_is_refused_to_the_admin_and_for_an_unknown_session(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    nurse = people["nurse.brown"]
    sid = _run(db, clock, nurse, make_chart(), CASES[0][2], 165)
    admin = people["admin.davis"]
    before = len(_actions(db))
    with pytest.raises(RefusedError):
        session_view(db, admin, clock=clock, session_id=sid)
    with pytest.raises(UserInputError):
        session_view(db, nurse, clock=clock, session_id=sid + 1000)
    assert _actions(db)[before:] == []


@pytest.mark.parametrize(
    ("zone", "ended", "opens"),
    [
        ("UTC", "09:40 UTC", "2026-03-02 11:40 UTC"),
        ("Europe/London", "09:40 GMT", "2026-03-02 11:40 GMT"),
        ("America/New_York", "04:40 EST", "2026-03-02 06:40 EST"),
        ("Asia/Kolkata", "15:10 IST", "2026-03-02 17:10 IST"),
    ],
)
def test_the_gate_speaks_the_clinic_time_zone_and_keeps_its_instants_utc(
    db: Any,
    clock: FrozenClock,
    people: dict[str, Actor],
    make_chart: MakeChart,
    zone: str,
    ended: str,
    opens: str,
) -> None:
    """The frozen clock stands at 2026-03-02 09:00 UTC; the infusion ends at 09:40 UTC."""
    early = next(c for c in CASES if c[0] == "observation not over")
    nurse = people["nurse.brown"]
    sid = _run(db, clock, nurse, make_chart(), early[2], early[3])
    clinic = ZoneInfo(zone)
    gate = discharge_readiness(db, nurse, clock=clock, session_id=sid, zone=clinic)
    message = gate.blocks[0].message
    assert f"since the end of dosing ({ended})" in message
    assert message.endswith(f"not before {opens}")
    assert gate.to_dict()["opens_at"] == "2026-03-02T11:40:00+00:00"  # the API's field: UTC
    view = session_view(db, nurse, clock=clock, session_id=sid, zone=clinic)
    assert view.readiness is not None
    assert view.readiness.blocks[0].message == message
    with pytest.raises(RefusedError, match=f"not before {opens}"):
        discharge(db, nurse, clock=clock, session_id=sid, zone=clinic)


def test_a_window_across_a_clock_change_names_both_abbreviations(
    db: Any, clock: FrozenClock, people: dict[str, Actor], make_chart: MakeChart
) -> None:
    """London falls back at 01:00 GMT on 2026-10-25: a first esketamine device at 00:10 UTC
    (01:10 BST) puts the 40-min blood pressure between 01:40 BST and 01:00 GMT."""
    clock.at = datetime(2026, 10, 25, 0, 10, tzinfo=UTC)
    nurse = people["nurse.brown"]
    sid = _run(db, clock, nurse, make_chart("esketamine-nasal"), [("dose", 0, DEVICE)], 20)
    gate = discharge_readiness(db, nurse, clock=clock, session_id=sid, zone=LONDON)
    due = next(b for b in gate.blocks if b.code == "rems_bp_40_min_due")
    assert due.message.endswith("is due 01:40 BST-01:00 GMT")
