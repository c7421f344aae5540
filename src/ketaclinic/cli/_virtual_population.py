"""``ketaclinic population``: the risk of a regimen across virtual patients."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import typer

from ketaclinic.cli._app import emit, make_console
from ketaclinic.cli._pharmacology import parse_number_list, print_warnings_and_sources
from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology import (
    DOSE_GRAMMAR_HELP,
    MODELS,
    NAMED_POPULATIONS,
    PopulationResult,
    parse_duration_min,
    simulate_population,
)
from ketaclinic.ranges import POPULATION_PATIENTS

__all__ = ["register"]


def _render(result: PopulationResult) -> None:
    from rich.table import Table

    console = make_console()
    console.print(
        f"[bold]{result.model.name}[/bold] ({result.model.drug.label}): {result.n} virtual "
        f"patients, seed {result.seed}"
    )
    for dose in result.doses:
        console.print(f"  dose: {dose}")
    console.print(f"  population: {result.population_source}")
    console.print(f"  variability: {result.variability.basis}")
    table = Table(title="Probability that Cmax exceeds a threshold (95 % Wilson interval)")
    table.add_column("threshold (ng/mL)", justify="right")
    table.add_column("ketamine", justify="right")
    if result.norketamine is not None:
        table.add_column("norketamine", justify="right")
    nk = result.norketamine.probability_above() if result.norketamine else {}
    for t, e in result.probability_above_ng_per_ml.items():
        row = [f"{t:g}", f"{e.probability:.1%} ({e.low:.1%}-{e.high:.1%})"]
        if result.norketamine is not None:
            ne = nk[t]
            row.append(f"{ne.probability:.1%} ({ne.low:.1%}-{ne.high:.1%})")
        table.add_row(*row)
    console.print(table)
    pct = result.ketamine.percentiles()
    metrics = Table(title="Ketamine metric percentiles")
    metrics.add_column("metric")
    for q in ("p5", "p25", "p50", "p75", "p95"):
        metrics.add_column(q, justify="right")
    for name, values in pct.items():
        metrics.add_row(name, *[f"{values[q]:.1f}" for q in ("p5", "p25", "p50", "p75", "p95")])
    console.print(metrics)
    print_warnings_and_sources(console, result.warnings, result.sources)


def _plot(result: PopulationResult, path: str, thresholds: list[float]) -> Path:
    from ketaclinic.cli._pharmacology import dosing_end_min
    from ketaclinic.cli._plots import Curve, short_title, write_concentration_plot
    from ketaclinic.pharmacology import Drug

    bands = result.bands_ng_per_ml
    times = result.band_times_min
    parent = "S-ketamine" if result.model.drug is Drug.ESKETAMINE else "ketamine"
    return write_concentration_plot(
        path,
        [Curve(f"{parent} plasma, median (p50)", times, bands[50.0])],
        short_title(
            result.model.name,
            [str(d) for d in result.doses],
            f"{result.n} virtual patients",
        ),
        thresholds,
        bands=[
            (bands[5.0], bands[95.0], "5-95 %"),
            (bands[25.0], bands[75.0], "25-75 %"),
        ],
        drug=result.model.drug,
        dosing_end_min=dosing_end_min(result.doses),
    )


def register(app: typer.Typer) -> None:
    @app.command(
        "population",
        help="Simulate virtual patients: how many exceed a concentration on this regimen?\n\n"
        + DOSE_GRAMMAR_HELP.replace("[", "\\[").replace("\n", "\n\n"),
    )
    def population_cmd(
        model: str = typer.Option(..., "--model", help=f"Model id: {', '.join(MODELS)}."),
        dose: list[str] = typer.Option(
            ..., "--dose", help="A dose in the dose grammar; repeat for several doses."
        ),
        n: int = typer.Option(
            10000,
            "--n",
            help=f"Number of virtual patients ({POPULATION_PATIENTS.low:.0f}-"
            f"{POPULATION_PATIENTS.high:.0f}).",
        ),
        seed: int = typer.Option(1, "--seed", help="Random seed: same seed, same numbers."),
        population: str = typer.Option(
            "adults",
            "--population",
            help=f"Covariates: {', '.join(NAMED_POPULATIONS)} or a YAML file.",
        ),
        child_pugh_mix: str | None = typer.Option(
            None, "--child-pugh-mix", help="YAML file mapping none/A/B/C to fractions."
        ),
        variability: str = typer.Option(
            "default",
            "--variability",
            help="default (published IIV), none, or CVs such as CL=0.3,V1=0.3.",
        ),
        threshold: str = typer.Option(
            "100,250,750", "--threshold", help="Comma-separated thresholds in ng/mL."
        ),
        until: str = typer.Option("24h", "--until", help="Simulated horizon, e.g. 24h."),
        step: str = typer.Option("1min", "--step", help="Grid step, e.g. 1min."),
        chunk_size: int = typer.Option(
            32768, "--chunk-size", help="Patients per chunk (whole blocks of 1024)."
        ),
        effect_site: bool = typer.Option(
            False, "--effect-site", help="Also report effect-site metrics (ke0 assumed)."
        ),
        norketamine: bool = typer.Option(
            True,
            "--norketamine/--no-norketamine",
            help="Report norketamine where the model has it (--no-norketamine: ketamine only; "
            "IV doses of racemic models then run about x5 faster).",
        ),
        scheduler: str | None = typer.Option(
            None, "--scheduler", help="Run on an existing Dask cluster: tcp://HOST:PORT."
        ),
        local_workers: int | None = typer.Option(
            None, "--local-workers", help="Run on a local Dask cluster of N workers."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        plot: str | None = typer.Option(
            None, "--plot", help="Write the percentile bands to FILE (.png or .html)."
        ),
    ) -> None:
        from ketaclinic.cli._files import read_mapping  # YAML only when a file is given
        from ketaclinic.compute import keep_freed_memory

        keep_freed_memory()  # chunks reuse the memory earlier chunks freed (no page faults)
        thresholds = parse_number_list(threshold, "--threshold", "ng/mL")
        covariates: str | dict[str, Any] = population
        if population.lower() not in NAMED_POPULATIONS:
            if not Path(population).exists():  # a misspelt name, or a file that is not there
                raise UserInputError(
                    f"--population {population!r} is neither a named population nor a file; "
                    f"accepted: {', '.join(NAMED_POPULATIONS)} or a YAML file"
                )
            covariates = read_mapping(population, "--population")
        mix = read_mapping(child_pugh_mix, "--child-pugh-mix") if child_pugh_mix else None
        kwargs: dict[str, Any] = {
            "covariates": covariates,
            "child_pugh_mix": mix,
            "variability": variability,
            "horizon_min": parse_duration_min(until, "--until"),
            "step_min": parse_duration_min(step, "--step"),
            "thresholds_ng_per_ml": thresholds,
            "chunk_size": chunk_size,
            "effect_site": effect_site,
            "norketamine": norketamine,
        }
        cluster: Any = nullcontext(None)
        if scheduler or local_workers:
            from ketaclinic.compute import DaskExecutor

            cluster = DaskExecutor(scheduler=scheduler, local_workers=local_workers)
        with cluster as executor:
            if as_json or n < 50_000:
                result = simulate_population(model, dose, n, seed, executor=executor, **kwargs)
            else:
                from rich.progress import Progress

                with Progress(transient=True) as bar:
                    task = bar.add_task("virtual patients", total=n)
                    result = simulate_population(
                        model,
                        dose,
                        n,
                        seed,
                        executor=executor,
                        progress=lambda done, total: bar.update(task, completed=done),
                        **kwargs,
                    )
        plot_path = _plot(result, plot, thresholds) if plot else None
        emit(as_json, result.to_dict, lambda: _render(result), plot_path)
