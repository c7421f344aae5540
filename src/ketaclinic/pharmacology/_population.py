"""``simulate_population``: exposure metrics of many virtual patients, streamed in chunks.

Each chunk is whole blocks of patients (``_sampling``): it samples covariates and random
effects from the blocks' own streams, turns the regimen into modal coefficients per input
segment (closed form for IV mammillary models on the compiled path, ``_closed_form``;
otherwise the eigen-decomposition and ``modal_coefficients``) and takes the exact metrics
(``_extrema``: turning points and crossings by root finding, no grid) with the compiled
kernel (``_grid_compiled``) or, for short runs, the vectorised NumPy one (``_grid``); the
output grid only places the band times. Patients whose eigenbasis is ill-conditioned are
stepped with matrix exponentials (``_expm``). Only per-patient metrics and the values at the
band times are kept, so memory is bounded by ``n x (metrics + band points)``, never
``n x grid``.

Chunks run on an injected :class:`Executor` (``ketaclinic.compute``); without one, in the
calling thread with helper threads that live for the call (:class:`CallThreads`). With an
executor that shares memory, a helper draws each next chunk's patients while the compiled
kernels (which release the GIL) solve the current one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from queue import Empty, SimpleQueue
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology._catalogue import get_model
from ketaclinic.pharmacology._dose_grammar import parse_doses
from ketaclinic.pharmacology._doses import Dose, expand_doses
from ketaclinic.pharmacology._executor import CallThreads, Executor, Submit
from ketaclinic.pharmacology._expm import solve_expm
from ketaclinic.pharmacology._extrema import dense_metrics
from ketaclinic.pharmacology._grid import Metrics, ModalTerms, Window, numpy_kernel
from ketaclinic.pharmacology._metrics import MG_PER_L_TO_NG_PER_ML
from ketaclinic.pharmacology._models import Covariates, PKModel
from ketaclinic.pharmacology._population_chunk import Chunk as _Chunk
from ketaclinic.pharmacology._population_job import DrawAhead, Drawn, Job, draw
from ketaclinic.pharmacology._population_result import (
    PERCENTILES,
    PopulationMetrics,
    PopulationResult,
    start_percentiles,
)
from ketaclinic.pharmacology._regimen import check_routes
from ketaclinic.pharmacology._sampling import BLOCK_SIZE, population_spec
from ketaclinic.pharmacology._solver import Segment, decompose, input_segments, modal_coefficients
from ketaclinic.pharmacology._system import LinearSystem, build_system
from ketaclinic.pharmacology._variability import parse_variability, variable_names
from ketaclinic.ranges import GRID_POINTS, POPULATION_PATIENTS, THRESHOLD_COUNT, TIME_MIN

__all__ = ["BAND_PATIENTS", "KERNELS", "NUMBA_MIN_PATIENTS", "simulate_population"]

FloatArray = NDArray[np.float64]
BAND_MEMORY_BYTES = 128 * 2**20  # the band values kept stay below this
# Bands use the first patients, a seeded i.i.d. sample: with 10 000 the 5th and 95th
# percentile curves are within about +-0.4 percentile points (95 % binomial interval), far
# below what a plot shows, and computing them costs less than the metrics of 10^5 patients.
BAND_PATIENTS = 10_000
NUMBA_MIN_PATIENTS = 1500  # below this NumPy is faster than compiling/loading the kernel
KERNELS = ("auto", "numpy", "compiled")
Progress = Callable[[int, int], None]


def _rows(system: LinearSystem, outputs: Sequence[tuple[int, str]]) -> FloatArray:
    rows = np.stack([system.concentration_row(state) for _, state in outputs], axis=1)
    rows *= MG_PER_L_TO_NG_PER_ML
    return rows


def _run_chunk(
    job: Job,
    first_block: int,
    blocks: int,
    n_total: int,
    out: _Chunk | None = None,
    submit: Submit | None = None,
    spare: SimpleQueue[dict[str, FloatArray]] | None = None,
    ahead: DrawAhead | None = None,
) -> _Chunk:
    """Patients of blocks ``[first_block, first_block + blocks)`` (the last may be short),
    written into ``out`` (views of the whole population) or into new arrays. ``spare``
    holds scratch buffers that chunks of one call pass on to one another (chunks running
    at once each take their own); ``ahead`` draws the next chunk's patients on a helper
    while this one is solved."""
    try:
        scratch = spare.get_nowait() if spare is not None else None
    except Empty:
        scratch = {}
    try:
        if ahead is not None:
            drawn = ahead.take(first_block, blocks, submit, scratch)
        else:
            drawn = draw(job, first_block, blocks, n_total, submit, scratch)
        return _chunk(job, first_block, out, scratch, drawn)
    finally:
        if spare is not None and scratch is not None:
            spare.put(scratch)


def _chunk(
    job: Job,
    first_block: int,
    out: _Chunk | None,
    scratch: dict[str, FloatArray] | None,
    drawn: Drawn,
) -> _Chunk:
    model = job.model
    cov, params, inputs = drawn
    n = cov.n
    outputs = job.outputs()
    start = first_block * BLOCK_SIZE
    keep = max(0, min(n, job.band_patients - start))  # only these patients carry bands
    if out is None:
        out = _Chunk.empty(start, n, job.thresholds.size, keep, job.band_times.size)
    for name in ("weight_kg", "age_years", "female", "height_cm", "child_pugh"):
        getattr(out, name)[:] = getattr(cov, name)
    t_last = job.horizon_min
    n_states = len(model.structure.states(job.paths))
    system: LinearSystem | None = None
    if job.closed_form:
        from ketaclinic.pharmacology._closed_form import IvInputs, mammillary_coefficients

        # IV doses all enter the central compartment, state 0: its column is all the closed
        # form reads, so only that one is built (the whole (n, states) pairs of arrays per
        # breakpoint were fresh memory, page faults, for columns never read)
        assert all(inp.state == 0 for inp in inputs)
        central = input_segments(inputs, n, 1, t_last)
        modal = mammillary_coefficients(
            params,
            model.structure.compartments,
            any(state == "effect" for _, state in outputs),
            IvInputs(
                np.concatenate([b for _, b, _ in central], axis=1),
                np.concatenate([r for _, _, r in central], axis=1),
                np.array([t for t, _, _ in central]),
                t_last,
            ),
            scratch,
        )
        lam, const, coef, area, good = modal
        segs = central  # the breakpoints; every state's inputs only if the expm path needs them
    else:
        segs = input_segments(inputs, n, n_states, t_last)
        system = build_system(model.structure, params, job.paths)
        modes = decompose(system.a_per_min)
        lam, good = modes.lam, modes.good
        weights = np.matmul(_rows(system, outputs), modes.vec)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # bad bases: NaN
            const, coef, area = modal_coefficients(lam, weights, modes.inv, segs, 0.0, t_last)
    _modal_metrics(job, out, outputs, good, lam, const, coef, area, segs, keep)
    bad = np.flatnonzero(~good)
    if bad.size:
        if system is None:
            system = build_system(model.structure, params, job.paths)
            segs = input_segments(inputs, n, n_states, t_last)
        _expm_metrics(job, out, outputs, system, segs, bad, keep)
    return out


def _modal_metrics(
    job: Job,
    out: _Chunk,
    outputs: Sequence[tuple[int, str]],
    good: NDArray[np.bool_],
    lam: FloatArray,
    const: FloatArray,
    coef: FloatArray,
    area: FloatArray,
    segs: Sequence[Segment],
    keep: int,
) -> None:
    """Metrics of the patients with a good basis from their modal coefficients."""
    sel = np.flatnonzero(good)
    if not sel.size:
        return
    every = sel.size == good.size  # the usual case: slices, no gathers or scatters
    idx: slice | NDArray[np.intp] = slice(None) if every else sel
    n_band = keep if every else int(np.searchsorted(sel, keep))
    window = Window(
        np.array([t for t, _, _ in segs], dtype=np.float64),
        job.horizon_min,
        job.thresholds,
        job.band_times,
    )
    m, k_count = sel.size, coef.shape[2]
    metrics = Metrics(
        np.empty((m, k_count)),
        np.empty((m, k_count)),
        np.empty((m, k_count, job.thresholds.size)),
        out.bands if every else np.empty((job.band_times.size, n_band)),  # in place if every
    )
    terms = ModalTerms(np.ascontiguousarray(lam[idx]), const[idx], coef[idx])  # noise: kernels
    if job.compiled:  # imported only here: Numba's import cost stays out of short runs
        from ketaclinic.pharmacology._grid_compiled import compiled_kernel

        compiled_kernel(terms, window, metrics)
    else:
        numpy_kernel(terms, window, metrics)
    for j, (slot, _) in enumerate(outputs):
        out.cmax[idx, slot], out.tmax[idx, slot] = metrics.cmax[:, j], metrics.tmax[:, j]
        out.auc[idx, slot], out.above[idx, slot] = area[idx, j], metrics.above[:, j]
    if not every:
        out.bands[:, sel[:n_band]] = metrics.bands


def _expm_metrics(
    job: Job,
    out: _Chunk,
    outputs: Sequence[tuple[int, str]],
    system: LinearSystem,
    segs: Sequence[Segment],
    bad: NDArray[np.intp],
    keep: int,
) -> None:
    """Metrics of the patients with an ill-conditioned basis (rare: two nearly equal rate
    constants): matrix exponentials, one by one, on a dense grid (``_extrema.dense_metrics``);
    the AUC is exact."""
    rows = _rows(system, outputs)
    seg_t0 = np.array([t for t, _, _ in segs], dtype=np.float64)
    for p in bad:
        own = [(t, b[p : p + 1], r[p : p + 1]) for t, b, r in segs]

        def solve_at(times: FloatArray, own: list[Segment] = own, p: int = p) -> Any:
            return solve_expm(system.a_per_min[p], own, times, rows[p])

        cmax, tmax, above, auc = dense_metrics(solve_at, job.horizon_min, seg_t0, job.thresholds)
        out.expm[p] = True
        for j, (slot, _) in enumerate(outputs):
            out.cmax[p, slot], out.tmax[p, slot] = cmax[j], tmax[j]
            out.auc[p, slot], out.above[p, slot] = auc[j], above[j]
        if p < keep:
            out.bands[:, p] = solve_at(job.band_times)[0][0]


def _band_times(
    t_count: int, n: int, band_points: int, step_min: float, events: Sequence[Dose]
) -> FloatArray:
    """Evenly spaced grid times plus the grid points at each dose's start and end (where
    peaks sit), within the memory budget for ``n`` band patients."""
    budget = max(8, BAND_MEMORY_BYTES // (8 * max(n, 1)))
    points_at = {round(t / step_min) for d in events for t in (d.start_min, d.end_min)}
    points_at = {i for i in points_at if 0 <= i < t_count}
    points = max(2, int(min(band_points, budget, t_count)) - len(points_at))
    # a constant stride (the kernels advance the exponentials by one factor per band time)
    stride = max(1, -(-(t_count - 1) // (points - 1)))
    even = np.append(np.arange(0, t_count, stride), t_count - 1)
    idx = np.unique(np.concatenate([even, np.fromiter(points_at, dtype=np.int64)]))
    return np.asarray(idx * float(step_min), dtype=np.float64)


def _whole_number(value: Any, what: str, low: int, high: float | None = None) -> int:
    ok = not isinstance(value, bool) and isinstance(value, int | np.integer)
    if ok and int(value) >= low and (high is None or int(value) <= high):
        return int(value)
    accepted = f"from {low} to {high:.0f}" if high is not None else f">= {low}"
    raise UserInputError(f"{what} must be a whole number {accepted}, got {value!r}")


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
    executor: Executor | None = None,
    kernel: str = "auto",
    band_points: int = 97,
    band_patients: int = BAND_PATIENTS,
    effect_site: bool = False,
    norketamine: bool = True,
    progress: Progress | None = None,
) -> PopulationResult:
    """Simulate ``n`` virtual patients and summarise their exposure.

    Reproducible: the same ``seed`` gives the same numbers for any ``chunk_size``, ``kernel``
    and ``executor`` (``ketaclinic.compute``: threads, or a Dask cluster). Metrics cover plasma
    ketamine and, where modelled, norketamine (``norketamine=False`` leaves it out: for IV
    doses of a racemic model that keeps the closed-form fast path, about x5 faster);
    ``effect_site=True`` adds the effect site.
    ``kernel``: ``"numpy"`` evaluates every grid point, ``"compiled"`` uses the Numba kernels,
    ``"auto"`` picks NumPy below ``NUMBA_MIN_PATIENTS`` patients. Percentile bands
    use ``band_points`` grid times (evenly spaced, plus each dose's start and end) and the
    first ``min(n, band_patients)`` patients, an i.i.d. sample fixed by the seed, so their
    memory is bounded whatever ``n``; metrics and probabilities always use every patient.

    >>> r = simulate_population("domino", ["iv-infusion 0.5 mg/kg over 40 min"], n=2000,
    ...                         seed=1, variability="CL=0.3,V1=0.3", thresholds_ng_per_ml=[300])
    >>> 0.0 < r.probability_above_ng_per_ml[300.0].probability < 0.5
    True
    """
    spec = get_model(model)
    n = _whole_number(n, "n", 1, POPULATION_PATIENTS.high)
    seed = _whole_number(seed, "seed", 0)
    dose_list = tuple(parse_doses(doses))
    events = tuple(expand_doses(dose_list))
    routes = check_routes(spec, events)
    if not (math.isfinite(step_min) and step_min > 0):
        raise UserInputError(f"step must be above 0 min, got {step_min!r}")
    if not (math.isfinite(horizon_min) and 0 < horizon_min <= TIME_MIN.high):
        raise UserInputError(
            f"horizon must be above 0 and at most {TIME_MIN.high:g} min "
            f"({TIME_MIN.high / 1440:g} d), got {horizon_min!r} min"
        )
    t_count = math.floor(horizon_min / step_min + 1e-9) + 1
    if not GRID_POINTS.contains(t_count):
        raise UserInputError(
            f"{t_count} grid points per patient; at most {GRID_POINTS.high:.0f} are accepted "
            "(use a coarser step)"
        )
    thresholds = np.array(sorted({float(t) for t in thresholds_ng_per_ml}), dtype=float)
    if not THRESHOLD_COUNT.contains(thresholds.size):
        raise UserInputError(
            f"{thresholds.size} thresholds given; at most {THRESHOLD_COUNT.high:.0f} are accepted"
        )
    if np.any(~np.isfinite(thresholds)) or np.any(thresholds <= 0):
        raise UserInputError("thresholds must be concentrations above 0 ng/mL")
    if chunk_size < 1:
        raise UserInputError(f"chunk size must be at least 1 patient, got {chunk_size}")
    if kernel not in KERNELS:
        raise UserInputError(f"kernel {kernel!r} is not accepted; accepted: {', '.join(KERNELS)}")
    band_patients = _whole_number(band_patients, "band patients", 1)
    pop = population_spec(covariates, child_pugh_mix)
    names = variable_names(spec, routes)
    var = parse_variability(variability, spec, names)  # the default: only the routes used
    for name in var.cv:
        if name not in names:
            raise UserInputError(
                f"variability names unknown parameter {name!r} for {spec.name}; accepted: "
                + ", ".join(names)
            )
    n_band = min(n, band_patients)
    job = Job(
        model=spec,
        doses=dose_list,
        events=events,
        routes=routes,
        seed=seed,
        population=pop,
        variability=var,
        horizon_min=float(horizon_min),
        thresholds=thresholds,
        band_times=_band_times(t_count, n_band, band_points, float(step_min), events),
        compiled=kernel == "compiled" or (kernel == "auto" and n >= NUMBA_MIN_PATIENTS),
        effect_site=bool(effect_site),
        band_patients=n_band,
        norketamine=bool(norketamine),
    )
    blocks_total = -(-n // BLOCK_SIZE)
    per_chunk = max(1, int(chunk_size) // BLOCK_SIZE)
    ranges = [(b, min(per_chunk, blocks_total - b)) for b in range(0, blocks_total, per_chunk)]
    if executor is None:
        with CallThreads() as local:
            return _run(job, ranges, n, local, progress)
    if not isinstance(executor, Executor):
        raise TypeError(
            f"executor must provide shares_memory, map_unordered and submit (see "
            f"ketaclinic.compute), got {type(executor).__name__}"
        )
    return _run(job, ranges, n, executor, progress)


def _run(
    job: Job,
    ranges: list[tuple[int, int]],
    n: int,
    executor: Executor,
    progress: Progress | None,
) -> PopulationResult:
    """Run every chunk on ``executor``; the band values are sorted on helper threads as soon
    as the chunks holding the band patients are in, while the other chunks run."""
    whole = _Chunk.empty(0, n, job.thresholds.size, job.band_patients, job.band_times.size)
    starts = [first * BLOCK_SIZE for first, _ in ranges]
    stops = [min(n, s + count * BLOCK_SIZE) for s, (_, count) in zip(starts, ranges, strict=True)]
    if executor.shares_memory:
        spare: SimpleQueue[dict[str, FloatArray]] = SimpleQueue()
        ahead = DrawAhead(job, ranges, n)
        tasks: list[tuple[Any, ...]] = [
            (job, first, count, n, whole.part(start, stop), executor.submit, spare, ahead)
            for (first, count), start, stop in zip(ranges, starts, stops, strict=True)
        ]
    else:
        tasks = [(job, first, count, n) for first, count in ranges]
    band_chunks = {s for s in starts if s < job.band_patients}
    band_values: Callable[[], FloatArray] | None = None
    done = 0
    for chunk in executor.map_unordered(_run_chunk, tasks):
        if not executor.shares_memory:
            whole.fill(chunk)  # in place as each arrives: one chunk in flight
        done += chunk.size
        band_chunks.discard(chunk.start)
        if band_values is None and not band_chunks:
            band_values = start_percentiles(whole.bands, PERCENTILES, executor.submit, job.compiled)
        if progress:
            progress(done, n)
    assert band_values is not None  # the first chunk always holds band patients
    return _assemble(job, whole, band_values())


def _applicability(spec: PKModel, whole: _Chunk) -> list[str]:
    """The fraction of patients outside each validated covariate range, in the words
    ``simulate`` uses for one patient."""
    out = []
    for label, values, (lo, hi), unit in (
        ("a weight", whole.weight_kg, spec.weight_range_kg, "kg"),
        ("an age", whole.age_years, spec.age_range_years, "years"),
    ):
        outside = float(np.mean((values < lo) | (values > hi)))
        if outside > 0:
            out.append(
                f"{outside:.1%} of patients have {label} outside the {spec.name} model's "
                f"validated range {lo:g}-{hi:g} {unit} (from {np.min(values):.3g} to "
                f"{np.max(values):.3g} {unit} here): their predictions are extrapolations"
            )
    return out


def _assemble(job: Job, whole: _Chunk, band_values: FloatArray) -> PopulationResult:
    """The result from every patient's metrics and the band percentiles (q, band times)."""
    metrics: list[PopulationMetrics | None] = []
    for slot in range(3):
        if np.all(np.isnan(whole.cmax[:, slot])):
            metrics.append(None)
            continue
        metrics.append(
            PopulationMetrics(
                cmax_ng_per_ml=whole.cmax[:, slot],
                tmax_min=whole.tmax[:, slot],
                auc_ng_h_per_ml=whole.auc[:, slot] / 60.0,
                minutes_above_ng_per_ml={
                    float(t): whole.above[:, slot, m] for m, t in enumerate(job.thresholds)
                },
            )
        )
    ket = metrics[0]
    assert ket is not None
    spec, var, pop = job.model, job.variability, job.population
    warnings = []
    if var.assumed:
        warnings.append(var.basis)
    warnings += _applicability(spec, whole)
    if any(not spec.routes[r].native for r in job.routes):
        warnings.append("a route extension is used: see sources")
    late = [d for d in job.events if d.start_min > job.horizon_min]
    if late:
        warnings.append(
            f"{len(late)} dose(s) start after the simulated window ends at "
            f"{job.horizon_min:g} min (first: {late[0]}): they are not in these metrics; "
            "simulate further (--until) to include them"
        )
    boluses = [
        d.start_min for d in job.events if spec.routes[d.route].direct and not d.duration_min
    ]
    at_bolus = float(np.mean(np.isin(ket.tmax_min, boluses))) if boluses else 0.0
    if at_bolus > 0:
        warnings.append(
            f"{at_bolus:.0%} of patients have their plasma Cmax the instant after an IV bolus: "
            "the model mixes the dose into the central volume at once, an artefact no blood "
            "sample shows; the effect-site metrics (--effect-site) give the peak that matters"
        )
    source = str(pop.get("source", "user description"))
    return PopulationResult(
        model=spec,
        doses=job.doses,
        n=whole.size,
        seed=job.seed,
        ketamine=ket,
        norketamine=metrics[1],
        effect_site=metrics[2],
        band_times_min=job.band_times,
        band_patients=job.band_patients,
        bands_ng_per_ml={q: band_values[i] for i, q in enumerate(PERCENTILES)},
        covariates=Covariates(
            whole.weight_kg, whole.age_years, whole.female, whole.height_cm, whole.child_pugh
        ),
        variability=var,
        population_source=source,
        warnings=tuple(warnings),
        sources=(f"model: {spec.source}", f"variability: {var.basis}", f"population: {source}"),
        expm_patients=int(np.count_nonzero(whole.expm)),
        horizon_min=job.horizon_min,
    )
