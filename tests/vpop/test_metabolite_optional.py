"""A population may leave the metabolite out: the parent's numbers do not change.

A metabolite never feeds back into its parent, so solving the parent's compartments alone
(which, for IV doses of a racemic model, is the closed-form fast path) must give the same
ketamine metrics as the whole system."""

from __future__ import annotations

import numpy as np
import pytest

from ketaclinic.pharmacology import simulate_population

IV = ["iv-infusion 0.5 mg/kg over 40 min at 0 min"]


@pytest.mark.parametrize("kernel", ["numpy", "compiled"])
@pytest.mark.parametrize("model", ["kamp", "domino", "fanta"])
def test_leaving_norketamine_out_keeps_the_ketamine_metrics(model: str, kernel: str) -> None:
    kwargs = {"n": 2048, "seed": 7, "thresholds_ng_per_ml": [100.0, 250.0], "kernel": kernel}
    both = simulate_population(model, IV, **kwargs)
    alone = simulate_population(model, IV, norketamine=False, **kwargs)
    assert both.norketamine is not None
    assert alone.norketamine is None
    np.testing.assert_allclose(alone.cmax_ng_per_ml, both.cmax_ng_per_ml, rtol=1e-9)
    np.testing.assert_allclose(alone.tmax_min, both.tmax_min, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(alone.auc_ng_h_per_ml, both.auc_ng_h_per_ml, rtol=1e-9)
    for threshold in (100.0, 250.0):
        np.testing.assert_allclose(
            alone.minutes_above_ng_per_ml[threshold],
            both.minutes_above_ng_per_ml[threshold],
            rtol=1e-7,
            atol=1e-6,
        )


def test_the_cli_leaves_norketamine_out_on_request() -> None:
    import json

    from typer.testing import CliRunner

    from ketaclinic.cli import app

    args = ["population", "--model", "kamp", "--dose", IV[0], "--n", "500", "--json"]
    with_nk = json.loads(CliRunner().invoke(app, args).stdout)
    without = json.loads(CliRunner().invoke(app, [*args, "--no-norketamine"]).stdout)
    assert with_nk.get("norketamine") is not None
    assert without.get("norketamine") is None
    for key in ("percentiles", "probability_above_ng_per_ml"):
        assert without[key] == with_nk[key]
