"""Overrides clear OVERRIDABLE findings only with a reason; hard stops never clear."""

from __future__ import annotations

from safety_helpers import codes, finding, run

from ketaclinic.safety import Severity


def test_an_overridable_finding_blocks_until_a_reason_is_given() -> None:
    blocked = run("depression-iv", ["iv-infusion 0.8 mg/kg over 40 min"])
    assert "session_total_mg_per_kg.soft" in codes(blocked, Severity.OVERRIDABLE)
    assert not blocked.allowed
    cleared = run(
        "depression-iv",
        ["iv-infusion 0.8 mg/kg over 40 min"],
        overrides={
            "session_total_mg_per_kg.soft": "non-responder at 0.75 mg/kg, reviewed",
            "infusion_rate_mg_per_kg_per_h.soft": "same dose over the usual 40 min",
        },
    )
    assert cleared.allowed
    assert finding(cleared, "session_total_mg_per_kg.soft").override_reason == (
        "non-responder at 0.75 mg/kg, reviewed"
    )


def test_an_empty_reason_does_not_clear_an_overridable_finding() -> None:
    report = run(
        "depression-iv",
        ["iv-infusion 0.8 mg/kg over 40 min"],
        overrides={"session_total_mg_per_kg.soft": "   "},
    )
    assert not report.allowed
    assert "override.without_reason" in codes(report, Severity.WARNING)


def test_a_hard_stop_cannot_be_overridden() -> None:
    report = run(
        "depression-iv",
        ["iv-infusion 2 mg/kg over 40 min"],
        overrides={"session_total_mg_per_kg.hard": "I insist"},
    )
    assert not report.allowed
    assert finding(report, "session_total_mg_per_kg.hard").override_reason is None
    assert "override.refused" in codes(report, Severity.WARNING)


def test_an_override_that_clears_nothing_is_reported() -> None:
    report = run("depression-iv", overrides={"dose.bolus.soft": "typo"})
    assert report.allowed
    assert "override.unused" in codes(report, Severity.INFO)


def test_warnings_and_info_do_not_block() -> None:
    report = run("palliative-oral")
    assert codes(report) == {"route.oral"}
    assert report.allowed


def test_findings_are_sorted_most_severe_first_and_serialise_the_contract() -> None:
    report = run("depression-iv", ["iv-infusion 2 mg/kg over 40 min"], who=None)
    ranks = [f.severity.rank for f in report.findings]
    assert ranks == sorted(ranks)
    data = report.to_dict()
    assert data["allowed"] is False
    assert data["drug_library_version"]
    for item in data["findings"]:
        assert {"severity", "code", "message", "source"} <= item.keys()
        assert item["severity"] in {"HARD_STOP", "OVERRIDABLE", "WARNING", "INFO"}
        assert item["source"]
