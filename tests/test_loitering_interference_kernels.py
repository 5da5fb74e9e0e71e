"""The loitering and interference kernels (maritime/kernels/loitering.py, interference.py, run in
the track kernel's pass) against the stage SQL they replace on the DuckDB engine: the same
`loitering_candidates`, `loitering`, `position_jumps`, `circling`, `interference_marks`,
`interference` and `spoofed_positions`, on hand-built tracks with exact answers (runs cut by
a missing speed, a fast fix, a gap of exactly `gap_hours`, a fix of the same second; the
median of an even count; circles within one hour and across an hour; vessels jumping
together) and on generated fleets (Hypothesis), in one part, in parts of 5 fixes and in
vessel partitions of 7 fixes on disk (conftest.chunk_rows). Means are summed in another order
by each path, so raw floats are compared to 1e-9 (rounded columns exactly)."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from cargotrace.analysis.pipeline import STAGES, run_stage
from cargotrace.maritime.kernels import chunks, views
from cargotrace.maritime.kernels import interference as interference_kernel
from cargotrace.maritime.kernels import loitering as loitering_kernel
from cargotrace.reference.geodesy import KM_PER_DEG
from cargotrace.settings import AnalysisSettings
from test_maritime_support import PORT, T0, east, north, port_row, series

import kernel_support
from conftest import shared_data
from kernel_support import assert_tables_match, ordered_by, positions_case, run_both_ways

SEA = east(north(PORT, 100.0), 300.0)  # far from the one port
TABLES = {
    "loitering_candidates": "mmsi, started_at",
    "loitering": "mmsi, started_at",
    "position_jumps": "mmsi, ts, lat, lon",
    "circling": "mmsi, hour_start",
    "interference_marks": "mmsi, hour_start, cell_y, cell_x, mark",
    "interference": "hour_start, cell_y, cell_x",
    "spoofed_positions": "mmsi, timestamp, lat, lon",
}
STAGE_NAMES = ("track", "loitering", "interference")


def _case(fixes: list[tuple[Any, ...]]) -> duckdb.DuckDBPyConnection:
    return positions_case(fixes, ports=[port_row("XXTST", PORT)])


def _kernels_used(con: duckdb.DuckDBPyConnection, config: AnalysisSettings) -> None:
    """The kernels' rows were used, not the SQL fallback."""
    assert views.tag(con, loitering_kernel.RUNS) == loitering_kernel.rules(config)
    assert views.tag(con, interference_kernel.SHAPES) == interference_kernel.rules(config)


def assert_same(con: duckdb.DuckDBPyConnection, **overrides: Any) -> dict[str, list[Any]]:
    """Run track, loitering and interference by their SQL, then by the kernels: each table
    both ways. Returns the kernels' rows."""
    by_sql, by_kernel = run_both_ways(
        con, STAGE_NAMES, ordered_by(TABLES), after_kernels=_kernels_used, **overrides
    )
    assert_tables_match(by_sql, by_kernel)
    return by_kernel


def _loitering(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute(
        "SELECT mmsi, started_at, ended_at, hours, fixes, median_sog_kn FROM loitering "
        "ORDER BY mmsi, started_at"
    ).fetchall()


def test_runs_of_slow_fixes_by_hand(chunk_rows):
    at = lambda minutes: T0 + timedelta(minutes=minutes)  # noqa: E731
    fixes = series(1, T0, SEA, [0.3, 1.1] * 16)  # 5 h 10 min, an even count: median 0.7
    # a missing speed and a fast fix each cut a run: 4 h 10 min, cut, 4 h 10 min, cut, 3 h
    fixes += series(2, T0, SEA, [1.0] * 26 + [None] + [1.0] * 26 + [9.0] + [1.0] * 19)
    # a gap of exactly gap_hours cuts (4 h + 6 h + 4 h: two runs), 5 h 50 min does not
    fixes += series(3, T0, SEA, [1.5] * 25) + series(3, at(240 + 360), SEA, [1.5] * 25)
    fixes += series(4, T0, SEA, [0.5] * 13) + series(4, at(120 + 350), SEA, [0.5] * 13)
    # at 2 h, a fast fix and a slow one in the same second: the slow one (further north)
    # comes after the fast one, so a run restarts there: 1 h 50 min, then 4 h
    fixes += series(5, T0, SEA, [1.0] * 13) + series(5, at(120), SEA, [1.0] * 25)
    fixes += [(5, at(120), SEA[0] - 0.001, SEA[1], 12.0)]
    fixes = [f for f in fixes if not (f[0] == 5 and f[1] == at(120) and f[4] == 1.0)]
    fixes += [(5, at(120), SEA[0] + 0.001, SEA[1], 1.0)]
    fixes = series(6, T0, SEA, [9.0] + [1.0] * 25) + fixes  # first: a fast fix, then a run
    # every fix twice, a gap of 6 h after 4 h: the twin fixes (equal in every key of the
    # window's order) fall on one side of the cut
    twice = series(7, T0, SEA, [1.0] * 25) + series(7, at(600), SEA, [1.0] * 25)
    fixes += twice + twice
    con = _case(fixes)
    assert_same(con)
    assert _loitering(con) == [
        (1, T0, at(310), 5.167, 32, 0.7),
        (2, T0, at(250), 4.167, 26, 1.0),
        (2, at(270), at(520), 4.167, 26, 1.0),
        (3, T0, at(240), 4.0, 25, 1.5),
        (3, at(600), at(840), 4.0, 25, 1.5),
        (4, T0, at(590), 9.833, 26, 0.5),
        (5, at(120), at(360), 4.0, 25, 1.0),
        (6, at(10), at(250), 4.0, 25, 1.0),
        (7, T0, at(240), 4.0, 50, 1.0),
        (7, at(600), at(840), 4.0, 50, 1.0),
    ]


def _circle(mmsi: int, centre: tuple[float, float], radius_km: float, start=T0, n=12) -> list:
    """`n` fixes every 5 minutes evenly round a circle (the SQL's flat-earth offsets)."""
    kx = KM_PER_DEG * math.cos(math.radians(centre[0]))
    return [
        (mmsi, start + timedelta(minutes=5 * i),
         centre[0] + radius_km / KM_PER_DEG * math.sin(2 * math.pi * i / n),
         centre[1] + radius_km / kx * math.cos(2 * math.pi * i / n), 10.0)
        for i in range(n)
    ]  # fmt: skip


def test_circles_and_jumps_by_hand(chunk_rows):
    centre = (40.25, 150.25)  # the middle of a 0.5-degree cell
    fixes = _circle(11, centre, 2.0) + _circle(12, centre, 1.0) + _circle(13, centre, 5.0)
    fixes += _circle(14, centre, 2.0, start=T0 + timedelta(minutes=30))  # half in each hour
    fixes += _circle(15, centre, 0.3)  # narrower than circling_min_radius_km
    # three vessels jumping 300 km out and straight back in one cell and hour (spoofed), and
    # one whose far fix is two fixes long (two jumps, no spoofing)
    for mmsi, far in ((21, 2), (22, 3), (23, 4), (24, 5)):
        track = series(mmsi, T0 + timedelta(hours=2), SEA, [8.0] * 8)
        track[far] = (mmsi, track[far][1], *north(SEA, 300.0), 8.0)
        if mmsi == 24:
            track[far + 1] = (mmsi, track[far + 1][1], *north(SEA, 300.0), 8.0)
        fixes += track
    con = _case(fixes)
    found = assert_same(con)
    assert [(r[0], r[2], r[5]) for r in found["circling"]] == [
        (11, 12, 2.0), (12, 12, 1.0), (13, 12, 5.0)
    ]  # fmt: skip
    assert [r[0] for r in found["spoofed_positions"]] == [21, 22, 23]
    assert [(r[0], r[1]) for r in found["position_jumps"]] == [
        (21, T0 + timedelta(hours=2, minutes=20)), (21, T0 + timedelta(hours=2, minutes=30)),
        (22, T0 + timedelta(hours=2, minutes=30)), (22, T0 + timedelta(hours=2, minutes=40)),
        (23, T0 + timedelta(hours=2, minutes=40)), (23, T0 + timedelta(hours=2, minutes=50)),
        (24, T0 + timedelta(hours=2, minutes=50)), (24, T0 + timedelta(hours=3, minutes=10)),
    ]  # fmt: skip
    cells = con.execute(
        "SELECT hour_start, vessels, jump_ends, circling_vessels FROM interference "
        "ORDER BY hour_start, cell_y"
    ).fetchall()
    assert cells[0] == (T0, 3, 0, 3)
    # the jumps at 2 h: 21, 22, 23 and 24 jump out and back within the hour (ends near SEA
    # and 300 km north, two cells), 24's return at 3:10 falls in the next hour
    assert [(c[0], c[1], c[2]) for c in cells[1:]] == [
        (T0 + timedelta(hours=2), 4, 7), (T0 + timedelta(hours=2), 4, 7)
    ]  # fmt: skip


def test_no_positions():
    found = assert_same(_case([]))
    assert all(rows == [] for rows in found.values())


def test_track_by_sql_then_kernels_fall_back_to_the_sql():
    con = _case(series(1, T0, SEA, [1.0] * 31))
    views.release(con)
    track = next(s for s in STAGES if s.name == "track")
    run_stage(con, track, AnalysisSettings(maritime_kernel="sql"))
    for name in ("loitering", "interference"):
        run_stage(con, next(s for s in STAGES if s.name == name), AnalysisSettings())
    assert _loitering(con) == [(1, T0, T0 + timedelta(hours=5), 5.0, 31, 1.0)]
    # rows the track kernel made with other settings are not reused
    run_stage(con, track, AnalysisSettings())
    run_stage(
        con, next(s for s in STAGES if s.name == "loitering"), AnalysisSettings(gap_hours=0.1)
    )
    assert _loitering(con) == []  # every 10-minute step is a gap now


# places: a circle of radius 1.5 km round (40.25, 150.25) in 8 points, its centre, and two
# places 300 km away (jumps); speeds around loitering_max_sog_kn and missing
_C = (40.25, 150.25)
_KX = KM_PER_DEG * math.cos(math.radians(_C[0]))
PLACES = [
    (_C[0] + 1.5 / KM_PER_DEG * math.sin(k * math.pi / 4), _C[1] + 1.5 / _KX * math.cos(k * math.pi / 4))
    for k in range(8)
] + [_C, north(_C, 300.0), east(_C, 300.0)]  # fmt: skip

fleets = kernel_support.fleets(
    st.integers(0, 5),  # vessel
    st.integers(0, 60),  # minutes from the start, in 5-minute steps (ties happen)
    PLACES,
    [0.0, 0.5, 1.9, 2.0, 2.5, None],
    max_fixes=120,
)


@settings(kernel_support.EQUALITY_EXAMPLES, max_examples=25)
@given(spec=fleets, gap=st.sampled_from([0.25, 6.0]))
def test_kernels_equal_the_sql_on_generated_fleets(spec, gap, chunk_rows):
    fixes = [
        (273000000 + v, T0 + timedelta(minutes=5 * m), *PLACES[p], sog) for v, m, p, sog in spec
    ]
    assert_same(
        _case(fixes),
        gap_hours=gap,
        loitering_min_hours=0.5,
        circling_min_fixes=3,
        interference_min_vessels=2,
    )


def test_kernels_equal_the_sql_on_the_noaa_day(monkeypatch):
    path = shared_data("ais", "noaa", "AISdata_marinecadastre_20220103.csv.gz")
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 20_000)  # several parts and blocks
    con = _case([])
    con.execute(
        f"""INSERT INTO positions (mmsi, timestamp, lat, lon, sog)
            SELECT MMSI, CAST(BaseDateTime AS TIMESTAMP) AT TIME ZONE 'UTC', LAT, LON,
                   CASE WHEN SOG < 102.2 THEN SOG END
            FROM read_csv('{path}', header = true)"""
    )
    # a sample of mostly its first 25 minutes: runs of 12 minutes, every cell-hour with a jump
    found = assert_same(con, loitering_min_hours=0.2, interference_min_vessels=1)
    assert len(found["loitering_candidates"]) > 10 and len(found["position_jumps"]) > 10
    assert len(found["circling"]) > 0 and len(found["spoofed_positions"]) > 0


def test_circling_bound_covers_every_radius():
    """`shapes` skips a vessel-hour whose box of fixes is too small for a circle of the least
    radius: the bound (`_spans_km`) is at least every fix's distance to the centre as `shapes`
    measures it (so at least the radius), on random hours at every latitude, and a circle of
    exactly the least radius, far north, is still found, while one a metre narrower is not."""
    import numpy as np

    rng = np.random.default_rng(11)
    sizes = rng.integers(1, 40, size=400)
    starts = np.cumsum(sizes) - sizes
    centre_lat = np.repeat(rng.uniform(-89, 89, size=400), sizes)
    spread = np.repeat(10.0 ** rng.uniform(-6, 0, size=400), sizes)
    lat = centre_lat + rng.normal(size=len(centre_lat)) * spread
    lon = np.repeat(rng.uniform(-179, 179, size=400), sizes) + rng.normal(size=len(lat)) * spread
    bound = interference_kernel._spans_km(lat, lon, starts)
    c_lat = np.add.reduceat(lat, starts) / sizes
    c_lon = np.add.reduceat(lon, starts) / sizes
    dx = (lon - np.repeat(c_lon, sizes)) * KM_PER_DEG * np.repeat(np.cos(np.radians(c_lat)), sizes)
    dy = (lat - np.repeat(c_lat, sizes)) * KM_PER_DEG
    assert np.all(bound >= np.maximum.reduceat(np.sqrt(dx * dx + dy * dy), starts))

    config = AnalysisSettings()
    for radius_km, found in ((config.circling_min_radius_km, 1), (0.499, 0)):
        fixes = _circle(7, (80.0, 10.0), radius_km, n=12)
        mmsi = np.array([f[0] for f in fixes], np.int64)
        ts = np.array([int(f[1].timestamp()) * 1_000_000 for f in fixes], np.int64)
        lats, lons = np.array([f[2] for f in fixes]), np.array([f[3] for f in fixes])
        rows = interference_kernel.shapes(mmsi, ts, lats, lons, config)
        assert rows.num_rows == found
