"""Population variability on routes (issue 10 item 5): a population run of an oral regimen
varies absorption and F, so its spread approaches the one studies report."""

from __future__ import annotations

import numpy as np

from ketaclinic.pharmacology import MODELS, Route, simulate_population

ORAL = "oral 25 mg at 0 min"


def _cmax(variability: object) -> np.ndarray:
    result = simulate_population(
        "kamp", [ORAL], 2000, 7, variability=variability, horizon_min=720.0
    )
    return result.ketamine.cmax_ng_per_ml


def test_each_racemic_oral_path_declares_its_absorption_and_f_variability() -> None:
    path = MODELS["kamp"].routes[Route.ORAL].paths[0]
    assert path.ka_cv == 1.48  # Brunette 2011: BSV 148 % on the absorption half-time
    assert path.bioavailability_cv == 0.39  # Chong 2006: F 23 +/- 9 % (calibrated)
    assert {"ka_oral", "F_oral"} <= set(MODELS["kamp"].iiv_cv)


def test_an_oral_population_spreads_about_as_widely_as_chong_2006_reported() -> None:
    """Chong 2006, 25 mg oral: Cmax 22.8 +/- 12.8 ng/mL (CV 56 %). With only the structural
    30 % CVs the spread of Cmax is far narrower; with the route IIV it reaches the reported
    CV (here wider, about 1.0: the 148 % absorption BSV is paediatric, the only one
    published)."""
    structural = dict.fromkeys(("CL", "V1", "V2", "V3", "Q2", "Q3"), 0.3)
    without = _cmax(structural)
    with_routes = _cmax("default")
    assert _cv(without) < 0.4
    assert 0.5 <= _cv(with_routes) <= 1.2


def _cv(values: np.ndarray) -> float:
    return float(np.std(values) / np.mean(values))
