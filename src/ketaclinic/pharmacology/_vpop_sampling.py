"""Virtual patients: covariate populations and inter-individual variability (pure).

Random numbers come from a stream per fixed block of patients (``BLOCK_SIZE``), seeded with
``SeedSequence(seed, spawn_key=(block,))``: patient ``i`` gets the same covariates and random
effects whatever the chunk size or backend, because chunks are made of whole blocks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology._models import Covariates, PKModel
from ketaclinic.ranges import AGE_YEARS, HEIGHT_CM, WEIGHT_KG

__all__ = [
    "BLOCK_SIZE",
    "DEFAULT_CV",
    "NAMED_POPULATIONS",
    "Variability",
    "block_rng",
    "parse_variability",
    "population_spec",
    "sample_covariates",
]

BLOCK_SIZE = 1024
FloatArray = NDArray[np.float64]

# Used when a model has no published IIV: a declared assumption, named in every output.
DEFAULT_CV = 0.30
_STRUCTURAL = ("CL", "V1", "V2", "V3", "Q2", "Q3")
_CHILD_PUGH = ("none", "A", "B", "C")


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The random stream of one block of ``BLOCK_SIZE`` patients."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))


# --- covariate populations -------------------------------------------------------------------

# NHANES 2015-2018 adults (CDC, Fryar et al., Vital Health Stat 3(46), 2021): mean weight
# men 90.6 kg, women 77.5 kg; mean height men 175.3 cm, women 161.3 cm. The spread (CV 22 %
# log-normal weight, SD 7 cm height) and the uniform 18-80 year age range are assumptions.
_ADULTS: dict[str, Any] = {
    "female_fraction": 0.5,
    "weight_kg": {
        "male": {"distribution": "lognormal", "median": 88.5, "cv": 0.22},
        "female": {"distribution": "lognormal", "median": 75.0, "cv": 0.24},
        "min": 40.0,
        "max": 200.0,
    },
    "height_cm": {
        "male": {"distribution": "normal", "mean": 175.3, "sd": 7.0},
        "female": {"distribution": "normal", "mean": 161.3, "sd": 7.0},
        "min": 140.0,
        "max": 210.0,
    },
    "age_years": {"distribution": "uniform", "low": 18.0, "high": 80.0},
    "child_pugh": {"none": 1.0},
    "source": "NHANES 2015-2018 anthropometric means (Fryar 2021); spreads and ages assumed",
}

# Children 1-14 years (the Herd 2007 range). Weight from the APLS estimate (age + 4) x 2 kg
# with a 15 % log-normal spread; height 77 + 6 x age cm: rough approximations, labelled so.
_CHILDREN: dict[str, Any] = {
    "female_fraction": 0.5,
    "age_years": {"distribution": "uniform", "low": 1.0, "high": 14.0},
    "weight_kg": {"apls": True, "cv": 0.15, "min": 8.0, "max": 80.0},
    "height_cm": {"from_age": True},
    "child_pugh": {"none": 1.0},
    "source": "ages 1-14 uniform; weight (age + 4) x 2 kg (APLS), 15 % spread: approximations",
}

# Illustrative hepatic-impairment mix (not epidemiology): lets a clinic see how impairment
# shifts the exposure distribution. An assumption, named in the output.
_HEPATIC_MIX: dict[str, Any] = {
    **_ADULTS,
    "child_pugh": {"none": 0.70, "A": 0.15, "B": 0.10, "C": 0.05},
    "source": "adults (NHANES means) with an illustrative Child-Pugh mix 70/15/10/5 % "
    "(none/A/B/C): an assumption, not epidemiology",
}

NAMED_POPULATIONS: dict[str, dict[str, Any]] = {
    "adults": _ADULTS,
    "children": _CHILDREN,
    "hepatic-mix": _HEPATIC_MIX,
}


def population_spec(
    population: str | Mapping[str, Any], child_pugh_mix: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """A validated population description from a name or a parsed YAML/JSON mapping."""
    if isinstance(population, str):
        key = population.strip().lower()
        if key not in NAMED_POPULATIONS:
            raise UserInputError(
                f"unknown population {population!r}; accepted: {', '.join(NAMED_POPULATIONS)} "
                "or a YAML file"
            )
        spec = dict(NAMED_POPULATIONS[key])
    elif isinstance(population, Mapping):
        spec = {**_ADULTS, "source": "user description", **dict(population)}
    else:
        raise UserInputError("population must be a name or a mapping")
    if child_pugh_mix is not None:
        spec["child_pugh"] = dict(child_pugh_mix)
    _check_mix(spec.get("child_pugh", {"none": 1.0}))
    frac = spec.get("female_fraction", 0.5)
    if not isinstance(frac, int | float) or not 0.0 <= float(frac) <= 1.0:
        raise UserInputError(f"female_fraction {frac!r} must be a number from 0 to 1")
    return spec


def _check_mix(mix: Any) -> None:
    if not isinstance(mix, Mapping) or not mix:
        raise UserInputError("child_pugh mix must map classes (none, A, B, C) to fractions")
    for cls, frac in mix.items():
        if str(cls) not in _CHILD_PUGH:
            raise UserInputError(
                f"Child-Pugh class {cls!r} is not accepted; accepted: {', '.join(_CHILD_PUGH)}"
            )
        if not isinstance(frac, int | float) or frac < 0:
            raise UserInputError(f"Child-Pugh fraction for {cls} must be a number >= 0")
    total = float(sum(mix.values()))
    if abs(total - 1.0) > 1e-6:
        raise UserInputError(f"Child-Pugh fractions must add up to 1, got {total:g}")


def _draw(rng: np.random.Generator, dist: Any, n: int, what: str) -> FloatArray:
    if isinstance(dist, int | float):
        return np.full(n, float(dist))
    if not isinstance(dist, Mapping):
        raise UserInputError(f"{what}: give a number or a distribution mapping")
    kind = dist.get("distribution")
    try:
        if kind == "lognormal":
            sigma = float(np.sqrt(np.log1p(float(dist["cv"]) ** 2)))
            return float(dist["median"]) * np.exp(sigma * rng.standard_normal(n))
        if kind == "normal":
            return float(dist["mean"]) + float(dist["sd"]) * rng.standard_normal(n)
        if kind == "uniform":
            return rng.uniform(float(dist["low"]), float(dist["high"]), n)
    except KeyError as exc:
        raise UserInputError(f"{what}: the {kind} distribution needs {exc.args[0]!r}") from None
    raise UserInputError(
        f"{what}: distribution {kind!r} is not accepted; accepted: lognormal (median, cv), "
        "normal (mean, sd), uniform (low, high)"
    )


def _by_sex(
    rng: np.random.Generator, spec: Any, female: NDArray[np.bool_], what: str
) -> FloatArray:
    n = female.size
    if isinstance(spec, Mapping) and "male" in spec and "female" in spec:
        male_v, female_v = _draw(rng, spec["male"], n, what), _draw(rng, spec["female"], n, what)
        values = np.where(female, female_v, male_v)
    else:
        values = _draw(rng, spec, n, what)
    if isinstance(spec, Mapping):
        values = np.clip(values, float(spec.get("min", -np.inf)), float(spec.get("max", np.inf)))
    return np.asarray(values, dtype=float)


def sample_covariates(spec: Mapping[str, Any], rng: np.random.Generator, n: int) -> Covariates:
    """Covariates of ``n`` patients drawn from ``spec`` (always in the same order)."""
    female = rng.random(n) < float(spec.get("female_fraction", 0.5))
    age = np.clip(_draw(rng, spec["age_years"], n, "age_years"), AGE_YEARS.low, AGE_YEARS.high)
    weight_spec = spec["weight_kg"]
    if isinstance(weight_spec, Mapping) and weight_spec.get("apls"):
        sigma = float(np.sqrt(np.log1p(float(weight_spec.get("cv", 0.15)) ** 2)))
        weight = (age + 4.0) * 2.0 * np.exp(sigma * rng.standard_normal(n))
        weight = np.clip(
            weight, float(weight_spec.get("min", 2)), float(weight_spec.get("max", 300))
        )
    else:
        weight = _by_sex(rng, weight_spec, female, "weight_kg")
    height_spec = spec.get("height_cm", 170.0)
    if isinstance(height_spec, Mapping) and height_spec.get("from_age"):
        height = 77.0 + 6.0 * age
    else:
        height = _by_sex(rng, height_spec, female, "height_cm")
    if np.any(weight < WEIGHT_KG.low) or np.any(weight > WEIGHT_KG.high):
        raise UserInputError(f"sampled weights leave the accepted range {WEIGHT_KG.describe()}")
    height = np.clip(height, HEIGHT_CM.low, HEIGHT_CM.high)
    mix = spec.get("child_pugh", {"none": 1.0})
    classes = list(mix)
    cum = np.cumsum([float(mix[c]) for c in classes])
    cls_index = np.searchsorted(cum / cum[-1], rng.random(n), side="right")
    child_pugh = np.array(classes, dtype=str)[np.minimum(cls_index, len(classes) - 1)]
    return Covariates(weight, age, female, height, child_pugh)


# --- inter-individual variability ------------------------------------------------------------


@dataclass(frozen=True)
class Variability:
    """Log-normal random effects: ``param_i = typical_i * exp(eta_i)``, ``eta ~ N(0, omega^2)``.

    ``cv`` is by parameter name (CL, V1, V2, V3, Q2, Q3, ke0, ka, F, or a model-specific
    name); ``ka``/``F`` apply to every route's ``ka_<route>``/``F_<route>``. F is capped at 1.
    """

    cv: Mapping[str, float] = field(default_factory=dict)
    basis: str = ""
    assumed: bool = False

    def omega(self) -> dict[str, float]:
        return {k: float(np.sqrt(np.log1p(v * v))) for k, v in sorted(self.cv.items())}

    def apply(self, params: dict[str, FloatArray], rng: np.random.Generator) -> None:
        """Multiply ``params`` in place by ``exp(eta)``; draws one normal per name in order."""
        n = next(iter(params.values())).shape[0]
        for name, omega in self.omega().items():
            eta = omega * rng.standard_normal(n)
            keys = [k for k in params if k == name or k.startswith(f"{name}_")]
            if name in ("ka", "F"):
                keys = [k for k in params if k.startswith(f"{name}_")]
            for key in keys:
                params[key] = params[key] * np.exp(eta)
                if key.startswith("F_"):
                    params[key] = np.minimum(params[key], 1.0)


def parse_variability(variability: Any, model: PKModel) -> Variability:
    """``"default"`` (published IIV, or a declared 30 % CV assumption), ``"none"``, a mapping
    or a string ``"CL=0.3,V1=0.3"`` of CVs (fractions, not percent)."""
    if variability is None or (isinstance(variability, str) and variability == "default"):
        if model.iiv_cv:
            return Variability(dict(model.iiv_cv), f"published: {model.iiv_source}", False)
        probe = model.typical(
            Covariates(
                np.array([70.0]),
                np.array([40.0]),
                np.array([False]),
                np.array([170.0]),
                np.array(["none"]),
            )
        )
        assumed = {k: DEFAULT_CV for k in _STRUCTURAL if k in probe}
        return Variability(
            assumed,
            f"ASSUMPTION: {model.name} has no published IIV here; {DEFAULT_CV:.0%} CV on "
            + ", ".join(assumed),
            True,
        )
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
        if not 0.0 <= number <= 3.0:
            raise UserInputError(
                f"variability {name}={number:g}: CV must be a fraction from 0 to 3 (0.3 = 30 %)"
            )
        cv[name] = number
    return Variability(cv, "explicit: " + ", ".join(f"{k} {v:.0%}" for k, v in cv.items()))
