"""``ketaclinic validate``: every model scored against published observations."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import typer

from ketaclinic.cli._app import emit, make_console

__all__ = ["register", "write_validation_plot"]

_ROUTE_COLOURS = {
    "iv": "#1f77b4",
    "im": "#9467bd",
    "sc": "#8c564b",
    "oral": "#d62728",
    "sublingual": "#ff7f0e",
    "intranasal": "#2ca02c",
    "rectal": "#7f7f7f",
}


def _render(run: Any) -> None:
    from rich.table import Table

    # piped output is not folded at 80 columns: one line per prediction
    console = make_console()
    table = Table(title=f"Predicted vs reported (validation set {run.version})")
    for col in ("observation", "route", "metric", "reported", "model", "predicted", "ratio"):
        table.add_column(col, overflow="fold")
    table.add_column("result")
    for p in run.predictions:
        obs = p.observation
        if not p.ran:
            result = f"n/a: {p.reason}"
        else:
            notes = [n for n, on in (("fitted", p.fitted), ("extrapolated", p.extrapolated)) if on]
            result = ("pass" if p.passed else "[red]FAIL[/red]") + (
                f" ({', '.join(notes)})" if notes else ""
            )
        table.add_row(
            obs.id,
            obs.route,
            obs.metric,
            obs.spread_text,
            p.model_id,
            "-" if p.predicted is None else f"{p.predicted:.3g}",
            "-" if p.ratio is None else f"{p.ratio:.2f}",
            result,
        )
    console.print(table)
    summary = Table(
        title="Within the reported spread (pairs run; in population = inside the model's "
        "validated age and weight ranges; independent = not fitted)"
    )
    for col in ("model or route", "within spread", "fraction", "in population", "independent"):
        summary.add_column(col)
    summary.add_column("n/a")

    def row(name: str, t: Any) -> None:
        fraction = "-" if t.fraction is None else f"{100 * t.fraction:.0f} %"
        summary.add_row(
            name,
            f"{t.passed}/{t.run}",
            fraction,
            f"{t.in_population_passed}/{t.in_population_run}",
            f"{t.independent_passed}/{t.independent_run}",
            str(t.not_applicable),
        )

    for model, t in run.by_model().items():
        row(model, t)
    for route, t in run.by_route().items():
        row(f"route {route}", t)
    row("all", run.overall)
    console.print(summary)


def write_validation_plot(path: str | Path, run: Any) -> Path:
    """Predicted vs reported on log axes, the accepted interval as horizontal error bars,
    one colour per route, the line of identity and the ±30 % lines."""
    from ketaclinic.cli._plots import check_plot_path

    out = check_plot_path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pairs = [p for p in run.predictions if p.ran and p.predicted and p.predicted > 0]
    if not pairs:
        from ketaclinic.errors import UserInputError

        raise UserInputError("no prediction to plot: every pair is not applicable")
    # Each metric has its own scale: plot predicted/reported against reported would mix
    # units; plotting both values on shared log axes keeps every point's own unit.
    values = [v for p in pairs for v in (p.predicted, *p.observation.accepted) if v and v > 0]
    low, high = min(values) / 1.5, max(values) * 1.5
    title = "ketaclinic validate: predicted vs reported (bars: the accepted interval)"
    if out.suffix.lower() == ".html":
        import plotly.graph_objects as go

        fig = go.Figure()
        for route in dict.fromkeys(p.observation.route for p in pairs):
            group = [p for p in pairs if p.observation.route == route]
            fig.add_scatter(
                x=[p.observation.central for p in group],
                y=[p.predicted for p in group],
                mode="markers",
                name=route,
                marker={
                    "color": _ROUTE_COLOURS.get(route, "black"),
                    "symbol": [
                        ("circle" if p.passed else "x") + ("-open" if p.extrapolated else "")
                        for p in group
                    ],
                },
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [p.observation.accepted[1] - p.observation.central for p in group],
                    "arrayminus": [
                        p.observation.central - p.observation.accepted[0] for p in group
                    ],
                },
                text=[
                    f"{p.observation.id} / {p.model_id} ({p.observation.metric})"
                    + (" extrapolated" if p.extrapolated else "")
                    for p in group
                ],
            )
        for factor, dash in ((1.0, "solid"), (0.7, "dot"), (1.3, "dot")):
            fig.add_scatter(
                x=[low, high],
                y=[low * factor, high * factor],
                mode="lines",
                line={"color": "grey", "dash": dash, "width": 1},
                showlegend=False,
            )
        fig.update_layout(
            title=title,
            xaxis={"type": "log", "title": "reported (the observation's unit)"},
            yaxis={"type": "log", "title": "predicted (same unit)"},
            template="plotly_white",
        )
        fig.write_html(out, include_plotlyjs=True, full_html=True)
        return out

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 7), dpi=110)
    for route in dict.fromkeys(p.observation.route for p in pairs):
        colour = _ROUTE_COLOURS.get(route, "black")
        for (passed, marker), outside in itertools.product(
            ((True, "o"), (False, "x")), (False, True)
        ):
            group = [
                p
                for p in pairs
                if p.observation.route == route and p.passed is passed and p.extrapolated is outside
            ]
            if not group:
                continue
            x = [p.observation.central for p in group]
            ax.errorbar(
                x,
                [p.predicted for p in group],
                xerr=[
                    [p.observation.central - max(p.observation.accepted[0], low) for p in group],
                    [p.observation.accepted[1] - p.observation.central for p in group],
                ],
                fmt=marker,
                color=colour,
                ecolor=colour,
                elinewidth=0.7,
                alpha=0.35 if outside else 0.75,  # extrapolated: hollow and faint
                markerfacecolor="none" if outside else colour,
                markersize=5,
                label=f"{route} ({'within' if passed else 'outside'} spread"
                + (", extrapolated)" if outside else ")"),
            )
    ax.plot([low, high], [low, high], color="grey", lw=1)
    for factor in (0.7, 1.3):
        ax.plot([low, high], [low * factor, high * factor], color="grey", lw=0.7, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel("reported value (the observation's unit: ng/mL, min, fraction, ...)")
    ax.set_ylabel("predicted value (same unit)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.text(
        0.01,
        0.01,
        f"{len(pairs)} model-observation pairs; x: outside the pass rule; faint and hollow: "
        "outside the model's validated ranges; line of identity "
        "and ±30 %",
        fontsize=7,
        color="grey",
    )
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def register(app: typer.Typer) -> None:
    @app.command(
        "validate",
        help="Score every model against published observations: per observation predicted "
        "vs reported, ratio and pass/fail; summary per model and route (docs/validation.md).",
    )
    def validate_cmd(
        model: str | None = typer.Option(
            None, "--model", help="Only this model id (see ketaclinic models)."
        ),
        route: str | None = typer.Option(
            None,
            "--route",
            help="Only observations of this route: iv, im, oral, sublingual, intranasal, rectal.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        plot: str | None = typer.Option(
            None,
            "--plot",
            help="Write predicted vs reported on log axes to FILE (.png, .svg, .pdf or .html).",
        ),
    ) -> None:
        from ketaclinic.cli._plots import check_plot_path
        from ketaclinic.validation import run_validation

        if plot:
            check_plot_path(plot)  # before any work
        run = run_validation(model=model, route=route)
        plot_path = write_validation_plot(plot, run) if plot else None
        emit(as_json, run.to_dict, lambda: _render(run), plot_path)
