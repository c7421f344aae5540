"""Load and validate the protocol data files once (importlib.resources, cached)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import ValidationError

from ketaclinic.errors import DataFileError, UnknownNameError
from ketaclinic.protocols._schema import Protocol
from ketaclinic.safety import format_validation_error

__all__ = ["get_protocol", "load_protocol_text", "protocols"]


def load_protocol_text(text: str, name: str = "<text>") -> Protocol:
    """Validate one protocol document; errors name the file and the field."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DataFileError(f"protocol file {name} is not valid YAML: {error}") from None
    try:
        return Protocol.model_validate(data)
    except ValidationError as error:
        raise DataFileError(
            format_validation_error(error, f"protocol file {name} is invalid")
        ) from None


@lru_cache(maxsize=1)
def protocols() -> MappingProxyType[str, Protocol]:
    """Every packaged protocol by id, in file-name order."""
    folder = resources.files("ketaclinic.protocols").joinpath("data")
    found: dict[str, Protocol] = {}
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".yaml"):
            continue
        protocol = load_protocol_text(item.read_text(), item.name)
        if item.name != f"{protocol.id}.yaml":
            raise DataFileError(f"protocol file {item.name} must be named {protocol.id}.yaml")
        found[protocol.id] = protocol
    return MappingProxyType(found)


def get_protocol(protocol_id: str) -> Protocol:
    """The protocol with this id, or :class:`UnknownNameError` listing the ids."""
    library = protocols()
    key = protocol_id.strip().lower()
    if key not in library:
        raise UnknownNameError(f"unknown protocol {protocol_id!r}; accepted: {', '.join(library)}")
    return library[key]
