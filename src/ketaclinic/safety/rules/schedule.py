"""Spacing and course rules against previous sessions of the same protocol.

* minimum interval: start of the latest earlier session to the start of this order;
* sessions per 7 days: earlier sessions that started in the 7 days before this order, plus it;
* course length: from the first session of the current course to the end of this order,
  where a gap longer than the entry's ``course_break_days`` starts a new course.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from ketaclinic.safety._context import CheckContext, limit_finding
from ketaclinic.safety._findings import Finding
from ketaclinic.safety._inputs import as_utc

__all__ = ["course_length", "dose_spacing", "minimum_interval", "sessions_per_week"]


def minimum_interval(ctx: CheckContext) -> list[Finding]:
    earlier = ctx.previous(same_protocol=True)
    if not earlier or ctx.entry is None:
        return []
    last = as_utc(earlier[-1].start)
    hours = (ctx.start - last).total_seconds() / 3600.0
    return limit_finding(
        ctx,
        "min_interval_h",
        hours,
        "interval since the last session",
        "h",
        minimum=True,
        detail=f"last session {last:%Y-%m-%d %H:%M} UTC",
    )


def sessions_per_week(ctx: CheckContext) -> list[Finding]:
    week_ago = ctx.start - timedelta(days=7)
    count = 1 + sum(1 for s in ctx.previous(same_protocol=True) if as_utc(s.start) > week_ago)
    return limit_finding(ctx, "max_sessions_per_7d", count, "sessions in 7 days", "sessions")


def course_length(ctx: CheckContext) -> list[Finding]:
    if ctx.entry is None or not ctx.doses:
        return []
    gap = timedelta(days=ctx.entry.course_break_days)
    course_start = ctx.start
    for session in reversed(ctx.previous(same_protocol=True)):
        start = as_utc(session.start)
        if course_start - start > gap:
            break
        course_start = start
    days = (ctx.order_end() - course_start).total_seconds() / 86400.0
    return limit_finding(
        ctx,
        "max_course_days",
        days,
        "course length",
        "days",
        detail=f"course started {course_start:%Y-%m-%d}",
    )


def dose_spacing(ctx: CheckContext) -> list[Finding]:
    """The shortest gap between dose starts within the order (e.g. oral every 4-6 h)."""
    starts = [d.start_min for d in ctx.events]
    if len(starts) < 2:
        return []
    gap_h = min(b - a for a, b in itertools.pairwise(starts)) / 60.0
    return limit_finding(
        ctx, "min_dose_interval_h", gap_h, "interval between doses", "h", minimum=True
    )
