"""Sampling virtual patients: the same patient whatever the chunk, sane distributions, the
published IIV spread, and the errors of a bad population description."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology import (
    NAMED_POPULATIONS,
    Covariates,
    Route,
    Variability,
    get_model,
    parse_variability,
    population_spec,
)
from ketaclinic.pharmacology._sampling import (
    BLOCK_SIZE,
    block_rng,
    sample_covariates,
    sample_patients,
)

DOMINO = get_model("domino")
CV4 = "CL=0.3,V1=0.3,V2=0.3,V3=0.3"
FIELDS = ("weight_kg", "age_years", "female", "height_cm", "child_pugh")


def _patients(
    population: Any = "adults",
    variability: str = CV4,
    n: int = 50_000,
    model: str = "domino",
    routes: tuple[Route, ...] = (Route.IV,),
    seed: int = 7,
) -> tuple[Covariates, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Covariates, parameters with IIV and the typical parameters of ``n`` patients."""
    spec = get_model(model)
    pop = population_spec(population)
    var = parse_variability(variability, spec)
    cov, params = sample_patients(pop, spec, routes, var, seed, 0, -(-n // BLOCK_SIZE), n)
    return cov, params, spec.parameters(cov, routes)


def _in_chunks(n_total: int, cuts: list[int], **kwargs: Any) -> tuple[Covariates, dict]:
    """The patients of ``n_total`` sampled chunk by chunk, chunks starting at block ``cuts``."""
    pop = population_spec(kwargs.get("population", "hepatic-mix"))
    model = get_model(kwargs.get("model", "fanta"))
    routes = kwargs.get("routes", (Route.IV, Route.ORAL))
    var = parse_variability(kwargs.get("variability", "default"), model)
    blocks = -(-n_total // BLOCK_SIZE)
    edges = sorted({0, *(c for c in cuts if 0 < c < blocks), blocks})
    parts = [
        sample_patients(pop, model, routes, var, 3, a, b - a, n_total)
        for a, b in itertools.pairwise(edges)
    ]
    cov = Covariates(*(np.concatenate([getattr(c, f) for c, _ in parts]) for f in FIELDS))
    params = {k: np.concatenate([p[k] for _, p in parts]) for k in parts[0][1]}
    return cov, params


def _assert_same_patients(a: tuple[Covariates, dict], b: tuple[Covariates, dict], n: int) -> None:
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a[0], f)[:n], getattr(b[0], f)[:n])
    assert a[1].keys() == b[1].keys()
    for k in a[1]:
        np.testing.assert_array_equal(a[1][k][:n], b[1][k][:n])


@given(
    n_total=st.integers(1, 5 * BLOCK_SIZE),
    cuts=st.lists(st.integers(1, 4), max_size=4),
    n_other=st.integers(1, 5 * BLOCK_SIZE),
)
def test_a_patient_is_the_same_whatever_the_chunks_and_n(
    n_total: int, cuts: list[int], n_other: int
) -> None:
    whole = _in_chunks(n_total, [])
    assert whole[0].n == n_total
    assert all(v.shape == (n_total,) for v in whole[1].values())
    _assert_same_patients(_in_chunks(n_total, cuts), whole, n_total)
    _assert_same_patients(_in_chunks(n_other, cuts), whole, min(n_total, n_other))


def test_a_chunk_past_the_last_patient_stops_at_n_total() -> None:
    pop, var = population_spec("adults"), parse_variability(CV4, DOMINO)
    cov, params = sample_patients(pop, DOMINO, (Route.IV,), var, 1, 2, 16, 2 * BLOCK_SIZE + 5)
    assert cov.n == 5
    assert params["CL"].shape == (5,)
    with pytest.raises(UserInputError, match="hold none of"):
        sample_patients(pop, DOMINO, (Route.IV,), var, 1, 3, 1, 3 * BLOCK_SIZE)


def test_adult_weights_and_heights_by_sex_match_nhanes() -> None:
    """NHANES 2015-2018 means (Fryar 2021): men 90.6 kg, 175.3 cm; women 77.5 kg, 161.3 cm.
    The population's log-normal medians 88.5 / 75.0 kg are chosen to give those means."""
    cov, _, _ = _patients(n=100_000)
    assert np.mean(cov.female) == pytest.approx(0.5, abs=0.01)
    men, women = ~cov.female, cov.female
    assert np.mean(cov.weight_kg[men]) == pytest.approx(90.6, rel=0.02)
    assert np.mean(cov.weight_kg[women]) == pytest.approx(77.5, rel=0.02)
    assert np.median(cov.weight_kg[men]) == pytest.approx(88.5, rel=0.01)
    assert np.median(cov.weight_kg[women]) == pytest.approx(75.0, rel=0.01)
    assert np.std(np.log(cov.weight_kg[men])) == pytest.approx(np.sqrt(np.log1p(0.22**2)), 0.03)
    assert np.mean(cov.height_cm[men]) == pytest.approx(175.3, rel=0.005)
    assert np.mean(cov.height_cm[women]) == pytest.approx(161.3, rel=0.005)
    assert np.std(cov.height_cm[women]) == pytest.approx(7.0, rel=0.03)
    assert cov.weight_kg.min() >= 40.0
    assert cov.weight_kg.max() <= 200.0
    assert cov.age_years.min() >= 18.0
    assert cov.age_years.max() <= 80.0
    assert np.mean(cov.age_years) == pytest.approx(49.0, rel=0.01)
    assert set(np.unique(cov.child_pugh)) == {"none"}


def test_one_normal_per_patient_feeds_either_sex() -> None:
    """Men and women read the same raw draw: only the median/mean picked by sex differs."""
    base = {
        "weight_kg": {
            "male": {"distribution": "lognormal", "median": 80.0, "cv": 0.2},
            "female": {"distribution": "lognormal", "median": 60.0, "cv": 0.2},
        },
        "height_cm": {
            "male": {"distribution": "normal", "mean": 178.0, "sd": 7.0},
            "female": {"distribution": "normal", "mean": 165.0, "sd": 7.0},
        },
    }
    men, _, _ = _patients({**base, "female_fraction": 0.0}, n=3000)
    women, _, _ = _patients({**base, "female_fraction": 1.0}, n=3000)
    assert not men.female.any()
    assert women.female.all()
    np.testing.assert_allclose(men.weight_kg / 80.0, women.weight_kg / 60.0, rtol=1e-12)
    np.testing.assert_allclose(men.height_cm - 178.0, women.height_cm - 165.0, atol=1e-9)


def test_the_child_pugh_mix_changes_only_the_class() -> None:
    adults, _, _ = _patients("adults", n=100_000)
    mixed, _, _ = _patients("hepatic-mix", n=100_000)
    for f in ("weight_kg", "age_years", "female", "height_cm"):
        np.testing.assert_array_equal(getattr(mixed, f), getattr(adults, f))
    for cls, fraction in {"none": 0.70, "A": 0.15, "B": 0.10, "C": 0.05}.items():
        assert np.mean(mixed.child_pugh == cls) == pytest.approx(fraction, abs=0.005)


def test_variability_changes_only_the_parameters() -> None:
    none_cov, none_params, typical = _patients(variability="none", n=5000)
    cov, params, _ = _patients(variability=CV4, n=5000)
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(cov, f), getattr(none_cov, f))
    for k in none_params:
        np.testing.assert_array_equal(none_params[k], typical[k])
    assert not np.array_equal(params["CL"], typical["CL"])


def test_iiv_has_the_stated_spread_and_independent_names() -> None:
    _, params, typical = _patients(variability="CL=0.3,V1=0.5,V2=0.3,V3=0.3", n=100_000)
    eta = {k: np.log(params[k] / typical[k]) for k in ("CL", "V1", "V2", "V3", "Q2")}
    for name, cv in (("CL", 0.3), ("V1", 0.5), ("V2", 0.3), ("V3", 0.3)):
        assert np.mean(eta[name]) == pytest.approx(0.0, abs=0.005)
        assert np.std(eta[name]) == pytest.approx(np.sqrt(np.log1p(cv**2)), rel=0.01)
    assert abs(np.corrcoef(eta["CL"], eta["V1"])[0, 1]) < 0.01
    np.testing.assert_array_equal(eta["Q2"], 0.0)  # a name without a CV keeps its value


@pytest.mark.parametrize(
    ("model", "routes", "names"),
    [
        ("fanta", (Route.IV,), ("CL", "V1", "CL_M", "V1_M")),
        ("perez-ruixo", (Route.INTRANASAL,), ("V1", "V1_M", "CL_M")),
    ],
)
def test_each_published_random_effect_moves_only_its_own_parameter(
    model: str, routes: tuple[Route, ...], names: tuple[str, ...]
) -> None:
    """Metabolite parameters (CL_M, V1_M) carry their own published IIV, not the parent's
    as well: each eta has exactly its published spread and the parent's is independent."""
    spec = get_model(model)
    _, params, typical = _patients(variability="default", model=model, routes=routes, n=60_000)
    eta = {k: np.log(params[k] / typical[k]) for k in names}
    for name in names:
        omega = np.sqrt(np.log1p(spec.iiv_cv[name] ** 2))
        assert np.std(eta[name]) == pytest.approx(omega, rel=0.02), name
    assert abs(np.corrcoef(eta[names[0]], eta[names[-1]])[0, 1]) < 0.02


def test_iiv_on_ka_and_f_reaches_every_route_and_f_stays_at_most_1() -> None:
    routes = (Route.ORAL, Route.SUBLINGUAL)
    _, params, typical = _patients(
        variability="ka=0.5,F=2.0", model="kamp", routes=routes, n=20_000
    )
    for key in ("ka_oral", "ka_sublingual", "F_oral", "F_sublingual"):
        assert not np.array_equal(params[key], typical[key])
    assert params["F_oral"].max() == 1.0
    assert np.all(params["F_sublingual"] <= 1.0)
    # one draw per name: every route's ka moves by the same factor
    np.testing.assert_allclose(
        params["ka_oral"] / typical["ka_oral"],
        params["ka_sublingual"] / typical["ka_sublingual"],
        rtol=1e-12,
    )


def test_children_follow_the_apls_weight_and_height_from_age() -> None:
    cov, _, _ = _patients("children", model="herd", variability="none", n=50_000)
    assert cov.age_years.min() >= 1.0
    assert cov.age_years.max() <= 14.0
    np.testing.assert_allclose(cov.height_cm, 77.0 + 6.0 * cov.age_years, rtol=1e-12)
    ratio = np.log(cov.weight_kg / ((cov.age_years + 4.0) * 2.0))
    inside = (cov.weight_kg > 8.0) & (cov.weight_kg < 80.0)
    assert np.median(ratio[inside]) == pytest.approx(0.0, abs=0.005)
    assert np.std(ratio[inside]) == pytest.approx(np.sqrt(np.log1p(0.15**2)), rel=0.03)
    assert cov.weight_kg.min() >= 8.0
    assert cov.weight_kg.max() <= 80.0


def test_constants_uniforms_and_clipping_are_honoured() -> None:
    cov, _, _ = _patients(
        {
            "weight_kg": {"distribution": "normal", "mean": 70.0, "sd": 15.0, "min": 60, "max": 80},
            "height_cm": 170.0,
            "age_years": {"distribution": "uniform", "low": 30.0, "high": 40.0},
            "female_fraction": 0.25,
        },
        n=20_000,
    )
    assert cov.weight_kg.min() == 60.0
    assert cov.weight_kg.max() == 80.0
    assert np.mean(cov.weight_kg == 80.0) == pytest.approx(0.2525, abs=0.01)  # P(z > 2/3)
    np.testing.assert_array_equal(cov.height_cm, 170.0)
    assert cov.age_years.min() >= 30.0
    assert cov.age_years.max() < 40.0
    assert np.mean(cov.age_years) == pytest.approx(35.0, abs=0.1)
    assert np.mean(cov.female) == pytest.approx(0.25, abs=0.01)


def test_a_sex_may_follow_another_kind_of_distribution() -> None:
    cov, _, _ = _patients(
        {
            "weight_kg": {
                "male": 80.0,
                "female": {"distribution": "uniform", "low": 50.0, "high": 70.0},
            }
        },
        n=5000,
    )
    np.testing.assert_array_equal(cov.weight_kg[~cov.female], 80.0)
    women = cov.weight_kg[cov.female]
    assert women.min() >= 50.0
    assert women.max() < 70.0


@pytest.mark.parametrize(
    ("population", "message"),
    [
        ({"weight_kg": {"distribution": "gamma"}}, "weight_kg: distribution 'gamma' is not"),
        (
            {"weight_kg": {"distribution": "lognormal", "median": 70}},
            "lognormal distribution needs 'cv'",
        ),
        ({"height_cm": {"distribution": "normal", "mean": 170}}, "normal distribution needs 'sd'"),
        ({"age_years": {"distribution": "uniform", "high": 9}}, "uniform distribution needs 'low'"),
        (
            {"age_years": [30, 40]},
            "age_years .30, 40. is not accepted; accepted: a number or a distribution mapping",
        ),
        ({"weight_kg": {"male": 80.0}}, "weight_kg: distribution None is not accepted"),
        ({"weight_kg": 500.0}, r"sampled weights leave the accepted range"),
        (
            {"weight_kg": {"distribution": "normal", "mean": 70.0, "sd": 200.0}},
            "sampled weights leave the accepted range",
        ),
    ],
)
def test_a_bad_population_is_refused_with_the_same_message(population: Any, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        _patients(population, n=100)
    with pytest.raises(UserInputError, match=message):
        sample_covariates(population_spec(population), block_rng(1, 0), 100)


def test_sample_covariates_draws_a_block_as_the_population_does() -> None:
    """``sample_covariates`` with a block's generator reads the same raw rows as the
    population engine does for that block: the same patients."""
    pop = population_spec("hepatic-mix")
    alone = sample_covariates(pop, block_rng(2, 0), BLOCK_SIZE)
    cov, _ = sample_patients(
        pop, DOMINO, (Route.IV,), parse_variability("none", DOMINO), 2, 0, 1, BLOCK_SIZE
    )
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(alone, f), getattr(cov, f))
    assert set(np.unique(alone.child_pugh)) <= {"none", "A", "B", "C"}


def test_a_random_effect_has_the_log_normal_sd_of_its_cv() -> None:
    var = Variability({"V1": 0.5, "CL": 0.3})
    assert list(var.omega()) == ["CL", "V1"]  # drawn in name order
    assert var.omega()["CL"] == pytest.approx(np.sqrt(np.log(1.0 + 0.3**2)), rel=1e-15)
    with pytest.raises(TypeError):
        var.cv["CL"] = 0.9  # type: ignore[index]


@pytest.mark.parametrize(
    ("model", "routes", "expected"),
    [
        ("domino", (Route.IV,), {"CL", "V1", "Q2", "V2", "Q3", "V3", "ke0"}),
        ("kamp", (Route.ORAL,), {"CL", "V1", "Q2", "V2", "Q3", "V3", "ke0", "ka_oral", "F_oral"}),
        (
            "perez-ruixo",
            (Route.INTRANASAL,),
            {"ka_intranasal", "F_intranasal", "ka_intranasal_swallowed", "F_intranasal_swallowed"},
        ),
    ],
)
def test_a_cv_may_name_the_parameters_the_model_declares_for_the_routes_used(
    model: str, routes: tuple[Route, ...], expected: set[str]
) -> None:
    spec = get_model(model)
    names = {p.name for p in spec.declared(routes)}
    assert expected <= names
    assert all(p.unit in ("L", "L/min", "1/min", "fraction") for p in spec.declared(routes))
    if routes == (Route.IV,):
        assert not any(n.startswith(("ka_", "F_")) for n in names)


def test_named_populations_are_read_only() -> None:
    with pytest.raises(TypeError):
        NAMED_POPULATIONS["martians"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        NAMED_POPULATIONS["adults"]["female_fraction"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError):
        NAMED_POPULATIONS["adults"]["weight_kg"]["male"]["median"] = 1.0  # type: ignore[index]
