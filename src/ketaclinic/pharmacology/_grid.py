"""Grid metrics from modal coefficients: the shared inputs, and the NumPy path.

Between input changes every output is ``const + sum_i coef_i exp(lam_i tau)`` (``ModalTerms``).
The kernels take the metrics on a uniform grid (``Grid``) into ``GridMetrics``: Cmax, its
first grid index, minutes above each threshold (linear interpolation, as
:func:`minutes_above`) and the values at the band times. :func:`numpy_kernel` evaluates every
grid point, a block of patients at a time (memory stays below ``POINTS_PER_BLOCK`` grid values
per output), with the same functions as the single-patient ``simulate``. It is the path for
short runs (no Numba import or load) and the reference the compiled kernel
(``_grid_compiled``) is tested against; both take the same three arguments.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ketaclinic.pharmacology._metrics import minutes_above

__all__ = ["Grid", "GridMetrics", "ModalTerms", "numpy_kernel"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
POINTS_PER_BLOCK = 500_000  # grid values per output held at once (4 MB)


class ModalTerms(NamedTuple):
    """Every output of every patient as sums of exponentials, segment by segment."""

    lam: FloatArray  # (n, s) rate of each mode, 1/min (negative)
    const: FloatArray  # (n, g, k) constant of each output in each segment, ng/mL
    coef: FloatArray  # (n, g, k, s) coefficient of each mode, ng/mL


class Grid(NamedTuple):
    """The uniform output grid, its input segments, thresholds and band times."""

    seg_lo: IntArray  # (g,) first grid index at or after each segment's start
    seg_hi: IntArray  # (g,) one past the segment's last grid index
    seg_t0: FloatArray  # (g,) segment start, min
    step_min: float
    thresholds: FloatArray  # (m,) ng/mL
    band_idx: IntArray  # (b,) sorted grid indices of the band times


class GridMetrics(NamedTuple):
    """What the kernels write, for the first ``bands.shape[1]`` patients' bands."""

    cmax: FloatArray  # (n, k) ng/mL
    imax: IntArray  # (n, k) first grid index of cmax
    above: FloatArray  # (n, k, m) min
    bands: FloatArray  # (b, patients with bands) ng/mL


def numpy_kernel(terms: ModalTerms, grid: Grid, out: GridMetrics) -> None:
    """Cmax, its grid index (the first, as ``np.argmax``), minutes above each threshold and
    the values at ``band_idx`` of the first ``bands.shape[1]`` patients; outputs in place."""
    lam, const, coef = terms
    seg_lo, seg_hi, seg_t0, h, thresholds, band_idx = grid
    cmax, imax, above, bands = out
    n, g_count, k_count, _ = coef.shape
    t_count = int(seg_hi[-1])
    times = np.arange(t_count, dtype=np.float64) * float(h)
    n_band = bands.shape[1]
    rows = max(1, POINTS_PER_BLOCK // max(t_count, 1))
    for p0 in range(0, n, rows):
        p1 = min(n, p0 + rows)
        values = np.empty((p1 - p0, k_count, t_count))
        for g in range(g_count):
            lo, hi = int(seg_lo[g]), int(seg_hi[g])
            if hi <= lo:
                continue
            tau = times[lo:hi] - seg_t0[g]
            with np.errstate(under="ignore"):
                e = np.exp(lam[p0:p1, :, None] * tau[None, None, :])  # (rows, s, t)
            for k in range(k_count):  # a few modes: explicit sums beat tiny batched matmuls
                part = values[:, k, lo:hi]
                part[...] = const[p0:p1, g, k, None]
                for i in range(e.shape[1]):
                    part += coef[p0:p1, g, k, i, None] * e[:, i]
        cmax[p0:p1] = values.max(axis=2)
        imax[p0:p1] = values.argmax(axis=2)
        for m, thr in enumerate(thresholds):
            above[p0:p1, :, m] = minutes_above(times, values, float(thr))
        if p0 < n_band:
            bands[:, p0 : min(p1, n_band)] = values[: min(p1, n_band) - p0, 0, band_idx].T
