"""Summary metrics of concentration-time curves, vectorised over patients.

Definitions (the same for one patient and for a population):

* ``cmax``/``tmax``: the largest value on the output grid and the first grid time it occurs.
* ``auc``: the exact integral of the continuous solution from the first to the last grid time
  (not a trapezoid), reported in ng*h/mL.
* ``minutes above`` a threshold: time with the concentration strictly above it, with the
  crossing time inside a grid interval found by linear interpolation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MG_PER_L_TO_NG_PER_ML",
    "SpeciesSummary",
    "Summary",
    "grid_maximum",
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
    """Metrics of one concentration curve (ketamine, norketamine or effect site)."""

    cmax_ng_per_ml: float
    tmax_min: float
    auc_ng_h_per_ml: float
    minutes_above_ng_per_ml: Mapping[float, float] = field(default_factory=dict)
    values_at_min: Mapping[float, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cmax_ng_per_ml": self.cmax_ng_per_ml,
            "tmax_min": self.tmax_min,
            "auc_ng_h_per_ml": self.auc_ng_h_per_ml,
            "minutes_above_ng_per_ml": {
                _key(k): v for k, v in self.minutes_above_ng_per_ml.items()
            },
            "ng_per_ml_at_min": {_key(k): v for k, v in self.values_at_min.items()},
        }


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


def summarise(
    times_min: FloatArray,
    conc_ng_per_ml: FloatArray,
    auc_ng_min_per_ml: float,
    thresholds: Sequence[float],
    values_at: Mapping[float, float],
) -> SpeciesSummary:
    """Summary of one patient's curve (1-D arrays)."""
    cmax, tmax = grid_maximum(times_min, conc_ng_per_ml[None, :])
    return SpeciesSummary(
        cmax_ng_per_ml=float(cmax[0]),
        tmax_min=float(tmax[0]),
        auc_ng_h_per_ml=float(auc_ng_min_per_ml) / 60.0,
        minutes_above_ng_per_ml={
            float(t): float(minutes_above(times_min, conc_ng_per_ml[None, :], t)[0])
            for t in thresholds
        },
        values_at_min=dict(values_at),
    )
