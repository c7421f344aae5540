"""The dose planner: protocol + patient + start date -> concrete doses, calendar, prediction,
findings.

For one patient the planner chooses the PK model (:func:`choose_model`), the dosing weight
(the protocol's weight basis), the concrete doses (caps and rounding, :mod:`._dosing`) and, in
Child-Pugh B, the protocol's hepatic adjustment (:mod:`._hepatic`); the safety engine then
checks the first session with the same model and the standard doses as its hepatic reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ketaclinic.pharmacology import Dose, SimulationResult
from ketaclinic.protocols._dosing import (
    ROUNDING_RULES,
    ModelChoice,
    PlannedDose,
    choose_model,
    concrete_dose,
)
from ketaclinic.protocols._hepatic import HepaticAdjustment, hepatic_factor, peaks
from ketaclinic.protocols._loader import get_protocol
from ketaclinic.protocols._risk import RISK_PATIENTS, PopulationRisk, population_risk
from ketaclinic.protocols._schema import Protocol
from ketaclinic.safety import (
    DosingWeight,
    HepaticBasis,
    Order,
    PatientContext,
    ProtocolProfile,
    SafetyReport,
    Unavailable,
    check_order,
    dosing_weight,
    peak_ng_per_ml,
    predict,
)

__all__ = [
    "SESSION_TIME_UTC",
    "Plan",
    "PlannedSession",
    "check",
    "plan",
    "profile_for",
]

SESSION_TIME_UTC = time(9, 0)  # sessions in the calendar start at 09:00 UTC on their day


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
    model_choice: ModelChoice | None = None
    dosing_weight: DosingWeight | None = None

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
            "interaction_tables_version": self.report.interaction_tables_version,
            "population_risk": self.population_risk.to_dict() if self.population_risk else None,
            "model_choice": self.model_choice.to_dict() if self.model_choice else None,
            "dosing_weight": _weight_dict(self.dosing_weight),
            "ages": p.ages.model_dump(mode="json"),
        }


def _weight_dict(weight: DosingWeight | None) -> dict[str, Any] | None:
    if weight is None:
        return None
    return {
        "weight_kg": weight.weight_kg,
        "scalar": str(weight.scalar),
        "bmi_kg_per_m2": weight.bmi_kg_per_m2,
        "ideal_body_weight_kg": weight.ideal_kg,
        "explanation": weight.explanation,
    }


def _dosing_weight(protocol: Protocol, patient: PatientContext) -> DosingWeight:
    basis = protocol.weight_basis.weight_basis() if protocol.weight_basis else None
    return dosing_weight(patient, basis)


def _session_doses(
    protocol: Protocol,
    patient: PatientContext,
    first: bool,
    factor: float = 1.0,
    factor_label: str = "hepatic factor",
) -> tuple[PlannedDose, ...]:
    return tuple(
        concrete_dose(
            item,
            patient.weight_kg,
            first_session=first,
            age_years=patient.age_years,
            factor=factor,
            dosing=_dosing_weight(protocol, patient) if protocol.weight_basis else None,
            factor_label=factor_label,
        )
        for item in protocol.dose_rule.doses
    )


def profile_for(protocol: Protocol, patient: PatientContext) -> ProtocolProfile:
    """The protocol's profile for one patient: the model chosen for them and their standard
    doses (the hepatic rule's reference); first-session doses when they have had no session
    of this protocol."""
    choice = choose_model(protocol, patient.covariates)
    first = not any(s.protocol == protocol.id for s in patient.previous_sessions)
    standard = _session_doses(protocol, patient, first)
    return protocol.profile(
        choice.model_id,
        reference_doses=tuple(d.dose for d in standard),
        model_reason=choice.reason,
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
    return check_order(order, patient, profile_for(protocol, patient), as_of=as_of)


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
    choice = choose_model(spec, who)
    model = choice.model_id
    standard_first = _session_doses(spec, patient, True)
    first, later = standard_first, _session_doses(spec, patient, False)
    hepatic = (
        _hepatic_adjustment(spec, patient, model, standard_first)
        if patient.child_pugh == "B"
        else None
    )
    if hepatic is not None:
        first, later = hepatic.adjusted, hepatic.adjusted_later
    doses = [d.dose for d in first]
    prediction = predict(model, who, doses)
    note = "the first session"
    prediction_result: SimulationResult | None = None
    if isinstance(prediction, Unavailable):
        note = f"no prediction: {prediction.reason}"
    else:
        prediction_result = prediction
    moment = datetime.combine(start, SESSION_TIME_UTC, tzinfo=UTC)
    order = Order(protocol=spec.id, route=spec.route, doses=tuple(doses), start=moment)
    profile = spec.profile(
        model,
        reference_doses=tuple(d.dose for d in standard_first),
        model_reason=choice.reason,
    )
    report = check_order(order, patient, profile, as_of=moment)
    risk = (
        population_risk(
            model,
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
        hepatic=hepatic.adjustment if hepatic is not None else None,
        report=report,
        rounding=ROUNDING_RULES,
        population_risk=risk,
        model_choice=choice,
        dosing_weight=_dosing_weight(spec, patient),
    )


@dataclass(frozen=True)
class _Hepatic:
    adjustment: HepaticAdjustment
    adjusted: tuple[PlannedDose, ...]
    adjusted_later: tuple[PlannedDose, ...]


def _hepatic_adjustment(
    spec: Protocol, patient: PatientContext, model: str, standard: tuple[PlannedDose, ...]
) -> _Hepatic | None:
    """The protocol's Child-Pugh B adjustment, or None when the model cannot predict it."""
    who = patient.covariates
    method = spec.hepatic.child_pugh_b
    found = hepatic_factor(method, model, who, [d.dose for d in standard])
    if isinstance(found, Unavailable):
        return None
    factor, exposure, (p_normal, p_impaired, site) = found
    label = {
        HepaticBasis.EQUAL_AUC: "equal-AUC hepatic factor",
        HepaticBasis.EQUAL_PEAK: "equal-peak hepatic factor",
        HepaticBasis.NONE: "no hepatic change",
    }[method]
    first = _session_doses(spec, patient, True, factor, label)
    later = _session_doses(spec, patient, False, factor, label)
    adjusted = predict(model, who, [d.dose for d in first], long_horizon=True)
    adjusted_peak = peaks(model, who, [d.dose for d in first])
    adjustment = HepaticAdjustment(
        "B",
        method,
        factor,
        standard,
        first,
        exposure,
        adjusted if not isinstance(adjusted, Unavailable) else None,
        (
            p_normal,
            p_impaired,
            adjusted_peak[1] if not isinstance(adjusted_peak, Unavailable) else None,
        ),
        site,
        exposure.basis,
        spec.hepatic.advice,
        spec.hepatic.source,
    )
    return _Hepatic(adjustment, first, later)
