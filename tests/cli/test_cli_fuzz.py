"""Every CLI command driven with generated arguments and files (issue 9 item 15).

Whatever it is given, a command exits 0 (done), 2 (bad input: exactly one line on stderr,
starting ``error:``) or 3 (blocked by the safety check), never shows a traceback or a
RuntimeWarning, and finishes in bounded time: the generated values mix valid ones from small
ranges (so that real work is done, quickly) with junk, out-of-range and hostile ones
(``nan``, ``1e309``, ``yes``, empty, unknown names, broken YAML, missing files). The commands
run in-process through the console script's error boundary (``run_app``).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaclinic.cli import app
from ketaclinic.cli._app import run_app
from ketaclinic.pharmacology import MODELS, warm_up
from ketaclinic.protocols import protocols

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
SECONDS_PER_RUN = 30.0  # generous for a loaded 2-core machine; typical runs take < 1 s

JUNK = st.sampled_from(
    ["", " ", "abc", "-1", "0", "1e309", "-1e309", "nan", "NaN", "inf", "yes", "True", "∞",
     "70 kg", "1,,2", "--json", "{}", "[", "null", "é", "10" * 40]
)  # fmt: skip
NUMBER = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    JUNK,
)


def _small(low: float, high: float) -> st.SearchStrategy[str]:
    return st.floats(low, high).map(lambda v: f"{v:g}")


DURATION = st.one_of(
    st.sampled_from(["30 min", "1h", "2 h", "24h", "2d", "365d", "100d", "0 min", "-1h"]),
    st.builds(lambda v, u: f"{v}{u}", NUMBER, st.sampled_from(["min", " h", "d", "s", ""])),
)
STEP = st.sampled_from(["1min", "10min", "1h", "100d", "0.0001min", "0 min", "5 s", "soon"])
ROUTE = st.sampled_from(
    ["iv-bolus", "iv-infusion", "oral", "intranasal", "im", "sc-infusion", "sublingual",
     "rectal", "intrathecal", "epidural", "iv", "nasal", "junk", ""]
)  # fmt: skip
UNIT = st.sampled_from(["mg", "mg/kg", "mg/h", "mg/kg/h", "mg/24h", "mcg", "g", "ml", ""])
TAIL = st.sampled_from(
    ["", " over 40 min", " for 2 h", " for 10000000 d", " every 8 h x 3", " every 1 min x 1001",
     " at 0 min", " at 600 min", " at 10000000 d", " over 0 min", " x"]
)  # fmt: skip
DOSE = st.one_of(
    st.builds(
        lambda r, a, u, t: f"{r} {a} {u}{t}".strip(),
        ROUTE,
        st.one_of(_small(0.05, 60.0), NUMBER),
        UNIT,
        TAIL,
    ),
    st.sampled_from(["iv-infusion 0.5 mg/kg over 40 min at 0 min", "intranasal 56 mg at 0 min"]),
)
MODEL = st.one_of(st.sampled_from(sorted(MODELS)), JUNK)
PROTOCOL = st.one_of(st.sampled_from(sorted(protocols())), JUNK)
YAML_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBER, st.floats(allow_nan=True), _small(1, 200)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "min", "cv"]), inner)
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module", autouse=True)
def _compiled_kernels() -> None:
    """Compile (or load) the population kernels first: a fresh checkout compiles them once,
    which is not a command's running time (``plan`` runs 10 000 virtual patients)."""
    warm_up()


def _run(args: list[str]) -> tuple[int, str, str, float]:
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with (
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        warnings.simplefilter("always")
        code = run_app(app, args)
    elapsed = time.perf_counter() - start
    runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not runtime, (args, runtime)
    return code, out.getvalue(), err.getvalue(), elapsed


def _check(args: list[str]) -> int:
    code, out, err, elapsed = _run(args)
    assert code in (0, 2, 3), (args, code, err[-3000:])
    assert "Traceback" not in out + err, (args, err[-3000:])
    assert elapsed < SECONDS_PER_RUN, (args, elapsed)
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1, (args, err)
        assert lines[0].startswith("error: "), (args, err)
    return code


def _write(folder: Path, name: str, content: Any) -> str:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content), "utf-8")
    return str(path)


def _mutated(example: str, changes: dict[str, Any]) -> dict[str, Any]:
    data = yaml.safe_load((EXAMPLES / example).read_text(encoding="utf-8"))
    for key, value in changes.items():
        if key.startswith("covariates."):
            data.setdefault("covariates", {})[key.split(".", 1)[1]] = value
        elif value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def _with_files(build: Callable[[Path], list[str]]) -> int:
    with tempfile.TemporaryDirectory() as folder:
        return _check(build(Path(folder)))


def fuzz(examples: int) -> settings:
    """Deterministic (the same examples every run), no deadline per example (the whole run is
    bounded by the example counts and ``SECONDS_PER_RUN``)."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )


@fuzz(40)
@given(
    model=MODEL,
    weight=st.one_of(_small(2, 300), NUMBER),
    doses=st.lists(DOSE, min_size=0, max_size=3),
    until=st.one_of(st.none(), DURATION),
    step=st.one_of(st.none(), STEP),
    extra=st.lists(
        st.sampled_from(
            [
                ["--json"],
                ["--at", "10,40,60"],
                ["--at", "x"],
                ["--threshold", "100,250"],
                ["--threshold", "-1"],
                ["--child-pugh", "B"],
                ["--child-pugh", "E"],
                ["--sex", "female"],
                ["--sex", "yes"],
                ["--age-years", "8"],
                ["--age-years", "nan"],
            ]
        ),
        max_size=3,
    ),
)
def test_simulate_takes_any_arguments(
    model: str,
    weight: str,
    doses: list[str],
    until: str | None,
    step: str | None,
    extra: list[list[str]],
) -> None:
    args = ["simulate", "--model", model, "--weight-kg", weight]
    for dose in doses:
        args += ["--dose", dose]
    args += ["--until", until] if until is not None else []
    args += ["--step", step] if step is not None else []
    _check(args + [a for group in extra for a in group])


@fuzz(25)
@given(
    model=MODEL,
    dose=DOSE,
    n=st.one_of(st.integers(1, 300).map(str), st.sampled_from(["0", "-5", "10**9", "1e9"])),
    until=st.one_of(st.none(), DURATION),
    step=st.one_of(st.none(), STEP),
    population=st.one_of(
        st.sampled_from(["adults", "children", "hepatic-mix", "elderly", "missing.yaml"]),
        st.dictionaries(
            st.sampled_from(
                [
                    "weight_kg",
                    "age_years",
                    "height_cm",
                    "female_fraction",
                    "child_pugh",
                    "child_pug",
                    "source",
                    "sex",
                ]
            ),
            YAML_VALUE,
            max_size=3,
        ),
        st.just(b"\xff\xfe not utf-8"),
        st.just("weight_kg: [unclosed\n"),
    ),
    extra=st.lists(
        st.sampled_from(
            [
                ["--json"],
                ["--threshold", "100,250"],
                ["--threshold", "0"],
                ["--variability", "none"],
                ["--variability", "CL=x"],
                ["--effect-site"],
                ["--scheduler", "junk"],
                ["--local-workers", "0"],
                ["--local-workers", "1000"],
                ["--chunk-size", "0"],
                ["--seed", "-1"],
            ]
        ),
        max_size=2,
    ),
)
def test_population_takes_any_arguments_and_files(
    model: str,
    dose: str,
    n: str,
    until: str | None,
    step: str | None,
    population: Any,
    extra: list[list[str]],
) -> None:
    def build(folder: Path) -> list[str]:
        pop = population
        if not isinstance(pop, str) or pop.endswith(".txt"):
            pop = _write(folder, "population.yaml", population)
        args = ["population", "--model", model, "--dose", dose, "--n", n, "--population", pop]
        args += ["--until", until] if until is not None else []
        args += ["--step", step] if step is not None else []
        return args + [a for group in extra for a in group]

    _with_files(build)


PATIENT_CHANGES = st.dictionaries(
    st.sampled_from(
        ["covariates.weight_kg", "covariates.age_years", "covariates.sex", "covariates.height_cm",
         "covariates.child_pugh", "diagnoses", "medications", "vitals", "weight_measured_on",
         "unknown_key"]
    ),
    YAML_VALUE,
    max_size=2,
)  # fmt: skip
ORDER_CHANGES = st.dictionaries(
    st.sampled_from(["doses", "route", "start", "protocol", "overrides", "previous_sessions"]),
    st.one_of(YAML_VALUE, st.lists(DOSE, max_size=2)),
    max_size=2,
)


@fuzz(6)
@given(
    protocol=PROTOCOL,
    changes=PATIENT_CHANGES,
    start=st.sampled_from(["2026-12-01", "9999-12-31", "0001-01-01", "junk", "2026-13-01"]),
)
def test_plan_takes_any_patient_file(protocol: str, changes: dict[str, Any], start: str) -> None:
    def build(folder: Path) -> list[str]:
        patient = _write(folder, "p.yaml", _mutated("depression-iv.patient.yaml", changes))
        return ["plan", "--protocol", protocol, "--patient", patient, "--start", start]

    _with_files(build)


@fuzz(20)
@given(
    example=st.sampled_from(sorted(p.stem.split(".")[0] for p in EXAMPLES.glob("*.order.yaml"))),
    patient_changes=PATIENT_CHANGES,
    order_changes=ORDER_CHANGES,
    as_of=st.sampled_from(["2026-12-01T09:00:00Z", "2026-12-01", "junk", "9999-12-31T00:00:00Z"]),
    raw=st.one_of(st.none(), st.just(b"\xff\xfe"), st.just("doses: [\n"), st.just("- a\n- b\n")),
)
def test_check_takes_any_patient_and_order_file(
    example: str,
    patient_changes: dict[str, Any],
    order_changes: dict[str, Any],
    as_of: str,
    raw: Any,
) -> None:
    def build(folder: Path) -> list[str]:
        patient = _write(folder, "p.yaml", _mutated(f"{example}.patient.yaml", patient_changes))
        order_data = _mutated(f"{example}.order.yaml", order_changes) if raw is None else raw
        order = _write(folder, "o.yaml", order_data)
        return ["check", "--patient", patient, "--order", order, "--as-of", as_of]

    _with_files(build)


@fuzz(3)
@given(target=st.sampled_from(["demo.png", "demo.html", "demo.jpg", "", "missing/deeper/x.png"]))
def test_demo_takes_any_output_path(target: str) -> None:
    _with_files(lambda folder: ["demo", "--out", str(folder / target)])


@fuzz(12)
@given(
    args=st.one_of(
        st.sampled_from(
            [
                ["models"],
                ["models", "--json"],
                ["models", "--junk"],
                ["protocols"],
                ["protocols", "--json"],
                ["protocols", "show"],
                ["protocols", "show", "--json"],
            ]
        ),
        st.builds(lambda p: ["protocols", "show", p], PROTOCOL),
        st.builds(lambda p: ["protocols", "show", p, "--json"], PROTOCOL),
    )
)
def test_models_and_protocols_take_any_arguments(args: list[str]) -> None:
    _check(args)


@fuzz(30)
@given(
    instrument=st.one_of(
        st.sampled_from(["phq-9", "gad-7", "pain-nrs", "bpi-sf", "peg", "cadss-6", "moaa-s"]),
        JUNK,
    ),
    answers=st.one_of(
        st.lists(st.integers(-2, 12).map(str), max_size=25).map(",".join),
        st.lists(NUMBER, max_size=10).map(",".join),
    ),
    as_json=st.booleans(),
)
def test_score_takes_any_answers(instrument: str, answers: str, as_json: bool) -> None:
    _check(["score", instrument, "--answers", answers, *(["--json"] if as_json else [])])


@fuzz(30)
@given(
    drug=st.one_of(
        st.sampled_from(["oxycodone", "morphine", "fentanyl transdermal", "methadone", "codeine"]),
        JUNK,
    ),
    dose=st.one_of(
        st.builds(
            lambda v, u: f"{v} {u}", NUMBER, st.sampled_from(["mg/day", "mcg/h", "mg", "g/day"])
        ),
        JUNK,
    ),
    table=st.sampled_from(["cdc-2022", "cdc-2016", "who"]),
)
def test_mme_takes_any_drug_and_dose(drug: str, dose: str, table: str) -> None:
    _check(["mme", drug, dose, "--table", table])


@fuzz(12)
@given(
    protocol=PROTOCOL,
    content=st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "course_start": st.one_of(st.just("2026-12-01"), YAML_VALUE),
                "session_dates": st.one_of(
                    st.lists(st.sampled_from(["2026-12-01", "2026-12-03", "x"]), max_size=6),
                    YAML_VALUE,
                ),
                "assessments": st.lists(
                    st.fixed_dictionaries(
                        {
                            "instrument": st.sampled_from(["pain-nrs", "phq-9", "junk"]),
                            "taken_at": st.sampled_from(["2026-11-20", "2026-12-11", "x"]),
                            "score": st.one_of(st.integers(-1, 30), YAML_VALUE),
                        }
                    ),
                    max_size=4,
                ),
            },
        ),
        st.just(b"\xff\xfe"),
        st.just("assessments: [\n"),
    ),
    as_of=st.sampled_from(["2026-12-20", "junk", "9999-12-31"]),
)
def test_trial_takes_any_assessment_file(protocol: str, content: Any, as_of: str) -> None:
    def build(folder: Path) -> list[str]:
        path = _write(folder, "course.yaml", content)
        return [
            "trial",
            "evaluate",
            "--protocol",
            protocol,
            "--assessments",
            path,
            "--as-of",
            as_of,
        ]

    _with_files(build)
