"""An independent reference: the published models written out as ODEs and integrated with
``scipy.integrate.solve_ivp`` (LSODA, rtol 1e-12) - a generic integrator, the opposite of the
engine's exact modal solution.

Nothing here imports the engine's catalogue or system builder: every parameter is transcribed
again from its publication (DOMAIN.md section 6 and the sources named per model), and every
system matrix is written out entry by entry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

H = 60.0  # min per h
# ketamine C13H16ClNO 237.73 g/mol, norketamine C12H14ClNO 223.70 g/mol (PubChem 3821, 4277)
NK_MG_PER_KETAMINE_MG = 223.70 / 237.73
# Olofsen 2012 (Anesthesiology 117:353): mean blood-effect-site equilibration t1/2 6.1 min
KE0_PER_MIN = math.log(2.0) / 6.1
METHOD = "LSODA"


@dataclass
class Ode:
    """``dx/dt = A x + u(t)``: state names, A (1/min), and the volume of each reported state."""

    states: list[str]
    a: np.ndarray = field(init=False)
    volume_l: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.a = np.zeros((len(self.states), len(self.states)))

    def i(self, name: str) -> int:
        return self.states.index(name)

    def move(self, src: str, dst: str | None, k: float, factor: float = 1.0) -> None:
        """``k x_src`` leaves ``src``; ``factor k x_src`` arrives in ``dst`` (None: excreted)."""
        self.a[self.i(src), self.i(src)] -= k
        if dst is not None:
            self.a[self.i(dst), self.i(src)] += factor * k

    def conc_mg_per_l(self, x: np.ndarray, state: str) -> np.ndarray:
        if state == "effect":
            return x[self.i("effect")]
        return x[self.i(state)] / self.volume_l[state]


@dataclass(frozen=True)
class Event:
    """Amount into ``state``: a bolus at ``start_min`` or zero-order over ``duration_min``."""

    state: str
    amount_mg: float
    start_min: float
    duration_min: float = 0.0


def integrate(ode: Ode, events: Sequence[Event], times_min: np.ndarray) -> np.ndarray:
    """States (states, T) at ``times_min``; a time equal to a bolus time sees the bolus."""
    points = {0.0, float(times_min[-1])}
    for e in events:
        points.add(e.start_min)
        if e.duration_min:
            points.add(e.start_min + e.duration_min)
    edges = sorted(p for p in points if p <= times_min[-1])
    x = np.zeros(len(ode.states))
    out = np.full((len(ode.states), times_min.size), np.nan)
    for j, t0 in enumerate(edges):
        for e in events:
            if e.duration_min == 0 and e.start_min == t0:
                x[ode.i(e.state)] += e.amount_mg
        rate = np.zeros(len(ode.states))
        for e in events:
            if e.duration_min and e.start_min <= t0 < e.start_min + e.duration_min:
                rate[ode.i(e.state)] += e.amount_mg / e.duration_min
        last = j + 1 == len(edges)
        t1 = t0 if last else edges[j + 1]
        mask = (times_min >= t0) & ((times_min <= t1) if last else (times_min < t1))
        if last:
            out[:, mask] = x[:, None]
            break
        inside = times_min[mask]
        sol = solve_ivp(
            lambda _t, y, r=rate: ode.a @ y + r,
            (t0, t1),
            x,
            method=METHOD,
            t_eval=np.append(inside, t1),
            rtol=1e-12,
            atol=1e-16,
            **({} if METHOD == "DOP853" else {"jac": lambda _t, _y: ode.a}),
        )
        assert sol.success, sol.message
        out[:, mask] = sol.y[:, :-1]
        x = sol.y[:, -1]
    return out


# --- the models, transcribed from their publications -----------------------------------------


# Racemic norketamine (the catalogue's stated assumption): Otto 2021 S-norketamine
# disposition V 98.6 L, CL 57.7 L/h, Vp 160 L, Q 42.8 L/h (V x WT/70, CL and Q x (WT/70)^0.75),
# formed from 80 % of ketamine clearance and of any first-pass loss.
RACEMIC_NK_FORMED = 0.8
NK_STATES = ["nk_central", "nk_periph"]


def _racemic_elimination(ode: Ode, k_el: float, weight_kg: float) -> None:
    """Central elimination at ``k_el``: 80 % forms norketamine, which is then disposed of."""
    s = weight_kg / 70.0
    a = s**0.75
    vm = 98.6 * s
    ode.volume_l["nk_central"] = vm
    ode.move("central", None, k_el * (1.0 - RACEMIC_NK_FORMED))
    ode.move("central", "nk_central", k_el * RACEMIC_NK_FORMED, NK_MG_PER_KETAMINE_MG)
    ode.move("nk_central", None, 57.7 / H * a / vm)
    ode.move("nk_central", "nk_periph", 42.8 / H * a / vm)
    ode.move("nk_periph", "nk_central", 42.8 / H * a / (160.0 * s))


def _micro_ode(
    v1: float, weight_kg: float, k10: float, k12: float, k21: float, k13=0.0, k31=0.0
) -> Ode:
    """Mammillary model from microconstants (1/min), in amounts, with an effect site."""
    states = ["central", "periph2"] + (["periph3"] if k13 else []) + [*NK_STATES, "effect"]
    ode = Ode(states, volume_l={"central": v1})
    _racemic_elimination(ode, k10, weight_kg)
    ode.move("central", "periph2", k12)
    ode.move("periph2", "central", k21)
    if k13:
        ode.move("central", "periph3", k13)
        ode.move("periph3", "central", k31)
    # effect site: dCe/dt = ke0 (A1/V1 - Ce), a concentration
    ode.a[ode.i("effect"), ode.i("central")] += KE0_PER_MIN / v1
    ode.a[ode.i("effect"), ode.i("effect")] -= KE0_PER_MIN
    return ode


def _clearance_ode(
    v1: float,
    cl: float,
    peripherals: Sequence[tuple[float, float]],
    extra: Sequence[str] = (),
    nk_weight_kg: float | None = None,
) -> Ode:
    """Mammillary model from CL (L/min), V1 and (Q, V) pairs, with an effect site (and the
    racemic norketamine assumption when ``nk_weight_kg`` is given)."""
    names = [f"periph{n}" for n in range(2, 2 + len(peripherals))]
    nk = NK_STATES if nk_weight_kg is not None else []
    ode = Ode(["central", *names, *nk, *extra, "effect"], volume_l={"central": v1})
    if nk_weight_kg is not None:
        _racemic_elimination(ode, cl / v1, nk_weight_kg)
    else:
        ode.move("central", None, cl / v1)
    for name, (q, v) in zip(names, peripherals, strict=True):
        ode.move("central", name, q / v1)
        ode.move(name, "central", q / v)
    ode.a[ode.i("effect"), ode.i("central")] += KE0_PER_MIN / v1
    ode.a[ode.i("effect"), ode.i("effect")] -= KE0_PER_MIN
    return ode


def domino(weight_kg: float) -> Ode:
    """Domino 1982 (PMID 7198883): V1 0.063 L/kg; k10 0.4381, k12 0.5921, k13 0.5900,
    k21 0.2470, k31 0.0146 /min."""
    return _micro_ode(0.063 * weight_kg, weight_kg, 0.4381, 0.5921, 0.2470, 0.5900, 0.0146)


def clements(weight_kg: float) -> Ode:
    """Clements 1981, 250 ug/kg (PMID 7459184): V1 1.7522 L/kg; k10 0.0109, k12 0.0186,
    k21 0.0137 /min."""
    return _micro_ode(1.7522 * weight_kg, weight_kg, 0.0109, 0.0186, 0.0137)


def hijazi(weight_kg: float) -> Ode:
    """Hijazi 2003 (PMID 12538370): V1 1.08 L/kg; k10 0.0333, k12 0.0088, k21 0.0030 /min."""
    return _micro_ode(1.08 * weight_kg, weight_kg, 0.0333, 0.0088, 0.0030)


def herd(weight_kg: float) -> Ode:
    """Herd 2007 (PMID 17564643): V1 38.7, V2 102 L x (WT/70); CL 90, Q 215 L/h x (WT/70)^0.75."""
    s = weight_kg / 70.0
    return _clearance_ode(
        38.7 * s, 90.0 / H * s**0.75, [(215.0 / H * s**0.75, 102.0 * s)], nk_weight_kg=weight_kg
    )


def hornik(weight_kg: float) -> Ode:
    """Hornik 2018 (PMID 29677389) as coded in opentiva: V1 32.8, V2 152 L x (WT/70);
    CL 38.9, Q 54.9 L/h x (WT/70)^0.75."""
    s = weight_kg / 70.0
    return _clearance_ode(
        32.8 * s, 38.9 / H * s**0.75, [(54.9 / H * s**0.75, 152.0 * s)], nk_weight_kg=weight_kg
    )


def sherwin(weight_kg: float) -> Ode:
    """Sherwin 2015 (PMID 25212712): V1 20.5, V2 220 L x (WT/70); CL 87.9, Q 87.3 L/h x
    (WT/70)^0.75 (the exponents are the catalogue's stated assumption)."""
    s = weight_kg / 70.0
    return _clearance_ode(
        20.5 * s, 87.9 / H * s**0.75, [(87.3 / H * s**0.75, 220.0 * s)], nk_weight_kg=weight_kg
    )


def elkomy(weight_kg: float) -> Ode:
    """Elkomy 2015 (PMID 25448584): CL 60.6, Q 73.2 L/h x (WT/70)^0.75; V1 57.3, V2 152 L x
    (WT/70)."""
    s = weight_kg / 70.0
    return _clearance_ode(
        57.3 * s, 60.6 / H * s**0.75, [(73.2 / H * s**0.75, 152.0 * s)], nk_weight_kg=weight_kg
    )


def kamp(weight_kg: float, extra: Sequence[str] = ()) -> Ode:
    """Kamp 2020 (DOI 10.1097/ALN.0000000000003577) as coded in opentiva: V1 25, V2 56,
    V3 157 L; CL 84, Q2 161, Q3 79 L/h; all linear in WT/70."""
    s = weight_kg / 70.0
    return _clearance_ode(
        25.0 * s,
        84.0 / H * s,
        [(161.0 / H * s, 56.0 * s), (79.0 / H * s, 157.0 * s)],
        extra,
        nk_weight_kg=weight_kg,
    )


def simons(weight_kg: float, extra: Sequence[str] = ()) -> Ode:
    """Simons 2022 (PMID 35899184): VK1 11.6, VK2 39.0, VK3 174 L x (WT/70);
    CLK1 1.48, CLK2 2.43, CLK3 1.21 L/min x (WT/70)^0.75."""
    s = weight_kg / 70.0
    a = s**0.75
    return _clearance_ode(11.6 * s, 1.48 * a, [(2.43 * a, 39.0 * s), (1.21 * a, 174.0 * s)], extra)


def fanta(weight_kg: float, extra: Sequence[str] = ()) -> Ode:
    """Fanta 2015 S-ketamine (PMID 25724645) with Otto 2021 S-norketamine
    (DOI 10.1007/s00228-021-03104-1): V1 133 L x WT/70, CL 95.2 L/h x (WT/70)^0.75,
    Vp1 187 L / Q1 23.2 L/h, Vp2 98.8 L / Q2 157 L/h (not scaled, as in Otto); all parent
    clearance forms norketamine: V 98.6 L x WT/70, CL 57.7 L/h x (WT/70)^0.75, Vp 160 L,
    Q 42.8 L/h (scaling of the metabolite's V and CL: the engine's stated assumption)."""
    s = weight_kg / 70.0
    a = s**0.75
    v1, cl = 133.0 * s, 95.2 / H * a
    states = ["central", "periph2", "periph3", "nk_central", "nk_periph", *extra, "effect"]
    vm, clm, vpm, qm = 98.6 * s, 57.7 / H * a, 160.0, 42.8 / H
    ode = Ode(states, volume_l={"central": v1, "nk_central": vm})
    ode.move("central", "nk_central", cl / v1, NK_MG_PER_KETAMINE_MG)
    ode.move("central", "periph2", 23.2 / H / v1)
    ode.move("periph2", "central", 23.2 / H / 187.0)
    ode.move("central", "periph3", 157.0 / H / v1)
    ode.move("periph3", "central", 157.0 / H / 98.8)
    ode.move("nk_central", None, clm / vm)
    ode.move("nk_central", "nk_periph", qm / vm)
    ode.move("nk_periph", "nk_central", qm / vpm)
    ode.a[ode.i("effect"), ode.i("central")] += KE0_PER_MIN / v1
    ode.a[ode.i("effect"), ode.i("effect")] -= KE0_PER_MIN
    return ode


def perez_ruixo(age_years: float, extra: Sequence[str] = ()) -> Ode:
    """Perez-Ruixo 2021 (PMID 33128208; Table 3 as transcribed in nlmixr2lib): Vc 192 L;
    Q1 84.3 L/h, Vp1 143 L; Q2 37.6 L/h, Vp2 417 L; liver Qh 151 L/h (-2.19 L/h per year
    over 60), Vh 101 L, kel 1.11 /h, kmet 2.77 /h to noresketamine: CLn 38, Vcn 70 L,
    Q3 26.1 L/h, Vpn 115 L. No weight covariate."""
    qh = (151.0 - 2.19 * max(age_years - 60.0, 0.0)) / H
    vc, vh, vcn = 192.0, 101.0, 70.0
    states = ["central", "periph2", "periph3", "liver", "nk_central", "nk_periph", *extra]
    ode = Ode([*states, "effect"], volume_l={"central": vc, "nk_central": vcn})
    ode.move("central", "periph2", 84.3 / H / vc)
    ode.move("periph2", "central", 84.3 / H / 143.0)
    ode.move("central", "periph3", 37.6 / H / vc)
    ode.move("periph3", "central", 37.6 / H / 417.0)
    ode.move("central", "liver", qh / vc)
    ode.move("liver", "central", qh / vh)
    ode.move("liver", None, 1.11 / H)
    ode.move("liver", "nk_central", 2.77 / H, NK_MG_PER_KETAMINE_MG)
    ode.move("nk_central", None, 38.0 / H / vcn)
    ode.move("nk_central", "nk_periph", 26.1 / H / vcn)
    ode.move("nk_periph", "nk_central", 26.1 / H / 115.0)
    ode.a[ode.i("effect"), ode.i("central")] += KE0_PER_MIN / vc
    ode.a[ode.i("effect"), ode.i("effect")] -= KE0_PER_MIN
    return ode


def absorb(
    ode: Ode, depot: str, ka: float, f: float, into: str = "central", fm: float = 0.0
) -> None:
    """First-order absorption: ``ka F`` into ``into``, ``ka FM`` presystemically into
    norketamine (as norketamine mg), the rest lost."""
    ode.move(depot, into, ka * f)
    if fm:
        ode.move(depot, "nk_central", ka * fm, NK_MG_PER_KETAMINE_MG)
    ode.move(depot, None, ka * (1.0 - f - fm))
