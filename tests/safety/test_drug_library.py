"""The drug library: versioned, validated, cited, consistent with the protocol library."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ketaclinic.errors import UnknownNameError
from ketaclinic.protocols import protocols
from ketaclinic.safety import LIMIT_NAMES, DrugLibrary, Limit, drug_library

MINIMA = {"min_interval_h", "min_dose_interval_h"}


def test_the_library_has_a_version_and_an_entry_for_every_protocol_route() -> None:
    library = drug_library()
    assert library.version
    for protocol in protocols().values():
        assert library.entry(protocol.id, str(protocol.route)).protocol == protocol.id


def test_every_entry_names_a_known_protocol() -> None:
    known = set(protocols())
    assert {e.protocol for e in drug_library().entries} <= known


def test_every_limit_has_a_source_and_a_basis_and_soft_comes_before_hard() -> None:
    for entry in drug_library().entries:
        for name in LIMIT_NAMES:
            limit = entry.limit(name)
            if limit is None:
                continue
            assert len(limit.source) > 10, (entry.protocol, name)
            if limit.soft is not None and limit.hard is not None:
                if name in MINIMA:
                    assert limit.soft >= limit.hard, (entry.protocol, name)
                else:
                    assert limit.soft <= limit.hard, (entry.protocol, name)


def test_judgement_and_unverified_limits_say_so_in_their_source() -> None:
    judged = Limit(hard=1, basis="judgement", source="clinical judgement")
    assert "not a published number" in judged.describe_source()
    unverified = Limit(hard=1, basis="verify", source="PCF")
    assert "VERIFY" in unverified.describe_source()
    published = Limit(hard=1, basis="published", source="label")
    assert published.describe_source() == "label"


def test_a_limit_needs_a_soft_or_a_hard_value() -> None:
    with pytest.raises(ValidationError, match="soft, hard or both"):
        Limit(basis="published", source="somewhere")


def test_duplicate_entries_are_refused_at_load() -> None:
    data = drug_library().model_dump()
    data["entries"] = [data["entries"][0], data["entries"][0]]
    with pytest.raises(ValidationError, match="duplicate"):
        DrugLibrary.model_validate(data)


def test_an_unknown_protocol_route_pair_names_the_routes_there_are() -> None:
    with pytest.raises(UnknownNameError, match="routes for this protocol: iv"):
        drug_library().entry("depression-iv", "oral")
