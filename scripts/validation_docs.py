"""Regenerate docs/validation.md from `ketaclinic validate` (tests/validation fails when stale).

Usage: .venv/bin/python scripts/validation_docs.py          # write the file
       .venv/bin/python scripts/validation_docs.py --check  # exit 1 when it is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

from ketaclinic.validation import render_markdown, run_validation

DOC = Path(__file__).resolve().parents[1] / "docs" / "validation.md"


def main(argv: list[str]) -> int:
    text = render_markdown(run_validation())
    if "--check" in argv:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != text:
            print(f"{DOC} is stale: run python scripts/validation_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
