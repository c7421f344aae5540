"""Body size for weight-based dosing: BMI, ideal and adjusted body weight, the dosing weight.

A weight-based protocol declares its weight basis (:class:`WeightBasis`): actual, ideal or
adjusted body weight from a stated BMI. Below that BMI, in children (adult formulas do not
apply) and when no height was recorded (no BMI can be computed) the dosing weight is the
actual weight, and :class:`DosingWeight` says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaclinic.pharmacology import Sex
from ketaclinic.safety._inputs import PatientContext
from ketaclinic.safety._profile import WeightBasis, WeightScalar

__all__ = [
    "ADJUSTED_WEIGHT_SOURCE",
    "ADULT_AGE_YEARS",
    "BMI_SOURCE",
    "IDEAL_WEIGHT_SOURCE",
    "DosingWeight",
    "adjusted_body_weight_kg",
    "bmi_kg_per_m2",
    "dosing_weight",
    "ideal_body_weight_kg",
]

IDEAL_WEIGHT_SOURCE = (
    "Devine BJ. Gentamicin therapy. Drug Intell Clin Pharm 1974;8:650-655: ideal body weight "
    "50 kg (men) or 45.5 kg (women) + 2.3 kg per inch of height over 5 feet"
)
ADJUSTED_WEIGHT_CORRECTION = 0.4
ADJUSTED_WEIGHT_SOURCE = (
    "adjusted body weight = ideal + 0.4 x (actual - ideal): the 0.4 correction factor of "
    "Traynor 1995 (Antimicrob Agents Chemother 39:545; VERIFY), used for lipophilic "
    "anaesthetics in obesity"
)
BMI_SOURCE = "WHO: obesity is a BMI of 30 kg/m2 or more (WHO Technical Report Series 894, 2000)"
ADULT_AGE_YEARS = 18.0  # adult BMI cut-offs and the Devine formula are for adults
CM_PER_INCH = 2.54


def bmi_kg_per_m2(weight_kg: float, height_cm: float) -> float:
    """Body-mass index.

    >>> round(bmi_kg_per_m2(120, 175), 1)
    39.2
    """
    metres = height_cm / 100.0
    return weight_kg / (metres * metres)


def ideal_body_weight_kg(height_cm: float, sex: Sex) -> float:
    """Ideal body weight by the Devine formula.

    >>> round(ideal_body_weight_kg(175, Sex.MALE), 1)
    70.5
    >>> round(ideal_body_weight_kg(165, Sex.FEMALE), 1)
    56.9
    """
    base = 50.0 if sex is Sex.MALE else 45.5
    return base + 2.3 * (height_cm / CM_PER_INCH - 60.0)


def adjusted_body_weight_kg(weight_kg: float, ideal_kg: float) -> float:
    """Ideal + 0.4 x (actual - ideal), never above the actual weight.

    >>> round(adjusted_body_weight_kg(120, 70.5), 1)
    90.3
    """
    if weight_kg <= ideal_kg:
        return weight_kg
    return ideal_kg + ADJUSTED_WEIGHT_CORRECTION * (weight_kg - ideal_kg)


@dataclass(frozen=True)
class DosingWeight:
    """The weight a per-kg dose is multiplied by, which scalar gave it, and why."""

    weight_kg: float
    scalar: WeightScalar
    bmi_kg_per_m2: float | None
    ideal_kg: float | None
    explanation: str

    @property
    def is_actual(self) -> bool:
        return self.scalar is WeightScalar.ACTUAL


def _kg(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def dosing_weight(patient: PatientContext, basis: WeightBasis | None) -> DosingWeight:
    """The dosing weight of ``patient`` under ``basis`` (None: actual weight)."""
    actual = patient.weight_kg
    if basis is None:
        return DosingWeight(actual, WeightScalar.ACTUAL, None, None, "actual body weight")
    if patient.age_years < ADULT_AGE_YEARS:
        return DosingWeight(
            actual,
            WeightScalar.ACTUAL,
            None,
            None,
            f"actual body weight: adult BMI cut-offs and ideal-weight formulas do not apply at "
            f"age {patient.age_years:g}",
        )
    if not patient.height_recorded:
        return DosingWeight(
            actual,
            WeightScalar.ACTUAL,
            None,
            None,
            "actual body weight: no height recorded, so BMI and ideal weight are unknown",
        )
    height = patient.covariates.height_cm
    bmi = bmi_kg_per_m2(actual, height)
    ideal = ideal_body_weight_kg(height, patient.sex)
    if basis.scalar is WeightScalar.ACTUAL or bmi < basis.above_bmi_kg_per_m2:
        why = (
            "the protocol doses on actual body weight"
            if basis.scalar is WeightScalar.ACTUAL
            else f"BMI {bmi:.1f} kg/m2 is below {basis.above_bmi_kg_per_m2:g} kg/m2"
        )
        return DosingWeight(actual, WeightScalar.ACTUAL, bmi, ideal, f"actual body weight ({why})")
    if basis.scalar is WeightScalar.IDEAL:
        weight = min(actual, ideal)
        text = (
            f"ideal body weight {_kg(ideal)} kg (Devine, height {height:g} cm, {patient.sex})"
            if weight < actual
            else "actual body weight (at or below the ideal weight)"
        )
        return DosingWeight(weight, WeightScalar.IDEAL, bmi, ideal, text)
    weight = adjusted_body_weight_kg(actual, ideal)
    return DosingWeight(
        weight,
        WeightScalar.ADJUSTED,
        bmi,
        ideal,
        f"adjusted body weight {_kg(weight)} kg = ideal {_kg(ideal)} kg + 0.4 x "
        f"({_kg(actual)} - {_kg(ideal)}) kg",
    )
