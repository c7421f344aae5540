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

__all__ = ["DATE_AND_TIME", "clock_time", "clock_time_span", "date_and_time", "local_time"]

#: How an instant is shown: date, time to the minute, the zone's abbreviation.
DATE_AND_TIME = "%Y-%m-%d %H:%M %Z"


def local_time(moment: datetime, zone: tzinfo = UTC, shown: str = DATE_AND_TIME) -> str:
    """An instant at the clinic, formatted with ``shown`` (strftime); a naive instant is UTC
    (as the store keeps them)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime(shown)


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
    if low.tzinfo is None:
        low = low.replace(tzinfo=UTC)
    if high.tzinfo is None:
        high = high.replace(tzinfo=UTC)
    start, end = low.astimezone(zone), high.astimezone(zone)
    if end.date() != start.date():
        return f"{date_and_time(start, zone)} to {date_and_time(end, zone)}"
    if start.tzname() == end.tzname():
        return f"{start:%H:%M}-{clock_time(end, zone)}"
    return f"{clock_time(start, zone)}-{clock_time(end, zone)}"
