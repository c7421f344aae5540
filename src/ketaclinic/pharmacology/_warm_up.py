"""``warm_up()``: everything a long-lived process should load before its first request."""

from __future__ import annotations

__all__ = ["warm_up"]


def warm_up() -> tuple[str, ...]:
    """Compile, or load from Numba's on-disk cache, every compiled population kernel, and
    import SciPy's matrix exponential (the fallback for ill-conditioned patients).

    A web worker calls this once at start-up so that no request pays for it (a first
    ``plan()`` runs 10 000 virtual patients on the compiled path). Loading cached kernels
    takes about a second; compiling them into an empty cache, a minute or more. The cache sits
    beside the installed package, or in ``NUMBA_CACHE_DIR`` when that is set (Numba reads it
    when it is first imported). Returns the names of what was made ready.
    """
    from scipy.linalg import expm  # noqa: F401  (imported for its import cost)

    from ketaclinic.pharmacology import _closed_form, _grid_compiled, _order_statistics

    _closed_form.warm_up()
    _grid_compiled.warm_up()
    _order_statistics.warm_up()
    return (
        "closed-form IV coefficients",
        "bounded grid metrics",
        "band order statistics",
        "scipy.linalg.expm",
    )
