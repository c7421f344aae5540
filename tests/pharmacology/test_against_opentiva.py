"""Plasma ketamine agrees with opentiva 1.1.2, an independent implementation, to 1e-6.

opentiva (PyPI; Makefile: scripts/install_opentiva.sh) codes Domino, Clements250, Hijazi,
Herd, Hornik and Kamp 2020 (as "Klamp") for IV use with closed-form sums of exponentials in
seconds. Its ``calculate_cp`` takes whole seconds, so we compare at whole seconds. Only plasma
is compared: opentiva's ke0 values come from an assumed 1-min time to peak effect, not from
effect data (DOMAIN.md section 6), and the engine does not use them.

The oracle is imported unconditionally: a missing oracle is a failing test, not a skip.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from ketaclinic.pharmacology import Patient, simulate

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import opentiva.ketamine as ot_ketamine
    import opentiva.pkpd as ot_pkpd

RTOL = 1e-6

# our model id -> (opentiva class name, weights in kg across the model's range, age in years)
CASES = {
    "domino": ("Domino", (50.0, 70.0, 100.0), 40.0),
    "clements": ("Clements250", (50.0, 72.5, 100.0), 40.0),
    "hijazi": ("Hijazi", (45.0, 80.0, 110.0), 40.0),
    "herd": ("Herd", (8.0, 25.0, 60.0), 8.0),
    "hornik": ("Hornik", (3.0, 20.0, 70.0), 6.0),
    "kamp": ("Klamp", (40.0, 70.0, 140.0), 40.0),
}

# Whole seconds: during and after each infusion, around a 1-s "bolus", up to 24 h.
TIMES_S = np.array(
    [1, 30, 600, 2399, 2400, 2401, 3600, 7200, 7500, 7800, 12000, 12001, 12030, 43200, 86400]
)


def _opentiva_ng_per_ml(class_name: str, weight_kg: float, age_years: float) -> np.ndarray:
    """0.5 mg/kg over 40 min from 0 s, 0.25 mg/kg over 10 min from 2 h, 10 mg over 1 s at
    200 min; rows are [start_s, mg_per_s, duration_s, end_s]."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # opentiva warns about its own validity ranges
        model: Any = getattr(ot_ketamine, class_name)(
            sex=0, age=age_years, weight=weight_kg, height=170
        )
    infusions = np.array(
        [
            [0.0, 0.5 * weight_kg / 2400.0, 2400.0, 2400.0],
            [7200.0, 0.25 * weight_kg / 600.0, 600.0, 7800.0],
            [12000.0, 10.0, 1.0, 12001.0],
        ]
    )
    pk = ot_pkpd.PkPdModel(model)
    return np.array([1000.0 * pk.calculate_cp(infusions, int(t)) for t in TIMES_S])


def _ours_ng_per_ml(model_id: str, weight_kg: float, age_years: float) -> np.ndarray:
    patient = Patient(weight_kg=weight_kg, age_years=age_years, height_cm=170)
    doses = [
        "iv-infusion 0.5 mg/kg over 40 min at 0 min",
        "iv-infusion 0.25 mg/kg over 10 min at 2 h",
        "iv-infusion 10 mg over 1 s at 200 min",
    ]
    return simulate(model_id, patient, doses, TIMES_S / 60.0).ketamine_ng_per_ml


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("model_id", "weight_kg"),
    [(model_id, w) for model_id, (_, weights, _) in CASES.items() for w in weights],
)
def test_plasma_ketamine_agrees_with_opentiva(model_id: str, weight_kg: float) -> None:
    class_name, _, age_years = CASES[model_id]
    expected = _opentiva_ng_per_ml(class_name, weight_kg, age_years)
    actual = _ours_ng_per_ml(model_id, weight_kg, age_years)
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=0.0)


def test_the_oracle_is_the_pinned_version() -> None:
    from importlib.metadata import version

    assert version("opentiva") == "1.1.2"
