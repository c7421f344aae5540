"""``ketaclinic protocols``, ``protocols show``, ``plan``, ``check`` and ``schema``.

Files are read here (the domain packages do no I/O): patient and order files are YAML or
JSON, validated by the pydantic models of :mod:`ketaclinic.safety`; a malformed file ends
with exit code 2 and one line naming the field, the value and what is accepted.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import typer
import yaml
from pydantic import BaseModel, ValidationError

from ketaclinic.cli._app import EXIT_BLOCKED, emit
from ketaclinic.cli._files import read_mapping
from ketaclinic.errors import UserInputError
from ketaclinic.protocols import Plan, check, get_protocol, plan, protocols
from ketaclinic.safety import (
    Order,
    PatientContext,
    SafetyReport,
    Unavailable,
    format_validation_error,
)

__all__ = ["read_model", "register"]

Model = TypeVar("Model", bound=BaseModel)
SCHEMAS: dict[str, type[BaseModel]] = {"patient": PatientContext, "order": Order}


def read_model(path: str, model: type[Model], what: str) -> Model:
    """Read a YAML or JSON file into ``model``; every problem is a one-line user error."""
    data = read_mapping(path, what, f" (see `ketaclinic schema {what}`)")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise UserInputError(format_validation_error(error, f"{what} file {path}")) from None


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserInputError(f"{option} {text!r} is not a date such as 2026-12-01") from None


def _parse_moment(text: str | None, option: str) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UserInputError(
            f"{option} {text!r} is not a date-time such as 2026-12-01T09:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _protocol_rows() -> list[dict[str, Any]]:
    return [
        {
            "id": p.id,
            "title": p.title,
            "indication": p.indication,
            "route": str(p.route),
            "drug": str(p.drug),
            "evidence_level": p.evidence.level,
            "sources": list(p.sources),
        }
        for p in protocols().values()
    ]


def _print_findings(report: SafetyReport) -> None:
    from rich.console import Console

    console = Console()
    colour = {"HARD_STOP": "red", "OVERRIDABLE": "magenta", "WARNING": "yellow", "INFO": "cyan"}
    if not report.findings:
        console.print("no findings")
    for f in report.findings:
        tag = f"[{colour[str(f.severity)]}]{f.severity}[/]"
        overridden = (
            f" [green](overridden: {f.override_reason})[/green]" if f.override_reason else ""
        )
        console.print(f"{tag} {f.code}{overridden}: {f.message}", highlight=False)
    verdict = "[green]ALLOWED[/green]" if report.allowed else "[red]BLOCKED[/red]"
    console.print(f"{verdict} (drug library {report.drug_library_version})")


def _print_plan(result: Plan) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    p, pt = result.protocol, result.patient
    console.print(
        f"[bold]{p.title}[/bold] ({p.id}) - {pt.weight_kg:g} kg, {pt.age_years:g} years, "
        f"{pt.sex}, Child-Pugh {pt.child_pugh}; start {result.start}",
        highlight=False,
    )
    console.print(f"dose rule: {p.dose_rule.summary}", highlight=False)
    for dose in result.doses:
        console.print(f"  {dose.label}: [bold]{dose.text}[/bold]", highlight=False)
        console.print(f"    {dose.calculation}", highlight=False)
    for step in p.dose_rule.titration:
        console.print(f"  titration: {step}", highlight=False)
    console.print(f"rounding: {result.rounding}", highlight=False)
    if result.hepatic is not None:
        h = result.hepatic.to_dict()
        auc = h["auc_ng_h_per_ml"]
        console.print(
            f"Child-Pugh B: doses x{h['equal_auc_dose_factor']:.2f} for the AUC without "
            f"impairment. AUC standard dose: {auc['standard_dose_no_impairment']:.0f} ng*h/mL "
            f"without impairment, {auc['standard_dose_impaired']:.0f} with; adjusted dose: "
            f"{auc['adjusted_dose_impaired'] or 0:.0f}",
            highlight=False,
        )
        for std, adj in zip(result.hepatic.standard, result.hepatic.adjusted, strict=True):
            console.print(f"  standard {std.text}  ->  proposed {adj.text}", highlight=False)
    table = Table(title="session calendar")
    for col in ("#", "phase", "date", "doses", "total mg"):
        table.add_column(col)
    for s in result.sessions:
        table.add_row(
            str(s.number),
            s.phase,
            s.day.isoformat(),
            "; ".join(str(d) for d in s.doses),
            f"{s.total_mg:.4g}",
        )
    console.print(table)
    if result.prediction is not None:
        k = result.prediction.summary.ketamine
        e = result.prediction.summary.effect_site
        console.print(
            f"prediction ({result.prediction.model.name}, {result.prediction_note}): plasma "
            f"Cmax {k.cmax_ng_per_ml:.0f} ng/mL at {k.tmax_min:g} min, AUC "
            f"{k.auc_ng_h_per_ml:.0f} ng*h/mL"
            + (f"; effect-site Cmax {e.cmax_ng_per_ml:.0f} ng/mL" if e else ""),
            highlight=False,
        )
    risk = result.population_risk
    if isinstance(risk, Unavailable):
        console.print(f"population risk: not estimated ({risk.reason})", highlight=False)
    elif risk is not None:
        console.print(
            f"population risk ({risk.n} similar virtual patients, seed {risk.seed}; "
            f"{risk.variability}):",
            highlight=False,
        )
        for sentence in risk.sentences():
            console.print(f"  {sentence}", highlight=False)
    console.print(
        f"monitoring: {p.monitoring.vitals}; observe at least "
        f"{p.monitoring.min_observation_min} min",
        highlight=False,
    )
    console.print(
        f"trial: {p.trial.instrument}, {p.trial.threshold}, judged {p.trial.judge_at}",
        highlight=False,
    )
    _print_findings(result.report)


def _plot(result: Plan, path: str) -> Path:
    from ketaclinic.cli._plots import Curve, write_concentration_plot

    r = result.prediction
    if r is None:
        raise UserInputError(f"no prediction to plot: {result.prediction_note}")
    curves = [Curve("ketamine (plasma)", r.times_min, r.ketamine_ng_per_ml)]
    if r.effect_site_ng_per_ml is not None:
        curves.append(
            Curve("effect site (ke0 assumed)", r.times_min, r.effect_site_ng_per_ml, True)
        )
    ceilings = [c.conc_ng_per_ml for c in result.protocol.ceilings if c.kind == "soft"]
    title = f"{result.protocol.id}: " + "; ".join(d.text for d in result.doses)
    return write_concentration_plot(path, curves, title, ceilings)


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The protocol library: list protocols, or `protocols show ID` for one.",
        invoke_without_command=True,
        no_args_is_help=False,
    )

    @group.callback()
    def protocols_cmd(
        ctx: typer.Context,
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    ) -> None:
        """List the protocols: id, indication, route, evidence level, sources."""
        if ctx.invoked_subcommand is not None:
            return
        rows = _protocol_rows()
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title="ketaclinic protocols", show_lines=True)
        for col in ("id", "indication", "route", "evidence", "sources"):
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(
                f"{row['id']}\n{row['drug']}",
                row["indication"],
                row["route"],
                row["evidence_level"],
                "\n".join(row["sources"]),
            )
        Console().print(table)

    @group.command("show", help="Print one protocol in full (YAML, or JSON with --json).")
    def show_cmd(
        protocol_id: str = typer.Argument(..., metavar="ID", help="Protocol id."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        data = get_protocol(protocol_id).model_dump(mode="json")
        if as_json:
            typer.echo(json.dumps(data, indent=2))
        else:
            typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=96))

    app.add_typer(group, name="protocols")

    @app.command(
        "plan", help="Plan a protocol for a patient: doses, calendar, prediction, findings."
    )
    def plan_cmd(
        protocol_id: str = typer.Option(..., "--protocol", help="Protocol id (see `protocols`)."),
        patient: str = typer.Option(..., "--patient", help="Patient file (YAML or JSON)."),
        start: str | None = typer.Option(
            None, "--start", help="First session date, e.g. 2026-12-01 (default: today, UTC)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        plot: str | None = typer.Option(
            None, "--plot", help="Write the first session's concentration plot (.png or .html)."
        ),
    ) -> None:
        spec = get_protocol(protocol_id)
        context = read_model(patient, PatientContext, "patient")
        first = _parse_date(start, "--start") if start is not None else datetime.now(UTC).date()
        result = plan(spec, context, first)
        plot_path = _plot(result, plot) if plot else None
        emit(as_json, result.to_dict, lambda: _print_plan(result), plot_path)

    @app.command(
        "check",
        help="Check an order for a patient. Exit 0: allowed (warnings possible); 3: blocked "
        "by a HARD_STOP or an OVERRIDABLE finding without a reason; 2: invalid input.",
    )
    def check_cmd(
        patient: str = typer.Option(..., "--patient", help="Patient file (YAML or JSON)."),
        order: str = typer.Option(..., "--order", help="Order file (YAML or JSON)."),
        as_of: str | None = typer.Option(
            None, "--as-of", help="Check time, e.g. 2026-12-01T09:00:00Z (default: now)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        context = read_model(patient, PatientContext, "patient")
        the_order = read_model(order, Order, "order")
        report = check(the_order, context, as_of=_parse_moment(as_of, "--as-of"))
        if as_json:
            typer.echo(json.dumps(report.to_dict()))
        else:
            _print_findings(report)
        if not report.allowed:
            raise typer.Exit(EXIT_BLOCKED)

    @app.command("schema", help="Print the JSON Schema of a patient or an order file.")
    def schema_cmd(
        kind: str = typer.Argument(..., metavar="patient|order", help="patient or order"),
    ) -> None:
        model = SCHEMAS.get(kind.strip().lower())
        if model is None:
            raise UserInputError(f"schema {kind!r} is not known; accepted: patient, order")
        typer.echo(json.dumps(model.model_json_schema(), indent=2))
