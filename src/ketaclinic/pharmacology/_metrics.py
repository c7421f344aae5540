"""Summary metrics of concentration-time curves, vectorised over patients.

Definitions (the same for one patient and for a population), over the simulated window
``[0, horizon]``, whatever output grid is asked for:

* ``cmax``/``tmax``: the largest value of the exact solution and the first time it occurs
  (from the dose boundaries and the turning points inside each segment: ``_extrema``).
* ``auc``: the exact integral of the solution over the window (not a trapezoid), reported in
  ng*h/mL with its interval (``auc_interval_h``).
* ``minutes above`` a threshold: time with the concentration strictly above it, from the
  exact crossing times.

:func:`grid_maximum` and :func:`minutes_above` take the same metrics from sampled values (a
grid's maximum and linear interpolation between its points): for curves known only on a grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MG_PER_L_TO_NG_PER_ML",
    "SpeciesSummary",
    "Summary",
    "grid_maximum",
    "interval_label",
    "minutes_above",
]

FloatArray = NDArray[np.float64]
MG_PER_L_TO_NG_PER_ML = 1000.0


def grid_maximum(times_min: FloatArray, conc: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(cmax, tmax_min)`` for ``conc`` of shape (n, T) on ``times_min`` (T,)."""
    i = np.argmax(conc, axis=-1)
    cmax = np.take_along_axis(conc, i[..., None], axis=-1)[..., 0]
    return cmax, times_min[i]


def minutes_above(times_min: FloatArray, conc: FloatArray, threshold: float) -> FloatArray:
    """Minutes with ``conc`` (n, T) strictly above ``threshold`` (linear interpolation)."""
    if conc.shape[-1] < 2:
        return np.zeros(conc.shape[:-1])
    y0, y1 = conc[..., :-1], conc[..., 1:]
    hi, lo = np.maximum(y0, y1), np.minimum(y0, y1)
    span = hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(span > 0, np.clip((hi - threshold) / span, 0.0, 1.0), hi > threshold)
    return np.asarray(np.sum(frac * np.diff(times_min), axis=-1), dtype=float)


def _key(threshold: float) -> str:
    return f"{threshold:g}"


@dataclass(frozen=True)
class SpeciesSummary:
    """Metrics of one concentration curve (ketamine, norketamine or effect site) over the
    window ``auc_interval_min``; ``cmax_at_iv_bolus``: the maximum is the value the instant
    after an IV bolus (instantaneous mixing in the central volume, which no sample shows)."""

    cmax_ng_per_ml: float
    tmax_min: float
    auc_ng_h_per_ml: float
    minutes_above_ng_per_ml: Mapping[float, float] = field(default_factory=dict)
    values_at_min: Mapping[float, float] = field(default_factory=dict)
    auc_interval_min: tuple[float, float] = (0.0, 0.0)
    cmax_at_iv_bolus: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "cmax_ng_per_ml": self.cmax_ng_per_ml,
            "tmax_min": self.tmax_min,
            "cmax_at_iv_bolus": self.cmax_at_iv_bolus,
            "auc_ng_h_per_ml": self.auc_ng_h_per_ml,
            "auc_interval_h": [t / 60.0 for t in self.auc_interval_min],
            "minutes_above_ng_per_ml": {
                _key(k): v for k, v in self.minutes_above_ng_per_ml.items()
            },
            "ng_per_ml_at_min": {_key(k): v for k, v in self.values_at_min.items()},
        }


def interval_label(interval_min: tuple[float, float]) -> str:
    """``"0-24 h"``: the AUC interval as the tables show it."""
    return f"{interval_min[0] / 60.0:g}-{interval_min[1] / 60.0:.4g} h"


@dataclass(frozen=True)
class Summary:
    """Plasma ketamine metrics, plus norketamine and effect site where modelled."""

    ketamine: SpeciesSummary
    norketamine: SpeciesSummary | None = None
    effect_site: SpeciesSummary | None = None

    def to_dict(self) -> dict[str, Any]:
        out = self.ketamine.to_dict()
        out["norketamine"] = self.norketamine.to_dict() if self.norketamine else None
        out["effect_site"] = self.effect_site.to_dict() if self.effect_site else None
        return out
