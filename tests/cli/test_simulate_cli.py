"""``ketaclinic simulate``, ``models`` and ``demo``: the JSON contract, plots, and the error
boundary (user errors exit 2 with one line on stderr, never a traceback).

Most tests call :func:`ketaclinic.cli._app.run_app` in-process, the error boundary the console
script runs; a few run the installed script as a subprocess.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ketaclinic.cli._app import EXIT_USER_ERROR
from ketaclinic.pharmacology import MODELS, Patient, simulate

# the `cli` fixture (tests/cli/conftest.py) returns a Run: code, out, err, json()
Cli = Callable[..., Any]

SCRIPT = Path(sys.executable).parent / "ketaclinic"
DOMINO = [
    "simulate",
    "--model",
    "domino",
    "--weight-kg",
    "70",
    "--age-years",
    "40",
    "--sex",
    "male",
    "--height-cm",
    "175",
    "--dose",
    "iv-infusion 0.5 mg/kg over 40 min at 0 min",
]


# --- the JSON contract ------------------------------------------------------------------------


def test_json_output_has_the_documented_keys(cli: Cli) -> None:
    run = cli(*DOMINO, "--until", "2h", "--threshold", "100,250", "--json")
    assert run.code == 0, run.err
    data = run.json()
    assert {
        "model",
        "patient",
        "times_min",
        "ketamine_ng_per_ml",
        "norketamine_ng_per_ml",
        "effect_site_ng_per_ml",
        "summary",
        "warnings",
        "sources",
    } <= set(data)
    assert data["model"] == "domino"
    assert data["patient"] == {
        "weight_kg": 70.0,
        "age_years": 40.0,
        "sex": "male",
        "height_cm": 175.0,
        "child_pugh": "none",
        "ethnicity": "not stated",
    }
    assert data["times_min"] == [float(t) for t in range(121)]
    assert len(data["ketamine_ng_per_ml"]) == len(data["effect_site_ng_per_ml"]) == 121
    # racemic norketamine: the catalogue's stated assumption (Otto 2021 disposition)
    assert len(data["norketamine_ng_per_ml"]) == 121
    summary = data["summary"]
    for key in ("cmax_ng_per_ml", "tmax_min", "auc_ng_h_per_ml", "minutes_above_ng_per_ml"):
        assert key in summary
    assert set(summary["minutes_above_ng_per_ml"]) == {"100", "250"}
    assert 0 < summary["norketamine"]["cmax_ng_per_ml"] < summary["cmax_ng_per_ml"]
    assert set(summary["effect_site"]) >= {"cmax_ng_per_ml", "minutes_above_ng_per_ml"}
    assert summary["tmax_min"] == 40.0
    assert summary["cmax_ng_per_ml"] == pytest.approx(240.3, abs=0.1)
    assert any(s.startswith("model: Domino") for s in data["sources"])
    assert isinstance(data["warnings"], list)


def test_json_values_are_the_engine_values(cli: Cli) -> None:
    data = cli(*DOMINO, "--until", "3h", "--step", "30 s", "--json").json()
    expected = simulate(
        "domino",
        Patient(weight_kg=70, age_years=40, height_cm=175),
        ["iv-infusion 0.5 mg/kg over 40 min at 0 min"],
        np.arange(361) * 0.5,
    )
    np.testing.assert_allclose(data["times_min"], expected.times_min, rtol=0, atol=1e-12)
    np.testing.assert_allclose(data["ketamine_ng_per_ml"], expected.ketamine_ng_per_ml, rtol=1e-12)


def test_norketamine_is_reported_and_summarised_where_modelled(cli: Cli) -> None:
    run = cli(
        "simulate", "--model", "fanta", "--weight-kg", "70", "--dose", "oral 25 mg every 8 h x 3",
        "--until", "1d", "--json",
    )  # fmt: skip
    data = run.json()
    assert len(data["norketamine_ng_per_ml"]) == len(data["times_min"]) == 1441
    norketamine = data["summary"]["norketamine"]
    assert norketamine["cmax_ng_per_ml"] > data["summary"]["cmax_ng_per_ml"]
    assert set(norketamine["minutes_above_ng_per_ml"]) == {"100", "250", "750"}  # the defaults


def test_with_at_the_arrays_hold_exactly_those_times(cli: Cli) -> None:
    data = cli(*DOMINO, "--at", "60,10,40", "--json").json()
    assert data["times_min"] == [10.0, 40.0, 60.0]
    assert len(data["ketamine_ng_per_ml"]) == len(data["effect_site_ng_per_ml"]) == 3
    assert data["ketamine_ng_per_ml"][1] == pytest.approx(240.33, abs=0.01)
    assert data["summary"]["ng_per_ml_at_min"]["40"] == data["ketamine_ng_per_ml"][1]
    assert data["summary"]["tmax_min"] == 40.0  # the summary still uses the full grid


def test_covariate_and_hepatic_warnings_reach_the_json(cli: Cli) -> None:
    run = cli(
        "simulate", "--model", "kamp", "--weight-kg", "160", "--child-pugh", "B",
        "--dose", "im 0.5 mg/kg", "--at", "30", "--json",
    )  # fmt: skip
    warnings = run.json()["warnings"]
    assert any("weight 160 kg is outside" in w for w in warnings)
    assert any("Child-Pugh B" in w and "assumption" in w for w in warnings)
    assert any(w.startswith("im: route extension") for w in warnings)


def test_the_readable_table_shows_summary_warnings_and_sources(cli: Cli) -> None:
    run = cli(*DOMINO, "--at", "40", "--dose", "oral 25 mg at 2 h")
    assert run.code == 0, run.err
    for text in ("Domino 1982", "Cmax (ng/mL)", "AUC", "minutes above 100 ng/mL", "at 40 min",
                 "warning:", "route extension", "sources"):  # fmt: skip
        assert text in run.out


# --- plots ------------------------------------------------------------------------------------


def test_plot_writes_a_png(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "sub" / "curve.png"
    run = cli(*DOMINO, "--until", "6h", "--plot", str(target))
    assert run.code == 0, run.err
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 10_000
    assert f"plot written to {target}" in run.out


def test_plot_writes_a_self_contained_html(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "curve.html"
    run = cli(*DOMINO, "--until", "6h", "--plot", str(target), "--json")
    assert run.code == 0, run.err
    assert run.json()["plot"] == str(target)
    html = target.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?https?:", html, re.IGNORECASE)
    assert "Plotly.newPlot" in html
    assert len(html) > 1_000_000  # plotly.js itself is embedded


# --- models and demo ------------------------------------------------------------------------


def test_models_lists_every_model(cli: Cli) -> None:
    run = cli("models")
    assert run.code == 0
    for model_id in MODELS:
        assert model_id in run.out
    assert "route extension" in run.out


def test_models_json_lists_all_eleven_ids_with_ranges_and_sources(cli: Cli) -> None:
    rows = cli("models", "--json").json()
    assert [row["id"] for row in rows] == [
        "domino", "clements", "hijazi", "herd", "hornik", "kamp", "sherwin", "elkomy",
        "fanta", "perez-ruixo", "simons",
    ]  # fmt: skip
    for row in rows:
        assert row["source"]
        assert len(row["weight_range_kg"]) == 2
        assert row["routes"]["iv"] == "fitted"
    by_id = {row["id"]: row for row in rows}
    assert by_id["kamp"]["routes"]["oral"] == "extension"
    assert by_id["fanta"]["norketamine"] is True


def test_demo_writes_its_plots(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "demo.png"
    run = cli("demo", "--out", str(target))
    assert run.code == 0, run.err
    assert target.stat().st_size > 0
    assert target.with_suffix(".html").stat().st_size > 0
    assert "plot written to" in run.out


def test_help_documents_the_dose_grammar(cli: Cli) -> None:
    run = cli("simulate", "--help")
    assert run.code == 0
    assert "iv-infusion 0.5 mg/kg over 40 min at 0 min" in run.out
    assert "neurotoxic" in run.out


# --- metrics from the exact solution, whatever the grid (issue 9 item 4) ----------------------

KAMP_DEPRESSION = [
    "simulate",
    "--model",
    "kamp",
    "--weight-kg",
    "70",
    "--dose",
    "iv-infusion 0.5 mg/kg over 40 min at 0 min",
    "--threshold",
    "100",
    "--json",
]


@pytest.mark.parametrize("step", ["1min", "1h", "100d"])
def test_the_summary_is_the_same_at_any_step(cli: Cli, step: str) -> None:
    run = cli(*KAMP_DEPRESSION, "--step", step)
    assert run.code == 0, run.err
    summary = run.json()["summary"]
    assert summary["cmax_ng_per_ml"] == pytest.approx(253.05, abs=0.01)
    assert summary["tmax_min"] == pytest.approx(40.0)
    assert summary["minutes_above_ng_per_ml"]["100"] == pytest.approx(53.17, abs=0.01)
    assert summary["auc_ng_h_per_ml"] == pytest.approx(415.71, abs=0.01)
    assert summary["auc_interval_h"] == [0.0, 25.0]


def test_demo_simulate_and_plan_state_the_same_auc_for_the_same_dose(
    cli: Cli, tmp_path: Path
) -> None:
    """The demo plots 6 h but its summary covers the same 0-25 h as simulate and plan."""
    simulated = cli(*KAMP_DEPRESSION, "--age-years", "40", "--sex", "female", "--height-cm", "168")
    auc = simulated.json()["summary"]["auc_ng_h_per_ml"]
    demo = cli("demo", "--out", str(tmp_path / "demo.png"))
    assert demo.code == 0, demo.err
    assert re.search(rf"AUC 0-25 h \(ng\*h/mL\)\s+│\s+{auc:.1f}", demo.out), demo.out
    examples = Path(__file__).resolve().parents[2] / "docs" / "examples"
    planned = cli(
        "plan", "--protocol", "depression-iv", "--patient",
        str(examples / "depression-iv.patient.yaml"), "--start", "2026-12-01", "--json",
    )  # fmt: skip
    assert planned.code == 0, planned.err
    summary = planned.json()["prediction"]["summary"]  # Kamp is linear in weight: 70 kg too
    assert summary["auc_interval_h"] == [0.0, 25.0]
    assert summary["auc_ng_h_per_ml"] == pytest.approx(auc, rel=1e-9)


def test_a_dose_after_the_horizon_is_named_not_silently_zero(cli: Cli) -> None:
    run = cli(
        "simulate", "--model", "kamp", "--weight-kg", "70", "--dose", "iv-bolus 35 mg at 600 min",
        "--until", "1h", "--json",
    )  # fmt: skip
    assert run.code == 0, run.err
    data = run.json()
    assert data["summary"]["cmax_ng_per_ml"] == 0.0
    assert any("after the simulated window ends at 60 min" in w for w in data["warnings"])


# --- bad input: exit 2, one line, no traceback ----------------------------------------------


def _replace(args: list[str], option: str, value: str) -> list[str]:
    out = list(args)
    out[out.index(option) + 1] = value
    return out


BAD_INPUT = {
    "unknown model": (_replace(DOMINO, "--model", "propofol"), "unknown model 'propofol'"),
    "weight 0": (_replace(DOMINO, "--weight-kg", "0"), "weight 0 kg is outside"),
    "weight 700": (_replace(DOMINO, "--weight-kg", "700"), "weight 700 kg is outside"),
    "age 150": (_replace(DOMINO, "--age-years", "150"), "age 150 years"),
    "sex": (_replace(DOMINO, "--sex", "x"), "sex 'x' is not accepted"),
    "child-pugh": (["simulate", "--child-pugh", "E", *DOMINO[1:]], "Child-Pugh 'E'"),
    "negative dose": (_replace(DOMINO, "--dose", "iv-bolus -5 mg"), "must be positive"),
    "malformed dose": (_replace(DOMINO, "--dose", "iv-bolus 5 mcg"), "micrograms"),
    "naked decimal": (_replace(DOMINO, "--dose", "iv-bolus .5 mg/kg"), "naked decimal"),
    "neuraxial": (_replace(DOMINO, "--dose", "intrathecal 5 mg"), "neurotoxic"),
    "dose too large": (_replace(DOMINO, "--dose", "iv-bolus 200 mg/kg"), "outside the accepted"),
    "route not fitted": (
        [*_replace(DOMINO, "--model", "simons")[:-1], "oral 20 mg"],
        "cannot simulate the oral route",
    ),
    "bad --at": ([*DOMINO, "--at", "10,soon"], "--at 'soon' is not a number"),
    "negative --at": ([*DOMINO, "--at", "-5"], "--at '-5' must be"),
    "--at too late": ([*DOMINO, "--at", "1e9"], "accepted: 0-527040 min"),
    "bad --until": ([*DOMINO, "--until", "soon"], "--until"),
    "zero --until": ([*DOMINO, "--until", "0h"], "--until must be above 0 min"),
    "--until too long": ([*DOMINO, "--until", "400 d"], "accepted: 0-527040 min"),
    "bad --step": ([*DOMINO, "--step", "fast"], "--step"),
    "zero --step": ([*DOMINO, "--step", "0 min"], "--step must be above 0 min"),
    "too many points": ([*DOMINO, "--until", "300d", "--step", "1s"], "at most 527041"),
    "step too fine for the default horizon": (
        [*DOMINO, "--step", "0.0001min"],
        "the default horizon 1500 min at --step 0.0001min gives 15000001 points",
    ),
    "bad --threshold": ([*DOMINO, "--threshold", "0"], "above 0 ng/mL"),
    "bad --plot suffix": ([*DOMINO, "--plot", "curve.jpg"], "must end in one of .png, .html"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exits_2_with_one_line_and_no_traceback(
    cli: Cli, case: str, tmp_path: Path
) -> None:
    args, message = BAD_INPUT[case]
    args = [str(tmp_path / a) if a == "curve.jpg" else a for a in args]
    run = cli(*args)
    assert run.code == EXIT_USER_ERROR
    assert message in run.err
    assert run.err.startswith("error: ")
    assert run.err.count("\n") == 1
    assert "Traceback" not in run.err + run.out
    assert run.out == ""


def test_bad_plot_suffix_writes_no_file(cli: Cli, tmp_path: Path) -> None:
    cli(*DOMINO, "--plot", str(tmp_path / "curve.jpg"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "--model", "domino", "--weight-kg", "heavy", "--dose", "iv-bolus 5 mg"],
        ["simulate", "--weight-kg", "70", "--dose", "iv-bolus 5 mg"],
        ["simulate", "--model", "domino", "--weight-kg", "70"],
        ["frobnicate"],
    ],
    ids=["non-numeric weight", "no model", "no dose", "unknown command"],
)
def test_usage_errors_exit_2_without_a_traceback(cli: Cli, args: list[str]) -> None:
    run = cli(*args)
    assert run.code == 2
    assert "Traceback" not in run.err + run.out


# --- the installed console script ---------------------------------------------------------


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_console_script_prints_json() -> None:
    proc = _script(*DOMINO, "--at", "10,40,60", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [round(v) for v in data["ketamine_ng_per_ml"]] == [182, 240, 55]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (_replace(DOMINO, "--model", "propofol"), "unknown model"),
        (_replace(DOMINO, "--weight-kg", "700"), "weight 700 kg"),
        (_replace(DOMINO, "--dose", "epidural 5 mg"), "neurotoxic"),
    ],
)
def test_the_console_script_exits_2_on_user_errors(args: list[str], message: str) -> None:
    proc = _script(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_the_console_script_prints_its_version() -> None:
    proc = _script("--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("ketaclinic ")
