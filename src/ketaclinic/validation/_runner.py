"""Run the catalogue models on the published observations and score each prediction.

Each observation is run with every catalogue model of its drug (racemic or S-ketamine). A
model that lacks the route, has no norketamine output for a norketamine observation, or
refuses the regimen (a nasal-spray model given a dose that is not whole devices) is reported
as *not applicable*, never as a failure. Predictions are typical-patient values (no
inter-individual variability) for the covariates the observation names. A pair whose patient
lies outside the model's validated age or weight range (an adult model on children, a
paediatric model on adults) is scored and shown, and marked *extrapolated*: the planner
chooses a model by those ranges (``protocols.choose_model``), so the tallies count the pairs
inside the model's population apart from all pairs.

Metric definitions follow the header of ``observations.yaml``:

* concentrations come from the exact solution on a 0.05-min grid for the first 6 h after the
  last dose (0.5-min grid afterwards), so a peak is found to within 0.05 min;
* AUC(0-inf) is the exact integral to 60 days after the first dose (every catalogue model has
  decayed by then); bioavailability is AUC(0-inf) by the route over AUC(0-inf) after an IV
  bolus of the same mg in the same patient.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketaclinic.errors import KetaclinicError, UnknownNameError
from ketaclinic.pharmacology import (
    MODELS,
    Dose,
    Drug,
    Patient,
    PKModel,
    Route,
    SimulationResult,
    expand_doses,
    parse_doses,
    simulate,
)
from ketaclinic.validation._observations import Observation, ObservationSet, load_observations

__all__ = ["Prediction", "ValidationRun", "models_for", "predict", "run_validation"]

FloatArray = NDArray[np.float64]
AUC_INF_HORIZON_MIN = 60 * 24 * 60.0  # 60 days: every catalogue model has decayed by then
FINE_STEP_MIN = 0.05
FINE_SPAN_MIN = 6 * 60.0
COARSE_STEP_MIN = 0.5
DEFAULT_HORIZON_MIN = 24 * 60.0
NG_PER_MG = 1e6

PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "not applicable"
_DRUG_OF = {"racemic": Drug.RACEMIC, "esketamine": Drug.ESKETAMINE}


@dataclass(frozen=True)
class Prediction:
    """One model on one observation: the predicted value, its ratio to the reported central
    value and whether it lies inside the interval the pass rule accepts."""

    observation: Observation
    model_id: str
    status: str
    predicted: float | None = None
    reason: str = ""
    warnings: tuple[str, ...] = ()
    extrapolation: str = ""

    @property
    def extrapolated(self) -> bool:
        """True when the observation's patient lies outside the model's validated age or
        weight range (``extrapolation`` says which)."""
        return bool(self.extrapolation)

    @property
    def fitted(self) -> bool:
        """True when this model was fitted to data from the observation's study."""
        return self.model_id in self.observation.fitted_by

    @property
    def ran(self) -> bool:
        return self.status != NOT_APPLICABLE

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def ratio(self) -> float | None:
        """Predicted / reported central value (None when not run or the central is 0)."""
        if self.predicted is None or self.observation.central == 0:
            return None
        return self.predicted / self.observation.central

    def to_dict(self) -> dict[str, Any]:
        obs = self.observation
        return {
            "observation": obs.id,
            "model": self.model_id,
            "drug": obs.drug,
            "analyte": obs.analyte,
            "route": obs.route,
            "group": obs.group,
            "metric": obs.metric,
            "reported": dict(obs.reported),
            "reported_central": obs.central,
            "accepted_low": obs.accepted[0],
            "accepted_high": obs.accepted[1],
            "pass_rule": obs.pass_rule,
            "predicted": self.predicted,
            "ratio_predicted_to_reported": self.ratio,
            "status": self.status,
            "fitted": self.fitted,
            "extrapolated": self.extrapolated,
            "extrapolation": self.extrapolation,
            "reason": self.reason,
            "warnings": list(self.warnings),
            "source": obs.source_text,
        }


@dataclass(frozen=True)
class Tally:
    """Pairs within their pass rule / pairs run, with the fitted ones counted apart, and
    those inside the model's validated population (not extrapolated) counted apart."""

    passed: int = 0
    run: int = 0
    independent_passed: int = 0
    independent_run: int = 0
    not_applicable: int = 0
    in_population_passed: int = 0
    in_population_run: int = 0

    def add(self, prediction: Prediction) -> Tally:
        if not prediction.ran:
            return replace(self, not_applicable=self.not_applicable + 1)
        hit = int(prediction.passed)
        own = int(not prediction.fitted)
        inside = int(not prediction.extrapolated)
        return replace(
            self,
            passed=self.passed + hit,
            run=self.run + 1,
            independent_passed=self.independent_passed + hit * own,
            independent_run=self.independent_run + own,
            in_population_passed=self.in_population_passed + hit * inside,
            in_population_run=self.in_population_run + inside,
        )

    @property
    def fraction(self) -> float | None:
        return self.passed / self.run if self.run else None

    @property
    def in_population_fraction(self) -> float | None:
        if not self.in_population_run:
            return None
        return self.in_population_passed / self.in_population_run

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "run": self.run,
            "fraction_passed": self.fraction,
            "independent_passed": self.independent_passed,
            "independent_run": self.independent_run,
            "not_applicable": self.not_applicable,
            "in_population_passed": self.in_population_passed,
            "in_population_run": self.in_population_run,
            "fraction_passed_in_population": self.in_population_fraction,
        }


def _tally(predictions: Iterable[Prediction]) -> Tally:
    out = Tally()
    for p in predictions:
        out = out.add(p)
    return out


@dataclass(frozen=True)
class ValidationRun:
    """Every prediction of a run, with tallies overall, per model and per route."""

    version: str
    predictions: tuple[Prediction, ...]
    model_filter: str | None = None
    route_filter: str | None = None
    models: tuple[str, ...] = field(default_factory=tuple)

    @property
    def overall(self) -> Tally:
        return _tally(self.predictions)

    def by_model(self) -> dict[str, Tally]:
        return {m: _tally(p for p in self.predictions if p.model_id == m) for m in self.models}

    def by_route(self) -> dict[str, Tally]:
        routes = dict.fromkeys(p.observation.route for p in self.predictions)
        return {r: _tally(p for p in self.predictions if p.observation.route == r) for r in routes}

    def by_model_and_route(self) -> dict[tuple[str, str], Tally]:
        out = {}
        for m in self.models:
            for r in dict.fromkeys(p.observation.route for p in self.predictions):
                t = _tally(
                    p for p in self.predictions if p.model_id == m and p.observation.route == r
                )
                if t.run or t.not_applicable:
                    out[(m, r)] = t
        return out

    def failures(self) -> tuple[Prediction, ...]:
        return tuple(p for p in self.predictions if p.ran and not p.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "validation_set_version": self.version,
            "model": self.model_filter,
            "route": self.route_filter,
            "summary": self.overall.to_dict(),
            "by_model": {m: t.to_dict() for m, t in self.by_model().items()},
            "by_route": {r: t.to_dict() for r, t in self.by_route().items()},
            "predictions": [p.to_dict() for p in self.predictions],
        }


def models_for(obs: Observation) -> tuple[PKModel, ...]:
    """The catalogue models of the observation's drug, in catalogue order."""
    drug = _DRUG_OF[obs.drug]
    return tuple(m for m in MODELS.values() if m.drug is drug)


def _patient(obs: Observation) -> Patient:
    ethnicity = obs.ethnicity or "not stated"
    return Patient(
        weight_kg=obs.weight_kg, age_years=obs.age_years, sex=obs.sex, ethnicity=ethnicity
    )


def _end_of_dosing_min(doses: Sequence[Dose]) -> float:
    events = expand_doses(doses)
    return max(d.start_min + d.duration_min for d in events)


def _grid(end_min: float, horizon_min: float) -> FloatArray:
    fine_end = min(end_min + FINE_SPAN_MIN, horizon_min)
    fine = np.arange(0.0, fine_end + 1e-9, FINE_STEP_MIN)
    coarse = np.arange(fine[-1] + COARSE_STEP_MIN, horizon_min + 1e-9, COARSE_STEP_MIN)
    return np.concatenate([fine, coarse])


def _curve(result: SimulationResult, obs: Observation) -> FloatArray:
    curve = result.norketamine_ng_per_ml if obs.norketamine else result.ketamine_ng_per_ml
    assert curve is not None  # checked before the run (models without a metabolite skip)
    return curve


def _auc_inf(model: PKModel, patient: Patient, doses: Sequence[Dose], metabolite: bool) -> float:
    result = simulate(model, patient, doses, [0.0, AUC_INF_HORIZON_MIN])
    species = result.summary.norketamine if metabolite else result.summary.ketamine
    assert species is not None
    return species.auc_ng_h_per_ml


def _total_mg(doses: Sequence[Dose], weight_kg: float) -> float:
    return float(sum(d.amount_mg(weight_kg) for d in expand_doses(doses)))


def _last_device_min(model: PKModel, doses: Sequence[Dose], weight_kg: float) -> float:
    """Minutes from the first to the last device of a nasal-spray session (0 otherwise)."""
    spec = model.routes.get(Route.INTRANASAL)
    if spec is None or not spec.device_mg:
        return 0.0
    devices = round(_total_mg(doses, weight_kg) / spec.device_mg)
    return (devices - 1) * spec.device_interval_min


def predict(model: PKModel, obs: Observation) -> tuple[float, tuple[str, ...]]:
    """The model's typical-patient value of ``obs.metric`` and the run's warnings."""
    patient = _patient(obs)
    doses = parse_doses(list(obs.regimen))
    weight = patient.weight_kg
    metric = obs.metric
    if metric in ("cmax_ng_per_ml", "tmax_min", "conc_ng_per_ml_at_min", "cmax_ratio_vs_reference"):
        end = _end_of_dosing_min(doses)
        horizon = max(end + DEFAULT_HORIZON_MIN, obs.window_min[1] if obs.window_min else 0.0)
        at = [obs.t_min] if obs.t_min is not None else []
        result = simulate(model, patient, doses, _grid(end, horizon), at_min=at)
        warnings = result.warnings
        if metric == "conc_ng_per_ml_at_min":
            species = result.summary.norketamine if obs.norketamine else result.summary.ketamine
            assert species is not None
            assert obs.t_min is not None
            return species.values_at_min[obs.t_min], warnings
        times, curve = result.times_min, _curve(result, obs)
        if obs.window_min is not None:
            inside = (times >= obs.window_min[0]) & (times <= obs.window_min[1])
            times, curve = times[inside], curve[inside]
        i = int(np.argmax(curve))
        if metric == "cmax_ratio_vs_reference":
            # No catalogue model has the covariate that defines the group (renal function):
            # the group and its reference are the same patient, so the ratio is exactly 1.
            return 1.0, warnings
        if metric == "cmax_ng_per_ml":
            return float(curve[i]), warnings
        shift = _last_device_min(model, doses, weight) if obs.time_reference else 0.0
        return float(times[i]) - shift, warnings
    warnings = simulate(model, patient, doses, [0.0, 60.0]).warnings
    if metric == "auc_ratio_vs_reference":
        return 1.0, warnings  # as for the Cmax ratio: no covariate separates the groups
    if metric == "auc_0_t_ng_h_per_ml":
        assert obs.t_end_min is not None
        result = simulate(model, patient, doses, [0.0, obs.t_end_min])
        species = result.summary.norketamine if obs.norketamine else result.summary.ketamine
        assert species is not None
        return species.auc_ng_h_per_ml, warnings
    if metric == "auc_0_inf_ng_h_per_ml":
        return _auc_inf(model, patient, doses, obs.norketamine), warnings
    if metric == "metabolite_ratio_auc":
        if obs.t_end_min is not None:
            result = simulate(model, patient, doses, [0.0, obs.t_end_min])
            nk, k = result.summary.norketamine, result.summary.ketamine
            assert nk is not None
            return nk.auc_ng_h_per_ml / k.auc_ng_h_per_ml, warnings
        nk_auc = _auc_inf(model, patient, doses, True)
        return nk_auc / _auc_inf(model, patient, doses, False), warnings
    if metric == "clearance_ml_per_min_per_kg":
        auc_ng_min_per_ml = _auc_inf(model, patient, doses, False) * 60.0
        cl_ml_per_min = _total_mg(doses, weight) * NG_PER_MG / auc_ng_min_per_ml
        return cl_ml_per_min / weight, warnings
    # bioavailability_fraction (the loader admits no other metric)
    iv = parse_doses([f"iv-bolus {_total_mg(doses, weight)!r} mg at 0 min"])
    return _auc_inf(model, patient, doses, False) / _auc_inf(model, patient, iv, False), warnings


def _not_applicable(model: PKModel, obs: Observation) -> str:
    route = Route(obs.route)
    if route not in model.routes:
        return f"the model has no {obs.route} route"
    if obs.norketamine and not model.has_metabolite:
        return "the model has no norketamine output"
    if obs.metric in ("metabolite_ratio_auc",) and not model.has_metabolite:
        return "the model has no norketamine output"
    return ""


def extrapolation(model: PKModel, obs: Observation) -> str:
    """Which of the observation's covariates lie outside the model's validated ranges ("" when
    none): the same ranges the planner chooses a model by."""
    out = []
    lo, hi = model.age_range_years
    if not lo <= obs.age_years <= hi:
        out.append(f"age {obs.age_years:g} years outside {lo:g}-{hi:g} years")
    lo, hi = model.weight_range_kg
    if not lo <= obs.weight_kg <= hi:
        out.append(f"weight {obs.weight_kg:g} kg outside {lo:g}-{hi:g} kg")
    return "; ".join(out)


def score(model: PKModel, obs: Observation) -> Prediction:
    """One model on one observation."""
    reason = _not_applicable(model, obs)
    if reason:
        return Prediction(obs, model.id, NOT_APPLICABLE, reason=reason)
    try:
        value, warnings = predict(model, obs)
    except KetaclinicError as error:  # e.g. a nasal dose that is not whole devices
        return Prediction(obs, model.id, NOT_APPLICABLE, reason=str(error))
    low, high = obs.accepted
    status = PASS if low <= value <= high else FAIL
    return Prediction(
        obs,
        model.id,
        status,
        value,
        warnings=tuple(warnings),
        extrapolation=extrapolation(model, obs),
    )


def run_validation(
    model: str | None = None,
    route: str | None = None,
    observations: ObservationSet | None = None,
) -> ValidationRun:
    """Score the catalogue models (or ``model``) on the set (or its ``route`` entries)."""
    data = observations if observations is not None else load_observations()
    model_id = None
    if model is not None:
        model_id = model.strip().lower()
        if model_id not in MODELS:
            raise UnknownNameError(f"unknown model {model!r}; accepted: {', '.join(MODELS)}")
    route_id = None
    if route is not None:
        route_id = route.strip().lower()
        routes = sorted({o.route for o in data.observations})
        if route_id not in routes:
            raise UnknownNameError(
                f"no observation uses the route {route!r}; accepted: {', '.join(routes)}"
            )
    predictions = []
    for obs in data.observations:
        if route_id is not None and obs.route != route_id:
            continue
        for m in models_for(obs):
            if model_id is None or m.id == model_id:
                predictions.append(score(m, obs))
    models = tuple(m for m in MODELS if model_id is None or m == model_id)
    return ValidationRun(data.version, tuple(predictions), model_id, route_id, models)
