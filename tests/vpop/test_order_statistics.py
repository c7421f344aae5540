"""The compiled selection behind the percentile bands gives exactly what sorting each row
gives, for smooth rows, long tails, ties, negative values, NaN and infinities, and the band
percentiles it feeds are NumPy's linear percentiles."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.pharmacology._order_statistics import REFINE, order_statistics
from ketaclinic.pharmacology._population_result import PERCENTILES, start_percentiles


def _check(rows: np.ndarray, ranks: np.ndarray) -> None:
    out = np.full((rows.shape[0], ranks.size), -12345.0)
    order_statistics(rows, ranks, out)
    np.testing.assert_array_equal(out, np.sort(rows, axis=1)[:, ranks])


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 3000).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.integers(0, n - 1), min_size=1, max_size=12),
            st.sampled_from(["lognormal", "tail", "ties", "signed", "nan", "inf", "constant"]),
            st.integers(0, 2**32 - 1),
        )
    )
)
def test_order_statistics_equal_the_sorted_rows(case: tuple[int, list[int], str, int]) -> None:
    n, wanted, kind, seed = case
    rng = np.random.default_rng(seed)
    rows = np.exp(0.4 * rng.standard_normal((3, n))) * 100.0
    if kind == "tail":  # a few huge values either side squeeze the bulk into one bin
        rows[:, : max(1, n // 200)] *= 1e6
        rows[:, -max(1, n // 300) :] *= -1e6
    elif kind == "ties":
        rows = np.round(rows / 25.0) * 25.0
    elif kind == "signed":
        rows -= 100.0
    elif kind == "nan":
        rows[:, rng.integers(0, n)] = np.nan
    elif kind == "inf":
        rows[:, rng.integers(0, n)] = np.inf
    elif kind == "constant":
        rows[:] = 7.5
    _check(rows, np.unique(np.array(wanted, dtype=np.int64)))


def test_a_long_tail_is_refined_inside_its_bin() -> None:
    """The bulk of 20 000 values in one middle bin of 4096 (three values a million times
    larger either side): far more than REFINE values, selected exactly by a second binning."""
    rng = np.random.default_rng(3)
    rows = rng.uniform(1.0, 2.0, (2, 20_000))
    rows[:, :2] = -2e6
    rows[:, 2] = 2e6
    assert np.count_nonzero(np.abs(rows[0]) < 4e6 / 4096) > REFINE
    _check(rows, np.array([0, 1, 2, 999, 1000, 10_000, 19_998, 19_999]))


def test_ranks_outside_the_row_or_unordered_are_refused() -> None:
    rows = np.zeros((1, 5))
    out = np.empty((1, 2))
    with pytest.raises(ValueError, match=r"ranks must be ascending within 0\.\.4"):
        order_statistics(rows, np.array([0, 5]), out)
    with pytest.raises(ValueError, match="ranks must be ascending"):
        order_statistics(rows, np.array([3, 1]), out)


@pytest.mark.parametrize("rows_shape", [(7, 10_000), (40, 6000)])  # one task, then halves
def test_compiled_band_percentiles_equal_numpys(rows_shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(1)
    rows = np.exp(0.3 * rng.standard_normal(rows_shape)) * 250.0
    with ThreadPoolExecutor(2) as pool:
        selected = start_percentiles(rows, PERCENTILES, pool.submit, compiled=True)()
        ordered = start_percentiles(rows, PERCENTILES, pool.submit, compiled=False)()
    np.testing.assert_array_equal(selected, ordered)
    np.testing.assert_allclose(
        selected, np.percentile(rows, PERCENTILES, axis=1), rtol=1e-14, atol=0
    )
