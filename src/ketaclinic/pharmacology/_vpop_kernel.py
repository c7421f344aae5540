"""Grid metrics of many patients from their modal coefficients, without storing the grid.

Between input changes every output is ``const + sum_i coef_i exp(lam_i tau)``. On a uniform
grid ``exp(lam_i (tau + h)) = exp(lam_i tau) exp(lam_i h)``, so each step costs a few
multiply-adds per mode; the exponentials are recomputed every ``REANCHOR`` steps so rounding
cannot build up. The kernel streams Cmax, the grid index of Cmax, minutes above each threshold
(linear interpolation, as :func:`minutes_above`) and the values at a few band times.

Two implementations of the same arithmetic: a Numba one (compiled once and cached on disk,
parallel over patients) and a NumPy one (vectorised over patients, a Python loop over time)
for small runs and machines without Numba.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

numba: Any
prange: Any
try:  # this module is imported lazily: Numba's import cost stays out of short CLI runs
    import numba
    from numba import prange
except ImportError:  # pragma: no cover - Numba is a dependency
    numba = None
    prange = range

__all__ = ["REANCHOR", "numba_kernel", "numpy_kernel"]

REANCHOR = 1024
TINY = 1e-280  # terms below this are flushed to zero (changes results by < 1e-240)
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


TILE = 64  # patients advanced together: branch-free loops over a tile become SIMD code


def _stream(
    lam: Any,
    const: Any,
    coef: Any,
    seg_lo: Any,
    seg_hi: Any,
    seg_t0: Any,
    h: float,
    thresholds: Any,
    band_idx: Any,
    cmax: Any,
    imax: Any,
    above: Any,
    bands: Any,
) -> None:
    n, g_count, k_count, s_count = coef.shape
    m_count = thresholds.shape[0]
    b_count = band_idx.shape[0]
    for tile in prange((n + TILE - 1) // TILE):
        p0 = tile * TILE
        w = min(TILE, n - p0)
        e = np.zeros((s_count, TILE))
        r = np.zeros((s_count, TILE))
        c = np.zeros((s_count, TILE))
        cst = np.zeros(TILE)
        y = np.zeros(TILE)
        prev = np.zeros(TILE)
        best = np.zeros(TILE)
        where = np.zeros(TILE, dtype=np.int64)
        full = np.zeros((m_count, TILE))
        part = np.zeros((m_count, TILE))
        cross = np.zeros(TILE, dtype=np.bool_)
        for k in range(k_count):
            for q in range(w):
                best[q] = -np.inf
                where[q] = 0
                prev[q] = 0.0
            for m in range(m_count):
                for q in range(w):
                    full[m, q] = 0.0
                    part[m, q] = 0.0
            bi = 0
            for g in range(g_count):
                lo = seg_lo[g]
                hi = seg_hi[g]
                if hi <= lo:
                    continue
                j = lo
                while j < hi:
                    # exponentials afresh every REANCHOR steps: rounding cannot build up
                    tau = j * h - seg_t0[g]
                    for i in range(s_count):
                        for q in range(w):
                            li = lam[p0 + q, i]
                            v = np.exp(li * tau)
                            e[i, q] = v if v > TINY else 0.0
                            r[i, q] = np.exp(li * h)
                            c[i, q] = coef[p0 + q, g, k, i]
                    for q in range(w):
                        cst[q] = const[p0 + q, g, k]
                    stop = min(j + REANCHOR, hi)
                    while j < stop:
                        for q in range(w):
                            y[q] = cst[q]
                        for i in range(s_count):
                            for q in range(w):
                                y[q] += c[i, q] * e[i, q]
                                v = e[i, q] * r[i, q]
                                # flush to zero: subnormals cost ~100x per operation
                                e[i, q] = v if v > TINY else 0.0
                        for q in range(w):
                            better = y[q] > best[q]
                            best[q] = y[q] if better else best[q]
                            where[q] = j if better else where[q]
                        if j > 0:
                            for m in range(m_count):
                                thr = thresholds[m]
                                any_cross = False
                                for q in range(w):
                                    top = max(prev[q], y[q])
                                    bottom = min(prev[q], y[q])
                                    full[m, q] += 1.0 if bottom > thr else 0.0
                                    cx = (top > thr) and (bottom <= thr)
                                    cross[q] = cx
                                    any_cross |= cx
                                if any_cross:  # rare: divide only where a crossing is
                                    for q in range(w):
                                        if cross[q]:
                                            top = max(prev[q], y[q])
                                            bottom = min(prev[q], y[q])
                                            part[m, q] += (top - thr) / (top - bottom)
                        if k == 0:
                            while bi < b_count and band_idx[bi] == j:
                                for q in range(min(w, bands.shape[0] - p0)):
                                    bands[p0 + q, bi] = y[q]
                                bi += 1
                        for q in range(w):
                            prev[q] = y[q]
                        j += 1
            for q in range(w):
                cmax[p0 + q, k] = best[q]
                imax[p0 + q, k] = where[q]
                for m in range(m_count):
                    above[p0 + q, k, m] = (full[m, q] + part[m, q]) * h


_COMPILED: Callable[..., None] | None = None


def numba_kernel() -> Callable[..., None] | None:
    """The compiled kernel (parallel over patients, cached on disk), or None without Numba."""
    global _COMPILED
    if _COMPILED is None and numba is not None:
        _COMPILED = numba.njit(parallel=True, cache=True, fastmath=False)(_stream)
    return _COMPILED


def numpy_kernel(
    lam: FloatArray,
    const: FloatArray,
    coef: FloatArray,
    seg_lo: IntArray,
    seg_hi: IntArray,
    seg_t0: FloatArray,
    h: float,
    thresholds: FloatArray,
    band_idx: IntArray,
    cmax: FloatArray,
    imax: IntArray,
    above: FloatArray,
    bands: FloatArray,
) -> None:
    """The same stream, vectorised over patients (for small runs)."""
    n, g_count, k_count, s_count = coef.shape
    band_pos = {int(j): b for b, j in enumerate(band_idx)}
    for k in range(k_count):
        best = np.full(n, -np.inf)
        ibest = np.zeros(n, dtype=np.int64)
        prev = np.zeros(n)
        above[:, k, :] = 0.0
        for g in range(g_count):
            lo, hi = int(seg_lo[g]), int(seg_hi[g])
            if hi <= lo:
                continue
            rate = np.exp(lam * h)
            j = lo
            while j < hi:
                term = coef[:, g, k, :] * np.exp(lam * (j * h - seg_t0[g]))
                term[np.abs(term) <= TINY] = 0.0
                stop = min(j + REANCHOR, hi)
                while j < stop:
                    y = const[:, g, k].copy()
                    for i in range(s_count):
                        y += term[:, i]
                    term *= rate
                    term[np.abs(term) <= TINY] = 0.0
                    better = y > best
                    best = np.where(better, y, best)
                    ibest = np.where(better, j, ibest)
                    if j > 0:
                        top, bottom = np.maximum(prev, y), np.minimum(prev, y)
                        span = top - bottom
                        for m, thr in enumerate(thresholds):
                            with np.errstate(divide="ignore", invalid="ignore"):
                                frac = np.where(
                                    span > 0, np.clip((top - thr) / span, 0.0, 1.0), top > thr
                                )
                            above[:, k, m] += frac * h
                    if k == 0 and j in band_pos:
                        bands[:, band_pos[j]] = y[: bands.shape[0]]
                    prev = y
                    j += 1
        cmax[:, k] = best
        imax[:, k] = ibest
