"""Ethnicity in population runs: Perez-Ruixo 2021's published covariates (Japanese nasal
fraction x1.34 on the path; Asian kel x0.36) reach sampled patients as they reach one patient,
a mix gives its fractions, and populations without an ethnicity draw what they drew before."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology import (
    Patient,
    Route,
    get_model,
    parse_variability,
    population_spec,
    simulate,
    simulate_population,
)
from ketaclinic.pharmacology._sampling import (
    BLOCK_SIZE,
    block_rng,
    sample_covariates,
    sample_patients,
)

FIXED = {"weight_kg": 70.0, "age_years": 40.0, "height_cm": 170.0, "female_fraction": 0.0}
NASAL = ["intranasal 56 mg at 0 min"]


def _cmax(population: dict[str, Any], n: int = 8) -> np.ndarray:
    pop = simulate_population(
        "perez-ruixo", NASAL, n=n, seed=3, covariates=population, variability="none"
    )
    return pop.cmax_ng_per_ml


@pytest.mark.parametrize("ethnicity", ["japanese", "asian", "other"])
def test_a_fixed_ethnicity_gives_the_single_patient_prediction(ethnicity: str) -> None:
    grid = np.arange(0.0, 1441.0)
    one = simulate("perez-ruixo", Patient(70, 40, ethnicity=ethnicity), NASAL, grid)
    cmax = _cmax({**FIXED, "ethnicity": ethnicity})
    np.testing.assert_allclose(cmax, one.summary.ketamine.cmax_ng_per_ml, rtol=1e-3)


def test_japanese_patients_reach_a_higher_nasal_peak_than_unstated_ones() -> None:
    """x1.34 on the nasal fraction and x0.36 on kel (Perez-Ruixo 2021) raise the peak."""
    assert np.all(_cmax({**FIXED, "ethnicity": "japanese"}) > 1.2 * _cmax(FIXED))


def test_a_mix_gives_each_group_its_share_and_leaves_the_other_covariates_alone() -> None:
    model = get_model("perez-ruixo")
    var = parse_variability("none", model)
    n = 20 * BLOCK_SIZE

    def draw(spec: dict[str, Any]) -> Any:
        pop = population_spec(spec)
        return sample_patients(pop, model, (Route.INTRANASAL,), var, 11, 0, 20, n)[0]

    plain = draw({})
    mixed = draw({"ethnicity": {"japanese": 0.25, "asian": 0.25, "other": 0.5}})
    assert plain.ethnicity is None
    assert mixed.ethnicity is not None
    for group, share in (("japanese", 0.25), ("asian", 0.25), ("other", 0.5)):
        assert np.mean(mixed.ethnicity == group) == pytest.approx(share, abs=0.02)
    for field in ("weight_kg", "age_years", "female", "height_cm", "child_pugh"):
        np.testing.assert_array_equal(getattr(mixed, field), getattr(plain, field))


def test_a_mix_draws_the_same_groups_alone_as_in_a_run_with_variability() -> None:
    """The mix has its own stream per block: ``sample_covariates`` with a block's generator
    gives the groups a population run with random effects gives that block."""
    model = get_model("perez-ruixo")
    pop = population_spec({"ethnicity": {"japanese": 0.3, "other": 0.7}})
    alone = sample_covariates(pop, block_rng(4, 0), BLOCK_SIZE)
    var = parse_variability("default", model)
    cov, _ = sample_patients(pop, model, (Route.INTRANASAL,), var, 4, 0, 1, BLOCK_SIZE)
    assert alone.ethnicity is not None
    assert cov.ethnicity is not None
    np.testing.assert_array_equal(alone.ethnicity, cov.ethnicity)


@pytest.mark.parametrize(
    ("ethnicity", "message"),
    [
        ("martian", "ethnicity 'martian' is not accepted; accepted: not stated, asian"),
        ({"japanese": 0.5}, "ethnicity fractions must add up to 1, got 0.5"),
        ({"asian": -0.5, "other": 1.5}, "ethnicity fraction for asian must be a number >= 0"),
        ({}, "ethnicity mix is empty"),
    ],
)
def test_a_bad_ethnicity_is_refused_with_what_is_accepted(ethnicity: Any, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        population_spec({"ethnicity": ethnicity})
