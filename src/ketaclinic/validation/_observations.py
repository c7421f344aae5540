"""The published observations of ``data/observations.yaml`` as typed, validated values.

The file's header comment defines every field; this loader checks the fields the runner reads
(metric, pass rule, reported spread, regimen, covariates) and refuses a malformed entry by its
id, so a typo in the data fails at load time and not as a silently skipped observation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from ketaclinic.errors import DataFileError

__all__ = [
    "METRICS",
    "PASS_RULES",
    "Observation",
    "ObservationSet",
    "load_observations",
]

METRICS = (
    "cmax_ng_per_ml",
    "tmax_min",
    "conc_ng_per_ml_at_min",
    "auc_0_inf_ng_h_per_ml",
    "auc_0_t_ng_h_per_ml",
    "bioavailability_fraction",
    "metabolite_ratio_auc",
    "clearance_ml_per_min_per_kg",
    "cmax_ratio_vs_reference",
    "auc_ratio_vs_reference",
)
PASS_RULES = (
    "within_2sd",
    "within_2gsd",
    "within_range",
    "within_ci95",
    "within_ci90",
    "within_30_percent",
)
DRUGS = ("racemic", "esketamine")
METABOLITES = ("norketamine", "S-norketamine")
PARENTS = ("ketamine", "S-ketamine")
ROUTES = ("iv", "im", "sc", "oral", "sublingual", "intranasal", "rectal")
_CENTRAL = ("mean", "median", "geometric_mean", "value")


@dataclass(frozen=True)
class Observation:
    """One published observation with the pass rule fixed before any prediction was seen.

    ``accepted`` is the interval the pass rule accepts (``low``, ``high``); ``central`` is
    the reported central value (mean, median, geometric mean or value; the midpoint of a
    range when only a range is reported), the denominator of the ratio predicted/reported.
    """

    id: str
    drug: str
    analyte: str
    route: str
    regimen: tuple[str, ...]
    group: str
    weight_kg: float
    age_years: float
    sex: str
    covariate_basis: str
    metric: str
    reported: Mapping[str, Any]
    pass_rule: str
    central: float
    accepted: tuple[float, float]
    citation: str
    pmid: str | None
    doi: str | None
    where: str
    fitted_by: tuple[str, ...]
    window_min: tuple[float, float] | None = None
    t_min: float | None = None
    t_end_min: float | None = None
    time_reference: str | None = None
    ethnicity: str | None = None
    reference_group: str | None = None

    @property
    def norketamine(self) -> bool:
        """True when the observed analyte is the metabolite."""
        return self.analyte in METABOLITES

    @property
    def spread_text(self) -> str:
        """The reported value and spread as the paper gives it, e.g. ``22.8 (SD 12.8)``."""
        r = self.reported
        if "sd" in r:
            return f"{r['mean']:g} (SD {r['sd']:g})"
        if "geometric_sd" in r:
            return f"{r['geometric_mean']:g} (GSD {r['geometric_sd']:g})"
        for key, label in (("ci95", "95 % CI"), ("ci90", "90 % CI"), ("range", "range")):
            if key in r:
                low, high = r[key]
                head = next((f"{r[c]:g} " for c in _CENTRAL if c in r), "")
                return f"{head}({label} {low:g}-{high:g})"
        return f"{self.central:g} (±30 %)"

    @property
    def source_text(self) -> str:
        ids = [f"PMID {self.pmid}" if self.pmid else "", f"DOI {self.doi}" if self.doi else ""]
        return "; ".join([self.citation, *(i for i in ids if i), self.where])


@dataclass(frozen=True)
class ObservationSet:
    """The validation set: its version, the observations and the not-scored list."""

    version: str
    observations: tuple[Observation, ...]
    not_scored: tuple[Mapping[str, str], ...]

    def by_id(self, observation_id: str) -> Observation:
        for obs in self.observations:
            if obs.id == observation_id:
                return obs
        raise KeyError(observation_id)


def _number(owner: str, what: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DataFileError(f"observation {owner}: {what} must be a finite number, got {value!r}")
    return float(value)


def _pair(owner: str, what: str, value: Any) -> tuple[float, float]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise DataFileError(f"observation {owner}: {what} must be [low, high], got {value!r}")
    low, high = (_number(owner, what, v) for v in value)
    if low > high:
        raise DataFileError(f"observation {owner}: {what} low {low:g} is above high {high:g}")
    return low, high


def _central(owner: str, reported: Mapping[str, Any]) -> float:
    for key in _CENTRAL:
        if key in reported:
            return _number(owner, f"reported {key}", reported[key])
    if "range" in reported:
        low, high = _pair(owner, "reported range", reported["range"])
        return (low + high) / 2.0
    raise DataFileError(
        f"observation {owner}: reported needs one of {', '.join(_CENTRAL)} or a range"
    )


def accepted_interval(owner: str, rule: str, reported: Mapping[str, Any]) -> tuple[float, float]:
    """The interval ``rule`` accepts for ``reported`` (the header of observations.yaml)."""
    if rule == "within_2sd":
        mean = _number(owner, "reported mean", reported.get("mean"))
        sd = _number(owner, "reported sd", reported.get("sd"))
        return max(mean - 2.0 * sd, 0.0), mean + 2.0 * sd
    if rule == "within_2gsd":
        gm = _number(owner, "reported geometric_mean", reported.get("geometric_mean"))
        gsd = _number(owner, "reported geometric_sd", reported.get("geometric_sd"))
        return gm / gsd**2, gm * gsd**2
    if rule == "within_range":
        return _pair(owner, "reported range", reported.get("range"))
    if rule in ("within_ci95", "within_ci90"):
        key = rule.removeprefix("within_")
        return _pair(owner, f"reported {key}", reported.get(key))
    if rule == "within_30_percent":
        value = _central(owner, reported)
        return 0.7 * value, 1.3 * value
    raise DataFileError(
        f"observation {owner}: pass_rule {rule!r} is unknown; accepted: {', '.join(PASS_RULES)}"
    )


def _choice(owner: str, what: str, value: Any, accepted: Sequence[str]) -> str:
    if value not in accepted:
        raise DataFileError(
            f"observation {owner}: {what} {value!r} is unknown; accepted: {', '.join(accepted)}"
        )
    return str(value)


def _observation(raw: Mapping[str, Any]) -> Observation:
    owner = str(raw.get("id") or "<no id>")
    drug = _choice(owner, "drug", raw.get("drug"), DRUGS)
    analyte = _choice(owner, "analyte", raw.get("analyte"), (*PARENTS, *METABOLITES))
    route = _choice(owner, "route", raw.get("route"), ROUTES)
    metric = _choice(owner, "metric", raw.get("metric"), METRICS)
    rule = _choice(owner, "pass_rule", raw.get("pass_rule"), PASS_RULES)
    regimen = raw.get("regimen")
    doses = (regimen,) if isinstance(regimen, str) else tuple(regimen or ())
    if not doses or not all(isinstance(d, str) for d in doses):
        raise DataFileError(f"observation {owner}: regimen must be a dose or a list of doses")
    reported = raw.get("reported")
    if not isinstance(reported, Mapping):
        raise DataFileError(f"observation {owner}: reported must be a mapping")
    sim = raw.get("simulate_with") or {}
    source = raw.get("source") or {}
    window = raw.get("window_min")
    needs = {"conc_ng_per_ml_at_min": "t_min", "auc_0_t_ng_h_per_ml": "t_end_min"}
    if metric in needs and raw.get(needs[metric]) is None:
        raise DataFileError(f"observation {owner}: metric {metric} needs {needs[metric]}")
    return Observation(
        id=owner,
        drug=drug,
        analyte=analyte,
        route=route,
        regimen=doses,
        group=str((raw.get("population") or {}).get("group", "")),
        weight_kg=_number(owner, "simulate_with weight_kg", sim.get("weight_kg")),
        age_years=_number(owner, "simulate_with age_years", sim.get("age_years")),
        sex=str(sim.get("sex", "male")),
        covariate_basis=str(sim.get("basis", "")),
        metric=metric,
        reported=dict(reported),
        pass_rule=rule,
        central=_central(owner, reported),
        accepted=accepted_interval(owner, rule, reported),
        citation=str(source.get("citation", "")),
        pmid=None if source.get("pmid") is None else str(source["pmid"]),
        doi=None if source.get("doi") is None else str(source["doi"]),
        where=str(source.get("where", "")),
        fitted_by=tuple(str(m) for m in raw.get("fitted_by") or ()),
        window_min=None if window is None else _pair(owner, "window_min", window),
        t_min=None if raw.get("t_min") is None else _number(owner, "t_min", raw["t_min"]),
        t_end_min=None
        if raw.get("t_end_min") is None
        else _number(owner, "t_end_min", raw["t_end_min"]),
        time_reference=raw.get("time_reference"),
        ethnicity=raw.get("ethnicity"),
        reference_group=raw.get("reference_group"),
    )


def parse_observations(data: Mapping[str, Any]) -> ObservationSet:
    """An :class:`ObservationSet` from the parsed YAML document (ids must be unique)."""
    raws = data.get("observations")
    if not isinstance(raws, list) or not raws:
        raise DataFileError("observations.yaml: 'observations' must be a non-empty list")
    observations = tuple(_observation(raw) for raw in raws)
    ids = [o.id for o in observations]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise DataFileError(f"observations.yaml: ids repeat: {', '.join(repeated)}")
    return ObservationSet(
        version=str(data.get("version", "")),
        observations=observations,
        not_scored=tuple(dict(n) for n in data.get("not_scored") or ()),
    )


@cache
def load_observations() -> ObservationSet:
    """The validation set shipped with ketaclinic (read once)."""
    text = (
        resources.files("ketaclinic.validation")
        .joinpath("data/observations.yaml")
        .read_text(encoding="utf-8")
    )
    return parse_observations(yaml.safe_load(text))
