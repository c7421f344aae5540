"""Virtual populations: agreement with single-patient simulation and brute force,
reproducibility across chunk sizes and backends, and clear errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ketaclinic.compute import DaskExecutor, ThreadExecutor
from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology import (
    PERCENTILES,
    AbsorptionPath,
    Covariates,
    Drug,
    Patient,
    PKModel,
    Route,
    RouteSpec,
    Structure,
    declare_parameters,
    get_model,
    parse_doses,
    parse_variability,
    population_spec,
    regimen_inputs,
    regimen_system,
    simulate,
    simulate_population,
    solve,
)
from ketaclinic.pharmacology._population import BAND_MEMORY_BYTES, _band_times
from ketaclinic.pharmacology._sampling import BLOCK_SIZE, sample_patients

INFUSION = ["iv-infusion 0.5 mg/kg over 40 min at 0 min"]
FIXED_70KG = {"weight_kg": 70.0, "age_years": 40.0, "height_cm": 170.0, "female_fraction": 0.0}
GRID = np.arange(0.0, 1441.0)


@pytest.fixture(params=["numpy", "compiled"])
def kernel(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize(
    ("model", "doses"),
    [
        ("domino", INFUSION),
        ("kamp", ["iv-bolus 20 mg at 0 min", "iv-infusion 0.25 mg/kg/h for 2 h at 30 min"]),
        ("fanta", ["oral 50 mg at 0 min", "iv-bolus 10 mg at 120 min"]),
        ("perez-ruixo", ["intranasal 56 mg at 0 min"]),
    ],
)
def test_identical_patients_equal_the_single_patient_simulation(
    model: str, doses: list[str], kernel: str
) -> None:
    pop = simulate_population(
        model,
        doses,
        n=20,
        seed=5,
        covariates=FIXED_70KG,
        variability="none",
        thresholds_ng_per_ml=[50.0, 200.0],
        effect_site=True,
        kernel=kernel,
    )
    one = simulate(
        model, Patient(70, 40, "male", 170), doses, GRID, thresholds_ng_per_ml=[50.0, 200.0]
    )
    for name in ("ketamine", "norketamine", "effect_site"):
        single = getattr(one.summary, name)
        many = getattr(pop, name)
        if single is None:
            assert many is None
            continue
        assert many is not None
        np.testing.assert_allclose(many.cmax_ng_per_ml, single.cmax_ng_per_ml, rtol=1e-9)
        np.testing.assert_allclose(many.tmax_min, single.tmax_min, rtol=0, atol=1e-9)
        np.testing.assert_allclose(many.auc_ng_h_per_ml, single.auc_ng_h_per_ml, rtol=1e-9)
        for t in (50.0, 200.0):
            np.testing.assert_allclose(
                many.minutes_above_ng_per_ml[t],
                single.minutes_above_ng_per_ml[t],
                rtol=1e-9,
                atol=1e-9,
            )


def _brute_force(model: str, doses: list[str], n: int, seed: int, variability: str) -> np.ndarray:
    """Plasma ketamine on a 0.1-min grid for each virtual patient, solved one by one."""
    spec = get_model(model)
    dose_list = parse_doses(doses)
    routes = tuple(dict.fromkeys(d.route for d in dose_list))
    cov, params = sample_patients(  # block 0, the whole block
        population_spec("adults"),
        spec,
        routes,
        parse_variability(variability, spec),
        seed,
        0,
        1,
        BLOCK_SIZE,
    )
    fine = np.arange(0.0, 1440.05, 0.1)
    curves = np.empty((n, fine.size))
    for p in range(n):
        one = {k: v[p : p + 1] for k, v in params.items()}
        c1 = Covariates(
            *(
                getattr(cov, f)[p : p + 1]
                for f in ("weight_kg", "age_years", "female", "height_cm", "child_pugh")
            )
        )
        system, _ = regimen_system(spec, c1, dose_list, one)
        inputs = regimen_inputs(spec, dose_list, c1.weight_kg)
        rows = system.concentration_row("central")[:, None, :] * 1000.0
        curves[p] = solve(system, inputs, fine, rows).values[0, 0]
    return curves


@pytest.mark.parametrize(
    ("model", "doses", "variability"),
    [
        ("domino", INFUSION, "CL=0.3,V1=0.3,V2=0.3,V3=0.3"),
        ("fanta", ["oral 50 mg at 0 min"], "default"),
    ],
)
def test_percentiles_and_exceedance_agree_with_brute_force(
    model: str, doses: list[str], variability: str, kernel: str
) -> None:
    n = 300
    pop = simulate_population(
        model,
        doses,
        n=n,
        seed=11,
        variability=variability,
        thresholds_ng_per_ml=[5.0, 250.0],
        kernel=kernel,
    )
    curves = _brute_force(model, doses, n, 11, variability)
    cmax = curves.max(axis=1)  # on the 0.1-min grid: at most a hair below the exact peak
    assert np.all(pop.cmax_ng_per_ml >= cmax * (1 - 1e-12))
    np.testing.assert_allclose(pop.cmax_ng_per_ml, cmax, rtol=1e-6)
    np.testing.assert_allclose(
        pop.ketamine.percentiles()["cmax_ng_per_ml"]["p95"], np.percentile(cmax, 95), rtol=1e-6
    )
    for t in (5.0, 250.0):
        near = np.abs(cmax - t) <= 1e-6 * t  # a grid cannot decide these few
        assert np.all((pop.cmax_ng_per_ml > t)[~near] == (cmax > t)[~near])
    band_rows = curves[:, np.rint(pop.band_times_min * 10).astype(int)]
    for q in PERCENTILES:
        np.testing.assert_allclose(
            pop.bands_ng_per_ml[q], np.percentile(band_rows, q, axis=0), rtol=1e-9, atol=1e-9
        )


def test_same_seed_gives_identical_results_for_any_chunk_size(kernel: str) -> None:
    runs = [
        simulate_population(
            "domino",
            INFUSION,
            n=2500,
            seed=3,
            chunk_size=c,
            variability="CL=0.3,V1=0.3",
            thresholds_ng_per_ml=[250.0],
            kernel=kernel,
        )
        for c in (1, 1024, 4096, 100000)
    ]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.cmax_ng_per_ml, runs[0].cmax_ng_per_ml)
        np.testing.assert_array_equal(other.auc_ng_h_per_ml, runs[0].auc_ng_h_per_ml)
        np.testing.assert_array_equal(
            other.minutes_above_ng_per_ml[250.0], runs[0].minutes_above_ng_per_ml[250.0]
        )
        np.testing.assert_array_equal(other.covariates.weight_kg, runs[0].covariates.weight_kg)
        np.testing.assert_array_equal(other.bands_ng_per_ml[50.0], runs[0].bands_ng_per_ml[50.0])


def test_executors_give_the_same_numbers_in_process_and_on_a_local_dask_cluster() -> None:
    kwargs: dict[str, Any] = {
        "n": 3000,
        "seed": 4,
        "variability": "CL=0.3,V1=0.3",
        "thresholds_ng_per_ml": [250.0],
        "chunk_size": 1024,
        "effect_site": True,
    }
    local = simulate_population("kamp", INFUSION, **kwargs)
    with ThreadExecutor() as threads:
        threaded = simulate_population("kamp", INFUSION, executor=threads, **kwargs)
    with DaskExecutor(local_workers=2) as cluster:
        dask = simulate_population("kamp", INFUSION, executor=cluster, **kwargs)
    for other in (threaded, dask):
        for name in ("ketamine", "effect_site"):
            a, b = getattr(other, name), getattr(local, name)
            np.testing.assert_array_equal(a.cmax_ng_per_ml, b.cmax_ng_per_ml)
            np.testing.assert_array_equal(a.auc_ng_h_per_ml, b.auc_ng_h_per_ml)
            np.testing.assert_array_equal(a.tmax_min, b.tmax_min)
        for q in PERCENTILES:
            np.testing.assert_array_equal(other.bands_ng_per_ml[q], local.bands_ng_per_ml[q])
        np.testing.assert_array_equal(other.covariates.height_cm, local.covariates.height_cm)


class _Recording(ThreadExecutor):
    """A thread executor that records the helper work it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[str] = []

    def submit(self, fn: Any, *args: Any) -> Any:
        self.submitted.append(getattr(fn, "__qualname__", repr(fn)))
        return super().submit(fn, *args)


def test_the_next_chunk_is_drawn_on_a_helper_with_the_same_patients() -> None:
    """While a chunk is solved, a helper draws the next chunk's patients; the first chunk is
    drawn by the caller, so 4 chunks give 3 draws ahead, and the numbers are those of one
    chunk drawn in one go."""
    kwargs: dict[str, Any] = {"n": 4 * 1024, "seed": 6, "variability": "CL=0.3,V1=0.3"}
    with _Recording() as ex:
        chunked = simulate_population("kamp", INFUSION, executor=ex, chunk_size=1024, **kwargs)
    whole = simulate_population("kamp", INFUSION, chunk_size=4 * 1024, **kwargs)
    assert ex.submitted.count("DrawAhead._draw_ahead") == 3
    np.testing.assert_array_equal(chunked.cmax_ng_per_ml, whole.cmax_ng_per_ml)
    np.testing.assert_array_equal(chunked.covariates.weight_kg, whole.covariates.weight_kg)


def test_a_thread_executor_serves_many_runs_and_reports_progress() -> None:
    """A web worker keeps one executor: runs after the first give the same numbers."""
    seen: list[tuple[int, int]] = []
    with ThreadExecutor() as ex:
        first = simulate_population(
            "domino", INFUSION, n=9000, seed=2, executor=ex, chunk_size=4096
        )
        again = simulate_population(
            "domino",
            INFUSION,
            n=9000,
            seed=2,
            executor=ex,
            chunk_size=4096,
            progress=lambda done, total: seen.append((done, total)),
        )
    np.testing.assert_array_equal(first.cmax_ng_per_ml, again.cmax_ng_per_ml)
    assert seen == [(4096, 9000), (8192, 9000), (9000, 9000)]


@pytest.mark.parametrize(
    ("model", "doses", "population"),
    [
        ("herd", INFUSION, "children"),
        (
            "domino",
            ["iv-bolus 0.5 mg/kg at 0 min", "iv-infusion 0.3 mg/kg/h for 4 h at 10 min"],
            "adults",
        ),
        (
            "kamp",
            ["iv-infusion 0.25 mg/kg over 40 min at 0 min"] * 1 + ["iv-bolus 10 mg at 600 min"],
            "hepatic-mix",
        ),
        ("clements", ["iv-bolus 0.25 mg/kg at 30 min"], "adults"),
        ("fanta", ["oral 50 mg at 0 min", "iv-bolus 10 mg at 120 min"], "adults"),
    ],
)
def test_compiled_and_numpy_paths_agree(model: str, doses: list[str], population: str) -> None:
    """The compiled path (closed-form modes for IV mammillary models, bounded-block kernel)
    against the NumPy path (eigen-decomposition, every grid point streamed)."""
    kwargs: dict[str, Any] = {
        "n": 400,
        "seed": 8,
        "thresholds_ng_per_ml": [20.0, 100.0, 400.0],
        "effect_site": True,
        "covariates": population,
    }
    fast = simulate_population(model, doses, kernel="compiled", **kwargs)
    slow = simulate_population(model, doses, kernel="numpy", **kwargs)
    for name in ("ketamine", "norketamine", "effect_site"):
        a, b = getattr(fast, name), getattr(slow, name)
        if b is None:
            assert a is None
            continue
        np.testing.assert_allclose(a.cmax_ng_per_ml, b.cmax_ng_per_ml, rtol=1e-10)
        np.testing.assert_allclose(a.auc_ng_h_per_ml, b.auc_ng_h_per_ml, rtol=1e-10)
        np.testing.assert_allclose(a.tmax_min, b.tmax_min, atol=1e-6)
        for t in (20.0, 100.0, 400.0):
            np.testing.assert_allclose(
                a.minutes_above_ng_per_ml[t], b.minutes_above_ng_per_ml[t], atol=1e-7
            )
    for q in PERCENTILES:
        np.testing.assert_allclose(
            fast.bands_ng_per_ml[q], slow.bands_ng_per_ml[q], rtol=1e-10, atol=1e-10
        )


def test_different_seeds_give_different_patients() -> None:
    a = simulate_population("kamp", INFUSION, n=100, seed=1)
    b = simulate_population("kamp", INFUSION, n=100, seed=2)
    assert not np.array_equal(a.cmax_ng_per_ml, b.cmax_ng_per_ml)


def test_exceedance_has_a_wilson_interval_around_the_fraction() -> None:
    r = simulate_population(
        "domino",
        INFUSION,
        n=4000,
        seed=1,
        variability="CL=0.3,V1=0.3",
        thresholds_ng_per_ml=[250.0, 5000.0],
    )
    e = r.probability_above_ng_per_ml[250.0]
    assert e.low < e.probability < e.high
    none = r.probability_above_ng_per_ml[5000.0]
    assert (none.probability, none.low) == (0.0, 0.0)
    assert 0.0 < none.high < 0.002


def test_a_model_without_published_iiv_uses_a_named_assumption() -> None:
    r = simulate_population("kamp", INFUSION, n=50, seed=1)
    assert r.variability.assumed
    assert any("ASSUMPTION" in w and "30%" in w for w in r.warnings)
    herd = simulate_population("herd", INFUSION, n=50, seed=1, covariates="children")
    assert not herd.variability.assumed
    assert "Herd 2007" in herd.variability.basis


def test_the_covariates_are_those_the_patients_were_simulated_with() -> None:
    """Heights are carried (not zeros) and match the population's heights by sex."""
    r = simulate_population("kamp", INFUSION, n=4000, seed=9, variability="none")
    cov = r.covariates
    assert cov.n == 4000
    assert np.all((cov.height_cm >= 140.0) & (cov.height_cm <= 210.0))
    assert np.mean(cov.height_cm[~cov.female]) == pytest.approx(175.3, abs=0.6)
    assert np.mean(cov.height_cm[cov.female]) == pytest.approx(161.3, abs=0.6)
    # Kamp is linear in weight: with no variability Cmax falls exactly as 1 / weight... of V
    typical = simulate("kamp", Patient(weight_kg=float(cov.weight_kg[0])), INFUSION, GRID)
    assert r.cmax_ng_per_ml[0] == pytest.approx(typical.summary.ketamine.cmax_ng_per_ml, rel=1e-9)


def test_hepatic_mix_raises_exposure() -> None:
    base = simulate_population("kamp", INFUSION, n=3000, seed=2, variability="none")
    mixed = simulate_population(
        "kamp", INFUSION, n=3000, seed=2, variability="none", covariates="hepatic-mix"
    )
    assert set(np.unique(mixed.covariates.child_pugh)) == {"none", "A", "B", "C"}
    assert np.mean(mixed.auc_ng_h_per_ml) > 1.05 * np.mean(base.auc_ng_h_per_ml)


def test_band_memory_stays_bounded_for_a_million_patients() -> None:
    times = _band_times(1441, 1_000_000, 97, 1.0, parse_doses(INFUSION))
    assert times.size * 8 * 1_000_000 <= BAND_MEMORY_BYTES + 8 * 1_000_000 * 2
    assert {0.0, 40.0, 1440.0} <= set(times.tolist())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n must be"),
        ({"seed": -1}, "seed must be"),
        ({"variability": "CL=abc"}, "CV must be a number"),
        ({"variability": "CL=9"}, "fraction from 0 to 3"),
        ({"variability": "XX=0.3"}, "unknown parameter 'XX'"),
        ({"variability": "CL"}, "NAME=CV"),
        ({"covariates": "martians"}, "unknown population"),
        ({"child_pugh_mix": {"none": 0.5, "B": 0.2}}, "add up to 1"),
        ({"child_pugh_mix": {"D": 1.0}}, "not accepted"),
        ({"thresholds_ng_per_ml": [-1.0]}, "above 0 ng/mL"),
        ({"kernel": "gpu"}, "kernel 'gpu' is not accepted; accepted: auto, numpy, compiled"),
        ({"band_patients": 0}, "band patients must be a whole number >= 1"),
        ({"horizon_min": 400 * 1440.0}, "at most 527040 min"),
        ({"step_min": 1e-6}, "grid points per patient; at most 2000000"),
        ({"variability": "ka_oral=0.3"}, "unknown parameter 'ka_oral'"),
        ({"step_min": 0.0}, "step must be above 0"),
        ({"covariates": {"weight_kg": {"distribution": "gamma"}}}, "not accepted"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(kwargs: dict, message: str) -> None:
    args = {"n": 10, "seed": 1, **kwargs}
    with pytest.raises(UserInputError, match=message):
        simulate_population("kamp", INFUSION, **args)


def test_bands_use_a_bounded_seeded_sample_of_patients() -> None:
    kwargs: dict[str, Any] = {"seed": 2, "variability": "CL=0.3", "band_patients": 1500}
    big = simulate_population("domino", INFUSION, n=5000, **kwargs)
    small = simulate_population("domino", INFUSION, n=1500, **kwargs)
    assert big.band_patients == 1500
    for q in PERCENTILES:  # the first 1500 patients are the same in both runs
        np.testing.assert_array_equal(big.bands_ng_per_ml[q], small.bands_ng_per_ml[q])


# One compartment with first-order absorption: ka = k10 exactly (a defective eigenbasis) for
# patients above 80 kg, ka = 1.5 k10 (a well-conditioned one) for the others. The Bateman
# function and its equal-rates limit are the closed-form answers (Gibaldi & Perrier, ch. 1).
_CL_L_PER_MIN, _KA_PER_MIN = 1.0, 0.05
_ONE = Structure()


def _typical_one_compartment(cov: Covariates) -> dict[str, np.ndarray]:
    heavy = cov.weight_kg > 80.0
    v = np.where(heavy, _CL_L_PER_MIN / _KA_PER_MIN, 1.5 * _CL_L_PER_MIN / _KA_PER_MIN)
    return {"CL": np.full(cov.n, _CL_L_PER_MIN), "V1": v}


DEGENERATE = PKModel(
    id="degenerate",
    name="one compartment, ka = k10 above 80 kg",
    drug=Drug.RACEMIC,
    population="a test fixture",
    source="Gibaldi & Perrier, Pharmacokinetics, chapter 1",
    typical=_typical_one_compartment,
    structure=_ONE,
    parameter_specs=declare_parameters(_ONE, "test fixture"),
    routes={
        Route.IV: RouteSpec(Route.IV, True, "test"),
        Route.ORAL: RouteSpec(Route.ORAL, True, "test", (AbsorptionPath("oral", _KA_PER_MIN),)),
    },
    weight_range_kg=(2.0, 300.0),
    age_range_years=(0.0, 120.0),
)


def _bateman_ng_per_ml(t: np.ndarray, dose_mg: float, v_l: float) -> np.ndarray:
    k, ka = _CL_L_PER_MIN / v_l, _KA_PER_MIN
    if ka == k:
        return 1000.0 * dose_mg * ka * t * np.exp(-k * t) / v_l  # the equal-rates limit
    return 1000.0 * dose_mg * ka / (v_l * (ka - k)) * (np.exp(-k * t) - np.exp(-ka * t))


def test_patients_with_an_ill_conditioned_basis_take_the_exact_expm_path(kernel: str) -> None:
    """Patients whose absorption and elimination rates coincide have no eigenbasis: they are
    stepped with matrix exponentials (counted in ``expm_patients``), the others take the
    modal path, and every one matches the closed form."""
    r = simulate_population(
        DEGENERATE,
        ["oral 100 mg at 0 min"],
        n=300,
        seed=3,
        variability="none",
        thresholds_ng_per_ml=[200.0],
        kernel=kernel,
    )
    heavy = r.covariates.weight_kg > 80.0
    assert 0 < np.count_nonzero(heavy) < 300
    assert r.expm_patients == np.count_nonzero(heavy)
    v = np.where(heavy, _CL_L_PER_MIN / _KA_PER_MIN, 1.5 * _CL_L_PER_MIN / _KA_PER_MIN)
    for p in (int(np.flatnonzero(heavy)[0]), int(np.flatnonzero(~heavy)[0])):
        curve = _bateman_ng_per_ml(np.arange(0.0, 1440.0, 0.01), 100.0, float(v[p]))
        assert r.cmax_ng_per_ml[p] == pytest.approx(curve.max(), rel=1e-8)
        k, ka = _CL_L_PER_MIN / float(v[p]), _KA_PER_MIN
        peak_min = 1.0 / k if ka == k else np.log(ka / k) / (ka - k)
        assert r.tmax_min[p] == pytest.approx(peak_min, abs=0.02)  # the expm path: a dense grid
        k = _CL_L_PER_MIN / float(v[p])
        exact_auc = 1000.0 * 100.0 / _CL_L_PER_MIN  # to infinity; the 24-h tail is negligible
        assert r.auc_ng_h_per_ml[p] * 60.0 == pytest.approx(exact_auc, rel=1e-6 + np.exp(-k * 1440))
    np.testing.assert_allclose(
        r.minutes_above_ng_per_ml[200.0][heavy], r.minutes_above_ng_per_ml[200.0][heavy][0]
    )


def test_a_well_conditioned_population_needs_no_matrix_exponential() -> None:
    r = simulate_population("kamp", INFUSION, n=500, seed=1)
    assert r.expm_patients == 0


def test_what_a_cluster_receives_pickles_and_gives_the_same_numbers() -> None:
    """Workers of a real cluster unpickle the model, doses, population and variability."""
    import pickle

    model = pickle.loads(pickle.dumps(get_model("perez-ruixo")))
    population = pickle.loads(pickle.dumps(population_spec("hepatic-mix")))
    variability = parse_variability("default", model)
    assert pickle.loads(pickle.dumps(variability)) == variability
    doses = pickle.loads(pickle.dumps(parse_doses(["intranasal 56 mg at 0 min"])))
    assert model == get_model("perez-ruixo")
    kwargs: dict[str, Any] = {"n": 1500, "seed": 2, "thresholds_ng_per_ml": [100.0]}
    shipped = simulate_population(model, doses, covariates=population, **kwargs)
    here = simulate_population(
        "perez-ruixo", ["intranasal 56 mg"], covariates="hepatic-mix", **kwargs
    )
    np.testing.assert_array_equal(shipped.cmax_ng_per_ml, here.cmax_ng_per_ml)
    np.testing.assert_array_equal(
        shipped.norketamine.auc_ng_h_per_ml, here.norketamine.auc_ng_h_per_ml
    )  # type: ignore[union-attr]


@pytest.mark.parametrize("kernel", ["numpy", "compiled"])  # bands sorted, or selected
def test_a_single_helper_thread_is_enough(kernel: str) -> None:
    """Helper tasks (half of a chunk's draws, the halves of the band sort or selection) never
    wait for each other: one helper thread finishes the run, with the default run's numbers."""
    from concurrent.futures import ThreadPoolExecutor

    kwargs: dict[str, Any] = {
        "n": 20_000,
        "seed": 5,
        "step_min": 10.0,
        "chunk_size": 16 * BLOCK_SIZE,  # >= 8 blocks a chunk: draws are split
        "kernel": kernel,
    }
    with ThreadExecutor(helper_threads=1) as one, ThreadPoolExecutor(1) as watchdog:
        run = watchdog.submit(simulate_population, "kamp", INFUSION, executor=one, **kwargs)
        lean = run.result(timeout=120)  # a deadlock fails here instead of hanging
    default = simulate_population("kamp", INFUSION, **kwargs)
    np.testing.assert_array_equal(lean.cmax_ng_per_ml, default.cmax_ng_per_ml)
    assert lean.band_patients * lean.band_times_min.size >= 200_000  # the sort was split
    for q in PERCENTILES:
        np.testing.assert_array_equal(lean.bands_ng_per_ml[q], default.bands_ng_per_ml[q])


def test_an_object_that_is_not_an_executor_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="executor must provide shares_memory, map_unordered"):
        simulate_population("kamp", INFUSION, n=10, seed=1, executor=object())  # type: ignore[arg-type]


def test_patients_outside_the_models_ranges_are_counted_in_the_warnings() -> None:
    """The same words as simulate's, with the fraction of patients outside each range."""
    children = simulate_population("kamp", INFUSION, n=500, seed=1, covariates="children")
    weight = next(w for w in children.warnings if "have a weight outside" in w)
    age = next(w for w in children.warnings if "have an age outside" in w)
    light = np.mean(children.covariates.weight_kg < 40.0)
    assert weight.startswith(f"{light:.1%} of patients")
    assert "Kamp 2020 meta-analysis model's validated range 40-140 kg" in weight
    assert age.startswith("100.0% of patients")
    assert "extrapolations" in age
    adults = simulate_population("herd", INFUSION, n=500, seed=1)
    herd = "outside the Herd 2007 model's validated range 1-14 years"
    assert any(herd in w for w in adults.warnings)
    inside = simulate_population("kamp", INFUSION, n=500, seed=1, covariates=FIXED_70KG)
    assert not any("outside" in w for w in inside.warnings)
