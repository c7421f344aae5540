"""Pharmacology engine: published ketamine/norketamine PK models, every route, exactly.

Pure NumPy: no I/O, no clock. The public names are listed in ``__all__``; everything in the
``_modules`` is private and may change.
"""

from ketaclinic.pharmacology._catalogue import (
    ASSUMED_KE0_PER_MIN,
    MODELS,
    RACEMIC_ROUTE_EXTENSIONS,
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
from ketaclinic.pharmacology._effects import CONCENTRATION_BANDS, ConcentrationBand
from ketaclinic.pharmacology._metrics import SpeciesSummary, Summary, grid_maximum, minutes_above
from ketaclinic.pharmacology._models import (
    HEPATIC_SCALING,
    Covariates,
    HepaticScaling,
    PKModel,
    RouteSpec,
    covariates_of,
)
from ketaclinic.pharmacology._patient import ChildPugh, Patient, Sex
from ketaclinic.pharmacology._simulate import (
    SimulationResult,
    default_times_min,
    get_model,
    regimen_inputs,
    regimen_system,
    simulate,
)
from ketaclinic.pharmacology._solver import Input, Modes, Solution, decompose, solve
from ketaclinic.pharmacology._system import (
    NORKETAMINE_PER_KETAMINE_MG,
    LinearSystem,
    build_system,
)
from ketaclinic.pharmacology._vpop import (
    PERCENTILES,
    Exceedance,
    PopulationMetrics,
    PopulationResult,
    simulate_population,
)
from ketaclinic.pharmacology._vpop_sampling import (
    DEFAULT_CV,
    NAMED_POPULATIONS,
    Variability,
    parse_variability,
    population_spec,
)

__all__ = [
    "ASSUMED_KE0_PER_MIN",
    "CONCENTRATION_BANDS",
    "DEFAULT_CV",
    "DOSE_GRAMMAR_HELP",
    "HEPATIC_SCALING",
    "MODELS",
    "NAMED_POPULATIONS",
    "NORKETAMINE_PER_KETAMINE_MG",
    "PERCENTILES",
    "RACEMIC_ROUTE_EXTENSIONS",
    "ChildPugh",
    "ConcentrationBand",
    "Covariates",
    "Dose",
    "DoseUnit",
    "Drug",
    "Exceedance",
    "HepaticScaling",
    "Input",
    "LinearSystem",
    "Modes",
    "PKModel",
    "Patient",
    "PopulationMetrics",
    "PopulationResult",
    "Route",
    "RouteSpec",
    "Sex",
    "SimulationResult",
    "Solution",
    "SpeciesSummary",
    "Summary",
    "TimeUnit",
    "Variability",
    "build_system",
    "covariates_of",
    "decompose",
    "default_times_min",
    "expand_doses",
    "get_model",
    "grid_maximum",
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
]
