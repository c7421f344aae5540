"""Exact population metrics from modal coefficients, compiled, patient by patient.

The same steps as ``_extrema`` (which explains them), for one patient, output and segment at
a time: the turning points of ``y`` from the levels ``h_j`` of the exponential sum (every
root bracketed, found by safeguarded Newton steps), the maximum over the ends and turning
points, and each threshold's crossing inside the monotone pieces. One shortcut: where the
derivative's coefficients, ordered by rate, change sign at most once (Descartes' rule for
exponential sums: at most one root, the usual case), the levels are skipped and that root,
if any, is bracketed by the segment's ends. Then the first output's values at the band
times, the exponentials advanced by one multiplication where consecutive band times are
evenly spaced. ``_grid.numpy_kernel`` computes the same numbers vectorised and the tests
compare the two.

Compiled by Numba on first use (cached on disk: ``NUMBA_CACHE_DIR`` chooses where) and
parallel over patients. This module is imported only on the compiled path, so short runs
never import Numba; ``warm_up()`` compiles or loads it ahead of the first request.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from numba import prange

from ketaclinic.pharmacology._extrema import MAX_ITERATIONS, ROOT_TOLERANCE
from ketaclinic.pharmacology._grid import Metrics, ModalTerms, Window, band_segments

__all__ = ["PATIENTS_PER_TASK", "compiled_kernel", "warm_up"]

PATIENTS_PER_TASK = 256  # patients per parallel task (scratch arrays are allocated per task)
# The parallel loop only calls ``_task`` (compiled on its own): Numba (0.68) dropped the
# writes of helpers inlined into a parallel loop. Inside ``_task``, a plain loop, the helpers
# are inlined (a call passing arrays costs reference-count updates, more than the work).
_jit = numba.njit(inline="always", cache=True)


@_jit
def _exps(lam: Any, p: int, x: float, e: Any) -> None:
    for i in range(e.shape[0]):
        e[i] = math.exp(lam[p, i] * x) if x != 0.0 else 1.0


@_jit
def _top(lam: Any, p: int, w: Any, x: float) -> float:
    """``max lam_i x`` over the terms of ``w`` (0 when it has none): see ``_extrema._scaled``."""
    top = -math.inf
    for i in range(w.shape[0]):
        if w[i] != 0.0 and lam[p, i] * x > top:
            top = lam[p, i] * x
    return top if top > -math.inf else 0.0


@_jit
def _level(lam: Any, p: int, w: Any, x: float) -> float:
    """``w . exp(lam x)`` scaled by ``exp(-_top)``: the sign, never lost to underflow."""
    top = _top(lam, p, w, x)
    h = 0.0
    for i in range(w.shape[0]):
        if w[i] != 0.0:
            h += w[i] * math.exp(min(lam[p, i] * x - top, 700.0))
    return h


@_jit
def _sign_changes(lam: Any, p: int, w: Any, order: Any) -> int:
    """Sign changes of ``w`` taken in the order of the rates (zeros skipped): by Descartes'
    rule for exponential sums, at most that many roots (``order``: scratch for the sort)."""
    s = w.shape[0]
    for i in range(s):
        order[i] = i
    for i in range(1, s):  # insertion sort of a handful of rates
        j = i
        while j > 0 and lam[p, int(order[j - 1])] < lam[p, int(order[j])]:
            order[j - 1], order[j] = order[j], order[j - 1]
            j -= 1
    count = 0
    last = 0.0
    for t in range(s):
        v = w[int(order[t])]
        if v != 0.0:
            if last != 0.0 and (v > 0.0) != (last > 0.0):
                count += 1
            last = v
    return count


@_jit
def _root(
    lam: Any,
    p: int,
    wf: Any,
    off: float,
    wd: Any,
    lo: float,
    hi: float,
    f_lo: float,
    f_hi: float,
    e: Any,
) -> float:
    """The root in ``(lo, hi)`` of ``off + wf . exp(lam tau)``; Newton steps with the
    denominator ``wd . exp(lam tau)``, bisection when a step leaves the bracket."""
    x = lo - f_lo * (hi - lo) / (f_hi - f_lo)
    if not (lo < x < hi):
        x = 0.5 * (lo + hi)
    positive_low = f_lo > 0.0
    last_step = hi - lo
    for _ in range(MAX_ITERATIONS):
        top = _top(lam, p, wf, x) if off == 0.0 else 0.0  # scaled as _extrema._newton
        f = off
        d = 0.0
        for i in range(e.shape[0]):
            v = math.exp(min(lam[p, i] * x - top, 700.0))
            f += wf[i] * v
            d += wd[i] * v
        if f == 0.0:
            return x
        if (f > 0.0) == positive_low:
            lo = x
        else:
            hi = x
        xn = x - f / d if d != 0.0 else 0.5 * (lo + hi)
        if not (lo < xn < hi) or not abs(xn - x) <= 0.5 * last_step:  # as _extrema._newton
            xn = 0.5 * (lo + hi)
        last_step = abs(xn - x)
        tol = ROOT_TOLERANCE * max(1.0, abs(x))
        if abs(xn - x) <= tol or hi - lo <= tol:
            return xn
        x = xn
    return x


@_jit
def _turning_points(
    lam: Any, p: int, w: Any, u0: float, u1: float, pts: Any, ex: Any, pts2: Any, ex2: Any, e: Any
) -> int:
    """``pts[:count]`` = ``[u0, roots of y' or repeats, u1]`` with ``ex`` the exponentials
    at each; returns ``count`` (s + 1)."""
    s = lam.shape[1]
    pts[0] = u0
    pts[1] = u1
    _exps(lam, p, u0, e)
    ex[0, :] = e
    _exps(lam, p, u1, e)
    ex[1, :] = e
    count = 2
    for j in range(s - 2, -1, -1):
        pts2[0] = u0
        ex2[0, :] = ex[0, :]
        h_hi = _level(lam, p, w[j], pts[0])
        for b in range(count - 1):
            h_lo = h_hi
            h_hi = _level(lam, p, w[j], pts[b + 1])
            if h_lo * h_hi < 0.0:
                x = _root(lam, p, w[j], 0.0, w[j + 1], pts[b], pts[b + 1], h_lo, h_hi, e)
                pts2[b + 1] = x
                _exps(lam, p, x, e)
                ex2[b + 1, :] = e
            else:
                pts2[b + 1] = pts[b]
                ex2[b + 1, :] = ex[b, :]
        pts2[count] = u1
        ex2[count, :] = ex[count - 1, :]
        count += 1
        for b in range(count):
            pts[b] = pts2[b]
            ex[b, :] = ex2[b, :]
    return count


@_jit
def _segment(
    lam: Any,
    p: int,
    a: Any,
    c: float,
    u0: float,
    u1: float,
    thresholds: Any,
    scratch: Any,
    above: Any,
) -> tuple[float, float]:
    """One segment of one output: ``(maximum, its first tau)``; adds to ``above`` (min)."""
    w, pts, ex, pts2, ex2, e, y = scratch
    s = lam.shape[1]
    for i in range(s):
        w[0, i] = a[i] * lam[p, i]
    changes = _sign_changes(lam, p, w[0], e)
    if changes <= 1:  # Descartes: y' has at most this many roots (the usual cases)
        pts[0] = u0
        _exps(lam, p, u0, e)
        ex[0, :] = e
        count = 2
        if changes == 1:
            h_lo = _level(lam, p, w[0], u0)
            h_hi = _level(lam, p, w[0], u1)
            pts[1] = u0
            ex[1, :] = e
            if h_lo * h_hi < 0.0:  # the one turning point: Newton on y' itself
                for i in range(s):
                    w[1, i] = w[0, i] * lam[p, i]
                x = _root(lam, p, w[0], 0.0, w[1], u0, u1, h_lo, h_hi, e)
                pts[1] = x
                _exps(lam, p, x, e)
                ex[1, :] = e
            count = 3
        pts[count - 1] = u1
        _exps(lam, p, u1, e)
        ex[count - 1, :] = e
    else:
        for j in range(s - 1):
            for i in range(s):
                w[j + 1, i] = w[j, i] * (lam[p, i] - lam[p, j])
        count = _turning_points(lam, p, w, u0, u1, pts, ex, pts2, ex2, e)
    best = -math.inf
    where = u0
    for b in range(count):
        v = c
        for i in range(s):
            v += a[i] * ex[b, i]
        y[b] = v
        if v > best:
            best = v
            where = pts[b]
    for m in range(thresholds.shape[0]):
        thr = thresholds[m]
        total = 0.0
        for b in range(count - 1):
            ya = y[b]
            yb = y[b + 1]
            if ya >= thr and yb >= thr and (ya > thr or yb > thr):
                total += pts[b + 1] - pts[b]
            elif (ya - thr) * (yb - thr) < 0.0:
                x = _root(lam, p, a, c - thr, w[0], pts[b], pts[b + 1], ya - thr, yb - thr, e)
                total += x - pts[b] if ya > thr else pts[b + 1] - x
        above[m] += total
    return best, where


@_jit
def _bands(
    lam: Any, const: Any, coef: Any, p: int, window: Any, seg: Any, e: Any, r: Any, column: Any
) -> None:
    """The first output's values at the band times into ``column``; exponentials advanced by
    ``r`` while the band times keep their spacing inside a segment."""
    seg_t0, times = window.seg_t0, window.band_times
    s = lam.shape[1]
    prev_g = -1
    prev_t = 0.0
    prev_d = -1.0
    for b in range(times.shape[0]):
        g = seg[b]
        t = times[b]
        if g != prev_g:
            _exps(lam, p, t - seg_t0[g], e)
            prev_d = -1.0
        else:
            d = t - prev_t
            if abs(d - prev_d) > 1e-12 * max(1.0, d):
                _exps(lam, p, d, r)
                prev_d = d
            for i in range(s):
                e[i] *= r[i]
        v = const[p, g, 0]
        for i in range(s):
            v += coef[p, g, 0, i] * e[i]
        column[b] = v
        prev_g = g
        prev_t = t


@numba.njit(cache=True)
def _task(
    first: int,
    stop: int,
    lam: Any,
    const: Any,
    coef: Any,
    window: Any,
    seg: Any,
    cmax: Any,
    tmax: Any,
    above: Any,
    bands: Any,
) -> None:
    """Patients ``[first, stop)``: exact metrics of every output, then their bands."""
    seg_t0, t_end, thresholds = window.seg_t0, window.t_end, window.thresholds
    _, g_count, k_count, s = coef.shape
    n_band = bands.shape[1]
    scratch = (
        np.empty((s, s)),
        np.empty(s + 1),
        np.empty((s + 1, s)),
        np.empty(s + 1),
        np.empty((s + 1, s)),
        np.empty(s),
        np.empty(s + 1),
    )
    r = np.empty(s)
    sums = np.empty(thresholds.shape[0])
    # band values gathered per patient, written row by row (a column of ``bands`` strides
    # over the whole array: a cache miss per value)
    local = np.empty((stop - first, bands.shape[0]))
    for p in range(first, stop):
        for k in range(k_count):
            best = -math.inf
            where = 0.0
            sums[:] = 0.0
            for g in range(g_count):
                t0 = seg_t0[g]
                t1 = seg_t0[g + 1] if g + 1 < g_count else math.inf
                u1 = min(t1, t_end) - t0
                if u1 < 0.0:
                    break
                v, tau = _segment(
                    lam, p, coef[p, g, k], const[p, g, k], 0.0, u1, thresholds, scratch, sums
                )
                if v > best:
                    best = v
                    where = t0 + tau
            cmax[p, k] = best
            tmax[p, k] = where
            for m in range(thresholds.shape[0]):
                above[p, k, m] = sums[m]
        if p < n_band:
            _bands(lam, const, coef, p, window, seg, scratch[5], r, local[p - first])
    for b in range(bands.shape[0]):
        for p in range(first, min(stop, n_band)):
            bands[b, p] = local[p - first, b]


def _metrics(terms: Any, window: Any, seg: Any, out: Any) -> None:
    # Outputs unpacked before the parallel loop: Numba (0.68) drops writes made in it through
    # an outer tuple's field (``out.cmax[p] = x``).
    lam, const, coef = terms.lam, terms.const, terms.coef
    cmax, tmax, above, bands = out.cmax, out.tmax, out.above, out.bands
    n = coef.shape[0]
    for task in prange((n + PATIENTS_PER_TASK - 1) // PATIENTS_PER_TASK):
        first = task * PATIENTS_PER_TASK
        stop = min(n, first + PATIENTS_PER_TASK)
        _task(first, stop, lam, const, coef, window, seg, cmax, tmax, above, bands)


_KERNEL = numba.njit(parallel=True, cache=True, fastmath=False)(_metrics)


def compiled_kernel(terms: ModalTerms, window: Window, out: Metrics) -> None:
    """The compiled kernel (``_grid.numpy_kernel``'s contract), parallel over patients.

    Inputs are made C-contiguous, so that the kernel is compiled for one layout only
    (``bands`` may be a view into the population's arrays: it is written in place).
    """
    window = Window(
        np.ascontiguousarray(window.seg_t0, dtype=np.float64),
        float(window.t_end),
        np.ascontiguousarray(window.thresholds, dtype=np.float64),
        np.ascontiguousarray(window.band_times, dtype=np.float64),
    )
    seg = band_segments(window.seg_t0, window.band_times)
    _KERNEL(_contiguous(terms), window, seg, out)


def _contiguous(value: Any) -> Any:
    return type(value)(
        *(np.ascontiguousarray(v) if isinstance(v, np.ndarray) else v for v in value)
    )


def warm_up() -> None:
    """Compile (or load from the cache) the kernel for every layout the population uses:
    ``bands`` whole (C-contiguous) and as a column slice of a larger array."""
    lam = np.full((2, 3), -0.1)
    lam[:, 1] = -0.2
    lam[:, 2] = -0.3
    terms = ModalTerms(lam, np.zeros((2, 1, 1)), np.ones((2, 1, 1, 3)))
    window = Window(np.zeros(1), 300.0, np.ones(1), np.array([0.0, 150.0]))
    # two band rows: a column slice of them is not contiguous (one row would be)
    for bands in (np.empty((2, 2)), np.empty((2, 4))[:, 1:3]):
        out = Metrics(np.empty((2, 1)), np.empty((2, 1)), np.empty((2, 1, 1)), bands)
        compiled_kernel(terms, window, out)
