"""The versioned interaction tables (``data/interactions.yaml``) and medicine-name lookup.

Loaded once through :mod:`importlib.resources` and validated by the pydantic models below, so
a broken table fails at start-up (:class:`~ketaclinic.errors.DataFileError`). A name is looked
up case-insensitively as a generic name, then as a brand name; a name in no table is
*unscreened*, with the closest known name as a suggestion (``difflib``), so that a typo such as
``phenelzne`` is caught instead of passing silently.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ketaclinic.errors import DataFileError

__all__ = [
    "InteractionTables",
    "Lookup",
    "PainTreatment",
    "interaction_tables",
    "normalise_name",
]

SUGGESTION_CUTOFF = 0.8  # difflib similarity: 'phenelzne' -> 'phenelzine' scores 0.95


class PainTreatment(StrEnum):
    """Classes of pain treatment tried before (third-line eligibility, DOMAIN.md section 1)."""

    OPIOID = "opioid"
    NSAID = "nsaid"
    PARACETAMOL = "paracetamol"
    TRICYCLIC = "tricyclic"
    GABAPENTINOID = "gabapentinoid"
    SNRI = "snri"
    OTHER_ANTICONVULSANT = "other_anticonvulsant"
    TOPICAL = "topical"
    INTERVENTIONAL = "interventional"
    PHYSIOTHERAPY = "physiotherapy"
    PSYCHOLOGICAL = "psychological"


def normalise_name(text: str) -> str:
    """The lookup key of a medicine name: lower case, single spaces, no trademark signs.

    >>> normalise_name("  MS   Contin® ")
    'ms contin'
    """
    cleaned = text.replace("®", " ").replace("™", " ")
    return " ".join(cleaned.lower().split())


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Names = tuple[str, ...]


class _Named(_Frozen):
    names: Names = Field(min_length=1)
    source: str = Field(min_length=5)

    @field_validator("names")
    @classmethod
    def _normalised(cls, names: Names) -> Names:
        return tuple(normalise_name(n) for n in names)


class BenzodiazepineTable(_Frozen):
    equivalent_to_diazepam_10_mg: dict[str, float]
    source: str = Field(min_length=5)
    limit_diazepam_mg_per_day: float = Field(gt=0)
    limit_source: str = Field(min_length=5)

    @field_validator("equivalent_to_diazepam_10_mg")
    @classmethod
    def _positive(cls, table: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in table.items() if v <= 0]
        if bad:
            raise ValueError(f"equivalent doses must be above 0 mg: {', '.join(bad)}")
        return {normalise_name(k): v for k, v in table.items()}

    @property
    def diazepam_mg_per_mg(self) -> dict[str, float]:
        """mg of diazepam per mg of each drug (10 mg / the equivalent dose)."""
        return {k: 10.0 / v for k, v in self.equivalent_to_diazepam_10_mg.items()}


class Group(_Named):
    """Medicines with one fixed finding (MAOIs, stimulants, ...)."""

    code: str = Field(pattern=r"^[a-z_]+$")
    label: str
    severity: Literal["WARNING", "INFO"]
    effect: str = Field(min_length=5)


class CypEntry(_Named):
    """A CYP inhibitor or inducer with the published change in oral S-ketamine AUC."""

    code: str = Field(pattern=r"^[a-z_]+$")
    mechanism: str
    oral_auc_factor: float = Field(gt=0)
    iv_auc_factor: float | None = Field(default=None, gt=0)


class Recognised(_Named):
    """Co-treatments the tables know without an interaction finding."""

    label: str


class Brand(_Frozen):
    brand: str = Field(min_length=2)
    generic: str = Field(min_length=2)
    source: str = Field(min_length=5)


class InteractionTables(_Frozen):
    """The whole data file: a version, the tables and the brand names."""

    version: str
    sources_note: str
    benzodiazepines: BenzodiazepineTable
    groups: tuple[Group, ...]
    cyp: tuple[CypEntry, ...]
    recognised: tuple[Recognised, ...]
    pain_treatment_classes: dict[PainTreatment, _Named]
    brands: tuple[Brand, ...]

    @model_validator(mode="after")
    def _consistent(self) -> InteractionTables:
        known = self.generic_names
        keys = [normalise_name(b.brand) for b in self.brands]
        doubled = sorted({k for k in keys if keys.count(k) > 1})
        if doubled:
            raise ValueError(f"brand names listed twice: {', '.join(doubled)}")
        clash = sorted(set(keys) & known)
        if clash:
            raise ValueError(f"brand names that are also generic names: {', '.join(clash)}")
        orphans = sorted({b.generic for b in self.brands if normalise_name(b.generic) not in known})
        if orphans:
            raise ValueError(f"brands map to generics in no table: {', '.join(orphans)}")
        return self

    @cached_property
    def generic_names(self) -> frozenset[str]:
        names = set(self.benzodiazepines.equivalent_to_diazepam_10_mg)
        for table in (*self.groups, *self.cyp, *self.recognised):
            names.update(table.names)
        for pain in self.pain_treatment_classes.values():
            names.update(pain.names)
        return frozenset(names)

    @cached_property
    def _brand_map(self) -> dict[str, Brand]:
        return {normalise_name(b.brand): b for b in self.brands}

    def lookup(self, name: str) -> Lookup:
        """What ``name`` is: a generic name, a brand of one, or unknown (with a suggestion)."""
        key = normalise_name(name)
        if key in self.generic_names:
            return Lookup(name, key, None, None)
        brand = self._brand_map.get(key)
        if brand is not None:
            return Lookup(name, normalise_name(brand.generic), brand.brand, brand.source)
        return Lookup(name, None, None, None, self._suggest(key))

    def _suggest(self, key: str) -> str | None:
        candidates = [*self.generic_names, *self._brand_map]
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=SUGGESTION_CUTOFF)
        if not close:
            return None
        brand = self._brand_map.get(close[0])
        return f"{brand.brand} ({normalise_name(brand.generic)})" if brand else close[0]

    def pain_class(self, name: str) -> PainTreatment | None:
        """The pain-treatment class a class name or drug name stands for, if any."""
        key = normalise_name(name).replace(" ", "_")
        for member in PainTreatment:
            if member.value == key:
                return member
        generic = self.lookup(name).generic
        for cls, table in self.pain_treatment_classes.items():
            if generic is not None and generic in table.names:
                return cls
        return None


@dataclass(frozen=True)
class Lookup:
    """A medicine name as given and what the tables make of it."""

    given: str
    generic: str | None
    brand: str | None
    brand_source: str | None
    suggestion: str | None = None

    @property
    def recognised(self) -> bool:
        return self.generic is not None

    @property
    def shown(self) -> str:
        """The name for a message: ``Nardil (phenelzine)`` for a brand, else as given."""
        if self.brand is not None:
            return f"{self.given} ({self.generic})"
        return self.given


@lru_cache(maxsize=1)
def interaction_tables() -> InteractionTables:
    """The packaged interaction tables, loaded and validated once."""
    where = "interaction tables data/interactions.yaml"
    text = resources.files("ketaclinic.safety").joinpath("data/interactions.yaml").read_text()
    try:
        return InteractionTables.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise DataFileError(f"{where} is not YAML: {error}") from None
    except ValidationError as error:
        from ketaclinic.safety._inputs import format_validation_error

        raise DataFileError(format_validation_error(error, f"{where} is invalid")) from None
