"""The per-patient result arrays of a virtual population, or of one chunk of it (views)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

__all__ = ["Chunk"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Chunk:
    """Per-patient results of patients ``start...``: for a whole population, or views into it
    (local chunks write in place: no concatenation of a million patients at the end)."""

    start: int
    cmax: FloatArray  # (n, 3) ng/mL: ketamine, norketamine, effect site (NaN where absent)
    tmax: FloatArray  # (n, 3) min: first time of cmax (exact, not a grid time)
    auc: FloatArray  # (n, 3) ng*min/mL
    above: FloatArray  # (n, 3, m) min
    bands: FloatArray  # (b, patients with bands) ng/mL: a row per band time
    expm: NDArray[np.bool_]  # (n,) solved by matrix exponentials (ill-conditioned basis)
    weight_kg: FloatArray
    age_years: FloatArray
    female: NDArray[np.bool_]
    height_cm: FloatArray
    child_pugh: NDArray[np.str_]

    @classmethod
    def empty(cls, start: int, n: int, m_count: int, keep: int, b_count: int) -> Chunk:
        return cls(
            start,
            np.full((n, 3), np.nan),
            np.full((n, 3), np.nan),
            np.full((n, 3), np.nan),
            np.full((n, 3, m_count), np.nan),
            np.empty((b_count, keep)),
            np.zeros(n, dtype=np.bool_),
            np.empty(n),
            np.empty(n),
            np.empty(n, dtype=np.bool_),
            np.empty(n),
            np.empty(n, dtype="<U4"),
        )

    @property
    def size(self) -> int:
        return int(self.cmax.shape[0])

    def part(self, start: int, stop: int) -> Chunk:
        """Views of patients ``[start, stop)`` (``self`` starts at patient 0)."""
        keep = self.bands.shape[1]
        views = {
            f.name: getattr(self, f.name)[:, min(start, keep) : min(stop, keep)]
            if f.name == "bands"
            else getattr(self, f.name)[start:stop]
            for f in fields(self)
            if f.name != "start"
        }
        return Chunk(start=start, **views)

    def fill(self, chunk: Chunk) -> None:
        """Copy a chunk computed elsewhere (a cluster's worker) into its place."""
        target = self.part(chunk.start, chunk.start + chunk.size)
        for f in fields(self):
            if f.name != "start":
                getattr(target, f.name)[...] = getattr(chunk, f.name)
