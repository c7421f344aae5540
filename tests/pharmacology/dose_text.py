"""Dose events for tests, written in the dose grammar (the form ``parse_doses`` always takes),
so that the tests do not depend on how ``Dose`` is constructed."""

from __future__ import annotations

import numpy as np

from ketaclinic.pharmacology import Route


def _number(value: float) -> str:
    # the shortest text that reads back as exactly this float, never in scientific notation
    return str(np.format_float_positional(float(value), unique=True, trim="-"))


def dose_text(
    route: Route, amount_mg: float, start_min: float = 0.0, duration_min: float = 0.0
) -> str:
    """One dose event: a bolus (``duration_min == 0``) or a zero-order infusion.

    >>> dose_text(Route.IV, 35.0, 0.0, 40.0)
    'iv-infusion 35 mg over 40 min at 0 min'
    """
    if route in (Route.IV, Route.SC) and duration_min > 0:
        word = f"{route}-infusion"
    elif route is Route.IV:
        word = "iv-bolus"
    else:
        word = str(route)
    text = f"{word} {_number(amount_mg)} mg"
    if duration_min > 0:
        text += f" over {_number(duration_min)} min"
    return text + f" at {_number(start_min)} min"
