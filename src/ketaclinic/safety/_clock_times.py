"""Clock times and date-times as dose starts in order and patient files.

The dose grammar counts a dose's start from the start of its order (``at 30 min``). In a file,
where the order has a ``start``, a dose may also start at

* a clock time, ``at 09:30`` (24-hour): that time on the calendar day of the order's start,
  in the time zone of the order's start (UTC when the start has no offset);
* a date-time, ``at 2026-12-02T09:30:00Z``: that moment (without an offset: UTC, like every
  time in ketaclinic).

Either becomes minutes after the order's start (``at 30 min``) before the grammar reads the
dose; a time before the order's start is an error, not a negative offset.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from ketaclinic.pharmacology import plain_number

__all__ = ["resolve_clock_starts"]

_WHEN = re.compile(
    r"(?<!\S)at\s+(?P<when>"
    r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\d{1,2}:\d{2}(?::\d{2})?"
    r")(?!\S)",
    re.IGNORECASE,
)


def _moment(text: str, start: datetime) -> datetime:
    if ":" in text and "-" not in text[:5]:  # a clock time, HH:MM[:SS]
        try:
            clock = time.fromisoformat(text if len(text.split(":")[0]) == 2 else "0" + text)
        except ValueError:
            raise ValueError(f"{text!r} is not a clock time such as 09:30 (00:00-23:59)") from None
        return datetime.combine(start.date(), clock, tzinfo=start.tzinfo)
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise ValueError(f"{text!r} is not a date-time such as 2026-12-01T09:30:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def resolve_clock_starts(dose: str, start: datetime | None, where: str = "the order") -> str:
    """``dose`` with a clock-time or date-time start turned into minutes after ``start``.

    >>> start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    >>> resolve_clock_starts("iv-bolus 35 mg at 09:30", start)
    'iv-bolus 35 mg at 30 min'
    >>> resolve_clock_starts("oral 10 mg at 2026-12-02T09:00:00Z", start)
    'oral 10 mg at 1440 min'
    >>> resolve_clock_starts("iv-bolus 35 mg at 10 min", start)
    'iv-bolus 35 mg at 10 min'
    """
    match = _WHEN.search(dose)
    if match is None:
        return dose
    text = match.group("when")
    if start is None:
        raise ValueError(
            f"{dose!r} starts at {text}: a clock time or date-time needs the start of {where} "
            "(start: 2026-12-01T09:00:00Z), or give the start in minutes ('at 30 min')"
        )
    anchor = start if start.tzinfo else start.replace(tzinfo=UTC)
    moment = _moment(text, anchor)
    minutes = (moment - anchor) / timedelta(minutes=1)
    if minutes < 0:
        raise ValueError(
            f"{dose!r} starts at {text}, before the start of {where} "
            f"({anchor.isoformat()}): clock times are on the start's day; for a later day "
            "give a date-time such as 2026-12-02T09:30:00Z"
        )
    return f"{dose[: match.start()]}at {plain_number(minutes)} min{dose[match.end() :]}"
