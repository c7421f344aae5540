"""The dose grammar: every documented example parses to the intended doses; every known
source of unit confusion is refused with a message that says what is expected; neuraxial
routes are refused as neurotoxic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.errors import DoseSyntaxError, RefusedRouteError, UserInputError
from ketaclinic.pharmacology import (
    DOSE_GRAMMAR_HELP,
    Dose,
    Route,
    parse_dose,
    parse_doses,
    parse_duration_min,
)

GRAMMAR_EXAMPLES = {
    "iv-bolus 35 mg at 0 min": [Dose(Route.IV, 35.0)],
    "iv-infusion 0.5 mg/kg over 40 min at 0 min": [
        Dose(Route.IV, 0.5, per_kg=True, duration_min=40.0)
    ],
    # 0.25 mg/kg/h for 24 h = 6 mg/kg over 1440 min
    "iv-infusion 0.25 mg/kg/h for 24 h at 60 min": [
        Dose(Route.IV, 6.0, per_kg=True, start_min=60.0, duration_min=1440.0)
    ],
    # 100 mg/24h for 3 d = 300 mg over 4320 min
    "sc-infusion 100 mg/24h for 3 d": [Dose(Route.SC, 300.0, duration_min=4320.0)],
    "oral 25 mg every 8 h x 9 at 0 min": [
        Dose(Route.ORAL, 25.0, start_min=480.0 * i) for i in range(9)
    ],
    "intranasal 56 mg at 0 min": [Dose(Route.INTRANASAL, 56.0)],
    "im 0.5 mg/kg at 0 min": [Dose(Route.IM, 0.5, per_kg=True)],
    "sublingual 25 mg at 0 min": [Dose(Route.SUBLINGUAL, 25.0)],
}


@pytest.mark.parametrize("text", list(GRAMMAR_EXAMPLES))
def test_every_documented_example_parses_to_the_intended_doses(text: str) -> None:
    assert parse_dose(text) == GRAMMAR_EXAMPLES[text]


@pytest.mark.parametrize("text", list(GRAMMAR_EXAMPLES))
def test_every_documented_example_is_in_the_help_text(text: str) -> None:
    assert text in DOSE_GRAMMAR_HELP


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IV-BOLUS 35 MG AT 0 MIN", [Dose(Route.IV, 35.0)]),
        ("iv-bolus 35mg", [Dose(Route.IV, 35.0)]),
        ("  iv-bolus   35 mg   at 2h ", [Dose(Route.IV, 35.0, start_min=120.0)]),
        ("po 25 mg", [Dose(Route.ORAL, 25.0)]),
        ("sc 10 mg at 90 s", [Dose(Route.SC, 10.0, start_min=1.5)]),
        ("sc-infusion 100 mg/24 hours for 1 d", [Dose(Route.SC, 100.0, duration_min=1440.0)]),
        ("iv-infusion 2 mg/min for 10 min", [Dose(Route.IV, 20.0, duration_min=10.0)]),
        ("iv-infusion 0.1 mg/kg/min for 5 min", [Dose(Route.IV, 0.5, True, 0.0, 5.0)]),
        ("iv-infusion 20 mg/h for 30 min", [Dose(Route.IV, 10.0, duration_min=30.0)]),
        ("rectal 1 mg/kg at 1 d", [Dose(Route.RECTAL, 1.0, True, 1440.0)]),
        (
            "iv-bolus 10 mg every 15 min x2",
            [Dose(Route.IV, 10.0), Dose(Route.IV, 10.0, False, 15.0)],
        ),
    ],
)
def test_accepted_spellings(text: str, expected: list[Dose]) -> None:
    assert parse_dose(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("iv-bolus 0.5 mg/kg/h at 0 min", "a bolus takes an amount in mg or mg/kg"),
        ("iv-bolus 500 mcg", "micrograms are not accepted: give ketamine doses in mg"),
        ("iv-bolus 500 ug", "micrograms are not accepted"),
        ("iv-bolus 500 µg", "micrograms are not accepted"),
        ("im 5 mcg/kg", "micrograms are not accepted"),
        ("iv-bolus 0.05 g", "grams are not accepted: give ketamine doses in mg"),
        ("iv-bolus 5 U", "units (U, IU) are not a dose unit for ketamine: give the dose in mg"),
        ("iv-bolus 5 units", "units (U, IU) are not a dose unit"),
        ("iv-bolus 2 cc", "volumes (mL, cc) depend on the concentration of the vial"),
        ("iv-bolus 2 mL", "give the dose in mg"),
        ("iv-bolus .5 mg", "naked decimal point: write 0.5"),
        ("iv-bolus -5 mg", "must be positive"),
        ("iv-bolus 0 mg", "must be above 0 mg"),
        ("iv-bolus 0,5 mg", "use a point for decimals (0.5)"),
        ("iv-bolus 1,000 mg", "no thousands separators"),
        ("iv-push 5 mg", "unknown route 'iv-push'; accepted: iv-bolus, iv-infusion"),
        ("iv-infusion 35 mg", "an infusion of an amount needs a duration"),
        ("iv-infusion 0.5 mg/kg/h", "an infusion rate needs a duration"),
        ("iv-bolus 35 mg over 10 min", "has no duration"),
        ("oral 25 mg over 30 min", "for an infusion write iv-infusion or sc-infusion"),
        ("oral 5 mg/h for 2 h", "takes an amount in mg or mg/kg"),
        ("iv-bolus 35", "has no unit; accepted: mg, mg/kg"),
        ("iv-bolus mg", "is not a number; for example 35 mg"),
        ("iv-bolus 35 mg/kg/week", "expected an amount in mg or mg/kg"),
        ("iv-infusion 35 mg/week for 1 d", "or a rate (mg/h, mg/kg/h"),
        ("", "empty dose"),
        ("iv-bolus", "has no amount"),
        ("iv-bolus 35 mg at 5", "has no time unit; accepted: s, min, h or d"),
        ("iv-bolus 35 mg at 5 weeks", "is not a time unit; accepted: s, min, h or d"),
        ("iv-bolus 35 mg at -5 min", "must be positive"),
        ("oral 25 mg every 8 h", "'every' needs a count"),
        ("oral 25 mg every 8 h x 0", "whole number from 1 to 1000"),
        ("oral 25 mg every 0 h x 3", "interval must be above 0 min"),
        ("iv-infusion 10 mg over 0 min", "duration must be above 0 min"),
        ("iv-infusion 10 mg over 2 h every 1 h x 3", "infusions overlap"),
        ("iv-bolus 35 mg at 0 min at 5 min", "'at' appears twice"),
        ("iv-bolus 35 mg please", "unexpected 'please'"),
        ("iv-bolus 1e3 mg", "scientific notation: write a plain number"),
        ("iv-bolus 5e-1mg/kg", "scientific notation"),
    ],
)
def test_it_refuses_malformed_doses_saying_what_is_expected(text: str, message: str) -> None:
    with pytest.raises(DoseSyntaxError) as caught:
        parse_dose(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "intrathecal 5 mg",
        "it 5 mg",
        "spinal 5 mg",
        "epidural 5 mg",
        "epidural-infusion 5 mg/h for 24 h",
        "caudal 0.5 mg/kg",
        "neuraxial 5 mg",
    ],
)
def test_it_refuses_neuraxial_routes_as_neurotoxic(text: str) -> None:
    with pytest.raises(RefusedRouteError, match="neurotoxic"):
        parse_dose(text)


def test_it_refuses_intrathecal_route_in_a_dose_object_too() -> None:
    with pytest.raises(RefusedRouteError, match="neurotoxic"):
        Dose("intrathecal", 5.0)  # type: ignore[arg-type]


def test_refused_routes_are_user_errors() -> None:
    assert issubclass(RefusedRouteError, UserInputError)
    assert issubclass(DoseSyntaxError, UserInputError)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"route": Route.ORAL, "amount": 25.0, "duration_min": 30.0}, "infusions are iv or sc"),
        ({"route": Route.IV, "amount": -1.0}, "must be above 0 mg"),
        ({"route": Route.IV, "amount": 1.0, "start_min": -1.0}, "at or after 0 min"),
        ({"route": Route.IV, "amount": float("nan")}, "finite number"),
        ({"route": Route.IV, "amount": 1.0, "duration_min": -3.0}, "above 0 min"),
    ],
)
def test_dose_objects_validate_themselves(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(DoseSyntaxError, match=message):
        Dose(**kwargs)  # type: ignore[arg-type]


def test_per_kg_doses_scale_with_weight() -> None:
    dose = parse_dose("iv-infusion 0.5 mg/kg over 40 min")[0]
    assert dose.amount_mg(80.0) == 40.0
    assert dose.rate_mg_per_h(80.0) == 60.0
    assert parse_dose("iv-bolus 35 mg")[0].rate_mg_per_h(80.0) == 0.0


def test_several_doses_are_sorted_by_start_and_objects_pass_through() -> None:
    late = Dose(Route.IV, 5.0, start_min=100.0)
    doses = parse_doses(["iv-bolus 10 mg at 2 h", late, "iv-bolus 1 mg"])
    assert [d.start_min for d in doses] == [0.0, 100.0, 120.0]
    assert parse_doses("im 5 mg") == [Dose(Route.IM, 5.0)]


@pytest.mark.parametrize(("given_doses", "message"), [([], "no dose given"), ([3.5], "a string")])
def test_parse_doses_refuses_nothing_or_non_doses(given_doses: list[object], message: str) -> None:
    with pytest.raises(DoseSyntaxError, match=message):
        parse_doses(given_doses)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("24h", 1440.0), ("90 min", 90.0), ("3 d", 4320.0), ("30 s", 0.5), ("1.5 h", 90.0)],
)
def test_durations_parse_to_minutes(text: str, minutes: float) -> None:
    assert parse_duration_min(text) == minutes


@pytest.mark.parametrize("text", ["24", "h", "2 fortnights", "-1 h", ".5 h", "1 h 2 min"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(DoseSyntaxError):
        parse_duration_min(text, "--until")


# One decimal, so ``str`` (which prints with %g) loses nothing.
_tenths = st.integers(1, 99_999).map(lambda i: i / 10)


@st.composite
def printable_doses(draw: st.DrawFn) -> Dose:
    route = draw(st.sampled_from(list(Route)))
    duration = draw(_tenths) if route.allows_infusion and draw(st.booleans()) else 0.0
    start = draw(st.one_of(st.just(0.0), _tenths))
    return Dose(route, draw(_tenths), draw(st.booleans()), start, duration)


@given(printable_doses())
def test_a_dose_printed_in_the_grammar_parses_back_to_itself(dose: Dose) -> None:
    assert parse_dose(str(dose)) == [dose]
