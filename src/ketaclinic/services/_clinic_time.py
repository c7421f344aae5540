"""Instants in the words of the clinic: messages built in the services show a time in the
clinic's time zone with the zone's abbreviation (``09:40 GMT``, ``2026-07-01 10:40 BST``),
as the pages do (their ``clinic_time`` filter formats with ``local_time``); the instants
themselves stay UTC in the store and in the API's fields.

The zone is passed in by the interface that holds the settings (the web application from
``KETACLINIC_CLINIC_TIMEZONE``); the services never read the environment. Without one they
say UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

__all__ = [
    "DATE_AND_TIME",
    "clock_time",
    "clock_time_span",
    "date_and_time",
    "date_and_time_span",
    "local_time",
]

#: How an instant is shown: date, time to the minute, the zone's abbreviation.
DATE_AND_TIME = "%Y-%m-%d %H:%M %Z"


def _at_clinic(moment: datetime, zone: tzinfo) -> datetime:
    """``moment`` at the clinic (a naive instant is UTC, as the store keeps them)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone)


def local_time(moment: datetime, zone: tzinfo = UTC, shown: str = DATE_AND_TIME) -> str:
    """An instant at the clinic, formatted with ``shown`` (strftime); a naive instant is UTC
    (as the store keeps them)."""
    return _at_clinic(moment, zone).strftime(shown)


def clock_time(moment: datetime, zone: tzinfo = UTC) -> str:
    """``09:40 GMT``: the time of day at the clinic, with the zone's abbreviation."""
    return local_time(moment, zone, "%H:%M %Z")


def date_and_time(moment: datetime, zone: tzinfo = UTC) -> str:
    """``2026-03-02 09:40 GMT``: the date and time at the clinic."""
    return local_time(moment, zone)


def clock_time_span(low: datetime, high: datetime, zone: tzinfo = UTC) -> str:
    """``09:30-09:50 GMT``; each end with its own abbreviation when the clocks change
    between them (``00:50 BST-01:10 GMT``); both ends with their dates when they fall on
    different days at the clinic (``2026-12-01 11:00 GMT to 2026-12-02 05:00 GMT``: a
    multi-day infusion, not one that ends before it starts)."""
    start, end = _at_clinic(low, zone), _at_clinic(high, zone)
    if end.date() != start.date():
        return f"{date_and_time(start, zone)} to {date_and_time(end, zone)}"
    if start.tzname() == end.tzname():
        return f"{start:%H:%M}-{clock_time(end, zone)}"
    return f"{clock_time(start, zone)}-{clock_time(end, zone)}"


def date_and_time_span(low: datetime, high: datetime, zone: tzinfo = UTC) -> str:
    """``2026-03-02 09:30-09:50 GMT``: ``clock_time_span`` with the day, which a span over
    several days names at both ends already."""
    start, end = _at_clinic(low, zone), _at_clinic(high, zone)
    span = clock_time_span(start, end, zone)
    return span if end.date() != start.date() else f"{start:%Y-%m-%d} {span}"
