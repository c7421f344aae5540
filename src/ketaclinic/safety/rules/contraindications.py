"""Contraindications and cautions of DOMAIN.md section 3, with the severity the source uses.

"Should not be used" / "contraindicated" -> HARD_STOP; "avoid" or "only at low dose with
extreme caution" -> OVERRIDABLE (a physician may proceed with a written reason); "use with
monitoring" / "weigh the risk" -> WARNING.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaclinic.pharmacology import Drug
from ketaclinic.safety._context import CheckContext
from ketaclinic.safety._findings import Finding, Severity
from ketaclinic.safety._inputs import Diagnosis, SubstanceUse
from ketaclinic.safety._profile import Setting

__all__ = ["CONTRAINDICATIONS", "blood_pressure", "contraindications", "pregnancy", "substance_use"]

COHEN_2018 = (
    "ASRA/AAPM/ASA consensus guideline on IV ketamine for chronic pain, Cohen 2018, "
    "Reg Anesth Pain Med 43:521"
)
SPRAVATO = "SPRAVATO (esketamine) prescribing information, Janssen (FDA label)"
KETALAR = "KETALAR (ketamine) prescribing information (FDA label)"


@dataclass(frozen=True)
class Contraindication:
    diagnosis: Diagnosis
    racemic: Severity | None
    esketamine: Severity | None
    wording: str
    source: str


CONTRAINDICATIONS: tuple[Contraindication, ...] = (
    Contraindication(
        Diagnosis.UNCONTROLLED_CARDIOVASCULAR_DISEASE,
        Severity.HARD_STOP,
        Severity.HARD_STOP,
        "should not be used in poorly controlled cardiovascular disease",
        COHEN_2018,
    ),
    Contraindication(
        Diagnosis.UNCONTROLLED_PSYCHOSIS,
        Severity.HARD_STOP,
        Severity.HARD_STOP,
        "should not be used in poorly controlled psychosis",
        COHEN_2018,
    ),
    Contraindication(
        Diagnosis.SEVERE_HEPATIC_DISEASE,
        Severity.HARD_STOP,
        Severity.HARD_STOP,
        "should not be used in severe hepatic disease (esketamine: Child-Pugh C not studied, "
        "use not recommended)",
        f"{COHEN_2018}; {SPRAVATO} section 8.6",
    ),
    Contraindication(
        Diagnosis.MODERATE_HEPATIC_DISEASE,
        Severity.WARNING,
        Severity.WARNING,
        "moderate hepatic disease: use with monitoring (liver tests)",
        COHEN_2018,
    ),
    Contraindication(
        Diagnosis.RAISED_INTRACRANIAL_PRESSURE,
        Severity.OVERRIDABLE,
        Severity.OVERRIDABLE,
        "raised intracranial pressure: should not be used, or only at low dose with extreme "
        "caution",
        COHEN_2018,
    ),
    Contraindication(
        Diagnosis.RAISED_INTRAOCULAR_PRESSURE,
        Severity.OVERRIDABLE,
        Severity.OVERRIDABLE,
        "raised intraocular pressure: should not be used, or only at low dose with extreme caution",
        COHEN_2018,
    ),
    Contraindication(
        Diagnosis.ANEURYSMAL_VASCULAR_DISEASE,
        Severity.OVERRIDABLE,
        Severity.HARD_STOP,
        "aneurysmal vascular disease: esketamine is contraindicated; racemic ketamine raises "
        "blood pressure, a serious hazard here",
        f"{SPRAVATO} section 4 (VERIFY); {KETALAR} section 4 (VERIFY)",
    ),
    Contraindication(
        Diagnosis.ARTERIOVENOUS_MALFORMATION,
        Severity.OVERRIDABLE,
        Severity.HARD_STOP,
        "arteriovenous malformation: esketamine is contraindicated; racemic ketamine raises "
        "blood pressure, a serious hazard here",
        f"{SPRAVATO} section 4 (VERIFY); {KETALAR} section 4 (VERIFY)",
    ),
    Contraindication(
        Diagnosis.INTRACEREBRAL_HAEMORRHAGE_HISTORY,
        Severity.OVERRIDABLE,
        Severity.HARD_STOP,
        "history of intracerebral haemorrhage: esketamine is contraindicated; racemic "
        "ketamine raises blood pressure, a serious hazard here",
        f"{SPRAVATO} section 4 (VERIFY); {KETALAR} section 4 (VERIFY)",
    ),
    Contraindication(
        Diagnosis.KETAMINE_HYPERSENSITIVITY,
        Severity.HARD_STOP,
        Severity.HARD_STOP,
        "known hypersensitivity to ketamine or esketamine: contraindicated",
        f"{KETALAR} section 4; {SPRAVATO} section 4",
    ),
    Contraindication(
        Diagnosis.PSYCHOSIS_HISTORY,
        Severity.WARNING,
        Severity.WARNING,
        "history of psychosis: ketamine can precipitate psychotic symptoms; weigh the risk "
        "[clinical judgement]",
        f"{COHEN_2018} (poorly controlled psychosis is a contraindication)",
    ),
    Contraindication(
        Diagnosis.LOWER_URINARY_TRACT_SYMPTOMS,
        Severity.WARNING,
        Severity.WARNING,
        "lower urinary tract symptoms: repeated ketamine can cause ketamine cystitis; screen "
        "urinary symptoms and consider stopping",
        "FDA 2023 safety communication on compounded ketamine (DOMAIN.md section 3)",
    ),
)


def contraindications(ctx: CheckContext) -> list[Finding]:
    present = set(ctx.patient.diagnoses)
    out = []
    for item in CONTRAINDICATIONS:
        if item.diagnosis not in present:
            continue
        severity = item.esketamine if ctx.profile.drug is Drug.ESKETAMINE else item.racemic
        if severity is None:
            continue
        out.append(
            Finding(
                severity,
                f"contraindication.{item.diagnosis.value}",
                f"{item.diagnosis.value.replace('_', ' ')}: {item.wording} (source: {item.source})",
                item.source,
            )
        )
    return out


def pregnancy(ctx: CheckContext) -> list[Finding]:
    if not ctx.patient.pregnant:
        return []
    return [
        Finding(
            Severity.OVERRIDABLE,
            "contraindication.pregnancy",
            "pregnancy: avoid ketamine and esketamine (not recommended in pregnancy; "
            f"source: {SPRAVATO} section 8.1; {KETALAR} section 8.1)",
            f"{SPRAVATO} section 8.1; {KETALAR} section 8.1",
        )
    ]


def substance_use(ctx: CheckContext) -> list[Finding]:
    use = ctx.patient.substance_use
    if use is SubstanceUse.NONE:
        return []
    if use is SubstanceUse.ACTIVE and ctx.profile.repeated_sessions:
        return [
            Finding(
                Severity.HARD_STOP,
                "contraindication.active_substance_use",
                f"active substance abuse: repeated ketamine sessions ({ctx.protocol_id}) should "
                f"not be given (source: {COHEN_2018})",
                COHEN_2018,
            )
        ]
    word = "active substance use" if use is SubstanceUse.ACTIVE else "history of substance use"
    return [
        Finding(
            Severity.WARNING,
            f"caution.{use.value}_substance_use",
            f"{word}: ketamine is a drug of addiction; limit supply and watch for misuse "
            f"(source: {COHEN_2018}; DOMAIN.md section 1)",
            COHEN_2018,
        )
    ]


HYPERTENSION_SYSTOLIC_MMHG = 140.0
HYPERTENSION_DIASTOLIC_MMHG = 90.0


def blood_pressure(ctx: CheckContext) -> list[Finding]:
    """Baseline BP > 140/90: weigh the risk (esketamine label); missing BP for outpatients."""
    vitals = ctx.patient.vitals
    if vitals is None:
        if ctx.profile.setting is Setting.OUTPATIENT:
            return [
                Finding(
                    Severity.INFO,
                    "vitals.missing",
                    "no blood pressure recorded: measure it before dosing (REMS: BP before "
                    "dosing, at about 40 min and before discharge)",
                    f"{SPRAVATO}; SPRAVATO REMS",
                )
            ]
        return []
    sys_, dia = vitals.systolic_mmhg, vitals.diastolic_mmhg
    if sys_ > HYPERTENSION_SYSTOLIC_MMHG or dia > HYPERTENSION_DIASTOLIC_MMHG:
        return [
            Finding(
                Severity.WARNING,
                "vitals.hypertension",
                f"baseline blood pressure {sys_:g}/{dia:g} mmHg is above 140/90 mmHg: ketamine "
                "raises BP (mean peak +16/+11 mmHg at 40 min in depression clinics); weigh the "
                f"risk before dosing (source: {SPRAVATO} section 5.4)",
                f"{SPRAVATO} section 5.4",
            )
        ]
    return []
