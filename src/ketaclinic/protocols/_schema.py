"""The protocol schema: every protocol data file is validated against these models at load."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ketaclinic.outcomes import TrialRule
from ketaclinic.pharmacology import MODELS, Dose, Drug, Route
from ketaclinic.safety import (
    AgeEligibility,
    ConcentrationCeiling,
    DoseField,
    HepaticBasis,
    HepaticPolicy,
    ProtocolProfile,
    Setting,
    Severity,
    WeightBasis,
    WeightScalar,
)

__all__ = [
    "Ages",
    "Ceiling",
    "DoseItem",
    "DoseRule",
    "Evidence",
    "Hepatic",
    "Maintenance",
    "Monitoring",
    "Phase",
    "PopulationModel",
    "Protocol",
    "Schedule",
    "TrialCriteria",
    "WeightBasisSpec",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Evidence(_Frozen):
    level: Literal["good", "moderate", "limited", "very limited"]
    summary: str = Field(min_length=10)
    source: str = Field(min_length=5)


class DoseItem(_Frozen):
    """One dose of a session as a rule: a dose in the dose grammar (mg/kg or fixed), rounded
    to ``round_to`` in the unit of the concrete dose: mg for amounts, mg/h for hourly rates,
    mg/24h for daily rates (nearest increment, halves down).

    Caps (``max_amount_mg`` per occurrence, ``max_rate_mg_per_h``, ``max_rate_mg_per_kg_per_h``
    of actual weight) are maxima the planner applies before rounding, with ``cap_source``."""

    label: str
    dose: DoseField = Field(
        description="the rule in the dose grammar, e.g. 'iv-infusion 0.5 "
        "mg/kg over 40 min at 0 min'"
    )
    round_to: float = Field(gt=0)
    first_dose_age_65_mg: float | None = Field(
        default=None, gt=0, description="first-session dose at age 65 or older (esketamine)"
    )
    max_amount_mg: float | None = Field(default=None, gt=0)
    max_rate_mg_per_h: float | None = Field(default=None, gt=0)
    max_rate_mg_per_kg_per_h: float | None = Field(default=None, gt=0)
    cap_source: str | None = Field(default=None, min_length=5)
    source: str = Field(min_length=5)

    @model_validator(mode="after")
    def _caps(self) -> DoseItem:
        capped = (self.max_amount_mg, self.max_rate_mg_per_h, self.max_rate_mg_per_kg_per_h)
        if any(c is not None for c in capped) and self.cap_source is None:
            raise ValueError("a dose with a cap needs cap_source")
        if (self.max_rate_mg_per_h or self.max_rate_mg_per_kg_per_h) and not self.dose.is_infusion:
            raise ValueError("a rate cap needs an infusion")
        return self

    @property
    def weight_based(self) -> bool:
        return self.dose.per_kg


class DoseRule(_Frozen):
    basis: Literal["weight", "fixed"]
    summary: str
    doses: tuple[DoseItem, ...] = Field(min_length=1)
    titration: tuple[str, ...] = ()
    source: str


class Phase(_Frozen):
    name: str
    day_offsets: tuple[int, ...] = Field(min_length=1)
    description: str


class Maintenance(_Frozen):
    every_days: int = Field(gt=0)
    range_days: tuple[int, int]
    shown: int = Field(ge=1, le=12)
    description: str
    source: str


class Schedule(_Frozen):
    summary: str
    phases: tuple[Phase, ...] = Field(min_length=1)
    maintenance: Maintenance | None = None
    source: str


class Monitoring(_Frozen):
    vitals: str
    min_observation_min: int = Field(ge=0)
    scales: tuple[str, ...]
    other: tuple[str, ...] = ()
    source: str


class TrialCriteria(TrialRule):
    """The trial criteria of a protocol: the human-readable text (``instrument``, ``baseline``,
    ``threshold``, ``judge_at``, ``source``) and, from :class:`ketaclinic.outcomes.TrialRule`,
    the machine-readable rule that :func:`ketaclinic.outcomes.evaluate_trial` applies.
    """

    instrument: str
    baseline: str
    threshold: str
    judge_at: str
    source: str


class Ages(_Frozen):
    """The ages a protocol is for, with its source, and what happens outside (and why)."""

    min_years: float = Field(ge=0)
    max_years: float | None = Field(default=None, gt=0)
    outside: Literal["hard_stop", "overridable"]
    why: str = Field(min_length=10)
    hard_below_years: float | None = Field(default=None, ge=0)
    hard_below_why: str = ""
    source: str = Field(min_length=5)

    @model_validator(mode="after")
    def _consistent(self) -> Ages:
        if self.hard_below_years is not None:
            if self.hard_below_years > self.min_years:
                raise ValueError("hard_below_years must not be above min_years")
            if len(self.hard_below_why) < 10:
                raise ValueError("hard_below_years needs hard_below_why")
        return self

    def describe(self) -> str:
        """The ages and what happens outside them, in words."""
        text = self.eligibility().describe()
        outside = "hard stop" if self.outside == "hard_stop" else "overridable block"
        text += f"; outside: {outside} ({self.why})"
        if self.hard_below_years is not None:
            text += f"; below {self.hard_below_years:g} years: hard stop ({self.hard_below_why})"
        return f"{text} (source: {self.source})"

    def eligibility(self) -> AgeEligibility:
        return AgeEligibility(
            self.min_years,
            self.max_years,
            Severity.HARD_STOP if self.outside == "hard_stop" else Severity.OVERRIDABLE,
            self.why,
            self.source,
            self.hard_below_years,
            self.hard_below_why,
        )


class PopulationModel(_Frozen):
    """Another PK model the planner may choose for a population the protocol allows."""

    population: str
    model_id: str
    source: str = Field(min_length=5)


class Hepatic(_Frozen):
    """How the doses change in Child-Pugh B, with the advice shown and its source."""

    child_pugh_b: HepaticBasis
    advice: str = Field(min_length=10)
    source: str = Field(min_length=5)

    def policy(self) -> HepaticPolicy:
        return HepaticPolicy(self.child_pugh_b, self.advice, self.source)


class WeightBasisSpec(_Frozen):
    """The dosing weight of a weight-based protocol and the BMI from which it applies."""

    scalar: WeightScalar
    above_bmi_kg_per_m2: float = Field(default=30.0, gt=15, le=60)
    basis: Literal["published", "judgement"]
    source: str = Field(min_length=5)

    def weight_basis(self) -> WeightBasis:
        return WeightBasis(
            self.scalar, self.above_bmi_kg_per_m2, self.source, self.basis == "judgement"
        )


class Ceiling(_Frozen):
    conc_ng_per_ml: float = Field(gt=0)
    kind: Literal["soft", "hard"]
    label: str
    source: str


class Protocol(_Frozen):
    """One evidence-labelled protocol (one YAML file in ``protocols/data``)."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str
    indication: str
    category: Literal["acute_pain", "crps", "chronic_pain", "cancer_pain", "depression"]
    drug: Drug
    setting: Setting
    evidence: Evidence
    route: Route
    model_id: str
    models_by_population: tuple[PopulationModel, ...] = ()
    ages: Ages
    hepatic: Hepatic
    weight_basis: WeightBasisSpec | None = None
    dose_rule: DoseRule
    duration: str
    schedule: Schedule
    monitoring: Monitoring
    trial: TrialCriteria
    stop_rules: tuple[str, ...] = Field(min_length=1)
    taper: str
    ceilings: tuple[Ceiling, ...] = Field(min_length=1)
    weight_max_age_days: int = Field(gt=0)
    third_line_required: bool
    repeated_sessions: bool
    sources: tuple[str, ...] = Field(min_length=1)
    verify: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        for model_id in (self.model_id, *(m.model_id for m in self.models_by_population)):
            if model_id not in MODELS:
                raise ValueError(f"model_id {model_id!r} is not one of {', '.join(MODELS)}")
            if self.route not in MODELS[model_id].routes:
                raise ValueError(f"model {model_id} cannot simulate route {self.route}")
        if not any(c.kind == "hard" for c in self.ceilings):
            raise ValueError("a protocol needs a hard concentration ceiling")
        weight_based = any(d.weight_based for d in self.dose_rule.doses)
        if weight_based != (self.dose_rule.basis == "weight"):
            raise ValueError("dose_rule.basis must say 'weight' exactly when a dose is per kg")
        if weight_based != (self.weight_basis is not None):
            raise ValueError("a weight-based protocol states its weight_basis (and only it)")
        return self

    def profile(
        self,
        model_id: str | None = None,
        *,
        reference_doses: tuple[Dose, ...] = (),
        model_reason: str = "",
    ) -> ProtocolProfile:
        """What the safety engine needs to know about this protocol; ``model_id`` (default:
        the protocol's model) and ``reference_doses`` (the standard doses for the patient) are
        given by the planner for one patient."""
        return ProtocolProfile(
            protocol_id=self.id,
            title=self.title,
            drug=self.drug,
            setting=self.setting,
            model_id=model_id or self.model_id,
            ceilings=tuple(
                ConcentrationCeiling(
                    c.conc_ng_per_ml,
                    Severity.HARD_STOP if c.kind == "hard" else Severity.OVERRIDABLE,
                    c.label,
                    c.source,
                )
                for c in self.ceilings
            ),
            weight_based=self.dose_rule.basis == "weight",
            weight_max_age_days=self.weight_max_age_days,
            third_line_required=self.third_line_required,
            repeated_sessions=self.repeated_sessions,
            source="; ".join(self.sources),
            ages=self.ages.eligibility(),
            hepatic=self.hepatic.policy(),
            weight_basis=self.weight_basis.weight_basis() if self.weight_basis else None,
            reference_doses=reference_doses,
            model_reason=model_reason,
        )
