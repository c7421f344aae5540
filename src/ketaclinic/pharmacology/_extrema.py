"""Exact Cmax, Tmax and time above thresholds of sums of exponentials, whatever the grid.

Between two input changes every output is ``y(tau) = c + sum_i a_i exp(lam_i tau)``. Its
maximum over a segment lies at the segment's ends or at a root of ``y'``; between two
consecutive roots of ``y'`` it is monotone, so each threshold is crossed at most once there.
The roots of ``y'`` are found without a grid by the argument behind Descartes' rule of signs
for exponential sums (Polya & Szego, Problems and Theorems in Analysis II, part V, problem
75): with ``h_0 = y'`` and

    h_{j+1} = exp(lam_j tau) d/dtau [exp(-lam_j tau) h_j]
            = sum_i a_i lam_i (lam_i - lam_0) ... (lam_i - lam_j) exp(lam_i tau),

``exp(-lam_j tau) h_j`` is monotone between consecutive roots of ``h_{j+1}``, so each of those
intervals holds at most one root of ``h_j``; ``h_{s-1}`` has a single term and no root. Going
down from ``j = s - 2`` to ``0``, every root is bracketed and found by safeguarded Newton
steps (the step ``h_j / h_{j+1}`` is Newton's on the monotone ``exp(-lam_j tau) h_j``), with
bisection whenever a step leaves the bracket. Every level uses the same exponentials
``exp(lam_i tau)``, which never overflow (``lam < 0``, ``tau >= 0``).

Rows whose derivative's coefficients change sign at most once need no levels (Descartes):
none, ``y`` is monotone and only the ends count; one, ``y'`` has at most one root, bracketed
by the ends. Everything here is vectorised over rows (patients x segments x outputs); the
compiled population kernel (``_grid_compiled``) runs the same steps patient by patient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ketaclinic.pharmacology._extrema_one import MAX_ITERATIONS, NOISE, ROOT_TOLERANCE, root
from ketaclinic.pharmacology._metrics import grid_maximum, minutes_above

__all__ = [
    "DENSE_POINTS",
    "MAX_ITERATIONS",
    "NOISE",
    "ROOT_TOLERANCE",
    "ExactMetrics",
    "dense_metrics",
    "drop_rounding_noise",
    "exact_metrics",
    "level_weights",
]

FloatArray = NDArray[np.float64]
# The rare patient whose eigenbasis is ill-conditioned (two nearly equal rates) is stepped by
# matrix exponentials: its metrics come from a dense grid of this many points.
DENSE_POINTS = 20_001
_ROWS_PER_BLOCK = 8192  # rows (patient x segment x output) held at once
_SCALAR_ROWS = 8  # Newton on at most this many rows runs on Python floats (no array overhead)


class ExactMetrics(NamedTuple):
    """Per patient and output: the maximum over the window, its first time, and the time
    with the output strictly above each threshold."""

    cmax: FloatArray  # (n, k)
    tmax_min: FloatArray  # (n, k)
    above_min: FloatArray  # (n, k, m)


def drop_rounding_noise(coef: FloatArray) -> FloatArray:
    """``coef`` with the terms below ``NOISE`` x each sum's largest set to zero.

    Structurally absent modes come out of an eigen-decomposition as about 1e-17 instead of 0
    (a norketamine mode in plasma ketamine, which norketamine never feeds). Such a term
    changes no value by more than its size, but it adds sign changes to the derivative's
    coefficients, and with them turning points to look for (Descartes' bound): dropping it
    keeps the shortcut for curves whose derivative changes sign at most once."""
    top = np.max(np.abs(coef), axis=-1, keepdims=True)
    return np.where(np.abs(coef) < NOISE * top, 0.0, coef)


def level_weights(lam: FloatArray, coef: FloatArray) -> FloatArray:
    """``W[..., j, i]``: the coefficient of ``exp(lam_i tau)`` in ``h_j`` (``h_0 = y'``)."""
    s = lam.shape[-1]
    w = np.empty((*coef.shape[:-1], s, s))
    w[..., 0, :] = coef * lam
    for j in range(s - 1):
        w[..., j + 1, :] = w[..., j, :] * (lam - lam[..., j : j + 1])
    return w


def _scaled(lam: FloatArray, support: NDArray[np.bool_], tau: FloatArray) -> FloatArray:
    """``exp(lam_i tau - max_k lam_k tau)``, the maximum over each row's ``support``: the
    same signs as ``exp(lam_i tau)`` for sums over the support, without underflow. ``tau``
    is (rows,) or (rows, points)."""
    with np.errstate(under="ignore"):
        return _scaled_exp(lam, support, tau)


def _scaled_exp(lam: FloatArray, support: NDArray[np.bool_], tau: FloatArray) -> FloatArray:
    """``_scaled`` inside the caller's ``np.errstate`` (Newton's loop: one context, not one
    per iteration; entering one costs more than an iteration's arithmetic on a few rows)."""
    lt = lam[:, None, :] * tau[:, :, None] if tau.ndim == 2 else lam * tau[:, None]
    sup = support[:, None, :] if tau.ndim == 2 else support
    top = np.max(np.where(sup, lt, -np.inf), axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.exp(np.minimum(lt - top, 700.0))


def _newton(
    lam: FloatArray,
    wf: FloatArray,
    off: FloatArray,
    wd: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    f_lo: FloatArray,
    f_hi: FloatArray,
) -> FloatArray:
    """The root in ``(lo, hi)`` of ``f = off + wf . exp(lam tau)`` (which changes sign
    there), with Newton steps ``f / (wd . exp(lam tau))`` kept inside the bracket. Without
    a constant (``off == 0``) the exponentials are scaled (``_scaled``): the step and the
    sign are unchanged and nothing underflows."""
    if lo.size <= _SCALAR_ROWS:  # a few rows: plain floats beat NumPy's overhead
        return np.array(
            [
                root(
                    lam[r].tolist(),
                    wf[r].tolist(),
                    float(off[r]),
                    wd[r].tolist(),
                    float(lo[r]),
                    float(hi[r]),
                    float(f_lo[r]),
                    float(f_hi[r]),
                )
                for r in range(lo.size)
            ],
            dtype=np.float64,
        )
    lo, hi = lo.copy(), hi.copy()
    quiet = np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore")
    with quiet:
        x = lo - f_lo * (hi - lo) / (f_hi - f_lo)  # false position: a good first guess
        x = np.where((x > lo) & (x < hi), x, 0.5 * (lo + hi))
        positive_low = f_lo > 0
        last_step = hi - lo
        support = (wf != 0) & (off == 0)[:, None]  # no support: unscaled
        active = np.arange(x.size)
        for _ in range(MAX_ITERATIONS):
            if not active.size:
                break
            xa = x[active]
            e = _scaled_exp(lam[active], support[active], xa)
            f = off[active] + np.einsum("ms,ms->m", wf[active], e)
            d = np.einsum("ms,ms->m", wd[active], e)
            same = (f > 0) == positive_low[active]
            lo_a = np.where(same, xa, lo[active])
            hi_a = np.where(same, hi[active], xa)
            lo[active], hi[active] = lo_a, hi_a
            xn = xa - f / d
            # bisect when the step leaves the bracket or does not halve the previous one
            # (Newton far from a root of an exponential creeps: Press et al., Numerical
            # Recipes, rtsafe)
            slow = ~(np.abs(xn - xa) <= 0.5 * last_step[active])
            bisect = ~((xn > lo_a) & (xn < hi_a)) | slow
            xn = np.where(bisect, 0.5 * (lo_a + hi_a), xn)
            last_step[active] = np.abs(xn - xa)
            tol = ROOT_TOLERANCE * np.maximum(1.0, np.abs(xa))
            done = (f == 0) | (np.abs(xn - xa) <= tol) | (hi_a - lo_a <= tol)
            x[active] = np.where(f == 0, xa, xn)
            active = active[~done]
    return x


def _values(lam: FloatArray, a: FloatArray, c: FloatArray, tau: FloatArray) -> FloatArray:
    """``c + sum_i a_i exp(lam_i tau)`` at every column of ``tau`` (rows, points)."""
    with np.errstate(under="ignore"):
        e = np.exp(lam[:, None, :] * tau[:, :, None])
    return np.asarray(c[:, None] + np.einsum("rps,rs->rp", e, a), dtype=np.float64)


def _turning_points(
    lam: FloatArray, a: FloatArray, w: FloatArray, u0: FloatArray, u1: FloatArray
) -> FloatArray:
    """``[u0, roots of y' (or repeats), u1]``, sorted (rows, s + 1): ``y`` is monotone
    between consecutive columns."""
    s = lam.shape[1]
    pts = np.stack([u0, u1], axis=1)
    for j in range(s - 2, -1, -1):
        e = _scaled(lam, w[:, j] != 0, pts)
        h = np.einsum("rps,rs->rp", e, w[:, j])
        f_lo, f_hi = h[:, :-1], h[:, 1:]
        roots = pts[:, :-1].copy()  # no root in a bracket: repeat its start
        r, b = np.nonzero(f_lo * f_hi < 0)
        if r.size:
            roots[r, b] = _newton(
                lam[r],
                w[r, j],
                np.zeros(r.size),
                w[r, j + 1],
                pts[r, b],
                pts[r, b + 1],
                f_lo[r, b],
                f_hi[r, b],
            )
        pts = np.concatenate([u0[:, None], roots, u1[:, None]], axis=1)
    return pts


def _sign_changes(lam: FloatArray, w: FloatArray) -> NDArray[np.int64]:
    """Sign changes of each row of ``w`` taken in the order of its rates, zeros skipped: by
    Descartes' rule for exponential sums, at most that many roots (of ``w . exp(lam tau)``)."""
    ordered = np.take_along_axis(np.sign(w), np.argsort(lam, axis=1), axis=1)
    count = np.zeros(w.shape[0], dtype=np.int64)
    last = np.zeros(w.shape[0])
    for t in range(w.shape[1]):
        v = ordered[:, t]
        count += (v != 0) & (last != 0) & (v != last)
        last = np.where(v != 0, v, last)
    return count


def _points(
    lam: FloatArray, a: FloatArray, w: FloatArray, u0: FloatArray, u1: FloatArray
) -> FloatArray:
    """``_turning_points`` for every row, with the compiled kernel's shortcuts: where the
    derivative's coefficients (``w[:, 0]``) do not change sign, ``y`` is monotone and only
    the ends count; where they change sign once, ``y'`` has at most one root, bracketed by
    the ends when their signs differ (safeguarded Newton on ``y'`` with ``y''``). The other
    rows take the levels. Unused columns repeat ``u0`` (intervals of zero length)."""
    s = a.shape[1]
    pts = np.repeat(u0[:, None], s + 1, axis=1)
    pts[:, -1] = u1
    changes = _sign_changes(lam, w[:, 0])
    one = np.flatnonzero(changes == 1)
    if one.size:
        ends = np.stack([u0[one], u1[one]], axis=1)
        h = np.einsum("rps,rs->rp", _scaled(lam[one], w[one, 0] != 0, ends), w[one, 0])
        r = one[h[:, 0] * h[:, 1] < 0]
        if r.size:
            hr = h[h[:, 0] * h[:, 1] < 0]
            pts[r, -2] = _newton(
                lam[r],
                w[r, 0],
                np.zeros(r.size),
                w[r, 0] * lam[r],
                u0[r],
                u1[r],
                hr[:, 0],
                hr[:, 1],
            )
    many = np.flatnonzero(changes > 1)
    if many.size:
        pts[many] = _turning_points(lam[many], a[many], w[many], u0[many], u1[many])
    return pts


def _rows(
    lam: FloatArray,
    a: FloatArray,
    c: FloatArray,
    u0: FloatArray,
    u1: FloatArray,
    thresholds: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Maximum, its first ``tau`` and time above each threshold, for each row."""
    rows, s = a.shape
    w = level_weights(lam, a)
    pts = _points(lam, a, w, u0, u1) if s > 1 else np.stack([u0, u1], axis=1)
    y = _values(lam, a, c, pts)
    i = np.argmax(y, axis=1)
    take = np.arange(rows)
    best, where = y[take, i], pts[take, i]
    above = np.zeros((rows, thresholds.size))
    ya, yb = y[:, :-1], y[:, 1:]
    pa, pb = pts[:, :-1], pts[:, 1:]
    width = pb - pa
    for m, thr in enumerate(thresholds):
        full = (ya >= thr) & (yb >= thr) & ((ya > thr) | (yb > thr))
        length = np.where(full, width, 0.0)
        r, b = np.nonzero((ya - thr) * (yb - thr) < 0)
        if r.size:
            x = _newton(
                lam[r],
                a[r],
                c[r] - thr,
                w[r, 0],
                pa[r, b],
                pb[r, b],
                ya[r, b] - thr,
                yb[r, b] - thr,
            )
            length[r, b] = np.where(ya[r, b] > thr, x - pa[r, b], pb[r, b] - x)
        above[:, m] = length.sum(axis=1)
    return best, where, above


def exact_metrics(
    lam: FloatArray,
    const: FloatArray,
    coef: FloatArray,
    seg_t0: FloatArray,
    t_end: float,
    thresholds: FloatArray,
    t_start: float = 0.0,
) -> ExactMetrics:
    """Exact metrics over ``[t_start, t_end]`` of outputs given segment by segment.

    ``lam`` (n, s), ``const`` (n, g, k) and ``coef`` (n, g, k, s) as ``modal_coefficients``
    gives them, ``seg_t0`` (g,) the segment starts (min, sorted, the first at or before
    ``t_start``). A segment starting exactly at ``t_end`` contributes its first value (a
    bolus given at the window's end is in the maximum).
    """
    n, _g_count, k_count, s = coef.shape
    seg_t0 = np.asarray(seg_t0, dtype=np.float64)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    seg_end = np.append(seg_t0[1:], np.inf)
    u0 = np.maximum(seg_t0, t_start) - seg_t0
    u1 = np.minimum(seg_end, t_end) - seg_t0
    live = np.flatnonzero(u1 >= u0)
    cmax = np.full((n, k_count), -np.inf)
    tmax = np.zeros((n, k_count))
    above = np.zeros((n, k_count, thresholds.size))
    if not live.size:
        return ExactMetrics(cmax, tmax, above)
    per_patient = live.size * k_count
    step = max(1, _ROWS_PER_BLOCK // per_patient)
    for p0 in range(0, n, step):
        p1 = min(n, p0 + step)
        b = p1 - p0
        shape = (b, live.size, k_count)
        lam_r = np.broadcast_to(lam[p0:p1, None, None, :], (*shape, s)).reshape(-1, s)
        a_r = coef[p0:p1][:, live].reshape(-1, s)
        c_r = const[p0:p1][:, live].reshape(-1)
        lo = np.broadcast_to(u0[live][None, :, None], shape).reshape(-1)
        hi = np.broadcast_to(u1[live][None, :, None], shape).reshape(-1)
        best, where, up = _rows(lam_r, a_r, c_r, lo, hi, thresholds)
        best = best.reshape(shape)
        when = (where.reshape(shape) + seg_t0[live][None, :, None]).astype(np.float64)
        first = np.argmax(best, axis=1)  # the earliest segment holding the maximum
        cmax[p0:p1] = np.take_along_axis(best, first[:, None, :], axis=1)[:, 0]
        tmax[p0:p1] = np.take_along_axis(when, first[:, None, :], axis=1)[:, 0]
        above[p0:p1] = up.reshape(*shape, thresholds.size).sum(axis=1)
    return ExactMetrics(cmax, tmax, above)


def dense_metrics(
    solve_at: Callable[[FloatArray], tuple[FloatArray, FloatArray]],
    t_end: float,
    seg_t0: FloatArray,
    thresholds: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``(cmax, tmax, above (k, m), auc)`` where only values on a grid are available (a
    patient stepped by matrix exponentials: ``solve_at(times) -> (values (k, T), auc)``).

    The grid is ``DENSE_POINTS`` evenly spaced points plus every segment start; each
    output's maximum is then refined on 401 points between the best point's neighbours
    (the error of a sampled peak shrinks with the square of the spacing: about 1e-10
    relative). Minutes above interpolate linearly between the dense points."""
    starts = seg_t0[seg_t0 <= t_end]
    dense = np.unique(np.concatenate([np.linspace(0.0, t_end, DENSE_POINTS), starts]))
    values, auc = solve_at(dense)
    near = []
    for i in np.argmax(values, axis=1):
        lo, hi = dense[max(i - 1, 0)], dense[min(i + 1, dense.size - 1)]
        near.append(np.linspace(lo, hi, 401))
    fine = np.unique(np.concatenate([dense, *near]))
    fine_values, _ = solve_at(fine)
    cmax, tmax = grid_maximum(fine, fine_values)
    above = np.zeros((values.shape[0], thresholds.size))
    for m, thr in enumerate(thresholds):
        above[:, m] = minutes_above(dense, values, float(thr))
    return cmax, tmax, above, auc
