"""What a population PK model is in ketaclinic: metadata, structure, typical values, routes.

A model declares its :class:`Structure`, one :class:`ParameterSpec` per structural parameter
(named as pharmacometricians name them: ``CL, V1, Q2, V2, Q3, V3, ke0``; liver ``QH, VH,
KEL_H, KMET_H``; metabolite ``FM, CL_M, V1_M, Q2_M, V2_M``) and its routes. ``typical`` turns
vectorised covariates into arrays of exactly the declared parameters, in L, L/min and 1/min.
The catalogue lives in ``_catalogue.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketaclinic.errors import ModelError
from ketaclinic.pharmacology._doses import Route
from ketaclinic.pharmacology._drug import Drug
from ketaclinic.pharmacology._frozen import FrozenMap
from ketaclinic.pharmacology._patient import ChildPugh, Ethnicity, Patient, Sex
from ketaclinic.pharmacology._structure import (
    CHILD_BELOW_AGE_YEARS,
    AbsorptionPath,
    ParameterSpec,
    RouteSpec,
    Structure,
)

__all__ = [
    "HEPATIC_SCALING",
    "Covariates",
    "HepaticScaling",
    "PKModel",
    "covariates_of",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)  # holds arrays: == would be ambiguous
class Covariates:
    """Covariates of ``n`` patients as arrays (the population engine samples these).

    ``ethnicity`` holds :class:`Ethnicity` values; None means "not stated" for everyone.
    """

    weight_kg: FloatArray
    age_years: FloatArray
    female: NDArray[np.bool_]
    height_cm: FloatArray
    child_pugh: NDArray[np.str_]
    ethnicity: NDArray[np.str_] | None = None

    def ethnic(self, *groups: Ethnicity) -> NDArray[np.bool_]:
        """True for the patients whose ethnicity is one of ``groups``."""
        if self.ethnicity is None:
            return np.zeros(self.n, dtype=bool)
        return np.isin(self.ethnicity, [str(g) for g in groups])

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
            None if self.ethnicity is None else self.ethnicity[:count],
        )


def covariates_of(patient: Patient) -> Covariates:
    return Covariates(
        weight_kg=np.array([patient.weight_kg]),
        age_years=np.array([patient.age_years]),
        female=np.array([patient.sex == Sex.FEMALE]),
        height_cm=np.array([patient.height_cm]),
        child_pugh=np.array([str(patient.child_pugh)]),
        ethnicity=np.array([str(patient.ethnicity)]),
    )


@dataclass(frozen=True)
class HepaticScaling:
    """Multiplier on hepatic (metabolic) clearance for one Child-Pugh class: an assumption."""

    child_pugh: ChildPugh
    clearance_factor: float
    basis: str


# A named assumption, shown in every output that uses it. Ketamine is cleared by hepatic
# CYP2B6/3A4 metabolism with a high extraction ratio, so reduced clearance is the main effect.
HEPATIC_SCALING: Mapping[ChildPugh, HepaticScaling] = FrozenMap(
    {
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
            "assumption: Child-Pugh B systemic (hepatic) clearance / 2.03, from an esketamine "
            "AUC about +103 % vs normal hepatic function (SPRAVATO prescribing information "
            "8.6/12.3 says 'higher'; the +103 % figure is from secondary sources and not yet "
            "confirmed in the label text); an IV dose's AUC rises x2.03, a dose through first "
            "pass more where the model has a liver (each prediction states its own ratio)",
        ),
        ChildPugh.C: HepaticScaling(
            ChildPugh.C,
            1.0 / 3.0,
            "assumption: Child-Pugh C was not studied (SPRAVATO: use not recommended); "
            "clearance / 3 is an extrapolation beyond class B, for illustration only",
        ),
    }
)

ParamFunction = Callable[[Covariates], dict[str, FloatArray]]


@dataclass(frozen=True)
class PKModel:
    """A published population PK model with everything needed to use it honestly.

    ``parameter_specs`` declares exactly the structural parameters of ``structure``;
    ``typical`` must return arrays of exactly those names (checked on every call). Route
    parameters (``ka_<path>``, ``F_<path>``) come from the paths of ``routes``.
    """

    id: str
    name: str
    drug: Drug
    population: str
    source: str
    typical: ParamFunction = field(repr=False)
    structure: Structure
    parameter_specs: tuple[ParameterSpec, ...]
    routes: Mapping[Route, RouteSpec]
    weight_range_kg: tuple[float, float]
    age_range_years: tuple[float, float]
    iiv_source: str | None = None
    limitations: tuple[str, ...] = ()
    _names: frozenset[str] = field(init=False, repr=False, compare=False, default=frozenset())
    _ke0_source: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "drug", Drug(self.drug))
        object.__setattr__(self, "parameter_specs", tuple(self.parameter_specs))
        object.__setattr__(self, "routes", FrozenMap(self.routes))
        names = [p.name for p in self.parameter_specs]
        object.__setattr__(self, "_names", frozenset(names))
        ke0 = next((p.source for p in self.parameter_specs if p.name == "ke0"), "")
        object.__setattr__(self, "_ke0_source", ke0)
        slots = {name: unit for name, unit, _ in self.structure.slots()}
        if len(set(names)) != len(names) or set(names) != set(slots):
            raise ModelError(
                f"{self.name}: declared parameters {names} must be exactly those of its "
                f"structure: {list(slots)}"
            )
        for param in self.parameter_specs:
            if param.unit != slots[param.name]:
                raise ModelError(
                    f"{self.name}: {param.name} is in {slots[param.name]}, not {param.unit}"
                )
        paths = [p for r in self.routes.values() for p in r.paths]
        if len({p.name for p in paths}) != len(paths):
            raise ModelError(f"{self.name}: absorption path names repeat across routes")
        for route, spec in self.routes.items():
            if spec.route is not route:
                raise ModelError(f"{self.name}: the {route} route is declared as {spec.route}")
            for path in spec.paths:
                if path.into_liver and not self.structure.liver:
                    raise ModelError(f"{self.name}: path {path.name} drains into a missing liver")
                if (
                    path.first_pass_metabolite_fraction is not None
                    and self.structure.metabolite is None
                ):
                    raise ModelError(f"{self.name}: path {path.name} forms a missing metabolite")

    @property
    def has_metabolite(self) -> bool:
        return self.structure.metabolite is not None

    @property
    def iiv_cv(self) -> Mapping[str, float]:
        """Published CVs by parameter name: structural ones, then each route's paths."""
        specs = (*self.parameter_specs, *(s for r in self.routes.values() for s in r.specs()))
        return FrozenMap({s.name: s.iiv_cv for s in specs if s.iiv_cv is not None})

    @property
    def ke0_source(self) -> str:
        """Where the effect-site rate constant comes from ("" without an effect site)."""
        return self._ke0_source

    @property
    def intranasal_devices_mg(self) -> float | None:
        """Size of one nasal device when intranasal doses are whole devices, else None."""
        spec = self.routes.get(Route.INTRANASAL)
        return None if spec is None else spec.device_mg

    def paths(self, routes: Sequence[Route]) -> tuple[AbsorptionPath, ...]:
        """The absorption paths of ``routes`` (routes this model lacks are skipped), in order."""
        return tuple(p for r in routes if r in self.routes for p in self.routes[r].paths)

    def declared(self, routes: Sequence[Route] = ()) -> tuple[ParameterSpec, ...]:
        """Every parameter of a regimen using ``routes``: structural, then the paths' own."""
        extra = (s for r in routes if r in self.routes for s in self.routes[r].specs())
        return (*self.parameter_specs, *extra)

    def parameters(self, cov: Covariates, routes: Sequence[Route] = ()) -> dict[str, FloatArray]:
        """Typical parameter arrays for ``cov`` with hepatic scaling and route parameters."""
        typical = self.typical(cov)
        if typical.keys() != self._names:
            raise ModelError(
                f"{self.name}: typical values for {sorted(typical)} but the model declares "
                f"{[p.name for p in self.parameter_specs]}"
            )
        params = _own_arrays(typical, cov)
        factor = np.ones(cov.n)
        impaired = False
        for cls, scaling in HEPATIC_SCALING.items():
            if scaling.clearance_factor != 1.0:  # classes without a change need no mask
                mask = cov.child_pugh == cls.value
                if mask.any():
                    factor[mask] = scaling.clearance_factor
                    impaired = True
        if self.structure.liver:
            factor = _intrinsic_factor(params, factor)
        if impaired or self.structure.liver:  # x * 1.0 is x: nothing to scale otherwise
            for spec in self.parameter_specs:
                if spec.hepatic:
                    params[spec.name] = params[spec.name] * factor
        young = cov.age_years < CHILD_BELOW_AGE_YEARS
        for path in self.paths(routes):
            ka = np.full(cov.n, path.ka_per_min)
            f = np.full(cov.n, path.bioavailability)
            if path.child_ka_per_min is not None:
                ka[young] = path.child_ka_per_min
            if path.child_bioavailability is not None:
                f[young] = path.child_bioavailability
            params[path.ka_name] = ka
            params[path.f_name] = f
        return params


def _own_arrays(typical: Mapping[str, Any], cov: Covariates) -> dict[str, FloatArray]:
    """Arrays of one value per patient, each the dict's own (scalars broadcast; another
    shape is refused): later steps (IIV) scale them in place. A new float array that no other
    key and no covariate holds is kept as it is: copying it would only cost fresh memory."""
    n = cov.n
    held = {id(getattr(cov, f.name)) for f in fields(cov)}
    params: dict[str, FloatArray] = {}
    for key, value in typical.items():
        fresh = (
            type(value) is np.ndarray
            and value.dtype == np.float64
            and value.shape == (n,)
            and value.base is None
            and id(value) not in held
        )
        params[key] = value if fresh else np.full(n, value, dtype=float)
        held.add(id(params[key]))
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
