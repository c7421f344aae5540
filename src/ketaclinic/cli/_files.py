"""Reading the YAML/JSON files people give the CLI: every problem is a one-line user error.

YAML is read with a loader where only ``true`` and ``false`` are booleans (as in YAML 1.2):
YAML 1.1 would turn ``yes``, ``no``, ``on`` and ``off`` into booleans, so a typed ``sex: yes``
came back as ``True`` in the error and a medicine called ``No`` vanished into ``False``.
Fields that take a boolean still accept ``yes`` and ``no`` (pydantic reads them).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ketaclinic.errors import UserInputError

__all__ = ["SafeLoaderYaml12Booleans", "read_mapping"]


class SafeLoaderYaml12Booleans(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose only booleans are true/false (any case)."""


SafeLoaderYaml12Booleans.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SafeLoaderYaml12Booleans.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def read_mapping(path: str, what: str, hint: str = "") -> dict[str, Any]:
    """The mapping held by a YAML or JSON file (by suffix), or a one-line UserInputError."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise UserInputError(f"{what} file {path!r} cannot be read: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserInputError(
            f"{what} file {path!r} is not UTF-8 text (byte 0x{raw[error.start]:02x} at "
            f"position {error.start}): save it as UTF-8"
        ) from None
    is_json = file.suffix.lower() == ".json"
    try:
        data: Any = (
            json.loads(text) if is_json else yaml.load(text, Loader=SafeLoaderYaml12Booleans)
        )
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UserInputError(
            f"{what} file {path!r} is not valid {'JSON' if is_json else 'YAML'}: {first}"
        ) from None
    if not isinstance(data, dict):
        raise UserInputError(
            f"{what} file {path!r} must hold a mapping of fields{hint}, got {type(data).__name__}"
        )
    return data
