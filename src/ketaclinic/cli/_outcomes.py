"""``ketaclinic score``, ``ketaclinic mme`` and ``ketaclinic trial evaluate``.

What-if questions without a database: score an instrument, convert an opioid dose to MME, or
judge a trial from a YAML/JSON file with the course start, the session dates and the
assessments. Bad input ends with exit code 2 and one line, never a traceback.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ketaclinic.cli._app import emit, make_console
from ketaclinic.errors import UserInputError

__all__ = ["TrialFile", "register"]


class _Assessment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    instrument: str
    taken_at: date | datetime
    scale: str = "total"
    score: float | None = None
    answers: list[int] | dict[str, int] | None = None


class TrialFile(BaseModel):
    """The file ``trial evaluate`` reads: a course's start, its session dates, assessments.

    Each assessment gives ``instrument``, ``taken_at`` (a date or a date-time, UTC when no
    zone is given) and either ``score`` (points of ``scale``, default ``total``) or
    ``answers`` (scored here with the instrument).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    course_start: date | datetime
    session_dates: list[date | datetime] = Field(default_factory=list)
    assessments: list[_Assessment] = Field(default_factory=list)


def _answers(text: str) -> list[int]:
    values = []
    for part in text.split(","):
        item = part.strip()
        try:
            values.append(int(item))
        except ValueError:
            raise UserInputError(
                f"--answers item {item!r} is not a whole number; give comma-separated answers "
                f"in item order, e.g. 1,2,0,3"
            ) from None
    return values


def _moment(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UserInputError(
            f"--as-of {text!r} is not a date or date-time such as 2026-12-01 or "
            f"2026-12-01T09:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _read_trial_file(path: str) -> TrialFile:
    from ketaclinic.cli._files import read_mapping
    from ketaclinic.safety import format_validation_error

    data = read_mapping(path, "assessments", " (course_start, session_dates, assessments)")
    try:
        return TrialFile.model_validate(data)
    except ValidationError as error:
        raise UserInputError(format_validation_error(error, f"assessments file {path}")) from None


def _assessments(spec: TrialFile) -> list[Any]:
    from ketaclinic.outcomes import Assessment, score

    out = []
    for number, item in enumerate(spec.assessments, 1):
        if (item.score is None) == (item.answers is None):
            raise UserInputError(
                f"assessment {number} ({item.instrument}): give exactly one of score or answers"
            )
        if item.answers is not None:
            try:
                result = score(item.instrument, item.answers)
            except UserInputError as error:
                raise UserInputError(f"assessment {number}: {error}") from None
            out.append(Assessment.of(result, item.taken_at, item.scale))
        elif item.score is not None:
            out.append(Assessment(item.instrument, item.taken_at, item.score, item.scale))
    return out


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def register(app: typer.Typer) -> None:
    @app.command(
        "score",
        help="Score an outcome instrument (phq-9, gad-7, pain-nrs, bpi-sf, peg, cadss-6, "
        "moaa-s): scores, band, alerts.",
    )
    def score_cmd(
        instrument: str = typer.Argument(..., metavar="INSTRUMENT", help="Instrument id."),
        answers: str = typer.Option(
            ..., "--answers", help="Comma-separated answers in item order, e.g. 1,2,0,3,1,0,2,1,0."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        from ketaclinic.outcomes import score

        result = score(instrument, _answers(answers))

        def render() -> None:

            console = make_console()
            for v in result.values:
                band = f": [bold]{v.band}[/bold]" if v.band else ""
                console.print(
                    f"{v.label} {_fmt(v.value)} points ({_fmt(v.low)}-{_fmt(v.high)}){band}",
                    highlight=False,
                )
            for alert in result.alerts:
                console.print(
                    f"[red]ALERT[/red] {alert.message} -> {alert.action}", highlight=False
                )
            console.print(
                f"{result.instrument_name}, instrument version {result.instrument_version}",
                highlight=False,
            )

        emit(as_json, result.to_dict, render, None)

    @app.command(
        "mme",
        help="Morphine milligram equivalents of one opioid's daily dose (CDC table; for "
        "tracking, never for converting one opioid to another).",
    )
    def mme_cmd(
        drug: str = typer.Argument(
            ..., metavar="DRUG", help="Opioid, e.g. oxycodone or 'fentanyl transdermal'."
        ),
        daily_dose: str = typer.Argument(
            ..., metavar="DAILY_DOSE", help="Daily dose with unit: '60 mg/day' or '25 mcg/h'."
        ),
        table: str = typer.Option(
            "cdc-2022", "--table", help="Conversion table: cdc-2022 (default) or cdc-2016."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        from ketaclinic.outcomes import mme

        result = mme(drug, daily_dose, table=table)

        def render() -> None:
            tier = f" (methadone {result.tier})" if result.tier else ""
            typer.echo(
                f"{result.drug} {result.daily_dose} x {result.factor:g}{tier} = "
                f"{_fmt(result.mme_mg_per_day)} MME (mg/day oral morphine); table "
                f"{result.table_id} version {result.table_version}"
            )
            typer.echo(f"caution: {result.caution}")

        emit(as_json, result.to_dict, render, None)

    trial = typer.Typer(
        help="The trial decision: is a ketamine trial working at its decision point?",
        no_args_is_help=True,
    )

    @trial.command(
        "evaluate",
        help="Judge a trial from a YAML/JSON file (course_start, session_dates, assessments) "
        "against a protocol's criteria: continue, stop, taper, not_yet_due or "
        "insufficient_data.",
    )
    def evaluate_cmd(
        protocol: str = typer.Option(..., "--protocol", help="Protocol id (see `protocols`)."),
        assessments: str = typer.Option(
            ...,
            "--assessments",
            help="YAML or JSON file: course_start, session_dates, assessments.",
        ),
        as_of: str | None = typer.Option(
            None, "--as-of", help="Judge as of this date or time, e.g. 2026-12-20 (default: now)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        from ketaclinic.outcomes import evaluate_trial
        from ketaclinic.protocols import get_protocol

        spec = get_protocol(protocol)
        course = _read_trial_file(assessments)
        decision = evaluate_trial(
            spec.trial,
            course.course_start,
            course.session_dates,
            _assessments(course),
            _moment(as_of),
        )

        def to_dict() -> dict[str, Any]:
            return {"protocol": spec.id, **decision.to_dict()}

        def render() -> None:

            console = make_console()
            colour = {"continue": "green", "stop": "red", "taper": "yellow"}.get(
                decision.recommendation, "cyan"
            )
            console.print(
                f"[bold {colour}]{decision.recommendation.upper()}[/] - {spec.title}",
                highlight=False,
            )
            for reason in decision.reasons:
                console.print(f"  {reason}", highlight=False)
            console.print(
                f"  baseline {_fmt(decision.baseline_points)}, latest "
                f"{_fmt(decision.latest_points)}, drop {_fmt(decision.drop_points)} points "
                f"({_fmt(decision.drop_percent)} %); decision point "
                f"{decision.decision_point_rule}; sessions {decision.sessions_done}",
                highlight=False,
            )
            for rule in decision.rules:
                mark = "[green]met[/green]" if rule.met else "not met"
                console.print(f"  {rule.level}: {rule.rule} - {mark}", highlight=False)
            console.print(
                f"  criteria: {spec.trial.threshold} ({spec.trial.source})", highlight=False
            )

        emit(as_json, to_dict, render, None)

    app.add_typer(trial, name="trial")
