"""What the safety engine needs to know about a protocol, handed to it by the caller.

The safety layer sits below ``protocols`` and may not import it (DESIGN.md layers). The
protocol library builds a :class:`ProtocolProfile` from its data and passes it in; the dose
limits themselves live in the drug library, keyed by the same protocol id and route.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.pharmacology import Dose, Drug
from ketaclinic.safety._findings import Severity

__all__ = [
    "AgeEligibility",
    "ConcentrationCeiling",
    "HepaticBasis",
    "HepaticPolicy",
    "ProtocolProfile",
    "Setting",
    "WeightBasis",
    "WeightScalar",
]


class Setting(StrEnum):
    INPATIENT = "inpatient"
    OUTPATIENT = "outpatient"


@dataclass(frozen=True)
class ConcentrationCeiling:
    """A predicted concentration above which an order is flagged (``severity``)."""

    conc_ng_per_ml: float
    severity: Severity
    label: str
    source: str


@dataclass(frozen=True)
class AgeEligibility:
    """The ages a protocol is for and what happens outside them.

    Outside ``min_years``-``max_years`` the finding has severity ``outside`` (a HARD_STOP where
    the product is licensed for adults only and there is no accepted younger use, an
    OVERRIDABLE block where off-label use is a physician's call), with ``why``. Below
    ``hard_below_years`` it is a HARD_STOP whatever ``outside`` says.
    """

    min_years: float
    max_years: float | None
    outside: Severity
    why: str
    source: str
    hard_below_years: float | None = None
    hard_below_why: str = ""

    def __post_init__(self) -> None:
        if self.outside not in (Severity.HARD_STOP, Severity.OVERRIDABLE):
            raise ValueError("outside the ages a protocol is for: HARD_STOP or OVERRIDABLE")

    def describe(self) -> str:
        if self.max_years is None:
            return f"{self.min_years:g} years and older"
        return f"{self.min_years:g}-{self.max_years:g} years"


class HepaticBasis(StrEnum):
    """How a protocol's doses change in moderate hepatic impairment (Child-Pugh B).

    ``equal_auc``: the same AUC as without impairment (repeated or continuous dosing, where
    exposure accumulates); ``equal_peak``: the same predicted peak (a single peak-driven
    session); ``none``: no dose change, monitoring advice only (e.g. the esketamine label).
    """

    EQUAL_AUC = "equal_auc"
    EQUAL_PEAK = "equal_peak"
    NONE = "none"


@dataclass(frozen=True)
class HepaticPolicy:
    basis: HepaticBasis
    advice: str
    source: str


class WeightScalar(StrEnum):
    """The weight a per-kg dose is multiplied by."""

    ACTUAL = "actual"
    IDEAL = "ideal"
    ADJUSTED = "adjusted"


@dataclass(frozen=True)
class WeightBasis:
    """A weight-based protocol's dosing weight: ``scalar`` from BMI ``above_bmi`` (actual
    weight below it), with a prompt (finding) above that BMI. ``judgement``: the choice is a
    clinical judgement, not a published rule."""

    scalar: WeightScalar
    above_bmi_kg_per_m2: float
    source: str
    judgement: bool


@dataclass(frozen=True)
class ProtocolProfile:
    """Protocol facts the rules use: model, ceilings, eligibility, weight, hepatic basis.

    ``reference_doses`` are the protocol's standard doses for this patient (the planner's doses
    before any hepatic change), which the hepatic rule compares an order with; empty when the
    caller has none. ``model_reason`` says why ``model_id`` was chosen for the patient.
    """

    protocol_id: str
    title: str
    drug: Drug
    setting: Setting
    model_id: str
    ceilings: tuple[ConcentrationCeiling, ...]
    weight_based: bool
    weight_max_age_days: int
    third_line_required: bool
    repeated_sessions: bool
    source: str
    ages: AgeEligibility
    hepatic: HepaticPolicy
    weight_basis: WeightBasis | None = None
    reference_doses: tuple[Dose, ...] = ()
    model_reason: str = ""
