"""``ketaclinic models --json`` reports each model's declared structure and parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Cli = Callable[..., Any]


def test_models_json_shows_structure_paths_and_parameters_with_units(cli: Cli) -> None:
    rows = {row["id"]: row for row in cli("models", "--json").json()}
    pr = rows["perez-ruixo"]
    assert pr["structure"]["compartments"] == 3
    assert pr["structure"]["liver_compartment"] is True
    assert pr["structure"]["metabolite"] == {"label": "noresketamine", "compartments": 2}
    nasal = pr["structure"]["routes"]["intranasal"]
    assert [p["path"] for p in nasal] == ["intranasal", "intranasal_swallowed"]
    assert nasal[0]["fraction"] == 0.54
    assert nasal[0]["later_device_factor"] == 0.62
    assert nasal[1]["into_liver"] is True
    assert pr["structure"]["routes"]["iv"] == []
    params = {p["name"]: p for p in pr["parameters"]}
    assert params["QH"]["unit"] == "L/min"
    assert params["KEL_H"]["scaled_by_hepatic_impairment"] is True
    assert params["ka_intranasal"]["iiv_cv"] == 0.615
    assert params["ke0"]["source"].startswith("ke0 assumed")
    for row in rows.values():
        assert all(p["unit"] in ("L", "L/min", "1/min", "fraction") for p in row["parameters"])
        assert all(p["source"] for p in row["parameters"])


def test_piped_tables_do_not_wrap_at_80_columns(cli: Cli) -> None:
    """Issue 9 item 19: output that is not a terminal (a pipe, a file, this capture) keeps
    each model's source on one line instead of folding it over ten."""
    from ketaclinic.pharmacology import MODELS

    run = cli("models")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    for model in MODELS.values():
        assert any(model.source in line for line in lines), model.id
