"""The audit hash covers every field of an event, its sequence number and the link."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.store import AuditEntry, audit_hash

texts = st.text(min_size=1, max_size=12)
entries = st.builds(
    AuditEntry,
    occurred_at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    actor_username=texts,
    client_address=texts,
    action=texts,
    actor_user_id=st.none() | st.integers(1, 10**6),
    record_type=st.none() | texts,
    record_id=st.none() | st.integers(1, 10**9),
    patient_id=st.none() | st.integers(1, 10**9),
    reason=st.none() | texts,
    details=st.none() | st.dictionaries(texts, st.integers(), max_size=3),
)


def _other(value: object) -> object:
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    if isinstance(value, bool) or value is None:
        return "x"
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "·"
    return {"changed": True}


@given(
    entries,
    st.sampled_from([f.name for f in fields(AuditEntry)]),
    st.integers(1, 10**6),
    st.text(min_size=64, max_size=64, alphabet="0123456789abcdef"),
)
def test_changing_any_field_changes_the_hash(
    entry: AuditEntry, name: str, seq: int, prev: str
) -> None:
    changed = replace(entry, **{name: _other(getattr(entry, name))})
    assert audit_hash(seq, prev, changed) != audit_hash(seq, prev, entry)
    assert audit_hash(seq + 1, prev, entry) != audit_hash(seq, prev, entry)
    other_prev = ("1" if prev[0] != "1" else "2") + prev[1:]
    assert audit_hash(seq, other_prev, entry) != audit_hash(seq, prev, entry)


@given(entries)
def test_the_hash_does_not_depend_on_the_time_zone_it_was_given_in(entry: AuditEntry) -> None:
    from datetime import timezone

    shifted = replace(
        entry, occurred_at=entry.occurred_at.astimezone(timezone(timedelta(hours=5, minutes=30)))
    )
    assert audit_hash(1, "0" * 64, shifted) == audit_hash(1, "0" * 64, entry)
