"""``ketaclinic population``: JSON contract, plot, YAML populations and bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# the `cli` fixture (tests/cli/conftest.py) returns a Run: code, out, err, json()
Cli = Callable[..., Any]
BASE = ["population", "--model", "kamp", "--dose", "iv-infusion 0.5 mg/kg over 40 min at 0 min"]


def test_json_has_probabilities_with_intervals_percentiles_and_bands(cli: Cli) -> None:
    run = cli(*BASE, "--n", "2000", "--seed", "1", "--threshold", "250,750", "--json")
    assert run.code == 0, run.err
    data = run.json()
    assert data["n"] == 2000
    assert set(data["probability_above_ng_per_ml"]) == {"250", "750"}
    e = data["probability_above_ng_per_ml"]["250"]
    assert e["ci95_low"] <= e["probability"] <= e["ci95_high"]
    assert set(data["percentiles"]["cmax_ng_per_ml"]) == {"p5", "p25", "p50", "p75", "p95"}
    bands = data["bands"]
    assert len(bands["times_min"]) == len(bands["p50"]) == len(bands["p5"])
    assert "ASSUMPTION" in data["variability"]["basis"]
    # racemic norketamine is modelled (a stated assumption): below ketamine after IV dosing
    norketamine = data["norketamine"]["percentiles"]["cmax_ng_per_ml"]["p50"]
    assert 0 < norketamine < data["percentiles"]["cmax_ng_per_ml"]["p50"]


def test_norketamine_is_reported_where_modelled(cli: Cli) -> None:
    run = cli("population", "--model", "fanta", "--dose", "oral 50 mg", "--n", "500", "--json")
    assert run.code == 0, run.err
    assert run.json()["norketamine"]["percentiles"]["cmax_ng_per_ml"]["p50"] > 0


def test_the_same_seed_prints_the_same_json(cli: Cli) -> None:
    args = [*BASE, "--n", "1500", "--seed", "9", "--json"]
    assert cli(*args).out == cli(*args, "--chunk-size", "1024").out


def test_a_yaml_population_and_child_pugh_mix_are_read(cli: Cli, tmp_path: Path) -> None:
    pop = tmp_path / "pop.yaml"
    pop.write_text(
        "female_fraction: 1.0\nweight_kg: {distribution: normal, mean: 60, sd: 5}\n"
        "age_years: {distribution: uniform, low: 30, high: 50}\nheight_cm: 165\n"
    )
    mix = tmp_path / "mix.yaml"
    mix.write_text("none: 0.5\nB: 0.5\n")
    run = cli(*BASE, "--n", "800", "--population", str(pop), "--child-pugh-mix", str(mix), "--json")
    assert run.code == 0, run.err
    assert run.json()["population"] == "user description"


def test_the_readable_report_and_plot(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "bands.png"
    run = cli(*BASE, "--n", "800", "--plot", str(out))
    assert run.code == 0, run.err
    assert "Probability that Cmax exceeds" in run.out
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n", "0"], "n must be"),
        (["--variability", "CL=x"], "CV must be a number"),
        (["--population", "nowhere.yaml"], "neither a named population nor a file"),
        (["--threshold", "abc"], "not a number"),
        (["--until", "0h"], "horizon must be above 0"),
        (["--scheduler", "junk"], "scheduler 'junk' is not a Dask scheduler address; accepted"),
        (["--scheduler", "tcp://host:99999"], "with a port from 1 to 65535"),
        (["--local-workers", "-1"], "from 1-32 workers, got -1"),
        (["--local-workers", "1000"], "from 1-32 workers, got 1000"),
        (["--n", "abc"], "Invalid value for '--n'"),
        (["--n", "100000000"], "n must be a whole number from 1 to 5000000"),
        (["--threshold", ",".join(str(t) for t in range(1, 12))], "at most 10 are accepted"),
        (["--population", "elderly"], "accepted: adults, children, hepatic-mix or a YAML file"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli: Cli, args: list[str], message: str) -> None:
    run = cli(*BASE, *args)
    assert run.code == 2
    assert message in run.err
    assert "Traceback" not in run.err
    assert len(run.err.strip().splitlines()) == 1


def test_a_refused_scheduler_port_fails_quickly_with_one_line(cli: Cli) -> None:
    import time

    start = time.perf_counter()
    run = cli(*BASE, "--n", "100", "--scheduler", "tcp://127.0.0.1:1")
    assert time.perf_counter() - start < 10.0
    assert run.code == 2
    assert "cannot connect to a Dask scheduler at tcp://127.0.0.1:1 within 5 s" in run.err
    assert len(run.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("child_pug: {B: 1.0}\n", "population key 'child_pug' is not accepted; accepted: age"),
        ("weight_kg: .nan\n", "weight_kg nan is not accepted; accepted: a finite number"),
        ("weight_kg: {distribution: lognormal, medain: 70, cv: 0.2}\n", "key 'medain'"),
        ("weight_kg: true\n", "weight_kg True is not accepted"),
    ],
)
def test_a_population_file_with_a_typo_or_a_non_number_is_refused_by_name(
    cli: Cli, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "population.yaml"
    path.write_text(text, encoding="utf-8")
    run = cli(*BASE, "--n", "100", "--population", str(path))
    assert run.code == 2
    assert message in run.err
    assert len(run.err.strip().splitlines()) == 1


def test_metrics_are_exact_at_any_step_and_name_their_interval(cli: Cli) -> None:
    """Issue 9 item 4: P(Cmax > 250) about 0.49 for Kamp at 0.5 mg/kg over 40 min, at 1 min,
    1 h or 100 d steps alike (the old grid gave 0 at 1 h and zeros at 100 d)."""
    runs = [
        cli(*BASE, "--n", "2000", "--threshold", "250", "--step", step, "--json").json()
        for step in ("1min", "1h", "100d")
    ]
    probabilities = [r["probability_above_ng_per_ml"]["250"]["probability"] for r in runs]
    assert probabilities[0] == pytest.approx(0.49, abs=0.03)
    assert probabilities == [probabilities[0]] * 3
    assert [r["percentiles"]["cmax_ng_per_ml"] for r in runs] == [
        runs[0]["percentiles"]["cmax_ng_per_ml"]
    ] * 3
    assert runs[0]["auc_interval_h"] == [0.0, 24.0]


def test_a_dose_after_the_horizon_is_named_in_the_warnings(cli: Cli) -> None:
    run = cli(
        "population", "--model", "kamp", "--dose", "iv-bolus 35 mg at 600 min", "--until", "1h",
        "--n", "100", "--json",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert any("after the simulated window ends at 60 min" in w for w in run.json()["warnings"])
