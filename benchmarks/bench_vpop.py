"""Issue 4 benchmarks: virtual populations (workload W2).

W2: Domino, 0.5 mg/kg over 40 min, CV 30 % on CL, V1, V2, V3, 24 h on a 1-min grid, Cmax /
AUC / minutes above 300 ng/mL per patient. Everything is measured in this run: the compute
floor (a compiled loop that only advances the exponentials and takes the maximum), a plain
NumPy exact solver (our ``solve`` on the stacked population, grid kept), ``solve_ivp`` on one
stacked system, scaling with n and chunk size, the Dask LocalCluster overhead, peak memory
at n = 10^6 (in a child process) and the whole ``ketaclinic population`` process.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ketaclinic.pharmacology import simulate_population

DOSE = ["iv-infusion 0.5 mg/kg over 40 min at 0 min"]
CV = "CL=0.3,V1=0.3,V2=0.3,V3=0.3"
STEPS = 1441


def w2(n: int, **kwargs: object) -> object:
    return simulate_population(
        "domino", DOSE, n=n, seed=1, variability=CV, thresholds_ng_per_ml=[300.0], **kwargs
    )


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _floor(n: int) -> float:
    """Compiled loop over the same exponentials: advance 3 modes per step, keep the max."""
    import numba

    @numba.njit(parallel=True, cache=False)
    def floor_kernel(rate: np.ndarray, term: np.ndarray, out: np.ndarray) -> None:
        for p in numba.prange(rate.shape[0]):
            t0, t1, t2 = term[p, 0], term[p, 1], term[p, 2]
            r0, r1, r2 = rate[p, 0], rate[p, 1], rate[p, 2]
            best = -1e300
            for _ in range(STEPS):
                y = t0 + t1 + t2
                best = max(best, y)
                t0 *= r0
                t1 *= r1
                t2 *= r2
            out[p] = best

    rng = np.random.default_rng(0)
    rate = np.exp(-rng.uniform(0.001, 0.5, (n, 3)))
    term = rng.uniform(1, 2, (n, 3))
    out = np.empty(n)
    floor_kernel(rate[:10], term[:10], out[:10])
    return _best(lambda: floor_kernel(rate, term, out))


def _plain_numpy(n: int) -> float:
    """Our exact solver on the stacked population with the whole grid, then the metrics."""
    from ketaclinic.pharmacology import (
        get_model,
        grid_maximum,
        minutes_above,
        parse_doses,
        parse_variability,
        population_spec,
        regimen_inputs,
        regimen_system,
        solve,
    )
    from ketaclinic.pharmacology._vpop_sampling import block_rng, sample_covariates

    model = get_model("domino")
    doses = parse_doses(DOSE)
    grid = np.arange(STEPS, dtype=float)

    def run() -> None:
        rng = block_rng(1, 0)
        cov = sample_covariates(population_spec("adults"), rng, n)
        params = model.parameters(cov, ())
        parse_variability(CV, model).apply(params, rng)
        system, _ = regimen_system(model, cov, doses, params)
        inputs = regimen_inputs(model, system, doses, cov.weight_kg, params)
        rows = system.concentration_row("central")[:, None, :] * 1000.0
        values = solve(system, inputs, grid, rows).values[:, 0]
        grid_maximum(grid, values)
        minutes_above(grid, values, 300.0)

    return _best(run, 2)


def _solve_ivp(n: int) -> float:
    """One stacked ODE system of n Domino patients with scipy's LSODA at rtol 1e-8."""
    from scipy.integrate import solve_ivp

    rng = np.random.default_rng(1)
    k10 = 0.4381 * np.exp(0.29 * rng.standard_normal(n))
    k12, k13, k21, k31 = 0.5921, 0.5900, 0.2470, 0.0146
    rate = 35.0 / 40.0

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        c, p2, p3 = y[:n], y[n : 2 * n], y[2 * n :]
        u = rate if t < 40.0 else 0.0
        return np.concatenate(
            [
                u - (k10 + k12 + k13) * c + k21 * p2 + k31 * p3,
                k12 * c - k21 * p2,
                k13 * c - k31 * p3,
            ]
        )

    def run() -> None:
        first = solve_ivp(
            rhs,
            (0, 40),
            np.zeros(3 * n),
            method="LSODA",
            rtol=1e-8,
            atol=1e-10,
            t_eval=np.arange(41.0),
        )
        solve_ivp(
            rhs,
            (40, 1440),
            first.y[:, -1],
            method="LSODA",
            rtol=1e-8,
            atol=1e-10,
            t_eval=np.arange(40.0, 1441.0),
        )

    return _best(run, 1)


def _child_rss_mb(n: int) -> tuple[float, float]:
    code = (
        "import time, resource; from ketaclinic.pharmacology import simulate_population;"
        "t=time.perf_counter();"
        f"simulate_population('domino', {DOSE!r}, n={n}, seed=1, variability={CV!r},"
        " thresholds_ng_per_ml=[300.0]);"
        "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    w2(2000)  # load the cached Numba kernel once
    t_small = _best(lambda: w2(100_000))
    steps = 100_000 * STEPS
    floor = _floor(100_000)
    print(
        f"W2 n=100000: {t_small * 1e3:.0f} ms, {steps / t_small / 1e6:.0f} M patient-steps/s "
        f"(x{t_small / floor:.1f} the compute floor of {floor * 1e3:.0f} ms; target < 100 ms)"
    )
    numpy_n = 5000
    plain = _plain_numpy(numpy_n) * 100_000 / numpy_n
    print(
        f"  plain NumPy exact solver (grid kept), scaled from n={numpy_n}: x{plain / t_small:.1f} "
        "slower"
    )
    ivp_n = 200
    ivp = _solve_ivp(ivp_n) * 100_000 / ivp_n
    print(f"  solve_ivp on one stacked system, scaled from n={ivp_n}: x{ivp / t_small:.0f} slower")
    print("scaling with n (same chunk size):")
    base = None
    for n in (1_000, 10_000, 100_000, 1_000_000):
        t = _best(lambda n=n: w2(n), 2 if n < 10**6 else 1)
        per = t / n
        base = base or per
        print(
            f"  n={n:>9}: {t:8.3f} s  {n * STEPS / t / 1e6:6.0f} M patient-steps/s  "
            f"(time per patient x{per / base:.2f} vs n=1000)"
        )
    print("chunk size at n=100000:")
    ref = None
    for chunk in (4096, 16384, 65536):
        t = _best(lambda c=chunk: w2(100_000, chunk_size=c), 2)
        ref = ref or t
        print(f"  chunk {chunk:>6}: x{t / ref:.2f} vs chunk 4096")
    t_dask = _best(lambda: w2(100_000, backend="dask", local_workers=2), 1)
    print(
        f"Dask LocalCluster (2 workers, in-process) at n=100000: x{t_dask / t_small:.2f} "
        "the NumPy backend (cluster start-up included)"
    )
    t_child, rss = _child_rss_mb(1_000_000)
    grid_gb = 1_000_000 * STEPS * 8 / 1e9
    print(
        f"n=1000000 in a fresh process: {t_child:.2f} s, peak RSS {rss:.0f} MB "
        f"(the full grid would be {grid_gb:.1f} GB; target < 1 s)"
    )
    exe = Path(sys.executable).with_name("ketaclinic")
    cmd = [str(exe), "population", "--model", "domino", "--dose", DOSE[0], "--n", "1000", "--json"]
    bare = [sys.executable, "-c", "pass"]

    def proc(c: list[str]) -> float:
        return statistics.median(
            _best(lambda: subprocess.run(c, check=True, capture_output=True), 1) for _ in range(5)
        )

    t_cli, t_bare = proc(cmd), proc(bare)
    print(
        f"whole process `ketaclinic population --n 1000 --json`: {t_cli:.2f} s "
        f"(x{t_cli / t_bare:.0f} a bare interpreter)"
    )


if __name__ == "__main__":
    main()
