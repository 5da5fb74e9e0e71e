"""GIS-ready exports: port calls, gaps, encounters and tracks as GeoJSON, GeoParquet and CSV with
WKT, opened with pyarrow and shapely (geometry types, longitude-latitude order, `geo` metadata)."""

from __future__ import annotations

import json
from datetime import timedelta

import pyarrow.parquet as pq
import pytest
import shapely
from typer.testing import CliRunner

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.cli.app import app
from cargotrace.errors import InputError

from builders import T0, VOSTOCHNY, CaseBuilder, dwell

SHIP, OTHER = 273000001, 273000002
OFF_VOSTOCHNY = (42.55, 133.05)
MEETING = (42.0, 134.0)  # open sea, far from every port


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> CaseBuilder:
    b = CaseBuilder(tmp_path_factory.mktemp("gis"))
    b.positions += dwell(SHIP, VOSTOCHNY, T0, 5)  # last fix: 5.5 h after T0, 0.2 deg south
    back = T0 + timedelta(days=5, hours=6)
    b.positions += [[SHIP, back.isoformat(), *OFF_VOSTOCHNY, 11.0, 0, 0, 0]]
    # two ships drifting together from 23:00 to 02:00 (a meeting across midnight)
    start = T0 + timedelta(days=7, hours=23)
    for i in range(19):
        at = (start + timedelta(minutes=10 * i)).isoformat()
        b.positions += [[SHIP, at, *MEETING, 0.5, 0, 0, 0]]
        b.positions += [[OTHER, at, MEETING[0] + 0.001 + i * 1e-5, MEETING[1], 0.5, 0, 0, 0]]
    with b.run():
        pass
    return b


def _export(b: CaseBuilder, tmp_path, table: str, fmt: str, ext: str):
    out = tmp_path / f"{table}.{ext}"
    workflow.export(b.case_dir, fmt, out, table)
    return out


def _geojson(b: CaseBuilder, tmp_path, table: str) -> list[dict]:
    doc = json.loads(_export(b, tmp_path, table, "geojson", "geojson").read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    return doc["features"]


def test_port_calls_are_points_at_the_port(case, tmp_path):
    with Case.open(case.case_dir) as c:
        port = c.rows(
            "SELECT lon, lat FROM ports WHERE locode = 'RUVYP' ORDER BY origin = 'gazetteer' LIMIT 1"
        )[0]
    features = _geojson(case, tmp_path, "port_calls")
    assert len(features) == 1
    [call] = features
    assert call["geometry"] == {"type": "Point", "coordinates": [port["lon"], port["lat"]]}
    assert call["properties"]["port_locode"] == "RUVYP" and call["properties"]["mmsi"] == SHIP


def test_gaps_are_lines_from_last_to_first_fix(case, tmp_path):
    features = _geojson(case, tmp_path, "gaps")
    assert [f["properties"]["mmsi"] for f in features] == [SHIP, SHIP]  # dark twice
    dark = [f for f in features if f["properties"]["hours"] == 5 * 24 + 0.5]
    assert len(dark) == 1
    assert dark[0]["geometry"] == {
        "type": "LineString",
        "coordinates": [[VOSTOCHNY[1], VOSTOCHNY[0] - 0.2], [OFF_VOSTOCHNY[1], OFF_VOSTOCHNY[0]]],
    }
    assert dark[0]["properties"]["started_at"] == (T0 + timedelta(hours=5, minutes=30)).isoformat()


def test_encounters_and_tracks(case, tmp_path):
    [meeting] = _geojson(case, tmp_path, "encounters")
    lon, lat = meeting["geometry"]["coordinates"]
    assert meeting["geometry"]["type"] == "Point"
    assert lon == pytest.approx(MEETING[1]) and lat == pytest.approx(MEETING[0] + 0.0005, abs=1e-4)
    tracks = _geojson(case, tmp_path, "tracks")
    other = {f["properties"]["day"]: f for f in tracks if f["properties"]["mmsi"] == OTHER}
    day1, day2 = (
        (T0 + timedelta(days=7)).date().isoformat(),
        (T0 + timedelta(days=8)).date().isoformat(),
    )
    assert sorted(other) == [day1, day2]  # split at midnight UTC
    assert [other[d]["properties"]["fixes"] for d in (day1, day2)] == [6, 13]
    assert all(f["geometry"]["type"] == "LineString" for f in other.values())
    assert other[day1]["geometry"]["coordinates"][0] == [MEETING[1], MEETING[0] + 0.001]
    assert len(other[day2]["geometry"]["coordinates"]) == 13
    ship = {
        f["properties"]["day"]: f["geometry"]["type"]
        for f in tracks
        if f["properties"]["mmsi"] == SHIP
    }
    assert ship == {T0.date().isoformat(): "LineString", day1: "Point", day2: "Point"}  # moored


@pytest.mark.parametrize(
    ("table", "kind", "rows"),
    [("port_calls", ["Point"], 1), ("gaps", ["LineString"], 2), ("encounters", ["Point"], 1),
     ("tracks", ["LineString", "Point"], 5)],
)  # fmt: skip
def test_parquet_exports_are_geoparquet(case, tmp_path, table, kind, rows):
    out = _export(case, tmp_path, table, "parquet", "parquet")
    data = pq.read_table(out)
    geo = json.loads(data.schema.metadata[b"geo"])
    assert geo["version"] in ("1.0.0", "1.1.0") and geo["primary_column"] == "geometry"
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB" and column["geometry_types"] == kind
    shapes = shapely.from_wkb(data.column("geometry").to_pylist())
    assert len(shapes) == data.num_rows and (rows is None or data.num_rows == rows)
    assert {s.geom_type for s in shapes} == set(kind) and all(s.is_valid for s in shapes)
    xmin, ymin, xmax, ymax = column["bbox"]
    assert 130 < xmin <= xmax < 135 and 41 < ymin <= ymax < 43  # longitude first
    assert "_x" not in data.column_names and "_y" not in data.column_names


def test_csv_of_a_spatial_table_carries_wkt(case, tmp_path):
    out = _export(case, tmp_path, "port_calls", "csv", "csv")
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[-1] == "wkt" and "port_locode" in header


def test_format_and_extension_never_silently_disagree(case, tmp_path):
    with pytest.raises(InputError, match="does not match the extension"):
        workflow.export(case.case_dir, "csv", tmp_path / "x.json", "port_calls")
    out = tmp_path / "calls.geojson"
    workflow.export(case.case_dir, None, out, "port_calls")  # the format follows the extension
    assert json.loads(out.read_text(encoding="utf-8"))["type"] == "FeatureCollection"
    runner = CliRunner()
    refused = runner.invoke(
        app, ["export", "--case", str(case.case_dir), "--format", "csv", "--out", str(tmp_path / "y.json"), "--table", "gaps"]
    )  # fmt: skip
    assert refused.exit_code == 2 and "does not match" in refused.output
    assert not (tmp_path / "y.json").exists()


def test_export_help_lists_the_tables():
    result = CliRunner().invoke(app, ["export", "--help"], terminal_width=400)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for name in ("port_calls", "gaps", "encounters", "tracks", "vessels", "identity_events"):
        assert name in text


def test_an_out_extension_that_names_no_format_is_refused(tmp_path):
    from cargotrace.errors import InputError
    from cargotrace.report.export import resolve_format

    with pytest.raises(InputError, match="cannot tell an export format"):
        resolve_format(None, tmp_path / "findings.xlsx")
    assert resolve_format(None, tmp_path / "findings") == "json"
    assert resolve_format(None, tmp_path / "calls.GeoJSON") == "geojson"


def test_geojson_of_a_table_without_a_place_names_the_table(case, tmp_path):
    """It said "this table has no coordinates" without saying which, nor what to do."""
    with pytest.raises(InputError) as refused:
        workflow.export(case.case_dir, "geojson", tmp_path / "v.geojson", "vessels")
    text = str(refused.value)
    assert text.startswith("--table vessels has no coordinates to write as GeoJSON (columns: mmsi,")
    assert "write it as csv, json or parquet. Tables with a place: port_calls, arrivals," in text
    assert not (tmp_path / "v.geojson").exists()
