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

REANCHOR = 64
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


LANES = 8  # patients advanced together, so the compiler can use SIMD across patients


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
    groups = (n + LANES - 1) // LANES
    for grp in prange(groups):
        p0 = grp * LANES
        width = min(LANES, n - p0)
        rate = np.ones((s_count, LANES))
        term = np.zeros((s_count, LANES))
        y = np.zeros(LANES)
        prev = np.zeros(LANES)
        best = np.empty(LANES)
        ibest = np.zeros(LANES, dtype=np.int64)
        acc = np.zeros((m_count, LANES))
        cst = np.zeros(LANES)
        for k in range(k_count):
            best[:] = -np.inf
            ibest[:] = 0
            acc[:, :] = 0.0
            prev[:] = 0.0
            bi = 0
            for g in range(g_count):
                lo = seg_lo[g]
                hi = seg_hi[g]
                if hi <= lo:
                    continue
                for q in range(width):
                    cst[q] = const[p0 + q, g, k]
                    for i in range(s_count):
                        rate[i, q] = np.exp(lam[p0 + q, i] * h)
                j = lo
                while j < hi:
                    tau = j * h - seg_t0[g]
                    for q in range(width):
                        for i in range(s_count):
                            term[i, q] = coef[p0 + q, g, k, i] * np.exp(lam[p0 + q, i] * tau)
                    stop = min(j + REANCHOR, hi)
                    while j < stop:
                        for q in range(LANES):
                            y[q] = cst[q]
                        for i in range(s_count):
                            for q in range(LANES):
                                y[q] += term[i, q]
                                term[i, q] *= rate[i, q]
                        for q in range(LANES):
                            if y[q] > best[q]:
                                best[q] = y[q]
                                ibest[q] = j
                        if j > 0:
                            for m in range(m_count):
                                thr = thresholds[m]
                                for q in range(LANES):
                                    top = max(prev[q], y[q])
                                    bottom = min(prev[q], y[q])
                                    span = top - bottom
                                    frac = (top - thr) / (span if span > 0.0 else 1.0)
                                    frac = min(max(frac, 0.0), 1.0)
                                    if bottom > thr:
                                        frac = 1.0
                                    elif top <= thr:
                                        frac = 0.0
                                    acc[m, q] += frac * h
                        if k == 0:
                            while bi < b_count and band_idx[bi] == j:
                                for q in range(width):
                                    bands[p0 + q, bi] = y[q]
                                bi += 1
                        for q in range(LANES):
                            prev[q] = y[q]
                        j += 1
            for q in range(width):
                cmax[p0 + q, k] = best[q]
                imax[p0 + q, k] = ibest[q]
                for m in range(m_count):
                    above[p0 + q, k, m] = acc[m, q]


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
                stop = min(j + REANCHOR, hi)
                while j < stop:
                    y = const[:, g, k].copy()
                    for i in range(s_count):
                        y += term[:, i]
                    term *= rate
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
                        bands[:, band_pos[j]] = y
                    prev = y
                    j += 1
        cmax[:, k] = best
        imax[:, k] = ibest
