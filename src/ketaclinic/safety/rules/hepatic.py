"""Hepatic impairment: Child-Pugh C avoid, B reduce with the engine's predicted exposure."""

from __future__ import annotations

from ketaclinic.safety._context import CheckContext
from ketaclinic.safety._exposure import Unavailable, compare_hepatic
from ketaclinic.safety._findings import Finding, Severity

__all__ = ["hepatic_impairment"]

SOURCE_C = (
    "Cohen 2018 (Reg Anesth Pain Med 43:521): should not be used in severe hepatic disease; "
    "SPRAVATO prescribing information 8.6: Child-Pugh C not studied, not recommended"
)
SOURCE_B = (
    "Cohen 2018: moderate hepatic disease, use with monitoring; SPRAVATO prescribing "
    "information 8.6/12.3: higher exposure in Child-Pugh B (+103 % AUC, VERIFY); clearance "
    "scaling as declared in ketaclinic.pharmacology.HEPATIC_SCALING"
)


def hepatic_impairment(ctx: CheckContext) -> list[Finding]:
    grade = ctx.patient.child_pugh
    if grade == "C":
        return [
            Finding(
                Severity.HARD_STOP,
                "hepatic.child_pugh_c",
                f"Child-Pugh C (severe hepatic impairment): avoid ketamine (source: {SOURCE_C})",
                SOURCE_C,
            )
        ]
    if grade != "B":
        return []
    text = "Child-Pugh B (moderate hepatic impairment): reduce the dose and monitor liver tests"
    if ctx.doses:
        cmp = compare_hepatic(ctx.profile.model_id, ctx.patient.covariates, ctx.doses)
        if isinstance(cmp, Unavailable):
            text += f"; predicted exposure unavailable ({cmp.reason})"
        else:
            n, b = cmp.normal.summary.ketamine, cmp.impaired.summary.ketamine
            text += (
                f"; predicted with {ctx.profile.model_id}: AUC {b.auc_ng_h_per_ml:.0f} vs "
                f"{n.auc_ng_h_per_ml:.0f} ng*h/mL without impairment (x{cmp.auc_ratio:.2f}), "
                f"Cmax {b.cmax_ng_per_ml:.0f} vs {n.cmax_ng_per_ml:.0f} ng/mL; the same AUC "
                f"needs x{cmp.equal_auc_dose_factor:.2f} of this dose"
            )
    return [
        Finding(Severity.WARNING, "hepatic.child_pugh_b", f"{text} (source: {SOURCE_B})", SOURCE_B)
    ]
