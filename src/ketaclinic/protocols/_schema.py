"""The protocol schema: every protocol data file is validated against these models at load."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ketaclinic.outcomes import TrialRule
from ketaclinic.pharmacology import MODELS, Drug, Route
from ketaclinic.safety import ConcentrationCeiling, DoseField, ProtocolProfile, Setting, Severity

__all__ = [
    "Ceiling",
    "DoseItem",
    "DoseRule",
    "Evidence",
    "Maintenance",
    "Monitoring",
    "Phase",
    "Protocol",
    "Schedule",
    "TrialCriteria",
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
    mg/24h for daily rates (nearest increment, halves down)."""

    label: str
    dose: DoseField = Field(
        description="the rule in the dose grammar, e.g. 'iv-infusion 0.5 "
        "mg/kg over 40 min at 0 min'"
    )
    round_to: float = Field(gt=0)
    first_dose_age_65_mg: float | None = Field(
        default=None, gt=0, description="first-session dose at age 65 or older (esketamine)"
    )
    source: str = Field(min_length=5)

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
        if self.model_id not in MODELS:
            raise ValueError(f"model_id {self.model_id!r} is not one of {', '.join(MODELS)}")
        model = MODELS[self.model_id]
        if self.route not in model.routes:
            raise ValueError(f"model {self.model_id} cannot simulate route {self.route}")
        if not any(c.kind == "hard" for c in self.ceilings):
            raise ValueError("a protocol needs a hard concentration ceiling")
        weight_based = any(d.weight_based for d in self.dose_rule.doses)
        if weight_based != (self.dose_rule.basis == "weight"):
            raise ValueError("dose_rule.basis must say 'weight' exactly when a dose is per kg")
        return self

    def profile(self) -> ProtocolProfile:
        """What the safety engine needs to know about this protocol."""
        return ProtocolProfile(
            protocol_id=self.id,
            title=self.title,
            drug=self.drug,
            setting=self.setting,
            model_id=self.model_id,
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
        )
