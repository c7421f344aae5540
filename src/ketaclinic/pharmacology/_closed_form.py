"""Closed-form modal coefficients of mammillary models for IV regimens (the fast path).

For 1-3 compartment mammillary models with central elimination and an optional effect site,
dosed intravenously, the rate constants are the roots of the characteristic polynomial and
the residues of the central concentration follow in closed form, so no eigen-decomposition
is needed (LAPACK costs about 2 us per patient; this costs a few dozen flops). With
``u_i`` the amount "seen" by mode ``i`` (``du_i/dt = -alpha_i u_i + rate``, a bolus adds to
every ``u_i``), plasma ``C = sum_i A_i u_i`` and effect site ``Ce = sum_i B_i u_i + B_e u_e``
with ``B_i = A_i ke0 / (ke0 - alpha_i)`` and ``B_e = -sum_i B_i`` (decay rate ke0).
Cubic roots by the trigonometric method (all three are real for mammillary models).

The per-patient loop is compiled by Numba (this module is imported only on the compiled
path); the NumPy path reaches the same numbers through the general eigen-decomposition, and
the tests hold the two together.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketaclinic.pharmacology._metrics import MG_PER_L_TO_NG_PER_ML
from ketaclinic.pharmacology._solver import MIN_RELATIVE_GAP
from ketaclinic.pharmacology._vpop_kernel import PATIENTS_PER_TASK

numba: Any
prange: Any
try:
    import numba
    from numba import prange
except ImportError:  # pragma: no cover - Numba is a dependency
    numba = None
    prange = range

__all__ = ["mammillary_coefficients"]

FloatArray = NDArray[np.float64]


def _modes(
    k10: float, k12: float, k21: float, k13: float, k31: float, compartments: int, lam: Any
) -> None:
    """Rates of the disposition modes (negative), fastest first, into ``lam[:compartments]``."""
    if compartments == 3:
        a0 = k10 * k21 * k31
        a1 = k10 * k31 + k21 * k31 + k21 * k13 + k10 * k21 + k31 * k12
        a2 = k10 + k12 + k13 + k21 + k31
        p = a1 - a2 * a2 / 3.0
        q = 2.0 * a2**3 / 27.0 - a1 * a2 / 3.0 + a0
        m = math.sqrt(max(-p / 3.0, 0.0))  # the cube root of sqrt(-p^3 / 27)
        cos_arg = -q / (2.0 * m * m * m) if m > 0.0 else 1.0
        phi = math.acos(min(1.0, max(-1.0, cos_arg))) / 3.0
        # cos(phi +- 2 pi / 3) from cos(phi) and sin(phi): two libm calls instead of four
        c, s = math.cos(phi), math.sin(phi)
        x0 = 2.0 * m * c - a2 / 3.0
        x1 = m * (-c - math.sqrt(3.0) * s) - a2 / 3.0
        x2 = m * (-c + math.sqrt(3.0) * s) - a2 / 3.0
        # roots x are -alpha: sort the alphas descending (fastest first)
        lo, mid, hi = min(x0, x1, x2), 0.0, max(x0, x1, x2)
        mid = x0 + x1 + x2 - lo - hi
        lam[0], lam[1], lam[2] = lo, mid, hi
    elif compartments == 2:
        total = k10 + k12 + k21
        root = math.sqrt(max(total * total - 4.0 * k10 * k21, 0.0))
        lam[0], lam[1] = -(total + root) / 2.0, -(total - root) / 2.0
    else:
        lam[0] = -k10


def _residue(i: int, k21: float, k31: float, compartments: int, lam: Any) -> float:
    """Residue of mode ``i`` of the central amount after a unit bolus (dimensionless)."""
    alpha = -lam[i]
    num = 1.0
    den = 1.0
    if compartments >= 2:
        num *= k21 - alpha
    if compartments == 3:
        num *= k31 - alpha
    for j in range(compartments):
        if j != i:
            den *= -lam[j] - alpha
    return num / den


def _fill(
    cl: Any,
    v1: Any,
    q2: Any,
    v2: Any,
    q3: Any,
    v3: Any,
    ke0: Any,
    compartments: int,
    effect_site: bool,
    bolus: Any,
    rate: Any,
    seg_t0: Any,
    t_last: float,
    lam: Any,
    const: Any,
    coef: Any,
    area: Any,
    good: Any,
) -> None:
    n = bolus.shape[0]
    s_count = lam.shape[1]
    for task in prange((n + PATIENTS_PER_TASK - 1) // PATIENTS_PER_TASK):
        # scratch per task: allocating per patient would serialise the threads on malloc
        w_plasma = np.zeros(s_count)
        w_effect = np.zeros(s_count)
        z = np.zeros(s_count)
        for p in range(task * PATIENTS_PER_TASK, min(n, (task + 1) * PATIENTS_PER_TASK)):
            _patient(
                p,
                cl,
                v1,
                q2,
                v2,
                q3,
                v3,
                ke0,
                compartments,
                effect_site,
                bolus,
                rate,
                seg_t0,
                t_last,
                lam,
                const,
                coef,
                area,
                good,
                w_plasma,
                w_effect,
                z,
            )


def _patient(
    p: int,
    cl: Any,
    v1: Any,
    q2: Any,
    v2: Any,
    q3: Any,
    v3: Any,
    ke0: Any,
    compartments: int,
    effect_site: bool,
    bolus: Any,
    rate: Any,
    seg_t0: Any,
    t_last: float,
    lam: Any,
    const: Any,
    coef: Any,
    area: Any,
    good: Any,
    w_plasma: Any,
    w_effect: Any,
    z: Any,
) -> None:
    """One patient's modes, coefficients and AUC (see ``mammillary_coefficients``)."""
    g_count = bolus.shape[1]
    k_count = coef.shape[2]
    s_count = lam.shape[1]
    k10 = cl[p] / v1[p]
    k12 = q2[p] / v1[p] if compartments >= 2 else 0.0
    k21 = q2[p] / v2[p] if compartments >= 2 else 0.0
    k13 = q3[p] / v1[p] if compartments == 3 else 0.0
    k31 = q3[p] / v3[p] if compartments == 3 else 0.0
    row = lam[p]
    _modes(k10, k12, k21, k13, k31, compartments, row)
    if effect_site:
        row[compartments] = -ke0[p]
    # a near-degenerate pair makes the modal sums cancel: that patient takes the expm path
    scale = 0.0
    for i in range(s_count):
        scale = max(scale, abs(row[i]))
    ok = scale > 0.0
    for i in range(s_count):
        ok = ok and row[i] < 0.0
        for j in range(i + 1, s_count):
            ok = ok and abs(row[i] - row[j]) > MIN_RELATIVE_GAP * scale
    good[p] = ok
    if not ok:
        return
    # output weights per mode, ng/mL per mg: plasma, then (optionally) the effect site
    w_plasma[:] = 0.0
    w_effect[:] = 0.0
    for i in range(compartments):
        w_plasma[i] = _residue(i, k21, k31, compartments, row) / v1[p] * MG_PER_L_TO_NG_PER_ML
    if effect_site:
        total = 0.0
        for i in range(compartments):
            w_effect[i] = w_plasma[i] * ke0[p] / (ke0[p] + row[i])
            total += w_effect[i]
        w_effect[compartments] = -total
    z[:] = 0.0
    for g in range(g_count):
        t0 = seg_t0[g]
        t1 = seg_t0[g + 1] if g + 1 < g_count else math.inf
        u1 = min(t1, t_last) - t0
        for k in range(k_count):
            const[p, g, k] = 0.0
        for i in range(s_count):
            z[i] += bolus[p, g]
            zss = rate[p, g] / -row[i]
            c = z[i] - zss
            # integral of exp(lam tau) over [0, u1], exact near lam u1 = 0 (expm1)
            x = row[i] * u1
            # exp(x) - 1: expm1 where it matters (small |x|), the cheaper exp elsewhere
            decay = (math.exp(x) - 1.0 if x < -0.5 else math.expm1(x)) if u1 > 0.0 else 0.0
            integral = decay / row[i]
            for k in range(k_count):
                w = w_plasma[i] if k == 0 else w_effect[i]
                const[p, g, k] += w * zss
                coef[p, g, k, i] = w * c
                if u1 > 0.0:
                    area[p, k] += w * (zss * u1 + c * integral)
            if t1 <= t_last:  # the amount at the next breakpoint: exp = expm1 + 1
                z[i] = zss + c * (decay + 1.0)
            elif t1 < math.inf:
                z[i] = zss + c * math.exp(row[i] * (t1 - t0))


if numba is not None:  # helpers are inlined into the compiled loop
    _modes = numba.njit(inline="always", cache=True)(_modes)
    _residue = numba.njit(inline="always", cache=True)(_residue)
    _patient = numba.njit(inline="always", cache=True)(_patient)

_COMPILED: Callable[..., None] | None = None


def mammillary_coefficients(
    params: dict[str, FloatArray],
    effect_site: bool,
    bolus_mg: FloatArray,
    rate_mg_per_min: FloatArray,
    seg_t0: FloatArray,
    t_last: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
    """``(lam, const, coef, area, good)`` of every patient for IV inputs into the central
    compartment: ``bolus_mg``/``rate_mg_per_min`` are (n, segments) at the segment starts
    ``seg_t0``. Output k = 0 is plasma, k = 1 the effect site (with ``effect_site``), in
    ng/mL; ``area`` is each output's exact AUC to ``t_last`` (ng*min/mL); patients with a
    near-degenerate pair of rates are not ``good`` (their rows are left unset)."""
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = numba.njit(parallel=True, cache=True)(_fill)
    n, g_count = bolus_mg.shape
    compartments = 3 if "V3" in params else 2 if "V2" in params else 1
    s_count = compartments + (1 if effect_site else 0)
    k_count = 2 if effect_site else 1
    zero = np.zeros(n)
    lam = np.empty((n, s_count))
    const = np.empty((n, g_count, k_count))
    coef = np.empty((n, g_count, k_count, s_count))
    area = np.zeros((n, k_count))
    good = np.empty(n, dtype=np.bool_)
    _COMPILED(
        params["CL"],
        params["V1"],
        params.get("Q2", zero),
        params.get("V2", zero),
        params.get("Q3", zero),
        params.get("V3", zero),
        params["ke0"] if effect_site else zero,
        compartments,
        effect_site,
        np.ascontiguousarray(bolus_mg),
        np.ascontiguousarray(rate_mg_per_min),
        np.ascontiguousarray(seg_t0, dtype=np.float64),
        float(t_last),
        lam,
        const,
        coef,
        area,
        good,
    )
    return lam, const, coef, area, good
