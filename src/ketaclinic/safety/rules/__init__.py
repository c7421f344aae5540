"""The rule families, one small module each. Every rule: ``CheckContext -> list[Finding]``."""

from __future__ import annotations

from collections.abc import Callable

from ketaclinic.safety._context import CheckContext
from ketaclinic.safety._findings import Finding
from ketaclinic.safety.rules.concentration import predicted_concentration
from ketaclinic.safety.rules.contraindications import (
    blood_pressure,
    contraindications,
    pregnancy,
    substance_use,
)
from ketaclinic.safety.rules.eligibility import age_eligibility, third_line
from ketaclinic.safety.rules.esketamine import esketamine_steps
from ketaclinic.safety.rules.hepatic import hepatic_impairment
from ketaclinic.safety.rules.interactions import (
    benzodiazepine_load,
    cyp_interactions,
    other_interactions,
    unscreened_medications,
)
from ketaclinic.safety.rules.limits import (
    cumulative_limits,
    dose_form,
    per_dose_limits,
    session_limits,
)
from ketaclinic.safety.rules.route import oral_route
from ketaclinic.safety.rules.schedule import (
    course_length,
    dose_spacing,
    minimum_interval,
    sessions_per_week,
)
from ketaclinic.safety.rules.unit_mistakes import unit_mistakes
from ketaclinic.safety.rules.weight import body_size, weight_age

__all__ = ["DOSE_RULES", "PATIENT_RULES", "RULES", "Rule"]

Rule = Callable[[CheckContext], list[Finding]]

# Rules that need only the patient and the protocol: they run even when the order's route or
# doses were refused, so the prescriber sees every problem at once.
PATIENT_RULES: tuple[Rule, ...] = (
    age_eligibility,
    contraindications,
    pregnancy,
    substance_use,
    blood_pressure,
    benzodiazepine_load,
    cyp_interactions,
    other_interactions,
    unscreened_medications,
    hepatic_impairment,
    weight_age,
    body_size,
    third_line,
)
# Rules that need resolved doses and a drug-library entry.
DOSE_RULES: tuple[Rule, ...] = (
    oral_route,
    dose_form,
    per_dose_limits,
    session_limits,
    cumulative_limits,
    unit_mistakes,
    dose_spacing,
    minimum_interval,
    sessions_per_week,
    course_length,
    esketamine_steps,
    predicted_concentration,
)
RULES: tuple[Rule, ...] = PATIENT_RULES + DOSE_RULES
