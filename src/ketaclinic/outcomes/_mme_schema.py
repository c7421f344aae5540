"""The schema of a morphine milligram equivalent (MME) conversion table data file."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["DoseUnit", "MmeDrug", "MmeTable", "MmeTier", "Unconverted"]

DoseUnit = Literal["mg/day", "mcg/h"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MmeTier(_Frozen):
    """A factor for daily doses above the previous tier's bound, up to ``up_to_mg_per_day``."""

    up_to_mg_per_day: float = Field(gt=0)
    factor: float = Field(gt=0)
    label: str


class MmeDrug(_Frozen):
    """One opioid the table converts: MME (mg/day of oral morphine) = dose x factor.

    ``factor`` is MME per mg/day, or per mcg/h for transdermal fentanyl (``dose_unit``).
    Methadone in the 2016 table has ``tiers`` instead of one factor.
    """

    name: str = Field(pattern=r"^[a-z ]+$")
    aliases: tuple[str, ...] = ()
    dose_unit: DoseUnit
    factor: float | None = Field(default=None, gt=0)
    tiers: tuple[MmeTier, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _factor_or_tiers(self) -> MmeDrug:
        if (self.factor is None) == (not self.tiers):
            raise ValueError(f"{self.name}: give exactly one of factor or tiers")
        bounds = [t.up_to_mg_per_day for t in self.tiers]
        if bounds != sorted(set(bounds)):
            raise ValueError(f"{self.name}: tiers must rise strictly")
        if self.tiers and self.dose_unit != "mg/day":
            raise ValueError(f"{self.name}: tiers are in mg/day")
        return self


class Unconverted(_Frozen):
    """A drug the table does not convert, and why (it is refused, never given a number)."""

    name: str = Field(pattern=r"^[a-z ]+$")
    aliases: tuple[str, ...] = ()
    reason: str = Field(min_length=10)


class MmeTable(_Frozen):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    version: str = Field(min_length=1)
    title: str
    source: str = Field(min_length=10)
    caution: str = Field(min_length=20)
    drugs: tuple[MmeDrug, ...] = Field(min_length=1)
    unconverted: tuple[Unconverted, ...] = ()
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> MmeTable:
        names = [n for d in self.drugs for n in (d.name, *d.aliases)]
        names += [n for u in self.unconverted for n in (u.name, *u.aliases)]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"drug names repeat: {repeated}")
        return self
