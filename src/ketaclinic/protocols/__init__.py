"""Evidence-labelled protocol library (data files) and the dose planner. Pure: the data
files are loaded once, no clock is read (start dates and check times are arguments).

The planner returns the safety engine's findings; the protocol passes its facts to the
safety engine as a :class:`ketaclinic.safety.ProtocolProfile` (safety does not import this
package).
"""

from ketaclinic.protocols._loader import get_protocol, load_protocol_text, protocols
from ketaclinic.protocols._planner import (
    ROUNDING_RULES,
    SESSION_TIME_UTC,
    HepaticAdjustment,
    Plan,
    PlannedDose,
    PlannedSession,
    check,
    concrete_dose,
    plan,
    round_half_down,
)
from ketaclinic.protocols._schema import (
    Ceiling,
    DoseItem,
    DoseRule,
    Evidence,
    Maintenance,
    Monitoring,
    Phase,
    Protocol,
    Schedule,
    TrialCriteria,
)

__all__ = [
    "ROUNDING_RULES",
    "SESSION_TIME_UTC",
    "Ceiling",
    "DoseItem",
    "DoseRule",
    "Evidence",
    "HepaticAdjustment",
    "Maintenance",
    "Monitoring",
    "Phase",
    "Plan",
    "PlannedDose",
    "PlannedSession",
    "Protocol",
    "Schedule",
    "TrialCriteria",
    "check",
    "concrete_dose",
    "get_protocol",
    "load_protocol_text",
    "plan",
    "protocols",
    "round_half_down",
]
