"""Instants in the words of the clinic: messages built in the services show a time in the
clinic's time zone with the zone's abbreviation (``09:40 GMT``, ``2026-07-01 10:40 BST``),
as the pages do; the instants themselves stay UTC in the store and in the API's fields.

The zone is passed in by the interface that holds the settings (the web application from
``KETACLINIC_CLINIC_TIMEZONE``); the services never read the environment. Without one they
say UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

__all__ = ["clock_time", "clock_time_span", "date_and_time"]


def clock_time(moment: datetime, zone: tzinfo = UTC) -> str:
    """``09:40 GMT``: the time of day at the clinic, with the zone's abbreviation."""
    return moment.astimezone(zone).strftime("%H:%M %Z")


def date_and_time(moment: datetime, zone: tzinfo = UTC) -> str:
    """``2026-03-02 09:40 GMT``: the date and time at the clinic."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def clock_time_span(low: datetime, high: datetime, zone: tzinfo = UTC) -> str:
    """``09:30-09:50 GMT``; each end with its own abbreviation when the clocks change
    between them (``00:50 BST-01:10 GMT``)."""
    start, end = low.astimezone(zone), high.astimezone(zone)
    if start.tzname() == end.tzname():
        return f"{start:%H:%M}-{clock_time(end, zone)}"
    return f"{clock_time(start, zone)}-{clock_time(end, zone)}"
