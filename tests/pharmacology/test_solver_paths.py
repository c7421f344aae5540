"""The solver's two paths agree: modal sums of exponentials (the fast path) and stepping with
matrix exponentials (the fallback for ill-conditioned eigenbases), for many patients at once
and for any mix of patients on either path."""

from __future__ import annotations

import numpy as np
from dose_text import dose_text
from hypothesis import assume, given
from hypothesis import strategies as st

from ketaclinic.pharmacology import (
    MODELS,
    ChildPugh,
    Covariates,
    Dose,
    Modes,
    PKModel,
    Route,
    decompose,
    parse_doses,
    regimen_inputs,
    regimen_system,
    solve,
)


@st.composite
def population_cases(draw: st.DrawFn) -> tuple[PKModel, Covariates, list[Dose]]:
    model = draw(st.sampled_from(list(MODELS.values())))
    n = draw(st.integers(1, 4))
    low, high = model.weight_range_kg
    weights = draw(st.lists(st.floats(low, high), min_size=n, max_size=n))
    ages = draw(st.lists(st.floats(*model.age_range_years), min_size=n, max_size=n))
    cov = Covariates(
        weight_kg=np.array(weights),
        age_years=np.array(ages),
        female=np.zeros(n, dtype=bool),
        height_cm=np.full(n, 170.0),
        child_pugh=np.array(
            [
                str(c)
                for c in draw(st.lists(st.sampled_from(list(ChildPugh)), min_size=n, max_size=n))
            ]
        ),
    )
    doses = []
    for _ in range(draw(st.integers(1, 3))):
        route = draw(st.sampled_from(list(model.routes)))
        amount = (
            model.intranasal_devices_mg * draw(st.integers(1, 3))
            if route is Route.INTRANASAL and model.intranasal_devices_mg
            else draw(st.floats(1.0, 100.0))
        )
        duration = (
            draw(st.floats(1.0, 240.0)) if route.allows_infusion and draw(st.booleans()) else 0.0
        )
        doses.append(dose_text(route, amount, draw(st.floats(0.0, 300.0)), duration))
    return model, cov, parse_doses(doses)


@given(population_cases(), st.data())
def test_the_matrix_exponential_fallback_agrees_with_the_modal_solution(
    case: tuple[PKModel, Covariates, list[Dose]], data: st.DataObject
) -> None:
    model, cov, doses = case
    system, _ = regimen_system(model, cov, doses, None)
    inputs = regimen_inputs(model, doses, cov.weight_kg)
    rows = np.stack(
        [system.concentration_row(s) for s in ("central", "effect") if system.has(s)], axis=1
    )
    uniform = data.draw(st.booleans())
    if uniform:
        times = np.arange(0.0, 1441.0, 2.0) + data.draw(st.sampled_from([0.0, 3.0]))
    else:
        times = np.sort(
            np.array(data.draw(st.lists(st.floats(0.0, 1440.0), min_size=1, max_size=40)))
        )
    modal = decompose(system.a_per_min)
    # two routes with the same absorption rate (IM and intranasal extensions: 0.023 /min)
    # make a truly degenerate basis: no modal reference exists, the fallback is all there is
    assume(np.all(modal.good))
    # Send a chosen subset of patients down the fallback path.
    forced = np.array(
        data.draw(st.lists(st.booleans(), min_size=cov.n, max_size=cov.n)), dtype=bool
    )
    mixed = Modes(modal.lam, modal.vec, modal.inv, ~forced)
    fast = solve(system, inputs, times, rows, modal)
    stepped = solve(system, inputs, times, rows, mixed)
    # 1 ng/mL floor: a lone grid time before any dose holds only rounding noise
    scale = max(float(np.max(np.abs(fast.values))), 1e-3)
    np.testing.assert_allclose(stepped.values, fast.values, rtol=1e-8, atol=1e-11 * scale)
    np.testing.assert_allclose(
        stepped.integral,
        fast.integral,
        rtol=1e-8,
        atol=1e-11 * max(float(np.max(np.abs(fast.integral))), 1e-3),
    )


def test_patients_in_one_call_do_not_affect_each_other() -> None:
    """A population call gives each patient what a call of their own gives."""
    model = MODELS["fanta"]
    cov = Covariates(
        weight_kg=np.array([55.0, 70.0, 105.0]),
        age_years=np.array([20.0, 40.0, 60.0]),
        female=np.array([False, True, False]),
        height_cm=np.full(3, 170.0),
        child_pugh=np.array(["none", "B", "A"]),
    )
    doses = parse_doses(["iv-infusion 0.25 mg/kg over 40 min at 0 min", "oral 20 mg at 120 min"])
    times = np.arange(0.0, 720.0, 1.0)
    system, _ = regimen_system(model, cov, doses, None)
    rows = np.stack(
        [system.concentration_row("central"), system.concentration_row("nk_central")], 1
    )
    together = solve(system, regimen_inputs(model, doses, cov.weight_kg), times, rows)
    for p in range(3):
        one = Covariates(
            cov.weight_kg[p : p + 1],
            cov.age_years[p : p + 1],
            cov.female[p : p + 1],
            cov.height_cm[p : p + 1],
            cov.child_pugh[p : p + 1],
        )
        sys_one, _ = regimen_system(model, one, doses, None)
        rows_one = rows[p : p + 1]
        alone = solve(sys_one, regimen_inputs(model, doses, one.weight_kg), times, rows_one)
        np.testing.assert_allclose(together.values[p], alone.values[0], rtol=1e-12, atol=0)
        np.testing.assert_allclose(together.integral[p], alone.integral[0], rtol=1e-12)
