"""Drug interactions (DOMAIN.md section 3) from the versioned interaction tables
(``safety/data/interactions.yaml``): benzodiazepine load, MAOIs, stimulants, CNS depressants,
CYP inhibitors and inducers with the published change in oral S-ketamine exposure,
theophylline, thyroid hormone and lamotrigine.

Names are matched case-insensitively as generic names or brand names (``Nardil`` is
phenelzine). A name in no table cannot be screened: that is a WARNING, with the closest known
name as a suggestion, never silence.
"""

from __future__ import annotations

from collections.abc import Iterable

from ketaclinic.pharmacology import Drug, Route
from ketaclinic.safety._context import CheckContext, number
from ketaclinic.safety._findings import Finding, Severity
from ketaclinic.safety._inputs import Medication
from ketaclinic.safety._medicines import Lookup, interaction_tables

__all__ = [
    "BENZODIAZEPINE_LIMIT_DIAZEPAM_MG",
    "DIAZEPAM_MG_PER_MG",
    "benzodiazepine_load",
    "cyp_interactions",
    "diazepam_equivalent_mg",
    "other_interactions",
    "unscreened_medications",
]

_TABLES = interaction_tables()
# mg of diazepam per mg of drug = 10 mg / the Ashton Manual's equivalent dose
DIAZEPAM_MG_PER_MG: dict[str, float] = _TABLES.benzodiazepines.diazepam_mg_per_mg
BENZODIAZEPINE_LIMIT_DIAZEPAM_MG = _TABLES.benzodiazepines.limit_diazepam_mg_per_day


def _looked_up(medications: Iterable[Medication]) -> list[tuple[Medication, Lookup]]:
    tables = interaction_tables()
    return [(m, tables.lookup(m.name)) for m in medications]


def _hits(ctx: CheckContext, names: Iterable[str]) -> list[Lookup]:
    wanted = set(names)
    return [found for _, found in _looked_up(ctx.patient.medications) if found.generic in wanted]


def _shown(hits: list[Lookup]) -> str:
    return ", ".join(dict.fromkeys(h.shown for h in hits))


def diazepam_equivalent_mg(medications: tuple[Medication, ...]) -> tuple[float, list[str]]:
    """Daily diazepam-equivalent mg and the benzodiazepines whose dose is unknown.

    >>> diazepam_equivalent_mg((Medication(name="Ativan", dose_mg_per_day=1),))
    (10.0, [])
    """
    factors = interaction_tables().benzodiazepines.diazepam_mg_per_mg
    total = 0.0
    unknown = []
    for med, found in _looked_up(medications):
        factor = factors.get(found.generic or "")
        if factor is None:
            continue
        if med.dose_mg_per_day is None:
            unknown.append(found.shown)
        else:
            total += med.dose_mg_per_day * factor
    return total, unknown


def benzodiazepine_load(ctx: CheckContext) -> list[Finding]:
    table = interaction_tables().benzodiazepines
    total, unknown = diazepam_equivalent_mg(ctx.patient.medications)
    limit = table.limit_diazepam_mg_per_day
    why = (
        "blunts the antidepressant response"
        if ctx.profile.drug is Drug.ESKETAMINE or "depression" in ctx.protocol_id
        else "adds to sedation and may blunt the response"
    )
    sources = f"{table.limit_source}; {table.source}"
    out = []
    if total > limit:
        out.append(
            Finding(
                Severity.WARNING,
                "interaction.benzodiazepine_load",
                f"benzodiazepine load {number(total)} mg/day diazepam equivalent is above "
                f"{number(limit)} mg/day: {why}; consider reducing before ketamine "
                f"(sources: {sources})",
                sources,
            )
        )
    if unknown:
        out.append(
            Finding(
                Severity.WARNING,
                "interaction.benzodiazepine_dose_unknown",
                f"{', '.join(unknown)} without a daily dose: the diazepam-equivalent load "
                f"cannot be checked against {number(limit)} mg/day (source: {table.limit_source})",
                table.limit_source,
            )
        )
    return out


def cyp_interactions(ctx: CheckContext) -> list[Finding]:
    oral = any(d.route is Route.ORAL for d in ctx.doses) or ctx.route is Route.ORAL
    out = []
    for item in interaction_tables().cyp:
        hits = _hits(ctx, item.names)
        if not hits:
            continue
        change = _change(item.oral_auc_factor)
        if oral:
            raises = item.oral_auc_factor > 1
            severity = Severity.OVERRIDABLE if raises else Severity.WARNING
            effect = (
                "reduce the dose or avoid the combination"
                if raises
                else ("oral ketamine may not work")
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
                f"{hits[0].shown} ({item.mechanism}): {text} (source: {item.source})",
                item.source,
            )
        )
    return out


def _change(factor: float) -> str:
    if factor >= 1:
        return f"x{number(factor)}"
    return f"-{(1 - factor) * 100:.0f} %"


def other_interactions(ctx: CheckContext) -> list[Finding]:
    """MAOIs, stimulants, CNS depressants, theophylline, thyroid hormone, lamotrigine."""
    tables = interaction_tables()
    benzodiazepines = tuple(tables.benzodiazepines.equivalent_to_diazepam_10_mg)
    out = []
    for group in tables.groups:
        names = group.names + (benzodiazepines if group.code == "cns_depressant" else ())
        hits = _hits(ctx, names)
        if not hits:
            continue
        out.append(
            Finding(
                Severity(group.severity),
                f"interaction.{group.code}",
                f"{_shown(hits)} ({group.label}): {group.effect} (source: {group.source})",
                group.source,
            )
        )
    return out


def unscreened_medications(ctx: CheckContext) -> list[Finding]:
    """Every medicine the tables do not know: it cannot be screened (WARNING)."""
    tables = interaction_tables()
    source = f"ketaclinic interaction tables {tables.version}"
    out = []
    for _, found in _looked_up(ctx.patient.medications):
        if found.recognised:
            continue
        hint = ""
        if found.suggestion is not None:
            hint = f"; did you mean {found.suggestion}? (correct the name to screen it)"
        out.append(
            Finding(
                Severity.WARNING,
                "interaction.unscreened",
                f"medication {found.given!r} is not in the interaction tables "
                f"({tables.version}): it cannot be screened for interactions with ketamine"
                f"{hint}; check it by hand, or give its generic name",
                source,
            )
        )
    return out
