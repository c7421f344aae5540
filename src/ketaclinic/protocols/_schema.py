"""The protocol schema: every protocol data file is validated against these models at load."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ketaclinic.outcomes import TrialRule
from ketaclinic.pharmacology import MODELS, Route
from ketaclinic.safety import ConcentrationCeiling, Drug, ProtocolProfile, Setting, Severity

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


_AMOUNT_FIELDS = (
    "amount_mg_per_kg",
    "amount_mg",
    "rate_mg_per_kg_per_h",
    "rate_mg_per_h",
    "rate_mg_per_24h",
)


class DoseItem(_Frozen):
    """One dose of a session as a rule (mg/kg or fixed), rounded to ``round_to``.

    ``round_to`` is in the unit of the concrete quantity: mg for amounts, mg/h for hourly
    rates, mg/24h for daily rates. Rounding goes to the nearest increment, halves down.
    """

    label: str
    route_word: Literal["iv-bolus", "iv-infusion", "sc-infusion", "oral", "intranasal"]
    amount_mg_per_kg: float | None = Field(default=None, gt=0)
    amount_mg: float | None = Field(default=None, gt=0)
    rate_mg_per_kg_per_h: float | None = Field(default=None, gt=0)
    rate_mg_per_h: float | None = Field(default=None, gt=0)
    rate_mg_per_24h: float | None = Field(default=None, gt=0)
    duration_min: float = Field(default=0.0, ge=0)
    start_min: float = Field(default=0.0, ge=0)
    every_h: float | None = Field(default=None, gt=0)
    count: int = Field(default=1, ge=1, le=100)
    round_to: float = Field(gt=0)
    first_dose_age_65_mg: float | None = Field(
        default=None, gt=0, description="first-session dose at age 65 or older (esketamine)"
    )
    source: str = Field(min_length=5)

    @model_validator(mode="after")
    def _one_amount(self) -> DoseItem:
        given = [f for f in _AMOUNT_FIELDS if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(_AMOUNT_FIELDS)}; got {given}")
        infusion = self.route_word.endswith("infusion")
        if infusion != (self.duration_min > 0):
            raise ValueError("infusions need duration_min > 0 and single doses none")
        if given[0].startswith("rate") and not infusion:
            raise ValueError("a rate needs an infusion route word")
        return self

    @property
    def weight_based(self) -> bool:
        return self.amount_mg_per_kg is not None or self.rate_mg_per_kg_per_h is not None


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
