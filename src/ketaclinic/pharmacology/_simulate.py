"""``simulate``: concentrations of one patient for any regimen, exactly."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology._catalogue import get_model
from ketaclinic.pharmacology._dose_grammar import parse_doses
from ketaclinic.pharmacology._doses import Dose, Route, expand_doses
from ketaclinic.pharmacology._extrema_one import one_patient_metrics
from ketaclinic.pharmacology._metrics import (
    MG_PER_L_TO_NG_PER_ML,
    SpeciesSummary,
    Summary,
    interval_label,
)
from ketaclinic.pharmacology._models import HEPATIC_SCALING, PKModel, covariates_of
from ketaclinic.pharmacology._patient import ChildPugh, Patient
from ketaclinic.pharmacology._regimen import (
    check_routes,
    default_horizon_min,
    default_times_min,
    inputs_of,
    system_of,
)
from ketaclinic.pharmacology._solver import (
    Input,
    Modes,
    decompose,
    grid_step,
    input_segments,
    modal_coefficients,
    solve,
    values_on_grid,
)
from ketaclinic.pharmacology._system import LinearSystem
from ketaclinic.ranges import GRID_POINTS, THRESHOLD_COUNT, TIME_MIN

__all__ = ["OUTPUTS", "STATE_OF", "SimulationResult", "simulate"]

FloatArray = NDArray[np.float64]
OUTPUTS = ("ketamine", "norketamine", "effect_site")
STATE_OF = {"ketamine": "central", "norketamine": "nk_central", "effect_site": "effect"}


def _check_times(times_min: ArrayLike) -> FloatArray:
    return _checked_grid(times_min)[0]


def _checked_grid(times_min: ArrayLike) -> tuple[FloatArray, float | None]:
    """``times_min`` checked, with its step when evenly spaced (``grid_step``)."""
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
    ordered, h = grid_step(times)  # sorted with finite ends: every time is finite
    if times[0] < 0 or not ordered:
        raise UserInputError("times_min must be sorted and at or after 0 min")
    if times[-1] > TIME_MIN.high:
        raise UserInputError(
            f"times up to {times[-1]:g} min requested; accepted: {TIME_MIN.describe()}"
        )
    return times, h


def _check_horizon(horizon_min: float) -> float:
    value = float(horizon_min)
    if not (np.isfinite(value) and 0 <= value <= TIME_MIN.high):
        raise UserInputError(
            f"horizon {horizon_min!r} min is not accepted; accepted: {TIME_MIN.describe()}"
        )
    return value


def _curves_and_summary(
    system: LinearSystem,
    modes: Modes,
    inputs: list[Input],
    rows: FloatArray,
    times: FloatArray,
    step_min: float | None,
    end_min: float,
    thresholds: Sequence[float],
) -> tuple[FloatArray, Sequence[float], Sequence[float], Sequence[Sequence[float]], FloatArray]:
    """``(curves (k, T), cmax, tmax_min, minutes above (k, m), auc)``: the outputs on
    ``times`` and their exact summary over ``[0, end_min]``.

    With a well-conditioned eigenbasis both come from one set of modal coefficients (the
    segments up to the later of the grid's end and ``end_min``: breakpoints after a window
    change none of its coefficients), the metrics in Python floats (``_extrema_one``: a
    handful of numbers). Otherwise the curves are stepped by matrix exponentials and the
    metrics come from a dense grid (``_extrema.dense_metrics``)."""
    s = len(system.states)
    if modes.good[0]:
        segs = input_segments(inputs, 1, s, max(end_min, float(times[-1])))
        starts = [t for t, _, _ in segs]
        weights = np.matmul(rows, modes.vec)
        const, coef, area = modal_coefficients(modes.lam, weights, modes.inv, segs, 0.0, end_min)
        curves = np.empty((1, rows.shape[1], times.size))
        values_on_grid(modes.lam, const, coef, starts, times, step_min, curves)
        cmax, tmax, above = one_patient_metrics(
            modes.lam[0], const[0], coef[0], starts, end_min, thresholds
        )
        return curves[0], cmax, tmax, above, area[0]
    # only when needed: SciPy, and the vectorised extrema the single-patient path never uses
    from ketaclinic.pharmacology._expm import solve_expm
    from ketaclinic.pharmacology._extrema import dense_metrics

    segs = input_segments(inputs, 1, s, end_min)
    starts = [t for t, _, _ in segs]

    def solve_at(at: FloatArray) -> tuple[FloatArray, FloatArray]:
        return solve_expm(system.a_per_min[0], segs, at, rows[0])

    curves = solve(system, inputs, times, rows, modes).values[0]
    thr = np.asarray(thresholds, dtype=np.float64)
    cmax_a, tmax_a, above_a, auc = dense_metrics(solve_at, end_min, np.array(starts), thr)
    return curves, cmax_a.tolist(), tmax_a.tolist(), above_a.tolist(), auc


def _bolus_note(
    spec: PKModel, events: Sequence[Dose], ketamine: SpeciesSummary, site: SpeciesSummary | None
) -> str | None:
    """Why a plasma peak right after an IV bolus is not a concentration anyone measures."""
    at_bolus = any(
        spec.routes[d.route].direct and d.duration_min == 0 and d.start_min == ketamine.tmax_min
        for d in events
    )
    if not at_bolus:
        return None
    note = (
        f"the plasma Cmax {ketamine.cmax_ng_per_ml:.0f} ng/mL at {ketamine.tmax_min:g} min is "
        "the value the instant after an IV bolus: the model mixes the dose into the central "
        "volume at once, an artefact no blood sample shows"
    )
    if site is not None:
        note += (
            f"; the effect-site peak is {site.cmax_ng_per_ml:.0f} ng/mL at {site.tmax_min:.1f} min"
        )
    return note


def _hepatic_effect(
    spec: PKModel,
    routes: Sequence[Route],
    params: Mapping[str, FloatArray],
    normal: SimulationResult,
    impaired: SpeciesSummary,
) -> str:
    """What the Child-Pugh assumption changed in this prediction, in numbers: the parameters
    scaled and by how much, and the AUC it gives for these doses (so that the statement and
    the computation agree for every route)."""
    _, plain = system_of(spec, covariates_of(normal.patient), routes)
    scaled = [
        f"{p.name} x{float(params[p.name][0] / plain[p.name][0]):.3g}"
        for p in spec.parameter_specs
        if p.hepatic and p.name in params and plain[p.name][0] != 0
    ]
    auc_ratio = impaired.auc_ng_h_per_ml / max(normal.summary.ketamine.auc_ng_h_per_ml, 1e-300)
    text = f"scaled here: {', '.join(scaled) or 'nothing'}"
    if spec.structure.liver:
        text += (
            " (intrinsic hepatic clearance, chosen so that systemic clearance falls by the "
            "stated factor; first-pass extraction falls with it, so doses that pass the liver "
            "first, oral or swallowed, rise more than IV doses)"
        )
    through_liver = any(path.into_liver for route in routes for path in spec.routes[route].paths)
    which = "doses (partly through first pass)" if through_liver else "doses"
    return (
        f"{text}; ketamine AUC {interval_label(impaired.auc_interval_min)} x{auc_ratio:.2f} of "
        f"the same {which} without impairment"
    )


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
    horizon_min: float | None = None,
    norketamine: bool = True,
) -> SimulationResult:
    """Predict ketamine (and norketamine, effect-site) concentrations for one patient.

    The curves are given on ``times_min`` (default: a 1-min grid to 24 h after the last
    dose); the summary (Cmax, Tmax, AUC, minutes above each threshold) comes from the exact
    solution over ``[0, horizon_min]`` whatever the grid (default: the grid's last time, or
    24 h after the last dose without a grid); ``at_min`` adds exact values at chosen times.
    ``norketamine=False`` leaves the metabolite's curve and summary out (the ketamine values
    are the same: the metabolite never feeds back), as ``simulate_population`` does.

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
    if times_min is None:
        times = default_times_min(events)
        step = grid_step(times)[1]
        end = default_horizon_min(events)
    else:
        times, step = _checked_grid(times_min)
        end = float(times[-1])
    if horizon_min is not None:
        end = _check_horizon(horizon_min)
    thresholds = [float(t) for t in thresholds_ng_per_ml]
    if any(not np.isfinite(t) or t <= 0 for t in thresholds):
        raise UserInputError("thresholds must be concentrations above 0 ng/mL")
    if not THRESHOLD_COUNT.contains(len(thresholds)):
        raise UserInputError(
            f"{len(thresholds)} thresholds given; at most {THRESHOLD_COUNT.high:.0f} are accepted"
        )
    at = sorted(float(t) for t in at_min)

    cov = covariates_of(patient)
    routes = check_routes(spec, events)
    system, params = system_of(spec, cov, routes)
    inputs = inputs_of(spec, events, routes, cov.weight_kg, ethnicity=cov.ethnicity)
    names = [o for o in OUTPUTS if system.has(STATE_OF[o]) and (norketamine or o != "norketamine")]
    rows = np.stack([system.concentration_row(STATE_OF[o]) for o in names], axis=1)
    rows *= MG_PER_L_TO_NG_PER_ML  # outputs straight in ng/mL
    modes = decompose(system.a_per_min)
    conc, cmax, tmax, above, auc = _curves_and_summary(
        system, modes, inputs, rows, times, step, end, thresholds
    )
    at_values = solve(system, inputs, _check_times(at), rows, modes).values[0] if at else None

    summaries = {}
    for k, name in enumerate(names):
        values_at = (
            {t: float(at_values[k, i]) for i, t in enumerate(at)} if at_values is not None else {}
        )
        summaries[name] = SpeciesSummary(
            cmax_ng_per_ml=float(cmax[k]),
            tmax_min=float(tmax[k]),
            auc_ng_h_per_ml=float(auc[k]) / 60.0,
            minutes_above_ng_per_ml={t: float(above[k][m]) for m, t in enumerate(thresholds)},
            values_at_min=values_at,
            auc_interval_min=(0.0, end),
        )
    curves = dict(zip(names, conc, strict=True))
    bolus = _bolus_note(spec, events, summaries["ketamine"], summaries.get("effect_site"))
    if bolus is not None:
        summaries["ketamine"] = replace(summaries["ketamine"], cmax_at_iv_bolus=True)

    warnings = covariate_warnings(spec, patient)
    late = [d for d in events if d.start_min > end]
    if late:
        warnings.append(
            f"{len(late)} dose(s) start after the simulated window ends at {end:g} min "
            f"(first: {late[0]}): they are not in this prediction; simulate further "
            "(--until) to include them"
        )
    if bolus is not None:
        warnings.append(bolus)
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
        normal = simulate(
            spec,
            patient.replace(child_pugh=ChildPugh.NONE),
            dose_list,
            times,
            horizon_min=end,
            norketamine=norketamine,
        )
        warnings.append(
            f"hepatic impairment Child-Pugh {patient.child_pugh}: {basis}; "
            + _hepatic_effect(spec, routes, params, normal, summaries["ketamine"])
        )
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
