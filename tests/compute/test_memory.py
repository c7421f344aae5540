"""``keep_freed_memory`` makes repeated population runs reuse freed memory: after the first
run, the next ones fault in far fewer fresh pages (each a trap into the kernel)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ketaclinic.compute import keep_freed_memory

_RUNS = """
import json, resource, sys
if sys.argv[1] == "tuned":
    from ketaclinic.compute import keep_freed_memory
    assert keep_freed_memory()
from ketaclinic.pharmacology import simulate_population
def run():
    simulate_population("domino", ["iv-infusion 0.5 mg/kg over 40 min"], n=20_000, seed=1,
                        kernel="numpy", step_min=10.0, chunk_size=4096, band_patients=2000)
run()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    run()
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 3))
"""


def _faults_per_run(mode: str) -> float:
    proc = subprocess.run(
        [sys.executable, "-c", _RUNS, mode], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    faults: float = json.loads(proc.stdout.strip().splitlines()[-1])
    return faults


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_runs_after_the_first_fault_in_far_fewer_pages() -> None:
    default, tuned = _faults_per_run("default"), _faults_per_run("tuned")
    assert tuned < 0.25 * default, (default, tuned)


@pytest.mark.parametrize("value", [-1, 1.5, True])
def test_thresholds_must_be_whole_numbers_of_bytes(value: object) -> None:
    with pytest.raises(ValueError, match="threshold must be a whole number of bytes >= 0"):
        keep_freed_memory(mmap_threshold_bytes=value)  # type: ignore[arg-type]
