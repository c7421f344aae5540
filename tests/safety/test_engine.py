"""The engine's contract: pure inputs, Dose objects, explicit time, the facade."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError
from safety_helpers import AS_OF, codes, patient, run

import ketaclinic.safety as safety
from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology import Dose, DoseUnit, Route
from ketaclinic.protocols import get_protocol
from ketaclinic.safety import Order, PatientContext, Severity, check_order, format_validation_error
from ketaclinic.safety.rules import RULES


def test_the_facade_lists_its_public_names() -> None:
    assert set(safety.__all__) == {
        "LIMIT_NAMES",
        "AgeEligibility",
        "ConcentrationCeiling",
        "Diagnosis",
        "DoseField",
        "DosingWeight",
        "DrugLibrary",
        "Finding",
        "HepaticBasis",
        "HepaticExposure",
        "HepaticPolicy",
        "InteractionTables",
        "LibraryEntry",
        "Limit",
        "Lookup",
        "Medication",
        "Order",
        "PainTreatment",
        "PatientContext",
        "PreviousSession",
        "PriorTreatment",
        "ProtocolProfile",
        "RefusedDose",
        "SafetyReport",
        "Setting",
        "Severity",
        "SubstanceUse",
        "Unavailable",
        "Vitals",
        "WeightBasis",
        "WeightScalar",
        "adjusted_body_weight_kg",
        "apply_overrides",
        "as_utc",
        "bmi_kg_per_m2",
        "check_order",
        "compare_hepatic",
        "dosing_weight",
        "drug_library",
        "format_validation_error",
        "ideal_body_weight_kg",
        "interaction_tables",
        "peak_ng_per_ml",
        "predict",
    }


def test_every_rule_family_is_registered() -> None:
    modules = {rule.__module__.rsplit(".", 1)[1] for rule in RULES}
    assert modules == {
        "contraindications",
        "interactions",
        "hepatic",
        "weight",
        "eligibility",
        "route",
        "limits",
        "unit_mistakes",
        "schedule",
        "esketamine",
        "concentration",
    }


def test_dose_objects_are_accepted_in_an_order() -> None:
    dose = Dose(Route.IV, 0.5, DoseUnit.MG_PER_KG, duration_min=40.0)
    assert run("depression-iv", [dose]).allowed


def test_a_dose_syntax_error_is_a_user_error_not_a_finding() -> None:
    with pytest.raises(UserInputError, match="micrograms") as caught:
        run("depression-iv", ["iv-infusion 500 mcg/kg over 40 min"])
    assert "doses.0" in str(caught.value)


def test_the_check_time_is_an_argument_and_naive_times_are_utc() -> None:
    naive = AS_OF.replace(tzinfo=None)
    assert run("depression-iv", as_of=naive).codes() == run("depression-iv").codes()
    later = run("depression-iv", as_of=datetime(2027, 6, 1, 9))
    assert "weight.stale" in codes(later, Severity.OVERRIDABLE)


def test_an_order_checked_against_another_protocol_is_a_hard_stop() -> None:
    order = Order(protocol="depression-iv", route="iv", doses=("iv-infusion 35 mg over 40 min",))
    report = check_order(order, patient(), get_protocol("crps-daily-10d").profile(), as_of=AS_OF)
    assert "order.protocol_mismatch" in codes(report, Severity.HARD_STOP)


def test_an_order_needs_at_least_one_dose_and_known_fields() -> None:
    with pytest.raises(ValidationError):
        Order(protocol="depression-iv", route="iv", doses=())
    with pytest.raises(ValidationError, match="extra"):
        Order.model_validate({"protocol": "x", "route": "iv", "doses": ["oral 5 mg"], "dose": 1})


def test_validation_errors_read_as_one_line_naming_field_value_and_accepted() -> None:
    covariates = {"weight_kg": 70, "age_years": 40, "sex": "m"}
    data = {"covariates": covariates, "weight_measured_on": "2026-11-01"}
    with pytest.raises(ValidationError) as caught:
        PatientContext.model_validate(data)
    line = format_validation_error(caught.value, "patient.yaml")
    assert line == "patient.yaml: covariates: sex 'm' is not accepted; accepted: male, female"
    bad = {**data, "covariates": {**covariates, "sex": "male"}, "diagnoses": ["flu"]}
    with pytest.raises(ValidationError) as caught:
        PatientContext.model_validate(bad)
    line = format_validation_error(caught.value, "p")
    assert "diagnoses.0 = 'flu'" in line
    assert "uncontrolled_psychosis" in line


def test_a_drug_library_can_be_injected() -> None:
    from ketaclinic.safety import DrugLibrary, drug_library

    data = drug_library().model_dump()
    for entry in data["entries"]:
        if entry["protocol"] == "depression-iv":
            entry["session_total_mg_per_kg"] = {
                "hard": 0.4,
                "basis": "judgement",
                "source": "a stricter test library",
            }
    strict = DrugLibrary.model_validate({**data, "version": "test-1"})
    order = Order(protocol="depression-iv", route="iv", doses=("iv-infusion 35 mg over 40 min",))
    report = check_order(
        order, patient(), get_protocol("depression-iv").profile(), as_of=AS_OF, library=strict
    )
    assert report.drug_library_version == "test-1"
    assert "session_total_mg_per_kg.hard" in codes(report, Severity.HARD_STOP)
