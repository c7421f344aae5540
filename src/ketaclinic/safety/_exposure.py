"""Predicted exposure from the pharmacology engine, as the safety rules and planner use it.

Bad input (a dose outside the accepted range, an unknown model) raises
:class:`~ketaclinic.errors.UserInputError` as everywhere else; a prediction the model cannot
make (a route it does not have, a system it cannot solve) is an :class:`Unavailable` value with
a code and a reason, which the rules turn into a finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ketaclinic.errors import ModelError, NumericalError
from ketaclinic.pharmacology import (
    HEPATIC_SCALING,
    ChildPugh,
    Dose,
    Patient,
    SimulationResult,
    expand_doses,
    simulate,
)
from ketaclinic.ranges import DOSE_MG

__all__ = [
    "HepaticExposure",
    "Unavailable",
    "compare_hepatic",
    "peak_ng_per_ml",
    "predict",
]


# AUC comparisons run to a week after the last dose, so that the AUC is close to AUC(0-inf)
# even when impairment lengthens the half-life (a 24-h grid would cut the longer tail).
AUC_HORIZON_MIN = 7 * 24 * 60.0
AUC_STEP_MIN = 5.0


@dataclass(frozen=True)
class Unavailable:
    """A result that could not be computed for this model: ``code`` (``model.<kind>``) and
    the reason in words. Not an error of the input: the caller shows it as a finding."""

    code: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"available": False, "code": self.code, "reason": self.reason}


def _unavailable(error: ModelError | NumericalError) -> Unavailable:
    kind = "numerical" if isinstance(error, NumericalError) else "not_supported"
    return Unavailable(f"model.{kind}", str(error))


def predict(
    model_id: str, patient: Patient, doses: Sequence[Dose], *, long_horizon: bool = False
) -> SimulationResult | Unavailable:
    """The engine's prediction (default grid, or a week past the last dose for AUC), or why
    the model cannot make it (including a dose beyond what the engine accepts: such an order
    is stopped by the dose limits, and its prediction is not needed)."""
    for dose in expand_doses(doses):
        mg = dose.amount_mg(patient.weight_kg)
        if not DOSE_MG.contains(mg):
            return Unavailable(
                "dose.out_of_range",
                f"{dose} is {mg:.0f} mg, beyond the {DOSE_MG.describe()} the engine simulates",
            )
    times = None
    if long_horizon:
        end = max(d.end_min for d in doses) + AUC_HORIZON_MIN
        times = np.arange(0.0, end + AUC_STEP_MIN / 2, AUC_STEP_MIN)
    try:
        return simulate(model_id, patient, list(doses), times)
    except (ModelError, NumericalError) as error:
        return _unavailable(error)


def peak_ng_per_ml(result: SimulationResult) -> tuple[float, str]:
    """The concentration ceilings are compared with: effect site where modelled, else plasma.

    After an IV bolus a compartment model puts the whole dose into V1 at once, so the plasma
    peak at t = 0 is an instantaneous-mixing artefact (0.35 mg/kg with Kamp 2020: 980 ng/mL).
    Dissociation and anaesthesia follow the effect-site concentration.
    """
    site = result.summary.effect_site
    if site is not None:
        return site.cmax_ng_per_ml, "effect-site"
    return result.summary.ketamine.cmax_ng_per_ml, "plasma"


@dataclass(frozen=True)
class HepaticExposure:
    """The same doses with and without hepatic impairment, and the equal-AUC dose factor."""

    child_pugh: ChildPugh
    normal: SimulationResult
    impaired: SimulationResult

    @property
    def auc_ratio(self) -> float:
        return (
            self.impaired.summary.ketamine.auc_ng_h_per_ml
            / self.normal.summary.ketamine.auc_ng_h_per_ml
        )

    @property
    def equal_auc_dose_factor(self) -> float:
        """Multiply every dose by this for the AUC of a patient without impairment (the
        models are linear, so AUC scales with dose)."""
        return 1.0 / self.auc_ratio

    @property
    def basis(self) -> str:
        """The declared clearance-scaling assumption behind the impaired prediction."""
        return HEPATIC_SCALING[self.child_pugh].basis


def compare_hepatic(
    model_id: str, patient: Patient, doses: Sequence[Dose]
) -> HepaticExposure | Unavailable:
    """The patient's exposure with their Child-Pugh class and without impairment."""
    impaired = predict(model_id, patient, doses, long_horizon=True)
    if isinstance(impaired, Unavailable):
        return impaired
    normal = predict(model_id, patient.replace(child_pugh=ChildPugh.NONE), doses, long_horizon=True)
    if isinstance(normal, Unavailable):
        return normal
    return HepaticExposure(ChildPugh(patient.child_pugh), normal, impaired)
