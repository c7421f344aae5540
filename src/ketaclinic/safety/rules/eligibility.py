"""Third-line eligibility for chronic and cancer pain (DOMAIN.md section 1)."""

from __future__ import annotations

from ketaclinic.safety._context import CheckContext
from ketaclinic.safety._findings import Finding, Severity
from ketaclinic.safety._inputs import PainTreatment

__all__ = ["ADJUVANTS", "third_line"]

SOURCE = (
    "Cohen 2018 (Reg Anesth Pain Med 43:521): ketamine is third-line for chronic pain; "
    "palliative formularies: after opioids plus NSAIDs, amitriptyline, gabapentinoids"
)
ADJUVANTS = frozenset(
    {
        PainTreatment.NSAID,
        PainTreatment.TRICYCLIC,
        PainTreatment.GABAPENTINOID,
        PainTreatment.SNRI,
        PainTreatment.OTHER_ANTICONVULSANT,
    }
)


def third_line(ctx: CheckContext) -> list[Finding]:
    if not ctx.profile.third_line_required:
        return []
    tried = set(ctx.patient.prior_pain_treatments)
    missing = []
    if PainTreatment.OPIOID not in tried:
        missing.append("an opioid")
    if not tried & ADJUVANTS:
        missing.append("an adjuvant (NSAID, tricyclic, gabapentinoid, SNRI or anticonvulsant)")
    if not missing:
        return []
    return [
        Finding(
            Severity.OVERRIDABLE,
            "eligibility.third_line",
            f"{ctx.protocol_id} is a third-line treatment: no documented trial of "
            f"{' and '.join(missing)} (source: {SOURCE})",
            SOURCE,
        )
    ]
