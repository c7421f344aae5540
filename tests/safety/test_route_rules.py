"""Neuraxial routes are hard stops; the route must be the protocol's; oral gets a warning."""

from __future__ import annotations

import pytest
from safety_helpers import AS_OF, codes, finding, patient, run

from ketaclinic.errors import UserInputError
from ketaclinic.pharmacology import Route
from ketaclinic.protocols import get_protocol
from ketaclinic.safety import Order, Severity, check_order


@pytest.mark.parametrize(
    "dose",
    ["intrathecal 5 mg", "epidural 10 mg", "caudal 5 mg", "epidural-infusion 5 mg/h for 4 h"],
)
def test_it_refuses_neuraxial_doses_with_a_hard_stop(dose: str) -> None:
    report = run("acute-pain-iv", [dose])
    assert "route.neuraxial" in codes(report, Severity.HARD_STOP)
    assert "neurotoxic" in finding(report, "route.neuraxial").message
    assert not report.allowed


@pytest.mark.parametrize("route", ["intrathecal", "epidural", "spinal"])
def test_it_refuses_a_neuraxial_order_route_with_a_hard_stop(route: str) -> None:
    report = run("acute-pain-iv", route=route)
    assert "route.neuraxial" in codes(report, Severity.HARD_STOP)


def test_a_neuraxial_refusal_still_reports_the_patient_findings() -> None:
    report = run("acute-pain-iv", ["intrathecal 5 mg"], who=None)
    assert not report.allowed
    pregnant = run(
        "acute-pain-iv",
        ["intrathecal 5 mg"],
        who=__import__("safety_helpers").patient(pregnant=True),
    )
    assert {"route.neuraxial", "contraindication.pregnancy"} <= codes(pregnant)


def test_an_unknown_route_word_is_a_user_error() -> None:
    accepted = "route = 'iv-drip' is not accepted: accepted: 'iv', 'sc'"
    with pytest.raises(UserInputError, match=accepted):
        run("acute-pain-iv", route="iv-drip")


def test_a_route_outside_the_protocol_is_a_hard_stop() -> None:
    report = run("depression-iv", ["oral 35 mg"], route="oral")
    assert "route.not_in_protocol" in codes(report, Severity.HARD_STOP)


def test_an_order_route_that_disagrees_with_its_doses_is_refused_as_input() -> None:
    with pytest.raises(UserInputError, match="route iv disagrees with the doses' route im"):
        run("depression-iv", ["im 35 mg"], route="iv")


def test_doses_on_several_routes_in_one_order_are_a_hard_stop() -> None:
    order = Order.model_validate(
        {"protocol": "depression-iv", "doses": ["im 35 mg", "iv-bolus 5 mg"]}
    )
    report = check_order(order, patient(), get_protocol("depression-iv").profile(), as_of=AS_OF)
    assert "route.mismatch" in codes(report, Severity.HARD_STOP)


def test_the_order_route_is_optional_when_the_doses_name_it() -> None:
    order = Order.model_validate({"protocol": "depression-iv", "doses": ["iv-bolus 5 mg"]})
    assert order.route is None
    assert order.dose_route is Route.IV


def test_the_usual_iv_order_has_no_route_finding() -> None:
    assert not {c for c in codes(run("depression-iv")) if c.startswith("route.")}


def test_oral_ketamine_gets_a_warning_about_bioavailability_and_norketamine() -> None:
    report = run("palliative-oral")
    warning = finding(report, "route.oral")
    assert warning.severity is Severity.WARNING
    assert "norketamine" in warning.message
    assert "20 %" in warning.message
