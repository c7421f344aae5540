"""Exact order statistics of each row, compiled: the selection behind the percentile bands.

The bands need five percentiles of each band time's values (10 000 patients by default), that
is two order statistics per percentile. Sorting every row (NumPy) costs about 0.3 ms a row
here, most of a population run's band cost. Instead, each row's values are put into
``BINS`` equal bins between the row's minimum and maximum, by one multiplication and a
truncation. Both are monotone in the value, so every value of a bin is at most every value
of the next bin; the cumulative counts name the bin that holds each wanted rank, and only
that bin's values are sorted; a bin that holds many (a long tail squeezes the bulk into a
few bins) is binned once more between its own extremes first. The result is the sort's,
element for element; rows with a NaN or an infinite range are sorted whole.

Imported only on the compiled path (``warm_up()`` compiles or loads the kernel ahead).
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = ["BINS", "order_statistics", "warm_up"]

BINS = 4096  # per row: the counts fit the L1 cache; 10 000 smooth values leave ~3 per bin


_jit = numba.njit(nogil=True, cache=True)
REFINE = 256  # a chosen bin with more values than this is binned once more (long tails)


@_jit
def _histogram(a: Any, n: int, bins: Any, hist: Any) -> int:
    """Bin ``a[:n]`` into ``bins`` and ``hist`` (``hist[b]``: the values in bins below b).
    Returns 1 when binned, 0 when every value is equal, -1 for a NaN or an infinite range."""
    low = high = a[0]
    finite = True
    for i in range(n):
        low = min(low, a[i])
        high = max(high, a[i])
    for i in range(n):
        finite &= a[i] == a[i]  # False for a NaN (min/max above may have skipped it)
    if not (finite and high - low < math.inf):
        return -1
    if high == low:
        return 0
    scale = BINS / (high - low)
    for i in range(n):
        bins[i] = min(BINS - 1, int((a[i] - low) * scale))
    hist[:] = 0
    for i in range(n):
        hist[bins[i] + 1] += 1
    for b in range(BINS):
        hist[b + 1] += hist[b]
    return 1


@_jit
def _locate(hist: Any, rank: int) -> int:
    """The bin holding ``rank``: the last b with ``hist[b] <= rank``."""
    lo, hi = 0, BINS
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if hist[mid] <= rank:
            lo = mid
        else:
            hi = mid
    return lo


@_jit
def _gather(a: Any, n: int, bins: Any, b: int, count: int) -> Any:
    """The ``count`` values of ``a[:n]`` in bin ``b``, in a new array."""
    chosen = np.empty(count)
    j = 0
    for i in range(n):
        if bins[i] == b:
            chosen[j] = a[i]
            j += 1
    return chosen


@_jit
def _row(a: Any, ranks: Any, out: Any, bins: Any, hist: Any, bins2: Any, hist2: Any) -> None:
    """Order statistics ``ranks`` (ascending) of ``a`` into ``out``; the rest is scratch
    (``a.size`` bin numbers and ``BINS + 1`` counts, twice)."""
    n = a.shape[0]
    status = _histogram(a, n, bins, hist)
    if status == 0:
        out[:] = a[0]
        return
    if status < 0:
        whole = np.sort(a)  # NaN sort last, as in NumPy
        for t in range(ranks.shape[0]):
            out[t] = whole[ranks[t]]
        return
    t = 0
    while t < ranks.shape[0]:
        b = _locate(hist, ranks[t])
        base, count = hist[b], hist[b + 1] - hist[b]
        chosen = _gather(a, n, bins, b, count)
        stop = t
        while stop < ranks.shape[0] and ranks[stop] < base + count:
            stop += 1
        inner = _histogram(chosen, count, bins2, hist2) if count > REFINE else -1
        if inner == 0:
            out[t:stop] = chosen[0]
        elif inner == 1:  # once more inside the bin: its values spread over BINS bins
            u = t
            while u < stop:
                b2 = _locate(hist2, ranks[u] - base)
                base2, count2 = hist2[b2], hist2[b2 + 1] - hist2[b2]
                chosen2 = _gather(chosen, count, bins2, b2, count2)
                chosen2.sort()
                while u < stop and ranks[u] - base < base2 + count2:
                    out[u] = chosen2[ranks[u] - base - base2]
                    u += 1
        else:
            chosen.sort()
            for u in range(t, stop):
                out[u] = chosen[ranks[u] - base]
        t = stop


@numba.njit(nogil=True, cache=True)
def _rows(rows: Any, ranks: Any, out: Any, first: int, stop: int) -> None:
    bins = np.empty(rows.shape[1], dtype=np.int32)
    bins2 = np.empty(rows.shape[1], dtype=np.int32)
    hist = np.empty(BINS + 1, dtype=np.int64)
    hist2 = np.empty(BINS + 1, dtype=np.int64)
    for r in range(first, stop):
        _row(rows[r], ranks, out[r], bins, hist, bins2, hist2)


def order_statistics(
    rows: NDArray[np.float64],
    ranks: NDArray[np.int64],
    out: NDArray[np.float64],
    part: slice = slice(None),
) -> None:
    """``out[r, t]`` = the ``ranks[t]``-th smallest value (from 0) of ``rows[r]``, for the
    rows of ``part``: what ``np.sort(rows, axis=1)[:, ranks]`` gives. ``ranks`` must be
    ascending and within the row length. Releases the GIL: parts can run on threads."""
    if ranks.size and (ranks[0] < 0 or ranks[-1] >= rows.shape[1] or np.any(np.diff(ranks) < 0)):
        raise ValueError(f"ranks must be ascending within 0..{rows.shape[1] - 1}")
    first, stop, _ = part.indices(rows.shape[0])
    if first < stop and ranks.size:
        _rows(np.ascontiguousarray(rows), ranks, out, first, stop)


def warm_up() -> None:
    """Compile (or load from the cache) the kernel."""
    order_statistics(np.zeros((1, 3)), np.array([0, 2]), np.empty((1, 2)))
