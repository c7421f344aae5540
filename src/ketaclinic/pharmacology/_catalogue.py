"""The published ketamine models, with their sources, units and validated ranges.

Units inside: volumes L, clearances L/min, rate constants 1/min. Published L/h values are
divided by 60 where they are used, so the published number stays visible.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ketaclinic.errors import UnknownNameError
from ketaclinic.pharmacology._catalogue_base import (
    ASSUMED_KE0_PER_MIN,
    IV_ROUTE,
    OTTO_CITATION,
    H,
    declare_model,
    weight_of,
)
from ketaclinic.pharmacology._catalogue_esketamine import ESKETAMINE_MODELS
from ketaclinic.pharmacology._doses import Route
from ketaclinic.pharmacology._drug import Drug
from ketaclinic.pharmacology._frozen import FrozenMap
from ketaclinic.pharmacology._models import Covariates, PKModel
from ketaclinic.pharmacology._structure import (
    CHILD_BELOW_AGE_YEARS,
    AbsorptionPath,
    Metabolite,
    RouteSpec,
    Structure,
)

__all__ = ["ASSUMED_KE0_PER_MIN", "MODELS", "RACEMIC_ROUTE_EXTENSIONS", "get_model"]

FloatArray = NDArray[np.float64]


# Racemic norketamine. No published racemic ketamine + norketamine model with visible
# parameters was found (docs/research/route-parameters.md section 2: Brunette 2011's abstract
# is cut before its parameters; Kamp 2020 BJA's were not seen). The best-sourced option is
# stated as an assumption: the S-norketamine disposition of Otto 2021 (V 98.6 L, CL 57.7 L/h,
# Vp 160 L, Q 42.8 L/h; every volume scaled linearly and every clearance with exponent 0.75
# by weight here) applied to total norketamine, formed from 80 % of ketamine clearance and of
# the first-pass loss (the fraction Simons 2022 fixed for S-ketamine; "about 80 % of
# S-ketamine was metabolized into S-norketamine").
RACEMIC_NK_FORMED = 0.8
RACEMIC_NK_SOURCE = (
    "ASSUMPTION (no racemic ketamine-norketamine model with visible parameters was found): "
    "S-norketamine disposition of " + OTTO_CITATION + " applied to racemic norketamine; "
    "80 % of ketamine clearance and of first-pass loss forms norketamine (the fraction fixed "
    "in Simons 2022, PMID 35899184)"
)
_NK_FORMED_SOURCE = (
    "80 % of clearance forms norketamine: fixed in Simons 2022 (PMID 35899184), an assumption "
    "for racemic ketamine"
)

# Perez-Ruixo 2021 (esketamine spray): 46 % of each device is swallowed. The racemic nasal and
# sublingual extensions use that share of what is not absorbed through the mucosa for the
# first-pass norketamine of a dose (an ASSUMPTION: solutions, tablets and devices differ; the
# share was not measured for racemic ketamine).
SWALLOWED_FRACTION = 0.46


def _ext(
    route: Route,
    f: float,
    ka_per_min: float,
    source: str,
    *,
    first_pass_metabolite_fraction: float | None = None,
    child_f: float | None = None,
    child_ka_per_min: float | None = None,
    ka_cv: float | None = None,
    f_cv: float | None = None,
    zero_order_min: float = 0.0,
) -> RouteSpec:
    child = [f"F = {child_f:g}"] if child_f is not None else []
    if child_ka_per_min is not None:
        child.append(f"ka = {child_ka_per_min:.3g} /min")
    children = (
        f"; children (< {CHILD_BELOW_AGE_YEARS:g} years): {', '.join(child)}" if child else ""
    )
    zero_order = f"zero-order input over {zero_order_min:g} min, then " if zero_order_min else ""
    return RouteSpec(
        route,
        native=False,
        source=f"route extension (not fitted with this model): F = {f:g}, {zero_order}ka = "
        f"{ka_per_min:.3g} /min{children}: {source}",
        paths=(
            AbsorptionPath(
                str(route),
                ka_per_min,
                bioavailability=f,
                first_pass_metabolite_fraction=first_pass_metabolite_fraction,
                child_bioavailability=child_f,
                child_ka_per_min=child_ka_per_min,
                ka_cv=ka_cv,
                bioavailability_cv=f_cv,
                zero_order_min=zero_order_min,
            ),
        ),
    )


# Oral IIV on ka: Brunette 2011 published a between-subject variability of 148 % on the
# absorption half-time in children; applied to adults it spreads the oral Cmax of a
# population about twice as widely as Chong 2006 reported (CV 1.0 vs 0.56), so adult models
# take a calibrated CV (an ASSUMPTION, stated on the route) and the paediatric models
# (Herd, Hornik) keep Brunette's.
ADULT_ORAL_KA_CV = 0.35
PAEDIATRIC_ORAL_KA_CV = 1.48


def _oral(ka_cv: float, iiv: str) -> RouteSpec:
    return _ext(
        Route.ORAL,
        0.20,
        math.log(2.0) / 59.0,
        "adult F 0.20 (Yanagihara 2003, PMID 12516077; Chong 2006 23 +/- 9 %; Chong 2009 "
        "median 24 %, PMID 19366273); children F 0.45 (90 % CI 0.33-0.58) and absorption "
        "half-time 59 min (Brunette 2011, PMID 21355949; no adult racemic ka is published, "
        "so the paediatric half-time is used for adults too, an ASSUMPTION); 80 % of the "
        "first-pass loss forms norketamine (" + _NK_FORMED_SOURCE + "); " + iiv,
        first_pass_metabolite_fraction=RACEMIC_NK_FORMED,
        child_f=0.45,
        ka_cv=ka_cv,
        f_cv=0.39,
    )


# First-order absorption bolted onto the IV-only racemic models (docs/research/
# route-parameters.md section 1, which quotes each number's source). F is a published value
# from studies with measured concentrations; a ka is published (oral: Brunette 2011;
# sublingual: Simons 2022's film) or an ASSUMPTION chosen to reproduce reported
# concentrations or tmax with the Kamp 2020 disposition, and the source says which. IIV:
# Brunette 2011 published a between-subject variability of 148 % on the oral absorption
# half-time in children (kept for the paediatric models, see _oral); the other CVs are
# ASSUMPTIONS calibrated on the spread of non-compartmental estimates (Chong 2006: oral F
# 23 +/- 9 % and Cmax 22.8 +/- 12.8 ng/mL, sublingual F 32 +/- 17 %; Pharmacotherapy 2022:
# intranasal Cmax geometric SD 1.9-2.3).
RACEMIC_ROUTE_EXTENSIONS: FrozenMap[Route, RouteSpec] = FrozenMap(
    {
        Route.IM: _ext(
            Route.IM,
            0.93,
            0.07,
            "adult F 93 % from Clements 1982 (J Pharm Sci 71:539; secondary sources only, "
            "VERIFY); ka ASSUMED 0.07 /min (absorption half-time 10 min), chosen to reproduce "
            "the median concentrations 15 and 30 min after 1 and 0.5 mg/kg IM in adults "
            "(Anaesthesist 1984;33:272, PMID 6476334); children F 0.41 (Hornik 2018, PMID "
            "29677389)",
            child_f=0.41,
        ),
        Route.SC: _ext(
            Route.SC,
            1.0,
            0.017,
            "no human value published: near-complete absorption and a tmax of about 30 min "
            "are ASSUMPTIONS",
        ),
        Route.ORAL: _oral(
            ADULT_ORAL_KA_CV,
            "IIV: ka CV 35 % is an ASSUMPTION calibrated so that a Kamp population (30 % "
            "structural CVs, F CV 39 %) given 25 mg has a Cmax CV of about 56 %, the spread "
            "Chong 2006 reported (22.8 +/- 12.8 ng/mL; Brunette's 148 % is paediatric and "
            "gives about 100 %); F CV 39 % from Chong 2006's F 23 +/- 9 %",
        ),
        Route.SUBLINGUAL: _ext(
            Route.SUBLINGUAL,
            0.28,
            0.04,
            "F 24-32 %: Rolan 2014 median 29 % (PMID 24977293), Chong 2006 32 +/- 17 %, "
            "Chong 2009 24 %; mucosal absorption as published for the S-ketamine oral thin "
            "film (Simons 2022, PMID 35899184, Table 4: zero-order 13.1 min, then ka "
            "0.04 /min), applied to racemic sublingual ketamine (an ASSUMPTION: products "
            "differ; it replaces a ka chosen on Rolan 2014's tmax); of the part not absorbed, "
            "46 % is taken as swallowed (the share swallowed from a Perez-Ruixo 2021 spray) "
            "and 80 % of that forms norketamine (ASSUMPTIONS; " + _NK_FORMED_SOURCE + ")",
            first_pass_metabolite_fraction=SWALLOWED_FRACTION * RACEMIC_NK_FORMED,
            ka_cv=0.5,
            f_cv=0.53,
            zero_order_min=13.1,
        ),
        Route.INTRANASAL: _ext(
            Route.INTRANASAL,
            0.14,
            0.12,
            "adult F 0.14: mean of 0.17, 0.13 and 0.11 at 10, 30 and 50 mg with an IV "
            "reference (Pharmacotherapy 2022;42:298 Table 6; the older 45 % of Yanagihara "
            "2003 came from 3 subjects); ka ASSUMED 0.12 /min, chosen to reproduce that "
            "study's Cmax (its Tmax of 14-23 min comes out earlier, about 7 min with Kamp); "
            "children F 0.50 (Malinovsky 1996, Br J "
            "Anaesth 77:203) with ka ASSUMED 0.04 /min, chosen to reproduce that study's mean "
            "peaks after 3 and 9 mg/kg; of the part not absorbed, a swallowed share of 46 % "
            "(Perez-Ruixo 2021, esketamine spray) with 80 % forming norketamine (ASSUMPTIONS)",
            first_pass_metabolite_fraction=SWALLOWED_FRACTION * RACEMIC_NK_FORMED,
            child_f=0.50,
            child_ka_per_min=0.04,
            ka_cv=0.6,
            f_cv=0.6,
        ),
        Route.RECTAL: _ext(
            Route.RECTAL,
            0.30,
            0.013,
            "adult F about 30 % (Yanagihara 2003, PMID 12516077); ka ASSUMED, chosen to give a "
            "tmax of about 40 min; children F 0.25 (Malinovsky 1996, Br J Anaesth 77:203) with "
            "ka ASSUMED 0.016 /min, chosen to reproduce that study's mean peak (632 ng/mL at "
            "42 min after 9 mg/kg); first-pass norketamine as for the sublingual route (46 % "
            "of the part not absorbed through the mucosa passes the liver, 80 % of that forms "
            "norketamine; ASSUMPTIONS): rectal ketamine undergoes 'a high first-pass "
            "metabolism' (Anaesthesia 1983;38:60-64, PMID 6824156), norketamine after rectal "
            "dosing was 'always higher than ketamine' in children (Malinovsky 1996), and "
            "Yanagihara 2003 "
            "found the suppository's norketamine AUC(0-8 h) in the same range as the "
            "sublingual tablet's (280-460 ng*h/mL per enantiomer, both F about 30 %)",
            first_pass_metabolite_fraction=SWALLOWED_FRACTION * RACEMIC_NK_FORMED,
            child_f=0.25,
            child_ka_per_min=0.016,
        ),
    }
)

_RACEMIC_ROUTES = {Route.IV: IV_ROUTE, **RACEMIC_ROUTE_EXTENSIONS}
_PAEDIATRIC_ROUTES = {
    **_RACEMIC_ROUTES,
    Route.ORAL: _oral(
        PAEDIATRIC_ORAL_KA_CV,
        "IIV: ka CV 148 % (Brunette 2011's between-subject variability of the absorption "
        "half-time in children); F CV 39 % from Chong 2006's adult F 23 +/- 9 % (calibrated)",
    ),
}


_TWO = Structure(peripherals=1, effect_site=True)
_THREE = Structure(peripherals=2, effect_site=True)
_NK = Metabolite("norketamine", peripherals=1)
_TWO_NK = Structure(peripherals=1, metabolite=_NK, effect_site=True)
_THREE_NK = Structure(peripherals=2, metabolite=_NK, effect_site=True)


def _norketamine(weight_kg: FloatArray) -> dict[str, FloatArray]:
    """Racemic norketamine: the stated assumption of ``RACEMIC_NK_SOURCE``."""
    size = weight_kg / 70.0
    allo = size**0.75
    return {
        "FM": np.full_like(size, RACEMIC_NK_FORMED),
        "V1_M": 98.6 * size,
        "CL_M": 57.7 / H * allo,
        "V2_M": 160.0 * size,
        "Q2_M": 42.8 / H * allo,
    }


def _micro(
    v1: FloatArray,
    weight_kg: FloatArray,
    k10: float,
    k12: float,
    k21: float,
    k13: float = 0.0,
    k31: float = 0.0,
) -> dict[str, FloatArray]:
    """Microconstants (1/min) to clearances: CL = k10 V1, Q2 = k12 V1, V2 = Q2 / k21."""
    params = {"V1": v1, "CL": k10 * v1, "Q2": k12 * v1, "V2": k12 * v1 / k21}
    if k13:
        params["Q3"] = k13 * v1
        params["V3"] = k13 * v1 / k31
    params["ke0"] = np.full_like(v1, ASSUMED_KE0_PER_MIN)
    return {**params, **_norketamine(weight_kg)}


def _domino(cov: Covariates) -> dict[str, FloatArray]:
    return _micro(0.063 * weight_of(cov), weight_of(cov), 0.4381, 0.5921, 0.2470, 0.5900, 0.0146)


def _clements(cov: Covariates) -> dict[str, FloatArray]:
    return _micro(1.7522 * weight_of(cov), weight_of(cov), 0.0109, 0.0186, 0.0137)


def _hijazi(cov: Covariates) -> dict[str, FloatArray]:
    return _micro(1.08 * weight_of(cov), weight_of(cov), 0.0333, 0.0088, 0.0030)


def _allometric_two(
    cov: Covariates, v1_l: float, v2_l: float, cl_l_per_h: float, q_l_per_h: float
) -> dict[str, FloatArray]:
    """A two-compartment paediatric model published per 70 kg: volumes x (WT/70), clearances
    (L/h) x (WT/70)^0.75."""
    size = weight_of(cov) / 70.0
    allo = size**0.75
    return {
        "V1": v1_l * size,
        "V2": v2_l * size,
        "CL": cl_l_per_h / H * allo,
        "Q2": q_l_per_h / H * allo,
        "ke0": np.full_like(size, ASSUMED_KE0_PER_MIN),
        **_norketamine(weight_of(cov)),
    }


def _herd(cov: Covariates) -> dict[str, FloatArray]:
    """Herd 2007 abstract (PMID 17564643): V1 38.7, V2 102 L/70 kg; CL 90, Q 215 L/h/70 kg."""
    return _allometric_two(cov, 38.7, 102.0, 90.0, 215.0)


def _hornik(cov: Covariates) -> dict[str, FloatArray]:
    """Hornik 2018 as coded in opentiva 1.1.2 (UNVERIFIED, see its limitations)."""
    return _allometric_two(cov, 32.8, 152.0, 38.9, 54.9)


def _sherwin(cov: Covariates) -> dict[str, FloatArray]:
    """Sherwin 2015 abstract (PMID 25212712): V1 20.5, V2 220 L/70 kg; Q 87.3, CL 87.9
    L/h/70 kg (the exponents are the stated assumption)."""
    return _allometric_two(cov, 20.5, 220.0, 87.9, 87.3)


def _elkomy(cov: Covariates) -> dict[str, FloatArray]:
    """Elkomy 2015 abstract (PMID 25448584): CL 60.6, Q 73.2 L/h x (WT/70)^0.75; V1 57.3,
    V2 152 L x (WT/70)."""
    return _allometric_two(cov, 57.3, 152.0, 60.6, 73.2)


def _kamp(cov: Covariates) -> dict[str, FloatArray]:
    size = weight_of(cov) / 70.0
    return {
        "V1": 25.0 * size,
        "V2": 56.0 * size,
        "V3": 157.0 * size,
        "CL": 84.0 / H * size,
        "Q2": 161.0 / H * size,
        "Q3": 79.0 / H * size,
        "ke0": np.full_like(size, ASSUMED_KE0_PER_MIN),
        **_norketamine(weight_of(cov)),
    }


_NK_ASSUMED = (
    "norketamine is an ASSUMPTION: Otto 2021 S-norketamine disposition, 80 % of clearance and "
    "first-pass loss forming it (no racemic ketamine-norketamine model was found)"
)
_RACEMIC_NK_SOURCES = {
    "FM": _NK_FORMED_SOURCE,
    **dict.fromkeys(("CL_M", "V1_M", "Q2_M", "V2_M"), RACEMIC_NK_SOURCE),
}


def _racemic(*, sources: dict[str, str] | None = None, **fields: Any) -> PKModel:
    """A racemic model: its norketamine parameters cite the stated assumption."""
    return declare_model(sources={**_RACEMIC_NK_SOURCES, **(sources or {})}, **fields)


_DOMINO = _racemic(
    id="domino",
    name="Domino 1982",
    drug=Drug.RACEMIC,
    population="healthy adults",
    source="Domino EF et al. Clin Pharmacol Ther 1982;31:300 (PMID 7198883)",
    typical=_domino,
    structure=_THREE_NK,
    routes=_RACEMIC_ROUTES,
    weight_range_kg=(50.0, 100.0),
    age_range_years=(18.0, 65.0),
    limitations=(
        "fitted to IV data in a few healthy adults; covariates only weight",
        _NK_ASSUMED,
    ),
)
_CLEMENTS = _racemic(
    id="clements",
    name="Clements 1981 (250 ug/kg)",
    drug=Drug.RACEMIC,
    population="healthy adults, 0.25 mg/kg IV",
    source="Clements JA, Nimmo WS. Br J Anaesth 1981;53:27 (PMID 7459184)",
    typical=_clements,
    structure=_TWO_NK,
    routes=_RACEMIC_ROUTES,
    weight_range_kg=(50.0, 100.0),
    age_range_years=(18.0, 65.0),
    limitations=("fitted to 0.25 mg/kg IV boluses in healthy adults", _NK_ASSUMED),
)
_HIJAZI = _racemic(
    id="hijazi",
    name="Hijazi 2003",
    drug=Drug.RACEMIC,
    population="adult ICU patients",
    source="Hijazi Y et al. Br J Anaesth 2003;90:155 (PMID 12538370)",
    typical=_hijazi,
    structure=_TWO_NK,
    routes=_RACEMIC_ROUTES,
    weight_range_kg=(45.0, 110.0),
    age_range_years=(18.0, 85.0),
    limitations=("fitted to long infusions in critically ill adults", _NK_ASSUMED),
)
_HERD = _racemic(
    id="herd",
    name="Herd 2007",
    drug=Drug.RACEMIC,
    population="children 1-14 years",
    source=(
        "Herd D, Anderson BJ. Paediatr Anaesth 2007;17:622-629 (PMID 17564643, "
        "DOI 10.1111/j.1460-9592.2006.02145.x)"
    ),
    typical=_herd,
    structure=_TWO_NK,
    iiv_cv={"V1": 0.64, "V2": 0.517, "CL": 0.381, "Q2": 0.19},
    routes=_PAEDIATRIC_ROUTES,
    weight_range_kg=(8.0, 60.0),
    age_range_years=(1.0, 14.0),
    iiv_source="Herd 2007 (PMID 17564643): IIV V1 64 %, V2 51.7 %, CL 38.1 %, Q 19 %; route "
    "IIV as declared on each route",
    limitations=("paediatric sedation data; adults are outside its range", _NK_ASSUMED),
)
_HORNIK = _racemic(
    id="hornik",
    name="Hornik 2018",
    drug=Drug.RACEMIC,
    population="children (IV and IM)",
    source=(
        "Hornik CP et al. Population pharmacokinetics of intramuscular and intravenous "
        "ketamine in children, 2018 (PMID 29677389; DOI 10.1002/jcph.1116, a J Clin "
        "Pharmacol DOI: the journal page itself was not seen); parameters as coded in "
        "opentiva 1.1.2 (the paper's table was not seen)"
    ),
    typical=_hornik,
    structure=_TWO_NK,
    routes={
        **_PAEDIATRIC_ROUTES,
        Route.IM: RouteSpec(
            Route.IM,
            True,
            "IM fitted in Hornik 2018: F = 0.41 (PMID 29677389); ka ASSUMED 0.07 /min (the "
            "adult IM extension's value; Hornik's ka was not seen)",
            paths=(AbsorptionPath("im", 0.07, bioavailability=0.41),),
        ),
    },
    weight_range_kg=(3.0, 70.0),
    age_range_years=(0.0, 18.0),
    limitations=(
        "UNVERIFIED clearance: CL 38.9 L/h/70 kg is opentiva's coding; the paper's table was "
        "not seen, and it is 36-57 % below Herd 2007 (90), Sherwin 2015 (87.9), Elkomy 2015 "
        "(60.6) and the Kamp 2020 meta-analysis (79 L/h/70 kg): predictions of exposure are "
        "likely too high",
        _NK_ASSUMED,
    ),
)
_KAMP = _racemic(
    id="kamp",
    name="Kamp 2020 meta-analysis",
    drug=Drug.RACEMIC,
    population="pooled adults (meta-analysis of published studies)",
    source=(
        "Kamp J et al. Anesthesiology 2020;133:1192 (PMID 32997732, "
        "DOI 10.1097/ALN.0000000000003577); typical values as coded in opentiva 1.1.2"
    ),
    typical=_kamp,
    structure=_THREE_NK,
    routes=_RACEMIC_ROUTES,
    weight_range_kg=(40.0, 140.0),
    age_range_years=(18.0, 80.0),
    limitations=("pooled typical values; parameters linear in weight", _NK_ASSUMED),
)


_SHERWIN = _racemic(
    id="sherwin",
    name="Sherwin 2015",
    drug=Drug.RACEMIC,
    population="children given 1-1.5 mg/kg IV for procedural sedation (57 children)",
    source=(
        "Sherwin CMT et al. Development of an optimal sampling schedule for children "
        "receiving ketamine for short-term procedural sedation and analgesia. Paediatr "
        "Anaesth 2015;25:211-216 (PMID 25212712, DOI 10.1111/pan.12521); abstract: V1 20.5, "
        "V2 220 L/70 kg, Q 87.3, CL 87.9 L/h/70 kg"
    ),
    typical=_sherwin,
    structure=_TWO_NK,
    routes=_PAEDIATRIC_ROUTES,
    weight_range_kg=(8.0, 70.0),
    age_range_years=(1.0, 18.0),
    limitations=(
        "scaling ASSUMED: the abstract gives values per 70 kg but not the exponents; volumes "
        "are scaled linearly and clearances with exponent 0.75 by weight, as in Herd 2007, "
        "Hornik 2018 and Elkomy 2015",
        "validated range ASSUMED (1-18 years, 8-70 kg): the abstract seen states no ages or "
        "weights",
        "no IIV: the abstract gives only 'population parameter variability ranged from 34% "
        "to 98%', not per parameter",
        _NK_ASSUMED,
    ),
)
_ELKOMY = _racemic(
    id="elkomy",
    name="Elkomy 2015",
    drug=Drug.RACEMIC,
    population="children 6 months to 18 years with heart disease, 2 mg/kg IV (21 children)",
    source=(
        "Elkomy MH, Drover DR, Hammer GB, Galinkin JL, Ramamoorthy C. Population "
        "pharmacokinetics of ketamine in children with heart disease. Int J Pharm "
        "2015;478:223-231 (PMID 25448584, DOI 10.1016/j.ijpharm.2014.11.026); abstract: CL "
        "60.6 x (WT/70)^0.75 L/h, Q 73.2 x (WT/70)^0.75 L/h, V1 57.3 x (WT/70) L, V2 152 x "
        "(WT/70) L"
    ),
    typical=_elkomy,
    structure=_TWO_NK,
    routes=_PAEDIATRIC_ROUTES,
    weight_range_kg=(10.0, 70.0),
    age_range_years=(0.5, 18.0),
    limitations=(
        "children with heart disease ('cardiac diseases'; 'pre-existing congenital heart "
        "disease' in its abstract, which finds clearance comparable to healthy subjects)",
        "weight range ASSUMED (10-70 kg): the abstract seen gives ages (6 months to 18 "
        "years) and says its dosing simulations hold from 10 kg, but no weight range",
        "no IIV: the between-subject variability was not in the abstract seen",
        _NK_ASSUMED,
    ),
)


_ALL = (
    _DOMINO,
    _CLEMENTS,
    _HIJAZI,
    _HERD,
    _HORNIK,
    _KAMP,
    _SHERWIN,
    _ELKOMY,
    *ESKETAMINE_MODELS,
)
MODELS: Mapping[str, PKModel] = FrozenMap({m.id: m for m in _ALL})


def get_model(model: str | PKModel) -> PKModel:
    """The catalogue model with this id (case-insensitive), or the model itself."""
    if isinstance(model, PKModel):
        return model
    key = str(model).strip().lower()
    if key not in MODELS:
        raise UnknownNameError(f"unknown model {model!r}; accepted: {', '.join(MODELS)}")
    return MODELS[key]
