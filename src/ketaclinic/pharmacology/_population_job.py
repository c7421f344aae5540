"""What one population run hands its chunks (``Job``), and how a chunk's patients are drawn
(``draw``), by the caller or ahead of time on a helper (``DrawAhead``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from queue import Empty, SimpleQueue
from threading import Lock
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketaclinic.pharmacology._doses import Dose, Route
from ketaclinic.pharmacology._executor import Pending, Submit
from ketaclinic.pharmacology._models import Covariates, PKModel
from ketaclinic.pharmacology._regimen import inputs_of
from ketaclinic.pharmacology._sampling import sample_patients
from ketaclinic.pharmacology._structure import AbsorptionPath
from ketaclinic.pharmacology._variability import Variability

__all__ = ["OUTPUTS", "DrawAhead", "Drawn", "Job", "draw"]

FloatArray = NDArray[np.float64]
OUTPUTS = (("ketamine", "central"), ("norketamine", "nk_central"), ("effect_site", "effect"))


@dataclass(frozen=True)
class Job:
    """Everything a chunk needs; small and picklable (a cluster ships it to workers)."""

    model: PKModel
    doses: tuple[Dose, ...]  # as given (the result reports these)
    events: tuple[Dose, ...]  # single dose events (the engine works on these)
    routes: tuple[Route, ...]
    seed: int
    population: Mapping[str, Any]
    variability: Variability
    horizon_min: float  # metrics and AUC cover [0, horizon_min], whatever the grid
    thresholds: FloatArray
    band_times: FloatArray  # grid times the bands are reported at, min
    compiled: bool
    effect_site: bool
    band_patients: int
    norketamine: bool = True  # report the metabolite where the model has one

    @property
    def paths(self) -> tuple[AbsorptionPath, ...]:
        return self.model.paths(self.routes)

    def outputs(self) -> list[tuple[int, str]]:
        """``(slot, state)`` of each output reported: ketamine, norketamine, effect site."""
        states = self.model.structure.states(self.paths)
        return [
            (slot, state)
            for slot, (name, state) in enumerate(OUTPUTS)
            if state in states
            and (name != "effect_site" or self.effect_site)
            and (name != "norketamine" or self.norketamine)
        ]

    @property
    def closed_form(self) -> bool:
        """IV doses of a mammillary parent on the compiled path: modes in closed form.

        A metabolite never feeds back into the parent, so without its output the parent's
        compartments are solved alone (the closed form reads only their parameters).
        """
        direct = all(self.model.routes[r].direct for r in self.routes)
        structure = self.model.structure
        parent_only = structure.mammillary or (
            not structure.liver and structure.metabolite is not None and not self.norketamine
        )
        return self.compiled and direct and parent_only


Drawn = tuple[Covariates, dict[str, FloatArray], list[Any]]


def draw(
    job: Job,
    first_block: int,
    blocks: int,
    n_total: int,
    submit: Submit | None,
    scratch: dict[str, FloatArray] | None,
) -> Drawn:
    """A chunk's patients (covariates, parameters) and their dose inputs."""
    model = job.model
    cov, params = sample_patients(
        job.population,
        model,
        job.routes,
        job.variability,
        job.seed,
        first_block,
        blocks,
        n_total,
        submit,
        scratch,
    )
    inputs = inputs_of(model, job.events, job.routes, cov.weight_kg, ethnicity=cov.ethnicity)
    return cov, params, inputs


class DrawAhead:
    """Draws the next chunk's patients on a helper thread while a chunk is solved (executors
    that share memory: NumPy's draws and transforms release the GIL, as do the compiled
    kernels). The numbers are the same, since a chunk's patients depend only on its blocks.
    A chunk drawn ahead does not split its draws again, so a helper never waits for another
    helper's task (one helper thread is enough)."""

    def __init__(self, job: Job, ranges: Sequence[tuple[int, int]], n_total: int) -> None:
        self._job = job
        self._n_total = n_total
        self._after = dict(zip([first for first, _ in ranges], ranges[1:], strict=False))
        self._pending: dict[int, Pending[Drawn]] = {}
        self._lock = Lock()
        self._spare: SimpleQueue[dict[str, FloatArray]] = SimpleQueue()  # draw buffers

    def _draw_ahead(self, first_block: int, blocks: int) -> Drawn:
        try:
            scratch = self._spare.get_nowait()
        except Empty:
            scratch = {}
        try:  # nothing drawn refers to the buffers: the next chunk drawn ahead reuses them
            return draw(self._job, first_block, blocks, self._n_total, None, scratch)
        finally:
            self._spare.put(scratch)

    def take(
        self,
        first_block: int,
        blocks: int,
        submit: Submit | None,
        scratch: dict[str, FloatArray] | None,
    ) -> Drawn:
        """Chunk ``first_block``'s patients (drawn ahead, or now); starts the next chunk's."""
        with self._lock:
            pending = self._pending.pop(first_block, None)
            after = self._after.pop(first_block, None)
            if after is not None and submit is not None:
                self._pending[after[0]] = submit(self._draw_ahead, *after)
        if pending is not None:
            return pending.result()
        return draw(self._job, first_block, blocks, self._n_total, submit, scratch)
