"""Dose-safety engine: order + patient context -> findings, like a smart pump's DERS.

Pure: the drug library is loaded once from package data, no clock is read (``as_of`` is an
argument) and nothing is written. Protocol facts arrive as a :class:`ProtocolProfile`
(this package sits below ``protocols`` and does not import it).

Rule families (``ketaclinic.safety.rules``): route, limits, unit_mistakes, schedule,
contraindications, interactions, hepatic, weight, eligibility, concentration, esketamine.
"""

from ketaclinic.safety._engine import check_order
from ketaclinic.safety._exposure import HepaticExposure, compare_hepatic, peak_ng_per_ml, predict
from ketaclinic.safety._findings import Finding, SafetyReport, Severity, apply_overrides
from ketaclinic.safety._inputs import (
    Diagnosis,
    Medication,
    Order,
    PainTreatment,
    PatientContext,
    PreviousSession,
    SubstanceUse,
    Vitals,
    as_utc,
    format_validation_error,
)
from ketaclinic.safety._library import LIMIT_NAMES, DrugLibrary, LibraryEntry, Limit, drug_library
from ketaclinic.safety._profile import ConcentrationCeiling, Drug, ProtocolProfile, Setting

__all__ = [
    "LIMIT_NAMES",
    "ConcentrationCeiling",
    "Diagnosis",
    "Drug",
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
    "SafetyReport",
    "Setting",
    "Severity",
    "SubstanceUse",
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
