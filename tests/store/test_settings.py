"""Settings: defaults that need no configuration, and one-line refusals of bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketaclinic.config import SQLITE_FILE_NAME, load_settings
from ketaclinic.errors import ConfigurationError


def test_defaults_need_no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DATA_DIR", "DATABASE_URL", "SQLITE_BUSY_TIMEOUT_MS", "UPGRADE_ON_START"):
        monkeypatch.delenv(f"KETACLINIC_{name}", raising=False)
    settings = load_settings()
    assert (tmp_path / "data").is_dir()
    assert settings.is_sqlite
    assert settings.sqlalchemy_url.database == str(Path("data") / SQLITE_FILE_NAME)
    assert settings.sqlite_busy_timeout_ms == 10_000
    assert settings.upgrade_on_start is True


def test_it_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(tmp_path / "clinic"))
    monkeypatch.setenv("KETACLINIC_DATABASE_URL", "postgresql://kc@db.example:5433/clinic")
    monkeypatch.setenv("KETACLINIC_UPGRADE_ON_START", "no")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "clinic"
    assert settings.sqlalchemy_url.drivername == "postgresql+psycopg"
    assert settings.sqlalchemy_url.port == 5433
    assert not settings.is_sqlite
    assert settings.upgrade_on_start is False


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("SQLITE_BUSY_TIMEOUT_MS", "soon", "milliseconds from 100 to 600000"),
        ("SQLITE_BUSY_TIMEOUT_MS", "5", "milliseconds from 100 to 600000"),
        ("DATABASE_URL", "mysql://root@localhost/clinic", "postgresql://"),
        ("DATABASE_URL", "sqlite:///:memory:", "sqlite:///PATH"),
        ("DATABASE_URL", "postgresql+asyncpg://u@h/db", "driver psycopg"),
        ("DATABASE_URL", "not a url", "sqlite:///PATH"),
        ("PG_APP_ROLE", "App Role; DROP", "lower-case SQL identifier"),
        ("PG_POOL_SIZE", "0", "from 1 to 100"),
        ("UPGRADE_ON_START", "perhaps", "true or false"),
    ],
)
def test_it_refuses_a_bad_value_naming_variable_value_and_what_is_accepted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, value: str, accepted: str
) -> None:
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(f"KETACLINIC_{variable}", value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"KETACLINIC_{variable}={value!r} is not accepted: ")
    assert accepted in message
    assert "\n" not in message


def test_it_refuses_a_data_dir_it_cannot_create(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigurationError, match=r"KETACLINIC_DATA_DIR=.*cannot create"):
        load_settings(data_dir=blocker / "data")


def test_the_settings_are_immutable(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    with pytest.raises(ValueError, match="frozen"):
        settings.sqlite_busy_timeout_ms = 1  # type: ignore[misc]
