"""The compiled grid-metrics kernel (bounds per block, steps only where needed) against the
NumPy kernel (every grid point), on random sums of exponentials: rising, falling and
non-monotone curves, several segments, several thresholds, plateaus and fast modes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.pharmacology._grid import Grid, GridMetrics, ModalTerms, numpy_kernel
from ketaclinic.pharmacology._grid_compiled import compiled_kernel


def _run(kernel, lam, const, coef, seg_lo, seg_hi, seg_t0, h, thresholds, band_idx, n_band, view):  # type: ignore[no-untyped-def]
    """The kernel's outputs; with ``view`` the bands are a column slice of a larger array,
    as when a chunk writes into the whole population's bands."""
    n, _, k_count, _ = coef.shape
    b_count = band_idx.size
    bands = np.empty((b_count, n_band + 2))[:, 1:-1] if view else np.empty((b_count, n_band))
    out = GridMetrics(
        np.empty((n, k_count)),
        np.empty((n, k_count), dtype=np.int64),
        np.empty((n, k_count, thresholds.size)),
        bands,
    )
    kernel(ModalTerms(lam, const, coef), Grid(seg_lo, seg_hi, seg_t0, h, thresholds, band_idx), out)
    return out


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    t_count=st.integers(1, 700),
    g_count=st.integers(1, 4),
    s_count=st.integers(1, 4),
    k_count=st.integers(1, 3),
    h=st.sampled_from([0.5, 1.0, 5.0]),
    fast=st.booleans(),
    m_count=st.integers(0, 3),
    view=st.booleans(),
)
def test_compiled_kernel_equals_the_streaming_kernel(
    seed: int,
    t_count: int,
    g_count: int,
    s_count: int,
    k_count: int,
    h: float,
    fast: bool,
    m_count: int,
    view: bool,
) -> None:
    rng = np.random.default_rng(seed)
    n = 37
    rates = rng.uniform(0.001, 3.0 if fast else 0.3, (n, s_count))
    lam = -np.sort(rates, axis=1)[:, ::-1].copy()
    coef = rng.normal(0.0, 100.0, (n, g_count, k_count, s_count))
    coef[rng.random(coef.shape) < 0.2] = 0.0  # flat stretches and plateaus too
    const = rng.uniform(0.0, 150.0, (n, g_count, k_count))
    cuts = np.sort(rng.choice(np.arange(1, max(2, t_count)), size=g_count - 1))
    seg_lo = np.concatenate([[0], cuts]).astype(np.int64)
    seg_hi = np.append(seg_lo[1:], t_count).astype(np.int64)
    seg_t0 = seg_lo * h - rng.uniform(0.0, h, g_count) * (seg_lo > 0)
    thresholds = np.sort(rng.uniform(1.0, 250.0, m_count))
    band_idx = np.unique(rng.integers(0, t_count, 9)).astype(np.int64)
    args = (lam, const, coef, seg_lo, seg_hi, seg_t0, h, thresholds, band_idx, 20, view)
    fast_out = _run(compiled_kernel, *args)
    slow_out = _run(numpy_kernel, *args)
    np.testing.assert_allclose(fast_out[0], slow_out[0], rtol=1e-11, atol=1e-9)
    # the grid itself, point by point, as the oracle for the index of the maximum
    j = np.arange(t_count)
    g_of = np.searchsorted(seg_lo, j, side="right") - 1
    tau = j * h - seg_t0[g_of]
    grid = const[:, g_of, :] + np.einsum(
        "njks,njs->nkj", coef[:, g_of], np.exp(lam[:, None, :] * tau[None, :, None])
    ).transpose(0, 2, 1)  # (n, t, k)
    picked = np.take_along_axis(grid, fast_out[1][:, None, :], axis=1)[:, 0, :]
    np.testing.assert_allclose(picked, grid.max(axis=1), rtol=1e-11, atol=1e-9)
    first = fast_out[1] <= slow_out[1]  # the first of tied points, up to rounding
    assert np.all(first | np.isclose(picked, slow_out[0], rtol=1e-12))
    np.testing.assert_allclose(fast_out[2], slow_out[2], atol=1e-6 * h)
    np.testing.assert_allclose(fast_out[3], slow_out[3], rtol=1e-11, atol=1e-9)
