"""Every setting is documented in the config module and in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketaclinic import config
from ketaclinic.config import ENV_PREFIX, Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field: str) -> None:
    variable = f"{ENV_PREFIX}{field.upper()}"
    assert variable in (config.__doc__ or ""), f"{variable} missing from config.py's docstring"
    assert f"`{variable}`" in README, f"{variable} missing from README.md"
    info = Settings.model_fields[field]
    assert info.description
    assert isinstance(info.json_schema_extra, dict)
    assert info.json_schema_extra.get("accepted")
