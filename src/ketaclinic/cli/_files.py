"""Reading the YAML/JSON files people give the CLI: every problem is a one-line user error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ketaclinic.errors import UserInputError

__all__ = ["read_mapping"]


def read_mapping(path: str, what: str, hint: str = "") -> dict[str, Any]:
    """The mapping held by a YAML or JSON file (by suffix), or a one-line UserInputError."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise UserInputError(f"{what} file {path!r} cannot be read: {error.strerror}") from None
    try:
        data: Any = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UserInputError(
            f"{what} file {path!r} is not valid {'JSON' if file.suffix == '.json' else 'YAML'}"
            f": {first}"
        ) from None
    if not isinstance(data, dict):
        raise UserInputError(
            f"{what} file {path!r} must hold a mapping of fields{hint}, got {type(data).__name__}"
        )
    return data
