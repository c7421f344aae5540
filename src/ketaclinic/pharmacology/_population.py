"""``simulate_population``: exposure metrics of many virtual patients, streamed in chunks.

Each chunk is whole blocks of patients (see ``_vpop_sampling``): it samples covariates and
random effects from the blocks' own streams, turns the regimen into modal coefficients per
input segment (closed form for IV mammillary models on the compiled path, ``_vpop_analytic``;
otherwise the eigen-decomposition) and takes the grid metrics with the compiled kernel
(``_vpop_kernel``) or, for short runs, by evaluating the grid (``_vpop_grid``). Only
per-patient metrics and the values at the band times are kept, so memory is bounded by
``n x (metrics + band points)``, never ``n x grid``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from concurrent.futures import Future

from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology._doses import Dose, parse_doses
from ketaclinic.pharmacology._metrics import MG_PER_L_TO_NG_PER_ML, minutes_above
from ketaclinic.pharmacology._models import Covariates, PKModel
from ketaclinic.pharmacology._simulate import (
    check_routes,
    get_model,
    regimen_inputs,
    regimen_system,
)
from ketaclinic.pharmacology._solver import (
    Input,
    _integral_of_exponentials,
    _segments,
    decompose,
    solve,
)
from ketaclinic.pharmacology._system import LinearSystem
from ketaclinic.pharmacology._vpop_grid import numpy_kernel
from ketaclinic.pharmacology._vpop_sampling import (
    BLOCK_SIZE,
    Variability,
    block_rng,
    parse_variability,
    population_spec,
    sample_covariates,
    sample_patients,
)

__all__ = [
    "PERCENTILES",
    "Exceedance",
    "PopulationMetrics",
    "PopulationResult",
    "simulate_population",
]

FloatArray = NDArray[np.float64]
PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)
MAX_N = 100_000_000
BAND_MEMORY_BYTES = 128 * 2**20  # the band values kept stay below this
# Bands use the first patients, a seeded i.i.d. sample: with 10 000 the 5th and 95th
# percentile curves are within about +-0.4 percentile points (95 % binomial interval), far
# below what a plot shows, and computing them costs less than the metrics of 10^5 patients.
BAND_PATIENTS = 10_000
_PARALLEL_SORT_MIN = 200_000  # band values: from here two threads sort faster than one
NUMBA_MIN_PATIENT_STEPS = 2_000_000  # below this NumPy is faster than compiling/loading
# states of the models whose IV modes have a closed form (``_vpop_analytic``)
_MAMMILLARY = frozenset({"central", "periph2", "periph3", "effect"})
_OUTPUTS = (("ketamine", "central"), ("norketamine", "nk_central"), ("effect_site", "effect"))
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class _Job:
    """Everything a chunk needs; small and picklable (Dask ships it to workers)."""

    model_id: str
    doses: tuple[Dose, ...]
    seed: int
    population: Mapping[str, Any]
    variability: Variability
    times_min: FloatArray
    step_min: float
    thresholds: FloatArray
    band_idx: NDArray[np.int64]
    use_numba: bool
    effect_site: bool
    band_patients: int


_CHUNK_FIELDS = (
    "cmax",
    "imax",
    "auc",
    "above",
    "bands",
    "weight_kg",
    "age_years",
    "female",
    "child_pugh",
)


@dataclass(frozen=True)
class _Chunk:
    """Per-patient results of patients ``start...``: for a whole population, or views into it
    (chunks write in place: no concatenation of a million patients at the end)."""

    start: int
    cmax: FloatArray  # (n, 3) ng/mL: ketamine, norketamine, effect site (NaN where absent)
    imax: NDArray[np.int64]  # (n, 3) grid index of cmax
    auc: FloatArray  # (n, 3) ng*min/mL
    above: FloatArray  # (n, 3, m) min
    bands: FloatArray  # (b, patients with bands) ng/mL: a row per band time
    weight_kg: FloatArray
    age_years: FloatArray
    female: NDArray[np.bool_]
    child_pugh: NDArray[np.str_]

    @classmethod
    def empty(cls, start: int, n: int, m_count: int, keep: int, b_count: int) -> _Chunk:
        return cls(
            start,
            np.full((n, 3), np.nan),
            np.zeros((n, 3), dtype=np.int64),
            np.full((n, 3), np.nan),
            np.full((n, 3, m_count), np.nan),
            np.empty((b_count, keep)),
            np.empty(n),
            np.empty(n),
            np.empty(n, dtype=np.bool_),
            np.empty(n, dtype="<U4"),
        )

    def part(self, start: int, stop: int) -> _Chunk:
        """Views of patients ``[start, stop)`` (``self`` starts at patient 0)."""
        keep = self.bands.shape[1]
        return _Chunk(
            start,
            *(
                getattr(self, f)[:, min(start, keep) : min(stop, keep)]
                if f == "bands"
                else getattr(self, f)[start:stop]
                for f in _CHUNK_FIELDS
            ),
        )

    def fill(self, chunk: _Chunk) -> None:
        """Copy a chunk computed elsewhere (a Dask worker) into its place."""
        target = self.part(chunk.start, chunk.start + chunk.cmax.shape[0])
        for f in _CHUNK_FIELDS:
            getattr(target, f)[...] = getattr(chunk, f)


def _run_chunk(
    job: _Job, first_block: int, blocks: int, n_total: int, out: _Chunk | None = None
) -> _Chunk:
    """Patients of blocks ``[first_block, first_block + blocks)`` (the last may be short),
    written into ``out`` (views of the whole population) or into new arrays."""
    model = get_model(job.model_id)
    routes = check_routes(model, job.doses)
    cov, params = sample_patients(
        job.population, model, routes, job.variability, job.seed, first_block, blocks, n_total
    )
    n = cov.n
    # the states (and so the input map) from one patient; the full system only where needed
    probe, _ = regimen_system(model, cov.head(1), job.doses, {k: v[:1] for k, v in params.items()})
    inputs = regimen_inputs(model, probe, job.doses, cov.weight_kg, params)
    iv_only = all(model.routes[d.route].depot is None for d in job.doses)
    wanted = [(o, st) for o, st in _OUTPUTS if o != "effect_site" or job.effect_site]
    names = [(o, st) for o, st in wanted if probe.has(st)]
    slots = [i for i, (o, st) in enumerate(_OUTPUTS) if (o, st) in names]
    m_count, b_count = job.thresholds.size, job.band_idx.size
    start = first_block * BLOCK_SIZE
    keep = max(0, min(n, job.band_patients - start))  # only these patients carry bands
    if out is None:
        out = _Chunk.empty(start, n, m_count, keep, b_count)
    # metrics of every output slot (ketamine, norketamine, effect site); NaN where absent
    cmax, imax, auc, above, bands = out.cmax, out.imax, out.auc, out.above, out.bands
    out.weight_kg[:] = cov.weight_kg
    out.age_years[:] = cov.age_years
    out.female[:] = cov.female
    out.child_pugh[:] = cov.child_pugh
    t_last = float(job.times_min[-1])
    segs = _segments(inputs, n, len(probe.states), t_last)
    seg_t0 = np.array([t for t, _, _ in segs])
    system: LinearSystem | None = None
    if job.use_numba and iv_only and set(probe.states) <= _MAMMILLARY:
        from ketaclinic.pharmacology._vpop_analytic import mammillary_coefficients

        central = probe.index("central")
        lam, const, coef, area, good = mammillary_coefficients(
            params,
            "effect" in {st for _, st in names},
            np.stack([b[:, central] for _, b, _ in segs], axis=1),
            np.stack([r[:, central] for _, _, r in segs], axis=1),
            seg_t0,
            t_last,
        )
    else:
        system, _ = regimen_system(model, cov, job.doses, params)
        rows = np.stack([system.concentration_row(st) for _, st in names], axis=1)
        rows *= MG_PER_L_TO_NG_PER_ML
        modes = decompose(system.a_per_min)
        lam, good = modes.lam, modes.good
        const, coef, area = _coefficients(lam, np.matmul(rows, modes.vec), modes.inv, segs, t_last)
    sel = np.flatnonzero(good)
    # the usual case, every patient good: slices, no gathers or scatters
    every = sel.size == n
    idx: slice | NDArray[np.intp] = slice(None) if every else sel
    if sel.size:
        n_band = keep if every else int(np.searchsorted(sel, keep))
        # every patient good: the kernel writes the band values in place
        c_max, i_max, abv, bnd = _grid_metrics(
            job, lam[idx], const[idx], coef[idx], seg_t0, n_band, bands if every else None
        )
        for j, slot in enumerate(slots):
            cmax[idx, slot], imax[idx, slot] = c_max[:, j], i_max[:, j]
            auc[idx, slot], above[idx, slot] = area[idx, j], abv[:, j]
        if not every:
            bands[:, sel[:n_band]] = bnd
    bad = np.flatnonzero(~good)
    if bad.size:  # ill-conditioned eigenbasis: the exact expm path, patient by patient
        if system is None:
            system, _ = regimen_system(model, cov, job.doses, params)
        rows = np.stack([system.concentration_row(st) for _, st in names], axis=1)
        rows *= MG_PER_L_TO_NG_PER_ML
    for p in bad:
        assert system is not None
        one = [Input(i.state, i.start_min, i.duration_min, i.amount_mg[p : p + 1]) for i in inputs]
        sol = solve(_subsystem(system, int(p)), one, job.times_min, rows[p : p + 1])
        values = sol.values[0]
        for j, slot in enumerate(slots):
            y = values[j]
            cmax[p, slot] = float(np.max(y))
            imax[p, slot] = int(np.argmax(y))
            auc[p, slot] = float(sol.integral[0, j])
            for m, thr in enumerate(job.thresholds):
                above[p, slot, m] = float(minutes_above(job.times_min, y[None, :], thr)[0])
        if p < keep:
            bands[:, p] = values[0][job.band_idx]
    return out


def _subsystem(system: LinearSystem, p: int) -> LinearSystem:
    """Patient ``p`` of a stacked system, as a system of one."""
    return replace(
        system,
        a_per_min=system.a_per_min[p : p + 1],
        volume_l={k: v[p : p + 1] for k, v in system.volume_l.items()},
        loss_per_min=system.loss_per_min[p : p + 1],
    )


def _coefficients(
    lam: FloatArray,
    weights: FloatArray,
    inv: FloatArray,
    segs: list[tuple[float, FloatArray, FloatArray]],
    t_last: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(const, coef, area)`` of each output in each input segment from the eigen-modes:
    between breakpoints every output is ``const + sum_i coef_i exp(lam_i (t - t0))``, and
    ``area`` is its exact integral to ``t_last``. Patients with a bad basis give NaN."""
    n, s = lam.shape
    k_count = weights.shape[1]
    g_count = len(segs)
    const = np.empty((n, g_count, k_count))
    coef = np.empty((n, g_count, k_count, s))
    area = np.zeros((n, k_count))
    z = np.zeros((n, s))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for g, (t0, bolus, rate) in enumerate(segs):
            t1 = segs[g + 1][0] if g + 1 < g_count else np.inf
            z = z + np.einsum("nij,nj->ni", inv, bolus)
            zss = -np.einsum("nij,nj->ni", inv, rate) / lam
            c = z - zss
            const[:, g] = np.einsum("nks,ns->nk", weights, zss)
            coef[:, g] = weights * c[:, None, :]
            u1 = min(t1, t_last) - t0
            if u1 > 0:
                area += const[:, g] * u1 + _integral_of_exponentials(lam, coef[:, g], 0.0, u1)
            if np.isfinite(t1):
                z = zss + c * np.exp(lam * (t1 - t0))
    return const, coef, area


def _grid_metrics(
    job: _Job,
    lam: FloatArray,
    const: FloatArray,
    coef: FloatArray,
    seg_t0: FloatArray,
    n_band: int,
    bands: FloatArray | None = None,
) -> tuple[FloatArray, NDArray[np.int64], FloatArray, FloatArray]:
    """Cmax, its grid index, minutes above each threshold and the band values (the first
    ``n_band`` patients, into ``bands`` if given) from the modal coefficients, without
    storing the grid."""
    n, _, k_count, _ = coef.shape
    times = job.times_min
    seg_lo = np.searchsorted(times, seg_t0, side="left").astype(np.int64)
    seg_hi = np.append(seg_lo[1:], times.size).astype(np.int64)
    cmax = np.empty((n, k_count))
    imax = np.empty((n, k_count), dtype=np.int64)
    above = np.empty((n, k_count, job.thresholds.size))
    if bands is None:
        bands = np.empty((job.band_idx.size, n_band))
    kernel: Callable[..., None] | None = None
    if job.use_numba:  # imported only here: Numba's import cost stays out of short runs
        from ketaclinic.pharmacology._vpop_kernel import numba_kernel

        kernel = numba_kernel()
    if kernel is None:
        kernel = numpy_kernel
    kernel(
        np.ascontiguousarray(lam),
        const,
        coef,
        seg_lo,
        seg_hi,
        np.ascontiguousarray(seg_t0, dtype=np.float64),
        job.step_min,
        job.thresholds,
        job.band_idx,
        cmax,
        imax,
        above,
        bands,
    )
    return cmax, imax, above, bands


@dataclass(frozen=True)
class Exceedance:
    """Fraction of patients whose Cmax exceeds a threshold, with a Wilson 95 % interval."""

    probability: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {"probability": self.probability, "ci95_low": self.low, "ci95_high": self.high}


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> Exceedance:
    """Wilson score interval (95 %): well behaved at 0 and n exceedances, unlike Wald."""
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return Exceedance(p, low, high)


@dataclass(frozen=True)
class PopulationMetrics:
    """Per-patient metrics of one concentration (ketamine, norketamine or effect site)."""

    cmax_ng_per_ml: FloatArray
    tmax_min: FloatArray
    auc_ng_h_per_ml: FloatArray
    minutes_above_ng_per_ml: Mapping[float, FloatArray]

    def probability_above(self) -> dict[float, Exceedance]:
        n = self.cmax_ng_per_ml.size
        return {
            t: _wilson(int(np.count_nonzero(self.cmax_ng_per_ml > t)), n)
            for t in self.minutes_above_ng_per_ml
        }

    def percentiles(self) -> dict[str, dict[str, float]]:
        def pct(a: FloatArray) -> dict[str, float]:
            return {
                f"p{q:g}": float(v)
                for q, v in zip(PERCENTILES, np.percentile(a, PERCENTILES), strict=True)
            }

        out = {
            "cmax_ng_per_ml": pct(self.cmax_ng_per_ml),
            "tmax_min": pct(self.tmax_min),
            "auc_ng_h_per_ml": pct(self.auc_ng_h_per_ml),
        }
        for t, v in self.minutes_above_ng_per_ml.items():
            out[f"minutes_above_{t:g}_ng_per_ml"] = pct(v)
        return out


@dataclass(frozen=True)
class PopulationResult:
    """Metrics of ``n`` virtual patients with exceedance probabilities and curve bands."""

    model: PKModel
    doses: tuple[Dose, ...]
    n: int
    seed: int
    ketamine: PopulationMetrics
    norketamine: PopulationMetrics | None
    effect_site: PopulationMetrics | None
    band_times_min: FloatArray
    bands_ng_per_ml: Mapping[float, FloatArray]  # percentile -> values at band_times_min
    band_patients: int
    covariates: Covariates
    variability: Variability
    population_source: str
    warnings: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default_factory=tuple)

    # the names, at top level for ketamine
    @property
    def cmax_ng_per_ml(self) -> FloatArray:
        return self.ketamine.cmax_ng_per_ml

    @property
    def tmax_min(self) -> FloatArray:
        return self.ketamine.tmax_min

    @property
    def auc_ng_h_per_ml(self) -> FloatArray:
        return self.ketamine.auc_ng_h_per_ml

    @property
    def minutes_above_ng_per_ml(self) -> Mapping[float, FloatArray]:
        return self.ketamine.minutes_above_ng_per_ml

    @property
    def probability_above_ng_per_ml(self) -> dict[float, Exceedance]:
        return self.ketamine.probability_above()

    def to_dict(self) -> dict[str, Any]:
        def block(m: PopulationMetrics | None) -> dict[str, Any] | None:
            if m is None:
                return None
            return {
                "probability_above_ng_per_ml": {
                    f"{t:g}": e.to_dict() for t, e in m.probability_above().items()
                },
                "percentiles": m.percentiles(),
            }

        return {
            "model": self.model.id,
            "model_name": self.model.name,
            "doses": [str(d) for d in self.doses],
            "n": self.n,
            "seed": self.seed,
            "variability": {"cv": dict(self.variability.cv), "basis": self.variability.basis},
            "population": self.population_source,
            **(block(self.ketamine) or {}),
            "norketamine": block(self.norketamine),
            "effect_site": block(self.effect_site),
            "bands": {
                "patients": self.band_patients,
                "times_min": [float(t) for t in self.band_times_min],
                **{f"p{q:g}": [float(v) for v in vals] for q, vals in self.bands_ng_per_ml.items()},
            },
            "warnings": list(self.warnings),
            "sources": list(self.sources),
        }


def _row_percentiles(rows: FloatArray, percentiles: Sequence[float]) -> FloatArray:
    """Percentiles of each row (numpy's default "linear" method), shape (len(q), rows).

    Sorting rows is several times faster than ``np.percentile``'s partitioning here (NumPy's
    vectorised sort); the interpolation is the same formula. Large inputs are sorted in two
    halves on two threads (NumPy releases the GIL while sorting).
    """
    if rows.size >= _PARALLEL_SORT_MIN and rows.shape[0] > 1:
        from concurrent.futures import ThreadPoolExecutor  # lazily: import time matters

        ordered = np.empty_like(rows)
        half = rows.shape[0] // 2

        def sort_rows(part: slice) -> None:
            ordered[part] = np.sort(rows[part], axis=1)

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(sort_rows, (slice(0, half), slice(half, None))))
    else:
        ordered = np.sort(rows, axis=1)
    count = ordered.shape[1]
    virtual = np.asarray(percentiles, dtype=float) / 100.0 * (count - 1)
    low = np.floor(virtual).astype(np.int64)
    high = np.minimum(low + 1, count - 1)
    frac = virtual - low
    below, above = ordered[:, low], ordered[:, high]
    return np.asarray((below + (above - below) * frac).T, dtype=float)


def _band_indices(
    t_count: int, n: int, band_points: int, step_min: float, doses: Sequence[Dose]
) -> NDArray[np.int64]:
    """Evenly spaced band times plus the grid points at each dose's start and end (where
    peaks sit), within the memory budget for ``n`` band patients."""
    budget = max(8, BAND_MEMORY_BYTES // (8 * max(n, 1)))
    events = {round(t / step_min) for d in doses for t in (d.start_min, d.end_min)}
    events = {i for i in events if 0 <= i < t_count}
    points = max(2, int(min(band_points, budget, t_count)) - len(events))
    even = np.rint(np.linspace(0, t_count - 1, points)).astype(np.int64)
    return np.unique(np.concatenate([even, np.fromiter(events, dtype=np.int64)]))


def simulate_population(
    model: str | PKModel,
    doses: Sequence[str | Dose] | str,
    n: int,
    seed: int,
    *,
    covariates: str | Mapping[str, Any] = "adults",
    child_pugh_mix: Mapping[str, float] | None = None,
    variability: str | Mapping[str, float] | None = "default",
    horizon_min: float = 1440.0,
    step_min: float = 1.0,
    thresholds_ng_per_ml: Sequence[float] = (100.0, 250.0, 750.0),
    chunk_size: int = 32 * BLOCK_SIZE,
    backend: str = "numpy",
    scheduler: str | None = None,
    local_workers: int | None = None,
    band_points: int = 97,
    effect_site: bool = False,
    progress: Progress | None = None,
) -> PopulationResult:
    """Simulate ``n`` virtual patients and summarise their exposure.

    Reproducible: the same ``seed`` gives the same numbers for any ``chunk_size`` and
    ``backend``. ``backend="dask"`` runs the same chunk function on a Dask cluster
    (``scheduler="tcp://host:port"``) or a ``LocalCluster`` of ``local_workers`` workers.
    Metrics cover plasma ketamine and, where modelled, norketamine; ``effect_site=True``
    adds the effect site. Percentile bands use ``band_points`` grid times (evenly spaced,
    plus each dose's start and end) and the first ``min(n, BAND_PATIENTS)`` patients, an
    i.i.d. sample fixed by the seed, so their memory is bounded whatever ``n``; metrics and
    probabilities always use every patient.

    >>> r = simulate_population("domino", ["iv-infusion 0.5 mg/kg over 40 min"], n=2000,
    ...                         seed=1, variability="CL=0.3,V1=0.3", thresholds_ng_per_ml=[300])
    >>> 0.0 < r.probability_above_ng_per_ml[300.0].probability < 0.5
    True
    """
    spec = get_model(model)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= int(n) <= MAX_N:
        raise UserInputError(f"n must be a whole number from 1 to {MAX_N}, got {n!r}")
    n = int(n)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        raise UserInputError(f"seed must be a whole number >= 0, got {seed!r}")
    dose_list = tuple(parse_doses(doses))
    check_routes(spec, dose_list)
    if not (math.isfinite(step_min) and step_min > 0):
        raise UserInputError(f"step must be above 0 min, got {step_min!r}")
    if not (math.isfinite(horizon_min) and 0 < horizon_min <= 366 * 1440):
        raise UserInputError(f"horizon must be above 0 and at most 366 d, got {horizon_min!r} min")
    t_count = math.floor(horizon_min / step_min + 1e-9) + 1
    if t_count > 10_000_000:
        raise UserInputError(f"{t_count} grid points per patient; use a coarser step")
    thresholds = np.array(sorted({float(t) for t in thresholds_ng_per_ml}), dtype=float)
    if np.any(~np.isfinite(thresholds)) or np.any(thresholds <= 0):
        raise UserInputError("thresholds must be concentrations above 0 ng/mL")
    if chunk_size < 1:
        raise UserInputError(f"chunk size must be at least 1 patient, got {chunk_size}")
    pop = population_spec(covariates, child_pugh_mix)
    var = parse_variability(variability, spec)
    probe = spec.parameters(
        sample_covariates(pop, block_rng(seed, 0), 1), check_routes(spec, dose_list)
    )
    if variability is None or variability == "default":
        # published IIV of routes this regimen does not use is simply not drawn
        var = Variability(
            {k: v for k, v in var.cv.items() if k in probe or k in ("ka", "F")},
            var.basis,
            var.assumed,
        )
    for name in var.cv:
        if name not in ("ka", "F") and name not in probe:
            raise UserInputError(
                f"variability names unknown parameter {name!r} for {spec.name}; accepted: "
                + ", ".join(k for k in probe if not k.startswith(("FR_", "TO_", "FM_")))
            )
    times = np.arange(t_count, dtype=np.float64) * float(step_min)
    job = _Job(
        spec.id,
        dose_list,
        int(seed),
        pop,
        var,
        times,
        float(step_min),
        thresholds,
        _band_indices(t_count, min(n, BAND_PATIENTS), band_points, float(step_min), dose_list),
        n * t_count >= NUMBA_MIN_PATIENT_STEPS,
        bool(effect_site),
        min(n, BAND_PATIENTS),
    )
    blocks_total = -(-n // BLOCK_SIZE)
    per_chunk = max(1, int(chunk_size) // BLOCK_SIZE)
    ranges = [(b, min(per_chunk, blocks_total - b)) for b in range(0, blocks_total, per_chunk)]
    if backend not in ("numpy", "dask"):
        raise UserInputError(f"backend {backend!r} is not accepted; accepted: numpy, dask")
    whole = _Chunk.empty(0, n, thresholds.size, job.band_patients, job.band_idx.size)
    if backend == "dask":
        _run_dask(job, ranges, n, scheduler, local_workers, progress, whole)
        return _assemble(spec, job, whole, n, pop, var, _row_percentiles(whole.bands, PERCENTILES))
    # the band patients come first: their percentiles are sorted on a second thread while
    # the remaining chunks run (NumPy's sort releases the GIL)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        band_values: Future[FloatArray] | None = None
        for first, count in ranges:
            start = first * BLOCK_SIZE
            stop = min(n, start + count * BLOCK_SIZE)
            _run_chunk(job, first, count, n, whole.part(start, stop))
            if band_values is None and stop >= job.band_patients:
                band_values = pool.submit(_row_percentiles, whole.bands, PERCENTILES)
            if progress:
                progress(stop, n)
        assert band_values is not None
        return _assemble(spec, job, whole, n, pop, var, band_values.result())


def _run_dask(
    job: _Job,
    ranges: list[tuple[int, int]],
    n: int,
    scheduler: str | None,
    local_workers: int | None,
    progress: Progress | None,
    whole: _Chunk,
) -> None:
    # Dask is optional and untyped: imported here, typed as Any
    try:
        from dask import distributed
    except ImportError:
        raise UserInputError(
            "the dask backend needs Dask: pip install 'ketaclinic[dask]'"
        ) from None

    Client: Any = distributed.Client
    LocalCluster: Any = distributed.LocalCluster
    as_completed: Any = distributed.as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=local_workers or 2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=None,
        )
        client = Client(cluster)
    try:
        futures = [
            client.submit(_run_chunk, job, first, count, n, pure=False) for first, count in ranges
        ]
        for done, future in enumerate(as_completed(futures), start=1):
            whole.fill(future.result())  # in place as each arrives: one chunk in flight
            future.release()
            if progress:
                progress(min(n, done * ranges[0][1] * BLOCK_SIZE), n)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _assemble(
    spec: PKModel,
    job: _Job,
    whole: _Chunk,
    n: int,
    pop: Mapping[str, Any],
    var: Variability,
    band_values: FloatArray,
) -> PopulationResult:
    """The result from every patient's metrics and the band percentiles (q, band times)."""
    cat = {f: getattr(whole, f) for f in _CHUNK_FIELDS}
    metrics: list[PopulationMetrics | None] = []
    for slot in range(3):
        if np.all(np.isnan(cat["cmax"][:, slot])):
            metrics.append(None)
            continue
        metrics.append(
            PopulationMetrics(
                cmax_ng_per_ml=cat["cmax"][:, slot],
                tmax_min=job.times_min[cat["imax"][:, slot]],
                auc_ng_h_per_ml=cat["auc"][:, slot] / 60.0,
                minutes_above_ng_per_ml={
                    float(t): cat["above"][:, slot, m] for m, t in enumerate(job.thresholds)
                },
            )
        )
    ket = metrics[0]
    assert ket is not None
    warnings = []
    if var.assumed:
        warnings.append(var.basis)
    if any(not s.native for r, s in spec.routes.items() if r in {d.route for d in job.doses}):
        warnings.append("a route extension is used: see sources")
    sources = [
        f"model: {spec.source}",
        f"variability: {var.basis}",
        f"population: {pop.get('source', 'user description')}",
    ]
    return PopulationResult(
        model=spec,
        doses=job.doses,
        n=n,
        seed=job.seed,
        ketamine=ket,
        norketamine=metrics[1],
        effect_site=metrics[2],
        band_times_min=job.times_min[job.band_idx],
        band_patients=job.band_patients,
        bands_ng_per_ml={q: band_values[i] for i, q in enumerate(PERCENTILES)},
        covariates=Covariates(
            cat["weight_kg"], cat["age_years"], cat["female"], np.zeros(n), cat["child_pugh"]
        ),
        variability=var,
        population_source=str(pop.get("source", "user description")),
        warnings=tuple(warnings),
        sources=tuple(sources),
    )
