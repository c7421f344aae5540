"""The S-ketamine (esketamine) models of the catalogue, with their sources, units and
validated ranges (units as in ``_catalogue``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ketaclinic.pharmacology._catalogue_base import (
    ASSUMED_KE0_PER_MIN,
    IV_ROUTE,
    OTTO_CITATION,
    H,
    declare_model,
    weight_of,
)
from ketaclinic.pharmacology._doses import Route
from ketaclinic.pharmacology._drug import Drug
from ketaclinic.pharmacology._models import Covariates
from ketaclinic.pharmacology._patient import Ethnicity
from ketaclinic.pharmacology._structure import (
    AbsorptionPath,
    Metabolite,
    RouteSpec,
    Structure,
)

__all__ = ["ESKETAMINE_MODELS"]

FloatArray = NDArray[np.float64]

# --- S-ketamine (esketamine) models -------------------------------------------------------

_FANTA_STRUCTURE = Structure(
    peripherals=2, metabolite=Metabolite("S-norketamine", peripherals=1), effect_site=True
)
_OTTO = OTTO_CITATION


def _fanta(cov: Covariates) -> dict[str, FloatArray]:
    """Fanta 2015 S-ketamine with Otto 2021 S-norketamine.

    Otto 2021 scales only the central volume (linear) and the elimination clearance
    (exponent 0.75) by weight; the peripheral volumes and Q are not scaled. The metabolite's
    central volume and clearance are scaled the same way here (an assumption).
    """
    size = weight_of(cov) / 70.0
    allo = size**0.75
    return {
        "V1": 133.0 * size,
        "CL": 95.2 / H * allo,
        "V2": np.full_like(size, 187.0),
        "Q2": np.full_like(size, 23.2 / H),
        "V3": np.full_like(size, 98.8),
        "Q3": np.full_like(size, 157.0 / H),
        "ke0": np.full_like(size, ASSUMED_KE0_PER_MIN),
        # Otto 2021: all S-ketamine clearance forms S-norketamine
        "FM": np.ones_like(size),
        "V1_M": 98.6 * size,
        "CL_M": 57.7 / H * allo,
        "V2_M": np.full_like(size, 160.0),
        "Q2_M": np.full_like(size, 42.8 / H),
    }


_FANTA = declare_model(
    id="fanta",
    name="Fanta 2015 + Otto 2021",
    drug=Drug.ESKETAMINE,
    population="healthy adult volunteers (11 men, Fanta; 48 adults, Otto)",
    source="Fanta S et al. Eur J Clin Pharmacol 2015;71:441 (PMID 25724645); " + _OTTO,
    typical=_fanta,
    structure=_FANTA_STRUCTURE,
    # Otto 2021 omega^2: V1 0.084, CL 0.026; S-norketamine V 0.040, CL 0.103.
    # Fanta 2015: F oral 11 % (on the oral path). CV = sqrt(exp(omega^2) - 1).
    iiv_cv={"V1": 0.2960, "CL": 0.1623, "V1_M": 0.2020, "CL_M": 0.3296},
    parameter_source="Fanta S et al. Eur J Clin Pharmacol 2015;71:441 (PMID 25724645)",
    sources={
        "FM": "Otto 2021: all S-ketamine clearance forms S-norketamine; " + _OTTO,
        **dict.fromkeys(("CL_M", "V1_M", "Q2_M", "V2_M"), _OTTO),
    },
    routes={
        Route.IV: IV_ROUTE,
        Route.ORAL: RouteSpec(
            Route.ORAL,
            True,
            "oral fitted in Fanta 2015: F = 0.08 (PMID 25724645); the 92 % extracted on "
            "first pass is assumed to become S-norketamine; ka 0.009 /min ASSUMED (Fanta's "
            "own ka was not seen; an earlier value of the racemic oral extension, whose ka is "
            "now Brunette 2011's 0.0117 /min)",
            paths=(
                AbsorptionPath(
                    "oral",
                    0.009,
                    bioavailability=0.08,
                    first_pass_metabolite_fraction=1.0,
                    bioavailability_cv=0.11,
                ),
            ),
        ),
    },
    weight_range_kg=(50.0, 110.0),
    age_range_years=(18.0, 65.0),
    iiv_source="Otto 2021 omega^2 (V1 0.084, CL 0.026, V_M 0.040, CL_M 0.103); Fanta 2015 F 11 %",
    limitations=(
        "S-ketamine only; healthy volunteers; women may clear S-ketamine about 20 % "
        "faster (Sigtermans 2009), not part of this model",
        "routes: IV and oral only",
    ),
)


def _perez_ruixo(cov: Covariates) -> dict[str, FloatArray]:
    """Perez-Ruixo 2021 esketamine: 3 compartments, a hepato-portal compartment with
    first-pass, and an apparent 2-compartment noresketamine model (values as transcribed in
    nlmixr2lib from the paper's Table 3)."""
    ones = np.ones_like(weight_of(cov))
    older = np.maximum(cov.age_years - 60.0, 0.0)
    # Table 3 (nlmixr2lib transcription): Asian race kel x0.36 and noresketamine CLn/F x0.81
    asian = cov.ethnic(Ethnicity.ASIAN, Ethnicity.JAPANESE)
    kel_factor = np.where(asian, 0.36, 1.0)
    cln_factor = np.where(asian, 0.81, 1.0)
    return {
        "V1": 192.0 * ones,
        "CL": 0.0 * ones,  # all elimination is from the liver compartment
        "Q2": 84.3 / H * ones,
        "V2": 143.0 * ones,
        "Q3": 37.6 / H * ones,
        "V3": 417.0 * ones,
        "QH": (151.0 - 2.19 * older) / H,  # age > 60: -2.19 L/h per year
        "VH": 101.0 * ones,
        "KEL_H": 1.11 / H * kel_factor,
        "KMET_H": 2.77 / H * ones,
        "ke0": ASSUMED_KE0_PER_MIN * ones,
        "FM": ones,
        "V1_M": 70.0 * ones,
        "CL_M": 38.0 / H * cln_factor,
        "Q2_M": 26.1 / H * ones,
        "V2_M": 115.0 * ones,
    }


# Perez-Ruixo 2021 Table 3 (nlmixr2lib transcription: "e_japanese_FRn <- 1.34"): Japanese
# patients (a subset of Asian) absorb 1.34 times the nasal fraction of each device.
JAPANESE_NASAL_FRACTION_FACTOR = 1.34

_PR_STRUCTURE = Structure(
    peripherals=2,
    liver=True,
    metabolite=Metabolite("noresketamine", peripherals=1),
    effect_site=True,
)
_PR_SOURCE = (
    "Perez-Ruixo C et al. Clin Pharmacokinet 2021;60:501 (PMID 33128208, "
    "DOI 10.1007/s40262-020-00953-4)"
)
_PR_SWALLOWED = AbsorptionPath(
    "intranasal_swallowed",
    1.45 / H,
    bioavailability=0.64,
    into_liver=True,
    zero_order_min=0.53 * 60.0,
    ka_cv=1.32,
    source="swallowed part of each spray: zero-order over 0.53 h, then ka 1.45 /h through the "
    "gut (F_gut 0.64) into the liver (Perez-Ruixo 2021)",
)

_PEREZ_RUIXO = declare_model(
    id="perez-ruixo",
    name="Perez-Ruixo 2021",
    drug=Drug.ESKETAMINE,
    population="820 adults (healthy and treatment-resistant depression), 18-86 years, 39-170 kg",
    source=_PR_SOURCE,
    typical=_perez_ruixo,
    structure=_PR_STRUCTURE,
    iiv_cv={
        "V1": 0.275,
        "V2": 0.493,
        "QH": 0.232,
        "VH": 0.346,
        "KEL_H": 1.20,
        "CL_M": 0.254,
        "V1_M": 0.316,
    },
    hepatic=("KEL_H", "KMET_H"),
    routes={
        Route.IV: IV_ROUTE,
        Route.INTRANASAL: RouteSpec(
            Route.INTRANASAL,
            True,
            "esketamine nasal spray (28 mg devices, 5 min apart): nasal fraction 0.54 per "
            "device (x1.34 for Japanese patients, Table 3 as transcribed in nlmixr2lib), "
            "x0.62 for the second and later devices, ka 2.93 /h; the rest is swallowed "
            "(Perez-Ruixo 2021)",
            paths=(
                AbsorptionPath(
                    "intranasal",
                    2.93 / H,
                    bioavailability=1.0,
                    fraction=0.54,
                    later_device_factor=0.62,
                    ka_cv=0.615,
                    fraction_factors=((str(Ethnicity.JAPANESE), JAPANESE_NASAL_FRACTION_FACTOR),),
                ),
                _PR_SWALLOWED,
            ),
            device_mg=28.0,
        ),
        Route.ORAL: RouteSpec(
            Route.ORAL,
            True,
            "oral solution: zero-order over 0.32 h, ka 0.97 /h, F_gut 0.64, then hepatic "
            "first pass (Perez-Ruixo 2021)",
            paths=(
                AbsorptionPath(
                    "oral",
                    0.97 / H,
                    bioavailability=0.64,
                    into_liver=True,
                    zero_order_min=0.32 * 60.0,
                    ka_cv=1.32,
                ),
            ),
        ),
    },
    weight_range_kg=(39.0, 170.0),
    age_range_years=(18.0, 86.0),
    iiv_source="Perez-Ruixo 2021 Table 3 (CV %); the nasal-fraction IIV (70.8 % on the "
    "logit scale) and the blank kmet IIV are not used",
    limitations=(
        "noresketamine parameters are apparent (/F); used literally they overpredict "
        "noresketamine AUC about 1.4-fold (nlmixr2lib transcription notes)",
        "ethnicity (optional patient field): Asian (and Japanese) kel x0.36 and noresketamine "
        "CLn/F x0.81, and for Japanese patients the nasal fraction x1.34 (0.54 -> 0.72 per "
        "first device), are applied (Perez-Ruixo 2021 Table 3 as transcribed in nlmixr2lib); "
        "an update with Japanese phase 2b data attributes the effect to body weight rather "
        "than race (Kurosawa 2023, Clin Pharmacol Drug Dev 12:397, DOI 10.1002/cpdd.1214; "
        "its parameter values were not seen, so it is not used)",
        "no sex effect: Perez-Ruixo screened sex and did not retain it",
    ),
)


def _simons(cov: Covariates) -> dict[str, FloatArray]:
    """Simons 2022 S-ketamine, arterial sampling, 70 kg; weight exponents 1 (V) and 0.75
    (CL) as assumed in the nlmixr2lib transcription."""
    size = weight_of(cov) / 70.0
    allo = size**0.75
    return {
        "V1": 11.6 * size,
        "V2": 39.0 * size,
        "V3": 174.0 * size,
        "CL": 1.48 * allo,
        "Q2": 2.43 * allo,
        "Q3": 1.21 * allo,
        "ke0": np.full_like(size, ASSUMED_KE0_PER_MIN),
    }


_SIMONS = declare_model(
    id="simons",
    name="Simons 2022",
    drug=Drug.ESKETAMINE,
    population="20 healthy adults (10 men, 10 women, mean 73 kg), arterial samples",
    source=(
        "Simons P et al. Front Pain Res 2022;3:946486 (PMID 35899184, "
        "DOI 10.3389/fpain.2022.946486)"
    ),
    typical=_simons,
    structure=Structure(peripherals=2, effect_site=True),
    # omega^2 VK1 0.057, CLK1 0.029, CLK3 0.026 -> CV = sqrt(exp(omega^2) - 1)
    iiv_cv={"V1": 0.2420, "CL": 0.1716, "Q3": 0.1622},
    routes={
        Route.IV: IV_ROUTE,
        Route.SUBLINGUAL: RouteSpec(
            Route.SUBLINGUAL,
            True,
            "S-ketamine oral thin film: 26.3 % absorbed through the oral mucosa "
            "(zero-order 13.1 min, then ka 0.04 /min); the swallowed part undergoes "
            "first-pass metabolism and adds no S-ketamine (Simons 2022)",
            paths=(AbsorptionPath("sublingual", 0.04, bioavailability=0.263, zero_order_min=13.1),),
        ),
    },
    weight_range_kg=(50.0, 100.0),
    age_range_years=(18.0, 65.0),
    iiv_source="Simons 2022 Table 4 (omega^2 VK1 0.057, CLK1 0.029, CLK3 0.026)",
    limitations=(
        "S-norketamine and hydroxynorketamine (transit-chain model) not implemented",
        "arterial concentrations: higher than venous early after IV dosing",
    ),
)


ESKETAMINE_MODELS = (_FANTA, _PEREZ_RUIXO, _SIMONS)
