"""The CLI imports only what the command asked for needs; every command is still known."""

from __future__ import annotations

import subprocess
import sys

import typer.main

from ketaclinic.cli import COMMAND_MODULES, app


def test_the_command_map_names_exactly_the_registered_commands() -> None:
    group = typer.main.get_command(app)
    assert set(getattr(group, "commands", {})) == set(COMMAND_MODULES)


def _modules_after(*args: str) -> set[str]:
    code = (
        "import io, sys, contextlib\n"
        "from ketaclinic.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({list(args)!r})\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code == 0, exit.code\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_simulate_loads_neither_protocols_safety_yaml_numba_nor_scipy() -> None:
    loaded = _modules_after(
        "simulate", "--model", "domino", "--weight-kg", "70", "--json", "--dose", "iv-bolus 5 mg"
    )
    assert "ketaclinic.pharmacology._simulate" in loaded
    heavy = {"ketaclinic.protocols", "ketaclinic.safety", "yaml", "numba", "scipy", "rich"}
    heavy |= {"ketaclinic.pharmacology._population", "ketaclinic.compute", "matplotlib"}
    # the vectorised extrema serve populations and the rare expm fallback, not one patient
    heavy |= {"ketaclinic.pharmacology._extrema"}
    assert not heavy & loaded


def test_population_loads_the_population_engine_but_not_protocols_or_dask() -> None:
    loaded = _modules_after(
        "population", "--model", "kamp", "--dose", "iv-bolus 5 mg", "--n", "50", "--json"
    )
    assert "ketaclinic.pharmacology._population" in loaded
    assert not {"ketaclinic.protocols", "ketaclinic.safety", "dask", "numba"} & loaded
