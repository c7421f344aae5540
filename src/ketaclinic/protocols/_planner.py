"""The dose planner: protocol + patient + start date -> concrete doses, calendar, prediction,
findings.

Rounding (practical increments, declared per dose in the protocol data as ``round_to``):
IV amounts to 1 mg, pump rates to 0.1 mg/h, oral doses to 5 mg, SC 24-h amounts to 10 mg
and esketamine to whole 28 mg devices. Rounding goes to the nearest increment with halves
rounded down (never up past the calculated dose by half a step), and never below one step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ketaclinic.pharmacology import Dose, DoseUnit, SimulationResult, plain_number
from ketaclinic.protocols._loader import get_protocol
from ketaclinic.protocols._risk import RISK_PATIENTS, PopulationRisk, population_risk
from ketaclinic.protocols._schema import DoseItem, Protocol
from ketaclinic.safety import (
    HepaticExposure,
    Order,
    PatientContext,
    SafetyReport,
    Unavailable,
    check_order,
    compare_hepatic,
    peak_ng_per_ml,
    predict,
)

__all__ = [
    "ROUNDING_RULES",
    "SESSION_TIME_UTC",
    "HepaticAdjustment",
    "Plan",
    "PlannedDose",
    "PlannedSession",
    "check",
    "concrete_dose",
    "plan",
    "round_half_down",
]

ROUNDING_RULES = (
    "IV amounts to 1 mg, pump rates to 0.1 mg/h, oral doses to 5 mg, SC 24-h amounts to 10 mg, "
    "esketamine to whole 28 mg devices; nearest increment, halves rounded down, at least one "
    "increment"
)
SESSION_TIME_UTC = time(9, 0)  # sessions in the calendar start at 09:00 UTC on their day


def round_half_down(value: float, step: float) -> float:
    """Nearest multiple of ``step``, halves down, at least one ``step``.

    >>> round_half_down(24.5, 1), round_half_down(24.51, 1), round_half_down(52.5, 28)
    (24.0, 25.0, 56.0)
    >>> round_half_down(0.2, 5)
    5.0
    """
    n = math.ceil(value / step - 0.5 - 1e-9)
    return float(round(max(n, 1) * step, 10))


@dataclass(frozen=True)
class PlannedDose:
    """One concrete dose line of a plan: the :class:`Dose` in mg (or mg/h, mg/24h), its label
    and the hand calculation that led to it."""

    label: str
    dose: Dose
    calculation: str

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
            "calculation": self.calculation,
        }


def _fmt(x: float) -> str:
    return plain_number(round(x, 10))


_ABSOLUTE = {
    DoseUnit.MG_PER_KG: DoseUnit.MG,
    DoseUnit.MG_PER_KG_PER_MIN: DoseUnit.MG_PER_MIN,
    DoseUnit.MG_PER_KG_PER_H: DoseUnit.MG_PER_H,
    DoseUnit.MG_PER_KG_PER_24H: DoseUnit.MG_PER_24H,
}


def concrete_dose(
    item: DoseItem, weight_kg: float, *, first_session: bool, age_years: float, factor: float = 1.0
) -> PlannedDose:
    """``item`` for a patient, scaled by ``factor`` (hepatic adjustment) and rounded.

    >>> from ketaclinic.protocols import get_protocol
    >>> rule = get_protocol("depression-iv").dose_rule.doses[0]
    >>> planned = concrete_dose(rule, 70.0, first_session=True, age_years=40)
    >>> str(planned.dose), planned.calculation
    ('iv-infusion 35 mg over 40 min at 0 min', '0.5 mg/kg x 70 kg = 35 mg -> 35 mg (rounded to \
1 mg); rate 35 mg / 40 min = 52.5 mg/h')
    """
    rule = item.dose
    step = item.round_to
    scaled = "" if factor == 1.0 else f" x {factor:.3f} (equal-AUC hepatic factor)"
    if rule.per_kg:
        raw = rule.value * weight_kg * factor
        calc = f"{_fmt(rule.value)} {rule.unit} x {_fmt(weight_kg)} kg{scaled}"
    else:
        base = rule.value
        if first_session and item.first_dose_age_65_mg and age_years >= 65:
            base = item.first_dose_age_65_mg
        raw = base * factor
        calc = f"{_fmt(base)} {rule.unit} fixed{scaled}"
    unit = _ABSOLUTE.get(rule.unit, rule.unit)
    value = round_half_down(raw, step)
    calc += f" = {raw:.4g} {unit} -> {_fmt(value)} {unit} (rounded to {_fmt(step)} {unit})"
    dose = rule.replace(value=value, unit=unit)
    if dose.is_infusion:
        rate, amount = dose.rate_mg_per_h(1.0), dose.amount_mg(1.0)
        if unit.is_rate:
            hours = dose.duration_min / 60.0
            if unit is not DoseUnit.MG_PER_H:
                calc += f" = {rate:.4g} mg/h"
            calc += f"; {rate:.4g} mg/h x {hours:.4g} h = {amount:.4g} mg"
        else:
            calc += f"; rate {_fmt(amount)} mg / {_fmt(dose.duration_min)} min = {rate:.4g} mg/h"
    return PlannedDose(item.label, dose, calc)


@dataclass(frozen=True)
class PlannedSession:
    number: int
    phase: str
    day: date
    doses: tuple[Dose, ...]
    total_mg: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "phase": self.phase,
            "date": self.day.isoformat(),
            "doses": [d.to_json() for d in self.doses],
            "total_mg": self.total_mg,
        }


@dataclass(frozen=True)
class HepaticAdjustment:
    """Standard doses vs the doses giving the AUC of a patient without impairment."""

    child_pugh: str
    factor: float
    standard: tuple[PlannedDose, ...]
    adjusted: tuple[PlannedDose, ...]
    standard_exposure: HepaticExposure
    adjusted_prediction: SimulationResult | None
    basis: str

    def to_dict(self) -> dict[str, Any]:
        normal = self.standard_exposure.normal.summary.ketamine
        impaired = self.standard_exposure.impaired.summary.ketamine
        adjusted = self.adjusted_prediction.summary.ketamine if self.adjusted_prediction else None
        return {
            "child_pugh": self.child_pugh,
            "equal_auc_dose_factor": self.factor,
            "standard_doses": [d.to_dict() for d in self.standard],
            "adjusted_doses": [d.to_dict() for d in self.adjusted],
            "auc_ng_h_per_ml": {
                "standard_dose_no_impairment": normal.auc_ng_h_per_ml,
                "standard_dose_impaired": impaired.auc_ng_h_per_ml,
                "adjusted_dose_impaired": adjusted.auc_ng_h_per_ml if adjusted else None,
            },
            "cmax_ng_per_ml": {
                "standard_dose_no_impairment": normal.cmax_ng_per_ml,
                "standard_dose_impaired": impaired.cmax_ng_per_ml,
                "adjusted_dose_impaired": adjusted.cmax_ng_per_ml if adjusted else None,
            },
            "basis": self.basis,
        }


@dataclass(frozen=True)
class Plan:
    """A concrete plan for one patient. ``population_risk``: how many similar virtual
    patients exceed each concentration ceiling on the first session (or why it could not be
    estimated)."""

    protocol: Protocol
    patient: PatientContext
    start: date
    doses: tuple[PlannedDose, ...]
    sessions: tuple[PlannedSession, ...]
    prediction: SimulationResult | None
    prediction_note: str
    hepatic: HepaticAdjustment | None
    report: SafetyReport
    rounding: str = field(default="")
    population_risk: PopulationRisk | Unavailable | None = None

    @property
    def allowed(self) -> bool:
        return self.report.allowed

    def to_dict(self, curve_step_min: float = 5.0) -> dict[str, Any]:
        p = self.protocol
        prediction: dict[str, Any] | None = None
        if self.prediction is not None:
            r = self.prediction
            stride = max(
                1, round(curve_step_min / max(float(r.times_min[1] - r.times_min[0]), 1e-9))
            )
            peak, site = peak_ng_per_ml(r)
            prediction = {
                "model": r.model.id,
                "summary": r.summary.to_dict(),
                "ceiling_compared": {"conc_ng_per_ml": peak, "site": site},
                "times_min": [float(t) for t in r.times_min[::stride]],
                "ketamine_ng_per_ml": [float(c) for c in r.ketamine_ng_per_ml[::stride]],
                "warnings": list(r.warnings),
                "sources": list(r.sources),
                "covers": self.prediction_note,
            }
        return {
            "protocol": p.id,
            "title": p.title,
            "drug": str(p.drug),
            "route": str(p.route),
            "patient": self.patient.covariates.as_dict(),
            "start": self.start.isoformat(),
            "dose_rule": p.dose_rule.summary,
            "doses": [d.to_dict() for d in self.doses],
            "titration": list(p.dose_rule.titration),
            "rounding": self.rounding,
            "sessions": [s.to_dict() for s in self.sessions],
            "prediction": prediction,
            "hepatic_adjustment": self.hepatic.to_dict() if self.hepatic else None,
            "allowed": self.report.allowed,
            "findings": [f.to_dict() for f in self.report.findings],
            "drug_library_version": self.report.drug_library_version,
            "population_risk": self.population_risk.to_dict() if self.population_risk else None,
        }


def _session_doses(
    protocol: Protocol, patient: PatientContext, first: bool, factor: float
) -> tuple[PlannedDose, ...]:
    return tuple(
        concrete_dose(
            item,
            patient.weight_kg,
            first_session=first,
            age_years=patient.age_years,
            factor=factor,
        )
        for item in protocol.dose_rule.doses
    )


def _calendar(
    protocol: Protocol,
    patient: PatientContext,
    start: date,
    first: tuple[PlannedDose, ...],
    later: tuple[PlannedDose, ...],
) -> tuple[PlannedSession, ...]:
    sessions: list[PlannedSession] = []
    last_offset = 0
    for phase in protocol.schedule.phases:
        for offset in phase.day_offsets:
            doses = first if not sessions else later
            sessions.append(
                PlannedSession(
                    len(sessions) + 1,
                    phase.name,
                    start + timedelta(days=offset),
                    tuple(d.dose for d in doses),
                    sum(d.total_mg for d in doses),
                )
            )
            last_offset = max(last_offset, offset)
    maintenance = protocol.schedule.maintenance
    if maintenance is not None:
        for k in range(1, maintenance.shown + 1):
            sessions.append(
                PlannedSession(
                    len(sessions) + 1,
                    "maintenance",
                    start + timedelta(days=last_offset + k * maintenance.every_days),
                    tuple(d.dose for d in later),
                    sum(d.total_mg for d in later),
                )
            )
    return tuple(sessions)


def check(order: Order, patient: PatientContext, *, as_of: datetime) -> SafetyReport:
    """Check an order against its protocol (looked up by ``order.protocol``).

    >>> from datetime import UTC, datetime
    >>> from ketaclinic.safety import Order, PatientContext
    >>> who = PatientContext.model_validate({"weight_measured_on": "2026-11-20",
    ...     "covariates": {"weight_kg": 70, "age_years": 40, "sex": "female"}})
    >>> order = Order(protocol="depression-iv", doses=["iv-infusion 3.5 mg/kg over 40 min"])
    >>> report = check(order, who, as_of=datetime(2026, 12, 1, 9, tzinfo=UTC))
    >>> report.allowed
    False
    >>> sorted(f.code for f in report.findings if f.severity == "HARD_STOP")[:2]
    ['concentration.hard', 'infusion_rate_mg_per_kg_per_h.hard']
    """
    protocol = get_protocol(order.protocol)
    return check_order(order, patient, protocol.profile(), as_of=as_of)


def plan(
    protocol: str | Protocol,
    patient: PatientContext,
    start: date,
    *,
    risk_patients: int = RISK_PATIENTS,
) -> Plan:
    """Plan ``protocol`` for ``patient`` from ``start`` (sessions at 09:00 UTC).

    The safety check covers the first session, ordered for the start date; the prediction
    covers the first session too.

    >>> from ketaclinic.safety import PatientContext
    >>> who = PatientContext.model_validate({"weight_measured_on": "2026-11-20",
    ...     "covariates": {"weight_kg": 70, "age_years": 40, "sex": "female"}})
    >>> p = plan("depression-iv", who, date(2026, 12, 1))
    >>> [d.text for d in p.doses], p.allowed
    (['iv-infusion 35 mg over 40 min at 0 min'], True)
    >>> [s.day.isoformat() for s in p.sessions][:3]
    ['2026-12-01', '2026-12-03', '2026-12-05']
    """
    spec = get_protocol(protocol) if isinstance(protocol, str) else protocol
    who = patient.covariates
    standard_first = _session_doses(spec, patient, True, 1.0)
    factor = 1.0
    hepatic: HepaticAdjustment | None = None
    first, later = standard_first, _session_doses(spec, patient, False, 1.0)
    if patient.child_pugh == "B":
        exposure = compare_hepatic(spec.model_id, who, [d.dose for d in standard_first])
        if not isinstance(exposure, Unavailable):
            factor = exposure.equal_auc_dose_factor
            first = _session_doses(spec, patient, True, factor)
            later = _session_doses(spec, patient, False, factor)
            adjusted = predict(spec.model_id, who, [d.dose for d in first], long_horizon=True)
            hepatic = HepaticAdjustment(
                "B",
                factor,
                standard_first,
                first,
                exposure,
                adjusted if not isinstance(adjusted, Unavailable) else None,
                exposure.basis,
            )
    doses = [d.dose for d in first]
    prediction = predict(spec.model_id, who, doses)
    note = "the first session"
    prediction_result: SimulationResult | None = None
    if isinstance(prediction, Unavailable):
        note = f"no prediction: {prediction.reason}"
    else:
        prediction_result = prediction
    moment = datetime.combine(start, SESSION_TIME_UTC, tzinfo=UTC)
    order = Order(protocol=spec.id, route=spec.route, doses=tuple(doses), start=moment)
    report = check_order(order, patient, spec.profile(), as_of=moment)
    risk = (
        population_risk(
            spec.model_id,
            who,
            doses,
            [(c.conc_ng_per_ml, c.kind) for c in spec.ceilings],
            n=risk_patients,
        )
        if risk_patients > 0
        else None
    )
    return Plan(
        protocol=spec,
        patient=patient,
        start=start,
        doses=first,
        sessions=_calendar(spec, patient, start, first, later),
        prediction=prediction_result,
        prediction_note=note,
        hepatic=hepatic,
        report=report,
        rounding=ROUNDING_RULES,
        population_risk=risk,
    )
