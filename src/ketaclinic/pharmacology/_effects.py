"""Concentration ranges associated with ketamine effects, by drug (DOMAIN.md section 7).

Racemic bands come from racemic studies and S-ketamine bands from S-ketamine studies (it is
about twice as potent, and the studies measured S-ketamine alone). Norketamine has no band:
no study found a concentration-effect relation for it (Sigtermans 2009 and Simons 2022 found
no consistent S-norketamine contribution; Olofsen 2022 a small antagonistic one; see
docs/research/route-parameters.md section 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ketaclinic.pharmacology._drug import Drug
from ketaclinic.pharmacology._frozen import FrozenMap

__all__ = ["CONCENTRATION_BANDS", "EFFECT_BANDS", "ConcentrationBand", "bands_for"]


@dataclass(frozen=True)
class ConcentrationBand:
    """A plasma concentration range in ng/mL linked to an effect, with its source (and a
    short citation for legends)."""

    name: str
    low_ng_per_ml: float
    high_ng_per_ml: float
    source: str
    cite: str = ""


CONCENTRATION_BANDS: tuple[ConcentrationBand, ...] = (
    ConcentrationBand(
        "analgesic",
        70.0,
        160.0,
        "racemic: analgesia at about 70-160 ng/mL; 100 ng/mL used as analgesic threshold "
        "(Zanos 2018 Pharmacol Rev 70:621 Table 1, a review; DOMAIN.md section 7)",
        "Zanos 2018",
    ),
    ConcentrationBand(
        "dissociative",
        100.0,
        250.0,
        "racemic: dissociation at about 100-250 ng/mL; psychedelic effects rise over 50-200 "
        "ng/mL (Bowdle 1998, PMID 9523809)",
        "Bowdle 1998",
    ),
    ConcentrationBand(
        "anaesthetic",
        1200.0,
        2400.0,
        "racemic: anaesthesia at 1200-2400 ng/mL, awakening at about 750 ng/mL (Herd 2007, "
        "PMID 17564643)",
        "Herd 2007",
    ),
)

# S-ketamine, from S-ketamine studies (healthy volunteers; the Leiden studies sample arterial
# plasma). nmol/mL x 237.7 = ng/mL.
S_KETAMINE_BANDS: tuple[ConcentrationBand, ...] = (
    ConcentrationBand(
        "analgesic",
        90.0,
        404.0,
        "S-ketamine: antinociception C50 0.51 (95 % CI 0.38-0.66) nmol/mL = 121 (90-157) ng/mL "
        "(Olofsen 2022, Anesthesiology 136:792, DOI 10.1097/ALN.0000000000004176) to "
        "1.2-1.7 nmol/mL = 285-404 ng/mL (Simons 2022 Part 2, Front Pain Res 3:946487): "
        "the band spans both studies",
        "Olofsen 2022; Simons 2022",
    ),
    ConcentrationBand(
        "dissociative",
        71.0,
        157.0,
        "S-ketamine: drug high C50 0.3 nmol/mL = 71 ng/mL (Simons 2022 Part 2) to external "
        "perception C50 121 ng/mL (95 % CI up to 157; Olofsen 2022)",
        "Simons 2022; Olofsen 2022",
    ),
    ConcentrationBand(
        "anaesthetic",
        1500.0,
        2000.0,
        "S-ketamine: anaesthesia at targeted 1500-2000 ng/mL, measured 1959 +/- 442 ng/mL "
        "(Långsjö 2005, Anesthesiology 103:258)",
        "Långsjö 2005",
    ),
)

EFFECT_BANDS: Mapping[Drug, tuple[ConcentrationBand, ...]] = FrozenMap(
    {Drug.RACEMIC: CONCENTRATION_BANDS, Drug.ESKETAMINE: S_KETAMINE_BANDS}
)


def bands_for(drug: Drug | str, species: str = "parent") -> tuple[ConcentrationBand, ...]:
    """The effect bands of ``drug`` for its parent compound; none for the metabolite.

    >>> [b.high_ng_per_ml for b in bands_for("esketamine")]
    [404.0, 157.0, 2000.0]
    >>> bands_for("racemic", "norketamine")
    ()
    """
    if species != "parent":
        return ()
    return EFFECT_BANDS[Drug(drug)]
