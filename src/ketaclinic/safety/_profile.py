"""What the safety engine needs to know about a protocol, handed to it by the caller.

The safety layer sits below ``protocols`` and may not import it (DESIGN.md layers). The
protocol library builds a :class:`ProtocolProfile` from its data and passes it in; the dose
limits themselves live in the drug library, keyed by the same protocol id and route.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.pharmacology import Drug
from ketaclinic.safety._findings import Severity

__all__ = ["ConcentrationCeiling", "ProtocolProfile", "Setting"]


class Setting(StrEnum):
    INPATIENT = "inpatient"
    OUTPATIENT = "outpatient"


@dataclass(frozen=True)
class ConcentrationCeiling:
    """A predicted concentration above which an order is flagged (``severity``)."""

    conc_ng_per_ml: float
    severity: Severity
    label: str
    source: str


@dataclass(frozen=True)
class ProtocolProfile:
    """Protocol facts the rules use: model, ceilings, eligibility, weight freshness."""

    protocol_id: str
    title: str
    drug: Drug
    setting: Setting
    model_id: str
    ceilings: tuple[ConcentrationCeiling, ...]
    weight_based: bool
    weight_max_age_days: int
    third_line_required: bool
    repeated_sessions: bool
    source: str
