"""The dose grammar and the Dose value: every documented example parses to the intended
dose and renders back as typed; a dose survives JSON without loss; every known source of unit
confusion is refused with a message that says what is expected; neuraxial routes are refused as
neurotoxic."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.errors import DoseSyntaxError, RefusedRouteError, UserInputError
from ketaclinic.pharmacology import (
    DOSE_GRAMMAR_HELP,
    Dose,
    DoseUnit,
    Route,
    TimeUnit,
    expand_doses,
    parse_dose,
    parse_doses,
    parse_duration_min,
    route_of,
)

U, T = DoseUnit, TimeUnit
HELP_EXAMPLES = {
    "iv-bolus 35 mg at 0 min": Dose(Route.IV, 35.0),
    "iv-infusion 0.5 mg/kg over 40 min at 0 min": Dose(Route.IV, 0.5, U.MG_PER_KG, 40.0),
    "iv-infusion 0.25 mg/kg/h for 24 h at 60 min": Dose(
        Route.IV, 0.25, U.MG_PER_KG_PER_H, 1440.0, 60.0, duration_unit=T.H
    ),
    "sc-infusion 100 mg/24h for 3 d at 0 min": Dose(
        Route.SC, 100.0, U.MG_PER_24H, 4320.0, duration_unit=T.D
    ),
    "oral 25 mg every 8 h x 9 at 0 min": Dose(Route.ORAL, 25.0, every_min=480.0, count=9),
    "intranasal 56 mg at 0 min": Dose(Route.INTRANASAL, 56.0),
    "im 0.5 mg/kg at 0 min": Dose(Route.IM, 0.5, U.MG_PER_KG),
    "sublingual 25 mg at 0 min": Dose(Route.SUBLINGUAL, 25.0),
}


@pytest.mark.parametrize("text", list(HELP_EXAMPLES))
def test_every_help_example_parses_to_the_intended_dose_and_renders_back(text: str) -> None:
    dose = parse_dose(text)
    assert dose == HELP_EXAMPLES[text]
    assert str(dose) == text


@pytest.mark.parametrize("text", list(HELP_EXAMPLES))
def test_every_help_example_is_in_the_help_text(text: str) -> None:
    assert text.removesuffix(" at 0 min") in DOSE_GRAMMAR_HELP


def test_a_rate_keeps_the_form_it_was_typed_in() -> None:
    dose = parse_dose("iv-infusion 0.25 mg/kg/h for 24 h at 60 min")
    assert str(dose) == "iv-infusion 0.25 mg/kg/h for 24 h at 60 min"
    assert (dose.value, dose.unit, dose.duration_min, dose.start_min) == (
        0.25,
        DoseUnit.MG_PER_KG_PER_H,
        1440.0,
        60.0,
    )
    assert dose.amount_mg(70.0) == pytest.approx(420.0)  # 0.25 x 70 x 24
    assert dose.rate_mg_per_h(70.0) == pytest.approx(17.5)


@pytest.mark.parametrize(
    ("text", "rendered", "mg_at_70_kg", "events"),
    [
        ("IV-BOLUS 35 MG AT 0 MIN", "iv-bolus 35 mg at 0 min", 35.0, 1),
        ("iv-bolus 35mg", "iv-bolus 35 mg at 0 min", 35.0, 1),
        ("  iv-bolus   35 mg   at 2h ", "iv-bolus 35 mg at 2 h", 35.0, 1),
        ("po 25 mg", "oral 25 mg at 0 min", 25.0, 1),
        ("sc 10 mg at 90 s", "sc 10 mg at 90 s", 10.0, 1),
        (
            "sc-infusion 100 mg/24 hours for 1 d",
            "sc-infusion 100 mg/24h for 1 d at 0 min",
            100.0,
            1,
        ),
        ("sc-infusion 100 mg/day for 2 d", "sc-infusion 100 mg/24h for 2 d at 0 min", 200.0, 1),
        ("iv-infusion 2 mg/min for 10 min", "iv-infusion 2 mg/min for 10 min at 0 min", 20.0, 1),
        (
            "iv-infusion 0.1 mg/kg/min for 5 min",
            "iv-infusion 0.1 mg/kg/min for 5 min at 0 min",
            35.0,
            1,
        ),
        ("iv-infusion 20 mg/hr for 30 min", "iv-infusion 20 mg/h for 30 min at 0 min", 10.0, 1),
        ("rectal 1 mg/kg at 1 d", "rectal 1 mg/kg at 1 d", 70.0, 1),
        ("iv-bolus 10 mg every 15 min x2", "iv-bolus 10 mg every 15 min x 2 at 0 min", 10.0, 2),
    ],
)
def test_accepted_spellings(text: str, rendered: str, mg_at_70_kg: float, events: int) -> None:
    dose = parse_dose(text)
    assert str(dose) == rendered
    assert dose.amount_mg(70.0) == pytest.approx(mg_at_70_kg)
    assert len(dose.occurrences()) == events
    assert parse_dose(rendered) == dose


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


def test_route_lookup_is_a_public_function() -> None:
    assert route_of("sc-infusion") == (Route.SC, True)
    assert route_of("oral") == (Route.ORAL, False)
    with pytest.raises(RefusedRouteError, match="neurotoxic"):
        route_of("Intrathecal")
    with pytest.raises(DoseSyntaxError, match="accepted: iv-bolus"):
        route_of("iv-push")


def test_refused_routes_are_user_errors() -> None:
    assert issubclass(RefusedRouteError, UserInputError)
    assert issubclass(DoseSyntaxError, UserInputError)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"route": Route.ORAL, "value": 25.0, "duration_min": 30.0}, "infusions are iv or sc"),
        ({"route": Route.IV, "value": -1.0}, "must be above 0 mg"),
        ({"route": Route.IV, "value": 1.0, "start_min": -1.0}, "at or after 0 min"),
        ({"route": Route.IV, "value": float("nan")}, "finite number"),
        ({"route": Route.IV, "value": 1.0, "duration_min": -3.0}, "above 0 min"),
        ({"route": Route.IV, "value": 1.0, "unit": "mcg"}, "dose unit 'mcg' is not accepted"),
        ({"route": Route.IV, "value": 1.0, "unit": U.MG_PER_H}, "needs a duration"),
        ({"route": Route.IV, "value": 1.0, "count": 3}, "needs an interval"),
        ({"route": Route.IV, "value": 1.0, "every_min": 60.0, "count": 0}, "count 0"),
        ({"route": Route.IV, "value": 1.0, "every_min": 0.0, "count": 2}, "above 0 min"),
        (
            {"route": Route.IV, "value": 1.0, "duration_min": 90.0, "every_min": 60.0, "count": 2},
            "infusions overlap",
        ),
        ({"route": Route.IV, "value": 1.0, "start_min": 600_000.0}, "within 0-527040 min"),
        (
            {"route": Route.IV, "value": 10.0, "unit": U.MG_PER_H, "duration_min": 1e7},
            "one year",
        ),
    ],
)
def test_dose_objects_validate_themselves(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(DoseSyntaxError, match=message):
        Dose(**kwargs)  # type: ignore[arg-type]


def test_a_dose_past_one_year_is_refused_before_any_array_is_made() -> None:
    with pytest.raises(DoseSyntaxError, match="one year"):
        parse_dose("iv-infusion 10 mg/h for 10000000 d")


def test_per_kg_doses_scale_with_weight_for_one_patient_or_many() -> None:
    dose = parse_dose("iv-infusion 0.5 mg/kg over 40 min")
    assert dose.amount_mg(80.0) == 40.0
    assert dose.rate_mg_per_h(80.0) == 60.0
    assert parse_dose("iv-bolus 35 mg").rate_mg_per_h(80.0) == 0.0
    np.testing.assert_array_equal(dose.amount_mg(np.array([60.0, 80.0])), [30.0, 40.0])
    np.testing.assert_array_equal(parse_dose("oral 25 mg").amount_mg(np.ones(3)), [25.0] * 3)


def test_repeats_expand_into_events_and_count_in_totals() -> None:
    dose = parse_dose("oral 25 mg every 8 h x 3 at 1 h")
    assert [e.start_min for e in dose.occurrences()] == [60.0, 540.0, 1020.0]
    assert all(e.count == 1 and e.every_min is None for e in dose.occurrences())
    assert dose.total_mg(70.0) == 75.0
    assert dose.end_min == 1020.0
    assert dose.amount_mg_between(70.0, 0.0, 600.0) == 50.0


def test_an_infusion_counts_pro_rata_in_a_window() -> None:
    dose = parse_dose("iv-infusion 60 mg over 60 min at 30 min")
    assert dose.amount_mg_between(70.0, 0.0, 60.0) == pytest.approx(30.0)


def test_doses_keep_their_order_and_the_engine_gets_sorted_events() -> None:
    late = Dose(Route.IV, 5.0, start_min=100.0)
    doses = parse_doses(["iv-bolus 10 mg at 2 h", late, "iv-bolus 1 mg"])
    assert [d.start_min for d in doses] == [120.0, 100.0, 0.0]
    assert [d.start_min for d in expand_doses(doses)] == [0.0, 100.0, 120.0]
    assert parse_doses("im 5 mg") == (Dose(Route.IM, 5.0),)


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


def test_json_has_the_unit_in_every_key_and_the_text() -> None:
    data = parse_dose("iv-infusion 0.25 mg/kg/h for 24 h at 60 min").to_json()
    assert data["rate_mg_per_kg_per_h"] == 0.25
    assert data["duration_min"] == 1440.0
    assert data["start_min"] == 60.0
    assert data["text"] == "iv-infusion 0.25 mg/kg/h for 24 h at 60 min"
    assert not {"value", "unit", "amount"} & set(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"text": "iv-bolus 35 mg at 0 min"}, "disagrees with its fields"),
        ({"form": "bolus"}, "disagrees with its fields"),
        ({"amount_mg": 5.0}, "exactly one of"),
        ({"volume_ml": 5.0}, "unknown dose fields volume_ml"),
        ({"route": "epidural"}, "neurotoxic"),
    ],
)
def test_json_that_disagrees_with_itself_is_refused(
    change: dict[str, object], message: str
) -> None:
    data = {**parse_dose("iv-infusion 0.5 mg/kg over 40 min").to_json(), **change}
    with pytest.raises(UserInputError, match=message):
        Dose.from_json(data)


_numbers = st.decimals(min_value="0.001", max_value="5000", places=3).map(float)
_times = st.sampled_from(list(TimeUnit))


@st.composite
def doses(draw: st.DrawFn) -> Dose:
    route = draw(st.sampled_from(list(Route)))
    infusion = route.allows_infusion and draw(st.booleans())
    unit = draw(st.sampled_from(list(DoseUnit) if infusion else [U.MG, U.MG_PER_KG]))
    duration_unit = draw(_times)
    duration = draw(st.integers(1, 240)) * duration_unit.minutes / 4 if infusion else 0.0
    count = draw(st.integers(1, 5))
    every_unit = draw(_times)
    every = None
    if count > 1:
        every = max(duration, 1.0) + draw(st.integers(0, 100)) * every_unit.minutes
        every = round(every / every_unit.minutes, 3) * every_unit.minutes
        if every < duration or every <= 0:
            every = None
            count = 1
    start_unit = draw(_times)
    start = draw(st.integers(0, 100)) * start_unit.minutes
    return Dose(
        route,
        draw(_numbers),
        unit,
        duration,
        start,
        every,
        count,
        duration_unit,
        start_unit,
        every_unit,
    )


@given(doses())
def test_a_dose_survives_text_and_json_without_loss(dose: Dose) -> None:
    assert parse_dose(str(dose)) == dose
    assert Dose.from_json(json.loads(json.dumps(dose.to_json()))) == dose
