"""Concentration ranges associated with ketamine effects (DOMAIN.md section 7)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONCENTRATION_BANDS", "ConcentrationBand"]


@dataclass(frozen=True)
class ConcentrationBand:
    """A plasma concentration range in ng/mL linked to an effect, with its source."""

    name: str
    low_ng_per_ml: float
    high_ng_per_ml: float
    source: str


CONCENTRATION_BANDS: tuple[ConcentrationBand, ...] = (
    ConcentrationBand(
        "analgesic",
        70.0,
        160.0,
        "analgesia at about 70-160 ng/mL; 100 ng/mL used as analgesic threshold "
        "(DOMAIN.md section 7)",
    ),
    ConcentrationBand(
        "dissociative",
        100.0,
        250.0,
        "dissociation at about 100-250 ng/mL; psychedelic effects rise over 50-200 ng/mL "
        "(Bowdle 1998, PMID 9523809)",
    ),
    ConcentrationBand(
        "anaesthetic",
        1200.0,
        2400.0,
        "anaesthesia at 1200-2400 ng/mL, awakening at about 750 ng/mL (Herd 2007, PMID 17564643)",
    ),
)
