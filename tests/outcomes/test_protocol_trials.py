"""Every protocol's trial criteria are machine-readable, agree with the instrument's own rules,
and keep the human-readable text."""

from __future__ import annotations

import pytest

from ketaclinic.outcomes import TrialRule, get_instrument, score_rules
from ketaclinic.protocols import TrialCriteria, protocols


@pytest.mark.parametrize("protocol_id", sorted(protocols()))
def test_each_trial_block_is_a_trial_rule_with_its_text(protocol_id: str) -> None:
    trial = protocols()[protocol_id].trial
    assert isinstance(trial, TrialCriteria)
    assert isinstance(trial, TrialRule)
    assert trial.instrument
    assert trial.baseline
    assert trial.threshold
    assert trial.judge_at
    assert trial.source
    assert trial.minimum_data.baseline_required
    assert all(t.source for t in trial.thresholds)


@pytest.mark.parametrize("protocol_id", sorted(protocols()))
def test_the_followed_instrument_is_one_the_protocol_monitors(protocol_id: str) -> None:
    p = protocols()[protocol_id]
    short = get_instrument(p.trial.instrument_id).short_name.lower()
    assert any(short in scale.lower() for scale in p.monitoring.scales)
    assert short in p.trial.instrument.lower()


@pytest.mark.parametrize("protocol_id", sorted(protocols()))
def test_protocol_thresholds_agree_with_the_instrument_rules(protocol_id: str) -> None:
    trial = protocols()[protocol_id].trial
    published = {
        (t.level, t.metric, t.value) for t in score_rules(trial.instrument_id, trial.scale)
    }
    assert {(t.level, t.metric, t.value) for t in trial.thresholds} <= published


# continuous infusions and round-the-clock oral dosing (DOMAIN.md section 2: taper after more
# than 3 weeks of continuous use); the others are intermittent series that simply stop
CONTINUOUS = {"acute-pain-iv", "crps-continuous-4d", "palliative-oral", "palliative-sc-burst"}


@pytest.mark.parametrize("protocol_id", sorted(protocols()))
def test_continuous_dosing_tapers_and_intermittent_series_stop(protocol_id: str) -> None:
    trial = protocols()[protocol_id].trial
    assert (trial.taper_after_continuous_days == 21) == (protocol_id in CONTINUOUS)
    assert trial.on_failure == "stop"
