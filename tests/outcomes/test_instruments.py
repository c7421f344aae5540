"""The instrument library: every file loads once, cites its sources and licence, and a broken
file fails loudly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import ketaclinic.outcomes as outcomes_facade
from ketaclinic.errors import UnknownNameError
from ketaclinic.outcomes import get_instrument, instruments, load_instrument_text

EXPECTED = {"phq-9", "gad-7", "pain-nrs", "bpi-sf", "peg", "cadss-6", "moaa-s"}
SRC = Path(__file__).resolve().parents[2] / "src" / "ketaclinic" / "outcomes"


def test_the_facade_lists_its_public_names() -> None:
    assert set(outcomes_facade.__all__) == {
        "DAILY_DOSE_MG",
        "DEFAULT_MME_TABLE",
        "LEVELS",
        "PATCH_RATE_MCG_PER_H",
        "Alert",
        "AlertRule",
        "AnswerSet",
        "Assessment",
        "Band",
        "Change",
        "DailyDose",
        "DecisionPoint",
        "Instrument",
        "Item",
        "Level",
        "Metric",
        "MinimumData",
        "MmeDrug",
        "MmeResult",
        "MmeTable",
        "MmeTier",
        "Recommendation",
        "RuleOutcome",
        "Score",
        "ScoreRule",
        "ScoreValue",
        "Threshold",
        "TrialDecision",
        "TrialRule",
        "Unconverted",
        "compare_scores",
        "converts",
        "evaluate_trial",
        "get_instrument",
        "get_mme_table",
        "instruments",
        "load_instrument_text",
        "load_mme_table_text",
        "mme",
        "mme_tables",
        "parse_daily_dose",
        "score",
        "score_rules",
    }
    assert all(hasattr(outcomes_facade, name) for name in outcomes_facade.__all__)


def test_the_library_holds_the_seven_instruments_of_domain_section_5() -> None:
    assert set(instruments()) == EXPECTED


def test_instruments_are_loaded_once() -> None:
    assert instruments() is instruments()


@pytest.mark.parametrize("instrument_id", sorted(EXPECTED))
def test_each_instrument_cites_its_source_and_licence(instrument_id: str) -> None:
    inst = get_instrument(instrument_id)
    assert inst.source
    assert inst.licence
    assert inst.version
    for rule in inst.scores:
        assert all(t.source for t in rule.change_rules)
        assert not rule.bands or rule.bands_source
    assert all(a.source for a in inst.alerts)


def test_item_texts_are_reproduced_only_where_the_instrument_is_free() -> None:
    verbatim = {i.id for i in instruments().values() if i.item_texts == "verbatim"}
    assert verbatim == {"phq-9", "gad-7"}
    for inst in instruments().values():
        if inst.item_texts == "verbatim":
            assert "No permission required to reproduce" in inst.licence


@pytest.mark.parametrize(
    ("instrument_id", "panel", "score_id", "score_code"),
    [
        ("phq-9", "44249-1", "total", "44261-6"),
        ("gad-7", "69737-5", "total", "70274-6"),
        ("pain-nrs", None, "total", "72514-3"),
        ("peg", "91148-7", "total", "91147-9"),
        ("bpi-sf", None, "severity", None),
        ("cadss-6", None, "total", None),
        ("moaa-s", None, "total", None),
    ],
)
def test_loinc_codes_are_the_confirmed_ones_or_absent(
    instrument_id: str, panel: str | None, score_id: str, score_code: str | None
) -> None:
    inst = get_instrument(instrument_id)
    assert inst.loinc_panel == panel
    assert inst.score_rule(score_id).loinc == score_code
    assert inst.loinc_note


def test_phq9_item_codes_follow_the_loinc_panel() -> None:
    codes = [i.loinc for i in get_instrument("phq-9").items]
    assert codes[0] == "44250-9"
    assert codes[8] == "44260-8"
    assert len(set(codes)) == 9


def test_cadss6_holds_items_1_2_6_7_15_22_of_the_cadss() -> None:
    inst = get_instrument("cadss-6")
    assert [i.id for i in inst.items] == [f"cadss_{n}" for n in (1, 2, 6, 7, 15, 22)]
    assert inst.score_range("total") == (0.0, 24.0)


@pytest.mark.parametrize("name", ["PHQ-9", "phq9", "Phq 9", "MOAA/S", "moaas"])
def test_instrument_names_match_loosely(name: str) -> None:
    assert get_instrument(name).id in EXPECTED


def test_an_unknown_instrument_is_refused_with_the_accepted_ids() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown instrument 'hads'; accepted: .*phq-9"):
        get_instrument("hads")


def _phq9() -> dict[str, object]:
    data = yaml.safe_load((SRC / "data" / "instruments" / "phq-9.yaml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["scores"][0]["bands"].pop(1),
            "bands must partition 0-27 without gaps",
        ),
        (lambda d: d["items"][0].update(answers="likert"), "answer set 'likert' is not declared"),
        (lambda d: d["scores"][0].pop("bands_source"), "bands need bands_source"),
        (lambda d: d["alerts"][0].update(item="10"), "item '10' is not an item"),
        (lambda d: d.update(colour="red"), "colour"),
        (
            lambda d: d["scores"][0]["change_rules"][0].update(below_points=40),
            "below 40 points lies outside 0-27",
        ),
        (
            lambda d: d["scores"][0]["change_rules"][1].update(at_least_points=5),
            "needs exactly at_least_percent",
        ),
    ],
)
def test_a_broken_instrument_file_fails_loudly(change: object, message: str) -> None:
    data = _phq9()
    change(data)  # type: ignore[operator]
    with pytest.raises(ValueError, match=re.escape(message)):
        load_instrument_text(yaml.safe_dump(data), "phq-9.yaml")


def test_the_package_reads_no_clock_and_opens_no_files() -> None:
    forbidden = re.compile(r"\b(datetime\.now|date\.today|time\.time|open\(|Path\(|os\.environ)")
    offenders = [
        f"{path.name}:{number}"
        for path in sorted(SRC.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line) and not line.lstrip().startswith((">>>", "..."))
    ]
    assert not offenders
