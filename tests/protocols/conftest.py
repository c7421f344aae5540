"""Reuse the safety tests' helpers (typical patient, frozen check time)."""

from __future__ import annotations

import sys
from pathlib import Path

_SAFETY = str(Path(__file__).resolve().parents[1] / "safety")
if _SAFETY not in sys.path:
    sys.path.insert(0, _SAFETY)
