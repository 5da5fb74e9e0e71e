"""The command line: exit status 2 with a located message on bad input, never a traceback."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from cargotrace.cli.app import app
from cargotrace.report.export import safe_cell

from builders import write_csv

runner = CliRunner()


def test_every_command_has_help():
    for command in (
        "init",
        "ingest",
        "analyze",
        "export",
        "report",
        "explain",
        "quarantine",
        "check",
        "demo",
    ):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, command
        assert "--case" in result.output or command == "demo"


def test_bad_input_exits_2_naming_file_row_and_column(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", ["name", "category"], [["x", "y"]])
    result = subprocess.run(
        [sys.executable, "-m", "cargotrace", "ingest", "facilities", str(bad), "--case", str(tmp_path / "case")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    # Facilities without coordinates are quarantined (they are in the case, for `cargotrace
    # quarantine`); a file of which nothing was kept says so and exits 2 (issue 16).
    assert result.returncode == 2, result.stderr
    assert "1 quarantined" in result.stdout and "NOTHING KEPT" in result.stdout
    assert "nothing was kept from bad.csv" in " ".join(result.stderr.split())
    worse = write_csv(tmp_path / "worse.csv", ["foo"], [["x"]])
    result = subprocess.run(
        [sys.executable, "-m", "cargotrace", "ingest", "shipments", str(worse), "--case", str(tmp_path / "case")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "worse.csv" in result.stderr and "row 1" in result.stderr and "waybill" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_and_unknown_kind(tmp_path):
    result = runner.invoke(
        app, ["ingest", "shipments", str(tmp_path / "nope.csv"), "--case", str(tmp_path / "c")]
    )
    assert result.exit_code == 2
    result = runner.invoke(
        app, ["ingest", "cargo", str(tmp_path / "nope.csv"), "--case", str(tmp_path / "c")]
    )
    assert result.exit_code == 2


def test_export_before_analysis_is_a_clear_error(tmp_path):
    runner.invoke(app, ["init", "--case", str(tmp_path / "c")])
    result = runner.invoke(
        app,
        [
            "export",
            "--case",
            str(tmp_path / "c"),
            "--format",
            "json",
            "--out",
            str(tmp_path / "f.json"),
        ],
    )
    assert result.exit_code == 2
    assert "not been analysed" in result.output


def test_open_a_folder_that_is_not_a_case(tmp_path):
    result = runner.invoke(app, ["quarantine", "--case", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a cargotrace case" in result.output


def test_csv_formula_injection_is_neutralised():
    for hostile in ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(hostile).startswith("'")
    assert safe_cell("Тихорецкая") == "Тихорецкая"
    assert safe_cell(61.2) == 61.2


def test_analyze_set_reaches_every_setting_and_refuses_unknown_names(tmp_path):
    import json

    from cargotrace.settings import AnalysisSettings, with_pairs

    assert with_pairs(AnalysisSettings(), ["min_call_hours=3", "gap-hours=12", "facility_categories=arsenal"]) == \
        AnalysisSettings(min_call_hours=3.0, gap_hours=12.0, facility_categories=("arsenal",))  # fmt: skip
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--case", str(tmp_path / "c")]).exit_code == 0
    done = runner.invoke(
        app,
        [
            "analyze",
            "--case",
            str(tmp_path / "c"),
            "--set",
            "min_call_hours=3",
            "--set",
            "port_radius_km=8",
        ],
    )
    assert done.exit_code == 0, done.output
    out = tmp_path / "f.json"
    assert (
        runner.invoke(
            app, ["export", "--case", str(tmp_path / "c"), "--format", "json", "--out", str(out)]
        ).exit_code
        == 0
    )
    parameters = json.loads(out.read_text(encoding="utf-8"))["parameters"]
    assert (parameters["min_call_hours"], parameters["port_radius_km"]) == (3.0, 8.0)
    for bad, says in (("nonsense=1", "one of the analysis settings"), ("gap_hours=soon", "is not a valid float"),
                      ("gap_hours=-1", "gap_hours must be positive")):  # fmt: skip
        refused = runner.invoke(app, ["analyze", "--case", str(tmp_path / "c"), "--set", bad])
        assert refused.exit_code == 2 and says in " ".join(refused.output.split()), refused.output


def test_analyze_on_an_empty_case_says_what_is_missing(tmp_path):
    case = str(tmp_path / "empty")
    assert runner.invoke(app, ["init", "--case", case]).exit_code == 0
    result = runner.invoke(app, ["analyze", "--case", case])
    assert result.exit_code == 0
    text = " ".join(result.output.split())  # the console wraps at its width
    for kind in ("ais", "sightings", "shipments", "stations", "facilities"):
        assert f"cargotrace ingest {kind} FILE" in text
    assert "no rail shipments: nothing to link to arrivals" in text


def test_analyze_of_an_ais_only_case_prints_the_vessel_story(tmp_path):
    from datetime import timedelta

    from builders import POSITION_HEADER, T0, VOSTOCHNY, dwell

    fixes = dwell(273000001, VOSTOCHNY, T0, 6) + dwell(
        273000001, VOSTOCHNY, T0 + timedelta(days=2), 6
    )
    path = write_csv(tmp_path / "positions.csv", POSITION_HEADER, fixes)
    case = str(tmp_path / "case")
    assert runner.invoke(app, ["init", "--case", case]).exit_code == 0
    assert runner.invoke(app, ["ingest", "ais", str(path), "--case", case]).exit_code == 0
    result = runner.invoke(app, ["analyze", "--case", case])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert (
        "port calls │ 2 " in text
        and "gaps in AIS (dark periods) │ 1 " in text
        and "Global Fishing Watch" not in text
    )


def test_report_out_must_be_html(tmp_path):
    case = str(tmp_path / "case")
    assert runner.invoke(app, ["init", "--case", case]).exit_code == 0
    result = runner.invoke(app, ["report", "--case", case, "--out", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2
    assert "--pdf" in " ".join(result.output.split())
    assert not (tmp_path / "r.pdf").exists()
