"""Closed-form modes of mammillary models for IV regimens (the fast population path).

For 1-3 compartment mammillary models with central elimination and an optional effect site,
dosed intravenously, the rate constants are the roots of the characteristic polynomial and
the residues of the central concentration follow in closed form, so no eigen-decomposition
is needed (LAPACK costs about 2 us per patient; this costs a few dozen flops). With
``u_i`` the amount "seen" by mode ``i`` (``du_i/dt = -alpha_i u_i + rate``, a bolus adds to
every ``u_i``), plasma ``C = sum_i A_i u_i`` and effect site ``Ce = sum_i B_i u_i + B_e u_e``
with ``B_i = A_i ke0 / (ke0 - alpha_i)`` and ``B_e = -sum_i B_i`` (decay rate ke0).
Cubic roots by the trigonometric method (all three are real for mammillary models).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["mammillary_modes"]

FloatArray = NDArray[np.float64]


def mammillary_modes(
    params: dict[str, FloatArray], effect_site: bool
) -> tuple[FloatArray, FloatArray]:
    """``(lam, weights)``: rates (n, s) as negative numbers and output weights (n, k, s) in
    1/L for plasma (k = 0) and, with ``effect_site``, the effect site (k = 1)."""
    v1 = params["V1"]
    k10 = params["CL"] / v1
    if "V3" in params:
        k12, k21 = params["Q2"] / v1, params["Q2"] / params["V2"]
        k13, k31 = params["Q3"] / v1, params["Q3"] / params["V3"]
        a0 = k10 * k21 * k31
        a1 = k10 * k31 + k21 * k31 + k21 * k13 + k10 * k21 + k31 * k12
        a2 = k10 + k12 + k13 + k21 + k31
        p = a1 - a2 * a2 / 3.0
        q = 2.0 * a2**3 / 27.0 - a1 * a2 / 3.0 + a0
        r1 = np.sqrt(-(p**3) / 27.0)
        phi = np.arccos(np.clip(-q / 2.0 / r1, -1.0, 1.0)) / 3.0
        r2 = 2.0 * np.cbrt(r1)
        alpha = np.stack(
            [
                -(np.cos(phi) * r2 - a2 / 3.0),
                -(np.cos(phi + 2.0 * np.pi / 3.0) * r2 - a2 / 3.0),
                -(np.cos(phi + 4.0 * np.pi / 3.0) * r2 - a2 / 3.0),
            ],
            axis=1,
        )
        alpha = np.sort(alpha, axis=1)[:, ::-1]
        l1, l2, l3 = alpha[:, 0], alpha[:, 1], alpha[:, 2]
        res = np.stack(
            [
                (k21 - l1) * (k31 - l1) / ((l2 - l1) * (l3 - l1)),
                (k21 - l2) * (k31 - l2) / ((l1 - l2) * (l3 - l2)),
                (k21 - l3) * (k31 - l3) / ((l1 - l3) * (l2 - l3)),
            ],
            axis=1,
        )
    elif "V2" in params:
        k12, k21 = params["Q2"] / v1, params["Q2"] / params["V2"]
        total = k10 + k12 + k21
        root = np.sqrt(total * total - 4.0 * k10 * k21)
        l1, l2 = (total + root) / 2.0, (total - root) / 2.0
        alpha = np.stack([l1, l2], axis=1)
        res = np.stack([(k21 - l1) / (l2 - l1), (k21 - l2) / (l1 - l2)], axis=1)
    else:
        alpha = k10[:, None]
        res = np.ones_like(alpha)
    a = res / v1[:, None]
    if not effect_site:
        return np.ascontiguousarray(-alpha), a[:, None, :]
    ke0 = params["ke0"][:, None]
    b = a * ke0 / (ke0 - alpha)
    lam = np.concatenate([-alpha, -ke0], axis=1)
    plasma = np.concatenate([a, np.zeros_like(ke0)], axis=1)
    effect = np.concatenate([b, -b.sum(axis=1, keepdims=True)], axis=1)
    return np.ascontiguousarray(lam), np.stack([plasma, effect], axis=1)
