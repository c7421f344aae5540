"""From a protocol's dose rule to a concrete dose for one patient: dosing weight, hepatic
factor, caps, rounding; and the choice of PK model for the patient.

Rounding (practical increments, declared per dose in the protocol data as ``round_to``):
IV amounts to 1 mg, pump rates to 0.1 mg/h, oral doses to 5 mg, SC 24-h amounts to 10 mg
and esketamine to whole 28 mg devices. Rounding goes to the nearest increment with halves
rounded down (never up past the calculated dose by half a step), and never below one step; a
capped dose is rounded down, so that rounding never takes it past its cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ketaclinic.pharmacology import MODELS, Dose, DoseUnit, Patient, plain_number
from ketaclinic.protocols._schema import DoseItem, Protocol
from ketaclinic.safety import DosingWeight

__all__ = [
    "ROUNDING_RULES",
    "ModelChoice",
    "PlannedDose",
    "choose_model",
    "concrete_dose",
    "round_half_down",
]

ROUNDING_RULES = (
    "IV amounts to 1 mg, pump rates to 0.1 mg/h, oral doses to 5 mg, SC 24-h amounts to 10 mg, "
    "esketamine to whole 28 mg devices; nearest increment, halves rounded down, at least one "
    "increment; a capped dose is rounded down"
)


def round_half_down(value: float, step: float) -> float:
    """Nearest multiple of ``step``, halves down, at least one ``step``.

    >>> round_half_down(24.5, 1), round_half_down(24.51, 1), round_half_down(52.5, 28)
    (24.0, 25.0, 56.0)
    >>> round_half_down(0.2, 5)
    5.0
    """
    n = math.ceil(value / step - 0.5 - 1e-9)
    return float(round(max(n, 1) * step, 10))


def _round_down(value: float, step: float) -> float:
    n = math.floor(value / step + 1e-9)
    return float(round(max(n, 1) * step, 10))


def _fmt(x: float) -> str:
    """A calculated quantity: 4 significant digits, never an exponent."""
    return plain_number(float(f"{x:.4g}"))


@dataclass(frozen=True)
class PlannedDose:
    """One concrete dose line of a plan: the :class:`Dose` in mg (or mg/h, mg/24h), its label
    and the hand calculation that led to it (``capped`` when a cap of the protocol applied)."""

    label: str
    dose: Dose
    calculation: str
    capped: bool = False

    @property
    def text(self) -> str:
        return str(self.dose)

    @property
    def amount_mg(self) -> float:
        """mg of one occurrence."""
        return self.dose.amount_mg(1.0)  # concrete doses are absolute: no weight needed

    @property
    def rate_mg_per_h(self) -> float | None:
        return self.dose.rate_mg_per_h(1.0) if self.dose.is_infusion else None

    @property
    def duration_min(self) -> float:
        return self.dose.duration_min

    @property
    def count(self) -> int:
        return self.dose.count

    @property
    def total_mg(self) -> float:
        """All repeats of this line together."""
        return self.dose.total_mg(1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "dose": self.dose.to_json(),
            "amount_mg": self.amount_mg,
            "rate_mg_per_h": self.rate_mg_per_h,
            "duration_min": self.duration_min,
            "count": self.count,
            "total_mg": self.total_mg,
            "capped": self.capped,
            "calculation": self.calculation,
        }


_ABSOLUTE = {
    DoseUnit.MG_PER_KG: DoseUnit.MG,
    DoseUnit.MG_PER_KG_PER_MIN: DoseUnit.MG_PER_MIN,
    DoseUnit.MG_PER_KG_PER_H: DoseUnit.MG_PER_H,
    DoseUnit.MG_PER_KG_PER_24H: DoseUnit.MG_PER_24H,
}


def _cap(item: DoseItem, template: Dose, weight_kg: float) -> tuple[float, str] | None:
    """The largest value (in the concrete dose's unit) the item's caps allow, and the cap
    in words; None without caps."""
    per_value = template.replace(value=1.0)
    caps: list[tuple[float, str]] = []
    if item.max_amount_mg is not None:
        caps.append(
            (item.max_amount_mg / per_value.amount_mg(1.0), f"{_fmt(item.max_amount_mg)} mg")
        )
    if template.is_infusion:
        rate_per_value = per_value.rate_mg_per_h(1.0)
        if item.max_rate_mg_per_h is not None:
            caps.append(
                (item.max_rate_mg_per_h / rate_per_value, f"{_fmt(item.max_rate_mg_per_h)} mg/h")
            )
        if item.max_rate_mg_per_kg_per_h is not None:
            rate = item.max_rate_mg_per_kg_per_h * weight_kg
            caps.append(
                (
                    rate / rate_per_value,
                    f"{_fmt(item.max_rate_mg_per_kg_per_h)} mg/kg/h x {_fmt(weight_kg)} kg = "
                    f"{_fmt(rate)} mg/h",
                )
            )
    return min(caps, default=None)


def concrete_dose(
    item: DoseItem,
    weight_kg: float,
    *,
    first_session: bool,
    age_years: float,
    factor: float = 1.0,
    dosing: DosingWeight | None = None,
    factor_label: str = "hepatic factor",
) -> PlannedDose:
    """``item`` for a patient: per-kg doses times the dosing weight (``dosing``, default the
    actual ``weight_kg``), scaled by ``factor`` (hepatic adjustment), capped, rounded.

    >>> from ketaclinic.protocols import get_protocol
    >>> rule = get_protocol("depression-iv").dose_rule.doses[0]
    >>> planned = concrete_dose(rule, 70.0, first_session=True, age_years=40)
    >>> str(planned.dose), planned.calculation
    ('iv-infusion 35 mg over 40 min at 0 min', '0.5 mg/kg x 70 kg = 35 mg -> 35 mg (rounded to \
1 mg); rate 35 mg / 40 min = 52.5 mg/h')
    """
    rule = item.dose
    step = item.round_to
    scaled = "" if factor == 1.0 else f" x {factor:.3f} ({factor_label})"
    if rule.per_kg:
        kg = dosing.weight_kg if dosing is not None else weight_kg
        raw = rule.value * kg * factor
        which = f" ({dosing.explanation})" if dosing is not None and not dosing.is_actual else ""
        calc = f"{_fmt(rule.value)} {rule.unit} x {_fmt(kg)} kg{which}{scaled}"
    else:
        base = rule.value
        if first_session and item.first_dose_age_65_mg and age_years >= 65:
            base = item.first_dose_age_65_mg
        raw = base * factor
        calc = f"{_fmt(base)} {rule.unit} fixed{scaled}"
    unit = _ABSOLUTE.get(rule.unit, rule.unit)
    calc += f" = {_fmt(raw)} {unit}"
    template = rule.replace(value=1.0, unit=unit)
    cap = _cap(item, template, weight_kg)
    capped = cap is not None and raw > cap[0] + 1e-9
    if capped and cap is not None:
        raw = cap[0]
        calc += f" -> capped at {cap[1]} ({item.cap_source})"
        value = _round_down(raw, step)
        calc += f" -> {_fmt(value)} {unit} (rounded down to {_fmt(step)} {unit})"
    else:
        value = round_half_down(raw, step)
        calc += f" -> {_fmt(value)} {unit} (rounded to {_fmt(step)} {unit})"
    dose = rule.replace(value=value, unit=unit)
    if dose.is_infusion:
        rate, amount = dose.rate_mg_per_h(1.0), dose.amount_mg(1.0)
        if unit.is_rate:
            hours = dose.duration_min / 60.0
            if unit is not DoseUnit.MG_PER_H:
                calc += f" = {_fmt(rate)} mg/h"
            calc += f"; {_fmt(rate)} mg/h x {_fmt(hours)} h = {_fmt(amount)} mg"
        else:
            calc += f"; rate {_fmt(amount)} mg / {_fmt(dose.duration_min)} min = {_fmt(rate)} mg/h"
    return PlannedDose(item.label, dose, calc, capped)


@dataclass(frozen=True)
class ModelChoice:
    """The PK model the planner uses for one patient, and why."""

    model_id: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model_id, "reason": self.reason}


def _covers(model_id: str, patient: Patient) -> tuple[bool, bool]:
    model = MODELS[model_id]
    lo, hi = model.age_range_years
    w_lo, w_hi = model.weight_range_kg
    return lo <= patient.age_years <= hi, w_lo <= patient.weight_kg <= w_hi


def _ranges(model_id: str) -> str:
    model = MODELS[model_id]
    (lo, hi), (w_lo, w_hi) = model.age_range_years, model.weight_range_kg
    return f"{model_id} ({model.name}: {lo:g}-{hi:g} years, {w_lo:g}-{w_hi:g} kg)"


def choose_model(protocol: Protocol, patient: Patient) -> ModelChoice:
    """The first of the protocol's models (its own, then those listed by population) whose
    validated age and weight ranges hold the patient; else the first whose age range does;
    else the protocol's own model, extrapolated. The reason names the ranges."""
    candidates = [protocol.model_id, *(m.model_id for m in protocol.models_by_population)]
    who = f"age {patient.age_years:g} years, {patient.weight_kg:g} kg"
    others = candidates[1:]
    for model_id in candidates:
        age_ok, weight_ok = _covers(model_id, patient)
        if age_ok and weight_ok:
            why = f"{who} is inside the validated range of {_ranges(model_id)}"
            if model_id != protocol.model_id:
                why += f"; the protocol's model {_ranges(protocol.model_id)} is not"
            elif others:
                why += " (the protocol's own model)"
            return ModelChoice(model_id, why)
    for model_id in candidates:
        age_ok, _ = _covers(model_id, patient)
        if age_ok:
            return ModelChoice(
                model_id,
                f"{who}: the age is inside {_ranges(model_id)} but the weight is not "
                "(extrapolated)",
            )
    listed = "; ".join(_ranges(c) for c in candidates)
    return ModelChoice(
        protocol.model_id,
        f"{who} is outside every model the protocol lists ({listed}): "
        f"{protocol.model_id}, extrapolated",
    )
