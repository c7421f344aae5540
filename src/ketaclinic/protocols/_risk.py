"""Population risk of a planned regimen: how many similar patients exceed each ceiling?

"Similar patients" share the patient's covariates (weight, age, sex, height, Child-Pugh) and
differ by the model's published inter-individual variability (or the named 30 % CV
assumption where a model has none): ``n`` virtual patients from a fixed seed, compared at
the same site as the safety engine's ceilings (effect site where modelled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ketaclinic.errors import ModelError, NumericalError
from ketaclinic.pharmacology import Dose, Patient, Sex, simulate_population
from ketaclinic.safety import Unavailable

__all__ = ["CeilingRisk", "PopulationRisk", "population_risk"]

RISK_PATIENTS = 10_000
RISK_SEED = 1


@dataclass(frozen=True)
class CeilingRisk:
    threshold_ng_per_ml: float
    kind: str
    probability: float
    ci95_low: float
    ci95_high: float

    def sentence(self, site: str) -> str:
        return (
            f"{self.probability:.2%} ({self.ci95_low:.2%}-{self.ci95_high:.2%}) of similar "
            f"patients exceed {self.threshold_ng_per_ml:g} ng/mL ({site}, {self.kind} ceiling)"
        )


@dataclass(frozen=True)
class PopulationRisk:
    model_id: str
    n: int
    seed: int
    site: str
    ceilings: tuple[CeilingRisk, ...]
    variability: str

    def sentences(self) -> list[str]:
        return [c.sentence(self.site) for c in self.ceilings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "available": True,
            "model": self.model_id,
            "n": self.n,
            "seed": self.seed,
            "site": self.site,
            "variability": self.variability,
            "ceilings": [
                {
                    "threshold_ng_per_ml": c.threshold_ng_per_ml,
                    "kind": c.kind,
                    "probability": c.probability,
                    "ci95_low": c.ci95_low,
                    "ci95_high": c.ci95_high,
                }
                for c in self.ceilings
            ],
            "sentences": self.sentences(),
        }


def population_risk(
    model_id: str,
    patient: Patient,
    doses: Sequence[Dose],
    ceilings: Sequence[tuple[float, str]],
    n: int = RISK_PATIENTS,
    seed: int = RISK_SEED,
) -> PopulationRisk | Unavailable:
    """Exceedance of each ``(ceiling ng/mL, kind)`` among ``n`` similar virtual patients, or
    why the model cannot estimate it (bad input raises, as everywhere)."""
    covariates = {
        "female_fraction": 1.0 if patient.sex == Sex.FEMALE else 0.0,
        "weight_kg": patient.weight_kg,
        "age_years": patient.age_years,
        "height_cm": patient.height_cm,
        "child_pugh": {str(patient.child_pugh): 1.0},
        "source": "the patient's own covariates",
    }
    thresholds = sorted({c for c, _ in ceilings})
    last = max(d.end_min for d in doses)
    try:
        result = simulate_population(
            model_id,
            list(doses),
            n,
            seed,
            covariates=covariates,
            horizon_min=max(1440.0, last + 720.0),
            thresholds_ng_per_ml=thresholds,
            effect_site=True,
        )
    except (ModelError, NumericalError) as error:
        kind = "numerical" if isinstance(error, NumericalError) else "not_supported"
        return Unavailable(f"model.{kind}", str(error))
    metrics, site = (
        (result.effect_site, "effect site")
        if result.effect_site is not None
        else (result.ketamine, "plasma")
    )
    probabilities = metrics.probability_above()
    return PopulationRisk(
        model_id=model_id,
        n=n,
        seed=seed,
        site=site,
        ceilings=tuple(
            CeilingRisk(
                c, kind, probabilities[c].probability, probabilities[c].low, probabilities[c].high
            )
            for c, kind in sorted(ceilings)
        ),
        variability=result.variability.basis,
    )
