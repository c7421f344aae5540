"""``simulate``: concentrations of one patient for any regimen, exactly."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ketaclinic.errors import ModelError, UnknownNameError, UserInputError
from ketaclinic.pharmacology._catalogue import MODELS
from ketaclinic.pharmacology._dose_grammar import parse_doses
from ketaclinic.pharmacology._doses import Dose, Route, expand_doses
from ketaclinic.pharmacology._metrics import MG_PER_L_TO_NG_PER_ML, Summary, summarise
from ketaclinic.pharmacology._models import (
    HEPATIC_SCALING,
    Covariates,
    PKModel,
    covariates_of,
)
from ketaclinic.pharmacology._patient import ChildPugh, Patient
from ketaclinic.pharmacology._solver import Input, grid_step, solve
from ketaclinic.pharmacology._system import LinearSystem, build_system
from ketaclinic.ranges import DOSE_MG, TIME_MIN

__all__ = [
    "OUTPUTS",
    "SimulationResult",
    "default_times_min",
    "get_model",
    "regimen_inputs",
    "regimen_system",
    "simulate",
]

FloatArray = NDArray[np.float64]
OUTPUTS = ("ketamine", "norketamine", "effect_site")
_STATE_OF = {"ketamine": "central", "norketamine": "nk_central", "effect_site": "effect"}
MAX_POINTS = 20_000_000


def get_model(model: str | PKModel) -> PKModel:
    """The catalogue model with this id (case-insensitive), or the model itself."""
    if isinstance(model, PKModel):
        return model
    key = str(model).strip().lower()
    if key not in MODELS:
        raise UnknownNameError(f"unknown model {model!r}; accepted: {', '.join(MODELS)}")
    return MODELS[key]


def check_routes(model: PKModel, doses: Sequence[Dose]) -> tuple[Route, ...]:
    routes = tuple(dict.fromkeys(d.route for d in doses))
    for route in routes:
        if route not in model.routes:
            accepted = ", ".join(str(r) for r in model.routes)
            raise ModelError(
                f"the {model.name} model cannot simulate the {route} route; its routes: {accepted}"
            )
    return routes


def regimen_system(
    model: PKModel, cov: Covariates, doses: Sequence[Dose], params: Mapping[str, FloatArray] | None
) -> tuple[LinearSystem, dict[str, FloatArray]]:
    """The linear system for ``cov`` and the routes ``doses`` use (``params`` may override
    the typical values, e.g. with inter-individual variability applied)."""
    routes = check_routes(model, doses)
    values = dict(params) if params is not None else model.parameters(cov, routes)
    depots = {
        path.depot: path.key
        for route in routes
        for path in model.routes[route].paths()
        if path.depot is not None
    }
    return build_system(values, depots), values


def regimen_inputs(
    model: PKModel,
    system: LinearSystem,
    doses: Sequence[Dose],
    weight_kg: FloatArray,
    params: Mapping[str, FloatArray] | None = None,
) -> list[Input]:
    """Dose events as solver inputs (mg per patient), checking every amount's range.

    ``params`` supplies per-patient path fractions (``FR_<path>``) when they vary.
    """
    inputs: list[Input] = []
    for dose in doses:
        amount = dose.amount_mg(weight_kg)
        worst = float(np.max(amount))
        if not DOSE_MG.contains(worst):
            raise UserInputError(
                f"dose {dose} is {worst:g} mg, outside the accepted range {DOSE_MG.describe()}"
            )
        spec = model.routes[dose.route]
        if spec.depot is None:
            inputs.append(Input(system.index("central"), dose.start_min, dose.duration_min, amount))
            continue
        if dose.is_infusion and any(p.zero_order_min > 0 for p in spec.paths()):
            raise ModelError(f"the {model.name} model cannot give {dose.route} as an infusion")
        for start, units, later in _units_of(model, dose, amount):
            rest = units
            for path in spec.paths():
                frac = params.get(f"FR_{path.key}") if params else None
                share = np.full(units.shape, path.fraction) if frac is None else frac
                if later and path.later_device_factor != 1.0:
                    share = share * path.later_device_factor
                taken = rest * share
                duration = path.zero_order_min or dose.duration_min
                inputs.append(Input(system.index(str(path.depot)), start, duration, taken))
                rest = rest - taken
    return inputs


def _units_of(
    model: PKModel, dose: Dose, amount_mg: FloatArray
) -> list[tuple[float, FloatArray, bool]]:
    """``(start_min, amount_mg, later_device)`` for each unit given: the whole dose, or for a
    nasal spray each device, 5 min apart (SPRAVATO label)."""
    device = model.intranasal_devices_mg
    if not device or dose.route is not Route.INTRANASAL:
        return [(dose.start_min, amount_mg, False)]
    count = np.rint(amount_mg / device)
    if np.any(np.abs(count * device - amount_mg) > 1e-9) or np.any(count < 1):
        raise ModelError(
            f"{model.name}: intranasal doses are whole {device:g} mg devices; got "
            f"{float(np.max(amount_mg)):g} mg (accepted: {device:g}, {2 * device:g}, "
            f"{3 * device:g} mg)"
        )
    return [
        (dose.start_min + 5.0 * i, np.where(count > i, device, 0.0), i > 0)
        for i in range(int(np.max(count)))
    ]


def default_times_min(doses: Sequence[Dose], step_min: float = 1.0) -> FloatArray:
    """A grid from 0 to 24 h after the last dose ends (at least 24 h)."""
    last = max(d.end_min for d in doses)
    horizon = max(1440.0, float(np.ceil((last + 1440.0) / 60.0) * 60.0))
    return np.arange(0.0, horizon + step_min / 2, step_min)


def _check_times(times_min: ArrayLike) -> FloatArray:
    times = np.asarray(times_min, dtype=float).ravel()
    if times.size == 0:
        raise UserInputError("times_min is empty; give at least one time in min")
    if times.size > MAX_POINTS:
        raise UserInputError(
            f"{times.size} output times requested; at most {MAX_POINTS} are accepted "
            "(use a coarser step)"
        )
    if not (np.isfinite(times[0]) and np.isfinite(times[-1])):
        raise UserInputError("times_min must be finite numbers of minutes")
    ordered, _ = grid_step(times)  # sorted with finite ends: every time is finite
    if times[0] < 0 or not ordered:
        raise UserInputError("times_min must be sorted and at or after 0 min")
    if times[-1] > TIME_MIN.high:
        raise UserInputError(
            f"times up to {times[-1]:g} min requested; accepted: {TIME_MIN.describe()}"
        )
    return times


def covariate_warnings(model: PKModel, patient: Patient) -> list[str]:
    out = []
    lo, hi = model.weight_range_kg
    if not lo <= patient.weight_kg <= hi:
        out.append(
            f"weight {patient.weight_kg:g} kg is outside the {model.name} model's validated "
            f"range {lo:g}-{hi:g} kg: the prediction is an extrapolation"
        )
    lo, hi = model.age_range_years
    if not lo <= patient.age_years <= hi:
        out.append(
            f"age {patient.age_years:g} years is outside the {model.name} model's validated "
            f"range {lo:g}-{hi:g} years: the prediction is an extrapolation"
        )
    return out


@dataclass(frozen=True)
class SimulationResult:
    """Concentrations (ng/mL) on ``times_min`` with their summary, warnings and sources."""

    model: PKModel
    patient: Patient
    doses: tuple[Dose, ...]
    times_min: FloatArray
    ketamine_ng_per_ml: FloatArray
    norketamine_ng_per_ml: FloatArray | None
    effect_site_ng_per_ml: FloatArray | None
    summary: Summary
    warnings: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        def arr(a: FloatArray | None) -> list[float] | None:
            return None if a is None else [float(v) for v in a]

        return {
            "model": self.model.id,
            "model_name": self.model.name,
            "drug": self.model.drug,
            "patient": self.patient.as_dict(),
            "doses": [str(d) for d in self.doses],
            "times_min": arr(self.times_min),
            "ketamine_ng_per_ml": arr(self.ketamine_ng_per_ml),
            "norketamine_ng_per_ml": arr(self.norketamine_ng_per_ml),
            "effect_site_ng_per_ml": arr(self.effect_site_ng_per_ml),
            "summary": self.summary.to_dict(),
            "warnings": list(self.warnings),
            "sources": list(self.sources),
        }


def simulate(
    model: str | PKModel,
    patient: Patient,
    doses: Iterable[str | Dose] | str | Dose,
    times_min: ArrayLike | None = None,
    *,
    thresholds_ng_per_ml: Sequence[float] = (),
    at_min: Sequence[float] = (),
) -> SimulationResult:
    """Predict ketamine (and norketamine, effect-site) concentrations for one patient.

    The summary is computed on ``times_min`` (default: a 1-min grid to 24 h after the last
    dose); ``at_min`` adds exact values at chosen times to the summary.

    >>> r = simulate("domino", Patient(weight_kg=70), ["iv-infusion 0.5 mg/kg over 40 min"],
    ...              [0, 40, 60])
    >>> [round(v) for v in r.ketamine_ng_per_ml]
    [0, 240, 55]
    """
    spec = get_model(model)
    if not isinstance(patient, Patient):
        raise UserInputError("patient must be a ketaclinic.pharmacology.Patient")
    dose_list = expand_doses(parse_doses(doses))
    times = _check_times(times_min) if times_min is not None else default_times_min(dose_list)
    thresholds = [float(t) for t in thresholds_ng_per_ml]
    if any(not np.isfinite(t) or t <= 0 for t in thresholds):
        raise UserInputError("thresholds must be concentrations above 0 ng/mL")
    at = sorted(float(t) for t in at_min)

    cov = covariates_of(patient)
    system, _ = regimen_system(spec, cov, dose_list, None)
    inputs = regimen_inputs(spec, system, dose_list, cov.weight_kg)
    names = [o for o in OUTPUTS if system.has(_STATE_OF[o])]
    rows = np.stack([system.concentration_row(_STATE_OF[o]) for o in names], axis=1)
    rows *= MG_PER_L_TO_NG_PER_ML  # outputs straight in ng/mL
    sol = solve(system, inputs, times, rows)
    conc, auc = sol.values[0], sol.integral[0]
    at_values = solve(system, inputs, _check_times(at), rows).values[0] if at else None

    summaries = {}
    for k, name in enumerate(names):
        values_at = (
            {t: float(at_values[k, i]) for i, t in enumerate(at)} if at_values is not None else {}
        )
        summaries[name] = summarise(times, conc[k], float(auc[k]), thresholds, values_at)
    curves = dict(zip(names, conc, strict=True))

    warnings = covariate_warnings(spec, patient)
    sources = [f"model: {spec.source}"]
    for route in dict.fromkeys(d.route for d in dose_list):
        route_spec = spec.routes[route]
        if not route_spec.native:
            warnings.append(f"{route}: {route_spec.source}")
        sources.append(f"{route}: {route_spec.source}")
    if "effect_site" in curves:
        sources.append(f"effect site: {spec.ke0_source}")
    if patient.child_pugh != ChildPugh.NONE:
        basis = HEPATIC_SCALING[ChildPugh(patient.child_pugh)].basis
        warnings.append(f"hepatic impairment Child-Pugh {patient.child_pugh}: {basis}")
        sources.append(f"hepatic scaling: {basis}")
    if spec.limitations:
        sources.append("limitations: " + "; ".join(spec.limitations))

    return SimulationResult(
        model=spec,
        patient=patient,
        doses=tuple(dose_list),
        times_min=times,
        ketamine_ng_per_ml=curves["ketamine"],
        norketamine_ng_per_ml=curves.get("norketamine"),
        effect_site_ng_per_ml=curves.get("effect_site"),
        summary=Summary(
            ketamine=summaries["ketamine"],
            norketamine=summaries.get("norketamine"),
            effect_site=summaries.get("effect_site"),
        ),
        warnings=tuple(warnings),
        sources=tuple(sources),
    )
