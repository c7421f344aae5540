"""Linear compartment systems, vectorised over patients.

A system is ``dx/dt = A x + u(t)`` with ``x`` the amounts (mg) in each state, ``A`` of shape
``(patients, states, states)`` in 1/min and ``u`` piecewise constant (mg/min). The effect-site
state is the one exception: it holds a concentration (mg/L), as is usual for a "virtual"
effect compartment of negligible volume.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["NORKETAMINE_PER_KETAMINE_MG", "LinearSystem", "Params", "build_system"]

FloatArray = NDArray[np.float64]
Params = dict[str, FloatArray]

# Molar masses: ketamine C13H16ClNO 237.73 g/mol, norketamine C12H14ClNO 223.70 g/mol
# (PubChem CID 3821 and 4277). Metabolite formation converts parent mg to metabolite mg.
NORKETAMINE_PER_KETAMINE_MG = 223.70 / 237.73


@dataclass(frozen=True)
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


def build_system(params: Mapping[str, FloatArray], depots: Mapping[str, str]) -> LinearSystem:
    """Assemble the system for parameter arrays named as pharmacometricians name them.

    Parent: ``CL, V1`` and optionally ``Q2, V2``, ``Q3, V3`` (L/min, L). Effect site: ``ke0``
    (1/min). Metabolite (norketamine): ``FM`` (fraction of parent clearance that forms it),
    ``CL_M, V1_M`` and optionally ``Q2_M, V2_M``. Hepatic first-pass compartment
    (Perez-Ruixo 2021): ``QH, VH, KEL_H, KMET_H``. ``depots`` maps a depot state name to the
    route suffix of its parameters ``ka_<route>``, ``F_<route>``, optional ``FM_<route>``
    (fraction of the dose turned into metabolite before reaching the blood) and optional
    ``TO_<route>`` = 1 when the depot drains into the liver compartment.
    """
    any_param = next(iter(params.values()))
    n = int(np.shape(any_param)[0])
    b = _Builder(n)
    has_metabolite = "V1_M" in params
    mw = NORKETAMINE_PER_KETAMINE_MG

    b.state("central", params["V1"])
    for p in ("2", "3"):
        if f"V{p}" in params:
            b.state(f"periph{p}", params[f"V{p}"])
    has_liver = "VH" in params
    if has_liver:
        b.state("liver", params["VH"])
    if has_metabolite:
        b.state("nk_central", params["V1_M"])
        if "V2_M" in params:
            b.state("nk_periph2", params["V2_M"])
    for depot in depots:
        b.state(depot)

    v1 = params["V1"]
    fm = params.get("FM", np.zeros(n)) if has_metabolite else np.zeros(n)
    cl = params["CL"]
    if np.any(cl > 0):
        b.flow("central", "nk_central" if has_metabolite else None, cl * fm / v1, mw)
        b.flow("central", None, cl * (1 - fm) / v1)
    for p in ("2", "3"):
        if f"V{p}" in params:
            q = params[f"Q{p}"]
            b.flow("central", f"periph{p}", q / v1)
            b.flow(f"periph{p}", "central", q / params[f"V{p}"])
    if has_liver:
        qh, vh = params["QH"], params["VH"]
        b.flow("central", "liver", qh / v1)
        b.flow("liver", "central", qh / vh)
        b.flow("liver", None, params["KEL_H"])
        b.flow("liver", "nk_central" if has_metabolite else None, params["KMET_H"], mw)
    if has_metabolite:
        v1m = params["V1_M"]
        b.flow("nk_central", None, params["CL_M"] / v1m)
        if "V2_M" in params:
            qm = params["Q2_M"]
            b.flow("nk_central", "nk_periph2", qm / v1m)
            b.flow("nk_periph2", "nk_central", qm / params["V2_M"])
    for depot, route in depots.items():  # depot state -> parameter suffix
        ka, f = params[f"ka_{route}"], params[f"F_{route}"]
        to_liver = has_liver and bool(np.any(params.get(f"TO_{route}", 0.0)))
        target = "liver" if to_liver else "central"
        b.flow(depot, target, ka * f)
        fm_route = params.get(f"FM_{route}")
        if fm_route is not None and has_metabolite:
            b.flow(depot, "nk_central", ka * fm_route, mw)
            b.flow(depot, None, ka * (1 - f - fm_route))
        else:
            b.flow(depot, None, ka * (1 - f))
    return b.build(params.get("ke0"))
