"""`check` says whether the stored analysis is still that of the case's files."""

from __future__ import annotations

from datetime import timedelta

from typer.testing import CliRunner

from cargotrace.cli.app import app

from builders import POSITION_HEADER, T0, VOSTOCHNY, dwell, write_csv

runner = CliRunner()


def _text(output: str) -> str:
    return " ".join(output.split())


def test_check_reports_no_analysis_then_up_to_date_then_stale(tmp_path):
    case = str(tmp_path / "case")
    first = write_csv(tmp_path / "a.csv", POSITION_HEADER, dwell(273000001, VOSTOCHNY, T0, 6))
    later = write_csv(
        tmp_path / "b.csv",
        POSITION_HEADER,
        dwell(273000001, VOSTOCHNY, T0 + timedelta(days=2), 6),
    )
    assert runner.invoke(app, ["ingest", "ais", str(first), "--case", case]).exit_code == 0
    before = runner.invoke(app, ["check", "--case", case])
    assert before.exit_code == 0
    assert _text(before.stdout) == (
        f"case {case} is consistent no analysis stored yet: run `cargotrace analyze --case {case}`"
    )
    assert runner.invoke(app, ["analyze", "--case", case]).exit_code == 0
    fresh = runner.invoke(app, ["check", "--case", case])
    assert fresh.exit_code == 0 and fresh.stderr == ""
    assert "up to date with the files ingested" in _text(fresh.stdout)
    assert runner.invoke(app, ["ingest", "ais", str(later), "--case", case]).exit_code == 0
    stale = runner.invoke(app, ["check", "--case", case])
    assert stale.exit_code == 0  # consistent, only out of date
    assert _text(stale.stdout) == f"case {case} is consistent"
    warning = _text(stale.stderr)
    assert warning.startswith("warning: STALE: these findings come from the analysis of ")
    assert "1 file(s) ingested since (b.csv)" in warning
    assert f"Run `cargotrace analyze --case {case}` to bring them up to date." in warning
