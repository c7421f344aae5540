"""The drug a model, a protocol or an order is about: one identity for every layer."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Drug"]


class Drug(StrEnum):
    """Racemic ketamine or its S-enantiomer (esketamine, about twice as potent).

    >>> Drug("esketamine").label
    'S-ketamine (esketamine)'
    """

    RACEMIC = "racemic"
    ESKETAMINE = "esketamine"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {Drug.RACEMIC: "racemic ketamine", Drug.ESKETAMINE: "S-ketamine (esketamine)"}
