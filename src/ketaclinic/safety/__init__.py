"""Dose-safety engine: order + patient context -> findings, like a smart pump's DERS.

Pure: the drug library is loaded once from package data, no clock is read (``as_of`` is an
argument) and nothing is written. Protocol facts arrive as a :class:`ProtocolProfile`
(this package sits below ``protocols`` and does not import it).

Rule families (``ketaclinic.safety.rules``): route, limits, unit_mistakes, schedule,
contraindications, interactions, hepatic, weight, eligibility, concentration, esketamine.
The interaction tables (``data/interactions.yaml``) are versioned like the drug library.
"""

from ketaclinic.safety._body_size import (
    DosingWeight,
    adjusted_body_weight_kg,
    bmi_kg_per_m2,
    dosing_weight,
    ideal_body_weight_kg,
)
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
    PriorTreatment,
    RefusedDose,
    SubstanceUse,
    Vitals,
    as_utc,
    format_validation_error,
)
from ketaclinic.safety._library import LIMIT_NAMES, DrugLibrary, LibraryEntry, Limit, drug_library
from ketaclinic.safety._medicines import InteractionTables, Lookup, interaction_tables
from ketaclinic.safety._profile import (
    AgeEligibility,
    ConcentrationCeiling,
    HepaticBasis,
    HepaticPolicy,
    ProtocolProfile,
    Setting,
    WeightBasis,
    WeightScalar,
)

__all__ = [
    "LIMIT_NAMES",
    "AgeEligibility",
    "ConcentrationCeiling",
    "Diagnosis",
    "DoseField",
    "DosingWeight",
    "DrugLibrary",
    "Finding",
    "HepaticBasis",
    "HepaticExposure",
    "HepaticPolicy",
    "InteractionTables",
    "LibraryEntry",
    "Limit",
    "Lookup",
    "Medication",
    "Order",
    "PainTreatment",
    "PatientContext",
    "PreviousSession",
    "PriorTreatment",
    "ProtocolProfile",
    "RefusedDose",
    "SafetyReport",
    "Setting",
    "Severity",
    "SubstanceUse",
    "Unavailable",
    "Vitals",
    "WeightBasis",
    "WeightScalar",
    "adjusted_body_weight_kg",
    "apply_overrides",
    "as_utc",
    "bmi_kg_per_m2",
    "check_order",
    "compare_hepatic",
    "dosing_weight",
    "drug_library",
    "format_validation_error",
    "ideal_body_weight_kg",
    "interaction_tables",
    "peak_ng_per_ml",
    "predict",
]
