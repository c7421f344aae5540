"""What every catalogue model shares: units, the assumed effect site, the IV route and
the one constructor that declares a model's parameters with their sources."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketaclinic.pharmacology._doses import Route
from ketaclinic.pharmacology._models import Covariates, PKModel
from ketaclinic.pharmacology._structure import (
    RouteSpec,
    declare_parameters,
)

__all__ = [
    "ASSUMED_KE0_PER_MIN",
    "IV_ROUTE",
    "KE0_ASSUMED_SOURCE",
    "OTTO_CITATION",
    "H",
    "declare_model",
    "weight_of",
]

FloatArray = NDArray[np.float64]
H = 60.0  # min per h: published L/h -> L/min

# Effect site. No model in the catalogue was fitted with an effect compartment, so ke0 is an
# assumption: Olofsen 2012 found blood-effect-site equilibration half-times of 0-11.8 min
# (mean 6.1 min) for analgesic and cognitive endpoints of S-ketamine (Anesthesiology
# 2012;117:353-64). opentiva's ke0 values come from an assumed 1-min time to peak effect and
# are not used.
ASSUMED_T_HALF_KE0_MIN = 6.1
ASSUMED_KE0_PER_MIN = math.log(2.0) / ASSUMED_T_HALF_KE0_MIN
KE0_ASSUMED_SOURCE = (
    "ke0 assumed, not fitted with this model: ln 2 / 6.1 min = 0.114 /min from the mean "
    "equilibration half-time in Olofsen 2012 (Anesthesiology 117:353)"
)

IV_ROUTE = RouteSpec(Route.IV, True, "intravenous: the route the model was fitted to")
OTTO_CITATION = "Otto M et al. Eur J Clin Pharmacol 2021;77:1181 (DOI 10.1007/s00228-021-03104-1)"


def weight_of(cov: Covariates) -> FloatArray:
    return cov.weight_kg


def declare_model(
    *,
    iiv_cv: dict[str, float] | None = None,
    hepatic: tuple[str, ...] = ("CL",),
    sources: dict[str, str] | None = None,
    parameter_source: str | None = None,
    **fields: Any,
) -> PKModel:
    """A model whose parameters come from ``parameter_source`` (default: its source)
    unless ``sources`` names another; ke0 is always the declared assumption."""
    specs = declare_parameters(
        fields["structure"],
        parameter_source or fields["source"],
        iiv_cv=iiv_cv,
        hepatic=hepatic,
        sources={
            "ke0": KE0_ASSUMED_SOURCE,
            **(sources or {}),
        },
    )
    return PKModel(parameter_specs=specs, **fields)
