"""The protocol library: every file loads, is evidence-labelled and cites its sources."""

from __future__ import annotations

import pytest
import yaml

import ketaclinic.protocols as protocols_facade
from ketaclinic.errors import DataFileError, UnknownNameError
from ketaclinic.pharmacology import MODELS, Drug, bands_for
from ketaclinic.protocols import get_protocol, load_protocol_text, protocols
from ketaclinic.safety import Setting, Severity

EXPECTED_IDS = {
    "acute-pain-iv",
    "crps-continuous-4d",
    "crps-daily-10d",
    "chronic-pain-iv-series",
    "depression-iv",
    "esketamine-nasal",
    "palliative-oral",
    "palliative-sc-burst",
}


def test_the_facade_lists_its_public_names() -> None:
    assert set(protocols_facade.__all__) == {
        "ROUNDING_RULES",
        "SESSION_TIME_UTC",
        "Ages",
        "Ceiling",
        "DoseItem",
        "DoseRule",
        "Evidence",
        "Hepatic",
        "HepaticAdjustment",
        "Maintenance",
        "ModelChoice",
        "Monitoring",
        "Phase",
        "Plan",
        "PlannedDose",
        "PlannedSession",
        "PopulationModel",
        "Protocol",
        "Schedule",
        "TrialCriteria",
        "WeightBasisSpec",
        "check",
        "choose_model",
        "concrete_dose",
        "get_protocol",
        "load_protocol_text",
        "plan",
        "profile_for",
        "protocols",
        "round_half_down",
    }


def test_the_library_holds_the_eight_protocols() -> None:
    assert set(protocols()) == EXPECTED_IDS


@pytest.mark.parametrize("protocol_id", sorted(EXPECTED_IDS))
def test_each_protocol_is_complete_and_cited(protocol_id: str) -> None:
    p = get_protocol(protocol_id)
    assert p.evidence.level in {"good", "moderate", "limited", "very limited"}
    assert p.evidence.summary
    assert p.evidence.source
    assert p.sources
    assert all(d.source for d in p.dose_rule.doses)
    assert p.schedule.phases
    assert p.schedule.source
    assert p.monitoring.scales
    assert p.monitoring.source
    assert p.trial.instrument
    assert p.trial.threshold
    assert p.trial.judge_at
    assert p.stop_rules
    assert p.taper
    assert p.model_id in MODELS


@pytest.mark.parametrize("protocol_id", sorted(EXPECTED_IDS))
def test_racemic_protocols_predict_with_kamp_and_esketamine_with_perez_ruixo(
    protocol_id: str,
) -> None:
    p = get_protocol(protocol_id)
    assert p.model_id == ("perez-ruixo" if p.drug is Drug.ESKETAMINE else "kamp")


@pytest.mark.parametrize("protocol_id", sorted(EXPECTED_IDS))
def test_every_protocol_has_a_soft_ceiling_and_the_anaesthetic_hard_ceiling(
    protocol_id: str,
) -> None:
    p = get_protocol(protocol_id)
    hard = [c.conc_ng_per_ml for c in p.ceilings if c.kind == "hard"]
    soft = [c.conc_ng_per_ml for c in p.ceilings if c.kind == "soft"]
    assert hard == [1200.0]
    assert soft
    assert all(s < 1200 for s in soft)
    profile = p.profile()
    assert {c.severity for c in profile.ceilings} == {Severity.HARD_STOP, Severity.OVERRIDABLE}
    if p.setting is Setting.OUTPATIENT and p.category in {"crps", "chronic_pain"}:
        assert soft == [250.0]  # analgesic outpatient protocols: the dissociative range


def test_domains_verify_items_are_marked_in_the_data() -> None:
    assert any("VERIFY" in v or "wording" in v for v in get_protocol("acute-pain-iv").verify)
    for pid in ("palliative-oral", "palliative-sc-burst"):
        assert any("PCF" in v for v in get_protocol(pid).verify), pid


def test_third_line_protocols_are_the_chronic_and_cancer_pain_ones() -> None:
    gated = {p.id for p in protocols().values() if p.third_line_required}
    assert gated == {
        "crps-continuous-4d",
        "crps-daily-10d",
        "chronic-pain-iv-series",
        "palliative-oral",
        "palliative-sc-burst",
    }


def test_an_unknown_protocol_lists_the_known_ids() -> None:
    with pytest.raises(UnknownNameError, match="accepted: acute-pain-iv"):
        get_protocol("ketamine-for-everything")


def test_a_broken_protocol_file_is_refused_naming_the_field() -> None:
    data = get_protocol("depression-iv").model_dump(mode="json")
    data["model_id"] = "nonexistent"
    with pytest.raises(DataFileError, match=r"bad\.yaml is invalid.*model_id 'nonexistent'"):
        load_protocol_text(yaml.safe_dump(data), "bad.yaml")
    data = get_protocol("depression-iv").model_dump(mode="json")
    data["dose_rule"]["doses"][0]["dose"] = "iv-infusion 0.5 mcg/kg over 40 min"
    with pytest.raises(DataFileError, match=r"dose_rule\.doses\.0\.dose.*micrograms"):
        load_protocol_text(yaml.safe_dump(data), "bad.yaml")
    with pytest.raises(DataFileError, match="not valid YAML"):
        load_protocol_text("id: [unclosed", "bad.yaml")


def test_a_protocol_file_survives_a_round_trip_through_json() -> None:
    for protocol in protocols().values():
        assert load_protocol_text(yaml.safe_dump(protocol.model_dump(mode="json"))) == protocol


def test_the_dose_basis_must_match_the_doses() -> None:
    data = get_protocol("depression-iv").model_dump(mode="json")
    data["dose_rule"]["basis"] = "fixed"
    with pytest.raises(DataFileError, match="basis"):
        load_protocol_text(yaml.safe_dump(data), "bad.yaml")


@pytest.mark.parametrize("protocol_id", sorted(EXPECTED_IDS))
def test_ceilings_cite_studies_of_the_protocols_own_drug(protocol_id: str) -> None:
    """S-ketamine is about twice as potent as racemic ketamine: an esketamine protocol's
    ceilings come from S-ketamine studies (the sources of its effect bands), never from the
    racemic ones, and a racemic protocol's from racemic studies."""
    p = get_protocol(protocol_id)
    racemic_cites = {b.cite for b in bands_for(Drug.RACEMIC)}
    s_cites = {b.cite.split(";")[0] for b in bands_for(Drug.ESKETAMINE)}
    for ceiling in p.ceilings:
        if p.drug is Drug.ESKETAMINE:
            assert not any(c in ceiling.source for c in racemic_cites), ceiling.source
            assert any(c in ceiling.source for c in s_cites), ceiling.source
        else:
            assert not any(c in ceiling.source for c in ("Olofsen", "Långsjö", "Simons"))
