"""Linear compartment systems, vectorised over patients.

A system is ``dx/dt = A x + u(t)`` with ``x`` the amounts (mg) in each state, ``A`` of shape
``(patients, states, states)`` in 1/min and ``u`` piecewise constant (mg/min). The effect-site
state is the one exception: it holds a concentration (mg/L), as is usual for a "virtual"
effect compartment of negligible volume.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ketaclinic.pharmacology._structure import AbsorptionPath, Structure

__all__ = ["NORKETAMINE_PER_KETAMINE_MG", "LinearSystem", "Params", "build_system"]

FloatArray = NDArray[np.float64]
Params = dict[str, FloatArray]

# Molar masses: ketamine C13H16ClNO 237.73 g/mol, norketamine C12H14ClNO 223.70 g/mol
# (PubChem CID 3821 and 4277). Metabolite formation converts parent mg to metabolite mg.
NORKETAMINE_PER_KETAMINE_MG = 223.70 / 237.73


@dataclass(frozen=True, eq=False)  # holds arrays: == would be ambiguous
class LinearSystem:
    """State names, the system matrix and the volumes of the states we report.

    ``loss_per_min[:, i]`` is the rate constant with which amount leaves the body from state
    ``i`` (mass-balance checks integrate it exactly). Metabolite formation is not a loss: it
    moves parent mg into metabolite mg (times ``NORKETAMINE_PER_KETAMINE_MG``).
    """

    states: tuple[str, ...]
    a_per_min: FloatArray
    volume_l: Mapping[str, FloatArray]
    loss_per_min: FloatArray = field(repr=False)

    @property
    def n_patients(self) -> int:
        return int(self.a_per_min.shape[0])

    def index(self, state: str) -> int:
        return self.states.index(state)

    def has(self, state: str) -> bool:
        return state in self.states

    def concentration_row(self, state: str) -> FloatArray:
        """Row vectors (patients, states) that turn amounts into mg/L of ``state``."""
        rows = np.zeros((self.n_patients, len(self.states)))
        i = self.index(state)
        if state == "effect":
            rows[:, i] = 1.0
        else:
            rows[:, i] = 1.0 / self.volume_l[state]
        return rows


class _Builder:
    def __init__(self, n: int) -> None:
        self.n = n
        self.states: list[str] = []
        self.entries: list[tuple[str, str, FloatArray]] = []  # (src, dst, k*factor)
        self.departures: list[tuple[str, FloatArray]] = []  # (src, k): k*x leaves src
        self.losses: list[tuple[str, FloatArray]] = []  # (src, k): k*x leaves the body
        self.volumes: dict[str, FloatArray] = {}

    def state(self, name: str, volume_l: FloatArray | None = None) -> None:
        self.states.append(name)
        if volume_l is not None:
            self.volumes[name] = volume_l

    def flow(self, src: str, dst: str | None, k: FloatArray, factor: float = 1.0) -> None:
        """Amount leaves ``src`` at ``k*x``; ``factor*k*x`` arrives in ``dst`` (None: body)."""
        self.departures.append((src, k))
        if dst is None:
            self.losses.append((src, k))
        else:
            self.entries.append((src, dst, k * factor))

    def build(self, effect_ke0: FloatArray | None) -> LinearSystem:
        if effect_ke0 is not None:
            self.states.append("effect")
        s = len(self.states)
        a = np.zeros((self.n, s, s))
        loss = np.zeros((self.n, s))
        idx = {name: i for i, name in enumerate(self.states)}
        for src, k in self.departures:
            a[:, idx[src], idx[src]] -= k
        for src, dst, k in self.entries:
            a[:, idx[dst], idx[src]] += k
        for src, k in self.losses:
            loss[:, idx[src]] += k
        if effect_ke0 is not None:
            e, c = int(idx["effect"]), int(idx["central"])
            a[:, e, c] += effect_ke0 / self.volumes["central"]
            a[:, e, e] -= effect_ke0
        return LinearSystem(tuple(self.states), a, dict(self.volumes), loss)


def build_system(
    structure: Structure,
    params: Mapping[str, FloatArray],
    paths: Sequence[AbsorptionPath] = (),
) -> LinearSystem:
    """Assemble the system of ``structure`` with depots for ``paths``.

    ``params`` holds one array per parameter, named as the structure and paths declare them:
    parent ``CL, V1`` and ``Q2, V2``, ``Q3, V3`` (L/min, L); effect site ``ke0`` (1/min);
    metabolite ``FM`` (fraction of parent clearance that forms it), ``CL_M, V1_M`` and
    ``Q2_M, V2_M``; hepatic first-pass compartment (Perez-Ruixo 2021) ``QH, VH, KEL_H,
    KMET_H``; each path's ``ka_<path>`` and ``F_<path>``. A path's first-pass metabolite
    fraction and whether it drains into the liver are read from the path itself.
    """
    any_param = next(iter(params.values()))
    n = int(np.shape(any_param)[0])
    b = _Builder(n)
    metabolite = structure.metabolite
    has_metabolite = metabolite is not None
    mw = NORKETAMINE_PER_KETAMINE_MG
    peripherals = [str(p) for p in range(2, 2 + structure.peripherals)]

    b.state("central", params["V1"])
    for p in peripherals:
        b.state(f"periph{p}", params[f"V{p}"])
    if structure.liver:
        b.state("liver", params["VH"])
    if metabolite is not None:
        b.state("nk_central", params["V1_M"])
        if metabolite.peripherals:
            b.state("nk_periph2", params["V2_M"])
    for path in paths:
        b.state(path.depot)

    v1 = params["V1"]
    fm = params["FM"] if has_metabolite else np.zeros(n)
    cl = params["CL"]
    if np.any(cl > 0):
        b.flow("central", "nk_central" if has_metabolite else None, cl * fm / v1, mw)
        b.flow("central", None, cl * (1 - fm) / v1)
    for p in peripherals:
        q = params[f"Q{p}"]
        b.flow("central", f"periph{p}", q / v1)
        b.flow(f"periph{p}", "central", q / params[f"V{p}"])
    if structure.liver:
        qh, vh = params["QH"], params["VH"]
        b.flow("central", "liver", qh / v1)
        b.flow("liver", "central", qh / vh)
        b.flow("liver", None, params["KEL_H"])
        b.flow("liver", "nk_central" if has_metabolite else None, params["KMET_H"], mw)
    if metabolite is not None:
        v1m = params["V1_M"]
        b.flow("nk_central", None, params["CL_M"] / v1m)
        if metabolite.peripherals:
            qm = params["Q2_M"]
            b.flow("nk_central", "nk_periph2", qm / v1m)
            b.flow("nk_periph2", "nk_central", qm / params["V2_M"])
    for path in paths:
        ka, f = params[path.ka_name], params[path.f_name]
        target = "liver" if structure.liver and path.into_liver else "central"
        b.flow(path.depot, target, ka * f)
        fm_path = path.first_pass_metabolite_fraction
        if fm_path is not None and has_metabolite:
            b.flow(path.depot, "nk_central", ka * (1 - f) * fm_path, mw)
            b.flow(path.depot, None, ka * (1 - f) * (1 - fm_path))
        else:
            b.flow(path.depot, None, ka * (1 - f))
    return b.build(params["ke0"] if structure.effect_site else None)
