"""The chair-capacity rule: one session per chair at a time.

``overlaps`` is the rule's test, shared by the scheduling services (which read the bookings
from the store) and by ``ChairBook``, an in-memory book of the bookings made so far, used by
the demo clinic to place every booking it makes on a free chair.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from datetime import datetime

__all__ = ["ChairBook", "overlaps"]


def overlaps(
    starts: datetime, ends: datetime, other_starts: datetime, other_ends: datetime
) -> bool:
    """Whether two bookings ``[starts, ends)`` share a moment (touching ends do not)."""
    return other_starts < ends and starts < other_ends


class ChairBook:
    """The bookings of each chair, sorted by start; they never overlap on a chair."""

    def __init__(self, chairs: tuple[int, ...]) -> None:
        if not chairs:
            raise ValueError("a chair book needs at least one chair")
        self.chairs = chairs
        self._booked: dict[int, list[tuple[datetime, datetime]]] = {c: [] for c in chairs}

    def is_free(self, chair: int, starts: datetime, ends: datetime) -> bool:
        booked = self._booked[chair]
        k = bisect_left(booked, (ends, ends))  # the first booking starting at or after ends
        # Bookings on a chair do not overlap, so sorted by start they are sorted by end too:
        # only the one just before ``k`` can reach into [starts, ends).
        return k == 0 or not overlaps(starts, ends, *booked[k - 1])

    def book(self, starts: datetime, ends: datetime, first: int = 0) -> int | None:
        """Book the first free chair, trying them in order from ``chairs[first]``; ``None``
        when every chair is taken at that time."""
        if not starts < ends:
            raise ValueError(f"a booking must end after it starts ({starts} to {ends})")
        n = len(self.chairs)
        for step in range(n):
            chair = self.chairs[(first + step) % n]
            if self.is_free(chair, starts, ends):
                insort(self._booked[chair], (starts, ends))
                return chair
        return None
