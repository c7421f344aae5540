"""Invariants of linear pharmacokinetics, checked on generated models, patients and regimens.

Hypothesis runs with the deterministic profile of ``tests/conftest.py``. Every model and route
in the catalogue is in play; each generated dose event is given to the engine as grammar text
that reads back to exactly the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dose_text import dose_text
from hypothesis import assume, given
from hypothesis import strategies as st

from ketaclinic.pharmacology import (
    MODELS,
    NORKETAMINE_PER_KETAMINE_MG,
    ChildPugh,
    Patient,
    PKModel,
    Route,
    SimulationResult,
    covariates_of,
    parse_doses,
    regimen_inputs,
    regimen_system,
    simulate,
    solve,
)


@dataclass(frozen=True)
class Event:
    """One generated dose event; ``str()`` gives it in the dose grammar."""

    route: Route
    amount_mg: float
    start_min: float = 0.0
    duration_min: float = 0.0

    @property
    def end_min(self) -> float:
        return self.start_min + self.duration_min

    def __str__(self) -> str:
        return dose_text(self.route, self.amount_mg, self.start_min, self.duration_min)


Case = tuple[PKModel, Patient, list[Event]]
OUTPUTS = ("ketamine_ng_per_ml", "norketamine_ng_per_ml", "effect_site_ng_per_ml")


@st.composite
def patients(draw: st.DrawFn, model: PKModel) -> Patient:
    lo_w, hi_w = model.weight_range_kg
    lo_a, hi_a = model.age_range_years
    return Patient(
        weight_kg=draw(st.floats(lo_w, hi_w)),
        age_years=draw(st.floats(lo_a, hi_a)),
        sex=draw(st.sampled_from(["male", "female"])),
        child_pugh=draw(st.sampled_from(list(ChildPugh))),
    )


def _amount_mg(draw: st.DrawFn, model: PKModel, route: Route) -> float:
    if route is Route.INTRANASAL and model.intranasal_devices_mg:
        return model.intranasal_devices_mg * draw(st.integers(1, 3))
    return draw(st.floats(0.5, 200.0))


@st.composite
def doses(draw: st.DrawFn, model: PKModel, routes: tuple[Route, ...] = ()) -> Event:
    route = draw(st.sampled_from(routes or tuple(model.routes)))
    start_min = draw(st.floats(0.0, 600.0))
    duration_min = 0.0
    if route.allows_infusion and draw(st.booleans()):
        duration_min = draw(st.floats(0.5, 720.0))
    return Event(route, _amount_mg(draw, model, route), start_min, duration_min)


@st.composite
def cases(
    draw: st.DrawFn, routes: tuple[Route, ...] = (), min_doses: int = 1, max_doses: int = 3
) -> Case:
    model = draw(st.sampled_from([m for m in MODELS.values() if set(routes) <= set(m.routes)]))
    regimen = draw(st.lists(doses(model, routes), min_size=min_doses, max_size=max_doses))
    return model, draw(patients(model)), regimen


def _curves(result: SimulationResult) -> dict[str, np.ndarray]:
    return {k: getattr(result, k) for k in OUTPUTS if getattr(result, k) is not None}


TIMES_MIN = np.concatenate([np.arange(0.0, 120.0, 0.5), np.arange(120.0, 2881.0, 7.0)])


@given(cases(min_doses=2, max_doses=4), st.data())
def test_response_to_two_regimens_is_the_sum_of_the_responses(
    case: Case, data: st.DataObject
) -> None:
    model, patient, regimen = case
    cut = data.draw(st.integers(1, len(regimen) - 1))
    first, second = regimen[:cut], regimen[cut:]
    both = simulate(model, patient, _text(regimen), TIMES_MIN)
    a = simulate(model, patient, _text(first), TIMES_MIN)
    b = simulate(model, patient, _text(second), TIMES_MIN)
    for name, curve in _curves(both).items():
        summed = getattr(a, name) + getattr(b, name)
        np.testing.assert_allclose(curve, summed, rtol=1e-9, atol=1e-12 * np.max(curve))
    np.testing.assert_allclose(
        both.summary.ketamine.auc_ng_h_per_ml,
        a.summary.ketamine.auc_ng_h_per_ml + b.summary.ketamine.auc_ng_h_per_ml,
        rtol=1e-9,
    )


def _text(regimen: list[Event]) -> list[str]:
    return [str(e) for e in regimen]


def _proportional(regimen: list[Event], factor: float) -> list[str]:
    return [dose_text(e.route, e.amount_mg * factor, e.start_min, e.duration_min) for e in regimen]


@given(cases(), st.floats(0.05, 20.0))
def test_concentrations_are_proportional_to_dose(case: Case, factor: float) -> None:
    model, patient, regimen = case
    # Nasal sprays come in whole devices and later devices absorb less (Perez-Ruixo 2021),
    # so those doses are deliberately not proportional.
    assume(not any(d.route is Route.INTRANASAL and model.intranasal_devices_mg for d in regimen))
    base = simulate(model, patient, _text(regimen), TIMES_MIN)
    scaled = simulate(model, patient, _proportional(regimen, factor), TIMES_MIN)
    for name, curve in _curves(base).items():
        np.testing.assert_allclose(
            # atol: values 1e-8 of the peak (the first seconds after an oral dose through the
            # liver compartment) carry a relative rounding error near 1e-7
            getattr(scaled, name),
            factor * curve,
            rtol=1e-9,
            atol=1e-10 * factor * np.max(curve),
        )


@given(cases())
def test_concentrations_are_never_negative(case: Case) -> None:
    model, patient, regimen = case
    result = simulate(model, patient, _text(regimen), TIMES_MIN)
    for name, curve in _curves(result).items():
        assert np.min(curve) >= -1e-12 * max(1.0, float(np.max(curve))), name


@given(cases(), st.floats(0.01, 3000.0))
def test_every_mg_given_is_in_the_body_or_has_left_it(case: Case, until_min: float) -> None:
    """Amounts in all states + the exactly integrated losses = the dose given so far.

    Norketamine states hold norketamine mg: divided by NORKETAMINE_PER_KETAMINE_MG they are
    ketamine-equivalent mg. The effect site holds a concentration and no mass.
    """
    model, patient, regimen = case
    cov = covariates_of(patient)
    doses = parse_doses(_text(regimen))
    system, _ = regimen_system(model, cov, doses)
    inputs = regimen_inputs(model, doses, cov.weight_kg)
    s = len(system.states)
    per_parent_mg = np.array(
        [
            0.0
            if n == "effect"
            else 1.0 / NORKETAMINE_PER_KETAMINE_MG
            if n.startswith("nk_")
            else 1.0
            for n in system.states
        ]
    )
    rows = np.zeros((1, s + 1, s))
    rows[0, :s, :] = np.diag(per_parent_mg)  # amounts, ketamine-equivalent
    rows[0, s, :] = system.loss_per_min[0] * per_parent_mg  # rate of loss from the body
    sol = solve(system, inputs, np.array([0.0, until_min]), rows)
    in_body_mg = float(np.sum(sol.values[0, :s, -1]))
    lost_mg = float(sol.integral[0, s])
    given_mg = 0.0
    for inp in inputs:
        if inp.duration_min == 0:
            given_mg += float(inp.amount_mg[0]) if inp.start_min <= until_min else 0.0
        else:
            share = np.clip((until_min - inp.start_min) / inp.duration_min, 0.0, 1.0)
            given_mg += float(inp.amount_mg[0]) * share
    total_mg = sum(float(inp.amount_mg[0]) for inp in inputs)
    np.testing.assert_allclose(in_body_mg + lost_mg, given_mg, rtol=1e-9, atol=1e-10 * total_mg)


@given(cases(routes=(Route.IV,)))
def test_plasma_ketamine_only_falls_once_iv_dosing_has_ended(case: Case) -> None:
    """Mammillary models (and Perez-Ruixo's liver compartment, another peripheral) have a
    completely monotone central impulse response, so plasma cannot rise after the inputs end."""
    model, patient, regimen = case
    last_end = max(d.end_min for d in regimen)
    times = last_end + np.concatenate([np.arange(0.0, 60.0, 0.25), np.arange(60.0, 2880.0, 5.0)])
    curve = simulate(model, patient, _text(regimen), times).ketamine_ng_per_ml
    assert np.all(np.diff(curve) <= 1e-12 * np.max(curve))


_FIRST_ORDER = [
    (m.id, r)
    for m in MODELS.values()
    for r, spec in m.routes.items()
    if len(spec.paths) == 1 and spec.paths[0].zero_order_min == 0.0
]


@given(st.sampled_from(_FIRST_ORDER), st.floats(1.0, 200.0), st.data())
def test_plasma_ketamine_only_falls_after_the_peak_of_a_depot_dose(
    route_case: tuple[str, Route], amount_mg: float, data: st.DataObject
) -> None:
    model_id, route = route_case
    model = MODELS[model_id]
    patient = data.draw(patients(model))
    times = np.concatenate([np.arange(0.0, 240.0, 0.25), np.arange(240.0, 2880.0, 5.0)])
    curve = simulate(model, patient, [dose_text(route, amount_mg)], times).ketamine_ng_per_ml
    peak = int(np.argmax(curve))
    assert 0 < peak < times.size - 1
    assert np.all(np.diff(curve[: peak + 1]) >= -1e-12 * curve[peak])
    assert np.all(np.diff(curve[peak:]) <= 1e-12 * curve[peak])


@given(cases(), st.floats(0.1, 5.0), st.integers(64, 3000), st.data())
def test_values_do_not_depend_on_the_output_grid(
    case: Case, step_min: float, points: int, data: st.DataObject
) -> None:
    """The same instants on an evenly spaced grid (the factorised fast path) and on an uneven
    one (direct exponentials) give the same values; the same span gives the same AUC."""
    model, patient, regimen = case
    uniform = np.arange(points) * step_min
    picks = data.draw(st.lists(st.integers(1, points - 2), min_size=3, max_size=20, unique=True))
    uneven = uniform[np.array(sorted({0, *picks, points - 1}))]
    assume(uneven.size < 4 or np.ptp(np.diff(uneven)) > 1e-6)
    on_uniform = simulate(model, patient, _text(regimen), uniform)
    on_uneven = simulate(model, patient, _text(regimen), uneven)
    index = np.searchsorted(uniform, uneven)
    for name, curve in _curves(on_uniform).items():
        np.testing.assert_allclose(
            getattr(on_uneven, name), curve[index], rtol=1e-11, atol=1e-11 * np.max(curve)
        )
    np.testing.assert_allclose(
        on_uneven.summary.ketamine.auc_ng_h_per_ml,
        on_uniform.summary.ketamine.auc_ng_h_per_ml,
        rtol=1e-11,
    )
