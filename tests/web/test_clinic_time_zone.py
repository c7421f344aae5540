"""Pages show and read times in the clinic's time zone (KETACLINIC_CLINIC_TIMEZONE), with the
zone's abbreviation; stored instants stay UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from web_helpers import api_token, csrf_of, sign_in_page

from ketaclinic.config import load_settings
from ketaclinic.errors import ConfigurationError
from ketaclinic.services import (
    Actor,
    double_check_order,
    enrol_patient,
    plan_course,
    record_dose,
    session_record,
    sign_order,
    start_session,
)
from ketaclinic.services.testing import FrozenClock
from ketaclinic.store import Chair, Database
from ketaclinic.web import create_app
from ketaclinic.web._forms import FormErrors, local_input, parse_instant

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def test_the_default_zone_is_london_and_an_unknown_zone_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KETACLINIC_CLINIC_TIMEZONE", raising=False)
    assert load_settings(data_dir=tmp_path).clinic_timezone == "Europe/London"
    kolkata = load_settings(data_dir=tmp_path, clinic_timezone="Asia/Kolkata")
    assert kolkata.clinic_zone == ZoneInfo("Asia/Kolkata")
    for bad in ("Mars/Olympus_Mons", "", "../../etc/passwd", "Europe/London/x"):
        with pytest.raises(ConfigurationError, match=r"KETACLINIC_CLINIC_TIMEZONE=.*IANA"):
            load_settings(data_dir=tmp_path, clinic_timezone=bad)


def _parse(text: str, zone: ZoneInfo = LONDON) -> tuple[datetime | None, FormErrors]:
    errors: FormErrors = {}
    return parse_instant(text, "measured_at", errors, zone=zone), errors


def test_a_form_time_is_read_in_the_clinic_zone_winter_and_summer() -> None:
    assert _parse("2026-01-15T09:30")[0] == datetime(2026, 1, 15, 9, 30, tzinfo=UTC)  # GMT
    assert _parse("2026-07-15T09:30")[0] == datetime(2026, 7, 15, 8, 30, tzinfo=UTC)  # BST
    assert _parse("2026-07-15T09:30", NEW_YORK)[0] == datetime(2026, 7, 15, 13, 30, tzinfo=UTC)
    assert _parse("2026-07-15T09:30+02:00")[0] == datetime(2026, 7, 15, 7, 30, tzinfo=UTC)


def test_a_skipped_local_time_is_refused_and_a_doubled_one_needs_its_offset() -> None:
    skipped, errors = _parse("2026-03-29T01:30")  # London springs forward at 01:00 GMT
    assert skipped is None
    assert "does not exist in Europe/London" in errors["measured_at"]
    doubled, errors = _parse("2026-10-25T01:30")  # and falls back at 01:00 GMT
    assert doubled is None
    assert "happens twice in Europe/London" in errors["measured_at"]
    assert "2026-10-25T01:30+01:00" in errors["measured_at"]
    assert "2026-10-25T01:30+00:00" in errors["measured_at"]
    first, errors = _parse("2026-10-25T01:30+01:00")
    assert (first, errors) == (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), {})


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    ),
    st.sampled_from([LONDON, NEW_YORK, ZoneInfo("Australia/Sydney"), ZoneInfo("UTC")]),
)
def test_a_shown_form_time_reads_back_as_the_same_minute(moment: datetime, zone: ZoneInfo) -> None:
    """What a form is filled with (``local_input``) parses back to the same UTC minute, or is
    refused as doubled (the hour the clocks go back): never a different instant."""
    minute = moment.replace(second=0, microsecond=0)
    parsed, errors = _parse(local_input(minute, zone), zone)
    if parsed is None:
        assert "happens twice" in errors["measured_at"]
    else:
        assert parsed == minute


def _checked_order(
    db: Database, clock: FrozenClock, mrn: str = "TZ-1", start: date | None = None
) -> Any:
    """A depression course planned from ``start`` (default today), signed and double-checked."""
    doctor, checker = Actor("dr.adams", "127.0.0.1"), Actor("nurse.clark", "127.0.0.1")
    today = clock().date()
    patient = enrol_patient(
        db,
        doctor,
        {
            "mrn": mrn,
            "demographics": {
                "given_name": "Zoe",
                "family_name": "Zone",
                "birth_date": "1980-05-01",
                "sex_at_birth": "female",
            },
            "weight": {"weight_kg": 70, "measured_on": today.isoformat()},
            "diagnoses": [{"icd10cm_code": "F33.2", "free_text": "major depression"}],
        },
        clock=clock,
    )
    planned = plan_course(db, doctor, patient, "depression-iv", start or today, clock=clock)
    sign_order(db, doctor, planned.order_id, clock=clock)
    doses = [d["dose"]["text"] for d in planned.doses]
    double_check_order(db, checker, planned.order_id, planned.weight_kg, doses, clock=clock)
    return planned


def _open_session(db: Database, clock: FrozenClock) -> int:
    planned = _checked_order(db, clock)
    nurse = Actor("nurse.brown", "127.0.0.1")
    return start_session(
        db, nurse, order_id=planned.order_id, lot_number="TZ", started_at=clock(), clock=clock
    )


def test_the_session_page_shows_and_takes_new_york_time(app_db: Database) -> None:
    """The frozen instant 2026-03-02 09:00 UTC is 04:00 EST; vitals typed as 04:05 are
    stored as 09:05 UTC."""
    clock = FrozenClock()
    session_id = _open_session(app_db, clock)
    clock.advance(minutes=10)
    settings = app_db.settings.model_copy(update={"clinic_timezone": "America/New_York"})
    app = create_app(settings, db=app_db, clock=clock, warm=False)
    with TestClient(app, follow_redirects=False) as nurse:
        sign_in_page(nurse, "nurse.brown")
        page = nurse.get(f"/sessions/{session_id}")
        assert page.status_code == 200, page.text
        assert "2026-03-02 04:00 EST" in page.text
        assert "Measured at (America/New_York time)" in page.text
        assert 'value="2026-03-02T04:10"' in page.text  # the form's default: now, local
        answer = nurse.post(
            f"/sessions/{session_id}/vitals",
            data={
                "measured_at": "2026-03-02T04:05",
                "systolic_mmhg": "124",
                "diastolic_mmhg": "78",
                "heart_rate_per_min": "72",
                "spo2_percent": "98",
                "csrf_token": csrf_of(page.text),
            },
        )
        assert answer.status_code in (200, 303), answer.text
    nurse_actor = Actor("nurse.brown", "127.0.0.1")
    record = session_record(app_db, nurse_actor, session_id=session_id, clock=clock)
    measured = [v["measured_at"] for v in record.to_dict()["vitals"]]
    assert measured == [datetime(2026, 3, 2, 9, 5, tzinfo=UTC).isoformat()]


def test_the_discharge_gate_says_new_york_time_on_the_page_and_in_the_api(
    app_db: Database,
) -> None:
    """The infusion given at 04:00 EST (09:00 UTC) ends at 04:40 EST: the gate's reasons say
    so in the clinic's zone, and the API's instants stay UTC."""
    clock = FrozenClock()
    session_id = _open_session(app_db, clock)
    nurse_actor = Actor("nurse.brown", "127.0.0.1")
    dose = "iv-infusion 0.5 mg/kg over 40 min at 0 min"
    record_dose(
        app_db, nurse_actor, session_id=session_id, given_at=clock(), dose=dose, clock=clock
    )
    clock.advance(minutes=50)
    settings = app_db.settings.model_copy(update={"clinic_timezone": "America/New_York"})
    app = create_app(settings, db=app_db, clock=clock, warm=False)
    expected = "since the end of dosing (04:40 EST); the protocol needs at least 120 min"
    with TestClient(app, follow_redirects=False) as nurse:
        sign_in_page(nurse, "nurse.brown")
        page = nurse.get(f"/sessions/{session_id}")
        assert page.status_code == 200, page.text
        assert expected in page.text
        assert "not before 2026-03-02 06:40 EST" in page.text
        assert " UTC" not in page.text
        token = api_token(nurse, "nurse.brown")
        gate = nurse.get(
            f"/api/v1/sessions/{session_id}", headers={"Authorization": f"Bearer {token}"}
        ).json()["discharge_gate"]
    observation = next(b for b in gate["blocks"] if b["code"] == "observation")
    assert expected in observation["message"]
    assert observation["opens_at"] == "2026-03-02T11:40:00+00:00"


@pytest.mark.parametrize(
    ("utc_instant", "zone", "clinic_day"),
    [
        # 23:30 UTC is already the next morning in Tokyo (UTC+9)
        (datetime(2026, 3, 2, 23, 30, tzinfo=UTC), "Asia/Tokyo", "2026-03-03"),
        # 03:00 UTC is still the evening before in New York (UTC-5)
        (datetime(2026, 3, 3, 3, 0, tzinfo=UTC), "America/New_York", "2026-03-02"),
    ],
)
def test_the_api_dashboard_and_schedule_default_to_the_clinic_date_not_the_utc_date(
    app_db: Database, utc_instant: datetime, zone: str, clinic_day: str
) -> None:
    clock = FrozenClock(utc_instant)
    assert utc_instant.date().isoformat() != clinic_day
    settings = app_db.settings.model_copy(update={"clinic_timezone": zone})
    app = create_app(settings, db=app_db, clock=clock, warm=False)
    with TestClient(app, follow_redirects=False) as api, TestClient(app) as page:
        api.headers["Authorization"] = f"Bearer {api_token(api, 'nurse.brown')}"
        dashboard = api.get("/api/v1/dashboard")
        assert dashboard.status_code == 200, dashboard.text
        assert dashboard.json()["day"] == clinic_day
        assert dashboard.json()["chairs"]["from"] == clinic_day
        schedule = api.get("/api/v1/schedule")
        assert schedule.status_code == 200, schedule.text
        assert schedule.json()["from"] == clinic_day
        sign_in_page(page, "nurse.brown")
        shown = page.get("/dashboard")
        assert shown.status_code == 200, shown.text
        assert clinic_day in shown.text  # the page's day is the same date


def test_a_tokyo_clinic_books_its_series_at_nine_in_tokyo(app_db: Database) -> None:
    """The order page's "book the series" form in a Tokyo clinic (UTC+9): the sessions start
    at 09:00 JST (00:00 UTC), inside the clinic's hours in its own zone, and the calendar
    page shows them at 09:00 JST on their Tokyo day."""
    clock = FrozenClock()  # Monday 2026-03-02 09:00 UTC = 18:00 JST
    with app_db.transaction() as session:
        session.add(Chair(name="chair 1", created_at=clock()))
    planned = _checked_order(app_db, clock, "TZ-2", date(2026, 3, 9))
    settings = app_db.settings.model_copy(update={"clinic_timezone": "Asia/Tokyo"})
    app = create_app(settings, db=app_db, clock=clock, warm=False)
    with TestClient(app, follow_redirects=False) as nurse:
        sign_in_page(nurse, "nurse.brown")
        order = nurse.get(f"/orders/{planned.order_id}")
        assert order.status_code == 200, order.text
        booked = nurse.post(
            f"/courses/{planned.course_id}/schedule",
            data={"first_day": "2026-03-09", "csrf_token": csrf_of(order.text)},
        )
        assert booked.status_code == 303, booked.text
        assert booked.headers["location"] == "/schedule?from_day=2026-03-09"
        calendar = nurse.get(booked.headers["location"])
        assert calendar.status_code == 200, calendar.text
        assert "09:00-11:45 JST" in calendar.text  # 40 min + 120 min observed, 15-min slots
        api = nurse.get(
            "/api/v1/schedule?from_day=2026-03-09&to_day=2026-03-09",
            headers={"Authorization": f"Bearer {api_token(nurse, 'nurse.brown')}"},
        )
    entries = [e for c in api.json()["chairs"] for e in c["entries"]]
    assert [e["starts_at"] for e in entries] == ["2026-03-09T00:00:00+00:00"]


def test_a_span_that_ends_on_a_later_day_shows_the_end_date() -> None:
    """An inpatient booking from 11:00 to 05:00 the next day read "11:00-05:00 GMT" on the
    dashboard and the calendar: an end before its start."""
    from ketaclinic.services import clock_time_span

    start = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    assert clock_time_span(start, datetime(2026, 12, 2, 13, 45, tzinfo=UTC), LONDON) == (
        "11:00-13:45 GMT"
    )
    assert clock_time_span(start, datetime(2026, 12, 5, 5, 0, tzinfo=UTC), LONDON) == (
        "2026-12-02 11:00 GMT to 2026-12-05 05:00 GMT"
    )
    # the same instants in New York: 06:00 to 00:00 the next day
    assert clock_time_span(start, datetime(2026, 12, 3, 5, 0, tzinfo=UTC), NEW_YORK) == (
        "2026-12-02 06:00 EST to 2026-12-03 00:00 EST"
    )
    # clocks going back in the night (BST to GMT), same day: each end with its abbreviation
    assert clock_time_span(
        datetime(2026, 10, 25, 0, 50, tzinfo=UTC), datetime(2026, 10, 25, 1, 10, tzinfo=UTC), LONDON
    ) == ("01:50 BST-01:10 GMT")
