"""A missing column's error names the file's columns closest to it, not every header: the
World Port Index has 107, and its error listed them all (`headers.header_hint`)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cargotrace.cli.app import app
from cargotrace.ingest.readers.headers import header_hint

from builders import write_csv
from conftest import shared_data

runner = CliRunner()


def _error(*args: str) -> str:
    result = runner.invoke(app, ["ingest", *args])
    assert result.exit_code == 2
    return " ".join(result.output.split())


def test_the_world_port_index_as_facilities_names_its_closest_columns(tmp_path: Path) -> None:
    wpi = shared_data("ports", "UpdatedPub150.csv")
    text = _error("facilities", str(wpi), "--case", str(tmp_path / "case"))
    assert text.endswith(
        "error: UpdatedPub150.csv, row 1, column 'name': required column(s) ['name'] not found; "
        "of the file's 107 columns, closest to 'name': 'Region Name', 'Main Port Name', "
        "'Alternate Port Name' (and 104 others); name them with --mapping MAP.toml "
        '(columns.name = "<your header>")'
    )


def test_a_short_header_is_listed_whole(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", ["a", "b", "c"], [["1", "2", "3"]])
    text = _error("ports", str(path), "--case", str(tmp_path / "case"))
    assert "required column(s) ['locode'] not found; the header has ['a', 'b', 'c']; " in text


def test_each_missing_column_gets_its_closest_and_the_rest_are_counted() -> None:
    headers = ["Station code", "Station", "Remark", *(f"q{i}" for i in range(11))]
    wanted = {"esr": {"esr", "station code"}, "name": {"name", "station"}}
    assert header_hint(headers, wanted) == (
        "of the file's 14 columns, closest to 'esr': 'Station code', 'Station', 'Remark'; "
        "closest to 'name': 'Station', 'Station code', 'Remark' (and 11 others)"
    )
