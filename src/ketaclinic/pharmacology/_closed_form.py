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
path; ``warm_up()`` compiles or loads it ahead of the first request); the NumPy path reaches
the same numbers through the general eigen-decomposition, and the tests hold the two
together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numba
import numpy as np
from numba import prange
from numpy.typing import NDArray

from ketaclinic.pharmacology._grid_compiled import PATIENTS_PER_TASK
from ketaclinic.pharmacology._metrics import MG_PER_L_TO_NG_PER_ML
from ketaclinic.pharmacology._sampling import scratch_buffer
from ketaclinic.pharmacology._solver import MIN_RELATIVE_GAP

__all__ = ["Disposition", "IvInputs", "ModalCoefficients", "mammillary_coefficients", "warm_up"]

FloatArray = NDArray[np.float64]
_jit = numba.njit(inline="always", cache=True)  # helpers, inlined into the compiled loop


class Disposition(NamedTuple):
    """Parameters of every patient (n,): L/min, L and 1/min (zeros where a model has none)."""

    cl: FloatArray
    v1: FloatArray
    q2: FloatArray
    v2: FloatArray
    q3: FloatArray
    v3: FloatArray
    ke0: FloatArray


class IvInputs(NamedTuple):
    """IV inputs into the central compartment at the segment starts ``t0`` (min)."""

    bolus_mg: FloatArray  # (n, g)
    rate_mg_per_min: FloatArray  # (n, g)
    t0: FloatArray  # (g,)
    t_last: float  # the AUC runs to here


class ModalCoefficients(NamedTuple):
    """What the kernel writes: modes, coefficients, exact AUC and which patients it serves."""

    lam: FloatArray  # (n, s)
    const: FloatArray  # (n, g, k)
    coef: FloatArray  # (n, g, k, s)
    area: FloatArray  # (n, k) ng*min/mL
    good: NDArray[np.bool_]  # (n,)


@_jit
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


@_jit
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


def _fill(disp: Any, doses: Any, compartments: int, effect_site: bool, out: Any) -> None:
    # Inside the parallel loop every array that is written is a plain local name (outputs
    # unpacked here, scratch allocated in the loop): Numba (0.68) was seen to drop writes
    # made through a tuple's arrays in code inlined into a parallel loop. Inputs stay tuples.
    lam, const, coef, area, good = out
    n = doses.bolus_mg.shape[0]
    s_count = lam.shape[1]
    for task in prange((n + PATIENTS_PER_TASK - 1) // PATIENTS_PER_TASK):
        # scratch per task: allocating per patient would serialise the threads on malloc
        w_plasma = np.zeros(s_count)  # output weight of each mode, ng/mL per mg
        w_effect = np.zeros(s_count)
        z = np.zeros(s_count)  # amount seen by each mode, mg
        for p in range(task * PATIENTS_PER_TASK, min(n, (task + 1) * PATIENTS_PER_TASK)):
            row = lam[p]
            ok = _modes_and_weights(p, disp, compartments, effect_site, row, w_plasma, w_effect)
            good[p] = ok
            if ok:
                _segments(p, doses, row, w_plasma, w_effect, z, const, coef, area)


@_jit
def _modes_and_weights(
    p: int,
    disp: Any,
    compartments: int,
    effect_site: bool,
    row: Any,
    w_plasma: Any,
    w_effect: Any,
) -> bool:
    """Patient ``p``'s modes into ``row`` and the output weight of each mode (ng/mL per mg):
    false when a near-degenerate pair makes the modal sums cancel (the expm path's patient)."""
    s_count = row.shape[0]
    v1 = disp.v1[p]
    k10 = disp.cl[p] / v1
    k12 = disp.q2[p] / v1 if compartments >= 2 else 0.0
    k21 = disp.q2[p] / disp.v2[p] if compartments >= 2 else 0.0
    k13 = disp.q3[p] / v1 if compartments == 3 else 0.0
    k31 = disp.q3[p] / disp.v3[p] if compartments == 3 else 0.0
    _modes(k10, k12, k21, k13, k31, compartments, row)
    ke0 = disp.ke0[p]
    if effect_site:
        row[compartments] = -ke0
    scale = 0.0
    for i in range(s_count):
        scale = max(scale, abs(row[i]))
    ok = scale > 0.0
    for i in range(s_count):
        ok = ok and row[i] < 0.0
        for j in range(i + 1, s_count):
            ok = ok and abs(row[i] - row[j]) > MIN_RELATIVE_GAP * scale
    if not ok:
        return False
    w_plasma[:] = 0.0
    w_effect[:] = 0.0
    for i in range(compartments):
        w_plasma[i] = _residue(i, k21, k31, compartments, row) / v1 * MG_PER_L_TO_NG_PER_ML
    if effect_site:
        total = 0.0
        for i in range(compartments):
            w_effect[i] = w_plasma[i] * ke0 / (ke0 + row[i])
            total += w_effect[i]
        w_effect[compartments] = -total
    return True


@_jit
def _segments(
    p: int,
    doses: Any,
    row: Any,
    w_plasma: Any,
    w_effect: Any,
    z: Any,
    const: Any,
    coef: Any,
    area: Any,
) -> None:
    """Patient ``p``'s constants, coefficients and AUC, segment by segment."""
    bolus, rate, seg_t0, t_last = doses.bolus_mg, doses.rate_mg_per_min, doses.t0, doses.t_last
    g_count = bolus.shape[1]
    k_count = coef.shape[2]
    z[:] = 0.0
    for g in range(g_count):
        t0 = seg_t0[g]
        t1 = seg_t0[g + 1] if g + 1 < g_count else math.inf
        u1 = min(t1, t_last) - t0
        for k in range(k_count):
            const[p, g, k] = 0.0
        for i in range(row.shape[0]):
            z[i] += bolus[p, g]
            zss = rate[p, g] / -row[i]
            c = z[i] - zss
            # integral of exp(lam tau) over [0, u1], exact near lam u1 = 0 (expm1)
            x = row[i] * u1
            # exp(x) - 1: expm1 where it matters (small |x|), the cheaper exp elsewhere, and
            # -1 without libm where exp underflows to 0 (the fastest mode over a day: an
            # underflowing libm exp took 13.8 ns here, an ordinary one 5.2 ns)
            if u1 <= 0.0:
                decay = 0.0
            elif x < -746.0:
                decay = -1.0
            else:
                decay = math.exp(x) - 1.0 if x < -0.5 else math.expm1(x)
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


_KERNEL = numba.njit(parallel=True, cache=True, nogil=True)(_fill)


def mammillary_coefficients(
    params: Mapping[str, FloatArray],
    compartments: int,
    effect_site: bool,
    doses: IvInputs,
    scratch: dict[str, FloatArray] | None = None,
) -> ModalCoefficients:
    """Modes, coefficients and AUC of every patient of a mammillary model with
    ``compartments`` (1-3) for IV inputs into the central compartment.

    Output k = 0 is plasma, k = 1 the effect site (with ``effect_site``), in ng/mL; ``area``
    is each output's exact AUC to ``doses.t_last`` (ng*min/mL); patients with a
    near-degenerate pair of rates are not ``good`` (their rows are left unset). With
    ``scratch`` (``_sampling.scratch_buffer``) the outputs are views of buffers kept there
    for the next call: valid until then.
    """
    n, g_count = doses.bolus_mg.shape
    s_count = compartments + (1 if effect_site else 0)
    k_count = 2 if effect_site else 1
    zero = np.zeros(n)

    def param(name: str, used: bool = True) -> FloatArray:
        return np.ascontiguousarray(params[name]) if used and name in params else zero

    disp = Disposition(
        param("CL"),
        param("V1"),
        param("Q2"),
        param("V2"),
        param("Q3"),
        param("V3"),
        param("ke0", effect_site),
    )
    area = scratch_buffer(scratch, "modal_area", (n, k_count))
    area[...] = 0.0
    out = ModalCoefficients(
        scratch_buffer(scratch, "modal_lam", (n, s_count)),
        scratch_buffer(scratch, "modal_const", (n, g_count, k_count)),
        scratch_buffer(scratch, "modal_coef", (n, g_count, k_count, s_count)),
        area,
        np.empty(n, dtype=np.bool_),
    )
    inputs = IvInputs(
        np.ascontiguousarray(doses.bolus_mg),
        np.ascontiguousarray(doses.rate_mg_per_min),
        np.ascontiguousarray(doses.t0, dtype=np.float64),
        float(doses.t_last),
    )
    _KERNEL(disp, inputs, compartments, effect_site, out)
    return out


def warm_up() -> None:
    """Compile (or load from the cache) the kernel with and without an effect site."""
    params = {name: np.ones(1) for name in ("CL", "V1", "Q2", "V2", "ke0")}
    params["Q2"] = np.full(1, 2.0)
    doses = IvInputs(np.ones((1, 1)), np.zeros((1, 1)), np.zeros(1), 10.0)
    for effect_site in (False, True):
        mammillary_coefficients(params, 2, effect_site, doses)
