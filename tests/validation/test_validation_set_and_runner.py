"""The validation set loads strictly, the runner scores each pair by its fixed rule, and
docs/validation.md is what the runner produces today."""

from __future__ import annotations

import subprocess
import sys
from copy import deepcopy
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from ketaclinic.errors import DataFileError, UnknownNameError
from ketaclinic.pharmacology import MODELS, Route
from ketaclinic.pharmacology._structure import CHILD_BELOW_AGE_YEARS
from ketaclinic.validation import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    explanations,
    load_observations,
    parse_observations,
    render_markdown,
    run_validation,
)
from ketaclinic.validation._report import explanation_for

ROOT = Path(__file__).resolve().parents[2]


def _raw() -> dict[str, Any]:
    text = (
        resources.files("ketaclinic.validation")
        .joinpath("data/observations.yaml")
        .read_text(encoding="utf-8")
    )
    return yaml.safe_load(text)


def _one(**changes: Any) -> dict[str, Any]:
    data = _raw()
    entry = deepcopy(data["observations"][0])
    entry.update(changes)
    return {"version": "t", "observations": [entry]}


@pytest.fixture(scope="module")
def full_run() -> Any:
    return run_validation()


def test_docs_validation_md_is_what_the_runner_gives_today(full_run: Any) -> None:
    current = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    assert current == render_markdown(full_run), (
        "docs/validation.md is stale: run .venv/bin/python scripts/validation_docs.py"
    )


def test_the_regenerate_script_checks_the_same_file() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "validation_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_every_pair_outside_its_spread_is_explained(full_run: Any) -> None:
    unexplained = [
        f"{p.observation.id} / {p.model_id}" for p in full_run.failures() if not explanation_for(p)
    ]
    assert not unexplained, f"explain these in validation/data/explanations.yaml: {unexplained}"


def test_the_docs_say_which_studies_were_used_for_fitting_and_which_were_held_out(
    full_run: Any,
) -> None:
    text = render_markdown(full_run)
    section = text.split("## Studies used for fitting and held out", 1)[1].split("\n## ", 1)[0]
    used, held = section.split("Held out from every model", 1)
    studies: dict[str, set[str]] = {}
    for obs in load_observations().observations:
        studies.setdefault(obs.id.split("-", 1)[0], set()).update(obs.fitted_by)
    for study, models in studies.items():
        if models:
            line = next(x for x in used.splitlines() if x.startswith(f"- {study}: "))
            assert all(f"`{m}`" in line for m in models), line
            assert f"- {study} (" not in held
        else:
            assert f"- {study} (" in held
            assert f"- {study}: " not in used


def test_explanations_name_only_observations_of_the_set() -> None:
    ids = {o.id for o in load_observations().observations}
    assert set(explanations()) <= ids
    models = {m for entry in explanations().values() for m in entry}
    assert models <= {*MODELS, "*"}


def test_the_set_has_at_least_30_observations_with_sources_and_rules() -> None:
    data = load_observations()
    assert len(data.observations) >= 30
    for obs in data.observations:
        assert obs.citation
        assert obs.pmid or obs.doi or obs.where
        low, high = obs.accepted
        assert 0 <= low <= high


@pytest.mark.parametrize(
    ("reported", "rule", "interval"),
    [
        ({"mean": 10, "sd": 2}, "within_2sd", (6.0, 14.0)),
        ({"mean": 10, "sd": 8}, "within_2sd", (0.0, 26.0)),
        ({"geometric_mean": 20, "geometric_sd": 2}, "within_2gsd", (5.0, 80.0)),
        ({"median": 45, "range": [15, 60]}, "within_range", (15.0, 60.0)),
        ({"mean": 273, "ci95": [259, 287]}, "within_ci95", (259.0, 287.0)),
        ({"value": 0.45, "ci90": [0.33, 0.58]}, "within_ci90", (0.33, 0.58)),
        ({"value": 100}, "within_30_percent", (70.0, 130.0)),
    ],
)
def test_each_pass_rule_accepts_its_interval(
    reported: dict[str, Any], rule: str, interval: tuple[float, float]
) -> None:
    (obs,) = parse_observations(_one(reported=reported, pass_rule=rule)).observations
    assert obs.accepted == pytest.approx(interval)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"metric": "cmax_ng_per_mL"}, "metric 'cmax_ng_per_mL' is unknown"),
        ({"pass_rule": "within_3sd"}, "pass_rule 'within_3sd' is unknown"),
        ({"route": "intrathecal"}, "route 'intrathecal' is unknown"),
        ({"reported": {"mean": 10}, "pass_rule": "within_2sd"}, "reported sd"),
        ({"metric": "conc_ng_per_ml_at_min"}, "needs t_min"),
        ({"regimen": []}, "regimen must be"),
        ({"window_min": [60, 10]}, "window_min low 60 is above high 10"),
    ],
)
def test_a_malformed_observation_is_refused_by_its_id(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(DataFileError, match=message) as info:
        parse_observations(_one(**changes))
    assert "simons2022-iv-s-ketamine-20mg-peak-after-50mg-film" in str(info.value)


def test_repeated_ids_are_refused() -> None:
    data = _one()
    data["observations"] *= 2
    with pytest.raises(DataFileError, match="ids repeat"):
        parse_observations(data)


def test_models_without_the_route_or_norketamine_are_not_applicable_not_failures(
    full_run: Any,
) -> None:
    for p in full_run.predictions:
        model = MODELS[p.model_id]
        lacks_route = Route(p.observation.route) not in model.routes
        if lacks_route or (p.observation.norketamine and not model.has_metabolite):
            assert p.status == NOT_APPLICABLE
        else:
            assert p.status in (PASS, FAIL, NOT_APPLICABLE)
        if p.ran:
            low, high = p.observation.accepted
            assert (p.status == PASS) == (low <= p.predicted <= high)


def test_a_route_bioavailability_is_the_declared_f_of_its_single_path(full_run: Any) -> None:
    """Dose-normalised AUC(0-inf) by a one-depot route over IV equals the path's F: the
    runner's AUC to 60 days is complete and the F metric is computed as defined."""
    checked = 0
    for p in full_run.predictions:
        obs = p.observation
        if obs.metric != "bioavailability_fraction" or not p.ran:
            continue
        spec = MODELS[p.model_id].routes[Route(obs.route)]
        if len(spec.paths) == 1 and not spec.paths[0].into_liver:
            path = spec.paths[0]
            f = path.bioavailability
            if obs.age_years < CHILD_BELOW_AGE_YEARS and path.child_bioavailability is not None:
                f = path.child_bioavailability
            assert p.predicted == pytest.approx(f, rel=1e-6)
            checked += 1
    assert checked >= 10


def test_the_filters_keep_only_the_model_and_route_asked_for() -> None:
    run = run_validation(model="Kamp", route="oral")
    assert run.predictions
    assert {p.model_id for p in run.predictions} == {"kamp"}
    assert {p.observation.route for p in run.predictions} == {"oral"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"model": "kampp"}, "unknown model 'kampp'"), ({"route": "epidural"}, "route 'epidural'")],
)
def test_unknown_filters_name_what_is_accepted(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(UnknownNameError, match=message) as info:
        run_validation(**kwargs)
    assert "accepted" in str(info.value)


def test_pairs_outside_a_models_validated_ranges_are_marked_and_counted_apart(
    full_run: Any,
) -> None:
    """An adult model on children (or a paediatric model on adults) is scored and shown as
    extrapolated; the in-population tally counts only the pairs inside the model's ranges,
    the ranges the planner chooses a model by."""
    inside_pairs = []
    for p in full_run.predictions:
        if not p.ran:
            continue
        model, obs = MODELS[p.model_id], p.observation
        age_lo, age_hi = model.age_range_years
        w_lo, w_hi = model.weight_range_kg
        inside = age_lo <= obs.age_years <= age_hi and w_lo <= obs.weight_kg <= w_hi
        assert p.extrapolated is (not inside), (obs.id, p.model_id, p.extrapolation)
        if inside:
            inside_pairs.append(p)
    by_pair = {(p.observation.id, p.model_id): p for p in full_run.predictions}
    child = by_pair[("malinovsky1996-rectal-9mgkg-children-tmax", "kamp")]
    assert child.extrapolated
    assert "age 5.5 years outside 18-80 years" in child.extrapolation
    assert by_pair[("chong2006-oral-ketamine-tmax", "herd")].extrapolated
    assert not by_pair[("chong2006-oral-ketamine-tmax", "kamp")].extrapolated
    overall = full_run.overall
    assert overall.in_population_run == len(inside_pairs) < overall.run
    assert overall.in_population_passed == sum(p.passed for p in inside_pairs)
    text = render_markdown(full_run)
    assert "| `kamp` | " in text
    assert "pass (fitted, extrapolated)" in text


def test_a_ratio_on_a_tie_prints_the_same_whatever_the_last_bit() -> None:
    """0.28 / 0.32 = 0.875: summation order moves the last bit, and the page must not flip
    between 0.87 and 0.88 with it (docs/validation.md is compared byte for byte)."""
    from ketaclinic.validation._report import _ratio

    assert {_ratio(x) for x in (0.875, 0.8749999999999999, 0.8750000000000001)} == {"0.88"}
