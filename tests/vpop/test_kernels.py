"""The compiled metrics kernel against the NumPy kernel, and both against a dense grid, on
random sums of exponentials: rising, falling and non-monotone curves, several segments,
several thresholds, plateaus and fast modes. Both are exact (turning points and crossings
found by root finding), so they agree to rounding, and a dense grid can only come close
from below."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.pharmacology._grid import Metrics, ModalTerms, Window, numpy_kernel
from ketaclinic.pharmacology._grid_compiled import compiled_kernel


def _run(kernel, terms, window, n_band, view):  # type: ignore[no-untyped-def]
    """The kernel's outputs; with ``view`` the bands are a column slice of a larger array,
    as when a chunk writes into the whole population's bands."""
    n, _, k_count, _ = terms.coef.shape
    b_count = window.band_times.size
    bands = np.empty((b_count, n_band + 2))[:, 1:-1] if view else np.empty((b_count, n_band))
    out = Metrics(
        np.empty((n, k_count)),
        np.empty((n, k_count)),
        np.empty((n, k_count, window.thresholds.size)),
        bands,
    )
    kernel(terms, window, out)
    return out


def _dense(terms, window, points):  # type: ignore[no-untyped-def]
    """Each segment on its own closed interval (both sides of every boundary)."""
    lam, const, coef = terms
    seg_t0, t_end = window.seg_t0, window.t_end
    grid = np.linspace(0.0, t_end, points)
    parts = []
    for g, t0 in enumerate(seg_t0):
        if t0 > t_end:
            break
        t1 = min(seg_t0[g + 1], t_end) if g + 1 < seg_t0.size else t_end
        t = np.concatenate([[t0], grid[(grid > t0) & (grid < t1)], [t1]])
        e = np.exp(lam[:, None, :] * (t - t0)[None, :, None])
        parts.append((t, const[:, g, :, None] + np.einsum("nks,nts->nkt", coef[:, g], e)))
    return parts


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    g_count=st.integers(1, 4),
    s_count=st.integers(1, 5),
    k_count=st.integers(1, 3),
    fast=st.booleans(),
    m_count=st.integers(0, 3),
    view=st.booleans(),
    t_end=st.sampled_from([30.0, 300.0, 1440.0]),
)
def test_compiled_kernel_equals_the_numpy_kernel_and_bounds_a_dense_grid(
    seed: int,
    g_count: int,
    s_count: int,
    k_count: int,
    fast: bool,
    m_count: int,
    view: bool,
    t_end: float,
) -> None:
    rng = np.random.default_rng(seed)
    n = 37
    rates = rng.uniform(0.001, 3.0 if fast else 0.3, (n, s_count))
    lam = -np.sort(rates, axis=1)[:, ::-1].copy()
    coef = rng.normal(0.0, 100.0, (n, g_count, k_count, s_count))
    coef[rng.random(coef.shape) < 0.2] = 0.0  # flat stretches and plateaus too
    const = rng.uniform(0.0, 150.0, (n, g_count, k_count))
    seg_t0 = np.concatenate([[0.0], np.sort(rng.uniform(0.0, 1.2 * t_end, g_count - 1))])
    thresholds = np.sort(rng.uniform(1.0, 250.0, m_count))
    band_times = np.unique(rng.uniform(0.0, t_end, 9))
    terms = ModalTerms(lam, const, coef)
    window = Window(seg_t0, t_end, thresholds, band_times)
    fast_out = _run(compiled_kernel, terms, window, 20, view)
    slow_out = _run(numpy_kernel, terms, window, 20, view)
    np.testing.assert_allclose(fast_out.cmax, slow_out.cmax, rtol=1e-11, atol=1e-9)
    same_peak = np.isclose(fast_out.cmax, slow_out.cmax, rtol=1e-12)
    np.testing.assert_allclose(fast_out.tmax[same_peak], slow_out.tmax[same_peak], atol=1e-6)
    np.testing.assert_allclose(fast_out.above, slow_out.above, atol=1e-6)
    np.testing.assert_allclose(fast_out.bands, slow_out.bands, rtol=1e-10, atol=1e-8)
    points = 5_001
    parts = _dense(terms, window, points)
    dense_max = np.max([y.max(axis=2) for _, y in parts], axis=0)
    assert np.all(slow_out.cmax >= dense_max - 1e-9)  # exact: never below a sampled value
    # a sampled peak is within the curve's curvature x (step / 2)^2 of the true one
    h = t_end / (points - 1)
    slack = np.sum(np.abs(coef).max(axis=1) * lam[:, None, :] ** 2, axis=2) * h * h
    assert np.all(slow_out.cmax <= dense_max + slack + 1e-9)
    for m, thr in enumerate(thresholds):
        dense_above = sum(
            np.sum(np.diff(t) * (y[:, :, 1:] > thr), axis=2) for t, y in parts
        )  # right-point rule: off by at most a step per crossing
        crossings = 2 * (s_count + 1) * g_count
        assert np.all(np.abs(slow_out.above[:, :, m] - dense_above) <= crossings * h + 1e-9)
