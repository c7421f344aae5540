"""Child-Pugh B in the planner: the dose factor of the protocol's hepatic basis.

``equal_auc`` multiplies every dose by AUC(no impairment) / AUC(impaired) of the standard
doses (the models are linear, AUC to a week after the last dose); ``equal_peak`` by the ratio
of the predicted peaks (effect site where modelled), for single peak-driven sessions;
``none`` keeps the doses and shows the protocol's monitoring advice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ketaclinic.pharmacology import ChildPugh, Dose, Patient, SimulationResult
from ketaclinic.protocols._dosing import PlannedDose
from ketaclinic.safety import (
    HepaticBasis,
    HepaticExposure,
    Unavailable,
    compare_hepatic,
    peak_ng_per_ml,
    predict,
)

__all__ = ["HepaticAdjustment", "hepatic_factor"]


@dataclass(frozen=True)
class HepaticAdjustment:
    """Standard doses vs the doses the protocol's hepatic basis gives for Child-Pugh B."""

    child_pugh: str
    method: HepaticBasis
    factor: float
    standard: tuple[PlannedDose, ...]
    adjusted: tuple[PlannedDose, ...]
    standard_exposure: HepaticExposure
    adjusted_prediction: SimulationResult | None
    peaks_ng_per_ml: tuple[float, float, float | None]
    peak_site: str
    basis: str
    advice: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        normal = self.standard_exposure.normal.summary.ketamine
        impaired = self.standard_exposure.impaired.summary.ketamine
        adjusted = self.adjusted_prediction.summary.ketamine if self.adjusted_prediction else None
        p_normal, p_impaired, p_adjusted = self.peaks_ng_per_ml
        return {
            "child_pugh": self.child_pugh,
            "method": str(self.method),
            "dose_factor": self.factor,
            "advice": self.advice,
            "source": self.source,
            "standard_doses": [d.to_dict() for d in self.standard],
            "adjusted_doses": [d.to_dict() for d in self.adjusted],
            "auc_ng_h_per_ml": {
                "standard_dose_no_impairment": normal.auc_ng_h_per_ml,
                "standard_dose_impaired": impaired.auc_ng_h_per_ml,
                "adjusted_dose_impaired": adjusted.auc_ng_h_per_ml if adjusted else None,
            },
            "cmax_ng_per_ml": {
                "standard_dose_no_impairment": normal.cmax_ng_per_ml,
                "standard_dose_impaired": impaired.cmax_ng_per_ml,
                "adjusted_dose_impaired": adjusted.cmax_ng_per_ml if adjusted else None,
            },
            "peak_ng_per_ml": {
                "site": self.peak_site,
                "standard_dose_no_impairment": p_normal,
                "standard_dose_impaired": p_impaired,
                "adjusted_dose_impaired": p_adjusted,
            },
            "basis": self.basis,
        }


def peaks(
    model_id: str, patient: Patient, doses: Sequence[Dose]
) -> tuple[float, float, str] | Unavailable:
    """The predicted peak (effect site where modelled) without and with the impairment."""
    impaired = predict(model_id, patient, doses)
    if isinstance(impaired, Unavailable):
        return impaired
    normal = predict(model_id, patient.replace(child_pugh=ChildPugh.NONE), doses)
    if isinstance(normal, Unavailable):
        return normal
    peak, site = peak_ng_per_ml(impaired)
    return peak_ng_per_ml(normal)[0], peak, site


def hepatic_factor(
    method: HepaticBasis, model_id: str, patient: Patient, doses: Sequence[Dose]
) -> tuple[float, HepaticExposure, tuple[float, float, str]] | Unavailable:
    """The dose factor of ``method`` for the standard ``doses``, with the exposures."""
    exposure = compare_hepatic(model_id, patient, doses)
    if isinstance(exposure, Unavailable):
        return exposure
    peak = peaks(model_id, patient, doses)
    if isinstance(peak, Unavailable):
        return peak
    if method is HepaticBasis.EQUAL_AUC:
        factor = exposure.equal_auc_dose_factor
    elif method is HepaticBasis.EQUAL_PEAK:
        factor = peak[0] / peak[1]
    else:
        factor = 1.0
    return factor, exposure, peak
