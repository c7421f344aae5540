"""Predicted exposure from the pharmacology engine, as the safety rules and planner use it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ketaclinic.errors import KetaclinicError
from ketaclinic.pharmacology import (
    HEPATIC_SCALING,
    ChildPugh,
    Dose,
    Patient,
    SimulationResult,
    simulate,
)

__all__ = ["HepaticExposure", "compare_hepatic", "peak_ng_per_ml", "predict"]


# AUC comparisons run to a week after the last dose, so that the AUC is close to AUC(0-inf)
# even when impairment lengthens the half-life (a 24-h grid would cut the longer tail).
AUC_HORIZON_MIN = 7 * 24 * 60.0
AUC_STEP_MIN = 5.0


def predict(
    model_id: str, patient: Patient, doses: Sequence[Dose], *, long_horizon: bool = False
) -> SimulationResult | str:
    """The engine's prediction (default grid, or a week past the last dose for AUC), or the
    reason it cannot make one."""
    try:
        times = None
        if long_horizon:
            end = max(d.end_min for d in doses) + AUC_HORIZON_MIN
            times = np.arange(0.0, end + AUC_STEP_MIN / 2, AUC_STEP_MIN)
        return simulate(model_id, patient, list(doses), times)
    except KetaclinicError as error:
        return str(error)


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

    child_pugh: str
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
        return HEPATIC_SCALING[ChildPugh(self.child_pugh)].basis


def compare_hepatic(
    model_id: str, patient: Patient, doses: Sequence[Dose]
) -> HepaticExposure | str:
    impaired = predict(model_id, patient, doses, long_horizon=True)
    normal = predict(model_id, patient.replace(child_pugh=ChildPugh.NONE), doses, long_horizon=True)
    if isinstance(impaired, str):
        return impaired
    if isinstance(normal, str):
        return normal
    return HepaticExposure(str(patient.child_pugh), normal, impaired)
