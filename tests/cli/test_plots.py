"""Plots (issue 9 item 18): the drug's own effect bands or none, soft/hard ceiling labels, the
y-label names every site drawn, norketamine drawn where modelled, two panels for a short
dosing window on a long axis, short titles."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ketaclinic.cli._pharmacology import result_curves
from ketaclinic.cli._plots import TITLE_MAX_CHARS, Curve, plot_spec, short_title
from ketaclinic.pharmacology import Patient, bands_for, simulate

Cli = Callable[..., Any]
ADULT = Patient(weight_kg=70, age_years=40)
TIMES = np.arange(0.0, 24 * 60.0 + 1.0, 1.0)


def test_s_ketamine_gets_its_own_bands_and_labels_and_norketamine_none() -> None:
    result = simulate("perez-ruixo", ADULT, ["intranasal 56 mg"], TIMES)
    curves = result_curves(result)
    assert [c.label for c in curves] == [
        "S-ketamine (plasma)",
        "S-ketamine effect site (ke0 assumed)",
        "noresketamine (plasma)",
    ]
    spec = plot_spec(curves, "t", drug=result.model.drug)
    assert spec.effect_bands
    assert set(spec.effect_bands) <= set(bands_for("esketamine"))
    assert not set(spec.effect_bands) & set(bands_for("racemic"))
    assert all("S-ketamine" in b.source for b in spec.effect_bands)
    assert bands_for("esketamine", "norketamine") == ()
    assert bands_for("racemic", "norketamine") == ()


def test_racemic_bands_come_from_racemic_studies_and_no_drug_draws_none() -> None:
    result = simulate("kamp", ADULT, ["iv-infusion 0.5 mg/kg over 40 min"], TIMES)
    spec = plot_spec(result_curves(result), "t", drug=result.model.drug)
    assert {b.name for b in spec.effect_bands} == {"analgesic", "dissociative"}
    assert any("anaesthetic band 1200-2400" in n for n in spec.notes)  # off the scale, said
    bare = plot_spec(result_curves(result), "t")
    assert bare.effect_bands == ()
    assert any("no effect bands" in n for n in bare.notes)


def test_ceilings_are_labelled_soft_or_hard_and_far_ones_are_named_in_a_note() -> None:
    curve = Curve("ketamine (plasma)", TIMES, np.linspace(0, 300, TIMES.size))
    spec = plot_spec([curve], "t", ceilings=[(250, "soft"), (1200, "hard")])
    assert [line.label for line in spec.lines] == ["soft ceiling 250 ng/mL"]
    assert "hard ceiling 1200 ng/mL is above the plotted range" in spec.notes
    assert plot_spec([curve], "t", ceilings=[(400, "hard")]).lines[0].label.startswith("hard")


def test_the_y_label_names_the_effect_site_when_it_is_drawn() -> None:
    result = simulate("kamp", ADULT, ["iv-bolus 20 mg"], TIMES)
    assert "effect site" in plot_spec(result_curves(result), "t").ylabel
    plasma = [c for c in result_curves(result) if c.site == "plasma"]
    assert plot_spec(plasma, "t").ylabel == "Plasma concentration (ng/mL)"


def test_a_short_infusion_on_a_long_axis_gets_a_dosing_window_panel() -> None:
    result = simulate("kamp", ADULT, ["iv-infusion 0.5 mg/kg over 40 min"], TIMES)
    spec = plot_spec(result_curves(result), "t", dosing_end_min=40.0)
    assert spec.panels == ((0.0, 160.0), (0.0, 1440.0))
    long = plot_spec(result_curves(result), "t", dosing_end_min=600.0)
    assert long.panels == ((0.0, 1440.0),)


def test_a_long_regimen_gets_a_short_title() -> None:
    doses = [f"iv-bolus 5 mg at {h} h" for h in range(15)]
    title = short_title("Kamp 2020 meta-analysis", doses, "70 kg")
    assert len(title) <= TITLE_MAX_CHARS
    assert title == "Kamp 2020 meta-analysis: 15 dose lines, first iv-bolus 5 mg at 0 h - 70 kg"
    assert short_title("m", ["oral 10 mg"]) == "m: oral 10 mg"


def test_a_plan_plot_draws_norketamine_and_the_protocols_ceilings(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "esk.html"
    run = cli(
        "plan", "--protocol", "esketamine-nasal", "--patient",
        "docs/examples/esketamine-nasal.patient.yaml", "--start", "2026-12-01",
        "--plot", str(out),
    )  # fmt: skip
    assert run.code == 0, run.err
    html = out.read_text(encoding="utf-8").replace("\\u002f", "/")  # Plotly's JSON escape
    for text in (
        "noresketamine (plasma)",
        "S-ketamine (plasma)",
        "dissociative 71-157 ng/mL",  # the S-ketamine band
        "analgesic 90-404 ng/mL",
        "soft ceiling 160 ng/mL",
        "hard ceiling 1200 ng/mL is above the plotted range",
    ):
        assert text in html
    assert "70-160" not in html  # no racemic band behind an S-ketamine curve
