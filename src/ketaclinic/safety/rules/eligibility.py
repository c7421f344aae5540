"""Eligibility: the ages a protocol is for, and third-line use for chronic and cancer pain
(DOMAIN.md section 1)."""

from __future__ import annotations

from ketaclinic.safety._context import CheckContext
from ketaclinic.safety._findings import Finding, Severity
from ketaclinic.safety._inputs import PainTreatment

__all__ = ["ADJUVANTS", "age_eligibility", "third_line"]

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
    tried = set(ctx.patient.pain_treatment_classes)
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


def age_eligibility(ctx: CheckContext) -> list[Finding]:
    """A patient outside the ages the protocol is for: a hard stop or an overridable block,
    as the protocol data declares (with why)."""
    ages = ctx.profile.ages
    age = ctx.patient.age_years
    where = f"{ctx.protocol_id} is for {ages.describe()}"
    if ages.hard_below_years is not None and age < ages.hard_below_years:
        return [
            Finding(
                Severity.HARD_STOP,
                "eligibility.age",
                f"age {age:g} years is below {ages.hard_below_years:g} years: "
                f"{ages.hard_below_why}; {where}; a hard stop, which cannot be overridden "
                f"(source: {ages.source})",
                ages.source,
            )
        ]
    if age >= ages.min_years and (ages.max_years is None or age <= ages.max_years):
        return []
    if ages.outside is Severity.HARD_STOP:
        verdict = "a hard stop, which cannot be overridden"
    else:
        verdict = "off-label: a physician may proceed with a written reason"
    return [
        Finding(
            ages.outside,
            "eligibility.age",
            f"age {age:g} years is outside the ages {ctx.protocol_id} is for "
            f"({ages.describe()}): {ages.why}; {verdict} "
            f"(source: {ages.source})",
            ages.source,
        )
    ]
