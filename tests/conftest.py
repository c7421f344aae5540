"""Shared test configuration: a deterministic hypothesis profile.

Property tests must give the same verdict on every run and every machine (STYLE.md habit 6),
so examples are derived from the test itself (``derandomize``) rather than from a random seed,
and no example database is kept between runs.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ketaclinic",
    derandomize=True,
    max_examples=25,
    deadline=None,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ketaclinic")
