"""``ketaclinic score``, ``ketaclinic mme`` and ``ketaclinic trial evaluate`` through the real
entry point: exit codes 0/2, the JSON contract and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ketaclinic.cli._app import EXIT_USER_ERROR

# the `cli` fixture (tests/cli/conftest.py) returns a Run: code, out, err, json()
Cli = Callable[..., Any]

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
DEPRESSION = str(EXAMPLES / "depression-iv.trial.yaml")


def _one_line_error(run: Any, text: str) -> None:
    assert run.code == EXIT_USER_ERROR, run.out
    assert text in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert "Traceback" not in run.err


# --- score ----------------------------------------------------------------------------------


def test_score_prints_total_band_and_the_item9_alert(cli: Cli) -> None:
    run = cli("score", "phq-9", "--answers", "1,2,0,1,1,1,1,1,2")
    assert run.code == 0, run.err
    assert "PHQ-9 total 10 points (0-27): moderate" in run.out
    assert "ALERT" in run.out
    assert "same-day" in run.out


def test_score_json_has_total_band_alerts_and_version(cli: Cli) -> None:
    data = cli("score", "PHQ9", "--answers", "3,3,3,3,3,3,3,3,0", "--json").json()
    assert data["instrument"] == "phq-9"
    assert data["total_points"] == 24
    assert data["band"] == "severe"
    assert data["alerts"] == []
    assert data["instrument_version"] == "1"


def test_score_of_the_bpi_prints_both_sub_scales(cli: Cli) -> None:
    run = cli("score", "bpi-sf", "--answers", "7,3,5,6,4,5,6,7,3,8,6", "--json")
    scores = {s["id"]: s["value_points"] for s in run.json()["scores"]}
    assert scores == pytest.approx({"severity": 5.25, "interference": 39 / 7})


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["phq-9", "--answers", "1,2,0"], "PHQ-9 needs 9 answers"),
        (["phq-9", "--answers", "1,2,0,1,1,1,1,1,4"], "PHQ-9 item 9 answer 4 is outside"),
        (["phq-9", "--answers", "1,2,x,1,1,1,1,1,0"], "--answers item 'x' is not a whole number"),
        (["hads", "--answers", "1"], "unknown instrument 'hads'"),
    ],
)
def test_score_refuses_bad_answers_with_exit_2(cli: Cli, args: list[str], text: str) -> None:
    _one_line_error(cli("score", *args), text)


# --- mme ------------------------------------------------------------------------------------


def test_mme_of_oxycodone(cli: Cli) -> None:
    run = cli("mme", "oxycodone", "60 mg/day")
    assert run.code == 0, run.err
    assert "= 90 MME" in run.out
    assert "cdc-2022 version 2022-11" in run.out
    assert "never for converting one opioid to another" in run.out


def test_mme_json_of_a_fentanyl_patch_stores_factor_and_table(cli: Cli) -> None:
    data = cli("mme", "fentanyl transdermal", "25 mcg/h", "--json").json()
    assert data["mme_mg_per_day"] == 60
    assert data["factor"] == 2.4
    assert (data["table"], data["table_version"]) == ("cdc-2022", "2022-11")
    assert "caution" in data


def test_mme_with_the_2016_table_uses_the_methadone_tiers(cli: Cli) -> None:
    data = cli("mme", "methadone", "45 mg/day", "--table", "cdc-2016", "--json").json()
    assert (data["factor"], data["mme_mg_per_day"], data["tier"]) == (10, 450, "41-60 mg/day")


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["buprenorphine", "8 mg/day"], "is not converted to MME by cdc-2022"),
        (["oxycodone", "60 mg"], "is not understood"),
        (["oxycodone", "25 mcg/h"], "converted from a dose in mg/day"),
        (["morphine", "30 mg/day", "--table", "who"], "unknown MME table 'who'"),
        (["methadone", "90 mg/day", "--table", "cdc-2016"], "only up to 80 mg/day"),
    ],
)
def test_mme_refuses_with_exit_2(cli: Cli, args: list[str], text: str) -> None:
    _one_line_error(cli("mme", *args), text)


# --- trial evaluate --------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(
        json.dumps(data, default=str) if name.endswith(".json") else yaml.safe_dump(data)
    )
    return str(path)


def test_trial_evaluate_recommends_continue_for_a_responder(cli: Cli) -> None:
    run = cli(
        "trial",
        "evaluate",
        "--protocol",
        "depression-iv",
        "--assessments",
        DEPRESSION,
        "--as-of",
        "2026-12-14",
    )
    assert run.code == 0, run.err
    assert "CONTINUE" in run.out
    assert "16 -> 7 points" in run.out


def test_trial_evaluate_json_has_the_numbers(cli: Cli) -> None:
    run = cli(
        "trial",
        "evaluate",
        "--protocol",
        "depression-iv",
        "--assessments",
        DEPRESSION,
        "--as-of",
        "2026-12-14",
        "--json",
    )
    data = run.json()
    assert data["protocol"] == "depression-iv"
    assert data["recommendation"] == "continue"
    assert (data["baseline_points"], data["latest_points"]) == (16, 7)
    assert data["drop_percent"] == pytest.approx(56.25)
    assert data["decision_point"].startswith("2026-12-12")
    assert data["level"] == "response"


def test_trial_evaluate_before_the_decision_point_is_not_yet_due(cli: Cli) -> None:
    run = cli(
        "trial",
        "evaluate",
        "--protocol",
        "depression-iv",
        "--assessments",
        DEPRESSION,
        "--as-of",
        "2026-12-09",
        "--json",
    )
    assert run.json()["recommendation"] == "not_yet_due"


def test_trial_evaluate_stops_a_non_responder_from_a_json_file(cli: Cli, tmp_path: Path) -> None:
    course = {
        "course_start": "2026-12-01",
        "session_dates": [f"2026-12-{d:02d}" for d in range(1, 11)],
        "assessments": [
            {"instrument": "pain-nrs", "taken_at": "2026-11-30", "score": 8},
            {"instrument": "pain-nrs", "taken_at": "2026-12-11T09:00:00Z", "answers": [7]},
        ],
    }
    path = _write(tmp_path, "course.json", course)
    run = cli(
        "trial",
        "evaluate",
        "--protocol",
        "crps-daily-10d",
        "--assessments",
        path,
        "--as-of",
        "2026-12-12",
        "--json",
    )
    assert run.code == 0, run.err
    assert run.json()["recommendation"] == "stop"


@pytest.mark.parametrize(
    ("course", "text"),
    [
        ({"session_dates": []}, "course_start is missing"),
        ({"course_start": "2026-12-01", "sessions": []}, "sessions is not a known field"),
        (
            {
                "course_start": "2026-12-01",
                "assessments": [{"instrument": "phq-9", "taken_at": "2026-12-01"}],
            },
            "give exactly one of score or answers",
        ),
        (
            {
                "course_start": "2026-12-01",
                "assessments": [
                    {"instrument": "phq-9", "taken_at": "2026-12-01", "answers": [1, 2]}
                ],
            },
            "assessment 1: PHQ-9 needs 9 answers",
        ),
        (
            {
                "course_start": "2026-12-01",
                "assessments": [{"instrument": "phq-9", "taken_at": "2026-12-01", "score": 30}],
            },
            "outside the accepted range 0-27 points",
        ),
        (
            {"course_start": "2026-12-01", "session_dates": ["2026-11-01"]},
            "before the course start",
        ),
    ],
)
def test_trial_evaluate_refuses_a_malformed_file_with_exit_2(
    cli: Cli, tmp_path: Path, course: dict[str, Any], text: str
) -> None:
    path = _write(tmp_path, "course.yaml", course)
    run = cli(
        "trial",
        "evaluate",
        "--protocol",
        "depression-iv",
        "--assessments",
        path,
        "--as-of",
        "2026-12-20",
    )
    _one_line_error(run, text)


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--protocol", "nope", "--assessments", DEPRESSION], "unknown protocol 'nope'"),
        (["--protocol", "depression-iv", "--assessments", "/no/such.yaml"], "cannot be read"),
        (
            ["--protocol", "depression-iv", "--assessments", DEPRESSION, "--as-of", "soon"],
            "--as-of 'soon'",
        ),
    ],
)
def test_trial_evaluate_refuses_bad_options_with_exit_2(
    cli: Cli, args: list[str], text: str
) -> None:
    _one_line_error(cli("trial", "evaluate", *args), text)


def test_the_installed_script_scores_and_exits_2_on_bad_input() -> None:
    script = Path(sys.executable).parent / "ketaclinic"
    ok = subprocess.run(
        [str(script), "score", "gad-7", "--answers", "3,3,3,3,3,0,0", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["band"] == "severe"
    bad = subprocess.run(
        [str(script), "mme", "buprenorphine", "8 mg/day"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert bad.returncode == EXIT_USER_ERROR
    assert "Traceback" not in bad.stderr
