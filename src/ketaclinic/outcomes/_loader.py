"""Load and validate the packaged data files once (importlib.resources, cached).

A broken file fails loudly at first use, naming the file and the field; nothing is read at
call time after that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ketaclinic.errors import UnknownNameError
from ketaclinic.outcomes._mme_schema import MmeTable
from ketaclinic.outcomes._schema import Instrument

__all__ = [
    "get_instrument",
    "get_mme_table",
    "instruments",
    "load_instrument_text",
    "load_mme_table_text",
    "mme_tables",
]

Model = TypeVar("Model", bound=BaseModel)


def _load(text: str, name: str, model: type[Model], what: str) -> Model:
    data: Any = yaml.safe_load(text)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ValueError(f"{what} file {name} is invalid: {error}") from error


def load_instrument_text(text: str, name: str = "<text>") -> Instrument:
    """Validate one instrument document; errors name the file and the field."""
    return _load(text, name, Instrument, "instrument")


def load_mme_table_text(text: str, name: str = "<text>") -> MmeTable:
    """Validate one MME conversion table document."""
    return _load(text, name, MmeTable, "MME table")


def _folder(kind: str, model: type[Model], what: str) -> MappingProxyType[str, Model]:
    folder = resources.files("ketaclinic.outcomes").joinpath("data", kind)
    found: dict[str, Model] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        value = _load(entry.read_text(encoding="utf-8"), entry.name, model, what)
        ident = str(getattr(value, "id"))  # noqa: B009 - both models have an id
        if entry.name != f"{ident}.yaml":
            raise ValueError(f"{what} file {entry.name} must be named {ident}.yaml")
        found[ident] = value
    if not found:
        raise ValueError(f"no {what} files found in outcomes/data/{kind}")
    return MappingProxyType(found)


@lru_cache(maxsize=1)
def instruments() -> MappingProxyType[str, Instrument]:
    """Every packaged instrument by id, in file-name order."""
    return _folder("instruments", Instrument, "instrument")


@lru_cache(maxsize=1)
def mme_tables() -> MappingProxyType[str, MmeTable]:
    """Every packaged MME conversion table by id."""
    return _folder("mme", MmeTable, "MME table")


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _find(library: Mapping[str, Model], name: str, what: str) -> Model:
    if not isinstance(name, str):
        raise UnknownNameError(f"{what} {name!r} is not a name; accepted: {', '.join(library)}")
    wanted = _key(name)
    for ident, value in library.items():
        if _key(ident) == wanted:
            return value
    raise UnknownNameError(f"unknown {what} {name!r}; accepted: {', '.join(library)}")


def get_instrument(instrument_id: str) -> Instrument:
    """The instrument with this id (``PHQ-9``, ``phq9`` and ``phq-9`` all match).

    >>> get_instrument("PHQ9").id
    'phq-9'
    """
    return _find(instruments(), instrument_id, "instrument")


def get_mme_table(table_id: str) -> MmeTable:
    """The MME table with this id (``cdc-2022`` or ``cdc-2016``)."""
    return _find(mme_tables(), table_id, "MME table")
