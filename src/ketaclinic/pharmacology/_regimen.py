"""A regimen as the solver sees it: dose events -> the model's system and its input segments.

Every function here takes the engine's single dose events (``expand_doses``) and reads only
their route, start, duration and amount in mg. A route's absorption paths (``RouteSpec``)
say which depot each part of a dose enters; nasal sprays are split into whole devices given
one after another (Perez-Ruixo 2021: later devices deposit less in the nose).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from ketaclinic.errors import ModelError, UserInputError
from ketaclinic.pharmacology._doses import Dose, Route, expand_doses
from ketaclinic.pharmacology._models import Covariates, PKModel
from ketaclinic.pharmacology._solver import Input
from ketaclinic.pharmacology._structure import AbsorptionPath
from ketaclinic.pharmacology._system import LinearSystem, build_system
from ketaclinic.ranges import DOSE_MG

__all__ = [
    "check_routes",
    "default_horizon_min",
    "default_times_min",
    "inputs_of",
    "regimen_inputs",
    "regimen_system",
    "system_of",
]

FloatArray = NDArray[np.float64]


def check_routes(model: PKModel, doses: Iterable[Dose]) -> tuple[Route, ...]:
    """The routes of ``doses`` in order of first use; a route the model lacks is refused."""
    return _routes(model, expand_doses(doses))


def _routes(model: PKModel, events: Sequence[Dose]) -> tuple[Route, ...]:
    routes = tuple(dict.fromkeys(d.route for d in events))
    for route in routes:
        if route not in model.routes:
            accepted = ", ".join(str(r) for r in model.routes)
            raise ModelError(
                f"the {model.name} model cannot simulate the {route} route; its routes: {accepted}"
            )
    return routes


def regimen_system(
    model: PKModel,
    cov: Covariates,
    doses: Iterable[Dose],
    params: Mapping[str, FloatArray] | None = None,
) -> tuple[LinearSystem, dict[str, FloatArray]]:
    """The linear system for ``cov`` and the routes ``doses`` use (``params`` may override
    the typical values, e.g. with inter-individual variability applied)."""
    return system_of(model, cov, check_routes(model, doses), params)


def system_of(
    model: PKModel,
    cov: Covariates,
    routes: Sequence[Route],
    params: Mapping[str, FloatArray] | None = None,
) -> tuple[LinearSystem, dict[str, FloatArray]]:
    """:func:`regimen_system` for routes already checked (``check_routes``)."""
    values = dict(params) if params is not None else model.parameters(cov, routes)
    return build_system(model.structure, values, model.paths(routes)), values


def regimen_inputs(
    model: PKModel,
    doses: Iterable[Dose],
    weight_kg: FloatArray,
    *,
    ethnicity: NDArray[np.str_] | None = None,
) -> list[Input]:
    """Dose events as solver inputs (mg per patient, one patient per weight), checking every
    amount's range. State indices follow ``model.structure.states`` for the routes used.
    ``ethnicity`` (one ``Ethnicity`` value per patient; None: not stated) applies the
    paths' published ``fraction_factors``."""
    events = expand_doses(doses)
    return inputs_of(model, events, _routes(model, events), weight_kg, ethnicity=ethnicity)


def inputs_of(
    model: PKModel,
    events: Sequence[Dose],
    routes: Sequence[Route],
    weight_kg: FloatArray,
    *,
    ethnicity: NDArray[np.str_] | None = None,
) -> list[Input]:
    """:func:`regimen_inputs` for single dose events whose ``routes`` are checked."""
    index = {state: i for i, state in enumerate(model.structure.states(model.paths(routes)))}
    inputs: list[Input] = []
    for dose in events:
        # amount_mg takes a float or an array of weights (one per patient): the Dose contract;
        # a fixed amount may come back as one number for every patient
        value = np.asarray(cast(Any, dose).amount_mg(weight_kg), dtype=np.float64)
        amount: FloatArray = (
            value if value.shape == weight_kg.shape else np.full(weight_kg.shape, float(value))
        )
        worst = float(np.max(amount))
        if not DOSE_MG.contains(worst):
            raise UserInputError(
                f"dose {dose} is {worst:g} mg, outside the accepted range {DOSE_MG.describe()}"
            )
        spec = model.routes[dose.route]
        if spec.direct:
            inputs.append(Input(index["central"], dose.start_min, dose.duration_min, amount))
            continue
        if dose.is_infusion and spec.zero_order:
            raise ModelError(f"the {model.name} model cannot give {dose.route} as an infusion")
        for start, units, later in _units_of(model, dose, amount):
            rest = units
            for path in spec.paths:
                share = _fraction(path, ethnicity, amount.shape) * (
                    path.later_device_factor if later else 1.0
                )
                taken = rest * share
                duration = path.zero_order_min or dose.duration_min
                inputs.append(Input(index[path.depot], start, duration, taken))
                rest = rest - taken
    return inputs


def _fraction(
    path: AbsorptionPath, ethnicity: NDArray[np.str_] | None, shape: tuple[int, ...]
) -> FloatArray:
    """The share of a dose this path takes, per patient: its ``fraction`` times any
    published factor for the patient's ethnicity, at most 1."""
    share: FloatArray = np.full(shape, path.fraction)
    if ethnicity is None or not path.fraction_factors:
        return share
    for group, factor in path.fraction_factors:
        share = np.where(ethnicity == group, share * factor, share)
    capped: FloatArray = np.minimum(share, 1.0)
    return capped


def _units_of(
    model: PKModel, dose: Dose, amount_mg: FloatArray
) -> list[tuple[float, FloatArray, bool]]:
    """``(start_min, amount_mg, later_device)`` for each unit given: the whole dose, or for a
    route given in devices (nasal sprays) each device, one interval apart (SPRAVATO label)."""
    spec = model.routes[dose.route]
    device = spec.device_mg
    if not device:
        return [(dose.start_min, amount_mg, False)]
    count = np.rint(amount_mg / device)
    if np.any(np.abs(count * device - amount_mg) > 1e-9) or np.any(count < 1):
        raise ModelError(
            f"{model.name}: {dose.route} doses are whole {device:g} mg devices; got "
            f"{float(np.max(amount_mg)):g} mg (accepted: {device:g}, {2 * device:g}, "
            f"{3 * device:g} mg)"
        )
    return [
        (dose.start_min + spec.device_interval_min * i, np.where(count > i, device, 0.0), i > 0)
        for i in range(int(np.max(count)))
    ]


def default_horizon_min(doses: Sequence[Dose]) -> float:
    """24 h after the last dose ends, rounded up to a whole hour (at least 24 h)."""
    last = max(d.end_min for d in expand_doses(doses))
    return max(1440.0, float(np.ceil((last + 1440.0) / 60.0) * 60.0))


def default_times_min(doses: Sequence[Dose], step_min: float = 1.0) -> FloatArray:
    """A grid from 0 to :func:`default_horizon_min` (its last point at or before it)."""
    return np.arange(0.0, default_horizon_min(doses) + step_min / 2, step_min)
