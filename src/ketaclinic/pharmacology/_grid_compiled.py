"""Grid metrics of many patients from their modal coefficients, compiled, without the grid.

Between input changes every output is ``const + sum_i coef_i exp(lam_i tau)`` and each term
is monotone in time, so over any stretch of the grid the output lies between the sums of
each term's smaller and larger end values. The kernel evaluates every ``BLOCK``-step block's
ends exactly (powers of ``exp(lam h)``, no exponential per point) and bounds its interior;
only blocks whose bound could beat the maximum or straddles a threshold are bounded again in
``SUB``-step blocks, and only those fine blocks are stepped through point by point. The
results are those of evaluating every grid point (Cmax, the first grid index of Cmax,
minutes above each threshold with linear interpolation, as :func:`minutes_above`, and the
values at the band times), which ``_vpop_grid.numpy_kernel`` does and the tests compare.

Compiled by Numba on first use and cached on disk; parallel over patients. This module is
imported only on the compiled path, so short runs never import Numba.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

numba: Any
prange: Any
try:  # this module is imported lazily: Numba's import cost stays out of short CLI runs
    import numba
    from numba import prange
except ImportError:  # pragma: no cover - Numba is a dependency
    numba = None
    prange = range

__all__ = ["numba_kernel"]

TINY = 1e-280  # terms below this are flushed to zero (changes results by < 1e-240)


BLOCK = 128  # grid steps per coarse block: exact ends and bounds, for every block
SUB = 16  # grid steps per fine block, bounded again inside the coarse blocks that need it
PATIENTS_PER_TASK = 256  # patients per parallel task (scratch arrays are allocated per task)


def _interval(prev: float, y: float, thr: float) -> float:
    """Fraction of a grid interval above ``thr`` with linear interpolation (as minutes_above)."""
    top = max(prev, y)
    bottom = min(prev, y)
    if bottom > thr:
        return 1.0
    if top > thr:
        return (top - thr) / (top - bottom)
    return 0.0


def _bounded(
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
    n_band = bands.shape[1]
    per = BLOCK // SUB
    cap = 1
    for g in range(g_count):
        if seg_hi[g] - seg_lo[g] > 1:
            cap += (seg_hi[g] - seg_lo[g] - 2) // BLOCK + 1
    for task in prange((n + PATIENTS_PER_TASK - 1) // PATIENTS_PER_TASK):
        fine = np.empty((SUB + 1, s_count))  # r^d, d = 0..SUB (r = exp(lam h))
        coarse = np.empty((per + 1, s_count))  # r^(SUB j), j = 0..BLOCK/SUB
        e0 = np.empty((g_count, s_count))
        ta = np.empty(s_count)
        ts = np.empty(s_count)
        blk_a = np.empty(cap, dtype=np.int64)
        blk_g = np.empty(cap, dtype=np.int64)
        blk_d = np.empty(cap, dtype=np.int64)
        blk_up = np.empty(cap)
        blk_low = np.empty(cap)
        blk_t = np.empty((cap, s_count))
        full = np.empty(m_count)
        mixed = np.empty(m_count, dtype=np.bool_)
        for p in range(task * PATIENTS_PER_TASK, min(n, (task + 1) * PATIENTS_PER_TASK)):
            for i in range(s_count):
                fine[0, i] = 1.0
                coarse[0, i] = 1.0
                fine[1, i] = np.exp(lam[p, i] * h)
            for d in range(2, SUB + 1):  # modes in the inner loop: independent chains
                for i in range(s_count):
                    v = fine[d - 1, i] * fine[1, i]
                    fine[d, i] = v if v > TINY else 0.0  # flush: subnormals cost ~100x
            for j in range(1, per + 1):
                for i in range(s_count):
                    v = coarse[j - 1, i] * fine[SUB, i]
                    coarse[j, i] = v if v > TINY else 0.0
            for g in range(g_count):
                for i in range(s_count):
                    tau = seg_lo[g] * h - seg_t0[g]  # 0 where a dose starts on the grid
                    v = np.exp(lam[p, i] * tau) if tau != 0.0 else 1.0
                    e0[g, i] = v if v > TINY else 0.0
            for k in range(k_count):
                best = -np.inf
                where = 0
                prev = 0.0
                nb = 0
                bi = 0
                for m in range(m_count):
                    full[m] = 0.0
                # pass 1: every coarse block's end exactly, and bounds on its interior
                for g in range(g_count):
                    lo = seg_lo[g]
                    hi = seg_hi[g]
                    if hi <= lo:
                        continue
                    cst = const[p, g, k]
                    y = cst
                    for i in range(s_count):
                        ta[i] = coef[p, g, k, i] * e0[g, i]
                        y += ta[i]
                    if lo > 0:  # the interval from the previous segment's last point
                        for m in range(m_count):
                            full[m] += _interval(prev, y, thresholds[m])
                    if y > best:
                        best = y
                        where = lo
                    if k == 0 and p < n_band:
                        while bi < b_count and band_idx[bi] == lo:
                            bands[bi, p] = y
                            bi += 1
                    a = lo
                    while a < hi - 1:
                        d = min(BLOCK, hi - 1 - a)
                        jd = d // SUB
                        rd = d - jd * SUB
                        if k == 0 and p < n_band:
                            while bi < b_count and band_idx[bi] <= a + d:
                                off = band_idx[bi] - a
                                jo = off // SUB
                                v = cst
                                for i in range(s_count):
                                    v += ta[i] * coarse[jo, i] * fine[off - jo * SUB, i]
                                bands[bi, p] = v
                                bi += 1
                        up = cst
                        low = cst
                        y = cst
                        for i in range(s_count):
                            ts[i] = ta[i]
                            tb = ta[i] * coarse[jd, i] * fine[rd, i]
                            if abs(tb) < TINY:
                                tb = 0.0
                            # each term is monotone in time: its extremes are at the ends
                            up += max(ta[i], tb)
                            low += min(ta[i], tb)
                            y += tb
                            ta[i] = tb
                        if y > best:
                            best = y
                            where = a + d
                        keep = up > best  # the final maximum is at least this best
                        for m in range(m_count):
                            if low > thresholds[m]:
                                full[m] += d  # every interval in the block is above
                            elif up > thresholds[m]:
                                keep = True  # a crossing: step through it in pass 2
                        if keep:
                            for i in range(s_count):
                                blk_t[nb, i] = ts[i]
                            blk_a[nb] = a
                            blk_g[nb] = g
                            blk_d[nb] = d
                            blk_up[nb] = up
                            blk_low[nb] = low
                            nb += 1
                        a += d
                    prev = y
                # pass 2: only the blocks kept (those that may hold the maximum or a crossing),
                # first by fine blocks' bounds, then step by step in fine blocks that need it
                for q in range(nb):
                    up = blk_up[q]
                    low = blk_low[q]
                    need_max = up > best + 1e-13 * abs(best)
                    need_thr = False
                    for m in range(m_count):
                        mixed[m] = low <= thresholds[m] < up
                        need_thr |= mixed[m]
                    if not (need_max or need_thr):
                        continue
                    a0 = blk_a[q]
                    d = blk_d[q]
                    cst = const[p, blk_g[q], k]
                    for j in range((d + SUB - 1) // SUB):
                        a = a0 + j * SUB
                        w = min(SUB, d - j * SUB)
                        y0 = cst
                        s_up = cst
                        s_low = cst
                        y1 = cst
                        for i in range(s_count):
                            t0 = blk_t[q, i] * coarse[j, i]
                            t1 = t0 * fine[w, i]
                            ts[i] = t0
                            y0 += t0
                            y1 += t1
                            s_up += max(t0, t1)
                            s_low += min(t0, t1)
                        if y1 > best or (y1 == best and a + w < where):
                            best = y1
                            where = a + w
                        step_max = need_max and s_up > best + 1e-13 * abs(best)
                        step_thr = False
                        for m in range(m_count):
                            if mixed[m]:
                                if s_low > thresholds[m]:
                                    full[m] += w
                                elif s_up > thresholds[m]:
                                    step_thr = True
                        if not (step_max or step_thr):
                            continue
                        y_prev = y0
                        for dd in range(1, w + 1):
                            y = cst
                            for i in range(s_count):
                                y += ts[i] * fine[dd, i]
                            if step_max and (y > best or (y == best and a + dd < where)):
                                best = y
                                where = a + dd
                            if step_thr:
                                for m in range(m_count):
                                    if mixed[m] and s_low <= thresholds[m] < s_up:
                                        full[m] += _interval(y_prev, y, thresholds[m])
                            y_prev = y
                cmax[p, k] = best
                imax[p, k] = where
                for m in range(m_count):
                    above[p, k, m] = full[m] * h


if numba is not None:  # the helper is inlined into the compiled kernel
    _interval = numba.njit(inline="always", cache=True)(_interval)

_COMPILED: Callable[..., None] | None = None


def numba_kernel() -> Callable[..., None] | None:
    """The compiled kernel (parallel over patients, cached on disk), or None without Numba."""
    global _COMPILED
    if _COMPILED is None and numba is not None:
        _COMPILED = numba.njit(parallel=True, cache=True, fastmath=False)(_bounded)
    return _COMPILED
