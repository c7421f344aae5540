"""Instants are UTC and aware on both databases; JSON is kept as exact canonical text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from ketaclinic.store import Chair, Database, canonical_json

CET = timezone(timedelta(hours=1))


def test_an_instant_is_stored_in_utc_and_read_back_aware(db: Database) -> None:
    local = datetime(2026, 3, 2, 10, 30, 15, 123456, tzinfo=CET)
    with db.transaction() as session:
        session.add(Chair(name="chair 1", created_at=local))
    with db.snapshot() as session:
        chair = session.query(Chair).one()
        assert chair.created_at == local
        assert chair.created_at.tzinfo is UTC
        assert chair.created_at.hour == 9


def test_a_naive_instant_is_refused(db: Database) -> None:
    naive = Chair(name="chair 1", created_at=datetime(2026, 3, 2, 10, 30))
    with db.transaction() as session:
        session.add(naive)
        with pytest.raises(StatementError, match="no time zone"):
            session.flush()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_canonical_json_is_one_text_per_value(value: object) -> None:
    import json

    encoded = canonical_json(value)
    assert canonical_json(json.loads(encoded)) == encoded


def test_json_is_stored_as_canonical_text(db: Database) -> None:
    from ketaclinic.services.testing import FrozenClock, add_patient_with_course, add_personas

    clock = FrozenClock()
    nurse = add_personas(db, clock)["nurse.brown"].user_id
    assert nurse is not None
    with db.transaction() as session:
        add_patient_with_course(session, recorded_by_id=nurse, now=clock(), mrn="J1", sessions=0)
    with db.snapshot() as session:
        stored = session.execute(text("SELECT doses FROM orders")).scalar_one()
    assert stored == (
        '[{"duration_min":40.0,"route":"iv","text":"iv 0.5 mg/kg over 40 min",'
        '"unit":"mg/kg","value":0.5}]'
    )
