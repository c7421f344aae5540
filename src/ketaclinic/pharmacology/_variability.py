"""Inter-individual variability: which random effects a population draws, and applying them.

A random effect is log-normal, ``param_i = typical_i * exp(eta_i)`` with
``eta ~ N(0, omega^2)`` and ``omega = sqrt(ln(1 + CV^2))`` (:func:`lognormal_sd`, the one
place this formula is written). A CV may name any parameter the regimen's model declares
(``PKModel.declared``), or ``ka`` / ``F`` for every absorption path of the routes used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology._doses import Route
from ketaclinic.pharmacology._frozen import FrozenMap
from ketaclinic.pharmacology._models import PKModel

__all__ = [
    "DEFAULT_CV",
    "EVERY_PATH",
    "Variability",
    "apply_iiv",
    "lognormal_sd",
    "parse_variability",
    "variable_names",
]

FloatArray = NDArray[np.float64]

# Used when a model has no published IIV: a declared assumption, named in every output.
DEFAULT_CV = 0.30
_STRUCTURAL = ("CL", "V1", "V2", "V3", "Q2", "Q3")
EVERY_PATH = ("ka", "F")  # names that move every absorption path's ka or F at once
MAX_CV = 3.0


def lognormal_sd(cv: float) -> float:
    """SD of ``ln X`` for a log-normal ``X`` with coefficient of variation ``cv``.

    >>> round(lognormal_sd(0.3), 6)
    0.29356
    """
    return math.sqrt(math.log1p(cv * cv))


@dataclass(frozen=True)
class Variability:
    """Log-normal random effects by parameter name: ``cv`` holds CVs (fractions).

    Names are the model's parameters (CL, V1, V2, V3, Q2, Q3, ke0, ka_oral, ...); ``ka`` and
    ``F`` apply to every path's ``ka_<path>``/``F_<path>``. F is capped at 1.
    """

    cv: Mapping[str, float] = field(default_factory=FrozenMap)
    basis: str = ""
    assumed: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "cv", FrozenMap({str(k): float(v) for k, v in self.cv.items()}))

    def omega(self) -> dict[str, float]:
        """SD of each random effect, sorted by name (the order their normals are drawn in)."""
        return {k: lognormal_sd(v) for k, v in sorted(self.cv.items())}


def variable_names(model: PKModel, routes: Sequence[Route]) -> tuple[str, ...]:
    """The names a CV may take for a regimen of ``routes`` with ``model``."""
    return (*(p.name for p in model.declared(routes)), *EVERY_PATH)


def apply_iiv(
    params: dict[str, FloatArray],
    omega: Mapping[str, float],
    normals: Sequence[FloatArray],
    ka_names: Sequence[str],
    f_names: Sequence[str],
) -> None:
    """``param * exp(omega * z)`` in place, with one row of standard normals per name (rows
    may be longer than the parameters, e.g. a whole last block: the first patients are used).

    A name moves that parameter only (``CL`` is not ``CL_M``: published models give the
    metabolite its own random effect); ``ka``/``F`` move every name of ``ka_names`` /
    ``f_names`` (the absorption paths in use) by the same factor. Bioavailabilities stay <= 1.
    """
    n = next(iter(params.values())).shape[0]
    buffer: FloatArray | None = None  # one for every name: no fresh memory per name
    for (name, om), z in zip(omega.items(), normals, strict=True):
        keys: Sequence[str] = [name] if name in params else []
        if name == "ka":
            keys = ka_names
        elif name == "F":
            keys = f_names
        if not keys:
            continue
        if buffer is None or buffer.shape != np.shape(z):
            buffer = np.empty(np.shape(z))
        factor = np.multiply(z, om, out=buffer).reshape(-1)[:n]
        np.exp(factor, out=factor)
        for key in keys:  # the arrays are the dict's own (PKModel.parameters): in place
            np.multiply(params[key], factor, out=params[key])
            if key in f_names:
                np.minimum(params[key], 1.0, out=params[key])


def parse_variability(
    variability: Any, model: PKModel, names: Sequence[str] | None = None
) -> Variability:
    """``"default"`` (published IIV, or a declared 30 % CV assumption), ``"none"``, a mapping
    or a string ``"CL=0.3,V1=0.3"`` of CVs (fractions, not percent).

    ``names`` (``variable_names`` of a regimen): the default then keeps, and names in its
    basis, only the random effects of the routes the regimen uses."""
    if variability is None or (isinstance(variability, str) and variability == "default"):
        published = {k: v for k, v in model.iiv_cv.items() if names is None or k in names}
        if any(p.iiv_cv is not None for p in model.parameter_specs):
            return Variability(published, f"published: {model.iiv_source}", False)
        declared = {p.name for p in model.parameter_specs}
        assumed = {k: DEFAULT_CV for k in _STRUCTURAL if k in declared}
        # routes may declare their own IIV on ka and F (published or calibrated, each path's
        # source says which); they apply on top of the assumed structural CVs
        routes = {k: v for k, v in published.items() if k not in declared}
        basis = (
            f"ASSUMPTION: {model.name} has no published IIV here; {DEFAULT_CV:.0%} CV on "
            + ", ".join(assumed)
        )
        if routes:
            basis += "; route IIV as each route's source states: " + ", ".join(
                f"{k} {v:.0%}" for k, v in routes.items()
            )
        return Variability({**assumed, **routes}, basis, True)
    if isinstance(variability, str) and variability.strip().lower() == "none":
        return Variability({}, "none: every virtual patient has the typical parameters", False)
    items: dict[str, Any]
    if isinstance(variability, str):
        items = {}
        for part in variability.split(","):
            name, sep, value = part.partition("=")
            if not sep:
                raise UserInputError(
                    f"variability {part!r} is not NAME=CV; for example CL=0.3,V1=0.3 "
                    "(or 'default' or 'none')"
                )
            items[name.strip()] = value.strip()
    elif isinstance(variability, Mapping):
        items = dict(variability)
    else:
        raise UserInputError("variability must be 'default', 'none', a mapping or NAME=CV,...")
    cv: dict[str, float] = {}
    for name, value in items.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UserInputError(f"variability {name}={value!r}: CV must be a number") from None
        if not 0.0 <= number <= MAX_CV:
            raise UserInputError(
                f"variability {name}={number:g}: CV must be a fraction from 0 to {MAX_CV:g} "
                "(0.3 = 30 %)"
            )
        cv[name] = number
    return Variability(cv, "explicit: " + ", ".join(f"{k} {v:.0%}" for k, v in cv.items()))
