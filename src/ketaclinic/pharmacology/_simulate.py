"""``simulate``: concentrations of one patient for any regimen, exactly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology._catalogue import get_model
from ketaclinic.pharmacology._dose_grammar import parse_doses
from ketaclinic.pharmacology._doses import Dose, expand_doses
from ketaclinic.pharmacology._metrics import MG_PER_L_TO_NG_PER_ML, Summary, summarise
from ketaclinic.pharmacology._models import HEPATIC_SCALING, PKModel, covariates_of
from ketaclinic.pharmacology._patient import ChildPugh, Patient
from ketaclinic.pharmacology._regimen import (
    check_routes,
    default_times_min,
    inputs_of,
    system_of,
)
from ketaclinic.pharmacology._solver import grid_step, solve
from ketaclinic.ranges import GRID_POINTS, TIME_MIN

__all__ = ["OUTPUTS", "STATE_OF", "SimulationResult", "simulate"]

FloatArray = NDArray[np.float64]
OUTPUTS = ("ketamine", "norketamine", "effect_site")
STATE_OF = {"ketamine": "central", "norketamine": "nk_central", "effect_site": "effect"}


def _check_times(times_min: ArrayLike) -> FloatArray:
    times = np.asarray(times_min, dtype=float).ravel()
    if times.size == 0:
        raise UserInputError("times_min is empty; give at least one time in min")
    if not GRID_POINTS.contains(times.size):
        raise UserInputError(
            f"{times.size} output times requested; at most {GRID_POINTS.high:.0f} are "
            "accepted (use a coarser step)"
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


@dataclass(frozen=True, eq=False)  # holds arrays: == would be ambiguous
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
            "drug": self.model.drug.label,
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
    dose_list = parse_doses(doses)
    events = expand_doses(dose_list)
    times = _check_times(times_min) if times_min is not None else default_times_min(events)
    thresholds = [float(t) for t in thresholds_ng_per_ml]
    if any(not np.isfinite(t) or t <= 0 for t in thresholds):
        raise UserInputError("thresholds must be concentrations above 0 ng/mL")
    at = sorted(float(t) for t in at_min)

    cov = covariates_of(patient)
    routes = check_routes(spec, events)
    system, _ = system_of(spec, cov, routes)
    inputs = inputs_of(spec, events, routes, cov.weight_kg)
    names = [o for o in OUTPUTS if system.has(STATE_OF[o])]
    rows = np.stack([system.concentration_row(STATE_OF[o]) for o in names], axis=1)
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
    for route in routes:
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
