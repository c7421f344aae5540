"""Two checkouts back to back: the figures of ``make bench`` as ratios new/old.

Usage::

    python benchmarks/compare_checkouts.py OLD/.venv/bin/python NEW/.venv/bin/python [ROUNDS]

Each round measures every workload with the old and then the new interpreter (the order
alternates between rounds), each in a fresh process, through the public API both versions
share: W1 and W3 (``simulate``, 1-s grids; also with Domino's norketamine left out where
the checkout can, and with the Simons model, whose structure is the same in both: Domino
gained a metabolite after e9f709d), W2 at 10^5 and 10^6 patients
(``simulate_population``; once more with the new checkout keeping freed memory, as its
processes do), and whole processes (``ketaclinic simulate --json``,
``ketaclinic population --n 1000 --json``, and ``python -c "import numpy"`` for scale).
In-process workloads are timed by the best of their repeats in each process (as ``timeit``
advises: the other readings measure the machine as much as the code); W1 and W3 are also
shown by their medians. The machine is shared and noisy: read the ranges, not one number.
Both checkouts' sources are compiled to bytecode first (``make venv`` does the same), so
that no process pays that.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

_W1_W3 = """
import inspect, statistics, time, numpy as np
from ketaclinic.pharmacology import Patient, parse_doses, simulate
# the curves W1/W3 are defined with (ketamine, effect site): newer checkouts add norketamine
# to Domino and can leave it out, as W2 does
accepted = inspect.signature(simulate).parameters
extra = {{"norketamine": False}} if {lean} and "norketamine" in accepted else {{}}
days = {days}
patient = Patient(weight_kg=70, age_years=40, sex="male", height_cm=175)
doses = parse_doses([f"iv-infusion 0.5 mg/kg over 40 min at {{d * 1440:g}} min" for d in days])
grid = np.arange(round({t_end} * 60) + 1) / 60.0
simulate("{model}", patient, doses, grid, **extra)
times = []
for _ in range({repeat}):
    t = time.perf_counter(); simulate("{model}", patient, doses, grid, **extra)
    times.append(time.perf_counter() - t)
print(min(times), statistics.median(times))
"""

_W2 = """
import inspect, time
if {tune}:  # newer checkouts' processes keep freed memory (population command, web workers)
    try:
        from ketaclinic.compute import keep_freed_memory
        keep_freed_memory()
    except ImportError:  # an older checkout: its processes do not
        pass
from ketaclinic.pharmacology import simulate_population
# plasma ketamine only, as W2 is defined (newer checkouts can add norketamine)
accepted = inspect.signature(simulate_population).parameters
extra = {{"norketamine": False}} if "norketamine" in accepted else {{}}
def w2(n):
    simulate_population("domino", ["iv-infusion 0.5 mg/kg over 40 min at 0 min"], n=n, seed=1,
                        variability="CL=0.3,V1=0.3,V2=0.3,V3=0.3", thresholds_ng_per_ml=[300.0],
                        **extra)
w2(2000); w2({n})
best = float("inf")
for _ in range({repeat}):
    t = time.perf_counter(); w2({n}); best = min(best, time.perf_counter() - t)
print(best)
"""

# Domino gained a norketamine metabolite after e9f709d (three curves instead of two). The
# "same curves" rows leave it out where the checkout can (``norketamine=False``), the Simons
# rows use a model without one in both checkouts: the same work on each side. The plain W1
# and W3 rows are what a caller gets by default (the new checkout's extra curve included).
_W1 = {"days": (0,), "t_end": 1440.0, "repeat": 50}
_W3 = {"days": (0, 2, 4, 7, 9, 11), "t_end": 20160.0, "repeat": 10}
WORKLOADS = {
    "W1 simulate 24 h at 1 s": _W1_W3.format(model="domino", lean=False, **_W1),
    "W3 simulate 14 d at 1 s": _W1_W3.format(model="domino", lean=False, **_W3),
    "W1 same curves (no norketamine)": _W1_W3.format(model="domino", lean=True, **_W1),
    "W3 same curves (no norketamine)": _W1_W3.format(model="domino", lean=True, **_W3),
    "W1 same structure (simons)": _W1_W3.format(model="simons", lean=False, **_W1),
    "W3 same structure (simons)": _W1_W3.format(model="simons", lean=False, **_W3),
    "W2 population n=1e5": _W2.format(n=100_000, repeat=5, tune=False),
    "W2 population n=1e6": _W2.format(n=1_000_000, repeat=2, tune=False),
    # the new checkout as its own processes run it; the old one cannot, so unchanged there
    "W2 n=1e5, keep_freed_memory": _W2.format(n=100_000, repeat=5, tune=True),
}


def _in_process(python: str, code: str) -> tuple[float, float]:
    """``(best, median)`` of the repeats in one process (W2 prints its best only)."""
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    values = [float(v) for v in out.stdout.strip().splitlines()[-1].split()]
    return values[0], values[-1]


def _whole_process(cmd: list[str], repeat: int = 7) -> float:
    subprocess.run(cmd, capture_output=True, check=True)  # warm the file cache
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _processes(python: str) -> dict[str, list[str]]:
    exe = str(Path(python).with_name("ketaclinic"))
    dose = "iv-infusion 0.5 mg/kg over 40 min at 0 min"
    return {
        "process `simulate --json`": [exe, "simulate", "--model", "domino", "--weight-kg", "70",
                                      "--json", "--dose", dose, "--at", "10,40,60"],
        "process `population --n 1000 --json`": [exe, "population", "--model", "domino",
                                                 "--dose", dose, "--n", "1000", "--json"],
        "process `python -c 'import numpy'`": [python, "-c", "import numpy"],
    }  # fmt: skip


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__)
        return 2
    old, new = argv[1], argv[2]
    rounds = int(argv[3]) if len(argv) > 3 else 3
    for python in (old, new):  # CHECKOUT/.venv/bin/python -> CHECKOUT/src
        source = Path(python).absolute().parents[2] / "src"
        subprocess.run([python, "-m", "compileall", "-q", str(source)], check=True)
    names = [*WORKLOADS, *_processes(old)]
    seconds: dict[str, dict[str, list[float]]] = {k: {"old": [], "new": []} for k in names}
    medians: dict[str, dict[str, list[float]]] = {k: {"old": [], "new": []} for k in WORKLOADS}
    for r in range(rounds):
        order = [("old", old), ("new", new)] if r % 2 == 0 else [("new", new), ("old", old)]
        for name in names:
            for label, python in order:
                if name in WORKLOADS:
                    value, median = _in_process(python, WORKLOADS[name])
                    medians[name][label].append(median)
                else:
                    value = _whole_process(_processes(python)[name])
                seconds[name][label].append(value)
        print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    print(f"{'workload':40} {'old (s)':>17} {'new (s)':>17} {'new/old per round':>22}")
    for name in names:
        o, n = seconds[name]["old"], seconds[name]["new"]
        ratios = [b / a for a, b in zip(o, n, strict=True)]
        print(
            f"{name:40} {min(o):8.4f}-{max(o):<8.4f} {min(n):8.4f}-{max(n):<8.4f} "
            f"x{min(ratios):.3f}-x{max(ratios):.3f} (median x{statistics.median(ratios):.3f})"
        )
    print("W1/W3 by the median of each process's repeats instead of the best (noisier: the")
    print("median of identical runs moved by up to x1.4 here between processes):")
    for name in (k for k in WORKLOADS if k.startswith("W1") or k.startswith("W3")):
        o, n = medians[name]["old"], medians[name]["new"]
        ratios = [b / a for a, b in zip(o, n, strict=True)]
        print(
            f"  {name:38} x{min(ratios):.3f}-x{max(ratios):.3f} "
            f"(median x{statistics.median(ratios):.3f})"
        )
    for label in ("old", "new"):
        cli = seconds["process `simulate --json`"][label]
        numpy = seconds["process `python -c 'import numpy'`"][label]
        ratios = [a / b for a, b in zip(cli, numpy, strict=True)]
        print(f"{label}: `simulate --json` / `import numpy`: x{min(ratios):.2f}-x{max(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
