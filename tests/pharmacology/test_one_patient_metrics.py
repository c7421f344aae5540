"""The single-patient metrics (Python floats, ``_extrema_one``) against the vectorised ones
(``_extrema.exact_metrics``), patient by patient, on random sums of exponentials: rising,
falling and non-monotone segments (derivatives with none, one or several sign changes),
plateaus, several thresholds and windows that end inside, at or before a segment. Both are
exact, so they agree to rounding."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.pharmacology import Patient, simulate
from ketaclinic.pharmacology._extrema import drop_rounding_noise, exact_metrics
from ketaclinic.pharmacology._extrema_one import one_patient_metrics, root


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    g_count=st.integers(1, 4),
    s_count=st.integers(1, 6),
    k_count=st.integers(1, 3),
    m_count=st.integers(0, 3),
    t_end=st.sampled_from([30.0, 300.0, 1440.0]),
)
def test_one_patient_metrics_equal_the_vectorised_metrics(
    seed: int, g_count: int, s_count: int, k_count: int, m_count: int, t_end: float
) -> None:
    rng = np.random.default_rng(seed)
    n = 12
    lam = -np.sort(rng.uniform(0.001, 3.0, (n, s_count)), axis=1)[:, ::-1].copy()
    coef = rng.normal(0.0, 100.0, (n, g_count, k_count, s_count))
    coef[rng.random(coef.shape) < 0.2] = 0.0  # flat stretches and plateaus too
    coef[rng.random(coef.shape) < 0.05] *= 1e-16  # rounding noise, dropped by both
    const = rng.uniform(0.0, 150.0, (n, g_count, k_count))
    seg_t0 = np.concatenate([[0.0], np.sort(rng.uniform(0.0, 1.2 * t_end, g_count - 1))])
    thresholds = np.sort(rng.uniform(1.0, 250.0, m_count))
    many = exact_metrics(lam, const, drop_rounding_noise(coef), seg_t0, t_end, thresholds)
    for p in range(n):
        cmax, tmax, above = one_patient_metrics(
            lam[p], const[p], coef[p], seg_t0.tolist(), t_end, thresholds.tolist()
        )
        np.testing.assert_allclose(cmax, many.cmax[p], rtol=1e-11, atol=1e-9)
        same_peak = np.isclose(cmax, many.cmax[p], rtol=1e-12)
        np.testing.assert_allclose(
            np.asarray(tmax)[same_peak], many.tmax_min[p][same_peak], atol=1e-6
        )
        np.testing.assert_allclose(
            np.asarray(above).reshape(k_count, m_count), many.above_min[p], atol=1e-6
        )


def test_a_root_is_found_to_the_tolerance_from_a_poor_first_guess() -> None:
    """exp(-t) - 0.5 on [0, 1000] min: false position starts near 1000, bisection and
    Newton bring it to ln 2."""
    x = root([-1.0], [1.0], -0.5, [-1.0], 0.0, 1000.0, 0.5, -0.5)
    assert x == pytest.approx(math.log(2.0), abs=1e-12)


def test_a_root_at_a_flat_derivative_bisects() -> None:
    """A zero Newton denominator (here ``wd`` = 0) falls back to bisection, still converging."""
    x = root([-0.5], [1.0], -0.25, [0.0], 0.0, 10.0, 0.75, math.exp(-5.0) - 0.25)
    assert x == pytest.approx(2.0 * math.log(4.0), abs=1e-9)


def test_the_simulated_effect_site_peak_is_a_turning_point_of_the_exact_curve() -> None:
    """Domino, 0.5 mg/kg over 40 min: the effect site peaks after the infusion, where its
    exact curve (sampled at 1e-4 min around Tmax) is highest."""
    result = simulate("domino", Patient(weight_kg=70), ["iv-infusion 0.5 mg/kg over 40 min"])
    site = result.summary.effect_site
    assert site is not None
    assert site.tmax_min > 40.0
    near = site.tmax_min + np.linspace(-0.01, 0.01, 201)
    around = simulate(
        "domino", Patient(weight_kg=70), ["iv-infusion 0.5 mg/kg over 40 min"], near
    ).effect_site_ng_per_ml
    assert around is not None
    assert site.cmax_ng_per_ml >= float(np.max(around)) - 1e-9
    assert abs(float(near[np.argmax(around)]) - site.tmax_min) <= 1e-4 + 1e-9
