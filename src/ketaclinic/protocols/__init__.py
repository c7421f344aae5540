"""Evidence-labelled protocol library (data files) and the dose planner. Pure: the data
files are loaded once, no clock is read (start dates and check times are arguments).

The planner returns the safety engine's findings; the protocol passes its facts to the
safety engine as a :class:`ketaclinic.safety.ProtocolProfile` (safety does not import this
package).
"""

from ketaclinic.protocols._dosing import (
    ROUNDING_RULES,
    ModelChoice,
    PlannedDose,
    choose_model,
    concrete_dose,
    round_half_down,
)
from ketaclinic.protocols._hepatic import HepaticAdjustment
from ketaclinic.protocols._loader import get_protocol, load_protocol_text, protocols
from ketaclinic.protocols._planner import (
    SESSION_TIME_UTC,
    Plan,
    PlannedSession,
    check,
    plan,
    profile_for,
)
from ketaclinic.protocols._schema import (
    Ages,
    Ceiling,
    DoseItem,
    DoseRule,
    Evidence,
    Hepatic,
    Maintenance,
    Monitoring,
    Phase,
    PopulationModel,
    Protocol,
    Schedule,
    TrialCriteria,
    WeightBasisSpec,
)

__all__ = [
    "ROUNDING_RULES",
    "SESSION_TIME_UTC",
    "Ages",
    "Ceiling",
    "DoseItem",
    "DoseRule",
    "Evidence",
    "Hepatic",
    "HepaticAdjustment",
    "Maintenance",
    "ModelChoice",
    "Monitoring",
    "Phase",
    "Plan",
    "PlannedDose",
    "PlannedSession",
    "PopulationModel",
    "Protocol",
    "Schedule",
    "TrialCriteria",
    "WeightBasisSpec",
    "check",
    "choose_model",
    "concrete_dose",
    "get_protocol",
    "load_protocol_text",
    "plan",
    "profile_for",
    "protocols",
    "round_half_down",
]
