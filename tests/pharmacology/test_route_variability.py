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
    for model_id in ("domino", "clements", "hijazi", "kamp"):
        path = MODELS[model_id].routes[Route.ORAL].paths[0]
        assert path.ka_cv == 0.35  # calibrated on Chong 2006's Cmax spread (adults)
        assert path.bioavailability_cv == 0.39  # Chong 2006: F 23 +/- 9 % (calibrated)
        assert {"ka_oral", "F_oral"} <= set(MODELS[model_id].iiv_cv)
    for model_id in ("herd", "hornik"):
        # Brunette 2011: BSV 148 % on the absorption half-time, in children
        assert MODELS[model_id].routes[Route.ORAL].paths[0].ka_cv == 1.48


def test_an_oral_population_spreads_about_as_widely_as_chong_2006_reported() -> None:
    """Chong 2006, 25 mg oral: Cmax 22.8 +/- 12.8 ng/mL (CV 56 %). With only the structural
    30 % CVs the spread of Cmax is narrower; with the route IIV it is near the reported CV
    (the adult ka CV was calibrated on this spread, so this checks the calibration; with
    Brunette's paediatric 148 % the CV was about 1.0)."""
    structural = dict.fromkeys(("CL", "V1", "V2", "V3", "Q2", "Q3"), 0.3)
    without = _cmax(structural)
    with_routes = _cmax("default")
    assert _cv(without) < 0.4
    assert 0.56 * 0.85 <= _cv(with_routes) <= 0.56 * 1.15


def _cv(values: np.ndarray) -> float:
    return float(np.std(values) / np.mean(values))


def test_the_default_variability_names_only_the_routes_the_regimen_uses() -> None:
    """An IV run draws no absorption IIV and says none; an oral run names the oral path's."""
    iv = simulate_population("domino", ["iv-infusion 0.5 mg/kg over 40 min"], 200, 1)
    oral = simulate_population("domino", [ORAL], 200, 1, horizon_min=720.0)
    assert not any(k.startswith(("ka_", "F_")) for k in iv.variability.cv)
    assert "ka_oral" not in iv.variability.basis
    assert "route IIV" not in iv.variability.basis
    assert {"ka_oral", "F_oral"} <= set(oral.variability.cv)
    assert "ka_oral 35%" in oral.variability.basis
    assert "intranasal" not in oral.variability.basis
