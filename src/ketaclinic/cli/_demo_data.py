"""``ketaclinic demo-data``: a realistic demonstration clinic in the configured database.

Exit codes: 0 ok, 2 bad input (a count or seed out of range, a bad setting), 3 refused (the
database already holds patients, another process is writing). The database is the one
``KETACLINIC_DATABASE_URL`` / ``KETACLINIC_DATA_DIR`` name; its schema is brought up to date
first (a new data directory works with no configuration).
"""

from __future__ import annotations

from datetime import date, datetime

import typer

from ketaclinic.cli._database import _actor, _run

__all__ = ["register"]


def _demo(patients: int, seed: int, as_of: str | None) -> tuple[dict[str, object], list[str], int]:
    from ketaclinic.errors import UserInputError
    from ketaclinic.services import generate_demo_data, open_clinic_database

    day: date | None = None
    if as_of is not None:
        try:
            day = datetime.strptime(as_of, "%Y-%m-%d").date()
        except ValueError:
            raise UserInputError(
                f"--as-of {as_of!r} is not a date; accepted: YYYY-MM-DD, e.g. 2026-03-02"
            ) from None
    db = open_clinic_database(upgrade_schema=True)
    try:
        result = generate_demo_data(db, _actor(), patients=patients, seed=seed, as_of=day)
    finally:
        db.close()
    data = result.to_dict()
    lines = [
        f"demo clinic (seed {result.seed}, as of {result.as_of.isoformat()}): "
        f"{result.patients} patients, {result.sessions} sessions, {result.rows_total} records "
        f"in {result.seconds:.1f} s ({data['sessions_per_s']} sessions/s)",
        "demo staff accounts (no passwords set): " + ", ".join(_staff()),
    ]
    return data, lines, 0


def _staff() -> list[str]:
    from ketaclinic.services import DEMO_STAFF

    return [f"{name} ({role})" for name, (_, role) in DEMO_STAFF.items()]


def register(app: typer.Typer) -> None:
    @app.command(
        "demo-data",
        help="Fill an empty clinic database with a realistic demo clinic (every indication, "
        "courses with sessions, outcomes, adverse events, charges, demo staff); deterministic "
        "for a seed and a date.",
    )
    def demo_data(
        patients: int = typer.Option(200, "--patients", help="Number of demo patients (1-100000)."),
        seed: int = typer.Option(
            1, "--seed", help="Random seed: the same seed and date give the same clinic."
        ),
        as_of: str | None = typer.Option(
            None, "--as-of", help="The demo clinic's today (YYYY-MM-DD; default: today)."
        ),
        as_json: bool = typer.Option(
            False, "--json", help="Print one JSON object instead of text."
        ),
    ) -> None:
        _run(as_json, lambda: _demo(patients, seed, as_of))
