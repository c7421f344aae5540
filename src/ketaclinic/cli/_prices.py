"""``ketaclinic prices show|set``: the clinic's price list (versioned clinic settings).

``show`` needs no account (prices are no patient data); ``set`` acts as a named staff account
(``--as``) whose role holds ``prices.set`` in ``ROLE_PERMISSIONS`` (the admin, as the
clinic's manager), and records a new version: past charges keep their prices. Money is in
integer minor units (cents) of the list's currency.
"""

from __future__ import annotations

from typing import Any

import typer

from ketaclinic.cli._database import _JSON_HELP, _database, _run

__all__ = ["register"]

_MINOR = "in minor units (cents) of the currency"


def _lines(version: Any) -> list[str]:
    data = version.to_dict()
    head = f"price list version {data['version']}"
    if data["set_at"]:
        head += f", set {data['set_at']} by {data['set_by']} ({data['reason']})"
    lines = [head, f"  {data['label']}"]
    for name, value in data["prices"].items():
        lines.append(f"  {name:<30} {value!s:>10}  {data['units'][name]}")
    return lines


def register(app: typer.Typer) -> None:
    prices = typer.Typer(help="The clinic's price list: show it, or set a new version.")

    @prices.command("show", help="The current price list (version 0: the built-in DEMO list).")
    def prices_show(
        history: bool = typer.Option(False, "--history", help="Every version, oldest first."),
        as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
    ) -> None:
        def work() -> tuple[dict[str, Any], list[str], int]:
            from ketaclinic.services import clinic_price_list, price_list_history

            with _database() as db:
                if history:
                    versions = price_list_history(db)
                    lines = [line for v in versions for line in _lines(v)]
                    return {"versions": [v.to_dict() for v in versions]}, lines, 0
                current = clinic_price_list(db)
            return current.to_dict(), _lines(current), 0

        _run(as_json, work)

    @prices.command(
        "set", help="A new version of the price list: the current one with the prices given."
    )
    def prices_set(
        username: str = typer.Option(
            ..., "--as", help="The staff account setting the prices (its role needs prices.set)."
        ),
        reason: str = typer.Option(..., "--reason", help="Why the prices change."),
        label: str | None = typer.Option(None, "--label", help="A name for this version."),
        currency: str | None = typer.Option(None, "--currency", help="ISO 4217 code, e.g. EUR."),
        ketamine_vial_mg: float | None = typer.Option(
            None, "--ketamine-vial-mg", help="mg per racemic ketamine vial."
        ),
        ketamine_vial_minor: int | None = typer.Option(
            None, "--ketamine-vial-minor", help=f"Price of one ketamine vial, {_MINOR}."
        ),
        esketamine_device_minor: int | None = typer.Option(
            None, "--esketamine-device-minor", help=f"One 28-mg esketamine device, {_MINOR}."
        ),
        chair_per_15_min_minor: int | None = typer.Option(
            None, "--chair-per-15-min-minor", help=f"Per started 15 min of chair time, {_MINOR}."
        ),
        monitoring_per_session_minor: int | None = typer.Option(
            None, "--monitoring-per-session-minor", help=f"Monitoring per session, {_MINOR}."
        ),
        nurse_per_hour_minor: int | None = typer.Option(
            None, "--nurse-per-hour-minor", help=f"One nurse hour, {_MINOR}."
        ),
        patients_per_nurse: int | None = typer.Option(
            None, "--patients-per-nurse", help="Patients one nurse cares for at a time."
        ),
        as_json: bool = typer.Option(False, "--json", help=_JSON_HELP),
    ) -> None:
        given = {
            "currency": currency,
            "ketamine_vial_mg": ketamine_vial_mg,
            "ketamine_vial_minor": ketamine_vial_minor,
            "esketamine_device_minor": esketamine_device_minor,
            "chair_per_15_min_minor": chair_per_15_min_minor,
            "monitoring_per_session_minor": monitoring_per_session_minor,
            "nurse_per_hour_minor": nurse_per_hour_minor,
            "patients_per_nurse": patients_per_nurse,
        }
        changes = {k: v for k, v in given.items() if v is not None}

        def work() -> tuple[dict[str, Any], list[str], int]:
            from ketaclinic.services import Actor, set_clinic_prices

            with _database() as db:
                version = set_clinic_prices(
                    db, Actor.command_line(username), changes, reason=reason, label=label
                )
            return version.to_dict(), _lines(version), 0

        _run(as_json, work)

    app.add_typer(prices, name="prices")
