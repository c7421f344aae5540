"""Every model and route agrees with an independent ODE implementation to 1e-6 relative.

The reference (``reference_ode``) re-transcribes each published model and integrates it with
scipy's LSODA at rtol 1e-12; the engine solves exactly. Agreement checks the catalogue's
transcription, the system builder, the dose bookkeeping (devices, fractions, zero-order
inputs) and the solver at once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import reference_ode as ref

from ketaclinic.pharmacology import MODELS, Patient, SimulationResult, simulate

RTOL = 1e-6
ATOL_NG_PER_ML = 1e-9

UNIFORM_MIN = np.arange(0.0, 1440.0 + 0.5, 1.0)
ARBITRARY_MIN = np.array(
    [0.5, 3.0, 9.9, 12.0, 30.0, 49.9, 50.1, 60.0, 94.0, 96.0, 120.0, 240.0, 480.0, 1440.0]
)
GRIDS = pytest.mark.parametrize("times", [UNIFORM_MIN, ARBITRARY_MIN], ids=["1-min", "arbitrary"])

# A loading bolus, a 40-min infusion that starts later, and a top-up bolus.
IV_REGIMEN = (
    "iv-bolus 0.2 mg/kg at 0 min",
    "iv-infusion 0.5 mg/kg over 40 min at 10 min",
    "iv-bolus 10 mg at 95 min",
)


def _iv_events(weight_kg: float) -> list[ref.Event]:
    return [
        ref.Event("central", 0.2 * weight_kg, 0.0),
        ref.Event("central", 0.5 * weight_kg, 10.0, 40.0),
        ref.Event("central", 10.0, 95.0),
    ]


# model id -> (patient, reference ODE for that patient)
IV_CASES: dict[str, tuple[Patient, Callable[[Patient], ref.Ode]]] = {
    "domino": (Patient(weight_kg=80, age_years=35), lambda p: ref.domino(p.weight_kg)),
    "clements": (Patient(weight_kg=65, age_years=50), lambda p: ref.clements(p.weight_kg)),
    "hijazi": (Patient(weight_kg=90, age_years=60), lambda p: ref.hijazi(p.weight_kg)),
    "herd": (Patient(weight_kg=25, age_years=8, height_cm=125), lambda p: ref.herd(p.weight_kg)),
    "hornik": (
        Patient(weight_kg=20, age_years=6, height_cm=115),
        lambda p: ref.hornik(p.weight_kg),
    ),
    "kamp": (Patient(weight_kg=100, age_years=45), lambda p: ref.kamp(p.weight_kg)),
    "sherwin": (
        Patient(weight_kg=30, age_years=9, height_cm=135),
        lambda p: ref.sherwin(p.weight_kg),
    ),
    "elkomy": (
        Patient(weight_kg=15, age_years=3, height_cm=95),
        lambda p: ref.elkomy(p.weight_kg),
    ),
    "fanta": (Patient(weight_kg=75, age_years=30), lambda p: ref.fanta(p.weight_kg)),
    "perez-ruixo": (Patient(weight_kg=70, age_years=72), lambda p: ref.perez_ruixo(p.age_years)),
    "simons": (Patient(weight_kg=73, age_years=25), lambda p: ref.simons(p.weight_kg)),
}


def _assert_same_curves(result: SimulationResult, ode: ref.Ode, x: np.ndarray) -> None:
    mg_per_l = 1000.0
    np.testing.assert_allclose(
        result.ketamine_ng_per_ml,
        mg_per_l * ode.conc_mg_per_l(x, "central"),
        rtol=RTOL,
        atol=ATOL_NG_PER_ML,
        err_msg="plasma ketamine",
    )
    assert result.effect_site_ng_per_ml is not None
    np.testing.assert_allclose(
        result.effect_site_ng_per_ml,
        mg_per_l * ode.conc_mg_per_l(x, "effect"),
        rtol=RTOL,
        atol=ATOL_NG_PER_ML,
        err_msg="effect site",
    )
    if "nk_central" in ode.states:
        assert result.norketamine_ng_per_ml is not None
        np.testing.assert_allclose(
            result.norketamine_ng_per_ml,
            mg_per_l * ode.conc_mg_per_l(x, "nk_central"),
            rtol=RTOL,
            atol=ATOL_NG_PER_ML,
            err_msg="norketamine",
        )
    else:
        assert result.norketamine_ng_per_ml is None


def test_every_catalogue_model_has_an_iv_reference() -> None:
    assert set(IV_CASES) == set(MODELS)


@GRIDS
@pytest.mark.parametrize("model_id", list(IV_CASES))
def test_iv_bolus_and_infusion_agree_with_solve_ivp(model_id: str, times: np.ndarray) -> None:
    patient, make_ode = IV_CASES[model_id]
    ode = make_ode(patient)
    x = ref.integrate(ode, _iv_events(patient.weight_kg), times)
    result = simulate(model_id, patient, IV_REGIMEN, times)
    _assert_same_curves(result, ode, x)


# --- one case per non-IV route ----------------------------------------------------------------

# Racemic route extensions on the Kamp disposition, re-transcribed from each RouteSpec's
# source text: adult F, ka (1/min) and the fraction of the dose that forms norketamine before
# the blood (80 % of the first-pass loss; for nasal, sublingual and rectal doses 80 % of the
# 46 % share of the loss that passes the liver). Sublingual doses enter their depot at a
# constant rate over 13.1 min (Simons 2022's mucosal input).
SWALLOWED_NK = 0.46 * 0.8
EXTENSIONS = {
    "im": (0.93, 0.07, 0.0),
    "sc": (1.0, 0.017, 0.0),
    "oral": (0.20, np.log(2.0) / 59.0, 0.8 * (1 - 0.20)),
    "sublingual": (0.28, 0.04, SWALLOWED_NK * (1 - 0.28)),
    "intranasal": (0.14, 0.12, SWALLOWED_NK * (1 - 0.14)),
    "rectal": (0.30, 0.013, SWALLOWED_NK * (1 - 0.30)),
}
ZERO_ORDER_MIN = {"sublingual": 13.1}
# Children (< 18 years): the paediatric F and ka where a paediatric study published them.
CHILD_EXTENSIONS = {
    "im": (0.41, 0.07, 0.0),
    "oral": (0.45, np.log(2.0) / 59.0, 0.8 * (1 - 0.45)),
    "intranasal": (0.50, 0.04, SWALLOWED_NK * (1 - 0.50)),
    "rectal": (0.25, 0.016, SWALLOWED_NK * (1 - 0.25)),
}


@pytest.mark.parametrize("route", list(EXTENSIONS))
def test_each_racemic_route_extension_agrees_with_solve_ivp(route: str) -> None:
    f, ka, fm = EXTENSIONS[route]
    patient = Patient(weight_kg=82, age_years=50)
    ode = ref.kamp(patient.weight_kg, extra=["depot"])
    ref.absorb(ode, "depot", ka, f, fm=fm)
    over = ZERO_ORDER_MIN.get(route, 0.0)
    events = [ref.Event("depot", 50.0, 0.0, over), ref.Event("depot", 25.0, 300.0, over)]
    result = simulate(
        "kamp", patient, [f"{route} 50 mg at 0 min", f"{route} 25 mg at 5 h"], ARBITRARY_MIN
    )
    _assert_same_curves(result, ode, ref.integrate(ode, events, ARBITRARY_MIN))


@pytest.mark.parametrize("route", list(CHILD_EXTENSIONS))
def test_children_get_the_paediatric_route_parameters(route: str) -> None:
    f, ka, fm = CHILD_EXTENSIONS[route]
    patient = Patient(weight_kg=20, age_years=6, height_cm=115)
    ode = ref.herd(patient.weight_kg)
    ode_depot = ref.Ode([*ode.states, "depot"], volume_l=ode.volume_l)
    ode_depot.a[: len(ode.states), : len(ode.states)] = ode.a
    ref.absorb(ode_depot, "depot", ka, f, fm=fm)
    x = ref.integrate(ode_depot, [ref.Event("depot", 60.0, 0.0)], ARBITRARY_MIN)
    result = simulate("herd", patient, [f"{route} 60 mg at 0 min"], ARBITRARY_MIN)
    _assert_same_curves(result, ode_depot, x)


def test_subcutaneous_infusion_fills_the_depot_at_a_constant_rate() -> None:
    patient = Patient(weight_kg=70)
    ode = ref.kamp(patient.weight_kg, extra=["depot"])
    ref.absorb(ode, "depot", 0.017, 1.0)
    times = np.array([10.0, 60.0, 600.0, 1439.0, 1500.0, 2000.0, 2880.0])
    x = ref.integrate(ode, [ref.Event("depot", 100.0, 0.0, 1440.0)], times)
    result = simulate("kamp", patient, ["sc-infusion 100 mg/24h for 24 h"], times)
    _assert_same_curves(result, ode, x)


def test_hornik_intramuscular_uses_its_fitted_bioavailability() -> None:
    """Hornik 2018: F_IM 41 % (PMID 29677389); ka 0.07 /min is the stated assumption."""
    patient = Patient(weight_kg=18, age_years=5, height_cm=110)
    ode = ref.hornik(patient.weight_kg)
    ode_depot = ref.Ode([*ode.states, "depot"], volume_l=ode.volume_l)
    ode_depot.a[: len(ode.states), : len(ode.states)] = ode.a
    ref.absorb(ode_depot, "depot", 0.07, 0.41)
    x = ref.integrate(ode_depot, [ref.Event("depot", 0.5 * 18, 0.0)], ARBITRARY_MIN)
    result = simulate("hornik", patient, ["im 0.5 mg/kg at 0 min"], ARBITRARY_MIN)
    _assert_same_curves(result, ode_depot, x)


def test_fanta_oral_forms_norketamine_before_the_blood() -> None:
    """Fanta 2015: F_oral 8 %; the engine assumes the 92 % extracted presystemically becomes
    S-norketamine (ka 0.009 /min assumed)."""
    patient = Patient(weight_kg=70)
    ode = ref.fanta(patient.weight_kg, extra=["depot"])
    ref.absorb(ode, "depot", 0.009, 0.08, fm=0.92)
    events = [ref.Event("depot", 25.0, 480.0 * i) for i in range(3)]
    result = simulate("fanta", patient, ["oral 25 mg every 8 h x 3 at 0 min"], ARBITRARY_MIN)
    _assert_same_curves(result, ode, ref.integrate(ode, events, ARBITRARY_MIN))


def test_perez_ruixo_nasal_spray_splits_each_device_between_nose_and_gut() -> None:
    """Perez-Ruixo 2021: per 28-mg device (5 min apart, SPRAVATO label) a fraction 0.54 (x0.62
    for later devices) is absorbed nasally (ka 2.93 /h); the rest is swallowed, enters the gut
    depot zero-order over 0.53 h, and is absorbed (ka 1.45 /h, F_gut 0.64) into the liver."""
    patient = Patient(weight_kg=70, age_years=40)
    ode = ref.perez_ruixo(patient.age_years, extra=["nasal", "gut"])
    ref.absorb(ode, "nasal", 2.93 / ref.H, 1.0)
    ref.absorb(ode, "gut", 1.45 / ref.H, 0.64, into="liver")
    events = []
    for device, start in enumerate((0.0, 5.0, 10.0)):  # 84 mg = three devices
        nasal = 28.0 * 0.54 * (0.62 if device else 1.0)
        events += [ref.Event("nasal", nasal, start), ref.Event("gut", 28.0 - nasal, start, 31.8)]
    x = ref.integrate(ode, events, ARBITRARY_MIN)
    result = simulate("perez-ruixo", patient, ["intranasal 84 mg at 0 min"], ARBITRARY_MIN)
    _assert_same_curves(result, ode, x)


def test_perez_ruixo_oral_solution_passes_the_liver_first() -> None:
    """Perez-Ruixo 2021: oral solution zero-order over 0.32 h, ka 0.97 /h, F_gut 0.64."""
    patient = Patient(weight_kg=70, age_years=66)
    ode = ref.perez_ruixo(patient.age_years, extra=["gut"])
    ref.absorb(ode, "gut", 0.97 / ref.H, 0.64, into="liver")
    x = ref.integrate(ode, [ref.Event("gut", 84.0, 0.0, 0.32 * 60.0)], ARBITRARY_MIN)
    result = simulate("perez-ruixo", patient, ["oral 84 mg at 0 min"], ARBITRARY_MIN)
    _assert_same_curves(result, ode, x)


def test_simons_thin_film_is_absorbed_through_the_mucosa() -> None:
    """Simons 2022: 26.3 % through the oral mucosa, zero-order 13.1 min then ka 0.04 /min."""
    patient = Patient(weight_kg=73)
    ode = ref.simons(patient.weight_kg, extra=["mucosa"])
    ref.absorb(ode, "mucosa", 0.04, 0.263)
    x = ref.integrate(ode, [ref.Event("mucosa", 50.0, 0.0, 13.1)], ARBITRARY_MIN)
    result = simulate("simons", patient, ["sublingual 50 mg at 0 min"], ARBITRARY_MIN)
    _assert_same_curves(result, ode, x)
