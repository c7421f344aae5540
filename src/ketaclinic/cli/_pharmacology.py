"""``ketaclinic simulate``, ``ketaclinic models`` and ``ketaclinic demo``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import typer

from ketaclinic.cli._app import emit, make_console
from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology import (
    DOSE_GRAMMAR_HELP,
    MODELS,
    Dose,
    Drug,
    Patient,
    SimulationResult,
    default_horizon_min,
    expand_doses,
    interval_label,
    parse_doses,
    parse_duration_min,
    simulate,
)
from ketaclinic.ranges import OUTPUT_POINTS, TIME_MIN

__all__ = ["parse_number_list", "print_warnings_and_sources", "register"]

DEFAULT_THRESHOLDS_NG_PER_ML = (100.0, 250.0, 750.0)


def parse_number_list(text: str | None, what: str, unit: str) -> list[float]:
    """``"10,40,60"`` -> ``[10.0, 40.0, 60.0]`` with a clear error naming ``what``."""
    if text is None or not text.strip():
        return []
    values = []
    for part in text.split(","):
        item = part.strip()
        try:
            value = float(item)
        except ValueError:
            raise UserInputError(
                f"{what} {item!r} is not a number; give comma-separated {unit}, e.g. 10,40,60"
            ) from None
        if not np.isfinite(value) or value < 0:
            raise UserInputError(f"{what} {item!r} must be a finite number >= 0 {unit}")
        values.append(value)
    return values


def _grid(doses: Sequence[Dose], until: str | None, step: str) -> tuple[np.ndarray, float]:
    """The output grid and the simulated horizon (min) the summary covers."""
    step_min = parse_duration_min(step, "--step")
    if step_min <= 0:
        raise UserInputError("--step must be above 0 min, e.g. 1min or 10 s")
    if until is None:
        until_min = default_horizon_min(doses)
    else:
        until_min = parse_duration_min(until, "--until")
        if until_min <= 0:
            raise UserInputError("--until must be above 0 min, e.g. 24h")
        if not TIME_MIN.contains(until_min):
            raise UserInputError(
                f"--until {until} is {until_min:g} min; accepted: {TIME_MIN.describe()}"
            )
    count = int(np.floor(until_min / step_min + 1e-9)) + 1
    if not OUTPUT_POINTS.contains(count):
        shown = (
            f"--until {until}" if until is not None else f"the default horizon {until_min:g} min"
        )
        raise UserInputError(
            f"{shown} at --step {step} gives {count} points; at most "
            f"{OUTPUT_POINTS.high:.0f} are accepted (use a coarser --step)"
        )
    return np.arange(count) * step_min, until_min


def render_result(result: SimulationResult, at: list[float]) -> None:
    """A readable summary with Rich: patient, doses, metrics, warnings and sources."""
    from rich.table import Table

    # piped output is not folded at 80 columns (the sources are long)
    console = make_console()
    p = result.patient
    console.print(
        f"[bold]{result.model.name}[/bold] ({result.model.drug.label}) - {p.weight_kg:g} kg, "
        f"{p.age_years:g} years, {p.sex}, {p.height_cm:g} cm, Child-Pugh {p.child_pugh}"
        + ("" if p.ethnicity == "not stated" else f", ethnicity {p.ethnicity}")
    )
    for dose in result.doses:
        console.print(f"  dose: {dose}  ({dose.amount_mg(p.weight_kg):g} mg)")
    table = Table(title="Summary (estimates from a population model)")
    table.add_column("metric")
    species = [("ketamine (plasma)", result.summary.ketamine)]
    if result.summary.norketamine is not None:
        species.append(("norketamine (plasma)", result.summary.norketamine))
    if result.summary.effect_site is not None:
        species.append(("effect site (ke0 assumed)", result.summary.effect_site))
    for name, _ in species:
        table.add_column(name, justify="right")
    table.add_row("Cmax (ng/mL)", *[f"{s.cmax_ng_per_ml:.1f}" for _, s in species])
    table.add_row("Tmax (min)", *[f"{s.tmax_min:.1f}" for _, s in species])
    auc = f"AUC {interval_label(result.summary.ketamine.auc_interval_min)} (ng*h/mL)"
    table.add_row(auc, *[f"{s.auc_ng_h_per_ml:.1f}" for _, s in species])
    for threshold in result.summary.ketamine.minutes_above_ng_per_ml:
        table.add_row(
            f"minutes above {threshold:g} ng/mL",
            *[f"{s.minutes_above_ng_per_ml[threshold]:.1f}" for _, s in species],
        )
    for t in at:
        table.add_row(f"at {t:g} min (ng/mL)", *[f"{s.values_at_min[t]:.1f}" for _, s in species])
    console.print(table)
    print_warnings_and_sources(console, result.warnings, result.sources)


def print_warnings_and_sources(console: Any, warnings: Any, sources: Any) -> None:
    """The closing block every result shows: its warnings, then its sources."""
    for warning in warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    console.print("[bold]sources[/bold]")
    for source in sources:
        console.print(f"  - {source}")


def result_curves(result: SimulationResult) -> list[Any]:
    """The curves of a result, labelled with the drug and its metabolite by name."""
    from ketaclinic.cli._plots import Curve

    parent = "S-ketamine" if result.model.drug is Drug.ESKETAMINE else "ketamine"
    curves = [Curve(f"{parent} (plasma)", result.times_min, result.ketamine_ng_per_ml)]
    if result.effect_site_ng_per_ml is not None:
        curves.append(
            Curve(
                f"{parent} effect site (ke0 assumed)",
                result.times_min,
                result.effect_site_ng_per_ml,
                dash=True,
                site="effect site",
            )
        )
    metabolite = result.model.structure.metabolite
    if result.norketamine_ng_per_ml is not None and metabolite is not None:
        curves.append(
            Curve(f"{metabolite.label} (plasma)", result.times_min, result.norketamine_ng_per_ml)
        )
    return curves


def dosing_end_min(doses: Sequence[Dose]) -> float:
    """When the last dose of ``doses`` ends (min)."""
    return max(d.start_min + d.duration_min for d in expand_doses(doses))


def plot_result(result: SimulationResult, path: str, thresholds: list[float]) -> Path:
    from ketaclinic.cli._plots import short_title, write_concentration_plot

    title = short_title(
        result.model.name, [str(d) for d in result.doses], f"{result.patient.weight_kg:g} kg"
    )
    return write_concentration_plot(
        path,
        result_curves(result),
        title,
        thresholds,
        drug=result.model.drug,
        dosing_end_min=dosing_end_min(result.doses),
    )


def _structure(model: Any) -> dict[str, Any]:
    """A model's compartments and the absorption paths of each route, from its fields."""
    s = model.structure
    return {
        "compartments": s.compartments,
        "liver_compartment": s.liver,
        "metabolite": None
        if s.metabolite is None
        else {"label": s.metabolite.label, "compartments": 1 + s.metabolite.peripherals},
        "effect_site": s.effect_site,
        "routes": {
            str(route): [
                {
                    "path": path.name,
                    "fraction": path.fraction,
                    "bioavailability": path.bioavailability,
                    "ka_per_min": path.ka_per_min,
                    "first_pass_metabolite_fraction": path.first_pass_metabolite_fraction,
                    "child_bioavailability": path.child_bioavailability,
                    "child_ka_per_min": path.child_ka_per_min,
                    "zero_order_min": path.zero_order_min,
                    "later_device_factor": path.later_device_factor,
                    "fraction_factors": dict(path.fraction_factors),
                    "into_liver": path.into_liver,
                }
                for path in spec.paths
            ]
            for route, spec in model.routes.items()
        },
    }


def _models_table() -> list[dict[str, Any]]:
    rows = []
    for model in MODELS.values():
        rows.append(
            {
                "id": model.id,
                "name": model.name,
                "drug": model.drug.label,
                "population": model.population,
                "routes": {
                    str(r): ("fitted" if s.native else "extension") for r, s in model.routes.items()
                },
                "weight_range_kg": list(model.weight_range_kg),
                "age_range_years": list(model.age_range_years),
                "norketamine": model.has_metabolite,
                "effect_site": model.ke0_source,
                "structure": _structure(model),
                "parameters": [
                    {
                        "name": p.name,
                        "unit": p.unit,
                        "meaning": p.meaning,
                        "iiv_cv": p.iiv_cv,
                        "scaled_by_hepatic_impairment": p.hepatic,
                        "source": p.source,
                    }
                    for p in model.declared(tuple(model.routes))
                ],
                "iiv_cv": dict(model.iiv_cv),
                "iiv_source": model.iiv_source,
                "limitations": list(model.limitations),
                "source": model.source,
            }
        )
    return rows


def register(app: typer.Typer) -> None:
    @app.command(
        "simulate",
        help="Predict ketamine/norketamine concentrations for one patient and regimen.\n\n"
        # Rich reads [..] as markup: escape the grammar's optional parts
        + DOSE_GRAMMAR_HELP.replace("[", "\\[").replace("\n", "\n\n"),
    )
    def simulate_cmd(
        model: str = typer.Option(..., "--model", help=f"Model id: {', '.join(MODELS)}."),
        weight_kg: float = typer.Option(..., "--weight-kg", help="Body weight in kg (2-300)."),
        age_years: float = typer.Option(40.0, "--age-years", help="Age in years (0-120)."),
        sex: str = typer.Option("male", "--sex", help="male or female."),
        height_cm: float = typer.Option(170.0, "--height-cm", help="Height in cm (40-250)."),
        child_pugh: str = typer.Option(
            "none", "--child-pugh", help="Hepatic impairment: none, A, B or C (an assumption)."
        ),
        ethnicity: str = typer.Option(
            "not stated",
            "--ethnicity",
            help="not stated, asian, japanese or other: used only by models with an ethnicity "
            "covariate (perez-ruixo).",
        ),
        dose: list[str] = typer.Option(
            ..., "--dose", help="A dose in the dose grammar; repeat for several doses."
        ),
        until: str | None = typer.Option(
            None, "--until", help="Simulated horizon, e.g. 24h (default: 24 h after last dose)."
        ),
        step: str = typer.Option("1min", "--step", help="Output grid step, e.g. 1min or 10s."),
        at: str | None = typer.Option(
            None, "--at", help="Comma-separated times in min: the arrays hold exactly these."
        ),
        threshold: str | None = typer.Option(
            None,
            "--threshold",
            help="Comma-separated thresholds in ng/mL for 'minutes above' (default 100,250,750).",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        plot: str | None = typer.Option(
            None, "--plot", help="Write the concentration-time plot to FILE (.png or .html)."
        ),
    ) -> None:
        patient = Patient(
            weight_kg=weight_kg,
            age_years=age_years,
            sex=sex,
            height_cm=height_cm,
            child_pugh=child_pugh,
            ethnicity=ethnicity,
        )
        doses = parse_doses(dose)
        times, horizon = _grid(doses, until, step)
        at_min = parse_number_list(at, "--at", "min")
        thresholds = parse_number_list(threshold, "--threshold", "ng/mL") or list(
            DEFAULT_THRESHOLDS_NG_PER_ML
        )
        if any(t <= 0 for t in thresholds):
            raise UserInputError("--threshold values must be above 0 ng/mL")
        result = simulate(
            model,
            patient,
            doses,
            times,
            thresholds_ng_per_ml=thresholds,
            at_min=at_min,
            horizon_min=horizon,
        )
        plot_path = plot_result(result, plot, thresholds) if plot else None

        def to_dict() -> dict[str, Any]:
            data = result.to_dict()
            if at_min:  # the arrays hold exactly the --at times
                sub = simulate(model, patient, doses, sorted(at_min))
                data["times_min"] = [float(t) for t in sub.times_min]
                for key in ("ketamine_ng_per_ml", "norketamine_ng_per_ml", "effect_site_ng_per_ml"):
                    arr = getattr(sub, key)
                    data[key] = None if arr is None else [float(v) for v in arr]
            return data

        emit(as_json, to_dict, lambda: render_result(result, sorted(at_min)), plot_path)

    @app.command("models", help="List the PK models with drug, routes, ranges and sources.")
    def models_cmd(
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    ) -> None:
        rows = _models_table()
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        from rich.table import Table

        table = Table(title="ketaclinic PK models", show_lines=True)
        for col in ("id", "drug", "routes", "weight kg", "age years", "source"):
            table.add_column(col, overflow="fold")
        for row in rows:
            routes = ", ".join(
                r if kind == "fitted" else f"{r}*" for r, kind in row["routes"].items()
            )
            table.add_row(
                f"{row['id']}\n{row['name']}",
                row["drug"] + ("\n+ norketamine" if row["norketamine"] else ""),
                routes,
                "{:g}-{:g}".format(*row["weight_range_kg"]),
                "{:g}-{:g}".format(*row["age_range_years"]),
                row["source"],
            )
        # piped output is not folded at 80 columns (the sources would split over many lines)
        console = make_console()
        console.print(table)
        console.print("* route extension: first-order absorption bolted onto an IV model")

    @app.command("demo", help="Run the engine demo: IV depression protocol for a 70 kg adult.")
    def demo_cmd(
        out: str = typer.Option("out/demo.png", "--out", help="Where to write the plot."),
    ) -> None:
        patient = Patient(weight_kg=70, age_years=40, sex="female", height_cm=168)
        doses = ["iv-infusion 0.5 mg/kg over 40 min at 0 min"]
        thresholds = list(DEFAULT_THRESHOLDS_NG_PER_ML)
        typer.echo(
            "Depression protocol (Sanacora 2017): racemic ketamine 0.5 mg/kg IV over 40 min, "
            "70 kg adult, Kamp 2020 model"
        )
        result = simulate(
            "kamp",
            patient,
            doses,
            np.arange(0, 6 * 60 + 1, 0.5),  # the plot shows 6 h; the summary covers 24 h
            thresholds_ng_per_ml=thresholds,
            at_min=[40.0, 120.0],
            horizon_min=default_horizon_min(parse_doses(doses)),
        )
        render_result(result, [40.0, 120.0])
        path = plot_result(result, out, thresholds)
        html = plot_result(result, str(Path(out).with_suffix(".html")), thresholds)
        typer.echo(f"plot written to {path.resolve()} and {html.resolve()}")
