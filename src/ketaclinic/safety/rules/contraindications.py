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
from ketaclinic.safety._inputs import Diagnosis, SubstanceUse, as_utc
from ketaclinic.safety._profile import Setting

__all__ = ["CONTRAINDICATIONS", "blood_pressure", "contraindications", "pregnancy", "substance_use"]

COHEN_2018 = (
    "ASRA/AAPM/ASA consensus guideline on IV ketamine for chronic pain, Cohen 2018, "
    "Reg Anesth Pain Med 43:521"
)
SPRAVATO = "SPRAVATO (esketamine) prescribing information, Janssen (FDA label)"
KETALAR = "KETALAR (ketamine) prescribing information (FDA label)"
SPRAVATO_BP = f"{SPRAVATO} section 5 (increases in blood pressure)"


@dataclass(frozen=True)
class Contraindication:
    """A coded condition; ``wording`` names the condition first and is the message."""

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
        "poorly controlled cardiovascular disease: ketamine should not be used",
        COHEN_2018,
    ),
    Contraindication(
        Diagnosis.UNCONTROLLED_PSYCHOSIS,
        Severity.HARD_STOP,
        Severity.HARD_STOP,
        "poorly controlled psychosis: ketamine should not be used",
        COHEN_2018,
    ),
    Contraindication(
        Diagnosis.SEVERE_HEPATIC_DISEASE,
        Severity.HARD_STOP,
        Severity.HARD_STOP,
        "severe hepatic disease: ketamine should not be used (esketamine: Child-Pugh C not "
        "studied, use not recommended)",
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
                f"{item.wording} (source: {item.source})",
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
SEVERE_SYSTOLIC_MMHG = 180.0
SEVERE_DIASTOLIC_MMHG = 110.0
SEVERE_SOURCE = (
    "clinical judgement, borrowing the threshold of Hartle 2016 (AAGBI/BHS joint guideline: "
    "The measurement of adult blood pressure and management of hypertension before elective "
    "surgery, Anaesthesia 71:326-337, DOI 10.1111/anae.13348): elective procedures proceed "
    "below 180 mmHg systolic and 110 mmHg diastolic; a high reading is measured twice more, at "
    "least 1 min apart, and the lower of the last two is recorded"
)
# A BP counts as "before dosing" when it was measured in the 2 h before the order's start: the
# pre-dose reading of the same visit (SPRAVATO: assess BP prior to dosing). 2 h is clinical
# judgement: arrival, consent and preparation fit in it, and an older reading does not show
# today's blood pressure.
FRESH_BP_MIN = 120.0


def _ago(minutes: float) -> str:
    if minutes < 0:
        return f"{-minutes / 60.0:.1f} h after the order's start"
    if minutes < 48 * 60:
        return f"{minutes / 60.0:.1f} h before the order's start"
    return f"{minutes / 1440.0:.0f} days before the order's start"


def blood_pressure(ctx: CheckContext) -> list[Finding]:
    """The pre-dose blood pressure: 140/90 weigh the risk, 180/110 do not dose now, a reading
    older than 2 h (or after the start) does not count; missing BP for outpatients."""
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
    out: list[Finding] = []
    if vitals.measured_at is None:
        age_min = 0.0
        out.append(
            Finding(
                Severity.INFO,
                "vitals.time_assumed",
                f"the vitals have no measured_at: taken as measured at the order's start "
                f"({ctx.start:%Y-%m-%d %H:%M} UTC); give measured_at so that their age can be "
                "checked",
                "ketaclinic safety engine",
            )
        )
    else:
        age_min = (ctx.start - as_utc(vitals.measured_at)).total_seconds() / 60.0
    sys_, dia = vitals.systolic_mmhg, vitals.diastolic_mmhg
    bp = f"{sys_:g}/{dia:g} mmHg"
    severe = sys_ >= SEVERE_SYSTOLIC_MMHG or dia >= SEVERE_DIASTOLIC_MMHG
    high = sys_ > HYPERTENSION_SYSTOLIC_MMHG or dia > HYPERTENSION_DIASTOLIC_MMHG
    if not 0.0 <= age_min <= FRESH_BP_MIN:
        if not (high or ctx.profile.setting is Setting.OUTPATIENT):
            return out
        level = ""
        if high:
            level = (
                " and it was high (at or above 180/110 mmHg)"
                if severe
                else (" and it was above 140/90 mmHg")
            )
        out.append(
            Finding(
                Severity.WARNING if high else Severity.INFO,
                "vitals.stale",
                f"blood pressure {bp} was measured {_ago(age_min)}: it does not count as the "
                f"pre-dose reading (measured in the {FRESH_BP_MIN / 60:g} h before the start)"
                f"{level}; measure it again before dosing (source: {SPRAVATO_BP}; "
                "2-h window: clinical judgement)",
                SPRAVATO_BP,
            )
        )
        return out
    if severe:
        out.append(
            Finding(
                Severity.OVERRIDABLE,
                "vitals.severe_hypertension",
                f"blood pressure {bp} before dosing is at or above 180/110 mmHg: do not dose "
                "now; re-measure (twice, at least 1 min apart, record the lower) and enter the "
                "new reading, or a physician may override with a written reason; ketamine "
                "raises BP further (mean peak +16/+11 mmHg at 40 min in depression clinics) "
                f"(source: {SEVERE_SOURCE})",
                SEVERE_SOURCE,
            )
        )
    elif high:
        out.append(
            Finding(
                Severity.WARNING,
                "vitals.hypertension",
                f"baseline blood pressure {bp} is above 140/90 mmHg: ketamine raises BP (mean "
                "peak +16/+11 mmHg at 40 min in depression clinics); weigh the risk before "
                f"dosing (source: {SPRAVATO_BP})",
                SPRAVATO_BP,
            )
        )
    return out
