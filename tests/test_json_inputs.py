"""JSON given to a kind that reads tables: the Danish Maritime Authority track that
MovingPandas ships (GeoJSON) was read as CSV, `ingest ais` answering that 'mmsi' was not in
the header ['{'] and `ingest vessels` refusing all 263 rows as wrong_field_count with advice
about the delimiter. It is now named JSON at once; and GeoJSON reaches the kinds that read it
whatever the file is called."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cargotrace.cli.app import app

from conftest import shared_data

runner = CliRunner()


@pytest.mark.parametrize(
    ("kind", "reads"),
    [("ais", "an NMEA log, CSV, XLSX or Parquet"), ("vessels", "CSV, XLSX or Parquet")],
)
def test_json_for_a_tabular_kind_is_named_json(tmp_path: Path, kind: str, reads: str) -> None:
    track = shared_data("ais", "movingpandas", "ais-utm32N_dk.json")
    result = runner.invoke(app, ["ingest", kind, str(track), "--case", str(tmp_path / "c")])
    assert result.exit_code == 2
    assert f"looks like JSON (GeoJSON?), not a table: {kind} is read from {reads} " in " ".join(
        result.output.split()
    )
    assert "rows read" not in result.output


def test_geojson_under_another_name_is_read_as_geojson(tmp_path: Path) -> None:
    countries = tmp_path / "countries.txt"
    shutil.copy(shared_data("borders", "ne_110m_admin_0_countries.json"), countries)
    result = runner.invoke(
        app, ["ingest", "borders", str(countries), "--case", str(tmp_path / "c")]
    )
    assert result.exit_code == 0
    assert "177 rows read = 177 kept + 0 quarantined + 0 exact duplicates dropped" in " ".join(
        result.output.split()
    )


def test_geojson_without_a_needed_property_names_no_row_0(tmp_path: Path) -> None:
    """GeoJSON has no header row: the message said 'row 0'."""
    countries = shared_data("borders", "ne_110m_admin_0_countries.json")
    result = runner.invoke(app, ["ingest", "ports", str(countries), "--case", str(tmp_path / "c")])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert (
        "error: ne_110m_admin_0_countries.json, column 'locode': required column(s) ['locode'] "
        "not found; of the file's 75 columns, closest to 'locode': 'UN_A3', 'NAME_SORT', 'lon' "
        "(and 72 others)" in text
    )
