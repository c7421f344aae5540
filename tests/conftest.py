"""Shared test configuration: deterministic hypothesis profiles.

Property tests must give the same verdict on every run and every machine (STYLE.md habit 6),
so examples are derived from the test itself (``derandomize``) rather than from a random seed,
and no example database is kept between runs. ``KETACLINIC_HYPOTHESIS_PROFILE=thorough`` runs
forty times as many examples (still deterministic) for a search before a release.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "derandomize": True,
    "deadline": None,
    "database": None,
    "print_blob": False,
    "suppress_health_check": [HealthCheck.too_slow],
}
settings.register_profile("ketaclinic", max_examples=50, **_COMMON)
settings.register_profile("thorough", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("KETACLINIC_HYPOTHESIS_PROFILE", "ketaclinic"))
