"""``ketaclinic validate``: per-observation results, summaries, filters, plots, bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

Cli = Callable[..., Any]


def test_validate_json_has_every_prediction_and_the_summaries(cli: Cli) -> None:
    run = cli("validate", "--json")
    assert run.code == 0, run.err
    data = run.json()
    summary = data["summary"]
    assert summary["run"] == len(
        [p for p in data["predictions"] if p["status"] != "not applicable"]
    )
    assert 0 <= summary["passed"] <= summary["run"]
    inside = [
        p for p in data["predictions"] if p["status"] != "not applicable" and not p["extrapolated"]
    ]
    assert summary["in_population_run"] == len(inside) < summary["run"]
    assert set(data["by_model"]) >= {"kamp", "perez-ruixo"}
    assert "oral" in data["by_route"]
    first = data["predictions"][0]
    for key in (
        "observation",
        "model",
        "predicted",
        "reported",
        "ratio_predicted_to_reported",
        "accepted_low",
        "accepted_high",
        "status",
        "fitted",
        "extrapolated",
        "extrapolation",
        "source",
    ):
        assert key in first


def test_validate_filters_by_model_and_route(cli: Cli) -> None:
    data = cli("validate", "--model", "hornik", "--route", "im", "--json").json()
    assert {p["model"] for p in data["predictions"]} == {"hornik"}
    assert {p["route"] for p in data["predictions"]} == {"im"}
    assert set(data["by_model"]) == {"hornik"}


def test_validate_prints_a_table_and_the_summary(cli: Cli) -> None:
    run = cli("validate", "--model", "kamp", "--route", "oral")
    assert run.code == 0
    assert "chong2006-oral-ketamine-cmax-25mg" in run.out
    assert "within spread" in run.out


def test_validate_writes_png_and_html_plots(cli: Cli, tmp_path: Path) -> None:
    for name in ("v.png", "v.html"):
        out = tmp_path / "sub" / name
        run = cli("validate", "--route", "oral", "--plot", str(out))
        assert run.code == 0, run.err
        assert out.stat().st_size > 1000
    assert "plotly" in (tmp_path / "sub" / "v.html").read_text()


def test_validate_refuses_bad_input_with_one_line(cli: Cli, tmp_path: Path) -> None:
    for args, message in (
        (("--model", "nope"), "unknown model 'nope'"),
        (("--route", "intrathecal"), "no observation uses the route 'intrathecal'"),
        (("--plot", str(tmp_path)), "is a folder"),
        (("--plot", str(tmp_path / "x.txt")), "must end in one of"),
    ):
        run = cli("validate", *args)
        assert run.code == 2, args
        assert message in run.err
        assert len(run.err.strip().splitlines()) == 1
        assert "Traceback" not in run.err
