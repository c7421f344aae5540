"""``warm_up()`` readies every compiled kernel before the first request, into the cache
directory Numba is told to use (``NUMBA_CACHE_DIR``), and a population run afterwards compiles
nothing more."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

_RUN = """
import json, sys, time
from ketaclinic.pharmacology import simulate_population, warm_up
from ketaclinic.pharmacology import _closed_form, _grid_compiled, _order_statistics
t = time.perf_counter()
ready = warm_up()
warm_s = time.perf_counter() - t
kernels = {"closed_form": _closed_form._KERNEL, "grid": _grid_compiled._KERNEL,
           "order": _order_statistics._rows}
before = {k: len(d.signatures) for k, d in kernels.items()}
hits = {k: sum(d.stats.cache_hits.values()) for k, d in kernels.items()}
iv = ["iv-infusion 0.5 mg/kg over 40 min at 0 min"]
for effect_site in (False, True):  # closed form (IV, mammillary) and the eigen path (oral)
    simulate_population("kamp", iv, 3000, 1, kernel="compiled", effect_site=effect_site)
    simulate_population("fanta", ["oral 50 mg"], 3000, 1, kernel="compiled",
                        effect_site=effect_site, chunk_size=1024)
after = {k: len(d.signatures) for k, d in kernels.items()}
print(json.dumps({"ready": list(ready), "before": before, "after": after, "hits": hits,
                  "warm_s": warm_s}))
"""


def _run(cache_dir: Path) -> dict[str, object]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    proc = subprocess.run(
        [sys.executable, "-c", _RUN], env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_warm_up_compiles_into_numba_cache_dir_and_later_runs_compile_nothing(
    tmp_path: Path,
) -> None:
    first = _run(tmp_path)
    assert first["ready"] == [
        "closed-form IV coefficients",
        "bounded grid metrics",
        "band order statistics",
        "scipy.linalg.expm",
    ]
    assert first["after"] == first["before"]  # every layout a run uses was compiled ahead
    assert first["hits"] == {"closed_form": 0, "grid": 0, "order": 0}  # an empty cache: compiled
    cached = list(tmp_path.rglob("*.nbi"))
    assert any("_grid_compiled" in p.name for p in cached)
    assert any("_closed_form" in p.name for p in cached)
    assert any("_order_statistics" in p.name for p in cached)
    second = _run(tmp_path)  # a new process loads what the first one compiled
    assert second["after"] == second["before"]
    hits = second["hits"]
    assert isinstance(hits, dict)
    assert hits["closed_form"] > 0
    assert hits["grid"] > 0
    assert hits["order"] > 0
