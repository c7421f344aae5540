"""docs/architecture.md, the import-linter contracts and the package docstring agree."""

from __future__ import annotations

import re
import tomllib
from importlib import util
from pathlib import Path

import ketaclinic

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text()


def _doc_layers() -> list[set[str]]:
    """The packages of each row of the layer table, top to bottom."""
    table = DOC.split("## The layers, top to bottom", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "`" in line]
    return [set(re.findall(r"`(\w+)`", row.split("|")[2])) for row in rows]


def _contract_layers() -> list[set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    layered = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    assert len(layered) == 1
    return [set(re.split(r"\s*[|:]\s*", layer.strip("()"))) for layer in layered[0]["layers"]]


def _exists(package: str) -> bool:
    """A regular package (a folder of data files alone is not a layer)."""
    spec = util.find_spec(f"ketaclinic.{package}")
    return spec is not None and spec.origin is not None


def test_the_contract_has_every_layer_of_the_document_that_exists() -> None:
    documented = [{p for p in row if _exists(p)} for row in _doc_layers()]
    assert [row for row in documented if row] == _contract_layers()


def test_the_contract_is_exhaustive_and_not_optional() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (layered,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    assert layered["exhaustive"] is True
    assert not any(layer.startswith("(") for layer in layered["layers"])


def test_the_package_docstring_names_the_layers_in_order() -> None:
    doc = ketaclinic.__doc__ or ""
    flat = " ".join(doc.split())
    names = [p for row in _doc_layers() for p in sorted(row)]
    positions = {name: flat.find(name) for name in names}
    assert all(pos >= 0 for pos in positions.values()), positions
    ordered = [min(positions[p] for p in row) for row in _doc_layers()]
    assert ordered == sorted(ordered)


def test_the_pure_packages_never_import_io_or_interface_libraries() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    forbidden = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "forbidden"]
    pure = [c for c in forbidden if "ketaclinic.pharmacology" in c["source_modules"]]
    assert pure, "no contract keeps the pure packages free of I/O"
    for module in ("sqlalchemy", "fastapi", "starlette", "httpx"):
        assert module in pure[0]["forbidden_modules"]


def test_no_module_in_src_is_over_600_lines() -> None:
    """Modules are split by concept before they grow past 600 lines (issue 8, item 5)."""
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "src").rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 600
    }
    assert not long, long
