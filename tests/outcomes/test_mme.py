"""MME from the CDC 2022 and 2016 tables: hand calculations, methadone tiers, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.errors import DoseSyntaxError, OutOfRangeError, UnknownNameError, UserInputError
from ketaclinic.outcomes import (
    DailyDose,
    converts,
    get_mme_table,
    mme,
    mme_tables,
    parse_daily_dose,
)

CDC_2022 = [
    ("codeine", "240 mg/day", 0.15, 36.0),
    ("hydrocodone", "20 mg/day", 1.0, 20.0),
    ("hydromorphone", "8 mg/day", 5.0, 40.0),
    ("methadone", "30 mg/day", 4.7, 141.0),
    ("methadone", "100 mg/day", 4.7, 470.0),
    ("morphine", "60 mg/day", 1.0, 60.0),
    ("oxycodone", "60 mg/day", 1.5, 90.0),
    ("oxymorphone", "20 mg/day", 3.0, 60.0),
    ("tapentadol", "200 mg/day", 0.4, 80.0),
    ("tramadol", "200 mg/day", 0.2, 40.0),
    ("fentanyl transdermal", "25 mcg/h", 2.4, 60.0),
    ("fentanyl patch", "12 mcg/h", 2.4, 28.8),
]
CDC_2016 = [
    ("codeine", "240 mg/day", 0.15, 36.0),
    ("hydrocodone", "20 mg/day", 1.0, 20.0),
    ("hydromorphone", "8 mg/day", 4.0, 32.0),
    ("morphine", "60 mg/day", 1.0, 60.0),
    ("oxycodone", "60 mg/day", 1.5, 90.0),
    ("oxymorphone", "20 mg/day", 3.0, 60.0),
    ("fentanyl transdermal", "25 mcg/h", 2.4, 60.0),
]
METHADONE_2016 = [
    ("1 mg/day", 4, 4.0),
    ("10 mg/day", 4, 40.0),
    ("20 mg/day", 4, 80.0),
    ("20.5 mg/day", 8, 164.0),
    ("21 mg/day", 8, 168.0),
    ("40 mg/day", 8, 320.0),
    ("41 mg/day", 10, 410.0),
    ("60 mg/day", 10, 600.0),
    ("61 mg/day", 12, 732.0),
    ("80 mg/day", 12, 960.0),
]


@pytest.mark.parametrize(("drug", "dose", "factor", "expected"), CDC_2022)
def test_cdc_2022_by_hand(drug: str, dose: str, factor: float, expected: float) -> None:
    result = mme(drug, dose)
    assert result.factor == factor
    assert result.mme_mg_per_day == pytest.approx(expected)
    assert (result.table_id, result.table_version) == ("cdc-2022", "2022-11")


@pytest.mark.parametrize(("drug", "dose", "factor", "expected"), CDC_2016)
def test_cdc_2016_by_hand(drug: str, dose: str, factor: float, expected: float) -> None:
    result = mme(drug, dose, table="cdc-2016")
    assert (result.factor, result.mme_mg_per_day) == (factor, pytest.approx(expected))
    assert result.table_version == "2016-03"


@pytest.mark.parametrize(("dose", "factor", "expected"), METHADONE_2016)
def test_cdc_2016_methadone_tiers(dose: str, factor: float, expected: float) -> None:
    result = mme("methadone", dose, table="cdc-2016")
    assert result.factor == factor
    assert result.mme_mg_per_day == pytest.approx(expected)
    assert result.tier is not None


def test_cdc_2016_gives_no_methadone_factor_above_80_mg_per_day() -> None:
    with pytest.raises(OutOfRangeError, match="only up to 80 mg/day"):
        mme("methadone", "81 mg/day", table="cdc-2016")


def test_every_result_carries_the_caution_against_converting_opioids() -> None:
    for table in mme_tables():
        result = mme("morphine", "30 mg/day", table=table)
        assert "never for converting one opioid to another" in result.caution
        assert result.source
        assert result.to_dict()["caution"] == result.caution


@pytest.mark.parametrize("table", ["cdc-2022", "cdc-2016"])
@pytest.mark.parametrize(
    "drug", ["buprenorphine", "Buprenorphine patch", "fentanyl", "fentanyl buccal"]
)
def test_it_refuses_drugs_the_table_does_not_convert(table: str, drug: str) -> None:
    with pytest.raises(UserInputError, match=f"is not converted to MME by {table}"):
        mme(drug, "8 mg/day", table=table)
    assert converts(drug, table) is False


@pytest.mark.parametrize("drug", ["tapentadol", "tramadol"])
def test_the_2016_table_does_not_convert_tapentadol_or_tramadol(drug: str) -> None:
    with pytest.raises(UserInputError, match="not in the CDC 2016 fact sheet table"):
        mme(drug, "100 mg/day", table="cdc-2016")
    assert converts(drug, "cdc-2022")


def test_it_refuses_an_unknown_opioid_naming_the_accepted_ones() -> None:
    with pytest.raises(
        UnknownNameError,
        match="opioid 'pethidine' is not in the cdc-2022 MME table, so no MME is given; "
        "accepted: codeine",
    ):
        mme("pethidine", "100 mg/day")


@pytest.mark.parametrize(
    ("drug", "dose", "error", "message"),
    [
        (
            "oxycodone",
            "25 mcg/h",
            UserInputError,
            "oxycodone is converted from a dose in mg/day, not mcg/h",
        ),
        ("fentanyl transdermal", "60 mg/day", UserInputError, "converted from a dose in mcg/h"),
        ("oxycodone", "60 mg", DoseSyntaxError, "is not understood"),
        ("oxycodone", "60", DoseSyntaxError, "is not understood"),
        ("oxycodone", "60 g/day", DoseSyntaxError, "unit g/day is not accepted"),
        ("oxycodone", "60 mg/h", DoseSyntaxError, "unit mg/h is not accepted"),
        ("oxycodone", "0 mg/day", OutOfRangeError, "opioid daily dose 0 mg/day is outside"),
        ("oxycodone", "20000 mg/day", OutOfRangeError, "accepted range 0-10000 mg/day"),
        ("fentanyl transdermal", "5000 mcg/h", OutOfRangeError, "transdermal patch rate 5000"),
        ("oxycodone", "-5 mg/day", DoseSyntaxError, "is not understood"),
    ],
)
def test_it_refuses_doses_without_the_right_unit_or_out_of_range(
    drug: str, dose: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        mme(drug, dose)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("60 mg/day", DailyDose(60, "mg/day")),
        ("60mg/d", DailyDose(60, "mg/day")),
        ("60 mg per day", DailyDose(60, "mg/day")),
        ("60 mg/24 h", DailyDose(60, "mg/day")),
        ("25 mcg/h", DailyDose(25, "mcg/h")),
        ("25 mcg/hr", DailyDose(25, "mcg/h")),
        ("12.5 microgram/hour", DailyDose(12.5, "mcg/h")),
        ("25 µg/h", DailyDose(25, "mcg/h")),
    ],
)
def test_daily_doses_are_parsed_with_explicit_units(text: str, expected: DailyDose) -> None:
    assert parse_daily_dose(text) == expected


@pytest.mark.parametrize("name", ["Oxycodone", "oxycodone oral", "OXYCODONE PO"])
def test_drug_names_match_without_case_or_an_oral_route_word(name: str) -> None:
    assert mme(name, "10 mg/day").drug == "oxycodone"


def test_a_parenteral_route_is_not_converted() -> None:
    with pytest.raises(UnknownNameError, match="'morphine iv' is not in the cdc-2022 MME table"):
        mme("morphine iv", "10 mg/day")


def test_a_daily_dose_value_is_accepted_as_is() -> None:
    assert mme("morphine", DailyDose(45, "mg/day")).mme_mg_per_day == 45


def test_an_unknown_table_is_refused() -> None:
    with pytest.raises(
        UnknownNameError, match="unknown MME table 'who-1996'; accepted: cdc-2016, cdc-2022"
    ):
        mme("morphine", "30 mg/day", table="who-1996")


def test_tables_are_loaded_once_and_versioned() -> None:
    assert mme_tables() is mme_tables()
    assert get_mme_table("CDC 2022").version == "2022-11"


@given(st.sampled_from([d.name for d in get_mme_table("cdc-2022").drugs]), st.floats(0.1, 1000))
def test_mme_is_the_dose_times_the_table_factor(drug: str, amount: float) -> None:
    item = next(d for d in get_mme_table("cdc-2022").drugs if d.name == drug)
    dose = DailyDose(amount, item.dose_unit)
    result = mme(drug, dose)
    assert result.mme_mg_per_day == pytest.approx(amount * (item.factor or 0), abs=1e-6)


@given(st.floats(0.1, 80), st.floats(0.1, 80))
def test_methadone_2016_mme_rises_with_the_dose(a: float, b: float) -> None:
    low, high = sorted((a, b))
    first = mme("methadone", DailyDose(low, "mg/day"), table="cdc-2016").mme_mg_per_day
    second = mme("methadone", DailyDose(high, "mg/day"), table="cdc-2016").mme_mg_per_day
    assert first <= second
