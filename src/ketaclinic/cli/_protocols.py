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

from ketaclinic.cli._app import EXIT_BLOCKED, emit, make_console
from ketaclinic.cli._files import read_mapping
from ketaclinic.cli._plots import check_plot_path
from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology import plain_number
from ketaclinic.protocols import Plan, check, get_protocol, plan, protocols
from ketaclinic.ranges import CLINIC_DATE
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
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise UserInputError(
            f"{option} {text!r} is not a date such as 2026-12-01 (accepted: "
            f"{CLINIC_DATE.describe()})"
        ) from None
    CLINIC_DATE.check(day, option)
    return day


def _parse_moment(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserInputError(
            f"{option} {text!r} is not a date-time such as 2026-12-01T09:00:00Z (accepted: "
            f"{CLINIC_DATE.describe()})"
        ) from None
    CLINIC_DATE.check(moment, option)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _clock_note(as_of: datetime, given: bool) -> str:
    if given:
        return f"checked as of {as_of.astimezone(UTC):%Y-%m-%d %H:%M} UTC (--as-of)"
    return (
        f"checked as of {as_of:%Y-%m-%d %H:%M} UTC, the current clock time (no --as-of given; "
        "it is also the order's start when the order has none)"
    )


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


def _print_findings(report: SafetyReport, note: str = "") -> None:
    from rich.markup import escape

    console = make_console()
    if note:
        console.print(note, highlight=False, markup=False, soft_wrap=True)
    colour = {"HARD_STOP": "red", "OVERRIDABLE": "magenta", "WARNING": "yellow", "INFO": "cyan"}
    if not report.findings:
        console.print("no findings")
    for f in report.findings:
        tag = f"[{colour[str(f.severity)]}]{f.severity}[/]"
        overridden = (
            f" [green](overridden: {escape(f.override_reason)})[/green]"
            if f.override_reason
            else ""
        )
        console.print(
            f"{tag} {escape(f.code)}{overridden}: {escape(f.message)}",
            highlight=False,
            soft_wrap=True,
        )
    verdict = "[green]ALLOWED[/green]" if report.allowed else "[red]BLOCKED[/red]"
    console.print(
        f"{verdict} (drug library {report.drug_library_version}; interaction tables "
        f"{report.interaction_tables_version})"
    )


def _print_plan(result: Plan) -> None:
    from rich.markup import escape
    from rich.table import Table

    console = make_console()
    p, pt = result.protocol, result.patient
    console.print(
        f"[bold]{escape(p.title)}[/bold] ({p.id}) - {pt.weight_kg:g} kg, {pt.age_years:g} "
        f"years, {pt.sex}, Child-Pugh {pt.child_pugh}; start {result.start}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"dose rule: {p.dose_rule.summary}", highlight=False, markup=False, soft_wrap=True
    )
    console.print(f"ages: {p.ages.describe()}", highlight=False, markup=False, soft_wrap=True)
    if result.model_choice is not None:
        console.print(
            f"model: {result.model_choice.model_id} ({result.model_choice.reason})",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if result.dosing_weight is not None and p.weight_basis is not None:
        w = result.dosing_weight
        bmi = f"; BMI {w.bmi_kg_per_m2:.1f} kg/m2" if w.bmi_kg_per_m2 is not None else ""
        console.print(
            f"dosing weight: {plain_number(round(w.weight_kg, 1))} kg, {w.explanation}{bmi} "
            f"(weight basis: {p.weight_basis.scalar} body weight from BMI "
            f"{p.weight_basis.above_bmi_kg_per_m2:g} kg/m2; {p.weight_basis.source})",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    for dose in result.doses:
        console.print(
            f"  {escape(dose.label)}: [bold]{escape(dose.text)}[/bold]",
            highlight=False,
            soft_wrap=True,
        )
        console.print(f"    {dose.calculation}", highlight=False, markup=False, soft_wrap=True)
    for step in p.dose_rule.titration:
        console.print(f"  titration: {step}", highlight=False, markup=False, soft_wrap=True)
    console.print(f"rounding: {result.rounding}", highlight=False, markup=False, soft_wrap=True)
    if result.hepatic is not None:
        _print_hepatic(console, result)
    table = Table(title="session calendar")
    for col in ("#", "phase", "date", "doses", "total mg"):
        table.add_column(col)
    for s in result.sessions:
        table.add_row(
            str(s.number),
            s.phase,
            s.day.isoformat(),
            "; ".join(str(d) for d in s.doses),
            plain_number(round(s.total_mg, 4)),
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
            markup=False,
            soft_wrap=True,
        )
    risk = result.population_risk
    if isinstance(risk, Unavailable):
        console.print(
            f"population risk: not estimated ({risk.reason})",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    elif risk is not None:
        console.print(
            f"population risk ({risk.n} similar virtual patients, seed {risk.seed}; "
            f"{risk.variability}):",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        for sentence in risk.sentences():
            console.print(f"  {sentence}", highlight=False, markup=False, soft_wrap=True)
    observe = (
        f"observe at least {p.monitoring.min_observation_min} min after dosing"
        if p.monitoring.min_observation_min > 0
        else "no fixed observation period after a dose (inpatient monitoring as above)"
    )
    console.print(
        f"monitoring: {p.monitoring.vitals}; {observe}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    console.print(
        f"trial: {p.trial.instrument}, {p.trial.threshold}, judged {p.trial.judge_at}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    _print_findings(result.report)


def _print_hepatic(console: Any, result: Plan) -> None:
    h = result.hepatic
    assert h is not None
    data = h.to_dict()
    auc, peak = data["auc_ng_h_per_ml"], data["peak_ng_per_ml"]
    method = {
        "equal_auc": f"doses x{h.factor:.2f} for the AUC without impairment",
        "equal_peak": f"doses x{h.factor:.2f} for the {h.peak_site} peak without impairment",
        "none": "no dose change",
    }[str(h.method)]
    adjusted_auc = auc["adjusted_dose_impaired"]
    adjusted_peak = peak["adjusted_dose_impaired"]
    console.print(
        f"Child-Pugh B ({h.method}): {method}; {h.advice} (source: {h.source}). Standard dose: "
        f"AUC {auc['standard_dose_no_impairment']:.0f} ng*h/mL and {h.peak_site} peak "
        f"{peak['standard_dose_no_impairment']:.0f} ng/mL without impairment, "
        f"{auc['standard_dose_impaired']:.0f} and {peak['standard_dose_impaired']:.0f} with it"
        + (
            f"; proposed dose: {adjusted_auc:.0f} ng*h/mL and {adjusted_peak:.0f} ng/mL"
            if adjusted_auc is not None and adjusted_peak is not None and h.factor != 1.0
            else ""
        ),
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    if h.factor != 1.0:
        for std, adj in zip(h.standard, h.adjusted, strict=True):
            console.print(
                f"  standard {std.text}  ->  proposed {adj.text}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )


def _plot(result: Plan, path: str) -> Path:
    from ketaclinic.cli._pharmacology import dosing_end_min, result_curves
    from ketaclinic.cli._plots import short_title, write_concentration_plot

    r = result.prediction
    if r is None:
        raise UserInputError(f"no prediction to plot: {result.prediction_note}")
    ceilings = [(c.conc_ng_per_ml, c.kind) for c in result.protocol.ceilings]
    title = short_title(result.protocol.id, [d.text for d in result.doses])
    return write_concentration_plot(
        path,
        result_curves(r),
        title,
        drug=r.model.drug,
        ceilings=ceilings,
        dosing_end_min=dosing_end_min(r.doses),
    )


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
        make_console().print(table)

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
        if plot:
            check_plot_path(plot)  # before any work: a bad path fails in a moment, not after
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
            None,
            "--as-of",
            help="Check time, e.g. 2026-12-01T09:00:00Z (default: now; the output says which "
            "time was used).",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        moment = _parse_moment(as_of, "--as-of") if as_of is not None else datetime.now(UTC)
        context = read_model(patient, PatientContext, "patient")
        the_order = read_model(order, Order, "order")
        report = check(the_order, context, as_of=moment)
        note = _clock_note(moment, as_of is not None)
        if as_json:
            data = report.to_dict()
            data["as_of"] = moment.astimezone(UTC).isoformat()
            data["as_of_from"] = "--as-of" if as_of is not None else "clock"
            typer.echo(json.dumps(data))
        else:
            _print_findings(report, note)
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
