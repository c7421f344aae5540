"""``ketaclinic protocols``, ``protocols show``, ``plan``, ``check`` and ``schema``: exit codes
0/2/3, the JSON contract, and one-line messages for malformed files."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ketaclinic.cli._app import EXIT_BLOCKED, EXIT_USER_ERROR
from ketaclinic.protocols import protocols

# the `cli` fixture (tests/cli/conftest.py) returns a Run: code, out, err, json()
Cli = Callable[..., Any]

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
AS_OF = ["--as-of", "2026-12-01T09:00:00Z"]


def _files(protocol: str) -> tuple[str, str]:
    return str(EXAMPLES / f"{protocol}.patient.yaml"), str(EXAMPLES / f"{protocol}.order.yaml")


def _write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data))
    return str(path)


def _order(**changes: Any) -> dict[str, Any]:
    data = yaml.safe_load((EXAMPLES / "depression-iv.order.yaml").read_text())
    return {**data, **changes}


# --- protocols -------------------------------------------------------------------------------


def test_protocols_json_lists_id_indication_route_evidence_and_sources(cli: Cli) -> None:
    run = cli("protocols", "--json")
    assert run.code == 0, run.err
    rows = run.json()
    assert {r["id"] for r in rows} == set(protocols())
    for row in rows:
        assert {"id", "indication", "route", "evidence_level", "sources"} <= row.keys()
        assert row["sources"]


def test_protocols_prints_a_table(cli: Cli) -> None:
    run = cli("protocols")
    assert run.code == 0
    assert "depression-iv" in run.out


def test_protocols_show_prints_one_protocol_in_full(cli: Cli) -> None:
    run = cli("protocols", "show", "crps-daily-10d")
    assert run.code == 0, run.err
    data = yaml.safe_load(run.out)
    assert data["id"] == "crps-daily-10d"
    assert {"dose_rule", "schedule", "monitoring", "trial", "stop_rules", "sources"} <= data.keys()
    assert cli("protocols", "show", "depression-iv", "--json").json()["model_id"] == "kamp"


def test_protocols_show_of_an_unknown_id_exits_2(cli: Cli) -> None:
    run = cli("protocols", "show", "nope")
    assert run.code == EXIT_USER_ERROR
    assert "unknown protocol 'nope'" in run.err
    assert "Traceback" not in run.err


# --- check -------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", sorted(protocols()))
def test_check_of_every_example_exits_0(cli: Cli, protocol: str) -> None:
    patient, order = _files(protocol)
    run = cli("check", "--patient", patient, "--order", order, *AS_OF, "--json")
    assert run.code == 0, run.out + run.err
    data = run.json()
    assert data["allowed"] is True
    assert set(data) >= {"allowed", "findings"}


def test_check_exits_3_with_the_json_contract_when_a_hard_stop_blocks(
    cli: Cli, tmp_path: Path
) -> None:
    patient, _ = _files("depression-iv")
    order = _write(tmp_path, "order.yaml", _order(doses=["iv-infusion 350 mg over 40 min"]))
    run = cli("check", "--patient", patient, "--order", order, *AS_OF, "--json")
    assert run.code == EXIT_BLOCKED
    data = run.json()
    assert data["allowed"] is False
    for item in data["findings"]:
        assert {"severity", "code", "message", "source"} <= item.keys()
    assert "HARD_STOP" in {f["severity"] for f in data["findings"]}


def test_check_exits_3_for_an_overridable_finding_and_0_once_overridden(
    cli: Cli, tmp_path: Path
) -> None:
    patient, _ = _files("depression-iv")
    dose = ["iv-infusion 0.8 mg/kg over 40 min"]
    blocked = _write(tmp_path, "o1.yaml", _order(doses=dose))
    assert cli("check", "--patient", patient, "--order", blocked, *AS_OF).code == EXIT_BLOCKED
    reasons = {
        "session_total_mg_per_kg.soft": "partial response at 0.5 mg/kg",
        "infusion_rate_mg_per_kg_per_h.soft": "usual 40 min",
    }
    cleared = _write(tmp_path, "o2.yaml", _order(doses=dose, overrides=reasons))
    run = cli("check", "--patient", patient, "--order", cleared, *AS_OF)
    assert run.code == 0, run.out
    assert "overridden" in run.out


def test_check_exits_0_with_warnings(cli: Cli) -> None:
    patient, order = _files("palliative-oral")
    run = cli("check", "--patient", patient, "--order", order, *AS_OF, "--json")
    assert run.code == 0
    findings = [(f["severity"], f["code"]) for f in run.json()["findings"]]
    assert findings == [("WARNING", "route.oral"), ("INFO", "interaction.cns_depressant")]


def test_check_refuses_a_neuraxial_order_with_exit_3(cli: Cli, tmp_path: Path) -> None:
    patient, _ = _files("acute-pain-iv")
    order = _write(
        tmp_path,
        "o.json",
        {"protocol": "acute-pain-iv", "route": "iv", "doses": ["intrathecal 5 mg"]},
    )
    run = cli("check", "--patient", patient, "--order", order, *AS_OF, "--json")
    assert run.code == EXIT_BLOCKED
    assert "route.neuraxial" in {f["code"] for f in run.json()["findings"]}


def test_check_accepts_json_files(cli: Cli, tmp_path: Path) -> None:
    patient_yaml, order_yaml = _files("esketamine-nasal")
    patient = _write(tmp_path, "p.json", yaml.safe_load(Path(patient_yaml).read_text()))
    order = _write(tmp_path, "o.json", yaml.safe_load(Path(order_yaml).read_text()))
    assert cli("check", "--patient", patient, "--order", order, *AS_OF).code == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"covariates": {"weight_kg": 700, "age_years": 41, "sex": "female"}},
            "covariates: weight 700 kg is outside the accepted range 2-300 kg",
        ),
        (
            {"covariates": {"weight_kg": 70, "age_years": 41, "sex": "x"}},
            "covariates: sex 'x' is not accepted; accepted: male, female",
        ),
        (
            {"covariates": {"weight_kg": 70, "age_years": 41, "sex": "male", "child_pugh": "D"}},
            "covariates: Child-Pugh 'D' is not accepted; accepted: none, A, B, C",
        ),
        ({"weight_kg": 70}, "weight_kg is not a known field"),
        ({"weight_measured_on": "yesterday"}, "weight_measured_on = 'yesterday' is not accepted"),
        ({"shoe_size": 42}, "shoe_size is not a known field"),
    ],
)
def test_a_malformed_patient_file_exits_2_naming_field_value_and_accepted(
    cli: Cli, tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    patient_yaml, order = _files("depression-iv")
    data = {**yaml.safe_load(Path(patient_yaml).read_text()), **change}
    patient = _write(tmp_path, "patient.yaml", data)
    run = cli("check", "--patient", patient, "--order", order, *AS_OF)
    assert run.code == EXIT_USER_ERROR
    assert expected in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert "Traceback" not in run.err


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (_order(doses=[]), "an order needs at least one dose"),
        (_order(doses=["iv-infusion 500 mcg/kg over 40 min"]), "micrograms are not accepted"),
        (_order(protocol="nope"), "unknown protocol 'nope'"),
        (_order(route="drip"), "route = 'drip' is not accepted: accepted: 'iv', 'sc'"),
    ],
)
def test_a_malformed_order_exits_2(cli: Cli, tmp_path: Path, order: Any, expected: str) -> None:
    patient, _ = _files("depression-iv")
    path = _write(tmp_path, "order.yaml", order)
    run = cli("check", "--patient", patient, "--order", path, *AS_OF)
    assert run.code == EXIT_USER_ERROR, run.out
    assert expected in run.err


def test_unreadable_and_unparsable_files_exit_2(cli: Cli, tmp_path: Path) -> None:
    _, order = _files("depression-iv")
    run = cli("check", "--patient", str(tmp_path / "missing.yaml"), "--order", order)
    assert run.code == EXIT_USER_ERROR
    assert "cannot be read" in run.err
    broken = tmp_path / "broken.yaml"
    broken.write_text("weight_kg: [70\n")
    run = cli("check", "--patient", str(broken), "--order", order)
    assert run.code == EXIT_USER_ERROR
    assert "is not valid YAML" in run.err
    listed = tmp_path / "list.yaml"
    listed.write_text("- 70\n")
    assert "must hold a mapping" in cli("check", "--patient", str(listed), "--order", order).err


# --- plan and schema ----------------------------------------------------------------------------


def test_plan_json_has_doses_calendar_prediction_and_findings(cli: Cli) -> None:
    patient, _ = _files("depression-iv")
    run = cli(
        "plan",
        "--protocol",
        "depression-iv",
        "--patient",
        patient,
        "--start",
        "2026-12-01",
        "--json",
    )
    assert run.code == 0, run.err
    data = run.json()
    assert data["doses"][0]["dose"]["text"] == "iv-infusion 35 mg over 40 min at 0 min"
    assert data["doses"][0]["dose"]["amount_mg"] == 35
    assert data["sessions"][0]["date"] == "2026-12-01"
    assert data["prediction"]["summary"]["cmax_ng_per_ml"] > 0
    assert data["allowed"] is True
    risk = data["population_risk"]
    assert risk["n"] == 10_000
    assert all("of similar patients exceed" in s for s in risk["sentences"])


def test_plan_prints_the_plan_and_writes_a_plot(cli: Cli, tmp_path: Path) -> None:
    patient, _ = _files("crps-daily-10d")
    out = tmp_path / "plan.html"
    run = cli(
        "plan",
        "--protocol",
        "crps-daily-10d",
        "--patient",
        patient,
        "--start",
        "2026-12-01",
        "--plot",
        str(out),
    )
    assert run.code == 0, run.err
    assert "24.5 mg/h" in run.out
    assert out.exists()


def test_plan_with_a_bad_start_date_exits_2(cli: Cli) -> None:
    patient, _ = _files("depression-iv")
    run = cli("plan", "--protocol", "depression-iv", "--patient", patient, "--start", "1/12/26")
    assert run.code == EXIT_USER_ERROR
    assert "is not a date such as 2026-12-01" in run.err


@pytest.mark.parametrize("kind", ["patient", "order"])
def test_schema_prints_the_json_schema(cli: Cli, kind: str) -> None:
    run = cli("schema", kind)
    assert run.code == 0
    schema = run.json()
    assert schema["type"] == "object"
    if kind == "patient":
        assert "weight_kg" in schema["properties"]["covariates"]["properties"]
    else:
        assert "doses" in schema["properties"]


def test_schema_of_an_unknown_kind_exits_2(cli: Cli) -> None:
    run = cli("schema", "protocol")
    assert run.code == EXIT_USER_ERROR
    assert "accepted: patient, order" in run.err


def test_the_installed_script_exits_3_for_a_blocked_order(tmp_path: Path) -> None:
    import subprocess

    script = Path(sys.executable).parent / "ketaclinic"
    patient, _ = _files("depression-iv")
    order = _write(tmp_path, "order.yaml", _order(doses=["iv-infusion 350 mg over 40 min"]))
    done = subprocess.run(
        [str(script), "check", "--patient", patient, "--order", order, *AS_OF, "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == EXIT_BLOCKED, done.stderr
    assert json.loads(done.stdout)["allowed"] is False


# --- issue 9: paths, encodings, dates, clock times, messages -------------------------------


def _plan_args(patient: str, *more: str) -> list[str]:
    return [
        "plan",
        "--protocol",
        "depression-iv",
        "--patient",
        patient,
        "--start",
        "2026-12-01",
        *more,
    ]


def _one_line_error(run: Any) -> None:
    assert run.code == EXIT_USER_ERROR, run.out + run.err
    assert len(run.err.strip().splitlines()) == 1, run.err
    assert "Traceback" not in run.err


def test_a_plot_path_that_is_a_folder_is_refused_before_any_work(cli: Cli, tmp_path: Path) -> None:
    # the patient file does not exist: the plot path is checked first, so it is named instead
    run = cli(*_plan_args(str(tmp_path / "missing.yaml"), "--plot", str(tmp_path)))
    _one_line_error(run)
    assert "is a folder" in run.err


def test_a_plot_path_under_a_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    patient, _ = _files("depression-iv")
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    run = cli(*_plan_args(patient, "--plot", str(blocker / "sub" / "plan.png")))
    _one_line_error(run)
    assert "is not a folder" in run.err


def test_an_unwritable_plot_path_is_refused(cli: Cli) -> None:
    import tempfile

    try:
        handle, probe = tempfile.mkstemp(dir="/sys")
    except OSError:
        pass
    else:  # pragma: no cover - a machine where /sys is writable
        import os

        os.close(handle)
        os.unlink(probe)
        pytest.skip("/sys is writable here")
    patient, _ = _files("depression-iv")
    run = cli(*_plan_args(patient, "--plot", "/sys/plan.png"))
    _one_line_error(run)
    assert "cannot be written" in run.err


def test_missing_folders_of_a_plot_path_are_created(cli: Cli, tmp_path: Path) -> None:
    patient, _ = _files("depression-iv")
    target = tmp_path / "new" / "plan.png"
    run = cli(*_plan_args(patient, "--plot", str(target)))
    assert run.code == 0, run.err
    assert target.exists()


def test_a_file_that_is_not_utf8_is_one_line(cli: Cli, tmp_path: Path) -> None:
    _, order = _files("depression-iv")
    latin1 = tmp_path / "patient.yaml"
    latin1.write_bytes("notes: 'Müller'\n".encode("latin-1"))
    run = cli("check", "--patient", str(latin1), "--order", order, *AS_OF)
    _one_line_error(run)
    assert "is not UTF-8 text (byte 0xfc at position 9)" in run.err


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_a_start_date_outside_the_accepted_range_is_one_line(cli: Cli, start: str) -> None:
    patient, _ = _files("depression-iv")
    run = cli("plan", "--protocol", "depression-iv", "--patient", patient, "--start", start)
    _one_line_error(run)
    assert f"--start {start} is outside the accepted dates 2000-01-01 to 2099-12-31" in run.err


def test_an_as_of_or_order_start_outside_the_range_is_one_line(cli: Cli, tmp_path: Path) -> None:
    patient, order = _files("depression-iv")
    run = cli("check", "--patient", patient, "--order", order, "--as-of", "9999-12-31T00:00Z")
    _one_line_error(run)
    assert "accepted dates 2000-01-01 to 2099-12-31" in run.err
    far = _write(tmp_path, "order.yaml", _order(start="9999-12-31T09:00:00Z"))
    run = cli("check", "--patient", patient, "--order", far, *AS_OF)
    _one_line_error(run)
    assert "start: 9999-12-31T09:00:00+00:00 is outside the accepted dates" in run.err


def test_yaml_yes_is_shown_as_typed(cli: Cli, tmp_path: Path) -> None:
    patient_yaml, order = _files("depression-iv")
    text = Path(patient_yaml).read_text().replace("sex: female", "sex: yes")
    path = tmp_path / "patient.yaml"
    path.write_text(text)
    run = cli("check", "--patient", str(path), "--order", order, *AS_OF)
    _one_line_error(run)
    assert "sex 'yes' is not accepted" in run.err
    assert "True" not in run.err


def test_yes_still_means_true_for_a_yes_or_no_field(cli: Cli, tmp_path: Path) -> None:
    patient_yaml, order = _files("depression-iv")
    path = tmp_path / "patient.yaml"
    path.write_text(Path(patient_yaml).read_text() + "pregnant: yes\n")
    run = cli("check", "--patient", str(path), "--order", order, *AS_OF, "--json")
    assert run.code == EXIT_BLOCKED
    assert "contraindication.pregnancy" in {f["code"] for f in run.json()["findings"]}


def test_check_without_as_of_says_which_clock_time_it_used(cli: Cli) -> None:
    patient, order = _files("depression-iv")
    run = cli("check", "--patient", patient, "--order", order)
    assert "UTC, the current clock time (no --as-of given" in run.out
    data = cli("check", "--patient", patient, "--order", order, "--json").json()
    assert data["as_of_from"] == "clock"
    assert data["as_of"].endswith("+00:00")
    given = cli("check", "--patient", patient, "--order", order, *AS_OF, "--json").json()
    assert (given["as_of"], given["as_of_from"]) == ("2026-12-01T09:00:00+00:00", "--as-of")


@pytest.mark.parametrize(
    ("when", "code", "expected"),
    [
        ("at 09:00", 0, ""),
        ("at 10:30", 0, ""),
        ("at 2026-12-01T09:00:00Z", 0, ""),
        ("at 08:00", EXIT_USER_ERROR, "before the start of the order"),
        ("at 25:00", EXIT_USER_ERROR, "is not a clock time such as 09:30"),
    ],
)
def test_order_files_take_clock_times_and_date_times_as_dose_starts(
    cli: Cli, tmp_path: Path, when: str, code: int, expected: str
) -> None:
    patient, _ = _files("depression-iv")
    order = _write(tmp_path, "o.yaml", _order(doses=[f"iv-infusion 35 mg over 40 min {when}"]))
    run = cli("check", "--patient", patient, "--order", order, *AS_OF, "--json")
    assert run.code == code, run.out + run.err
    assert expected in run.err


def test_a_clock_time_needs_the_orders_start(cli: Cli, tmp_path: Path) -> None:
    patient, _ = _files("depression-iv")
    data = {"protocol": "depression-iv", "doses": ["iv-infusion 35 mg over 40 min at 09:00"]}
    run = cli("check", "--patient", patient, "--order", _write(tmp_path, "o.yaml", data), *AS_OF)
    _one_line_error(run)
    assert "needs the start of the order" in run.err


def test_a_drug_name_is_accepted_where_a_pain_treatment_class_is_expected(
    cli: Cli, tmp_path: Path
) -> None:
    patient_yaml, order_yaml = _files("crps-daily-10d")
    data = yaml.safe_load(Path(patient_yaml).read_text())
    data["prior_pain_treatments"] = ["morphine", "amitriptyline"]
    run = cli("check", "--patient", _write(tmp_path, "p.yaml", data), "--order", order_yaml, *AS_OF)
    assert run.code == 0, run.out + run.err
    data["prior_pain_treatments"] = ["morphine", "aromatherapy"]
    run = cli("check", "--patient", _write(tmp_path, "p.yaml", data), "--order", order_yaml, *AS_OF)
    _one_line_error(run)
    assert "'aromatherapy' is not a pain-treatment class" in run.err
    assert "amitriptyline (tricyclic)" in run.err


def test_plan_output_says_no_observation_period_instead_of_zero_minutes(cli: Cli) -> None:
    patient, _ = _files("palliative-oral")
    run = cli(
        "plan", "--protocol", "palliative-oral", "--patient", patient, "--start", "2026-12-01"
    )
    assert run.code == 0, run.err
    assert "observe at least 0 min" not in run.out
    assert "no fixed observation period after a dose" in run.out


@pytest.mark.parametrize("protocol", sorted(protocols()))
def test_plan_output_has_no_exponent_notation(cli: Cli, tmp_path: Path, protocol: str) -> None:
    import re

    patient, _ = _files(protocol)
    run = cli("plan", "--protocol", protocol, "--patient", patient, "--start", "2026-12-01")
    assert run.code == 0, run.err
    assert not re.search(r"\d\.?\d*e[+-]\d", run.out), run.out
