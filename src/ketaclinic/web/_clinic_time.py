"""The clinic's time zone on the pages: instants are stored and computed in UTC, shown and read
in ``KETACLINIC_CLINIC_TIMEZONE`` (with the zone's abbreviation, e.g. ``09:30 GMT``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import Any

from fastapi import Request
from jinja2 import pass_context
from jinja2.runtime import Context

from ketaclinic.services import DATE_AND_TIME, ClinicHours, clock_time_span, local_time

__all__ = [
    "as_clinic_time",
    "clinic_hours",
    "clinic_span",
    "clinic_time",
    "clinic_today",
    "clinic_zone",
    "zone_name",
]


def clinic_zone(request: Request) -> tzinfo:
    """The time zone of the clinic this application serves (UTC without settings)."""
    settings = getattr(request.app.state, "settings", None)
    return settings.clinic_zone if settings is not None else UTC


def clinic_hours(request: Request) -> ClinicHours:
    """The clinic's days and opening hours (the services' defaults) in its time zone, for
    scheduling and the chairs' calendar."""
    return ClinicHours(zone=zone_name(clinic_zone(request)))


def zone_name(zone: tzinfo) -> str:
    """The zone's IANA name (``Europe/London``), for labels."""
    return str(getattr(zone, "key", None) or zone.tzname(None) or "UTC")


def as_clinic_time(value: datetime | str, zone: tzinfo, shown: str = DATE_AND_TIME) -> str:
    """An instant (aware, or naive meaning UTC, or its ISO text) in the clinic's zone."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return local_time(moment, zone, shown)


@pass_context
def clinic_time(context: Context, value: Any, shown: str = DATE_AND_TIME) -> str:
    """Jinja filter: ``{{ session.started_at | clinic_time }}`` -> ``2026-03-02 09:30 GMT``;
    ``-`` for no value."""
    if value is None or value == "":
        return "-"
    return as_clinic_time(value, context.get("clinic_zone") or UTC, shown)


@pass_context
def clinic_span(context: Context, starts: datetime, ends: datetime) -> str:
    """Jinja filter: ``{{ e.starts_at | clinic_span(e.ends_at) }}`` -> ``09:00-11:45 GMT``, or
    with the end's date when it falls on a later day (``clock_time_span``)."""
    return clock_time_span(starts, ends, context.get("clinic_zone") or UTC)


def clinic_today(request: Request) -> date:
    """Today's date at the clinic (the pages' default day), by the application's clock."""
    now: datetime = request.app.state.clock()
    return now.astimezone(clinic_zone(request)).date()
