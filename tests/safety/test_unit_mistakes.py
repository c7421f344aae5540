"""Probable unit and decimal mistakes, and generated mis-keys (hypothesis).

Every tenfold or hundredfold mistake that lands above a hard limit must be refused.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safety_helpers import ROUTE_OF, USUAL_DOSES, codes, finding, patient, run

from ketaclinic.pharmacology import parse_dose
from ketaclinic.protocols import plan
from ketaclinic.safety import Severity, drug_library
from ketaclinic.safety.rules.unit_mistakes import TENFOLD_FROM


def test_the_usual_doses_raise_no_unit_finding() -> None:
    for protocol in USUAL_DOSES:
        assert not {c for c in codes(run(protocol)) if c.startswith("unit.")}, protocol


def test_a_tenfold_bolus_is_named_as_a_probable_decimal_mistake() -> None:
    report = run("acute-pain-iv", ["iv-bolus 175 mg"])
    tenfold = finding(report, "unit.tenfold")
    assert tenfold.severity is Severity.HARD_STOP  # 2.5 mg/kg is above the hard limit
    assert "10x the usual dose 17.5 mg" in tenfold.message


def test_a_hundredfold_dose_is_named_as_such() -> None:
    report = run("palliative-oral", ["oral 1000 mg"])
    assert finding(report, "unit.hundredfold").severity is Severity.HARD_STOP


def test_a_tenfold_dose_within_the_limits_is_a_warning_to_confirm() -> None:
    # 100 mg oral is ten times the 10 mg start but the published maximum single dose
    report = run("palliative-oral", ["oral 100 mg"])
    assert finding(report, "unit.tenfold").severity is Severity.OVERRIDABLE  # above soft 50 mg
    report = run("palliative-oral", ["oral 70 mg"], who=patient())
    assert finding(report, "unit.tenfold").severity is Severity.OVERRIDABLE
    assert "unit.tenfold" not in codes(run("palliative-oral", ["oral 65 mg"]))  # 6.5x < 7x


def test_mg_per_kg_entered_where_mg_was_meant() -> None:
    report = run("depression-iv", ["iv-infusion 35 mg/kg over 40 min"])
    mistake = finding(report, "unit.mg_per_kg_for_mg")
    assert mistake.severity is Severity.HARD_STOP
    assert "looks like mg entered as mg/kg" in mistake.message


def test_mg_entered_where_mg_per_kg_was_meant() -> None:
    report = run("depression-iv", ["iv-infusion 0.5 mg over 40 min"])
    mistake = finding(report, "unit.mg_for_mg_per_kg")
    assert mistake.severity is Severity.OVERRIDABLE
    assert "mg/kg entered as mg" in mistake.message
    assert "unit.mg_for_mg_per_kg" not in codes(
        run("depression-iv", ["iv-infusion 20 mg over 40 min"])
    )


def test_a_rate_entered_where_a_daily_amount_was_meant() -> None:
    report = run("palliative-sc-burst", ["sc-infusion 100 mg/h for 24 h"])
    assert finding(report, "unit.rate_for_amount").severity is Severity.HARD_STOP
    assert "unit.rate_for_amount" not in codes(run("palliative-sc-burst"))


def test_an_amount_entered_where_a_rate_was_meant() -> None:
    report = run("crps-continuous-4d", ["iv-infusion 22 mg over 96 h"])
    mistake = finding(report, "unit.amount_for_rate")
    assert mistake.severity is Severity.OVERRIDABLE
    assert "was a rate in mg/h entered as an amount" in mistake.message


# --- generated mis-keys -------------------------------------------------------------------

_FACTORS = st.sampled_from([10.0, 100.0])
_PROTOCOLS = st.sampled_from(sorted(USUAL_DOSES))
_WEIGHTS = st.sampled_from([45.0, 60.0, 70.0, 85.0, 110.0])


def _mis_key(text: str, factor: float) -> str:
    """The same dose with its number multiplied by ``factor`` (a slipped decimal point)."""
    words = text.split()
    words[1] = f"{float(words[1]) * factor:g}"
    return " ".join(words)


def _above_hard(protocol: str, dose_text: str, weight_kg: float) -> bool:
    entry = drug_library().entry(protocol, ROUTE_OF[protocol])
    doses = parse_dose(dose_text).occurrences()
    checks: list[tuple[str, float]] = []
    for d in doses:
        mg = d.amount_mg(weight_kg)
        if d.is_infusion:
            rate = d.rate_mg_per_h(weight_kg)
            checks += [
                ("infusion_rate_mg_per_h", rate),
                ("infusion_rate_mg_per_kg_per_h", rate / weight_kg),
            ]
        else:
            checks += [("bolus_mg", mg), ("bolus_mg_per_kg", mg / weight_kg)]
    total = sum(d.amount_mg(weight_kg) for d in doses)
    checks += [("session_total_mg", total), ("session_total_mg_per_kg", total / weight_kg)]
    return any(
        (limit := entry.limit(name)) is not None and limit.hard is not None and value > limit.hard
        for name, value in checks
    )


@settings(derandomize=True, deadline=None, max_examples=60, database=None)
@given(protocol=_PROTOCOLS, factor=_FACTORS, weight_kg=_WEIGHTS, which=st.integers(0, 1))
def test_every_tenfold_or_hundredfold_mis_key_above_a_hard_limit_is_refused(
    protocol: str, factor: float, weight_kg: float, which: int
) -> None:
    who = patient(weight_kg=weight_kg)
    usual = [d.text for d in plan(protocol, who, date(2026, 12, 1)).doses]
    index = min(which, len(usual) - 1)
    wrong = _mis_key(usual[index], factor)
    doses = [wrong if i == index else d for i, d in enumerate(usual)]
    report = run(protocol, doses, who=who)
    unit_codes = {c for c in codes(report) if c.startswith("unit.")}
    assert unit_codes, f"{wrong}: no unit finding"
    assert not report.allowed, f"{wrong} at {weight_kg} kg was allowed"
    if _above_hard(protocol, wrong, weight_kg):
        assert codes(report, Severity.HARD_STOP), f"{wrong} above a hard limit was not a hard stop"


@pytest.mark.parametrize("protocol", sorted(USUAL_DOSES))
def test_every_protocols_hundredfold_mis_key_is_a_hard_stop(protocol: str) -> None:
    doses = [_mis_key(USUAL_DOSES[protocol][0], 100.0), *USUAL_DOSES[protocol][1:]]
    report = run(protocol, doses)
    assert codes(report, Severity.HARD_STOP), doses


def test_the_tenfold_threshold_is_below_ten() -> None:
    assert 5 < TENFOLD_FROM < 10
