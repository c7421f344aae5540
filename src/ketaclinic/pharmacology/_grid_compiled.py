"""Exact population metrics from modal coefficients, compiled, patient by patient.

The same steps as ``_extrema`` (which explains them), for one patient, output and segment at
a time: the turning points of ``y`` from the levels ``h_j`` of the exponential sum (every
root bracketed, found by safeguarded Newton steps), the maximum over the ends and turning
points, and each threshold's crossing inside the monotone pieces. Two shortcuts, both by
Descartes' rule for exponential sums (roots of ``y'`` <= sign changes of its coefficients
ordered by rate): a segment whose derivative's coefficients all have one sign is monotone
(the maximum at an end, each threshold crossed at most once: after an infusion from rest,
and during one, in mammillary models, the usual case), and where they change sign once the
levels are skipped and the one root, if any, is bracketed by the segment's ends. Then the
first output's values at the band times, patients side by side, the exponentials advanced
by one multiplication where consecutive band times are evenly spaced.
``_grid.numpy_kernel`` computes the same numbers vectorised and the tests compare the two.

Compiled by Numba on first use (cached on disk: ``NUMBA_CACHE_DIR`` chooses where) and
parallel over patients. This module is imported only on the compiled path, so short runs
never import Numba; ``warm_up()`` compiles or loads it ahead of the first request.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numba
import numpy as np
from numba import prange

from ketaclinic.pharmacology._extrema import MAX_ITERATIONS, NOISE, ROOT_TOLERANCE
from ketaclinic.pharmacology._grid import Metrics, ModalTerms, Window, band_segments

__all__ = ["PATIENTS_PER_TASK", "compiled_kernel", "warm_up"]

# Numba's OpenMP workers spin after each parallel region (libgomp's default wait policy),
# taking a core from the threads that draw patients and sort bands between regions: about
# 30 ms of CPU in a W2 run of 10^5 patients on 2 cores. They sleep instead unless the user
# chose otherwise; libgomp reads it when Numba first starts its threads (at the first
# parallel call, after this import: ``_closed_form`` imports this module too).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

PATIENTS_PER_TASK = 256  # patients per parallel task (scratch arrays are allocated per task)
# The parallel loop only calls ``_task`` (compiled on its own): Numba (0.68) dropped the
# writes of helpers inlined into a parallel loop. Every array a helper takes, inlined or
# called, costs an atomic reference-count update on entry and exit that Numba's pruning
# leaves in place once the helper has loops (perf showed 40 % of the time in NRT_incref and
# NRT_decref): the monotone segment, nearly every segment, is therefore written out in
# ``_task`` itself, the bands are taken a task at a time and helpers serve the rare paths.
_jit = numba.njit(inline="always", cache=True)


@_jit
def _exp(x: float) -> float:
    """``math.exp(x)``, with the exact 0 below -746 taken without calling libm (the fastest
    mode at the end of a day: exp(-1400) underflows to 0 either way)."""
    return math.exp(x) if x > -746.0 else 0.0


@_jit
def _exps(lp: Any, x: float, ex: Any, b: int) -> None:
    """Row ``b`` of ``ex`` = ``exp(lp x)``: one patient's rates ``lp`` at ``x``."""
    for i in range(lp.shape[0]):
        ex[b, i] = _exp(lp[i] * x) if x != 0.0 else 1.0


@_jit
def _copy_row(src: Any, b: int, dst: Any, d: int) -> None:
    for i in range(src.shape[1]):
        dst[d, i] = src[b, i]


@_jit
def _top(lp: Any, w: Any, j: int, x: float) -> float:
    """``max lam_i x`` over the terms of ``w[j]`` (0 when it has none): ``_extrema._scaled``."""
    top = -math.inf
    for i in range(lp.shape[0]):
        if w[j, i] != 0.0 and lp[i] * x > top:
            top = lp[i] * x
    return top if top > -math.inf else 0.0


@_jit
def _level(lp: Any, w: Any, j: int, x: float) -> float:
    """``w[j] . exp(lam x)`` scaled by ``exp(-_top)``: the sign, never lost to underflow."""
    top = _top(lp, w, j, x)
    h = 0.0
    for i in range(lp.shape[0]):
        if w[j, i] != 0.0:
            h += w[j, i] * _exp(min(lp[i] * x - top, 700.0))
    return h


@_jit
def _sign_changes(lp: Any, w: Any, j: int, order: Any) -> int:
    """Sign changes of ``w[j]`` taken in the order of the rates (zeros skipped): by Descartes'
    rule for exponential sums, at most that many roots (``order``: scratch for the sort).
    Coefficients of one sign change sign nowhere, whatever the order: no sort then."""
    s = lp.shape[0]
    positive = False
    negative = False
    for i in range(s):
        positive = positive or w[j, i] > 0.0
        negative = negative or w[j, i] < 0.0
    if not (positive and negative):
        return 0
    for i in range(s):
        order[i] = i
    for i in range(1, s):  # insertion sort of a handful of rates
        k = i
        while k > 0 and lp[order[k - 1]] < lp[order[k]]:
            order[k - 1], order[k] = order[k], order[k - 1]
            k -= 1
    count = 0
    last = 0.0
    for t in range(s):
        v = w[j, order[t]]
        if v != 0.0:
            if last != 0.0 and (v > 0.0) != (last > 0.0):
                count += 1
            last = v
    return count


@_jit
def _root(
    lp: Any,
    w: Any,
    jf: int,
    off: float,
    jd: int,
    lo: float,
    hi: float,
    f_lo: float,
    f_hi: float,
) -> float:
    """The root in ``(lo, hi)`` of ``off + w[jf] . exp(lam tau)``; Newton steps with the
    denominator ``w[jd] . exp(lam tau)``, bisection when a step leaves the bracket."""
    x = lo - f_lo * (hi - lo) / (f_hi - f_lo)
    if not (lo < x < hi):
        x = 0.5 * (lo + hi)
    positive_low = f_lo > 0.0
    last_step = hi - lo
    for _ in range(MAX_ITERATIONS):
        top = _top(lp, w, jf, x) if off == 0.0 else 0.0  # scaled as _extrema._newton
        f = off
        d = 0.0
        for i in range(lp.shape[0]):
            v = _exp(min(lp[i] * x - top, 700.0))
            f += w[jf, i] * v
            d += w[jd, i] * v
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
    lp: Any, w: Any, u0: float, u1: float, pts: Any, ex: Any, pts2: Any, ex2: Any
) -> int:
    """``pts[:count]`` = ``[u0, roots of y' or repeats, u1]`` with ``ex`` the exponentials
    at each; returns ``count`` (s + 1). ``w[j + 1]`` holds the level ``h_j``."""
    s = lp.shape[0]
    pts[0] = u0
    pts[1] = u1
    _exps(lp, u0, ex, 0)
    _exps(lp, u1, ex, 1)
    count = 2
    for j in range(s - 2, -1, -1):
        pts2[0] = u0
        _copy_row(ex, 0, ex2, 0)
        h_hi = _level(lp, w, j + 1, pts[0])
        for b in range(count - 1):
            h_lo = h_hi
            h_hi = _level(lp, w, j + 1, pts[b + 1])
            if h_lo * h_hi < 0.0:
                x = _root(lp, w, j + 1, 0.0, j + 2, pts[b], pts[b + 1], h_lo, h_hi)
                pts2[b + 1] = x
                _exps(lp, x, ex2, b + 1)
            else:
                pts2[b + 1] = pts[b]
                _copy_row(ex, b, ex2, b + 1)
        pts2[count] = u1
        _copy_row(ex, count - 1, ex2, count)
        count += 1
        for b in range(count):
            pts[b] = pts2[b]
            _copy_row(ex2, b, ex, b)
    return count


@_jit
def _segment(
    lp: Any,
    w: Any,
    c: float,
    u1: float,
    thresholds: Any,
    above: Any,
    pts: Any,
    ex: Any,
    pts2: Any,
    ex2: Any,
    y: Any,
    order: Any,
) -> tuple[float, float]:
    """One segment ``[0, u1]`` of one output, ``y = c + w[0] . exp(lam tau)``: ``(maximum,
    its first tau)``; adds to ``above`` (min). ``w`` (s + 1, s): row 0 set by the caller, the
    derivative (row 1) and the levels (rows 2...) written here."""
    s = lp.shape[0]
    for i in range(s):
        w[1, i] = w[0, i] * lp[i]
    changes = _sign_changes(lp, w, 1, order)
    if changes <= 1:  # Descartes: y' has at most this many roots (the usual cases)
        pts[0] = 0.0
        _exps(lp, 0.0, ex, 0)
        count = 2
        if changes == 1:
            h_lo = _level(lp, w, 1, 0.0)
            h_hi = _level(lp, w, 1, u1)
            pts[1] = 0.0
            _copy_row(ex, 0, ex, 1)
            if h_lo * h_hi < 0.0:  # the one turning point: Newton on y' itself
                for i in range(s):
                    w[2, i] = w[1, i] * lp[i]
                x = _root(lp, w, 1, 0.0, 2, 0.0, u1, h_lo, h_hi)
                pts[1] = x
                _exps(lp, x, ex, 1)
            count = 3
        pts[count - 1] = u1
        _exps(lp, u1, ex, count - 1)
    else:
        for j in range(s - 1):
            for i in range(s):
                w[j + 2, i] = w[j + 1, i] * (lp[i] - lp[j])
        count = _turning_points(lp, w, 0.0, u1, pts, ex, pts2, ex2)
    best = -math.inf
    where = 0.0
    for b in range(count):
        v = c
        for i in range(s):
            v += w[0, i] * ex[b, i]
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
                x = _root(lp, w, 0, c - thr, 1, pts[b], pts[b + 1], ya - thr, yb - thr)
                total += x - pts[b] if ya > thr else pts[b + 1] - x
        above[m] += total
    return best, where


@_jit
def _bands(
    first: int,
    stop: int,
    lam: Any,
    const: Any,
    coef: Any,
    seg_t0: Any,
    times: Any,
    seg: Any,
    bands: Any,
) -> None:
    """The first output of patients ``[first, stop)`` at the band times, into ``bands[b,
    first:stop]``: patients side by side (the band times and their segments are everyone's),
    so each band time is one contiguous row. The exponentials are advanced by one factor per
    patient and mode while the band times keep their spacing inside a segment; coefficients
    with rounding noise dropped as for the metrics (the same arithmetic per patient)."""
    m = stop - first
    s = lam.shape[1]
    g_count = coef.shape[1]
    e = np.empty((s, m))
    r = np.empty((s, m))
    v = np.empty(m)
    cf = np.empty((g_count, s, m))
    for j in range(m):
        for g in range(g_count):
            top = 0.0
            for i in range(s):
                top = max(top, abs(coef[first + j, g, 0, i]))
            for i in range(s):
                c = coef[first + j, g, 0, i]
                cf[g, i, j] = 0.0 if abs(c) < NOISE * top else c
    prev_g = -1
    prev_t = 0.0
    prev_d = -1.0
    for b in range(times.shape[0]):
        g = seg[b]
        t = times[b]
        if g != prev_g:
            tau = t - seg_t0[g]
            for i in range(s):
                for j in range(m):
                    e[i, j] = _exp(lam[first + j, i] * tau) if tau != 0.0 else 1.0
            prev_d = -1.0
        else:
            d = t - prev_t
            if abs(d - prev_d) > 1e-12 * max(1.0, d):
                for i in range(s):
                    for j in range(m):
                        r[i, j] = _exp(lam[first + j, i] * d) if d != 0.0 else 1.0
                prev_d = d
            for i in range(s):
                for j in range(m):
                    e[i, j] *= r[i, j]
        for j in range(m):
            v[j] = const[first + j, g, 0]
        for i in range(s):
            for j in range(m):
                v[j] += cf[g, i, j] * e[i, j]
        for j in range(m):
            bands[b, first + j] = v[j]
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
    """Patients ``[first, stop)``: exact metrics of every output, then their bands.

    Scratch is allocated once per task and helpers index whole arrays (no slices in the
    patient loop: each view costs reference-count updates, more than a segment's work)."""
    seg_t0, t_end, thresholds = window.seg_t0, window.t_end, window.thresholds
    times = window.band_times
    _, g_count, k_count, s = coef.shape
    n_band = bands.shape[1]
    pts = np.empty(s + 1)  # segment ends and turning points
    ex = np.empty((s + 1, s))  # exponentials at each point
    pts2 = np.empty(s + 1)
    ex2 = np.empty((s + 1, s))
    y = np.empty(s + 1)  # values at each point
    order = np.empty(s, dtype=np.int64)  # sort order of the rates
    lp = np.empty(s)  # the patient's rates
    a = np.empty((g_count, k_count, s))  # the patient's coefficients, rounding noise dropped
    w = np.empty((s + 1, s))  # a segment's coefficients, derivative and levels
    sums = np.empty(thresholds.shape[0])
    for p in range(first, stop):
        for i in range(s):
            lp[i] = lam[p, i]
        for g in range(g_count):  # rounding noise dropped as _extrema.drop_rounding_noise
            for k in range(k_count):
                top = 0.0
                for i in range(s):
                    top = max(top, abs(coef[p, g, k, i]))
                for i in range(s):
                    v = coef[p, g, k, i]
                    a[g, k, i] = 0.0 if abs(v) < NOISE * top else v
        for k in range(k_count):
            best = -math.inf
            where = 0.0
            for m in range(thresholds.shape[0]):
                sums[m] = 0.0
            for g in range(g_count):
                t0 = seg_t0[g]
                t1 = seg_t0[g + 1] if g + 1 < g_count else math.inf
                u1 = min(t1, t_end) - t0
                if u1 < 0.0:
                    break
                c = const[p, g, k]
                positive = False
                negative = False
                for i in range(s):
                    positive = positive or a[g, k, i] * lp[i] > 0.0
                    negative = negative or a[g, k, i] * lp[i] < 0.0
                if positive and negative:  # y' may change sign: levels and turning points
                    for i in range(s):
                        w[0, i] = a[g, k, i]
                    v, tau = _segment(lp, w, c, u1, thresholds, sums, pts, ex, pts2, ex2, y, order)
                else:  # monotone (no sign change: Descartes), inline: no helper's refcounts
                    ya = c
                    yb = c
                    for i in range(s):
                        ya += a[g, k, i]
                        yb += a[g, k, i] * (_exp(lp[i] * u1) if u1 != 0.0 else 1.0)
                    v = -math.inf
                    tau = 0.0
                    if ya > v:
                        v = ya
                    if yb > v:
                        v = yb
                        tau = u1
                    for m in range(thresholds.shape[0]):
                        thr = thresholds[m]
                        if ya >= thr and yb >= thr and (ya > thr or yb > thr):
                            sums[m] += u1
                        elif (ya - thr) * (yb - thr) < 0.0:
                            for i in range(s):
                                w[0, i] = a[g, k, i]
                                w[1, i] = a[g, k, i] * lp[i]
                            x = _root(lp, w, 0, c - thr, 1, 0.0, u1, ya - thr, yb - thr)
                            sums[m] += x if ya > thr else u1 - x
                if v > best:
                    best = v
                    where = t0 + tau
            cmax[p, k] = best
            tmax[p, k] = where
            for m in range(thresholds.shape[0]):
                above[p, k, m] = sums[m]
    if first < n_band:
        _bands(first, min(stop, n_band), lam, const, coef, seg_t0, times, seg, bands)


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


_KERNEL = numba.njit(parallel=True, cache=True, fastmath=False, nogil=True)(_metrics)


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
