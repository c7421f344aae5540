"""What a model is made of, declared as typed frozen values (no naming conventions to parse).

* :class:`Structure`: the compartments (parent with 0-2 peripherals, an optional hepatic
  first-pass compartment, an optional metabolite with 0-1 peripherals) and the effect site. It
  fixes the states of the linear system and the names of the structural parameters.
* :class:`ParameterSpec`: one parameter with its pharmacometric name (``CL, V1, Q2, ...``),
  unit, source, inter-individual variability (CV) and whether hepatic impairment scales it.
* :class:`RouteSpec` and :class:`AbsorptionPath`: how a dose of a route enters the system:
  straight into the central compartment (IV), or through depots, each with its share of the
  dose, bioavailability, absorption rate, presystemic metabolite fraction, zero-order input
  time and whether it drains into the liver compartment.

The system builder, the regimen, populations and messages read these fields.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ketaclinic.errors import ModelError
from ketaclinic.pharmacology._doses import Route

__all__ = [
    "CHILD_BELOW_AGE_YEARS",
    "L_PER_MIN",
    "PER_MIN",
    "AbsorptionPath",
    "L",
    "Metabolite",
    "ParameterSpec",
    "RouteSpec",
    "Structure",
    "declare_parameters",
]

L = "L"
# Route parameters published for children (Brunette 2011, Malinovsky 1996, Hornik 2018: ages
# 0-14 years) apply below this age; adults' apply from it.
CHILD_BELOW_AGE_YEARS = 18.0
L_PER_MIN = "L/min"
PER_MIN = "1/min"
FRACTION = "fraction"


def _check_cv(owner: str, cv: float | None) -> None:
    if cv is not None and not (math.isfinite(cv) and 0.0 <= cv <= 3.0):
        raise ModelError(f"{owner}: a CV must be a fraction from 0 to 3, got {cv!r}")


def _check_fraction(owner: str, what: str, value: float, low_open: bool = False) -> None:
    low_ok = value > 0.0 if low_open else value >= 0.0
    if not (math.isfinite(value) and low_ok and value <= 1.0):
        raise ModelError(f"{owner}: {what} must be a fraction from 0 to 1, got {value!r}")


@dataclass(frozen=True)
class ParameterSpec:
    """One model parameter: name, unit, meaning, source and inter-individual variability.

    ``iiv_cv`` is the published CV of a log-normal random effect (None: none published);
    ``hepatic`` marks the parameters that the Child-Pugh clearance assumption scales.
    """

    name: str
    unit: str
    meaning: str
    source: str
    iiv_cv: float | None = None
    hepatic: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise ModelError("a parameter needs a name")
        _check_cv(f"parameter {self.name}", self.iiv_cv)


@dataclass(frozen=True)
class Metabolite:
    """The metabolite (norketamine) with its own central and 0-1 peripheral compartments.

    Its parameters are ``FM`` (fraction of the parent's central clearance that forms it),
    ``CL_M, V1_M`` and, with a peripheral, ``Q2_M, V2_M``.
    """

    label: str
    peripherals: int = 0

    def __post_init__(self) -> None:
        if self.peripherals not in (0, 1):
            raise ModelError(f"metabolite {self.label}: 0 or 1 peripherals, got {self.peripherals}")


@dataclass(frozen=True)
class Structure:
    """The compartments of a model, and so its states and structural parameter names.

    ``peripherals`` (0-2) add ``Q2, V2`` and ``Q3, V3`` to ``CL, V1``; ``liver`` adds the
    well-stirred hepato-portal compartment of Perez-Ruixo 2021 (``QH, VH, KEL_H, KMET_H``);
    ``effect_site`` adds ``ke0``.
    """

    peripherals: int = 0
    liver: bool = False
    metabolite: Metabolite | None = None
    effect_site: bool = False

    def __post_init__(self) -> None:
        if self.peripherals not in (0, 1, 2):
            raise ModelError(f"a parent takes 0, 1 or 2 peripherals, got {self.peripherals}")

    @property
    def compartments(self) -> int:
        """Compartments of the parent drug (1-3)."""
        return 1 + self.peripherals

    @property
    def mammillary(self) -> bool:
        """Parent compartments only (plus the effect site): IV modes have a closed form."""
        return not self.liver and self.metabolite is None

    def slots(self) -> tuple[tuple[str, str, str], ...]:
        """``(name, unit, meaning)`` of every structural parameter, in a fixed order."""
        out = [
            ("CL", L_PER_MIN, "clearance from the central compartment"),
            ("V1", L, "central volume"),
        ]
        for p in range(2, 2 + self.peripherals):
            out.append((f"Q{p}", L_PER_MIN, f"inter-compartmental clearance to peripheral {p}"))
            out.append((f"V{p}", L, f"volume of peripheral compartment {p}"))
        if self.liver:
            out += [
                ("QH", L_PER_MIN, "hepatic blood flow"),
                ("VH", L, "volume of the hepato-portal compartment"),
                ("KEL_H", PER_MIN, "elimination rate constant from the liver (not metabolite)"),
                ("KMET_H", PER_MIN, "rate constant of metabolite formation in the liver"),
            ]
        if self.metabolite is not None:
            out += [
                ("FM", FRACTION, "fraction of the parent's central clearance forming metabolite"),
                ("CL_M", L_PER_MIN, "metabolite clearance"),
                ("V1_M", L, "metabolite central volume"),
            ]
            if self.metabolite.peripherals:
                out.append(("Q2_M", L_PER_MIN, "metabolite inter-compartmental clearance"))
                out.append(("V2_M", L, "metabolite peripheral volume"))
        if self.effect_site:
            out.append(("ke0", PER_MIN, "effect-site equilibration rate constant"))
        return tuple(out)

    def states(self, paths: Sequence[AbsorptionPath] = ()) -> tuple[str, ...]:
        """State names of the linear system with depots for ``paths``, in system order."""
        out = ["central", *(f"periph{p}" for p in range(2, 2 + self.peripherals))]
        if self.liver:
            out.append("liver")
        if self.metabolite is not None:
            out.append("nk_central")
            if self.metabolite.peripherals:
                out.append("nk_periph2")
        out += [path.depot for path in paths]
        if self.effect_site:
            out.append("effect")
        return tuple(out)


def declare_parameters(
    structure: Structure,
    source: str,
    *,
    iiv_cv: Mapping[str, float] | None = None,
    hepatic: Sequence[str] = ("CL",),
    sources: Mapping[str, str] | None = None,
) -> tuple[ParameterSpec, ...]:
    """The parameter specs of ``structure``: every one from ``source`` unless ``sources``
    names another, with the published CVs of ``iiv_cv`` and ``hepatic`` scaled by impairment.

    >>> [p.name for p in declare_parameters(Structure(peripherals=1), "a paper")]
    ['CL', 'V1', 'Q2', 'V2']
    """
    names = [name for name, _, _ in structure.slots()]
    for label, given in (
        ("iiv_cv", iiv_cv or {}),
        ("hepatic", hepatic),
        ("sources", sources or {}),
    ):
        unknown = [k for k in given if k not in names]
        if unknown:
            raise ModelError(f"{label} names {unknown} that the structure lacks; it has {names}")
    return tuple(
        ParameterSpec(
            name,
            unit,
            meaning,
            (sources or {}).get(name, source),
            (iiv_cv or {}).get(name),
            name in hepatic,
        )
        for name, unit, meaning in structure.slots()
    )


@dataclass(frozen=True)
class AbsorptionPath:
    """One depot a dose (or what earlier paths left of it) passes through.

    The path takes ``fraction`` of what reaches it; its depot empties at ``ka_per_min``;
    ``bioavailability`` of what leaves reaches the central (``into_liver``: the liver)
    compartment; of the rest (the first-pass loss, 1 - F), ``first_pass_metabolite_fraction``
    becomes metabolite and the remainder is lost. Defining it on the loss keeps every flow
    non-negative when a population varies F. With ``zero_order_min`` the dose enters the
    depot at a constant rate over that time; ``later_device_factor`` multiplies ``fraction``
    for the second and later devices of a nasal dose. ``child_bioavailability`` and
    ``child_ka_per_min`` replace F and ka for patients younger than ``CHILD_BELOW_AGE_YEARS``
    where a paediatric study published its own (children differ). ``fraction_factors``
    multiply ``fraction`` for patients of the named ethnicities (``Ethnicity`` values; a
    published covariate, e.g. Perez-Ruixo 2021's Japanese nasal fraction), capped at 1.
    ``ka_cv``/
    ``bioavailability_cv`` are the IIV of its two parameters, named ``ka_<name>`` and
    ``F_<name>``; ``source`` says where the path's numbers come from when its route's
    source does not.
    """

    name: str
    ka_per_min: float
    bioavailability: float = 1.0
    fraction: float = 1.0
    first_pass_metabolite_fraction: float | None = None
    zero_order_min: float = 0.0
    later_device_factor: float = 1.0
    into_liver: bool = False
    ka_cv: float | None = None
    bioavailability_cv: float | None = None
    source: str = ""  # where this path's numbers come from, when not its route's source
    child_bioavailability: float | None = None
    child_ka_per_min: float | None = None
    fraction_factors: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        owner = f"absorption path {self.name!r}"
        if not self.name:
            raise ModelError("an absorption path needs a name")
        if not (math.isfinite(self.ka_per_min) and self.ka_per_min > 0):
            raise ModelError(f"{owner}: ka must be above 0 /min, got {self.ka_per_min!r}")
        _check_fraction(owner, "bioavailability", self.bioavailability)
        _check_fraction(owner, "fraction", self.fraction, low_open=True)
        _check_fraction(owner, "later-device factor", self.later_device_factor, low_open=True)
        fm = self.first_pass_metabolite_fraction
        if fm is not None:
            _check_fraction(owner, "first-pass metabolite fraction", fm)
        if self.child_bioavailability is not None:
            _check_fraction(owner, "child bioavailability", self.child_bioavailability)
        child_ka = self.child_ka_per_min
        if child_ka is not None and not (math.isfinite(child_ka) and child_ka > 0):
            raise ModelError(f"{owner}: child ka must be above 0 /min, got {child_ka!r}")
        for group, factor in self.fraction_factors:
            if not (group and math.isfinite(factor) and factor > 0):
                raise ModelError(
                    f"{owner}: the fraction factor for {group!r} must be above 0, got {factor!r}"
                )
        if not (math.isfinite(self.zero_order_min) and self.zero_order_min >= 0):
            raise ModelError(f"{owner}: zero-order time must be >= 0 min")
        _check_cv(owner, self.ka_cv)
        _check_cv(owner, self.bioavailability_cv)

    @property
    def depot(self) -> str:
        """State name of this path's depot."""
        return f"depot_{self.name}"

    @property
    def ka_name(self) -> str:
        return f"ka_{self.name}"

    @property
    def f_name(self) -> str:
        return f"F_{self.name}"

    def specs(self, route_source: str) -> tuple[ParameterSpec, ParameterSpec]:
        """The two parameters of this path (absorption rate and bioavailability)."""
        source = self.source or route_source
        return (
            ParameterSpec(
                self.ka_name, PER_MIN, f"absorption rate ({self.name})", source, self.ka_cv
            ),
            ParameterSpec(
                self.f_name,
                FRACTION,
                f"bioavailability ({self.name})",
                source,
                self.bioavailability_cv,
            ),
        )


@dataclass(frozen=True)
class RouteSpec:
    """How a route enters a model, with where each number comes from.

    ``native`` is true when the route was part of the data the model was fitted to; otherwise
    it is an *extension* (first-order absorption bolted onto an IV model) and every output says
    so. Without ``paths`` a dose goes straight into the central compartment (IV). A dose of
    ``device_mg`` devices (nasal sprays) is given one device every ``device_interval_min``.
    """

    route: Route
    native: bool
    source: str
    paths: tuple[AbsorptionPath, ...] = ()
    device_mg: float | None = None
    device_interval_min: float = 5.0  # SPRAVATO label: 5 min between devices

    def __post_init__(self) -> None:
        object.__setattr__(self, "paths", tuple(self.paths))
        names = [p.name for p in self.paths]
        if len(set(names)) != len(names):
            raise ModelError(f"route {self.route}: absorption path names repeat: {names}")
        if self.device_mg is not None and not (
            math.isfinite(self.device_mg) and self.device_mg > 0
        ):
            raise ModelError(f"route {self.route}: a device holds more than 0 mg")

    @property
    def direct(self) -> bool:
        """True when doses enter the central compartment directly (no depot)."""
        return not self.paths

    @property
    def zero_order(self) -> bool:
        """True when some path takes its dose at a fixed zero-order rate (no infusions)."""
        return any(p.zero_order_min > 0 for p in self.paths)

    def specs(self) -> tuple[ParameterSpec, ...]:
        return tuple(s for path in self.paths for s in path.specs(self.source))
