"""Test helpers: a typical eligible patient, orders, and a one-call safety check.

The clock is frozen: every check runs ``as_of`` 2026-12-01 09:00 UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology import Dose
from ketaclinic.protocols import get_protocol, profile_for
from ketaclinic.safety import (
    Finding,
    Order,
    PatientContext,
    PreviousSession,
    SafetyReport,
    Severity,
    check_order,
    format_validation_error,
)

AS_OF = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

COVARIATES: dict[str, Any] = {"weight_kg": 70.0, "age_years": 45, "sex": "female", "height_cm": 170}
TYPICAL: dict[str, Any] = {
    "covariates": COVARIATES,
    "weight_measured_on": "2026-11-25",
    "vitals": {
        "measured_at": "2026-12-01T08:30:00Z",
        "systolic_mmhg": 124,
        "diastolic_mmhg": 78,
    },
    "prior_pain_treatments": ["opioid", "gabapentinoid"],
}

ROUTE_OF = {
    "acute-pain-iv": "iv",
    "crps-continuous-4d": "iv",
    "crps-daily-10d": "iv",
    "chronic-pain-iv-series": "iv",
    "depression-iv": "iv",
    "esketamine-nasal": "intranasal",
    "palliative-oral": "oral",
    "palliative-sc-burst": "sc",
}
USUAL_DOSES = {
    "acute-pain-iv": ["iv-bolus 17 mg", "iv-infusion 10.5 mg/h for 24 h"],
    "crps-continuous-4d": ["iv-infusion 22 mg/h for 96 h"],
    "crps-daily-10d": ["iv-infusion 24.5 mg/h for 4 h"],
    "chronic-pain-iv-series": ["iv-infusion 24.5 mg/h for 4 h"],
    "depression-iv": ["iv-infusion 35 mg over 40 min"],
    "esketamine-nasal": ["intranasal 56 mg"],
    "palliative-oral": ["oral 10 mg every 6 h x 4"],
    "palliative-sc-burst": ["sc-infusion 100 mg/24h for 24 h"],
}


_COVARIATE_NAMES = frozenset(COVARIATES) | {"child_pugh"}


def patient(**changes: Any) -> PatientContext:
    """The typical eligible 70 kg adult, with ``changes`` (covariates such as ``weight_kg``
    or ``child_pugh`` may be given at top level, as in the old flat form)."""
    covariates = {**COVARIATES, **{k: v for k, v in changes.items() if k in _COVARIATE_NAMES}}
    rest = {k: v for k, v in changes.items() if k not in _COVARIATE_NAMES}
    return PatientContext.model_validate({**TYPICAL, "covariates": covariates, **rest})


_WORD = {"iv": "iv-infusion", "sc": "sc-infusion"}


def session(
    protocol: str, days_before: float, dose_mg: float, duration_min: float = 0.0
) -> dict[str, Any]:
    """A previous session ``days_before`` the check time, as patient-file data: ``dose_mg``
    at once, or over ``duration_min``."""
    start = AS_OF - timedelta(days=days_before)
    route = ROUTE_OF[protocol]
    if duration_min > 0:
        dose = f"{_WORD[route]} {dose_mg:g} mg over {duration_min:g} min"
    else:
        dose = f"{'iv-bolus' if route == 'iv' else route} {dose_mg:g} mg"
    return {"start": start.isoformat(), "protocol": protocol, "doses": [dose]}


def run(
    protocol: str,
    doses: Sequence[str | Dose] | None = None,
    *,
    route: str | None = None,
    who: PatientContext | None = None,
    overrides: dict[str, str] | None = None,
    previous: Sequence[dict[str, Any]] = (),
    as_of: datetime = AS_OF,
) -> SafetyReport:
    """Check an order (default: the protocol's usual doses) for ``who`` at ``as_of``."""
    who = who or patient()
    if previous:
        who = who.model_copy(
            update={"previous_sessions": tuple(PreviousSession.model_validate(p) for p in previous)}
        )
    data = {
        "protocol": protocol,
        "route": route or ROUTE_OF[protocol],
        "doses": list(doses if doses is not None else USUAL_DOSES[protocol]),
        "overrides": overrides or {},
    }
    try:  # as at the edge (the CLI, the API): invalid input is one user error
        order = Order.model_validate(data)
    except ValidationError as error:
        raise UserInputError(format_validation_error(error, "order")) from None
    return check_order(order, who, profile_for(get_protocol(protocol), who), as_of=as_of)


def codes(report: SafetyReport, severity: Severity | None = None) -> set[str]:
    return report.codes(severity)


def finding(report: SafetyReport, code: str) -> Finding:
    matches = [f for f in report.findings if f.code == code]
    assert matches, f"no {code} in {[f.code for f in report.findings]}"
    return matches[0]
