"""Issue 2 benchmarks: one patient, exact solver vs what a typical user writes.

W1: one 70 kg patient, Domino, 0.5 mg/kg over 40 min, 24 h at 1-s resolution.
W3: six such infusions Mon/Wed/Fri for two weeks, 14 days at 1-s resolution.
Baselines measured in the same run: scipy ``solve_ivp`` (LSODA, rtol 1e-8, integrated
segment by segment with ``t_eval``), a plain-Python loop stepping the exact transition matrix,
and opentiva 1.1.2 where installed. Also the whole ``ketaclinic simulate`` process against a
bare ``python -c pass``. Only ratios are meaningful on a noisy machine.
"""

from __future__ import annotations

import itertools
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from ketaclinic.pharmacology import Patient, covariates_of, get_model, parse_doses, simulate

DOSE_MG = 35.0  # 0.5 mg/kg x 70 kg
INFUSION_MIN = 40.0
W3_DAYS = (0, 2, 4, 7, 9, 11)  # Mon/Wed/Fri, two weeks


def _timeit(fn: Callable[[], object], repeat: int, budget_s: float = 20.0) -> float:
    """Median seconds of ``repeat`` calls (fewer if the budget runs out)."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s:
            break
    return statistics.median(times)


def _domino_matrix() -> tuple[np.ndarray, float]:
    """3-compartment Domino matrix (amounts, 1/min) and V1 (L), written out independently."""
    v1 = 0.063 * 70.0
    k10, k12, k13, k21, k31 = 0.4381, 0.5921, 0.5900, 0.2470, 0.0146
    a = np.array(
        [
            [-(k10 + k12 + k13), k21, k31],
            [k12, -k21, 0.0],
            [k13, 0.0, -k31],
        ]
    )
    return a, v1


def _starts(days: tuple[int, ...]) -> list[float]:
    return [d * 1440.0 for d in days]


def solve_ivp_baseline(starts: list[float], t_end: float, step_min: float) -> np.ndarray:
    a, v1 = _domino_matrix()
    rate = DOSE_MG / INFUSION_MIN
    edges = sorted({0.0, t_end, *starts, *(s + INFUSION_MIN for s in starts)})
    t_all = np.arange(0.0, t_end + step_min / 2, step_min)
    out = np.empty_like(t_all)
    x = np.zeros(3)
    for lo, hi in itertools.pairwise(edges):
        on = any(s <= lo < s + INFUSION_MIN for s in starts)
        u = np.array([rate if on else 0.0, 0.0, 0.0])
        mask = (t_all >= lo) & (t_all < hi) if hi < t_end else (t_all >= lo)
        sol = solve_ivp(
            lambda _t, y, u=u: a @ y + u,
            (lo, hi),
            x,
            method="LSODA",
            t_eval=t_all[mask],
            rtol=1e-8,
            atol=1e-12,
        )
        out[mask] = sol.y[0] / v1 * 1000.0
        end = solve_ivp(
            lambda _t, y, u=u: a @ y + u, (lo, hi), x, method="LSODA", rtol=1e-8, atol=1e-12
        )
        x = end.y[:, -1]
    return out


def python_loop_baseline(starts: list[float], t_end: float, step_min: float) -> list[float]:
    """What a careful user writes without NumPy tricks: step the exact transition matrix."""
    a, v1 = _domino_matrix()
    rate = DOSE_MG / INFUSION_MIN
    aug = np.zeros((4, 4))
    aug[:3, :3] = a
    aug[0, 3] = 1.0
    step = expm(aug * step_min)
    e = step[:3, :3].tolist()
    g = step[:3, 3].tolist()
    steps = round(t_end / step_min)
    x0 = x1 = x2 = 0.0
    out = [0.0]
    per_step = [0.0] * steps
    for s in starts:
        first, last = round(s / step_min), round((s + INFUSION_MIN) / step_min)
        for i in range(first, min(last, steps)):
            per_step[i] = rate
    for i in range(steps):
        r = per_step[i]
        x0, x1, x2 = (
            e[0][0] * x0 + e[0][1] * x1 + e[0][2] * x2 + g[0] * r,
            e[1][0] * x0 + e[1][1] * x1 + e[1][2] * x2 + g[1] * r,
            e[2][0] * x0 + e[2][1] * x1 + e[2][2] * x2 + g[2] * r,
        )
        out.append(x0 / v1 * 1000.0)
    return out


def opentiva_baseline(starts: list[float], t_end: float) -> np.ndarray | None:
    try:
        import warnings

        import opentiva.ketamine as ot_ketamine
        import opentiva.pkpd as ot_pkpd
    except ImportError:
        return None
    warnings.simplefilter("ignore")
    model = ot_pkpd.PkPdModel(ot_ketamine.Domino(sex=0, age=40, weight=70, height=175))
    inf = np.array(
        [
            [s * 60.0, DOSE_MG / (INFUSION_MIN * 60), INFUSION_MIN * 60, (s + INFUSION_MIN) * 60]
            for s in starts
        ]
    )
    return np.array(model.cp_over_time(inf, 0, int(t_end * 60) + 1))[:, 1] * 1000.0


def _case(name: str, days: tuple[int, ...], t_end_min: float, heavy_repeat: int) -> None:
    patient = Patient(weight_kg=70, age_years=40, sex="male", height_cm=175)
    doses = parse_doses([f"iv-infusion 0.5 mg/kg over 40 min at {s:g} min" for s in _starts(days)])
    step = 1.0 / 60.0
    grid = np.arange(round(t_end_min / step) + 1) * step
    get_model("domino")
    covariates_of(patient)
    ours = _timeit(lambda: simulate("domino", patient, doses, grid), 200)
    ref = simulate("domino", patient, doses, grid).ketamine_ng_per_ml
    print(f"{name}: {grid.size} points; ketaclinic.simulate {ours * 1e3:.3f} ms (context only)")

    starts = _starts(days)
    ivp = _timeit(lambda: solve_ivp_baseline(starts, t_end_min, step), heavy_repeat)
    err = np.max(np.abs(solve_ivp_baseline(starts, t_end_min, step) - ref)) / np.max(ref)
    print(f"  solve_ivp (LSODA)      x{ivp / ours:8.1f} slower  (max rel. diff {err:.1e})")
    loop = _timeit(lambda: python_loop_baseline(starts, t_end_min, step), heavy_repeat)
    err = np.max(np.abs(np.array(python_loop_baseline(starts, t_end_min, step)) - ref))
    print(f"  plain-Python loop      x{loop / ours:8.1f} slower  (max abs. diff {err:.1e} ng/mL)")
    ot = opentiva_baseline(starts, t_end_min)
    if ot is not None:
        ot_time = _timeit(lambda: opentiva_baseline(starts, t_end_min), heavy_repeat)
        err = np.max(np.abs(ot - ref[: ot.size])) / np.max(ref)
        print(f"  opentiva 1.1.2         x{ot_time / ours:8.1f} slower  (max rel. diff {err:.1e})")
    else:
        print("  opentiva 1.1.2         not installed (scripts/install_opentiva.sh)")


def _process_time() -> None:
    exe = Path(sys.executable).with_name("ketaclinic")
    cmd = [
        str(exe),
        "simulate",
        "--model",
        "domino",
        "--weight-kg",
        "70",
        "--json",
        "--dose",
        "iv-infusion 0.5 mg/kg over 40 min at 0 min",
        "--at",
        "10,40,60",
    ]
    bare = [sys.executable, "-c", "pass"]
    numpy_only = [sys.executable, "-c", "import numpy"]

    def run(c: list[str]) -> float:
        return _timeit(lambda: subprocess.run(c, check=True, capture_output=True), 7, 30.0)

    t_cli, t_bare, t_np = run(cmd), run(bare), run(numpy_only)
    print(
        f"whole process `ketaclinic simulate --json`: {t_cli:.3f} s "
        f"(x{t_cli / t_bare:.1f} a bare interpreter, x{t_cli / t_np:.1f} `import numpy`; "
        "target < 0.6 s)"
    )


def main() -> None:
    _case("W1 (24 h at 1 s)", (0,), 1440.0, heavy_repeat=3)
    _case("W3 (6 infusions M/W/F, 14 d at 1 s)", W3_DAYS, 14 * 1440.0, heavy_repeat=1)
    _process_time()


if __name__ == "__main__":
    main()
