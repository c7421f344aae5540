"""The two inputs of a safety check: the patient context and the order (pydantic models).

Their JSON Schemas are what ``ketaclinic schema patient|order`` prints; ranges come from
:mod:`ketaclinic.ranges` so that they are declared once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ketaclinic.pharmacology import ChildPugh, Dose, Patient
from ketaclinic.ranges import AGE_YEARS, HEIGHT_CM, WEIGHT_KG

__all__ = [
    "Diagnosis",
    "Medication",
    "Order",
    "PainTreatment",
    "PatientContext",
    "PreviousSession",
    "SubstanceUse",
    "Vitals",
    "as_utc",
    "format_validation_error",
]


def as_utc(moment: datetime) -> datetime:
    """Timezone-aware UTC; a naive time is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Diagnosis(StrEnum):
    """Coded conditions the rules know about (DOMAIN.md section 3). Others go in ``notes``."""

    UNCONTROLLED_CARDIOVASCULAR_DISEASE = "uncontrolled_cardiovascular_disease"
    UNCONTROLLED_PSYCHOSIS = "uncontrolled_psychosis"
    PSYCHOSIS_HISTORY = "psychosis_history"
    SEVERE_HEPATIC_DISEASE = "severe_hepatic_disease"
    MODERATE_HEPATIC_DISEASE = "moderate_hepatic_disease"
    RAISED_INTRACRANIAL_PRESSURE = "raised_intracranial_pressure"
    RAISED_INTRAOCULAR_PRESSURE = "raised_intraocular_pressure"
    ANEURYSMAL_VASCULAR_DISEASE = "aneurysmal_vascular_disease"
    ARTERIOVENOUS_MALFORMATION = "arteriovenous_malformation"
    INTRACEREBRAL_HAEMORRHAGE_HISTORY = "intracerebral_haemorrhage_history"
    KETAMINE_HYPERSENSITIVITY = "ketamine_hypersensitivity"
    LOWER_URINARY_TRACT_SYMPTOMS = "lower_urinary_tract_symptoms"
    CANCER = "cancer"
    CRPS = "crps"
    DEPRESSION = "depression"
    TREATMENT_RESISTANT_DEPRESSION = "treatment_resistant_depression"
    CHRONIC_PAIN = "chronic_pain"
    NEUROPATHIC_PAIN = "neuropathic_pain"
    OPIOID_TOLERANCE = "opioid_tolerance"


class PainTreatment(StrEnum):
    """Classes of pain treatment tried before (third-line eligibility, DOMAIN.md section 1)."""

    OPIOID = "opioid"
    NSAID = "nsaid"
    PARACETAMOL = "paracetamol"
    TRICYCLIC = "tricyclic"
    GABAPENTINOID = "gabapentinoid"
    SNRI = "snri"
    OTHER_ANTICONVULSANT = "other_anticonvulsant"
    TOPICAL = "topical"
    INTERVENTIONAL = "interventional"
    PHYSIOTHERAPY = "physiotherapy"
    PSYCHOLOGICAL = "psychological"


class SubstanceUse(StrEnum):
    NONE = "none"
    HISTORY = "history"
    ACTIVE = "active"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Medication(_Strict):
    """A current medication: generic name, and its total daily dose in mg where known."""

    name: str = Field(min_length=1, description="generic name, e.g. 'lorazepam'")
    dose_mg_per_day: float | None = Field(default=None, gt=0, le=100000)
    route: str | None = Field(default=None, description="e.g. 'oral'")

    @field_validator("name")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return " ".join(value.lower().split())


class Vitals(_Strict):
    """The latest vital signs."""

    measured_at: datetime
    systolic_mmhg: float = Field(ge=40, le=300)
    diastolic_mmhg: float = Field(ge=20, le=200)
    heart_rate_per_min: float | None = Field(default=None, ge=20, le=250)
    spo2_percent: float | None = Field(default=None, ge=50, le=100)


class PreviousSession(_Strict):
    """A ketamine session already given: when, which protocol, how much."""

    start: datetime
    protocol: str = Field(min_length=1)
    route: str = Field(min_length=1, description="iv, sc, im, oral, intranasal, ...")
    dose_mg: float = Field(gt=0, le=10000, description="total amount given in the session")
    duration_min: float = Field(default=0.0, ge=0, le=366 * 24 * 60)


class PatientContext(_Strict):
    """Everything the safety rules and the planner need to know about one patient."""

    weight_kg: float = Field(ge=WEIGHT_KG.low, le=WEIGHT_KG.high, description=WEIGHT_KG.reason)
    weight_measured_on: date
    age_years: float = Field(ge=AGE_YEARS.low, le=AGE_YEARS.high)
    sex: Literal["male", "female"]
    height_cm: float = Field(default=170.0, ge=HEIGHT_CM.low, le=HEIGHT_CM.high)
    child_pugh: Literal["none", "A", "B", "C"] = "none"
    diagnoses: tuple[Diagnosis, ...] = ()
    notes: str = ""
    medications: tuple[Medication, ...] = ()
    vitals: Vitals | None = None
    pregnant: bool = False
    substance_use: SubstanceUse = SubstanceUse.NONE
    prior_pain_treatments: tuple[PainTreatment, ...] = ()
    previous_sessions: tuple[PreviousSession, ...] = ()

    def pk_patient(self, child_pugh: str | None = None) -> Patient:
        """The covariates the pharmacology engine uses."""
        return Patient(
            weight_kg=self.weight_kg,
            age_years=self.age_years,
            sex=self.sex,
            height_cm=self.height_cm,
            child_pugh=ChildPugh(child_pugh or self.child_pugh),
        )


class Order(_Strict):
    """A ketamine order: protocol, route, doses in the dose grammar and overrides.

    ``doses`` take dose-grammar strings or :class:`ketaclinic.pharmacology.Dose` objects (kept
    as their grammar text). ``start`` is when the first dose starts (default: the check's
    ``as_of``). ``overrides`` map a finding code to the physician's reason.
    """

    protocol: str = Field(min_length=1)
    route: str = Field(min_length=1, description="iv, sc, im, oral, intranasal, sublingual, rectal")
    doses: tuple[str, ...] = Field(min_length=1, description="dose grammar, one dose per item")
    start: datetime | None = None
    overrides: dict[str, str] = Field(default_factory=dict)

    @field_validator("protocol", "route")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("doses", mode="before")
    @classmethod
    def _dose_text(cls, value: Any) -> Any:
        if isinstance(value, str | Dose):
            value = [value]
        if isinstance(value, list | tuple):
            return [str(v) if isinstance(v, Dose) else v for v in value]
        return value


def format_validation_error(exc: ValidationError, what: str) -> str:
    """One readable line: field, value given and what is accepted.

    >>> try:
    ...     PatientContext.model_validate({"weight_kg": 700, "weight_measured_on": "2026-11-01",
    ...                                   "age_years": 40, "sex": "male"})
    ... except ValidationError as e:
    ...     print(format_validation_error(e, "patient"))
    patient: weight_kg = 700 is not accepted: Input should be less than or equal to 300
    """
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = str(error["msg"])
        if error["type"] == "missing":
            parts.append(f"{field} is missing (required)")
            continue
        if error["type"] == "extra_forbidden":
            parts.append(f"{field} is not a known field")
            continue
        if (error["type"] == "enum" and "expected" in error.get("ctx", {})) or (
            error["type"] == "literal_error" and "expected" in error.get("ctx", {})
        ):
            message = f"accepted: {error['ctx']['expected']}"
        value = error.get("input")
        parts.append(f"{field} = {value!r} is not accepted: {message}")
    return f"{what}: " + "; ".join(parts)
