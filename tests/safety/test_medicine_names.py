"""Medicine names: brand names map to generics, a misspelling is caught with a suggestion, a
name in no table cannot be screened and says so; the tables are versioned data."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from safety_helpers import codes, finding, patient, run

from ketaclinic.safety import InteractionTables, Severity, interaction_tables


def meds(*names: str) -> Any:
    return patient(medications=[{"name": n} for n in names])


@pytest.mark.parametrize(
    ("brand", "code"),
    [
        ("Nardil", "interaction.maoi"),
        ("Parnate", "interaction.maoi"),
        ("Marplan", "interaction.maoi"),
        ("Emsam", "interaction.maoi"),
        ("Ritalin", "interaction.stimulant"),
        ("Adderall", "interaction.stimulant"),
        ("Vyvanse", "interaction.stimulant"),
        ("Provigil", "interaction.stimulant"),
        ("Xanax", "interaction.benzodiazepine_dose_unknown"),
        ("Klonopin", "interaction.benzodiazepine_dose_unknown"),
        ("Ativan", "interaction.benzodiazepine_dose_unknown"),
        ("Valium", "interaction.benzodiazepine_dose_unknown"),
        ("Biaxin", "interaction.clarithromycin"),
        ("Rifadin", "interaction.rifampicin"),
    ],
)
def test_a_brand_name_is_screened_as_its_generic(brand: str, code: str) -> None:
    report = run("esketamine-nasal", who=meds(brand))
    assert code in codes(report)
    assert "interaction.unscreened" not in codes(report)
    generic = interaction_tables().lookup(brand).generic
    assert f"{brand} ({generic})" in finding(report, code).message


def test_nardil_is_an_maoi_warning() -> None:
    message = finding(run("esketamine-nasal", who=meds("Nardil")), "interaction.maoi").message
    assert message.startswith("Nardil (phenelzine) (MAOI): blood pressure may rise")


def test_a_misspelt_maoi_warns_that_it_cannot_be_screened_and_suggests_the_generic() -> None:
    report = run("esketamine-nasal", who=meds("phenelzne"))
    warning = finding(report, "interaction.unscreened")
    assert warning.severity is Severity.WARNING
    assert "'phenelzne' is not in the interaction tables" in warning.message
    assert "cannot be screened" in warning.message
    assert "did you mean phenelzine?" in warning.message
    assert "interaction.maoi" not in codes(report)  # a guess is not screened as a fact


def test_a_misspelt_brand_suggests_the_brand_and_its_generic() -> None:
    warning = finding(run("esketamine-nasal", who=meds("Nardill")), "interaction.unscreened")
    assert "did you mean Nardil (phenelzine)?" in warning.message


def test_an_unknown_name_warns_without_a_suggestion() -> None:
    warning = finding(run("depression-iv", who=meds("zzyzx")), "interaction.unscreened")
    assert "did you mean" not in warning.message


def test_names_are_matched_whatever_their_case_and_kept_as_given() -> None:
    report = run("esketamine-nasal", who=meds("  PHENELZINE "))
    assert "PHENELZINE (MAOI)" in finding(report, "interaction.maoi").message


def test_the_reports_carry_the_interaction_tables_version() -> None:
    report = run("depression-iv")
    assert report.interaction_tables_version == interaction_tables().version
    assert report.to_dict()["interaction_tables_version"] == interaction_tables().version


def test_every_brand_and_table_cites_a_source() -> None:
    tables = interaction_tables()
    assert all(len(b.source) > 10 for b in tables.brands)
    assert all(len(g.source) > 10 for g in tables.groups)
    assert all(len(c.source) > 10 for c in tables.cyp)
    assert all(len(c.source) > 10 for c in tables.pain_treatment_classes.values())


def test_a_broken_table_is_refused_at_load() -> None:
    data = yaml.safe_load(yaml.safe_dump(interaction_tables().model_dump(mode="json")))
    data["brands"].append({"brand": "Nardil", "generic": "phenelzine", "source": "duplicate"})
    with pytest.raises(ValidationError, match="brand names listed twice: nardil"):
        InteractionTables.model_validate(data)
    data = yaml.safe_load(yaml.safe_dump(interaction_tables().model_dump(mode="json")))
    data["brands"].append({"brand": "Foo", "generic": "unknownium", "source": "a label"})
    with pytest.raises(ValidationError, match="generics in no table: unknownium"):
        InteractionTables.model_validate(data)
