"""Validation: the catalogue models scored against published observations (issue 10).

``load_observations()`` reads the validation set shipped in ``data/observations.yaml`` (each
observation with its regimen, population, reported value and spread, source and a pass rule
fixed before any prediction was seen); ``run_validation()`` runs every applicable model on it
and returns a :class:`ValidationRun` with each prediction, its ratio to the reported value,
pass/fail and tallies per model and route; ``render_markdown()`` writes docs/validation.md
from a run (``python scripts/validation_docs.py`` regenerates the file).

Pure computation on top of ``ketaclinic.pharmacology``: no I/O except reading the package's
own data files once.
"""

from ketaclinic.validation._observations import (
    METRICS,
    PASS_RULES,
    Observation,
    ObservationSet,
    load_observations,
    parse_observations,
)
from ketaclinic.validation._report import explanations, render_markdown
from ketaclinic.validation._runner import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    Prediction,
    Tally,
    ValidationRun,
    models_for,
    run_validation,
)

__all__ = [
    "FAIL",
    "METRICS",
    "NOT_APPLICABLE",
    "PASS",
    "PASS_RULES",
    "Observation",
    "ObservationSet",
    "Prediction",
    "Tally",
    "ValidationRun",
    "explanations",
    "load_observations",
    "models_for",
    "parse_observations",
    "render_markdown",
    "run_validation",
]
