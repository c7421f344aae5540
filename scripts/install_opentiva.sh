#!/usr/bin/env bash
# Usage: scripts/install_opentiva.sh PYTHON
# Installs opentiva 1.1.2 (an independent ketamine PK implementation used as a test oracle).
# Its sdist ships a Cython-generated C file too old for Python 3.11: regenerate it, then build
# without build isolation. Skips quietly when it is already installed.
set -euo pipefail
PY="${1:?usage: $0 PYTHON}"
if "$PY" -c "import opentiva.pkpd" 2>/dev/null; then exit 0; fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$PY" -m pip install --quiet numpy scipy cython setuptools wheel
"$PY" -m pip download --quiet --no-deps --no-binary :all: --dest "$WORK" opentiva==1.1.2
tar -xzf "$WORK/opentiva-1.1.2.tar.gz" -C "$WORK"
SRC="$WORK/opentiva-1.1.2"
rm -f "$SRC/opentiva/pkpd.c"
"$PY" -m cython -3 "$SRC/opentiva/pkpd.pyx" -o "$SRC/opentiva/pkpd.c"
"$PY" -m pip install --quiet --no-build-isolation --no-deps --no-cache-dir "$SRC"
"$PY" -c "import opentiva.pkpd, opentiva.ketamine; print('opentiva OK')"
