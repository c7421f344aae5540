"""A model declares its structure, parameters and routes as values; a declaration that does
not hold together is refused when the model is made, with a message naming the problem."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from ketaclinic.errors import ModelError
from ketaclinic.pharmacology import (
    MODELS,
    AbsorptionPath,
    Covariates,
    Drug,
    Metabolite,
    ParameterSpec,
    Patient,
    PKModel,
    Route,
    RouteSpec,
    Structure,
    covariates_of,
    declare_parameters,
)

ONE = Structure()
IV = RouteSpec(Route.IV, True, "test")


def _typical(cov: Covariates) -> dict[str, np.ndarray]:
    return {"CL": np.full(cov.n, 1.0), "V1": np.full(cov.n, 50.0)}


def _model(**changes: Any) -> PKModel:
    fields: dict[str, Any] = {
        "id": "fixture",
        "name": "Fixture",
        "drug": Drug.RACEMIC,
        "population": "test",
        "source": "test",
        "typical": _typical,
        "structure": ONE,
        "parameter_specs": declare_parameters(ONE, "test"),
        "routes": {Route.IV: IV},
        "weight_range_kg": (2.0, 300.0),
        "age_range_years": (0.0, 120.0),
    }
    return PKModel(**{**fields, **changes})


def test_a_structure_names_its_parameters_and_states_in_one_order() -> None:
    s = Structure(peripherals=2, liver=True, metabolite=Metabolite("nk", 1), effect_site=True)
    names = [name for name, _, _ in s.slots()]
    assert names == [
        "CL", "V1", "Q2", "V2", "Q3", "V3", "QH", "VH", "KEL_H", "KMET_H",
        "FM", "CL_M", "V1_M", "Q2_M", "V2_M", "ke0",
    ]  # fmt: skip
    oral = AbsorptionPath("oral", 0.01)
    assert s.states([oral]) == (
        "central", "periph2", "periph3", "liver", "nk_central", "nk_periph2", "depot_oral",
        "effect",
    )  # fmt: skip
    assert s.compartments == 3
    assert not s.mammillary
    assert Structure(peripherals=1, effect_site=True).mammillary


def _oral(*paths: AbsorptionPath, route: Route = Route.ORAL) -> RouteSpec:
    return RouteSpec(route, True, "test", paths)


HOURLY = (ParameterSpec("CL", "L/h", "c", "s"), ParameterSpec("V1", "L", "v", "s"))
TO_LIVER = AbsorptionPath("o", 0.01, into_liver=True)
TO_METABOLITE = AbsorptionPath("o", 0.01, bioavailability=0.3, first_pass_metabolite_fraction=0.5)
SAME_NAME = AbsorptionPath("p", 0.01)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"parameter_specs": declare_parameters(Structure(peripherals=1), "x")}, "exactly those"),
        ({"parameter_specs": HOURLY}, "CL is in L/min, not L/h"),
        ({"routes": {Route.ORAL: _oral(TO_LIVER)}}, "drains into a missing liver"),
        ({"routes": {Route.ORAL: _oral(TO_METABOLITE)}}, "forms a missing metabolite"),
        ({"routes": {Route.ORAL: IV}}, "the oral route is declared as iv"),
        (
            {
                "routes": {
                    Route.ORAL: _oral(SAME_NAME),
                    Route.SUBLINGUAL: _oral(SAME_NAME, route=Route.SUBLINGUAL),
                }
            },
            "path names repeat across routes",
        ),
    ],
)
def test_a_declaration_that_does_not_hold_together_is_refused(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        _model(**changes)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Structure(peripherals=3), "0, 1 or 2 peripherals"),
        (lambda: Metabolite("nk", 2), "0 or 1 peripherals"),
        (lambda: ParameterSpec("", "L", "m", "s"), "needs a name"),
        (lambda: ParameterSpec("CL", "L/min", "m", "s", iiv_cv=5.0), "CV must be a fraction"),
        (lambda: AbsorptionPath("", 0.1), "needs a name"),
        (lambda: AbsorptionPath("o", 0.0), "ka must be above 0"),
        (lambda: AbsorptionPath("o", 0.1, bioavailability=1.2), "bioavailability must be"),
        (lambda: AbsorptionPath("o", 0.1, fraction=0.0), "fraction must be"),
        (
            lambda: replace(TO_METABOLITE, first_pass_metabolite_fraction=1.2),
            "first-pass metabolite fraction must be a fraction",
        ),
        (lambda: replace(TO_METABOLITE, child_bioavailability=1.5), "child bioavailability"),
        (lambda: replace(TO_METABOLITE, child_ka_per_min=0.0), "child ka must be above 0"),
        (lambda: AbsorptionPath("o", 0.1, zero_order_min=-1.0), "zero-order time"),
        (lambda: AbsorptionPath("o", 0.1, ka_cv=-0.1), "CV must be a fraction"),
        (lambda: _oral(AbsorptionPath("o", 0.1), AbsorptionPath("o", 0.2)), "path names repeat"),
        (lambda: RouteSpec(Route.INTRANASAL, True, "t", device_mg=0.0), "more than 0 mg"),
        (lambda: declare_parameters(ONE, "s", iiv_cv={"Q2": 0.3}), "iiv_cv names \\['Q2'\\]"),
        (lambda: declare_parameters(ONE, "s", hepatic=("VH",)), "hepatic names \\['VH'\\]"),
    ],
)  # fmt: skip
def test_a_bad_part_of_a_model_is_refused_by_name(make: Any, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        make()


def test_typical_values_must_be_exactly_the_declared_parameters() -> None:
    model = _model(typical=lambda cov: {"CL": np.ones(cov.n)})
    with pytest.raises(ModelError, match="typical values for \\['CL'\\] but the model declares"):
        model.parameters(covariates_of(Patient(weight_kg=70)))


def test_route_parameters_come_from_the_paths_and_carry_their_iiv() -> None:
    pr = MODELS["perez-ruixo"]
    params = pr.parameters(covariates_of(Patient(weight_kg=70)), (Route.INTRANASAL,))
    assert params["ka_intranasal"][0] == pytest.approx(2.93 / 60.0)
    assert params["F_intranasal_swallowed"][0] == 0.64
    assert "ka_oral" not in params  # a route not used adds nothing
    assert pr.iiv_cv["ka_intranasal"] == 0.615
    assert pr.intranasal_devices_mg == 28.0
    assert MODELS["kamp"].intranasal_devices_mg is None
    assert replace(pr, limitations=()).routes == pr.routes


def test_catalogue_routes_cannot_be_changed() -> None:
    with pytest.raises(TypeError, match="read-only"):
        MODELS["kamp"].routes[Route.IM] = IV  # type: ignore[index]
    with pytest.raises(TypeError, match="read-only"):
        MODELS.pop("kamp")  # type: ignore[attr-defined]
