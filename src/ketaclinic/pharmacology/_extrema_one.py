"""Exact Cmax, Tmax and time above thresholds of one patient, in Python floats.

The steps of ``_extrema`` (which explains them) and of the compiled population kernel
(``_grid_compiled``), for the handful of numbers one patient has: a few segments x outputs x
modes. NumPy costs about a microsecond per call whatever the size, and a vectorised pass
over six rows makes dozens of calls; plain floats do the same arithmetic in a fraction of
that. ``simulate`` takes this path; the tests compare it with the vectorised one.

Per segment and output, ``y(tau) = c + sum_i a_i exp(lam_i tau)`` on ``[0, u1]``:

- the derivative's coefficients ``a_i lam_i`` of one sign: ``y`` is monotone (Descartes),
  only the ends count;
- one sign change (in the order of the rates): ``y'`` has at most one root, bracketed by the
  ends when their signs differ, found by safeguarded Newton on ``y'`` with ``y''``;
- more: the levels ``h_j`` bracket every root of ``y'`` (``_extrema``'s docstring).

Then the maximum over the ends and turning points and, between consecutive ones (``y``
monotone there), each threshold's crossing by the same safeguarded Newton.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["MAX_ITERATIONS", "NOISE", "ROOT_TOLERANCE", "one_patient_metrics", "root"]

FloatArray = NDArray[np.float64]
ROOT_TOLERANCE = 1e-12  # relative to max(1, tau): far below any clinical resolution
MAX_ITERATIONS = 200  # bisection alone halves a year's bracket to 1e-12 in about 60
NOISE = 1e-13  # relative to a sum's largest coefficient: below this a term is rounding noise
_exp = math.exp


def root(
    lam: Sequence[float],
    wf: Sequence[float],
    off: float,
    wd: Sequence[float],
    lo: float,
    hi: float,
    f_lo: float,
    f_hi: float,
) -> float:
    """The root in ``(lo, hi)`` of ``f = off + wf . exp(lam tau)`` (which changes sign
    there): Newton steps ``f / (wd . exp(lam tau))`` kept inside the bracket, bisection
    when a step leaves it or does not halve the previous one (``_extrema._newton``'s steps
    and tests). Without a constant the exponentials are scaled by ``exp(-max lam_i tau)``
    over the terms of ``wf``: the sign and the step are unchanged and nothing underflows.

    As everywhere here: rates ``lam < 0``, ``0 <= lo``, and ``wd`` has no term that ``wf``
    lacks (a derivative or the next level), so every exponent is at most 0."""
    x = lo - f_lo * (hi - lo) / (f_hi - f_lo)  # the signs differ: no division by 0
    if not lo < x < hi:
        x = 0.5 * (lo + hi)
    positive_low = f_lo > 0
    last_step = hi - lo
    terms = [(li, a, b) for li, a, b in zip(lam, wf, wd, strict=True) if a != 0 or b != 0]
    support = [li for li, a, _ in terms if a != 0] if off == 0 else []
    # max_i lam_i x over the support is its fastest rate times x (x >= 0: rounding is
    # monotone), so no exponent exceeds 0 (math.exp would raise, not overflow silently)
    top_rate = max(support) if support else 0.0
    for _ in range(MAX_ITERATIONS):
        top = top_rate * x
        f = off
        d = 0.0
        for li, a, b in terms:
            v = _exp(li * x - top)
            f += a * v
            d += b * v
        if f == 0:
            return x
        if (f > 0) == positive_low:
            lo = x
        else:
            hi = x
        xn = x - f / d if d != 0 else 0.5 * (lo + hi)
        step = xn - x
        if not (lo < xn < hi and -0.5 * last_step <= step <= 0.5 * last_step):
            xn = 0.5 * (lo + hi)
            step = xn - x
        last_step = step if step >= 0 else -step
        tol = ROOT_TOLERANCE * (x if x > 1.0 else -x if x < -1.0 else 1.0)
        if last_step <= tol or hi - lo <= tol:
            return xn
        x = xn
    return x


def _level(lam: Sequence[float], w: Sequence[float], x: float) -> float:
    """``w . exp(lam x)`` scaled by ``exp(-max lam_i x)`` over the terms of ``w``: the sign,
    never lost to underflow."""
    terms = [(li, wi) for li, wi in zip(lam, w, strict=True) if wi != 0]
    if not terms:
        return 0.0
    top = max(li * x for li, _ in terms)
    return sum(wi * _exp(li * x - top) for li, wi in terms)


def _sign_changes(lam: Sequence[float], w: Sequence[float]) -> int:
    """Sign changes of ``w`` in the order of the rates, zeros skipped (Descartes' bound on
    the roots of ``w . exp(lam tau)``)."""
    count = 0
    last = 0.0
    for _, v in sorted(zip(lam, w, strict=True)):
        if v != 0:
            if last != 0 and (v > 0) != (last > 0):
                count += 1
            last = v
    return count


def _turning_points(lam: Sequence[float], d1: list[float], u1: float) -> list[float]:
    """``[0, roots of y' (or repeats), u1]``, sorted, from the levels ``h_j`` of ``y'``
    (``d1`` its coefficients): ``y`` is monotone between consecutive points."""
    s = len(lam)
    levels = [d1]
    for j in range(s - 1):
        lj = lam[j]
        levels.append([w * (li - lj) for w, li in zip(levels[-1], lam, strict=True)])
    pts = [0.0, u1]
    for j in range(s - 2, -1, -1):
        h = [_level(lam, levels[j], x) for x in pts]
        new = [0.0]
        for b in range(len(pts) - 1):
            if h[b] * h[b + 1] < 0:
                new.append(
                    root(lam, levels[j], 0.0, levels[j + 1], pts[b], pts[b + 1], h[b], h[b + 1])
                )
            else:
                new.append(pts[b])  # no root in this bracket: repeat its start
        new.append(u1)
        pts = new
    return pts


def _points(lam: Sequence[float], d1: list[float], u1: float) -> list[float]:
    """The segment's ends and the turning points of ``y`` between them (sorted), from the
    derivative's coefficients ``d1``; ``[0, u1]`` when ``y`` is monotone."""
    if not (max(d1) > 0 > min(d1)):
        return [0.0, u1]  # y' of one sign: monotone
    if _sign_changes(lam, d1) > 1:
        return _turning_points(lam, d1, u1)
    h_lo, h_hi = _level(lam, d1, 0.0), _level(lam, d1, u1)
    if not h_lo * h_hi < 0:
        return [0.0, u1]
    d2 = [v * li for v, li in zip(d1, lam, strict=True)]
    return [0.0, root(lam, d1, 0.0, d2, 0.0, u1, h_lo, h_hi), u1]


def _segment(
    lam: Sequence[float],
    a: Sequence[float],
    c: float,
    u1: float,
    at_u1: Sequence[float],
    thresholds: Sequence[float],
) -> tuple[float, float, list[float]]:
    """``(maximum, its first tau, minutes above each threshold)`` of ``c + a . exp(lam
    tau)`` over ``[0, u1]`` (``at_u1``: ``exp(lam u1)``, shared by the segment's outputs)."""
    d1 = [ai * li for ai, li in zip(a, lam, strict=True)]
    pts = _points(lam, d1, u1)
    y = []
    for x in pts:
        v = c
        if x == 0:
            for ai in a:
                v += ai
        elif x == u1:
            for ai, e in zip(a, at_u1, strict=True):
                v += ai * e
        else:
            for ai, li in zip(a, lam, strict=True):
                v += ai * _exp(li * x)
        y.append(v)
    best, where = -math.inf, 0.0
    for v, x in zip(y, pts, strict=True):
        if v > best:
            best, where = v, x
    above = []
    for thr in thresholds:
        total = 0.0
        for b in range(len(pts) - 1):
            ya, yb = y[b], y[b + 1]
            if ya >= thr and yb >= thr and (ya > thr or yb > thr):
                total += pts[b + 1] - pts[b]
            elif (ya - thr) * (yb - thr) < 0:
                x = root(lam, a, c - thr, d1, pts[b], pts[b + 1], ya - thr, yb - thr)
                total += x - pts[b] if ya > thr else pts[b + 1] - x
        above.append(total)
    return best, where, above


def _without_noise(a: list[float]) -> list[float]:
    """``_extrema.drop_rounding_noise`` for one sum's coefficients."""
    cut = NOISE * max(max(a), -min(a))
    return [0.0 if -cut < v < cut else v for v in a]


def one_patient_metrics(
    lam: FloatArray,
    const: FloatArray,
    coef: FloatArray,
    seg_t0: Sequence[float],
    t_end: float,
    thresholds: Sequence[float],
) -> tuple[list[float], list[float], list[list[float]]]:
    """``(cmax (k,), tmax_min (k,), minutes above (k, m))`` over ``[0, t_end]`` of one
    patient's outputs given segment by segment: ``lam`` (s,), ``const`` (g, k) and ``coef``
    (g, k, s) as ``modal_coefficients`` gives them for this patient (rounding noise is
    dropped here), ``seg_t0`` (g,) the segment starts (sorted, the first at 0 min). A
    segment starting exactly at ``t_end`` contributes its first value."""
    lam_l: list[float] = lam.tolist()
    const_l: list[list[float]] = const.tolist()
    coef_l: list[list[list[float]]] = coef.tolist()
    starts = [float(t) for t in seg_t0]
    thr = [float(t) for t in thresholds]
    k_count = len(const_l[0]) if const_l else 0
    cmax = [-math.inf] * k_count
    tmax = [0.0] * k_count
    above = [[0.0] * len(thr) for _ in range(k_count)]
    for g, t0 in enumerate(starts):
        t1 = starts[g + 1] if g + 1 < len(starts) else math.inf
        u1 = min(t1, t_end) - t0
        if u1 < 0:
            break
        at_u1 = [_exp(li * u1) for li in lam_l]
        for k in range(k_count):
            a = _without_noise(coef_l[g][k])
            best, tau, up = _segment(lam_l, a, const_l[g][k], u1, at_u1, thr)
            if best > cmax[k]:
                cmax[k], tmax[k] = best, t0 + tau
            row = above[k]
            for m, v in enumerate(up):
                row[m] += v
    return cmax, tmax, above
