"""Summary metrics (Cmax, Tmax, exact AUC, minutes above thresholds, values at chosen times),
checked on a hand-made one-compartment PKModel whose answers are known in closed form."""

from __future__ import annotations

import inspect
import math
import subprocess
import sys

import numpy as np
import pytest

import ketaclinic.pharmacology as pharmacology
from ketaclinic.pharmacology import (
    Covariates,
    Drug,
    Patient,
    PKModel,
    Route,
    RouteSpec,
    Structure,
    declare_parameters,
    grid_maximum,
    minutes_above,
    simulate,
)

CL_L_PER_MIN, V_L = 1.0, 50.0
K_PER_MIN = CL_L_PER_MIN / V_L


def _one_compartment(cov: Covariates) -> dict[str, np.ndarray]:
    return {"CL": np.full(cov.n, CL_L_PER_MIN), "V1": np.full(cov.n, V_L)}


ONE_COMPARTMENT = Structure()
TEXTBOOK = PKModel(
    id="textbook",
    name="One-compartment textbook model",
    drug=Drug.RACEMIC,
    population="none: a test fixture",
    source="Gibaldi & Perrier, Pharmacokinetics, chapter 1",
    typical=_one_compartment,
    structure=ONE_COMPARTMENT,
    parameter_specs=declare_parameters(ONE_COMPARTMENT, "Gibaldi & Perrier, chapter 1"),
    routes={Route.IV: RouteSpec(Route.IV, True, "test")},
    weight_range_kg=(2.0, 300.0),
    age_range_years=(0.0, 120.0),
)
PATIENT = Patient(weight_kg=70)


def test_a_custom_model_without_effect_site_or_metabolite_reports_none_for_them() -> None:
    result = simulate(TEXTBOOK, PATIENT, ["iv-bolus 50 mg"], [0.0, 1.0])
    assert result.effect_site_ng_per_ml is None
    assert result.norketamine_ng_per_ml is None
    assert result.summary.effect_site is None
    assert result.summary.norketamine is None
    assert result.to_dict()["summary"]["norketamine"] is None


def test_auc_is_the_exact_integral_in_ng_h_per_ml() -> None:
    """Coarse grid, exact area: D/CL (1 - exp(-k T)), converted from mg min/L to ng h/mL."""
    end_min = 300.0
    result = simulate(TEXTBOOK, PATIENT, ["iv-bolus 50 mg"], [0.0, 7.0, end_min])
    exact = 50.0 / CL_L_PER_MIN * -math.expm1(-K_PER_MIN * end_min) * 1000.0 / 60.0
    assert result.summary.ketamine.auc_ng_h_per_ml == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("step_min", [1.0, 7.0, 60.0, 600.0])
def test_cmax_and_tmax_are_exact_whatever_the_grid(step_min: float) -> None:
    """The peak at the end of the infusion (40 min) is found on a grid that misses it."""
    times = np.arange(0.0, 601.0, step_min)
    result = simulate(TEXTBOOK, PATIENT, ["iv-infusion 50 mg over 30 min at 10 min"], times)
    rate = 50.0 / 30.0
    peak = rate / CL_L_PER_MIN * -math.expm1(-K_PER_MIN * 30.0) * 1000.0
    assert result.summary.ketamine.tmax_min == 40.0
    assert result.summary.ketamine.cmax_ng_per_ml == pytest.approx(peak, rel=1e-12)
    assert result.summary.ketamine.auc_interval_min == (0.0, float(times[-1]))


def test_a_peak_between_grid_points_is_found_by_its_turning_point() -> None:
    """Oral dosing (Bateman curve): the peak lies inside a segment, at ln(ka/k)/(ka - k)."""
    patient = Patient(weight_kg=70, age_years=40)
    fine = simulate("domino", patient, ["oral 50 mg at 0 min"], np.arange(0.0, 1441.0, 0.01))
    coarse = simulate("domino", patient, ["oral 50 mg at 0 min"], [0.0, 1440.0])
    grid_peak = float(np.max(fine.ketamine_ng_per_ml))
    assert coarse.summary.ketamine.cmax_ng_per_ml == pytest.approx(grid_peak, rel=1e-8)
    assert coarse.summary.ketamine.cmax_ng_per_ml >= grid_peak
    assert coarse.summary.ketamine.tmax_min == pytest.approx(
        float(fine.times_min[np.argmax(fine.ketamine_ng_per_ml)]), abs=0.01
    )
    site = coarse.summary.effect_site
    assert site is not None
    assert fine.summary.effect_site is not None
    assert site.cmax_ng_per_ml == pytest.approx(fine.summary.effect_site.cmax_ng_per_ml, rel=1e-12)


def test_the_issue_example_reports_the_true_peak_and_minutes_at_a_one_hour_step() -> None:
    """Kamp 2020, 0.5 mg/kg over 40 min (issue 9 item 4): about 253 ng/mL, 53 min above
    100 ng/mL, whatever the grid; the horizon, not the grid, sets the window."""
    patient = Patient(weight_kg=70, age_years=40)
    doses = ["iv-infusion 0.5 mg/kg over 40 min at 0 min"]
    by_minute = simulate("kamp", patient, doses, thresholds_ng_per_ml=[100.0])
    for times in (np.arange(0.0, 1501.0, 60.0), [0.0]):
        coarse = simulate(
            "kamp", patient, doses, times, thresholds_ng_per_ml=[100.0], horizon_min=1500.0
        )
        for name in ("ketamine", "effect_site"):
            a, b = getattr(coarse.summary, name), getattr(by_minute.summary, name)
            assert a.cmax_ng_per_ml == pytest.approx(b.cmax_ng_per_ml, rel=1e-12)
            assert a.tmax_min == pytest.approx(b.tmax_min, abs=1e-9)
            assert a.auc_ng_h_per_ml == pytest.approx(b.auc_ng_h_per_ml, rel=1e-12)
            assert a.minutes_above_ng_per_ml[100.0] == pytest.approx(
                b.minutes_above_ng_per_ml[100.0], abs=1e-9
            )
    ket = by_minute.summary.ketamine
    assert ket.cmax_ng_per_ml == pytest.approx(253.05, abs=0.1)
    assert ket.minutes_above_ng_per_ml[100.0] == pytest.approx(53.17, abs=0.01)
    assert by_minute.summary.to_dict()["auc_interval_h"] == [0.0, 25.0]


def test_a_plasma_peak_right_after_an_iv_bolus_is_called_an_artefact() -> None:
    result = simulate("kamp", Patient(weight_kg=70), ["iv-bolus 35 mg at 0 min"])
    assert result.summary.ketamine.cmax_at_iv_bolus
    assert result.summary.to_dict()["cmax_at_iv_bolus"] is True
    site = result.summary.effect_site
    assert site is not None
    assert site.tmax_min > 1.0
    note = next(w for w in result.warnings if "instant after an IV bolus" in w)
    assert f"effect-site peak is {site.cmax_ng_per_ml:.0f} ng/mL" in note
    infusion = simulate("kamp", Patient(weight_kg=70), ["iv-infusion 35 mg over 40 min"])
    assert not infusion.summary.ketamine.cmax_at_iv_bolus
    assert not any("IV bolus" in w for w in infusion.warnings)


def test_a_dose_after_the_window_is_named_in_a_warning() -> None:
    result = simulate("kamp", Patient(weight_kg=70), ["iv-bolus 35 mg at 600 min"], [0.0, 60.0])
    assert result.summary.ketamine.cmax_ng_per_ml == 0.0
    assert any("after the simulated window ends at 60 min" in w for w in result.warnings)


def test_minutes_above_a_threshold_match_the_analytic_crossing_time() -> None:
    """After a 1000 ng/mL bolus concentration, C > c for ln(1000/c)/k minutes."""
    times = np.arange(0.0, 600.0, 7.0)
    result = simulate(
        TEXTBOOK, PATIENT, ["iv-bolus 50 mg"], times, thresholds_ng_per_ml=[100.0, 250.0, 2000.0]
    )
    above = result.summary.ketamine.minutes_above_ng_per_ml
    assert above[100.0] == pytest.approx(math.log(10.0) / K_PER_MIN, abs=1e-9)
    assert above[250.0] == pytest.approx(math.log(4.0) / K_PER_MIN, abs=1e-9)
    assert above[2000.0] == 0.0
    assert set(result.summary.to_dict()["minutes_above_ng_per_ml"]) == {"100", "250", "2000"}


def test_values_at_chosen_times_are_exact_whatever_the_grid() -> None:
    result = simulate(TEXTBOOK, PATIENT, ["iv-bolus 50 mg"], [0.0, 100.0], at_min=[33.3, 2.5, 77.0])
    values = result.summary.ketamine.values_at_min
    assert list(values) == [2.5, 33.3, 77.0]
    for t, v in values.items():
        assert v == pytest.approx(1000.0 * np.exp(-K_PER_MIN * t), rel=1e-12)
    assert result.summary.to_dict()["ng_per_ml_at_min"]["33.3"] == values[33.3]


def test_grid_maximum_and_minutes_above_work_on_many_patients() -> None:
    times = np.array([0.0, 1.0, 2.0, 3.0])
    conc = np.array([[0.0, 2.0, 1.0, 0.0], [5.0, 5.0, 0.0, 0.0]])
    cmax, tmax = grid_maximum(times, conc)
    np.testing.assert_array_equal(cmax, [2.0, 5.0])
    np.testing.assert_array_equal(tmax, [1.0, 0.0])  # the first time the maximum occurs
    np.testing.assert_allclose(minutes_above(times, conc, 1.0), [1.5, 1.8])
    np.testing.assert_array_equal(minutes_above(times[:1], conc[:, :1], 1.0), [0.0, 0.0])


def test_the_facade_catalogues_what_users_may_import() -> None:
    assert sorted(pharmacology.__all__) == sorted(
        [
            "ASSUMED_KE0_PER_MIN",
            "CONCENTRATION_BANDS",
            "DEFAULT_CV",
            "DOSE_GRAMMAR_HELP",
            "EFFECT_BANDS",
            "HEPATIC_SCALING",
            "MODELS",
            "NAMED_POPULATIONS",
            "NORKETAMINE_PER_KETAMINE_MG",
            "PERCENTILES",
            "RACEMIC_ROUTE_EXTENSIONS",
            "AbsorptionPath",
            "ChildPugh",
            "ConcentrationBand",
            "Covariates",
            "Dose",
            "DoseUnit",
            "Drug",
            "Ethnicity",
            "Exceedance",
            "Executor",
            "HepaticScaling",
            "Input",
            "LinearSystem",
            "Metabolite",
            "Modes",
            "PKModel",
            "ParameterSpec",
            "Patient",
            "PopulationMetrics",
            "PopulationResult",
            "Route",
            "RouteSpec",
            "Sex",
            "SimulationResult",
            "Solution",
            "SpeciesSummary",
            "Structure",
            "Summary",
            "TimeUnit",
            "Variability",
            "bands_for",
            "build_system",
            "covariates_of",
            "declare_parameters",
            "decompose",
            "default_horizon_min",
            "default_times_min",
            "expand_doses",
            "get_model",
            "grid_maximum",
            "interval_label",
            "minutes_above",
            "parse_dose",
            "parse_doses",
            "parse_duration_min",
            "parse_time",
            "parse_variability",
            "plain_number",
            "population_spec",
            "regimen_inputs",
            "regimen_system",
            "route_of",
            "simulate",
            "simulate_population",
            "solve",
            "warm_up",
        ]
    )


def test_every_public_name_comes_from_a_private_module_and_is_in_all() -> None:
    """The facade re-exports; implementation modules stay private. A public name that is
    imported into the facade but missing from ``__all__`` (or the reverse) fails here."""
    public = {n for n in dir(pharmacology) if not n.startswith("_")}
    modules = {n for n in public if inspect.ismodule(getattr(pharmacology, n))}
    assert not modules, modules  # no public submodules
    assert public - modules == set(pharmacology.__all__)
    for name in pharmacology.__all__:
        home = getattr(getattr(pharmacology, name), "__module__", None)
        if inspect.isclass(getattr(pharmacology, name)) or inspect.isfunction(
            getattr(pharmacology, name)
        ):
            assert home is not None
            assert home.startswith("ketaclinic.pharmacology._"), (name, home)


def test_importing_the_facade_loads_no_population_numba_scipy_or_executor() -> None:
    """The single-patient path stays light: populations load on first use, Numba only on
    the compiled path, SciPy only for the matrix-exponential fallback (a fresh process)."""
    code = (
        "import sys, ketaclinic.pharmacology as p;"
        "p.simulate('kamp', p.Patient(weight_kg=70), ['iv-bolus 5 mg'], [0.0, 1.0]);"
        "heavy = ('numba', 'scipy', 'dask', 'concurrent.futures',"
        " 'ketaclinic.pharmacology._population');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_catalogue_holds_eleven_models_each_with_a_source_an_assumed_ke0_and_iv() -> None:
    ids = ["domino", "clements", "hijazi", "herd", "hornik", "kamp", "sherwin", "elkomy"]
    assert list(pharmacology.MODELS) == [*ids, "fanta", "perez-ruixo", "simons"]
    for model in pharmacology.MODELS.values():
        assert model.source
        assert model.ke0_source.startswith("ke0 assumed")
        assert Route.IV in model.routes


@pytest.mark.parametrize("child_pugh", ["none", "B"])
def test_leaving_norketamine_out_keeps_every_ketamine_value(child_pugh: str) -> None:
    """``norketamine=False``: no metabolite curve or summary, and the ketamine and
    effect-site curves and summaries are those of the full run (the metabolite never feeds
    back into the parent)."""
    patient = Patient(weight_kg=70, age_years=40, child_pugh=child_pugh)
    doses = ["iv-infusion 0.5 mg/kg over 40 min at 0 min", "oral 50 mg at 600 min"]
    grid = np.arange(0, 1441, 0.5)
    full = simulate("domino", patient, doses, grid, thresholds_ng_per_ml=[100], at_min=[45])
    lean = simulate(
        "domino",
        patient,
        doses,
        grid,
        thresholds_ng_per_ml=[100],
        at_min=[45],
        norketamine=False,
    )
    assert full.norketamine_ng_per_ml is not None
    assert full.summary.norketamine is not None
    assert lean.norketamine_ng_per_ml is None
    assert lean.summary.norketamine is None
    np.testing.assert_allclose(lean.ketamine_ng_per_ml, full.ketamine_ng_per_ml, rtol=1e-12)
    kept, whole = lean.summary.ketamine, full.summary.ketamine
    assert kept.cmax_ng_per_ml == pytest.approx(whole.cmax_ng_per_ml, rel=1e-12)
    assert kept.tmax_min == pytest.approx(whole.tmax_min, rel=1e-12)
    assert kept.auc_ng_h_per_ml == pytest.approx(whole.auc_ng_h_per_ml, rel=1e-12)
    assert kept.minutes_above_ng_per_ml == pytest.approx(whole.minutes_above_ng_per_ml)
    assert kept.values_at_min == pytest.approx(whole.values_at_min, rel=1e-12)
    assert lean.summary.effect_site == full.summary.effect_site
    assert lean.warnings == full.warnings
