"""Exact solution of linear systems under piecewise-constant inputs.

Between two input changes the system ``dx/dt = A x + r`` is solved in its modal coordinates:
with ``A = V diag(lam) V^-1`` and ``z = V^-1 x``, every mode obeys
``z_i(t) = zss_i + (z_i(t0) - zss_i) exp(lam_i (t - t0))`` with ``zss_i = -(V^-1 r)_i / lam_i``.
An output ``y = c x`` is then a constant plus a sum of exponentials, evaluated exactly at any
time and integrated exactly over any interval (no ODE integrator, no step-size error).

On a uniform grid the exponentials are factorised as ``exp(lam h (aB + b)) =
exp(lam h B a) exp(lam h b)``, so a whole segment is one small matrix product of shape
``(T/B, modes) @ (modes, B)``: about ``2 sqrt(T)`` exponentials instead of ``T`` per mode.

Mammillary models, depots, metabolite chains and effect sites have real, negative
eigenvalues. When an eigenbasis is ill-conditioned (two nearly equal rate constants) the
affected patients fall back to stepping with matrix exponentials of the augmented system
(``_expm.solve_expm``), which is exact to rounding but slower.

:func:`modal_coefficients` gives the constant and the coefficient of every mode in every
input segment, and the exact AUC: :func:`solve` evaluates them on a grid, populations take
their metrics from them without a grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ketaclinic.errors import NumericalError
from ketaclinic.pharmacology._system import LinearSystem

__all__ = [
    "Input",
    "Modes",
    "Segment",
    "Solution",
    "decompose",
    "grid_step",
    "input_segments",
    "integral_of_exponentials",
    "modal_coefficients",
    "solve",
    "values_on_grid",
]

FloatArray = NDArray[np.float64]

# Eigenvalues closer than this (relative) make the modal sums cancel: such patients take the
# matrix-exponential path. At 1e-8 the cancellation costs at most ~1e-8 relative accuracy.
MIN_RELATIVE_GAP = 1e-8
_UNIFORM_MIN_POINTS = 64


@dataclass(frozen=True, eq=False)  # holds arrays: == would be ambiguous
class Input:
    """Amount entering ``state`` (index): a bolus at ``start_min`` or, with a duration, a
    zero-order infusion over ``[start_min, start_min + duration_min)``. ``amount_mg`` has one
    value per patient."""

    state: int
    start_min: float
    duration_min: float
    amount_mg: FloatArray


@dataclass(frozen=True, eq=False)  # holds arrays: == would be ambiguous
class Modes:
    """Eigen-decomposition of ``A`` for every patient, plus which patients it serves."""

    lam: FloatArray  # (n, s)
    vec: FloatArray  # (n, s, s)
    inv: FloatArray  # (n, s, s)
    good: NDArray[np.bool_]  # (n,) eigenbasis well conditioned


@dataclass(frozen=True, eq=False)  # holds arrays: == would be ambiguous
class Solution:
    """``values``: outputs on the time grid (n, k, T); ``integral``: exact integral of each
    output from the first to the last grid time (n, k), in output units x min."""

    values: FloatArray
    integral: FloatArray


def decompose(a_per_min: FloatArray) -> Modes:
    """Eigen-decompose a stack of system matrices (n, s, s)."""
    lam_c, vec_c = np.linalg.eig(a_per_min)
    # eig returns real arrays when every eigenvalue is real (the rule for these models)
    if np.iscomplexobj(lam_c) and np.any(
        np.abs(lam_c.imag) > 1e-9 * np.maximum(1.0, np.abs(lam_c.real))
    ):
        raise NumericalError(
            "the system has oscillating modes (complex eigenvalues); "
            "linear compartment models should not"
        )
    lam = np.ascontiguousarray(lam_c.real)
    vec = np.ascontiguousarray(vec_c.real)
    # Ill-conditioned eigenbases come from (nearly) equal eigenvalues: test the relative gap,
    # then confirm the inverse (cheaper than a condition number by SVD for 10^6 matrices).
    scale = np.max(np.abs(lam), axis=1, keepdims=True)
    gaps = np.abs(lam[:, :, None] - lam[:, None, :]) / scale[:, :, None]
    gaps[:, np.arange(lam.shape[1]), np.arange(lam.shape[1])] = np.inf
    good = (np.min(gaps, axis=(1, 2)) > MIN_RELATIVE_GAP) & np.all(lam < 0, axis=1)
    good &= np.all(np.isfinite(vec), axis=(1, 2))
    eye = np.eye(lam.shape[1])
    if np.all(good):  # the usual case, a single patient's too: no subsets to copy
        with np.errstate(all="ignore"):
            inv = np.linalg.inv(vec)
        residual = np.max(np.abs(np.matmul(vec, inv) - eye), axis=(1, 2))
        good = residual < 1e-9
        return Modes(lam, vec, inv, good)
    inv = np.full_like(vec, np.nan)
    if np.any(good):
        ok = np.flatnonzero(good)
        with np.errstate(all="ignore"):
            inv[ok] = np.linalg.inv(vec[ok])
        residual = np.max(np.abs(np.matmul(vec[ok], inv[ok]) - eye), axis=(1, 2))
        good[ok[~(residual < 1e-9)]] = False
    return Modes(lam, vec, inv, good)


Segment = tuple[float, FloatArray, FloatArray]  # (start_min, bolus (n, s) mg, rate (n, s) mg/min)


def input_segments(inputs: Sequence[Input], n: int, s: int, t_end: float) -> list[Segment]:
    """Breakpoints up to ``t_end`` with the bolus vector applied at each and the rate vector
    after it, for ``n`` patients and ``s`` states."""
    points = {0.0}
    for inp in inputs:
        if inp.start_min <= t_end:
            points.add(inp.start_min)
            if inp.duration_min > 0 and inp.start_min + inp.duration_min < t_end:
                points.add(inp.start_min + inp.duration_min)
    segments = []
    for t in sorted(points):
        bolus = np.zeros((n, s))
        rate = np.zeros((n, s))
        for inp in inputs:
            if inp.duration_min == 0:
                if inp.start_min == t:
                    bolus[:, inp.state] += inp.amount_mg
            elif inp.start_min <= t < inp.start_min + inp.duration_min:
                rate[:, inp.state] += inp.amount_mg / inp.duration_min
        segments.append((t, bolus, rate))
    return segments


# OpenBLAS runs a product of m x n x k at most 65536 x 4 (its SMP_THRESHOLD_MIN times the
# default GEMM_MULTITHREAD_THRESHOLD) on the calling thread
_ONE_THREAD_GEMM = 65536 * 4
_CHUNK = 16_000  # differences at once: 128 kB, under glibc's mmap threshold (no page faults)


def grid_step(times: FloatArray) -> tuple[bool, float | None]:
    """``(sorted, step)``: whether ``times`` is non-decreasing, and its step when it is evenly
    spaced to 1e-12 relative (else None). Works in cache-sized chunks through one buffer,
    so checking a grid of 10^6 points costs no large temporary."""
    if times.size < 2:
        return True, None
    lo, hi = np.inf, -np.inf
    last = times.size - 1
    buf = np.empty(min(last, _CHUNK))
    for i in range(0, last, _CHUNK):
        j = min(last, i + _CHUNK)
        d = np.subtract(times[i + 1 : j + 1], times[i:j], out=buf[: j - i])
        lo, hi = min(lo, float(d.min())), max(hi, float(d.max()))
    if lo < 0:
        return False, None
    h = float(times[-1] - times[0]) / last
    uniform = h > 0 and max(hi - h, h - lo) <= 1e-12 * max(1.0, abs(float(times[-1])))
    return True, (h if uniform else None)


def _sum_of_exponentials(
    lam: FloatArray,
    coef: FloatArray,
    const: FloatArray,
    times: FloatArray,
    t0: float,
    h: float | None,
    out: FloatArray,
) -> None:
    """``out[n,k,t] = const[n,k] + sum_i coef[n,k,i] exp(lam[n,i] (times[t] - t0))``.

    ``h``: the grid step when ``times`` is evenly spaced (the fast factorised path)."""
    t_count = times.size
    if h is None or t_count < _UNIFORM_MIN_POINTS:
        e = np.exp(lam[:, None, :] * (times - t0)[None, :, None])  # (n, T, s)
        out[...] = np.einsum("nks,nts->nkt", coef, e)
        out += const[:, :, None]
        return
    # The constant rides along as one more mode of rate 0 (a column of ones), so the matrix
    # product writes each value once: no second pass over the grid to add it.
    n, k, s = coef.shape
    block = int(np.ceil(np.sqrt(t_count)))
    rows = t_count // block
    tau0 = float(times[0]) - t0
    small = np.empty((n, s + 1, block))
    np.exp(lam[:, :, None] * (h * np.arange(block))[None, None, :], out=small[:, :s])
    small[:, s] = 1.0
    big = np.exp(lam[:, None, :] * (tau0 + h * block * np.arange(rows + 1))[None, :, None])
    left = np.empty((n, k, rows + 1, s + 1))
    np.multiply(coef[:, :, None, :], big[:, None, :, :], out=left[..., :s])
    left[..., s] = const[:, :, None]
    full = out[:, :, : rows * block].reshape(n, k, rows, block)
    # in groups of rows small enough for OpenBLAS to keep each product on the calling thread:
    # waking its threads for a product this small cost up to 70 ms per W1 call on a loaded
    # 2-core machine (1.5 ms on one thread), and saves nothing when the machine is quiet
    step = max(1, _ONE_THREAD_GEMM // (block * (s + 1)))
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        np.matmul(left[:, :, r0:r1], small[:, None, :, :], out=full[:, :, r0:r1])
    tail = t_count - rows * block
    if tail:
        out[:, :, rows * block :] = np.matmul(left[:, :, rows:], small[:, None, :, :tail])[
            :, :, 0, :
        ]


def integral_of_exponentials(lam: FloatArray, coef: FloatArray, u0: float, u1: float) -> FloatArray:
    """``sum_i coef * int_u0^u1 exp(lam tau) dtau`` -> (n, k), exact (expm1 for accuracy)."""
    width = u1 - u0
    with np.errstate(divide="ignore", invalid="ignore"):
        per_mode = np.exp(lam * u0) * np.expm1(lam * width) / lam
    per_mode = np.where(lam == 0, width, per_mode)
    return np.asarray(np.einsum("nks,ns->nk", coef, per_mode))


def modal_coefficients(
    lam: FloatArray,
    weights: FloatArray,
    inv: FloatArray,
    segments: Sequence[Segment],
    t_first: float,
    t_last: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(const, coef, area)`` of each output in each input segment from the eigen-modes.

    ``lam`` (n, s) are the modes' rates, ``weights`` (n, k, s) each output per unit of each
    mode (``rows @ V``) and ``inv`` (n, s, s) is ``V^-1``. Between breakpoints output ``k``
    of segment ``g`` is ``const[n, g, k] + sum_i coef[n, g, k, i] exp(lam[n, i] (t - t0_g))``,
    and ``area`` (n, k) is its exact integral from ``t_first`` to ``t_last``. Patients with
    a bad basis give NaN (callers that pass them silence the warnings: their rows are not
    used).
    """
    n, s = lam.shape
    k_count = weights.shape[1]
    g_count = len(segments)
    const = np.empty((n, g_count, k_count))
    coef = np.empty((n, g_count, k_count, s))
    area = np.zeros((n, k_count))
    z = np.zeros((n, s))
    for g, (t0, bolus, rate) in enumerate(segments):
        t1 = segments[g + 1][0] if g + 1 < g_count else np.inf
        z = z + np.einsum("nij,nj->ni", inv, bolus)
        zss = -np.einsum("nij,nj->ni", inv, rate) / lam
        c = z - zss
        const[:, g] = np.einsum("nks,ns->nk", weights, zss)
        coef[:, g] = weights * c[:, None, :]
        u0, u1 = max(t0, t_first) - t0, min(t1, t_last) - t0
        if u1 > u0:
            area += const[:, g] * (u1 - u0) + integral_of_exponentials(lam, coef[:, g], u0, u1)
        if np.isfinite(t1):
            z = zss + c * np.exp(lam * (t1 - t0))
    return const, coef, area


def solve(
    system: LinearSystem,
    inputs: Sequence[Input],
    times_min: FloatArray,
    rows: FloatArray,
    modes: Modes | None = None,
) -> Solution:
    """Outputs ``rows @ x`` (rows: (n, k, s)) at ``times_min`` (sorted, >= 0), exactly.

    The state is zero at time 0; every input starts at or after 0. Patients whose basis is
    not ``good`` are stepped with matrix exponentials.
    """
    times = np.asarray(times_min, dtype=float)
    if times.ndim != 1 or times.size == 0:
        raise ValueError("times_min must be a non-empty 1-D array")
    ordered, h = grid_step(times)
    if times[0] < 0 or not ordered:
        raise ValueError("times_min must be sorted and non-negative")
    modes = modes if modes is not None else decompose(system.a_per_min)
    n = system.n_patients
    k = rows.shape[1]
    values = np.empty((n, k, times.size))
    integral = np.zeros((n, k))
    good = modes.good
    if np.all(good):
        _solve_modal(modes, inputs, times, h, rows, values, integral, slice(None))
    else:
        idx = np.flatnonzero(good)
        if idx.size:
            _solve_modal(modes, inputs, times, h, rows, values, integral, idx)
        from ketaclinic.pharmacology._expm import solve_expm  # SciPy: only when needed

        s = len(system.states)
        for p in np.flatnonzero(~good):
            segs = input_segments(_subset(inputs, np.array([p])), 1, s, float(times[-1]))
            values[p], integral[p] = solve_expm(system.a_per_min[p], segs, times, rows[p])
    return Solution(values, integral)


def _subset(inputs: Sequence[Input], sel: slice | NDArray[np.intp]) -> list[Input]:
    return [Input(i.state, i.start_min, i.duration_min, i.amount_mg[sel]) for i in inputs]


def _solve_modal(
    modes: Modes,
    inputs: Sequence[Input],
    times: FloatArray,
    h: float | None,
    rows: FloatArray,
    values: FloatArray,
    integral: FloatArray,
    sel: slice | NDArray[np.intp],
) -> None:
    lam, vec, inv = modes.lam[sel], modes.vec[sel], modes.inv[sel]
    rows = rows[sel]
    n, s = lam.shape
    weights = np.matmul(rows, vec)  # (n, k, s): output per unit of each mode
    t_first, t_last = float(times[0]), float(times[-1])
    segs = input_segments(_subset(inputs, sel), n, s, t_last)
    const, coef, area = modal_coefficients(lam, weights, inv, segs, t_first, t_last)
    whole = isinstance(sel, slice)
    out = values if whole else np.empty((n, rows.shape[1], times.size))
    values_on_grid(lam, const, coef, [t0 for t0, _, _ in segs], times, h, out)
    if not whole:
        values[sel] = out
    integral[sel] = area


def values_on_grid(
    lam: FloatArray,
    const: FloatArray,
    coef: FloatArray,
    seg_t0: Sequence[float],
    times: FloatArray,
    h: float | None,
    out: FloatArray,
) -> None:
    """``out`` (n, k, T) = the outputs at ``times`` (sorted) from ``modal_coefficients``'
    ``const`` (n, g, k) and ``coef`` (n, g, k, s) of the segments starting at ``seg_t0``;
    ``h``: the grid step when ``times`` is evenly spaced (``grid_step``), else None."""
    for g, t0 in enumerate(seg_t0):
        t1 = seg_t0[g + 1] if g + 1 < len(seg_t0) else np.inf
        lo = np.searchsorted(times, t0, side="left")
        hi = np.searchsorted(times, t1, side="left") if np.isfinite(t1) else times.size
        if hi > lo:
            _sum_of_exponentials(
                lam, coef[:, g], const[:, g], times[lo:hi], t0, h, out[:, :, lo:hi]
            )
