"""The exact solver against closed-form solutions of textbook compartment models (rtol 1e-10).

Each system is assembled from hand-made parameter arrays (L, L/min) with ``build_system`` and
solved with ``solve``, both from the public facade, so the catalogue plays no part here
(except in the last test, which checks the catalogue's state order).
Formulas: Gibaldi & Perrier, Pharmacokinetics, 2nd ed., chapters 1-2 and appendix C.
"""

from __future__ import annotations

import numpy as np
import pytest

from ketaclinic.pharmacology import (
    MODELS,
    AbsorptionPath,
    Input,
    LinearSystem,
    Patient,
    Solution,
    Structure,
    build_system,
    covariates_of,
    decompose,
    solve,
)

RTOL = 1e-10
ATOL_MG_PER_L = 1e-15

# Three patients at once: the solver is vectorised over patients and must not mix them up.
CL = np.array([1.4, 0.8, 2.5])  # L/min
V1 = np.array([25.0, 60.0, 12.0])  # L
Q2 = np.array([2.7, 0.5, 4.0])  # L/min
V2 = np.array([56.0, 150.0, 30.0])  # L
DOSE_MG = np.array([35.0, 70.0, 10.0])

UNIFORM_MIN = np.arange(0.0, 600.0 + 0.25, 0.25)  # >= 64 evenly spaced points: fast path
ARBITRARY_MIN = np.array([0.0, 0.001, 0.37, 1.0, 2.5, 10.0, 39.999, 40.0, 40.001, 95.3, 600.0])
GRIDS = pytest.mark.parametrize("times", [UNIFORM_MIN, ARBITRARY_MIN], ids=["uniform", "arbitrary"])


def _plasma(system: LinearSystem, inputs: list[Input], times: np.ndarray) -> Solution:
    rows = system.concentration_row("central")[:, None, :]
    return solve(system, inputs, times, rows)


def _one_compartment() -> LinearSystem:
    return build_system(Structure(), {"CL": CL, "V1": V1})


@GRIDS
def test_one_compartment_bolus_decays_as_a_single_exponential(times: np.ndarray) -> None:
    system = _one_compartment()
    sol = _plasma(system, [Input(system.index("central"), 0.0, 0.0, DOSE_MG)], times)
    k = (CL / V1)[:, None]
    expected = (DOSE_MG / V1)[:, None] * np.exp(-k * times[None, :])
    np.testing.assert_allclose(sol.values[:, 0, :], expected, rtol=RTOL, atol=ATOL_MG_PER_L)


def test_one_compartment_bolus_area_is_the_exact_integral() -> None:
    system = _one_compartment()
    times = np.array([0.0, 30.0, 240.0])
    sol = _plasma(system, [Input(system.index("central"), 0.0, 0.0, DOSE_MG)], times)
    k = CL / V1
    expected_mg_min_per_l = DOSE_MG / CL * -np.expm1(-k * times[-1])
    np.testing.assert_allclose(sol.integral[:, 0], expected_mg_min_per_l, rtol=RTOL)


def test_the_area_runs_from_the_first_to_the_last_grid_time() -> None:
    """A grid that starts late integrates only its own span: D/CL (exp(-k t1) - exp(-k t2))."""
    system = _one_compartment()
    times = np.array([12.5, 13.0, 90.0, 250.0])
    sol = _plasma(system, [Input(system.index("central"), 0.0, 0.0, DOSE_MG)], times)
    k = CL / V1
    expected = DOSE_MG / CL * (np.exp(-k * times[0]) - np.exp(-k * times[-1]))
    np.testing.assert_allclose(sol.integral[:, 0], expected, rtol=RTOL)


def test_a_delayed_bolus_is_zero_before_it_and_shifted_after_it() -> None:
    system = _one_compartment()
    start = 17.5
    times = np.array([0.0, 10.0, 17.4999, 17.5, 30.0, 100.0])
    sol = _plasma(system, [Input(system.index("central"), start, 0.0, DOSE_MG)], times)
    k = (CL / V1)[:, None]
    tau = np.clip(times - start, 0.0, None)[None, :]
    expected = np.where(times >= start, (DOSE_MG / V1)[:, None] * np.exp(-k * tau), 0.0)
    np.testing.assert_allclose(sol.values[:, 0, :], expected, rtol=RTOL, atol=ATOL_MG_PER_L)


@GRIDS
def test_one_compartment_infusion_rises_then_decays(times: np.ndarray) -> None:
    system = _one_compartment()
    duration_min = 40.0
    sol = _plasma(system, [Input(system.index("central"), 0.0, duration_min, DOSE_MG)], times)
    k = (CL / V1)[:, None]
    rate_mg_per_min = (DOSE_MG / duration_min)[:, None]
    t = times[None, :]
    during = rate_mg_per_min / CL[:, None] * -np.expm1(-k * t)
    at_end = rate_mg_per_min / CL[:, None] * -np.expm1(-k * duration_min)
    after = at_end * np.exp(-k * (t - duration_min))
    expected = np.where(t <= duration_min, during, after)
    np.testing.assert_allclose(sol.values[:, 0, :], expected, rtol=RTOL, atol=ATOL_MG_PER_L)


def test_one_compartment_infusion_area_equals_dose_over_clearance_at_infinity() -> None:
    system = _one_compartment()
    # 200 half-lives of the slowest patient: the tail beyond is below 1e-60 of the dose
    times = np.array([0.0, 200.0 * np.log(2.0) * float(np.max(V1 / CL))])
    sol = _plasma(system, [Input(system.index("central"), 0.0, 40.0, DOSE_MG)], times)
    np.testing.assert_allclose(sol.integral[:, 0], DOSE_MG / CL, rtol=RTOL)


def _two_compartment_bolus_closed_form(t: np.ndarray) -> np.ndarray:
    """C(t) = A exp(-alpha t) + B exp(-beta t) with alpha, beta the roots of
    s^2 - (k10 + k12 + k21) s + k10 k21 = 0 and A = D/V1 (alpha - k21)/(alpha - beta),
    B = D/V1 (k21 - beta)/(alpha - beta) (Gibaldi & Perrier, eq. 2.7-2.13)."""
    k10, k12, k21 = CL / V1, Q2 / V1, Q2 / V2
    total = k10 + k12 + k21
    root = np.sqrt(total * total - 4.0 * k10 * k21)
    alpha, beta = (total + root) / 2.0, (total - root) / 2.0
    a = DOSE_MG / V1 * (alpha - k21) / (alpha - beta)
    b = DOSE_MG / V1 * (k21 - beta) / (alpha - beta)
    tt = t[None, :]
    return a[:, None] * np.exp(-alpha[:, None] * tt) + b[:, None] * np.exp(-beta[:, None] * tt)


@GRIDS
def test_two_compartment_bolus_is_biexponential(times: np.ndarray) -> None:
    system = build_system(Structure(peripherals=1), {"CL": CL, "V1": V1, "Q2": Q2, "V2": V2})
    sol = _plasma(system, [Input(system.index("central"), 0.0, 0.0, DOSE_MG)], times)
    expected = _two_compartment_bolus_closed_form(times)
    np.testing.assert_allclose(sol.values[:, 0, :], expected, rtol=RTOL, atol=ATOL_MG_PER_L)


def test_two_compartment_bolus_peripheral_amount_is_biexponential() -> None:
    """The peripheral amount after a bolus: D k12 (exp(-beta t) - exp(-alpha t))/(alpha - beta)."""
    system = build_system(Structure(peripherals=1), {"CL": CL, "V1": V1, "Q2": Q2, "V2": V2})
    times = np.array([0.0, 1.0, 5.0, 30.0, 120.0, 600.0])
    row = np.zeros((3, 1, len(system.states)))
    row[:, 0, system.index("periph2")] = 1.0  # amount in mg
    sol = solve(system, [Input(system.index("central"), 0.0, 0.0, DOSE_MG)], times, row)
    k10, k12, k21 = CL / V1, Q2 / V1, Q2 / V2
    total = k10 + k12 + k21
    root = np.sqrt(total * total - 4.0 * k10 * k21)
    alpha, beta = ((total + root) / 2.0)[:, None], ((total - root) / 2.0)[:, None]
    expected = (DOSE_MG * k12)[:, None] * (np.exp(-beta * times) - np.exp(-alpha * times))
    expected /= alpha - beta
    np.testing.assert_allclose(sol.values[:, 0, :], expected, rtol=RTOL, atol=1e-14)


def _depot_system(ka: np.ndarray, f: np.ndarray) -> LinearSystem:
    """One compartment with an oral depot; the per-patient ka and F arrays override the
    path's own (placeholder) values, as inter-individual variability does."""
    oral = AbsorptionPath("oral", ka_per_min=0.1)
    params = {"CL": CL, "V1": V1, oral.ka_name: ka, oral.f_name: f}
    return build_system(Structure(), params, [oral])


@GRIDS
def test_first_order_absorption_follows_the_bateman_function(times: np.ndarray) -> None:
    ka, f = np.array([0.05, 0.02, 0.3]), np.array([0.2, 0.93, 1.0])
    system = _depot_system(ka, f)
    sol = _plasma(system, [Input(system.index("depot_oral"), 0.0, 0.0, DOSE_MG)], times)
    k = CL / V1
    scale = (f * DOSE_MG * ka / (V1 * (ka - k)))[:, None]
    expected = scale * (np.exp(-k[:, None] * times) - np.exp(-ka[:, None] * times))
    np.testing.assert_allclose(sol.values[:, 0, :], expected, rtol=RTOL, atol=ATOL_MG_PER_L)


def test_equal_absorption_and_elimination_rates_are_solved_exactly() -> None:
    """ka = k makes the eigenbasis defective; the solver must fall back to matrix exponentials
    and still give the limit of the Bateman function, F D k t exp(-k t) / V."""
    k = CL / V1
    system = _depot_system(k.copy(), np.ones(3))
    assert not np.any(decompose(system.a_per_min).good)  # the fallback path is what we test
    times = np.array([0.0, 0.5, 3.0, 17.0, 60.0, 333.3])
    sol = _plasma(system, [Input(system.index("depot_oral"), 0.0, 0.0, DOSE_MG)], times)
    expected = (DOSE_MG * k / V1)[:, None] * times * np.exp(-k[:, None] * times)
    np.testing.assert_allclose(sol.values[:, 0, :], expected, rtol=RTOL, atol=ATOL_MG_PER_L)
    exact_area = DOSE_MG / CL * (1.0 - np.exp(-k * times[-1]) * (1.0 + k * times[-1]))
    np.testing.assert_allclose(sol.integral[:, 0], exact_area, rtol=RTOL)


def test_effect_site_follows_plasma_with_its_own_closed_form() -> None:
    """After a one-compartment bolus, Ce = D/V ke0 (exp(-k t) - exp(-ke0 t)) / (ke0 - k)."""
    ke0 = np.array([0.114, 0.5, 0.01])
    system = build_system(Structure(effect_site=True), {"CL": CL, "V1": V1, "ke0": ke0})
    times = np.array([0.0, 0.2, 1.0, 6.1, 30.0, 200.0])
    rows = system.concentration_row("effect")[:, None, :]
    sol = solve(system, [Input(system.index("central"), 0.0, 0.0, DOSE_MG)], times, rows)
    k = CL / V1
    scale = (DOSE_MG / V1 * ke0 / (ke0 - k))[:, None]
    expected = scale * (np.exp(-k[:, None] * times) - np.exp(-ke0[:, None] * times))
    np.testing.assert_allclose(sol.values[:, 0, :], expected, rtol=RTOL, atol=ATOL_MG_PER_L)


def test_it_refuses_unsorted_or_negative_times() -> None:
    system = _one_compartment()
    inputs = [Input(0, 0.0, 0.0, DOSE_MG)]
    rows = system.concentration_row("central")[:, None, :]
    with pytest.raises(ValueError, match="sorted"):
        solve(system, inputs, np.array([0.0, 2.0, 1.0]), rows)
    with pytest.raises(ValueError, match="non-negative"):
        solve(system, inputs, np.array([-1.0, 2.0]), rows)


@pytest.mark.parametrize("model_id", list(MODELS))
def test_the_system_has_the_states_its_structure_declares(model_id: str) -> None:
    """One order of states everywhere: the builder's, and the structure's (which the regimen
    and populations use to place their inputs)."""
    model = MODELS[model_id]
    routes = tuple(model.routes)
    params = model.parameters(covariates_of(Patient(weight_kg=70)), routes)
    system = build_system(model.structure, params, model.paths(routes))
    assert system.states == model.structure.states(model.paths(routes))
