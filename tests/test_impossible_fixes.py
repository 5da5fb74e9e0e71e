"""Impossible fixes (maritime/interference.impossible_fixes_statements): found by `analyze`
from the track's jumps (track.jump_sql, the one rule), no longer at ingest; the NumPy kernel
and the SQL agree, the files a track came in do not matter, and the stages and exports that
leave such fixes out read them. Hand-built tracks with exact answers."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cargotrace import workflow
from cargotrace.analysis.pipeline import run_stages
from cargotrace.case.store import Case
from cargotrace.errors import CargotraceError
from cargotrace.maritime.detections import VALID_FIXES
from cargotrace.reference.geodesy import EARTH_RADIUS_KM
from cargotrace.settings import AnalysisSettings

from builders import write_csv

T0 = datetime(2023, 9, 1, tzinfo=UTC)
SHIP = 273123456
HEADER = ["mmsi", "timestamp", "lat", "lon"]


def north(lat: float, nm: float) -> float:
    """The latitude `nm` nautical miles north of `lat` along a meridian (great circle)."""
    return lat + math.degrees(nm * 1.852 / EARTH_RADIUS_KM)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


LAT = [10.0]
for _nm in (49, 60, 10):  # one hour apart: 49 kn (possible), 60 kn (impossible), 10 kn
    LAT.append(north(LAT[-1], _nm))
TRACK = [[SHIP, at(3600 * i), lat, 20.0] for i, lat in enumerate(LAT)]


def impossible(case: Path, kernel: str) -> list[tuple]:
    """`analyze`'s impossible fixes of the case (its stages up to `impossible_fixes`)."""
    with Case.open(case, write=True) as c:
        run_stages(c.con, AnalysisSettings(maritime_kernel=kernel), ["impossible_fixes"])
        return c.con.execute(
            """SELECT mmsi, strftime(timestamp, '%H:%M:%S'), round(lat, 6),
                      strftime(prev_timestamp, '%H:%M:%S'), round(implied_speed_kn, 3)
               FROM impossible_fixes ORDER BY mmsi, timestamp"""
        ).fetchall()


def ingest(case: Path, *paths: Path) -> None:
    for path in paths:
        [r] = workflow.ingest(case, "ais", [path])
        assert r.rows_read == r.rows_kept + r.rows_quarantined + r.rows_duplicate


@pytest.mark.parametrize("kernel", ["numpy", "sql"])
def test_60_knots_is_impossible_49_is_not_and_the_ingest_leaves_it_to_analyze(tmp_path, kernel):
    ingest(tmp_path / "case", write_csv(tmp_path / "t.csv", HEADER, TRACK))
    with Case.open(tmp_path / "case") as c:
        assert c.scalar("SELECT count(flags) FROM positions") == 0  # nothing decided at ingest
    assert impossible(tmp_path / "case", kernel) == [
        (SHIP, "02:00:00", round(LAT[2], 6), "01:00:00", 60.0)
    ]


@pytest.mark.parametrize(
    "split", [[[0, 2], [1, 3]], [[1, 3], [0, 2]], [[3], [0], [2, 1]], [[2, 3], [0, 1]]]
)
def test_impossible_fixes_do_not_depend_on_files_or_their_order(tmp_path, split):
    """A file's fixes may fall between fixes of files ingested before: the track is sorted
    whole in analyze, so how it came in does not matter."""
    paths = [
        write_csv(tmp_path / f"part{i}.csv", HEADER, [TRACK[k] for k in part])
        for i, part in enumerate(split)
    ]
    ingest(tmp_path / "case", *paths)
    assert impossible(tmp_path / "case", "numpy") == [
        (SHIP, "02:00:00", round(LAT[2], 6), "01:00:00", 60.0)
    ]


@pytest.mark.parametrize("kernel", ["numpy", "sql"])
def test_a_step_shorter_than_jump_min_km_is_scatter_a_long_one_in_the_same_second_is_not(
    tmp_path, kernel
):
    """GPS scatter (300 m, then 2 km more in the same second: thousands of knots) is no
    jump: a step must be longer than `jump_min_km` (10 km). 12 km more in that second is;
    its speed is not a number (no time passed)."""
    lat_b = north(10.0, 0.3 / 1.852)
    lat_c = north(lat_b, 2.0 / 1.852)
    lat_d = north(lat_c, 12.0 / 1.852)
    track = [[SHIP, at(0), 10.0, 20.0], [SHIP, at(1), lat_b, 20.0],
             [SHIP, at(1), lat_c, 20.0], [SHIP, at(1), lat_d, 20.0]]  # fmt: skip
    ingest(tmp_path / "case", write_csv(tmp_path / "t.csv", HEADER, track))
    assert impossible(tmp_path / "case", kernel) == [
        (SHIP, "00:00:01", round(lat_d, 6), "00:00:01", None)
    ]


def test_stages_and_exports_leave_the_impossible_fixes_out(tmp_path):
    """The tracks export and the fixes detections and AIS disabling read leave out the fix
    analyze found impossible; a case not analysed yet has no tracks to export."""
    case = tmp_path / "case"
    ingest(case, write_csv(tmp_path / "t.csv", HEADER, TRACK))
    out = tmp_path / "tracks.geojson"
    with pytest.raises(CargotraceError, match="run `cargotrace analyze"):
        workflow.export(case, "geojson", out, "tracks")
    impossible(case, "numpy")
    workflow.export(case, "geojson", out, "tracks")
    [track] = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert track["properties"]["fixes"] == 3
    assert [round(lat, 6) for _, lat in track["geometry"]["coordinates"]] == [
        round(LAT[i], 6) for i in (0, 1, 3)
    ]
    with Case.open(case) as c:
        assert c.con.execute(f"SELECT count(*) FROM ({VALID_FIXES})").fetchone() == (3,)
    workflow.export(case, "geojson", out, "impossible_fixes")
    [fix] = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert fix["properties"]["implied_speed_kn"] == 60.0
