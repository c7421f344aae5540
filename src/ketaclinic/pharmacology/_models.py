"""What a population PK model is in ketaclinic: metadata, typical values, variability, routes.

A model turns vectorised covariates into parameter arrays named as pharmacometricians name
them (``CL, V1, Q2, V2, Q3, V3, ke0``; metabolite ``FM, CL_M, V1_M, Q2_M, V2_M``; routes
``ka_<route>, F_<route>``) in L, L/min and 1/min. The catalogue lives in ``_catalogue.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ketaclinic.pharmacology._doses import Route
from ketaclinic.pharmacology._patient import ChildPugh, Patient, Sex

__all__ = [
    "HEPATIC_SCALING",
    "Covariates",
    "HepaticScaling",
    "PKModel",
    "RouteSpec",
    "covariates_of",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Covariates:
    """Covariates of ``n`` patients as arrays (the population engine samples these)."""

    weight_kg: FloatArray
    age_years: FloatArray
    female: NDArray[np.bool_]
    height_cm: FloatArray
    child_pugh: NDArray[np.str_]

    @property
    def n(self) -> int:
        return int(self.weight_kg.shape[0])

    def head(self, count: int) -> Covariates:
        """The first ``count`` patients (views, no copies)."""
        return Covariates(
            self.weight_kg[:count],
            self.age_years[:count],
            self.female[:count],
            self.height_cm[:count],
            self.child_pugh[:count],
        )


def covariates_of(patient: Patient) -> Covariates:
    return Covariates(
        weight_kg=np.array([patient.weight_kg]),
        age_years=np.array([patient.age_years]),
        female=np.array([patient.sex == Sex.FEMALE]),
        height_cm=np.array([patient.height_cm]),
        child_pugh=np.array([str(patient.child_pugh)]),
    )


@dataclass(frozen=True)
class HepaticScaling:
    """Multiplier on hepatic (metabolic) clearance for one Child-Pugh class: an assumption."""

    child_pugh: ChildPugh
    clearance_factor: float
    basis: str


# A named assumption, shown in every output that uses it. Ketamine is cleared by hepatic
# CYP2B6/3A4 metabolism with a high extraction ratio, so reduced clearance is the main effect.
HEPATIC_SCALING: Mapping[ChildPugh, HepaticScaling] = {
    ChildPugh.NONE: HepaticScaling(ChildPugh.NONE, 1.0, "no hepatic impairment"),
    ChildPugh.A: HepaticScaling(
        ChildPugh.A,
        1.0,
        "assumption: mild impairment (Child-Pugh A) leaves clearance unchanged; no published "
        "ketamine figure was found (SPRAVATO label 8.6 discusses only class B)",
    ),
    ChildPugh.B: HepaticScaling(
        ChildPugh.B,
        1.0 / 2.03,
        "assumption: Child-Pugh B esketamine AUC about +103 % vs normal hepatic function "
        "(SPRAVATO prescribing information 8.6/12.3 says 'higher'; the +103 % figure is from "
        "secondary sources and not yet confirmed in the label text) -> clearance / 2.03",
    ),
    ChildPugh.C: HepaticScaling(
        ChildPugh.C,
        1.0 / 3.0,
        "assumption: Child-Pugh C was not studied (SPRAVATO: use not recommended); "
        "clearance / 3 is an extrapolation beyond class B, for illustration only",
    ),
}


@dataclass(frozen=True)
class RouteSpec:
    """How a route enters the model, with where each number comes from.

    ``native`` is true when the route was part of the data the model was fitted to; otherwise
    the route is an *extension* (first-order absorption bolted onto an IV model) and every
    output says so. A dose (or, for nasal sprays, each device) splits into ``fraction``, which
    enters this path's depot, and ``1 - fraction``, which takes the ``remainder`` path (the
    swallowed part of a nasal dose) or is lost. Each depot empties with rate ``ka_per_min``;
    ``bioavailability`` of what leaves reaches the central (or liver) compartment,
    ``presystemic_metabolite_fraction`` becomes metabolite, the rest is lost. With
    ``zero_order_min`` the dose enters the depot at a constant rate over that time.
    """

    route: Route
    native: bool
    source: str
    ka_per_min: float | None = None  # None: straight into the central compartment (IV)
    bioavailability: float = 1.0
    presystemic_metabolite_fraction: float | None = None
    into_liver: bool = False
    zero_order_min: float = 0.0
    fraction: float = 1.0
    later_device_factor: float = 1.0
    remainder: RouteSpec | None = None
    suffix: str = ""

    @property
    def key(self) -> str:
        """Parameter-name suffix of this path (``ka_<key>``, ``F_<key>``...)."""
        return self.suffix or str(self.route)

    @property
    def depot(self) -> str | None:
        return None if self.ka_per_min is None else f"depot_{self.key}"

    def paths(self) -> tuple[RouteSpec, ...]:
        """This path and its remainder paths, in order."""
        return (self, *(self.remainder.paths() if self.remainder else ()))


ParamFunction = Callable[[Covariates], dict[str, FloatArray]]


@dataclass(frozen=True)
class PKModel:
    """A published population PK model with everything needed to use it honestly."""

    id: str
    name: str
    drug: str  # "racemic ketamine" or "S-ketamine (esketamine)"
    population: str
    source: str
    typical: ParamFunction = field(repr=False)
    routes: Mapping[Route, RouteSpec]
    weight_range_kg: tuple[float, float]
    age_range_years: tuple[float, float]
    iiv_cv: Mapping[str, float] = field(default_factory=dict)
    iiv_source: str | None = None
    ke0_source: str = ""
    ke0_fitted: bool = False
    hepatic_keys: tuple[str, ...] = ("CL",)
    limitations: tuple[str, ...] = ()
    intranasal_devices_mg: float | None = None
    iiv_note: str = ""

    def omega(self) -> dict[str, float]:
        """Published IIV as the SD of a log-normal random effect: sqrt(ln(1 + CV^2))."""
        return {k: float(np.sqrt(np.log1p(cv * cv))) for k, cv in self.iiv_cv.items()}

    @property
    def has_metabolite(self) -> bool:
        probe = self.typical(_PROBE)
        return "V1_M" in probe

    def parameters(self, cov: Covariates, routes: tuple[Route, ...] = ()) -> dict[str, FloatArray]:
        """Typical parameter arrays for ``cov`` with hepatic scaling and route parameters."""
        params = {  # own arrays of one value per patient (scalars broadcast)
            k: np.array(np.broadcast_to(np.asarray(v, dtype=float), (cov.n,)))
            for k, v in self.typical(cov).items()
        }
        factor = np.ones(cov.n)
        for cls, scaling in HEPATIC_SCALING.items():
            if scaling.clearance_factor != 1.0:  # classes without a change need no mask
                factor[cov.child_pugh == cls.value] = scaling.clearance_factor
        if "QH" in params:
            factor = _intrinsic_factor(params, factor)
        for key in self.hepatic_keys:
            params[key] = params[key] * factor
        for route in routes:
            for path in self.routes[route].paths():
                if path.ka_per_min is None:
                    continue
                key = path.key
                params[f"ka_{key}"] = np.full(cov.n, path.ka_per_min)
                params[f"F_{key}"] = np.full(cov.n, path.bioavailability)
                params[f"FR_{key}"] = np.full(cov.n, path.fraction)
                if path.presystemic_metabolite_fraction is not None:
                    params[f"FM_{key}"] = np.full(cov.n, path.presystemic_metabolite_fraction)
                if path.into_liver:
                    params[f"TO_{key}"] = np.ones(cov.n)
        return params


def _intrinsic_factor(params: dict[str, FloatArray], factor: FloatArray) -> FloatArray:
    """Scale of intrinsic hepatic clearance that scales *systemic* clearance by ``factor``.

    With a well-stirred liver compartment (Perez-Ruixo 2021) systemic clearance is
    ``CL = QH CLint / (QH + CLint)`` with ``CLint = VH (KEL_H + KMET_H)``: flow limits it, so
    scaling CLint by ``factor`` would lower CL far less (about 1.4-fold instead of 2.03-fold
    for Child-Pugh B). Solving for the CLint that gives ``factor * CL`` keeps the assumption
    the same for every model: systemic clearance / 2.03.
    """
    qh = params["QH"]
    cl_int = params["VH"] * (params["KEL_H"] + params["KMET_H"])
    cl_target = factor * qh * cl_int / (qh + cl_int)
    return np.asarray(qh * cl_target / (qh - cl_target) / cl_int, dtype=float)


_PROBE = Covariates(
    weight_kg=np.array([70.0]),
    age_years=np.array([40.0]),
    female=np.array([False]),
    height_cm=np.array([175.0]),
    child_pugh=np.array(["none"]),
)
