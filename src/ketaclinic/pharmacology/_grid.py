"""Grid metrics of a small population by evaluating the grid directly (the NumPy path).

Between input changes every output is ``const + sum_i coef_i exp(lam_i tau)``: this module
evaluates it at every grid point, a block of patients at a time (memory stays below
``POINTS_PER_BLOCK`` grid values per output), and takes the maximum and the minutes above
each threshold with the same functions as the single-patient ``simulate``. It is the path
for short runs (no Numba import or load) and the reference the compiled kernel is tested
against. It has the compiled kernel's signature.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ketaclinic.pharmacology._metrics import minutes_above

__all__ = ["numpy_kernel"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
POINTS_PER_BLOCK = 500_000  # grid values per output held at once (4 MB)


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
    """Cmax, its grid index (the first, as ``np.argmax``), minutes above each threshold and
    the values at ``band_idx`` of the first ``bands.shape[1]`` patients; outputs in place."""
    n, g_count, k_count, _ = coef.shape
    t_count = int(seg_hi[-1])
    times = np.arange(t_count, dtype=np.float64) * float(h)
    n_band = bands.shape[1]
    rows = max(1, POINTS_PER_BLOCK // max(t_count, 1))
    for p0 in range(0, n, rows):
        p1 = min(n, p0 + rows)
        grid = np.empty((p1 - p0, k_count, t_count))
        for g in range(g_count):
            lo, hi = int(seg_lo[g]), int(seg_hi[g])
            if hi <= lo:
                continue
            tau = times[lo:hi] - seg_t0[g]
            with np.errstate(under="ignore"):
                e = np.exp(lam[p0:p1, :, None] * tau[None, None, :])  # (rows, s, t)
            for k in range(k_count):  # a few modes: explicit sums beat tiny batched matmuls
                out = grid[:, k, lo:hi]
                out[...] = const[p0:p1, g, k, None]
                for i in range(e.shape[1]):
                    out += coef[p0:p1, g, k, i, None] * e[:, i]
        cmax[p0:p1] = grid.max(axis=2)
        imax[p0:p1] = grid.argmax(axis=2)
        for m, thr in enumerate(thresholds):
            above[p0:p1, :, m] = minutes_above(times, grid, float(thr))
        if p0 < n_band:
            bands[:, p0 : min(p1, n_band)] = grid[: min(p1, n_band) - p0, 0, band_idx].T
