"""Drug interactions (DOMAIN.md section 3): benzodiazepine load, MAOIs, stimulants, CYP
inhibitors and inducers with the published change in oral S-ketamine exposure, theophylline,
levothyroxine and lamotrigine.

Medication names are matched as lower-case generic names (and common synonyms).
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaclinic.pharmacology import Drug, Route
from ketaclinic.safety._context import CheckContext
from ketaclinic.safety._findings import Finding, Severity
from ketaclinic.safety._inputs import Medication

__all__ = [
    "BENZODIAZEPINE_LIMIT_DIAZEPAM_MG",
    "DIAZEPAM_MG_PER_MG",
    "benzodiazepine_load",
    "cyp_interactions",
    "diazepam_equivalent_mg",
    "other_interactions",
]

ASHTON = (
    "Ashton H. Benzodiazepines: how they work and how to withdraw (the Ashton Manual, 2002), "
    "table of approximate equivalent doses to diazepam 10 mg"
)
ANDRASHKO = (
    "Andrashko 2020: benzodiazepine doses above 8 mg diazepam equivalent blunt the "
    "antidepressant response to ketamine (DOMAIN.md section 3)"
)
REMS = "SPRAVATO REMS Patient Monitoring Form (MAOIs and psychostimulants are recorded)"
SPRAVATO_DDI = "SPRAVATO prescribing information section 7 (psychostimulants, MAOIs: monitor BP)"
KETALAR = "KETALAR prescribing information section 7 (theophylline/aminophylline; thyroid hormones)"

# mg of diazepam per mg of drug = 10 mg / the Ashton Manual's equivalent dose
DIAZEPAM_MG_PER_MG: dict[str, float] = {
    "diazepam": 1.0,
    "alprazolam": 10.0 / 0.5,
    "clonazepam": 10.0 / 0.5,
    "lorazepam": 10.0 / 1.0,
    "oxazepam": 10.0 / 20.0,
    "temazepam": 10.0 / 20.0,
    "chlordiazepoxide": 10.0 / 25.0,
    "nitrazepam": 10.0 / 10.0,
    "clobazam": 10.0 / 20.0,
    "lormetazepam": 10.0 / 1.5,
    "zolpidem": 10.0 / 20.0,
    "zopiclone": 10.0 / 15.0,
}
BENZODIAZEPINE_LIMIT_DIAZEPAM_MG = 8.0

MAOIS = frozenset(
    {
        "phenelzine",
        "tranylcypromine",
        "isocarboxazid",
        "selegiline",
        "rasagiline",
        "moclobemide",
        "safinamide",
    }
)
STIMULANTS = frozenset(
    {
        "methylphenidate",
        "dexmethylphenidate",
        "amphetamine",
        "dexamfetamine",
        "dextroamphetamine",
        "lisdexamfetamine",
        "methamphetamine",
        "modafinil",
        "armodafinil",
        "solriamfetol",
    }
)


@dataclass(frozen=True)
class CypInteraction:
    code: str
    names: frozenset[str]
    oral_auc_factor: float
    iv_auc_factor: float | None
    mechanism: str
    source: str


CYP_INTERACTIONS: tuple[CypInteraction, ...] = (
    CypInteraction(
        "clarithromycin",
        frozenset({"clarithromycin"}),
        2.6,
        None,
        "CYP3A4 inhibitor",
        "Hagelberg 2010: oral S-ketamine AUC x2.6 with clarithromycin (DOMAIN.md section 3)",
    ),
    CypInteraction(
        "grapefruit",
        frozenset({"grapefruit", "grapefruit juice"}),
        3.0,
        None,
        "intestinal CYP3A4 inhibitor",
        "Peltoniemi 2012: oral S-ketamine AUC x3.0 with grapefruit juice (DOMAIN.md section 3)",
    ),
    CypInteraction(
        "ticlopidine",
        frozenset({"ticlopidine"}),
        2.4,
        None,
        "CYP2B6 inhibitor",
        "Peltoniemi 2011: oral S-ketamine AUC x2.4 with ticlopidine (DOMAIN.md section 3)",
    ),
    CypInteraction(
        "rifampicin",
        frozenset({"rifampicin", "rifampin"}),
        0.14,
        0.86,
        "CYP3A4/2B6 inducer",
        "Peltoniemi 2012: rifampicin lowers oral S-ketamine AUC by 86 % and IV by 14 % "
        "(DOMAIN.md section 3)",
    ),
)


def _names(ctx: CheckContext) -> dict[str, Medication]:
    return {m.name: m for m in ctx.patient.medications}


def diazepam_equivalent_mg(medications: tuple[Medication, ...]) -> tuple[float, list[str]]:
    """Daily diazepam-equivalent mg and the benzodiazepines whose dose is unknown.

    >>> diazepam_equivalent_mg((Medication(name="lorazepam", dose_mg_per_day=1),))
    (10.0, [])
    """
    total = 0.0
    unknown = []
    for med in medications:
        factor = DIAZEPAM_MG_PER_MG.get(med.name)
        if factor is None:
            continue
        if med.dose_mg_per_day is None:
            unknown.append(med.name)
        else:
            total += med.dose_mg_per_day * factor
    return total, unknown


def benzodiazepine_load(ctx: CheckContext) -> list[Finding]:
    total, unknown = diazepam_equivalent_mg(ctx.patient.medications)
    why = (
        "blunts the antidepressant response"
        if ctx.profile.drug is Drug.ESKETAMINE or "depression" in ctx.protocol_id
        else "adds to sedation and may blunt the response"
    )
    out = []
    if total > BENZODIAZEPINE_LIMIT_DIAZEPAM_MG:
        out.append(
            Finding(
                Severity.WARNING,
                "interaction.benzodiazepine_load",
                f"benzodiazepine load {total:.3g} mg/day diazepam equivalent is above "
                f"{BENZODIAZEPINE_LIMIT_DIAZEPAM_MG:g} mg: {why}; consider reducing before "
                f"ketamine (sources: {ANDRASHKO}; {ASHTON})",
                f"{ANDRASHKO}; {ASHTON}",
            )
        )
    if unknown:
        out.append(
            Finding(
                Severity.WARNING,
                "interaction.benzodiazepine_dose_unknown",
                f"{', '.join(unknown)} without a daily dose: the diazepam-equivalent load "
                f"cannot be checked against {BENZODIAZEPINE_LIMIT_DIAZEPAM_MG:g} mg "
                f"(source: {ANDRASHKO})",
                ANDRASHKO,
            )
        )
    return out


def cyp_interactions(ctx: CheckContext) -> list[Finding]:
    names = _names(ctx)
    oral = any(d.route is Route.ORAL for d in ctx.doses) or ctx.route is Route.ORAL
    out = []
    for item in CYP_INTERACTIONS:
        hit = sorted(item.names & names.keys())
        if not hit:
            continue
        change = _change(item.oral_auc_factor)
        if oral:
            severity = Severity.OVERRIDABLE if item.oral_auc_factor > 1 else Severity.WARNING
            effect = (
                "reduce the dose or avoid the combination"
                if item.oral_auc_factor > 1
                else "oral ketamine may not work"
            )
            text = f"oral ketamine exposure (AUC) {change}: {effect}"
        else:
            severity = Severity.INFO if item.iv_auc_factor is not None else Severity.WARNING
            iv = (
                f"parenteral exposure {_change(item.iv_auc_factor)}"
                if item.iv_auc_factor is not None
                else "the effect on parenteral dosing is smaller and not quantified"
            )
            text = f"oral exposure {change}; {iv}"
        out.append(
            Finding(
                severity,
                f"interaction.{item.code}",
                f"{hit[0]} ({item.mechanism}): {text} (source: {item.source})",
                item.source,
            )
        )
    return out


def _change(factor: float) -> str:
    if factor >= 1:
        return f"x{factor:g}"
    return f"-{(1 - factor) * 100:.0f} %"


def other_interactions(ctx: CheckContext) -> list[Finding]:
    names = set(_names(ctx))
    out = []
    maoi = sorted(names & MAOIS)
    if maoi:
        out.append(
            Finding(
                Severity.WARNING,
                "interaction.maoi",
                f"{', '.join(maoi)} (MAOI): blood pressure may rise; monitor BP closely "
                f"(sources: {SPRAVATO_DDI}; {REMS})",
                f"{SPRAVATO_DDI}; {REMS}",
            )
        )
    stim = sorted(names & STIMULANTS)
    if stim:
        out.append(
            Finding(
                Severity.WARNING,
                "interaction.stimulant",
                f"{', '.join(stim)} (psychostimulant): blood pressure may rise; monitor BP "
                f"closely (sources: {SPRAVATO_DDI}; {REMS})",
                f"{SPRAVATO_DDI}; {REMS}",
            )
        )
    if names & {"theophylline", "aminophylline"}:
        out.append(
            Finding(
                Severity.WARNING,
                "interaction.theophylline",
                "theophylline/aminophylline with ketamine may lower the seizure threshold "
                f"(source: {KETALAR})",
                KETALAR,
            )
        )
    if names & {"levothyroxine", "liothyronine", "thyroxine"}:
        out.append(
            Finding(
                Severity.WARNING,
                "interaction.thyroid_hormone",
                "thyroid hormone with ketamine: risk of hypertension and tachycardia "
                f"(source: {KETALAR})",
                KETALAR,
            )
        )
    if "lamotrigine" in names:
        out.append(
            Finding(
                Severity.INFO,
                "interaction.lamotrigine",
                "lamotrigine may lessen ketamine's dissociative and psychotomimetic side "
                "effects (DOMAIN.md section 3)",
                "DOMAIN.md section 3 (lamotrigine lowers side effects)",
            )
        )
    return out
