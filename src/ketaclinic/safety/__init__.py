"""Dose-safety engine: order + patient context -> findings, like a smart pump's DERS.

Pure: the drug library is loaded once from package data, no clock is read (``as_of`` is an
argument) and nothing is written. Protocol facts arrive as a :class:`ProtocolProfile`
(this package sits below ``protocols`` and does not import it).

Rule families (``ketaclinic.safety.rules``): route, limits, unit_mistakes, schedule,
contraindications, interactions, hepatic, weight, eligibility, concentration, esketamine.
"""

from ketaclinic.safety._engine import check_order
from ketaclinic.safety._exposure import (
    HepaticExposure,
    Unavailable,
    compare_hepatic,
    peak_ng_per_ml,
    predict,
)
from ketaclinic.safety._findings import Finding, SafetyReport, Severity, apply_overrides
from ketaclinic.safety._inputs import (
    Diagnosis,
    DoseField,
    Medication,
    Order,
    PainTreatment,
    PatientContext,
    PreviousSession,
    RefusedDose,
    SubstanceUse,
    Vitals,
    as_utc,
    format_validation_error,
)
from ketaclinic.safety._library import LIMIT_NAMES, DrugLibrary, LibraryEntry, Limit, drug_library
from ketaclinic.safety._profile import ConcentrationCeiling, ProtocolProfile, Setting

__all__ = [
    "LIMIT_NAMES",
    "ConcentrationCeiling",
    "Diagnosis",
    "DoseField",
    "DrugLibrary",
    "Finding",
    "HepaticExposure",
    "LibraryEntry",
    "Limit",
    "Medication",
    "Order",
    "PainTreatment",
    "PatientContext",
    "PreviousSession",
    "ProtocolProfile",
    "RefusedDose",
    "SafetyReport",
    "Setting",
    "Severity",
    "SubstanceUse",
    "Unavailable",
    "Vitals",
    "apply_overrides",
    "as_utc",
    "check_order",
    "compare_hepatic",
    "drug_library",
    "format_validation_error",
    "peak_ng_per_ml",
    "predict",
]
