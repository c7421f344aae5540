"""The exact fallback for ill-conditioned eigenbases: matrix exponentials, one patient.

When two rate constants (nearly) coincide the modal sums of ``_solver`` cancel; stepping the
augmented system ``[x, integral of rows @ x, 1]`` with ``scipy.linalg.expm`` between input
changes and output times is exact to rounding, only slower. SciPy is imported here, on
first use: the single-patient path never pays for it otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["solve_expm"]

FloatArray = NDArray[np.float64]


def solve_expm(
    a_per_min: FloatArray,
    segments: Sequence[tuple[float, FloatArray, FloatArray]],
    times: FloatArray,
    rows: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """``(values (k, T), integral (k,))`` of one patient's outputs ``rows @ x`` (rows (k, s))
    on ``times``, stepping with exact matrix exponentials of the augmented system.

    ``segments`` are the patient's input segments (``input_segments`` for one patient): the
    bolus (1, s) at each breakpoint and the rate (1, s) after it. The augmented state
    ``[x, integral of rows @ x, 1]`` carries the output integral along.
    """
    from scipy.linalg import expm

    a = a_per_min
    s = a.shape[0]
    k = rows.shape[0]
    values = np.empty((k, times.size))
    t_first, t_last = float(times[0]), float(times[-1])
    cache: dict[tuple[float, bytes], FloatArray] = {}

    def step(rate: FloatArray, dt: float) -> FloatArray:
        key = (round(dt, 12), rate.tobytes())
        if key not in cache:
            m = np.zeros((s + k + 1, s + k + 1))
            m[:s, :s] = a
            m[:s, -1] = rate
            m[s : s + k, :s] = rows
            cache[key] = expm(m * dt)
        return cache[key]

    x = np.zeros(s + k + 1)
    x[-1] = 1.0
    t = 0.0
    ti = 0
    for j, (t0, bolus, rate) in enumerate(segments):
        t1 = segments[j + 1][0] if j + 1 < len(segments) else np.inf
        x[:s] += bolus[0]
        r = rate[0]
        stops = [float(v) for v in times[(times >= t0) & (times < t1)]]
        if np.isfinite(t1) and t1 <= t_last:
            stops.append(t1)
        for stop in stops:
            if t < t_first <= stop:
                x = step(r, t_first - t) @ x
                x[s : s + k] = 0.0  # integrate from the first grid time
                t = t_first
            if stop > t:
                x = step(r, stop - t) @ x
                t = stop
            if ti < times.size and times[ti] == stop and stop < t1:
                while ti < times.size and times[ti] == stop:
                    values[:, ti] = rows @ x[:s]
                    ti += 1
    return values, x[s : s + k].copy()
