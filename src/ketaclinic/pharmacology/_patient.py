"""The patient covariates the models use, validated once at construction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from ketaclinic.errors import UserInputError
from ketaclinic.ranges import AGE_YEARS, HEIGHT_CM, WEIGHT_KG

__all__ = ["ChildPugh", "Ethnicity", "Patient", "Sex"]


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class ChildPugh(StrEnum):
    """Hepatic impairment by Child-Pugh class; ``none`` means no known impairment."""

    NONE = "none"
    A = "A"
    B = "B"
    C = "C"


class Ethnicity(StrEnum):
    """Self-reported ethnicity, used only by models that publish an ethnicity covariate
    (Perez-Ruixo 2021: Asian; Japanese is a subset of Asian). ``not stated`` is the default
    and applies no covariate."""

    NOT_STATED = "not stated"
    ASIAN = "asian"
    JAPANESE = "japanese"
    OTHER = "other"

    @property
    def asian(self) -> bool:
        return self in (Ethnicity.ASIAN, Ethnicity.JAPANESE)


def _enum(kind: type[StrEnum], value: Any, label: str) -> Any:
    if isinstance(value, kind):
        return value
    text = str(value).strip()
    for member in kind:
        if member.value.lower() == text.lower():
            return member
    accepted = ", ".join(m.value for m in kind)
    raise UserInputError(f"{label} {value!r} is not accepted; accepted: {accepted}")


@dataclass(frozen=True)
class Patient:
    """Covariates of one patient.

    >>> Patient(weight_kg=70, age_years=40, sex="male", height_cm=175)
    Patient(weight_kg=70.0, age_years=40.0, sex=<Sex.MALE: 'male'>, height_cm=175.0, \
child_pugh=<ChildPugh.NONE: 'none'>, ethnicity=<Ethnicity.NOT_STATED: 'not stated'>)
    """

    weight_kg: float
    age_years: float = 40.0
    sex: Sex | str = Sex.MALE
    height_cm: float = 170.0
    child_pugh: ChildPugh | str = ChildPugh.NONE
    ethnicity: Ethnicity | str = Ethnicity.NOT_STATED

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight_kg", WEIGHT_KG.check(self.weight_kg))
        object.__setattr__(self, "age_years", AGE_YEARS.check(self.age_years))
        object.__setattr__(self, "height_cm", HEIGHT_CM.check(self.height_cm))
        object.__setattr__(self, "sex", _enum(Sex, self.sex, "sex"))
        object.__setattr__(self, "child_pugh", _enum(ChildPugh, self.child_pugh, "Child-Pugh"))
        object.__setattr__(self, "ethnicity", _enum(Ethnicity, self.ethnicity, "ethnicity"))

    def replace(self, **changes: Any) -> Patient:
        """A copy with ``changes`` applied (validated again)."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "weight_kg": self.weight_kg,
            "age_years": self.age_years,
            "sex": str(self.sex),
            "height_cm": self.height_cm,
            "child_pugh": str(self.child_pugh),
            "ethnicity": str(self.ethnicity),
        }
