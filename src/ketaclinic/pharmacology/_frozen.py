"""Read-only mappings for catalogues and frozen values.

``types.MappingProxyType`` would do, but it cannot be pickled, and population jobs (with the
model, the population description and the variability inside) travel to Dask workers. A
``dict`` whose mutating methods refuse keeps lookups at dict speed (the engine reads model
routes on every call) and serialises to JSON as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar

__all__ = ["FrozenMap", "freeze"]

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(dict[K, V]):
    """An immutable mapping (insertion order kept) that pickles.

    >>> m = FrozenMap({"a": 1})
    >>> m["a"], list(m), m == {"a": 1}
    (1, ['a'], True)
    >>> m["b"] = 2
    Traceback (most recent call last):
    ...
    TypeError: FrozenMap is read-only
    """

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is read-only")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __repr__(self) -> str:
        return f"FrozenMap({dict.__repr__(self)})"

    def __reduce__(self) -> tuple[Any, tuple[dict[K, V]]]:
        return (type(self), (dict(self),))


def freeze(value: Any) -> Any:
    """``value`` with every mapping made a :class:`FrozenMap` and every list a tuple, deeply."""
    if isinstance(value, Mapping):
        return FrozenMap({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value
