"""Pharmacology engine: published ketamine/norketamine PK models, every route, exactly.

Pure NumPy: no I/O, no clock, no thread pool or cluster of its own (populations run on an
injected :class:`Executor`; ``ketaclinic.compute`` has them). The public names are listed in
``__all__``; everything in the ``_modules`` is private and may change.

Populations (``simulate_population`` and its companions) and the effect bands are imported on
first use. Inside, by concept: models (``_structure``, ``_models``; the catalogue in
``_catalogue`` (racemic), ``_catalogue_esketamine`` and ``_catalogue_base``), regimen
(``_doses``, ``_regimen``), solver (``_system``, ``_solver``, ``_expm``), one patient
(``_simulate``, ``_metrics``), populations (``_sampling``, ``_variability``,
``_population``, ``_population_job``, ``_population_result``) and their kernels (``_grid``,
``_grid_compiled``, ``_closed_form``, ``_order_statistics``, compiled by Numba on first use
or by :func:`warm_up`).
"""

import typing as _typing

from ketaclinic.pharmacology._catalogue import (
    ASSUMED_KE0_PER_MIN,
    MODELS,
    RACEMIC_ROUTE_EXTENSIONS,
    get_model,
)
from ketaclinic.pharmacology._dose_grammar import (
    DOSE_GRAMMAR_HELP,
    parse_dose,
    parse_doses,
    parse_duration_min,
    parse_time,
)
from ketaclinic.pharmacology._doses import (
    Dose,
    DoseUnit,
    Route,
    TimeUnit,
    expand_doses,
    plain_number,
    route_of,
)
from ketaclinic.pharmacology._drug import Drug
from ketaclinic.pharmacology._metrics import (
    SpeciesSummary,
    Summary,
    grid_maximum,
    interval_label,
    minutes_above,
)
from ketaclinic.pharmacology._models import (
    HEPATIC_SCALING,
    Covariates,
    HepaticScaling,
    PKModel,
    covariates_of,
)
from ketaclinic.pharmacology._patient import ChildPugh, Ethnicity, Patient, Sex
from ketaclinic.pharmacology._regimen import (
    default_horizon_min,
    default_times_min,
    regimen_inputs,
    regimen_system,
)
from ketaclinic.pharmacology._simulate import SimulationResult, simulate
from ketaclinic.pharmacology._solver import Input, Modes, Solution, decompose, solve
from ketaclinic.pharmacology._structure import (
    AbsorptionPath,
    Metabolite,
    ParameterSpec,
    RouteSpec,
    Structure,
    declare_parameters,
)
from ketaclinic.pharmacology._system import (
    NORKETAMINE_PER_KETAMINE_MG,
    LinearSystem,
    build_system,
)

if _typing.TYPE_CHECKING:
    from ketaclinic.pharmacology._effects import (
        CONCENTRATION_BANDS,
        EFFECT_BANDS,
        ConcentrationBand,
        bands_for,
    )
    from ketaclinic.pharmacology._executor import Executor
    from ketaclinic.pharmacology._population import simulate_population
    from ketaclinic.pharmacology._population_result import (
        PERCENTILES,
        Exceedance,
        PopulationMetrics,
        PopulationResult,
    )
    from ketaclinic.pharmacology._sampling import NAMED_POPULATIONS, population_spec
    from ketaclinic.pharmacology._variability import DEFAULT_CV, Variability, parse_variability
    from ketaclinic.pharmacology._warm_up import warm_up

# Loaded on first use: the single-patient path (``ketaclinic simulate``) never pays for
# importing populations or the effect bands.
_LAZY = {
    "CONCENTRATION_BANDS": "_effects",
    "ConcentrationBand": "_effects",
    "EFFECT_BANDS": "_effects",
    "bands_for": "_effects",
    "Executor": "_executor",
    "simulate_population": "_population",
    "PERCENTILES": "_population_result",
    "Exceedance": "_population_result",
    "PopulationMetrics": "_population_result",
    "PopulationResult": "_population_result",
    "NAMED_POPULATIONS": "_sampling",
    "population_spec": "_sampling",
    "DEFAULT_CV": "_variability",
    "Variability": "_variability",
    "parse_variability": "_variability",
    "warm_up": "_warm_up",
}


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "ASSUMED_KE0_PER_MIN",
    "CONCENTRATION_BANDS",
    "DEFAULT_CV",
    "DOSE_GRAMMAR_HELP",
    "EFFECT_BANDS",
    "HEPATIC_SCALING",
    "MODELS",
    "NAMED_POPULATIONS",
    "NORKETAMINE_PER_KETAMINE_MG",
    "PERCENTILES",
    "RACEMIC_ROUTE_EXTENSIONS",
    "AbsorptionPath",
    "ChildPugh",
    "ConcentrationBand",
    "Covariates",
    "Dose",
    "DoseUnit",
    "Drug",
    "Ethnicity",
    "Exceedance",
    "Executor",
    "HepaticScaling",
    "Input",
    "LinearSystem",
    "Metabolite",
    "Modes",
    "PKModel",
    "ParameterSpec",
    "Patient",
    "PopulationMetrics",
    "PopulationResult",
    "Route",
    "RouteSpec",
    "Sex",
    "SimulationResult",
    "Solution",
    "SpeciesSummary",
    "Structure",
    "Summary",
    "TimeUnit",
    "Variability",
    "bands_for",
    "build_system",
    "covariates_of",
    "declare_parameters",
    "decompose",
    "default_horizon_min",
    "default_times_min",
    "expand_doses",
    "get_model",
    "grid_maximum",
    "interval_label",
    "minutes_above",
    "parse_dose",
    "parse_doses",
    "parse_duration_min",
    "parse_time",
    "parse_variability",
    "plain_number",
    "population_spec",
    "regimen_inputs",
    "regimen_system",
    "route_of",
    "simulate",
    "simulate_population",
    "solve",
    "warm_up",
]
