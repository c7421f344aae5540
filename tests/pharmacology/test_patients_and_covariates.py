"""Patients are validated once; covariates outside a model's range warn (never silence, never
a crash); hepatic impairment scales clearance as a named, visible assumption."""

from __future__ import annotations

import numpy as np
import pytest

from ketaclinic.errors import OutOfRangeError, UnknownNameError, UserInputError
from ketaclinic.pharmacology import (
    HEPATIC_SCALING,
    MODELS,
    ChildPugh,
    Ethnicity,
    Patient,
    Sex,
    covariates_of,
    get_model,
    parse_doses,
    regimen_inputs,
    simulate,
)
from ketaclinic.ranges import WEIGHT_KG

LONG_MIN = np.arange(0.0, 21 * 24 * 60.0 + 1.0, 5.0)


def test_a_patient_normalises_its_fields() -> None:
    patient = Patient(
        weight_kg=70, age_years=40, sex="FEMALE", height_cm=168, child_pugh="b", ethnicity="Asian"
    )
    assert patient.weight_kg == 70.0
    assert patient.ethnicity is Ethnicity.ASIAN
    assert patient.sex is Sex.FEMALE
    assert patient.child_pugh is ChildPugh.B
    assert patient.replace(weight_kg=80).weight_kg == 80.0
    assert patient.as_dict() == {
        "weight_kg": 70.0,
        "age_years": 40.0,
        "sex": "female",
        "height_cm": 168.0,
        "child_pugh": "B",
        "ethnicity": "asian",
    }
    assert Patient(weight_kg=70).ethnicity is Ethnicity.NOT_STATED


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight_kg", 0, "weight 0 kg is outside the accepted range 2-300 kg"),
        ("weight_kg", 700, "weight 700 kg is outside the accepted range 2-300 kg"),
        ("weight_kg", float("nan"), "outside the accepted range"),
        ("weight_kg", "heavy", "is not a number"),
        ("age_years", -1, "age -1 years is outside the accepted range 0-120 years"),
        ("age_years", 130, "0-120 years"),
        ("height_cm", 300, "40-250 cm"),
    ],
)
def test_it_refuses_values_outside_the_clinical_ranges(
    field: str, value: object, message: str
) -> None:
    kwargs: dict[str, object] = {"weight_kg": 70.0, field: value}
    with pytest.raises(OutOfRangeError, match=message):
        Patient(**kwargs)  # type: ignore[arg-type]


def test_the_weight_range_error_derives_from_the_declared_range() -> None:
    with pytest.raises(OutOfRangeError, match=WEIGHT_KG.describe()):
        Patient(weight_kg=WEIGHT_KG.high + 1)
    Patient(weight_kg=WEIGHT_KG.low)
    Patient(weight_kg=WEIGHT_KG.high)


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [("sex", "x", "male, female"), ("child_pugh", "D", "none, A, B, C")],
)
def test_it_refuses_unknown_categories(field: str, value: str, accepted: str) -> None:
    kwargs: dict[str, object] = {"weight_kg": 70.0, field: value}
    with pytest.raises(UserInputError, match=accepted):
        Patient(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("model_id", list(MODELS))
def test_a_weight_outside_the_validated_range_gives_a_warning_not_an_error(model_id: str) -> None:
    model = MODELS[model_id]
    low_kg, high_kg = model.weight_range_kg
    age = float(np.mean(model.age_range_years))
    for weight_kg in (max(low_kg / 2, 2.0), min(high_kg * 1.5, 300.0)):
        patient = Patient(weight_kg=weight_kg, age_years=age)
        result = simulate(model_id, patient, ["iv-bolus 0.1 mg/kg"], [0.0, 10.0])
        assert any(
            f"weight {weight_kg:g} kg is outside the {model.name} model's validated range" in w
            and "extrapolation" in w
            for w in result.warnings
        )
        assert np.all(np.isfinite(result.ketamine_ng_per_ml))


@pytest.mark.parametrize("model_id", ["herd", "kamp", "perez-ruixo"])
def test_an_age_outside_the_validated_range_gives_a_warning(model_id: str) -> None:
    model = MODELS[model_id]
    weight = float(np.mean(model.weight_range_kg))
    age = model.age_range_years[1] + 5.0
    result = simulate(model_id, Patient(weight_kg=weight, age_years=age), ["iv-bolus 5 mg"], [1.0])
    assert any(f"age {age:g} years is outside" in w for w in result.warnings)


def test_a_patient_inside_every_range_gets_no_covariate_warning() -> None:
    result = simulate(
        "kamp", Patient(weight_kg=70, age_years=40), ["iv-infusion 5 mg over 10 min"], [1.0]
    )
    assert result.warnings == ()


@pytest.mark.parametrize("model", ["kamp", "domino", "fanta", "perez-ruixo", "simons"])
def test_child_pugh_b_scales_systemic_clearance_the_same_for_every_model(model: str) -> None:
    """IV AUC to (nearly) infinity is dose / CL, so Child-Pugh B multiplies it by 2.03 whether
    the model eliminates from the central compartment or through a flow-limited liver."""
    dose = ["iv-infusion 20 mg over 40 min"]
    grid = range(0, 30001, 5)
    normal = simulate(model, Patient(weight_kg=70), dose, grid)
    impaired = simulate(model, Patient(weight_kg=70, child_pugh="B"), dose, grid)
    ratio = impaired.summary.ketamine.auc_ng_h_per_ml / normal.summary.ketamine.auc_ng_h_per_ml
    assert ratio == pytest.approx(2.03, rel=1e-4)


def test_child_pugh_b_halves_clearance_and_says_it_is_an_assumption() -> None:
    """Kamp is linear, IV, eliminated centrally: AUC to infinity = dose / CL, so the AUC ratio
    is exactly the clearance factor of the named assumption (AUC about +103 %)."""
    dose = ["iv-infusion 0.5 mg/kg over 40 min"]
    normal = simulate("kamp", Patient(weight_kg=70), dose, LONG_MIN)
    impaired = simulate("kamp", Patient(weight_kg=70, child_pugh="B"), dose, LONG_MIN)
    ratio = impaired.summary.ketamine.auc_ng_h_per_ml / normal.summary.ketamine.auc_ng_h_per_ml
    assert ratio == pytest.approx(1.0 / HEPATIC_SCALING[ChildPugh.B].clearance_factor, rel=1e-6)
    assert ratio == pytest.approx(2.03, rel=1e-6)
    (warning,) = [w for w in impaired.warnings if "Child-Pugh B" in w]
    assert "assumption" in warning
    assert "SPRAVATO" in warning
    assert any(s.startswith("hepatic scaling: assumption") for s in impaired.sources)
    assert not any("hepatic" in w for w in normal.warnings)


def test_hepatic_impairment_slows_esketamine_elimination_through_the_liver() -> None:
    """Perez-Ruixo: impairment acts on the liver's intrinsic rate constants (scaled so that
    systemic clearance falls by the class factor), so first pass falls too."""
    dose = ["intranasal 56 mg"]
    aucs = [
        simulate(
            "perez-ruixo", Patient(weight_kg=70, child_pugh=cp), dose, LONG_MIN
        ).summary.ketamine.auc_ng_h_per_ml
        for cp in ("none", "A", "B", "C")
    ]
    assert aucs[0] == pytest.approx(aucs[1], rel=1e-12)  # class A: assumed unchanged
    assert aucs[1] < aucs[2] < aucs[3]


def test_every_hepatic_scaling_names_its_basis() -> None:
    assert set(HEPATIC_SCALING) == set(ChildPugh)
    for cls, scaling in HEPATIC_SCALING.items():
        assert scaling.child_pugh is cls
        assert 0.0 < scaling.clearance_factor <= 1.0
        if cls is not ChildPugh.NONE:
            assert scaling.basis.startswith("assumption")


def test_perez_ruixo_hepatic_blood_flow_falls_after_60() -> None:
    """Perez-Ruixo 2021: Qh falls by 2.19 L/h per year over 60."""
    model = MODELS["perez-ruixo"]
    young = model.parameters(covariates_of(Patient(weight_kg=70, age_years=60)))
    old = model.parameters(covariates_of(Patient(weight_kg=70, age_years=80)))
    assert (young["QH"] - old["QH"])[0] * 60.0 == pytest.approx(2.19 * 20.0)


@pytest.mark.parametrize("name", ["propofol", "", "domino2"])
def test_an_unknown_model_is_refused_with_the_accepted_ids(name: str) -> None:
    with pytest.raises(UnknownNameError, match="accepted: domino, clements"):
        get_model(name)


def test_model_ids_are_case_insensitive() -> None:
    assert get_model(" Perez-Ruixo ") is MODELS["perez-ruixo"]


@pytest.mark.parametrize(
    ("times", "message"),
    [
        ([], "empty"),
        ([5.0, 1.0], "sorted"),
        ([-1.0, 1.0], "at or after 0 min"),
        ([0.0, float("inf")], "finite"),
        ([0.0, 400 * 24 * 60.0], "accepted: 0-527040 min"),
    ],
)
def test_simulate_refuses_bad_time_grids(times: list[float], message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        simulate("kamp", Patient(weight_kg=70), ["iv-bolus 5 mg"], times)


def test_simulate_refuses_doses_above_the_clinical_range() -> None:
    with pytest.raises(UserInputError, match="outside the accepted range"):
        simulate("kamp", Patient(weight_kg=150), ["iv-bolus 100 mg/kg"], [1.0])


def test_simulate_refuses_non_positive_thresholds_and_non_patients() -> None:
    with pytest.raises(UserInputError, match="thresholds"):
        simulate("kamp", Patient(weight_kg=70), ["iv-bolus 5 mg"], [1.0], thresholds_ng_per_ml=[0])
    with pytest.raises(UserInputError, match="Patient"):
        simulate("kamp", {"weight_kg": 70}, ["iv-bolus 5 mg"], [1.0])  # type: ignore[arg-type]


def test_perez_ruixo_applies_its_published_asian_covariates() -> None:
    """Perez-Ruixo 2021 Table 3 (nlmixr2lib transcription): Asian race kel x0.36 and
    noresketamine CLn/F x0.81; other models ignore ethnicity."""
    model = get_model("perez-ruixo")
    base = model.parameters(covariates_of(Patient(weight_kg=70)))
    for ethnicity in ("asian", "japanese"):
        asian = model.parameters(covariates_of(Patient(weight_kg=70, ethnicity=ethnicity)))
        assert asian["KEL_H"][0] == pytest.approx(0.36 * base["KEL_H"][0])
        assert asian["CL_M"][0] == pytest.approx(0.81 * base["CL_M"][0])
        assert asian["KMET_H"][0] == pytest.approx(base["KMET_H"][0])
    other = model.parameters(covariates_of(Patient(weight_kg=70, ethnicity="other")))
    assert other["KEL_H"][0] == pytest.approx(base["KEL_H"][0])
    kamp = get_model("kamp")
    plain = kamp.parameters(covariates_of(Patient(weight_kg=70)))
    asian_kamp = kamp.parameters(covariates_of(Patient(weight_kg=70, ethnicity="asian")))
    assert all(np.array_equal(plain[k], asian_kamp[k]) for k in plain)


def test_an_unknown_ethnicity_is_refused_with_the_accepted_values() -> None:
    with pytest.raises(UserInputError, match="ethnicity 'martian' is not accepted; accepted: "):
        Patient(weight_kg=70, ethnicity="martian")


def test_herd_is_cited_to_paediatric_anaesthesia() -> None:
    source = get_model("herd").source
    assert "Paediatr Anaesth 2007;17:622-629" in source
    assert "Anesth Analg" not in source


@pytest.mark.parametrize(
    "dose",
    ["intranasal 56 mg at 0 min", "iv-infusion 20 mg over 40 min at 0 min", "oral 50 mg at 0 min"],
)
def test_the_child_pugh_statement_gives_the_auc_ratio_the_computation_gives(dose: str) -> None:
    """Issue 9 item 8: perez-ruixo nasal gave AUC x2.53 while the statement said x2.03. The
    statement says what is scaled (systemic clearance / 2.03) and each prediction states the
    AUC ratio it computes for its own route."""
    impaired = simulate(
        "perez-ruixo", Patient(weight_kg=70, child_pugh="B"), [dose], np.arange(0, 10081, 10)
    )
    normal = simulate("perez-ruixo", Patient(weight_kg=70), [dose], np.arange(0, 10081, 10))
    ratio = impaired.summary.ketamine.auc_ng_h_per_ml / normal.summary.ketamine.auc_ng_h_per_ml
    note = next(w for w in impaired.warnings if w.startswith("hepatic impairment Child-Pugh B"))
    assert f"ketamine AUC 0-168 h x{ratio:.2f} of the same" in note
    assert "scaled here: KEL_H x" in note
    assert "systemic (hepatic) clearance / 2.03" in note
    if dose.startswith("iv"):
        assert ratio == pytest.approx(2.03, abs=0.01)  # systemic clearance / 2.03, as stated
    else:
        assert ratio > 2.1  # first pass falls too: said in the note
        assert "partly through first pass" in note


def test_perez_ruixo_gives_japanese_patients_a_larger_nasal_fraction() -> None:
    """Perez-Ruixo 2021 Table 3 (nlmixr2lib transcription): Japanese FRn x1.34. Per 28 mg
    device 0.54 (Japanese 0.72) enters the nasal depot, x0.62 for later devices; the rest is
    swallowed. Per patient: one population may mix ethnicities."""
    model = get_model("perez-ruixo")
    doses = parse_doses(["intranasal 56 mg at 0 min"])
    ethnicity = np.array(["not stated", "japanese", "asian"])
    inputs = regimen_inputs(model, doses, np.full(3, 70.0), ethnicity=ethnicity)
    nasal, swallowed, nasal_later, swallowed_later = inputs
    first = np.array([0.54, 0.54 * 1.34, 0.54]) * 28.0
    later = np.array([0.54 * 0.62, 0.54 * 1.34 * 0.62, 0.54 * 0.62]) * 28.0
    np.testing.assert_allclose(nasal.amount_mg, first)
    np.testing.assert_allclose(swallowed.amount_mg, 28.0 - first)
    np.testing.assert_allclose(nasal_later.amount_mg, later)
    np.testing.assert_allclose(swallowed_later.amount_mg, 28.0 - later)
    times = np.arange(0.0, 24 * 60.0 + 1.0, 1.0)
    auc = {
        e: simulate(
            model, Patient(weight_kg=70, ethnicity=e), doses, times
        ).summary.ketamine.auc_ng_h_per_ml
        for e in ("not stated", "japanese")
    }
    assert auc["japanese"] > 1.2 * auc["not stated"]
