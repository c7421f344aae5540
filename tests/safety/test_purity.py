"""safety and protocols read no clock and open no files at call time (DESIGN.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "ketaclinic"
FORBIDDEN = re.compile(r"\b(datetime\.now|date\.today|time\.time|open\(|Path\(|os\.environ)")


@pytest.mark.parametrize("package", ["safety", "protocols"])
def test_the_package_reads_no_clock_and_opens_no_files(package: str) -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{number}"
        for path in sorted((SRC / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if FORBIDDEN.search(line) and not line.lstrip().startswith((">>>", "..."))
    ]
    assert not offenders


def test_data_files_are_loaded_once() -> None:
    from ketaclinic.protocols import protocols
    from ketaclinic.safety import drug_library

    assert drug_library() is drug_library()
    assert protocols() is protocols()
