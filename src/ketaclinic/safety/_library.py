"""The versioned drug library: hard and soft limits per protocol and route (data file).

Loaded once from ``data/drug_library.yaml`` through :mod:`importlib.resources` and cached;
validated by the pydantic models below at load time, so a broken library fails at start-up.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ketaclinic.errors import DataFileError, UnknownNameError

__all__ = ["LIMIT_NAMES", "DrugLibrary", "LibraryEntry", "Limit", "Usual", "drug_library"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Limit(_Frozen):
    """A soft (overridable) and/or hard limit on one quantity, with its basis.

    For maxima a value *above* the limit fires; for minima (``min_interval_h``) a value
    *below* it fires. ``basis`` says whether the number is published, a clinical judgement or
    a published number still to be verified against the primary source.
    """

    soft: float | None = Field(default=None, ge=0)
    hard: float | None = Field(default=None, ge=0)
    basis: Literal["published", "judgement", "verify"]
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _one_limit(self) -> Limit:
        if self.soft is None and self.hard is None:
            raise ValueError("a limit needs soft, hard or both")
        return self

    def describe_source(self) -> str:
        label = {
            "published": "",
            "judgement": " [clinical judgement, not a published number]",
            "verify": " [VERIFY against the primary source]",
        }[self.basis]
        return self.source + label


class Usual(_Frozen):
    """The usual dose, used to spot probable unit and decimal mistakes. With both a per-kg
    and a fixed value the usual dose is the smaller: a per-kg dose up to a cap."""

    bolus_mg: float | None = Field(default=None, gt=0)
    bolus_mg_per_kg: float | None = Field(default=None, gt=0)
    infusion_rate_mg_per_h: float | None = Field(default=None, gt=0)
    infusion_rate_mg_per_kg_per_h: float | None = Field(default=None, gt=0)
    infusion_duration_h: float | None = Field(default=None, gt=0)

    def bolus_mg_for(self, weight_kg: float) -> float | None:
        return _smaller(self.bolus_mg_per_kg, weight_kg, self.bolus_mg)

    def rate_mg_per_h_for(self, weight_kg: float) -> float | None:
        return _smaller(self.infusion_rate_mg_per_kg_per_h, weight_kg, self.infusion_rate_mg_per_h)

    def infusion_mg_for(self, weight_kg: float) -> float | None:
        rate = self.rate_mg_per_h_for(weight_kg)
        if rate is None or self.infusion_duration_h is None:
            return None
        return rate * self.infusion_duration_h


def _smaller(per_kg: float | None, weight_kg: float, fixed: float | None) -> float | None:
    values = [v for v in (per_kg * weight_kg if per_kg is not None else None, fixed) if v]
    return min(values, default=None)


LIMIT_NAMES = (
    "bolus_mg",
    "bolus_mg_per_kg",
    "infusion_rate_mg_per_h",
    "infusion_rate_mg_per_kg_per_h",
    "session_total_mg",
    "session_total_mg_per_kg",
    "total_24h_mg",
    "weekly_total_mg",
    "min_interval_h",
    "min_dose_interval_h",
    "max_course_days",
    "max_sessions_per_7d",
)


class LibraryEntry(_Frozen):
    """Limits for one protocol and one route."""

    protocol: str
    route: str
    forms: tuple[Literal["bolus", "infusion"], ...]
    usual: Usual
    course_break_days: float = Field(
        default=14.0, gt=0, description="a gap longer than this starts a new course"
    )
    bolus_mg: Limit | None = None
    bolus_mg_per_kg: Limit | None = None
    infusion_rate_mg_per_h: Limit | None = None
    infusion_rate_mg_per_kg_per_h: Limit | None = None
    session_total_mg: Limit | None = None
    session_total_mg_per_kg: Limit | None = None
    total_24h_mg: Limit | None = None
    weekly_total_mg: Limit | None = None
    min_interval_h: Limit | None = None
    min_dose_interval_h: Limit | None = None
    max_course_days: Limit | None = None
    max_sessions_per_7d: Limit | None = None
    notes: str = ""

    def limit(self, name: str) -> Limit | None:
        value = getattr(self, name)
        assert value is None or isinstance(value, Limit)
        return value


class DrugLibrary(_Frozen):
    """The whole library: a version, the drug, and the entries."""

    version: str
    drug: str
    sources_note: str
    entries: tuple[LibraryEntry, ...]

    @model_validator(mode="after")
    def _unique(self) -> DrugLibrary:
        keys = [(e.protocol, e.route) for e in self.entries]
        if len(keys) != len(set(keys)):
            raise ValueError("drug library has duplicate (protocol, route) entries")
        return self

    def entry(self, protocol: str, route: str) -> LibraryEntry:
        for e in self.entries:
            if e.protocol == protocol and e.route == route:
                return e
        routes = [e.route for e in self.entries if e.protocol == protocol]
        raise UnknownNameError(
            f"drug library {self.version} has no entry for protocol {protocol!r} and route "
            f"{route!r}; routes for this protocol: {', '.join(routes) or 'none'}"
        )

    def find(self, protocol: str, route: str) -> LibraryEntry | None:
        try:
            return self.entry(protocol, route)
        except UnknownNameError:
            return None


@lru_cache(maxsize=1)
def drug_library() -> DrugLibrary:
    """The packaged drug library, loaded and validated once."""
    text = resources.files("ketaclinic.safety").joinpath("data/drug_library.yaml").read_text()
    try:
        return DrugLibrary.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise DataFileError(f"drug library data/drug_library.yaml is not YAML: {error}") from None
    except ValidationError as error:
        from ketaclinic.safety._inputs import format_validation_error

        where = "drug library data/drug_library.yaml is invalid"
        raise DataFileError(format_validation_error(error, where)) from None
