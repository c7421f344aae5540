"""Grid metrics of many patients from their modal coefficients, compiled, without the grid.

Between input changes every output is ``const + sum_i coef_i exp(lam_i tau)`` and each term
is monotone in time, so over any stretch of the grid the output lies between the sums of
each term's smaller and larger end values. For every patient and output:

1. the *coarse pass* evaluates every ``BLOCK``-step block's ends exactly (powers of
   ``exp(lam h)``, no exponential per point), bounds its interior, counts the blocks wholly
   above a threshold and keeps the blocks whose bound could beat the maximum or straddles a
   threshold;
2. the *refine step* bounds the kept blocks again in ``SUB``-step blocks and steps point by
   point only through the fine blocks that still need it.

The results are those of evaluating every grid point (Cmax, the first grid index of Cmax,
minutes above each threshold with linear interpolation, as :func:`minutes_above`, and the
values at the band times), which ``_grid.numpy_kernel`` does and the tests compare.

Compiled by Numba on first use (cached on disk: ``NUMBA_CACHE_DIR`` chooses where) and
parallel over patients. This module is imported only on the compiled path, so short runs
never import Numba; ``warm_up()`` compiles or loads it ahead of the first request.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numba
import numpy as np
from numba import prange

from ketaclinic.pharmacology._grid import Grid, GridMetrics, ModalTerms

__all__ = ["BLOCK", "PATIENTS_PER_TASK", "SUB", "compiled_kernel", "warm_up"]

TINY = 1e-280  # terms below this are flushed to zero (changes results by < 1e-240)
BLOCK = 128  # grid steps per coarse block: exact ends and bounds, for every block
SUB = 16  # grid steps per fine block, bounded again inside the coarse blocks that need it
PATIENTS_PER_TASK = 256  # patients per parallel task (scratch arrays are allocated per task)
_PER = BLOCK // SUB
_jit = numba.njit(inline="always", cache=True)  # helpers, inlined into the parallel loop
# Compiled on their own and called, never inlined: Numba (0.68) dropped the writes of a helper
# that only writes into a tuple's arrays once it was inlined into the parallel loop (every
# kept block was lost; tests/vpop/test_kernels.py found it). ``_keep`` and the per-task
# scratch are such stages; the other helpers read what they write and stay inlined.
_stage = numba.njit(cache=True)


class _Steps(NamedTuple):
    """One patient's step factors ``r = exp(lam h)``: ``fine[d] = r^d`` (d = 0..SUB),
    ``coarse[j] = r^(SUB j)`` (j = 0..BLOCK/SUB) and ``start[g]`` = each mode's factor
    from segment ``g``'s start to its first grid point."""

    fine: Any
    coarse: Any
    start: Any


class _Kept(NamedTuple):
    """Coarse blocks kept for the refine step: first grid index, segment, length, bounds
    and each term's value at the block's start."""

    first: Any
    segment: Any
    length: Any
    up: Any
    low: Any
    terms: Any


class _Work(NamedTuple):
    """Scratch of one task: terms at a block's end and start, minutes above per threshold
    (in grid steps) and which thresholds a kept block straddles."""

    end: Any
    begin: Any
    full: Any
    mixed: Any


@_jit
def _interval(prev: float, y: float, thr: float) -> float:
    """Fraction of a grid interval above ``thr`` with linear interpolation (as minutes_above)."""
    top = max(prev, y)
    bottom = min(prev, y)
    if bottom > thr:
        return 1.0
    if top > thr:
        return (top - thr) / (top - bottom)
    return 0.0


@_jit
def _step_factors(lam: Any, p: int, grid: Any, steps: Any) -> None:
    h = grid.step_min
    fine, coarse, start = steps.fine, steps.coarse, steps.start
    s_count = lam.shape[1]
    for i in range(s_count):
        fine[0, i] = 1.0
        coarse[0, i] = 1.0
        fine[1, i] = np.exp(lam[p, i] * h)
    for d in range(2, SUB + 1):  # modes in the inner loop: independent chains
        for i in range(s_count):
            v = fine[d - 1, i] * fine[1, i]
            fine[d, i] = v if v > TINY else 0.0  # flush: subnormals cost ~100x
    for j in range(1, _PER + 1):
        for i in range(s_count):
            v = coarse[j - 1, i] * fine[SUB, i]
            coarse[j, i] = v if v > TINY else 0.0
    for g in range(start.shape[0]):
        for i in range(s_count):
            tau = grid.seg_lo[g] * h - grid.seg_t0[g]  # 0 where a dose starts on the grid
            v = np.exp(lam[p, i] * tau) if tau != 0.0 else 1.0
            start[g, i] = v if v > TINY else 0.0


@_jit
def _band_values(
    a: int, d: int, cst: float, terms: Any, steps: Any, grid: Any, bi: int, p: int, bands: Any
) -> int:
    """Band values at grid indices in ``(a, a + d]`` from the terms at ``a``; the next band."""
    band_idx = grid.band_idx
    while bi < band_idx.shape[0] and band_idx[bi] <= a + d:
        off = band_idx[bi] - a
        jo = off // SUB
        v = cst
        for i in range(terms.shape[0]):
            v += terms[i] * steps.coarse[jo, i] * steps.fine[off - jo * SUB, i]
        bands[bi, p] = v
        bi += 1
    return bi


@_jit
def _advance(d: int, cst: float, steps: Any, work: Any) -> tuple[float, float, float]:
    """Move the terms ``d`` steps on (``begin`` keeps their old values); the value at the end
    and upper and lower bounds over the block (each term is monotone: its ends bound it)."""
    jd = d // SUB
    rd = d - jd * SUB
    up = cst
    low = cst
    y = cst
    end, begin = work.end, work.begin
    for i in range(end.shape[0]):
        begin[i] = end[i]
        tb = end[i] * steps.coarse[jd, i] * steps.fine[rd, i]
        if abs(tb) < TINY:
            tb = 0.0
        up += max(end[i], tb)
        low += min(end[i], tb)
        y += tb
        end[i] = tb
    return y, up, low


@_jit
def _count_block(up: float, low: float, best: float, d: int, grid: Any, full: Any) -> bool:
    """Count a block wholly above a threshold; true when it must be refined."""
    keep = up > best  # the final maximum is at least this best
    thresholds = grid.thresholds
    for m in range(thresholds.shape[0]):
        if low > thresholds[m]:
            full[m] += d  # every interval in the block is above
        elif up > thresholds[m]:
            keep = True  # a crossing: step through it in the refine step
    return keep


@_stage
def _keep(kept: Any, nb: int, a: int, g: int, d: int, up: float, low: float, begin: Any) -> None:
    """Record coarse block ``nb`` for the refine step."""
    first, segment, length, ups, lows, terms = kept
    for i in range(begin.shape[0]):  # a loop: a slice assignment would become a parfor
        terms[nb, i] = begin[i]
    first[nb] = a
    segment[nb] = g
    length[nb] = d
    ups[nb] = up
    lows[nb] = low


@_jit
def _coarse_pass(
    p: int,
    k: int,
    terms: Any,
    grid: Any,
    steps: Any,
    kept: Any,
    work: Any,
    bands: Any,
    with_bands: bool,
) -> tuple[float, int, int]:
    """Pass 1 over every segment: ``(best, where, kept blocks)``; counts ``work.full``."""
    const, coef = terms.const, terms.coef
    thresholds, full, end = grid.thresholds, work.full, work.end
    best = -np.inf
    where = 0
    prev = 0.0
    nb = 0
    bi = 0
    for m in range(thresholds.shape[0]):
        full[m] = 0.0
    for g in range(coef.shape[1]):
        lo = grid.seg_lo[g]
        hi = grid.seg_hi[g]
        if hi <= lo:
            continue
        cst = const[p, g, k]
        y = cst
        for i in range(end.shape[0]):
            end[i] = coef[p, g, k, i] * steps.start[g, i]
            y += end[i]
        if lo > 0:  # the interval from the previous segment's last point
            for m in range(thresholds.shape[0]):
                full[m] += _interval(prev, y, thresholds[m])
        if y > best:
            best = y
            where = lo
        if with_bands:
            bi = _band_values(lo, 0, cst, end, steps, grid, bi, p, bands)
        a = lo
        while a < hi - 1:
            d = min(BLOCK, hi - 1 - a)
            if with_bands:
                bi = _band_values(a, d, cst, end, steps, grid, bi, p, bands)
            y, up, low = _advance(d, cst, steps, work)
            if y > best:
                best = y
                where = a + d
            if _count_block(up, low, best, d, grid, full):
                _keep(kept, nb, a, g, d, up, low, work.begin)
                nb += 1
            a += d
        prev = y
    return best, where, nb


@_jit
def _step_through(
    a: int,
    w: int,
    cst: float,
    y0: float,
    s_up: float,
    s_low: float,
    step_max: bool,
    step_thr: bool,
    steps: Any,
    grid: Any,
    work: Any,
    best: float,
    where: int,
) -> tuple[float, int]:
    """Every point of one fine block: the maximum and the crossings of straddled thresholds."""
    thresholds, full, mixed, begin = grid.thresholds, work.full, work.mixed, work.begin
    y_prev = y0
    for dd in range(1, w + 1):
        y = cst
        for i in range(begin.shape[0]):
            y += begin[i] * steps.fine[dd, i]
        if step_max and (y > best or (y == best and a + dd < where)):
            best = y
            where = a + dd
        if step_thr:
            for m in range(thresholds.shape[0]):
                if mixed[m] and s_low <= thresholds[m] < s_up:
                    full[m] += _interval(y_prev, y, thresholds[m])
        y_prev = y
    return best, where


@_jit
def _refine_block(
    q: int,
    p: int,
    k: int,
    need_max: bool,
    terms: Any,
    grid: Any,
    steps: Any,
    kept: Any,
    work: Any,
    best: float,
    where: int,
) -> tuple[float, int]:
    """One kept coarse block, by fine blocks: bounds first, steps only where they decide."""
    thresholds, full, mixed, begin = grid.thresholds, work.full, work.mixed, work.begin
    a0 = kept.first[q]
    d = kept.length[q]
    cst = terms.const[p, kept.segment[q], k]
    for j in range((d + SUB - 1) // SUB):
        a = a0 + j * SUB
        w = min(SUB, d - j * SUB)
        y0 = cst
        s_up = cst
        s_low = cst
        y1 = cst
        for i in range(begin.shape[0]):
            t0 = kept.terms[q, i] * steps.coarse[j, i]
            t1 = t0 * steps.fine[w, i]
            begin[i] = t0
            y0 += t0
            y1 += t1
            s_up += max(t0, t1)
            s_low += min(t0, t1)
        if y1 > best or (y1 == best and a + w < where):
            best = y1
            where = a + w
        step_max = need_max and s_up > best + 1e-13 * abs(best)
        step_thr = False
        for m in range(thresholds.shape[0]):
            if mixed[m]:
                if s_low > thresholds[m]:
                    full[m] += w
                elif s_up > thresholds[m]:
                    step_thr = True
        if step_max or step_thr:
            best, where = _step_through(
                a, w, cst, y0, s_up, s_low, step_max, step_thr, steps, grid, work, best, where
            )
    return best, where


@_jit
def _refine(
    p: int,
    k: int,
    nb: int,
    terms: Any,
    grid: Any,
    steps: Any,
    kept: Any,
    work: Any,
    best: float,
    where: int,
) -> tuple[float, int]:
    """Pass 2: only the kept blocks that may still hold the maximum or a crossing."""
    thresholds, mixed = grid.thresholds, work.mixed
    for q in range(nb):
        up = kept.up[q]
        low = kept.low[q]
        need_max = up > best + 1e-13 * abs(best)
        need_thr = False
        for m in range(thresholds.shape[0]):
            mixed[m] = low <= thresholds[m] < up
            need_thr = need_thr or mixed[m]
        if need_max or need_thr:
            best, where = _refine_block(
                q, p, k, need_max, terms, grid, steps, kept, work, best, where
            )
    return best, where


@_jit
def _kept_capacity(grid: Any) -> int:
    """Coarse blocks of the whole grid (plus one): at most this many are kept."""
    cap = 1
    for g in range(grid.seg_lo.shape[0]):
        if grid.seg_hi[g] - grid.seg_lo[g] > 1:
            cap += (grid.seg_hi[g] - grid.seg_lo[g] - 2) // BLOCK + 1
    return cap


@_stage
def _scratch(s_count: int, g_count: int, m_count: int, cap: int) -> tuple[Any, Any, Any]:
    """Scratch arrays of one parallel task."""
    steps = _Steps(
        np.empty((SUB + 1, s_count)), np.empty((_PER + 1, s_count)), np.empty((g_count, s_count))
    )
    kept = _Kept(
        np.empty(cap, dtype=np.int64),
        np.empty(cap, dtype=np.int64),
        np.empty(cap, dtype=np.int64),
        np.empty(cap),
        np.empty(cap),
        np.empty((cap, s_count)),
    )
    work = _Work(
        np.empty(s_count), np.empty(s_count), np.empty(m_count), np.empty(m_count, np.bool_)
    )
    return steps, kept, work


def _bounded(terms: Any, grid: Any, out: Any) -> None:
    # Outputs unpacked before the parallel loop: Numba (0.68) drops writes made in it through
    # an outer tuple's field (``out.cmax[p] = x``). Stages: see ``_stage``.
    lam, coef = terms.lam, terms.coef
    cmax, imax, above, bands = out.cmax, out.imax, out.above, out.bands
    n, g_count, k_count, s_count = coef.shape
    m_count = grid.thresholds.shape[0]
    n_band = bands.shape[1]
    cap = _kept_capacity(grid)
    for task in prange((n + PATIENTS_PER_TASK - 1) // PATIENTS_PER_TASK):
        steps, kept, work = _scratch(s_count, g_count, m_count, cap)
        for p in range(task * PATIENTS_PER_TASK, min(n, (task + 1) * PATIENTS_PER_TASK)):
            _step_factors(lam, p, grid, steps)
            for k in range(k_count):
                with_bands = k == 0 and p < n_band
                best, where, nb = _coarse_pass(
                    p, k, terms, grid, steps, kept, work, bands, with_bands
                )
                best, where = _refine(p, k, nb, terms, grid, steps, kept, work, best, where)
                cmax[p, k] = best
                imax[p, k] = where
                for m in range(m_count):
                    above[p, k, m] = work.full[m] * grid.step_min


_KERNEL = numba.njit(parallel=True, cache=True, fastmath=False)(_bounded)


def compiled_kernel(terms: ModalTerms, grid: Grid, out: GridMetrics) -> None:
    """The compiled kernel (``_grid.numpy_kernel``'s contract), parallel over patients.

    Inputs are made C-contiguous, so that the kernel is compiled for one layout only
    (``bands`` may be a view into the population's arrays: it is written in place).
    """
    _KERNEL(_contiguous(terms), _contiguous(grid), out)


def _contiguous(value: Any) -> Any:
    return type(value)(
        *(np.ascontiguousarray(v) if isinstance(v, np.ndarray) else v for v in value)
    )


def warm_up() -> None:
    """Compile (or load from the cache) the kernel for every layout the population uses:
    ``bands`` whole (C-contiguous) and as a column slice of a larger array."""
    lam = np.full((2, 3), -0.1)
    terms = ModalTerms(lam, np.zeros((2, 1, 1)), np.ones((2, 1, 1, 3)))
    grid = Grid(
        np.zeros(1, np.int64),
        np.full(1, 300, np.int64),
        np.zeros(1),
        1.0,
        np.ones(1),
        np.array([0, 150], np.int64),
    )
    # two band rows: a column slice of them is not contiguous (one row would be)
    for bands in (np.empty((2, 2)), np.empty((2, 4))[:, 1:3]):
        out = GridMetrics(np.empty((2, 1)), np.empty((2, 1), np.int64), np.empty((2, 1, 1)), bands)
        compiled_kernel(terms, grid, out)
