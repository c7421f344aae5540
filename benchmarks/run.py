"""Run every ``benchmarks/bench_*.py`` (``make bench``).

Each module defines ``main() -> None`` and prints ratios against baselines measured in the
same run: these machines are noisy, so absolute timings are context, never a pass/fail.
``python benchmarks/run.py NAME`` runs only the modules whose name contains NAME.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    wanted = argv[1:] or [""]
    for path in sorted(here.glob("bench_*.py")):
        if not any(w in path.stem for w in wanted):
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise RuntimeError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"\n=== {path.stem} ===", flush=True)
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
