"""Golden plans for a 70 kg adult, checked against hand calculations.

Kamp 2020 (70 kg): CL 84 L/h, so an infusion of R mg/h plateaus at R / 84 mg/L, and the AUC
of a dose D (F the route's bioavailability) is F * D / CL.
"""

from __future__ import annotations

from datetime import date

import pytest
from safety_helpers import patient

from ketaclinic.protocols import plan

START = date(2026, 12, 1)
CL_L_PER_H = 84.0


def _plan(protocol: str, **changes: object):  # type: ignore[no-untyped-def]
    return plan(protocol, patient(**changes), START)


def test_acute_pain_bolus_and_infusion() -> None:
    p = _plan("acute-pain-iv")
    bolus, infusion = p.doses
    # 0.25 mg/kg x 70 kg = 17.5 mg -> 17 mg (halves round down)
    assert bolus.text == "iv-bolus 17 mg at 0 min"
    assert bolus.amount_mg == 17.0
    # 0.15 mg/kg/h x 70 kg = 10.5 mg/h for 24 h = 252 mg
    assert infusion.rate_mg_per_h == pytest.approx(10.5)
    assert infusion.amount_mg == pytest.approx(252.0)
    assert [s.day for s in p.sessions] == [START]
    assert p.sessions[0].total_mg == pytest.approx(269.0)


def test_crps_continuous_22_mg_per_h_for_4_days() -> None:
    p = _plan("crps-continuous-4d")
    (dose,) = p.doses
    assert dose.text == "iv-infusion 22 mg/h for 96 h at 0 min"  # as the protocol writes it
    assert dose.amount_mg == pytest.approx(22 * 96)  # 2112 mg
    assert p.prediction is not None
    plateau_ng_per_ml = 22.0 / CL_L_PER_H * 1000.0  # 261.9 ng/mL
    assert p.prediction.summary.ketamine.cmax_ng_per_ml == pytest.approx(
        plateau_ng_per_ml, rel=0.01
    )


def test_crps_daily_10_days() -> None:
    p = _plan("crps-daily-10d")
    (dose,) = p.doses
    # 0.35 mg/kg/h x 70 kg = 24.5 mg/h (below the 25 mg/h cap) for 4 h = 98 mg
    assert dose.rate_mg_per_h == pytest.approx(24.5)
    assert dose.amount_mg == pytest.approx(98.0)
    assert [s.day.day for s in p.sessions] == list(range(1, 11))


def test_chronic_pain_weekly_series() -> None:
    p = _plan("chronic-pain-iv-series")
    assert p.doses[0].amount_mg == pytest.approx(98.0)
    assert [s.day.isoformat() for s in p.sessions] == [
        "2026-12-01",
        "2026-12-08",
        "2026-12-15",
        "2026-12-22",
    ]


def test_depression_series_and_maintenance() -> None:
    p = _plan("depression-iv")
    (dose,) = p.doses
    # 0.5 mg/kg x 70 kg = 35 mg over 40 min = 52.5 mg/h
    assert dose.text == "iv-infusion 35 mg over 40 min at 0 min"
    assert dose.rate_mg_per_h == pytest.approx(52.5)
    days = [s.day.isoformat() for s in p.sessions]
    assert days[:6] == [
        "2026-12-01",
        "2026-12-03",
        "2026-12-05",
        "2026-12-08",
        "2026-12-10",
        "2026-12-12",
    ]
    # maintenance every 28 days after the last induction session (day 11)
    assert days[6:] == ["2027-01-09", "2027-02-06", "2027-03-06"]
    assert [s.phase for s in p.sessions] == ["induction"] * 6 + ["maintenance"] * 3
    assert p.prediction is not None
    auc = p.prediction.summary.ketamine.auc_ng_h_per_ml
    assert auc == pytest.approx(35.0 / CL_L_PER_H * 1000.0, rel=0.01)  # 416.7 ng*h/mL


def test_esketamine_label_schedule() -> None:
    p = _plan("esketamine-nasal")
    assert p.doses[0].text == "intranasal 56 mg at 0 min"
    offsets = [(s.day - START).days for s in p.sessions]
    assert offsets == [0, 3, 7, 10, 14, 17, 21, 24, 28, 35, 42, 49, 63, 77, 91, 105]
    assert p.prediction is not None
    assert p.prediction.model.id == "perez-ruixo"
    assert 40 < p.prediction.summary.ketamine.cmax_ng_per_ml < 150


def test_esketamine_starts_at_28_mg_from_age_65() -> None:
    p = _plan("esketamine-nasal", age_years=70)
    assert p.doses[0].amount_mg == 28.0
    assert [str(d) for d in p.sessions[0].doses] == ["intranasal 28 mg at 0 min"]
    assert [str(d) for d in p.sessions[1].doses] == ["intranasal 56 mg at 0 min"]  # a 28 mg step
    assert p.allowed


def test_palliative_oral_10_mg_every_6_h() -> None:
    p = _plan("palliative-oral")
    assert p.doses[0].text == "oral 10 mg every 6 h x 4 at 0 min"
    assert p.doses[0].amount_mg == 10.0
    assert p.sessions[0].total_mg == 40.0  # 10 mg four times a day
    assert len(p.sessions) == 7
    assert p.prediction is not None
    # AUC = F * D / CL = 0.20 x 40 mg / 84 L/h = 95.2 ng*h/mL (grid ends 24 h after last dose)
    assert p.prediction.summary.ketamine.auc_ng_h_per_ml == pytest.approx(95.2, rel=0.02)


def test_palliative_sc_burst_100_mg_per_24_h() -> None:
    p = _plan("palliative-sc-burst")
    (dose,) = p.doses
    assert dose.text == "sc-infusion 100 mg/24h for 24 h at 0 min"
    assert dose.rate_mg_per_h == pytest.approx(100 / 24)
    assert dose.amount_mg == pytest.approx(100.0)
    assert [(s.day - START).days for s in p.sessions] == [0, 1, 2]
    assert p.prediction is not None
    plateau = 100 / 24 / CL_L_PER_H * 1000.0  # 49.6 ng/mL with F = 1 (assumed)
    assert 0.8 * plateau < p.prediction.summary.ketamine.cmax_ng_per_ml <= plateau
