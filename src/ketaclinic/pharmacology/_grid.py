"""Population metrics from modal coefficients: the shared inputs, and the NumPy path.

Between input changes every output is ``const + sum_i coef_i exp(lam_i tau)`` (``ModalTerms``).
The kernels take from them, for every patient and output, the exact Cmax over the window, its
first time and the time above each threshold (``_extrema``: ends of each segment and the
turning points inside it, whatever the output grid), and the values at the band times of the
first ``bands.shape[1]`` patients (``Metrics``). Both drop rounding noise from the
coefficients first (``_extrema.drop_rounding_noise``). :func:`numpy_kernel` is the path for short
runs (no Numba import or load) and the reference the compiled kernel (``_grid_compiled``) is
tested against; both take the same three arguments.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ketaclinic.pharmacology._extrema import drop_rounding_noise, exact_metrics

__all__ = ["Metrics", "ModalTerms", "Window", "band_segments", "numpy_kernel"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_BAND_ROWS = 4096  # band patients evaluated at once


class ModalTerms(NamedTuple):
    """Every output of every patient as sums of exponentials, segment by segment."""

    lam: FloatArray  # (n, s) rate of each mode, 1/min (negative)
    const: FloatArray  # (n, g, k) constant of each output in each segment, ng/mL
    coef: FloatArray  # (n, g, k, s) coefficient of each mode, ng/mL


class Window(NamedTuple):
    """The input segments, the metrics window ``[0, t_end]``, thresholds and band times."""

    seg_t0: FloatArray  # (g,) segment starts, min (the first is 0)
    t_end: float  # min: the metrics (and the AUC) cover [0, t_end]
    thresholds: FloatArray  # (m,) ng/mL
    band_times: FloatArray  # (b,) sorted, min


class Metrics(NamedTuple):
    """What the kernels write, for the first ``bands.shape[1]`` patients' bands."""

    cmax: FloatArray  # (n, k) ng/mL
    tmax: FloatArray  # (n, k) min: the first time of cmax
    above: FloatArray  # (n, k, m) min
    bands: FloatArray  # (b, patients with bands) ng/mL


def band_segments(seg_t0: FloatArray, band_times: FloatArray) -> IntArray:
    """The segment of each band time (a time at a segment start belongs to that segment)."""
    found = np.searchsorted(seg_t0, band_times, side="right") - 1
    return np.maximum(found, 0).astype(np.int64)


def numpy_kernel(terms: ModalTerms, window: Window, out: Metrics) -> None:
    """Exact Cmax, Tmax and minutes above each threshold, and the first output's values at
    the band times of the first ``bands.shape[1]`` patients; outputs in place. Terms below
    ``_extrema.NOISE`` x their sum's largest are dropped first (``drop_rounding_noise``)."""
    lam, const, coef = terms
    coef = drop_rounding_noise(coef)
    found = exact_metrics(lam, const, coef, window.seg_t0, window.t_end, window.thresholds)
    out.cmax[...], out.tmax[...], out.above[...] = found
    n_band = out.bands.shape[1]
    if not n_band or not window.band_times.size:
        return
    seg = band_segments(window.seg_t0, window.band_times)
    tau = window.band_times - window.seg_t0[seg]  # (b,)
    for p0 in range(0, n_band, _BAND_ROWS):
        p1 = min(n_band, p0 + _BAND_ROWS)
        with np.errstate(under="ignore"):
            e = np.exp(lam[p0:p1, None, :] * tau[None, :, None])  # (rows, b, s)
        values = const[p0:p1, seg, 0] + np.einsum("rbs,rbs->rb", coef[p0:p1, seg, 0], e)
        out.bands[:, p0:p1] = values.T
