"""Patient and order inputs: every accepted form of a dose and of the covariates, and a plain
one-line refusal, naming the field, for every malformed one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from safety_helpers import AS_OF, TYPICAL, patient

from ketaclinic.pharmacology import Patient, parse_dose
from ketaclinic.protocols import check
from ketaclinic.safety import (
    Order,
    PainTreatment,
    PatientContext,
    PreviousSession,
    RefusedDose,
    format_validation_error,
)


def _error(model: Any, data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    line = format_validation_error(caught.value, "file")
    assert "\n" not in line
    return line


def test_an_order_takes_grammar_text_json_objects_and_dose_values_alike() -> None:
    dose = parse_dose("iv-infusion 35 mg over 40 min at 0 min")
    forms = [str(dose), dose.to_json(), dose]
    orders = [Order.model_validate({"protocol": "depression-iv", "doses": [f]}) for f in forms]
    assert all(o.doses == (dose,) for o in orders)
    one = Order.model_validate({"protocol": "depression-iv", "doses": str(dose)})
    assert one.doses == (dose,)


def test_an_order_serialises_its_doses_as_json_and_reads_them_back() -> None:
    order = Order.model_validate(
        {"protocol": "palliative-oral", "doses": ["oral 10 mg every 6 h x 4 at 0 min"]}
    )
    data = order.model_dump(mode="json")
    assert data["doses"][0]["amount_mg"] == 10
    assert Order.model_validate(data) == order


@pytest.mark.parametrize(
    ("doses", "message"),
    [
        ([35], "a dose is dose-grammar text such as 'iv-bolus 35 mg at 0 min' or its JSON"),
        ([{"amount_mg": 35, "route": "iv", "volume_ml": 2}], "unknown dose fields volume_ml"),
        (["iv-bolus 35 mcg"], "micrograms are not accepted"),
        ([], "an order needs at least one dose"),
    ],
)
def test_a_malformed_dose_is_one_line_naming_the_dose(doses: list[Any], message: str) -> None:
    assert message in _error(Order, {"protocol": "depression-iv", "doses": doses})


def test_a_neuraxial_route_or_dose_is_kept_for_the_hard_stop_not_refused_as_input() -> None:
    order = Order.model_validate(
        {"protocol": "acute-pain-iv", "route": "Epidural", "doses": ["intrathecal 5 mg"]}
    )
    assert order.doses == ()
    assert [r.text for r in order.refused] == ["Epidural", "intrathecal 5 mg"]
    assert all("neurotoxic" in r.reason for r in order.refused)
    kept = Order.model_validate(order.model_dump())
    assert kept.refused == order.refused
    again = Order(protocol="acute-pain-iv", refused=RefusedDose("epidural", "neurotoxic"))
    assert again.refused == (RefusedDose("epidural", "neurotoxic"),)
    report = check(order, patient(), as_of=AS_OF)
    neuraxial = [f for f in report.findings if f.code == "route.neuraxial"]
    assert len(neuraxial) == 1
    assert "'Epidural'; 'intrathecal 5 mg'" in neuraxial[0].message


@pytest.mark.parametrize(
    ("covariates", "message"),
    [
        ("70 kg", "covariates must be a mapping of weight_kg, age_years, sex"),
        ({"age_years": 40, "sex": "male"}, "weight_kg is missing (required)"),
        ({"weight_kg": 70, "shoe_size": 42}, "unknown covariate shoe_size; accepted: weight_kg"),
    ],
)
def test_malformed_covariates_say_what_is_accepted(covariates: Any, message: str) -> None:
    assert message in _error(PatientContext, {**TYPICAL, "covariates": covariates})


def test_the_covariates_are_the_engines_own_patient_type() -> None:
    who = Patient(weight_kg=80, age_years=30, sex="male", height_cm=180)
    context = PatientContext.model_validate({**TYPICAL, "covariates": who})
    assert context.covariates is who
    assert context.model_dump()["covariates"]["weight_kg"] == 80


def test_a_patient_file_may_state_ethnicity_and_reads_back_what_it_wrote() -> None:
    """Ethnicity is optional (Perez-Ruixo 2021's Asian covariate); a dumped context, with it
    or without it, validates again."""
    stated = {"weight_kg": 60, "age_years": 35, "sex": "female", "ethnicity": "japanese"}
    context = PatientContext.model_validate({**TYPICAL, "covariates": stated})
    assert str(context.covariates.ethnicity) == "japanese"
    for ctx in (context, PatientContext.model_validate(TYPICAL)):
        again = PatientContext.model_validate(ctx.model_dump(mode="json"))
        assert again.covariates == ctx.covariates
    assert "ethnicity 'martian' is not accepted" in _error(
        PatientContext, {**TYPICAL, "covariates": {**stated, "ethnicity": "martian"}}
    )


def test_a_previous_session_takes_what_was_given_in_mg_not_per_kg() -> None:
    start = datetime(2026, 11, 28, 9, tzinfo=UTC).isoformat()
    base = {"start": start, "protocol": "depression-iv"}
    per_kg = _error(PreviousSession, {**base, "doses": ["iv-infusion 0.5 mg/kg over 40 min"]})
    assert "give what was given in mg or mg/h, not per kg" in per_kg
    huge = _error(PreviousSession, {**base, "doses": ["iv-infusion 100 mg/h for 200 h"]})
    assert "outside the accepted range 0-10000 mg" in huge
    session = PreviousSession.model_validate({**base, "doses": ["iv-infusion 35 mg over 40 min"]})
    assert session.total_mg == 35.0


def test_missing_and_unknown_fields_are_named() -> None:
    assert "weight_measured_on is missing (required)" in _error(
        PatientContext, {"covariates": TYPICAL["covariates"]}
    )
    assert "shoe_size is not a known field" in _error(PatientContext, {**TYPICAL, "shoe_size": 1})


def test_prior_treatments_take_classes_drug_names_and_values() -> None:
    given = ["tricyclic", PainTreatment.OPIOID, "amitriptyline"]
    context = PatientContext.model_validate({**TYPICAL, "prior_pain_treatments": given})
    assert [str(t) for t in context.prior_pain_treatments] == [
        "tricyclic",
        "opioid",
        "amitriptyline",
    ]
    again = PatientContext.model_validate(
        {**TYPICAL, "prior_pain_treatments": list(context.prior_pain_treatments)}
    )
    assert again.prior_pain_treatments == context.prior_pain_treatments
    for bad, message in ((" ", "is a class such as 'tricyclic'"), ("snake oil", "snake oil")):
        line = _error(PatientContext, {**TYPICAL, "prior_pain_treatments": [bad]})
        assert message in line
