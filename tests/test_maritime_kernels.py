"""The NumPy kernels (maritime/kernels/) against the stage SQL they replace on the DuckDB
engine: the same tables, row for row, on generated fleets (Hypothesis), hand-made corner
cases, and the real NOAA day. Small chunk sizes force the multi-part, multi-block and
threaded paths on small inputs."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cargotrace.analysis.pipeline import STAGES, run_stage
from cargotrace.case.schema import create_statements
from cargotrace.errors import InputError
from cargotrace.ingest.kinds.ports import gazetteer_table
from cargotrace.maritime.kernels import chunks, partitions, views
from cargotrace.settings import AnalysisSettings
from test_maritime_support import PORT, T0, east, north, port_row

import kernel_support
from conftest import shared_data
from kernel_support import assert_tables_match, positions_case, run_both_ways

MARITIME = ("track", "identity", "ships", "port_areas", "port_zones", "observed_calls", "gaps")
# every table the per-fix stages and the stages reading them write, with its key columns
COMPARED = {
    "track": "vid, seq",
    "shared_mmsi": "mmsi",
    "spoofed_fixes": "vid, seq",
    "zone_marks": "vid, port_id, seq",
    "visits": "vid, port_id, island",
    "port_stops": "vid, port_id, island, begin_seq",
    "observed_calls": "vessel_key, arrived_at",
    "gaps": "vessel_key, started_at",
    "identity_events": "vessel_key, event, observed_at",
}
NEIGHBOUR = east(PORT, 7.0)  # its circle overlaps the test port's: cells with two areas
SQUARE = "POLYGON((150.30 40.00, 150.40 40.00, 150.40 40.08, 150.30 40.08, 150.30 40.00))"
PORTS = (
    port_row("XXTST", PORT),
    port_row("XXNBR", NEIGHBOUR, radius_km=3.0),
    port_row("XXTST", north(PORT, 9.0), radius_km=2.0),  # a declared anchorage of XXTST
    port_row("XXPOL", (40.04, 150.35), radius_km=None, wkt=SQUARE),
)
PLACES = [
    PORT, north(PORT, 4.999), north(PORT, 5.5), north(PORT, 6.2), north(PORT, 9.5), NEIGHBOUR,
    east(PORT, 3.6), east(PORT, 4.0), (40.04, 150.35), (40.0805, 150.35), (40.04, 150.2995),
    north(PORT, 40.0), (41.5, 152.0),
]  # fmt: skip


def _table(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[Any, ...]]:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? UNION ALL "
        "SELECT count(*) FROM duckdb_views() WHERE view_name = ?",
        [table, table],
    ).fetchall()
    assert sum(n for (n,) in exists), f"{table} missing"
    got = con.execute(f"SELECT * FROM {table} ORDER BY {COMPARED[table]}").fetchall()
    return sorted(got, key=repr)  # ties on the key columns in one order


def _case(
    positions: list[tuple[Any, ...]] | str, ports=PORTS, gazetteer: bool = False
) -> duckdb.DuckDBPyConnection:
    con = positions_case(positions, ports)
    if gazetteer:
        con.register("gazetteer_arrow", gazetteer_table())
        con.execute("""INSERT INTO ports (locode, name, country, lat, lon, radius_km, origin)
                       SELECT locode, name, country, lat, lon, 5.0, 'gazetteer' FROM gazetteer_arrow
                       QUALIFY row_number() OVER (PARTITION BY locode ORDER BY name) = 1""")
    return con


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {t: _table(con, t) for t in COMPARED}


def assert_same(con: duckdb.DuckDBPyConnection, **overrides: Any) -> dict[str, int]:
    """Run the maritime stages with the SQL, then with the kernels; each table exactly alike."""
    by_sql, by_kernel = run_both_ways(con, MARITIME, _tables, **overrides)
    return assert_tables_match(by_sql, by_kernel, exact=True)


vessels = kernel_support.fleets(
    st.sampled_from([273000001, 273000002, 273000010, 636012345, 412000000]),
    st.sampled_from(
        [0, 1, 7, 30, 60, 239, 240, 361, 600]
    ),  # minutes to the next fix (0: same second)
    PLACES,
    [0.0, 0.1, 0.19, 0.2, 0.3, 0.5, 0.51, 2.0, 12.0, None],
    max_fixes=80,
)


@settings(kernel_support.EQUALITY_EXAMPLES, max_examples=20)
@given(spec=vessels)
def test_kernels_equal_the_sql_on_generated_fleets(spec, chunk_rows):
    clock: dict[int, Any] = {}
    fixes = []
    for mmsi, step, place, sog in spec:
        clock[mmsi] = clock.get(mmsi, T0 + timedelta(seconds=mmsi % 97)) + timedelta(minutes=step)
        fixes.append((mmsi, clock[mmsi], *PLACES[place], sog))
    assert_same(_case(fixes))


def test_split_transmitters_and_thresholds(chunk_rows):
    """A cloned MMSI (two ships 300 km apart reporting in turn), a ship stopping in the
    overlap of two ports, at the anchorage, in the polygon, and gaps either side of 6 h."""
    fixes = []
    for i in range(40):
        t = T0 + timedelta(minutes=10 * i)
        fixes.append((273000001, t, *(PORT if i % 2 else (43.0, 151.0)), 0.1))
        fixes.append(
            (273000002, t + timedelta(seconds=7), *east(PORT, 3.6 + i * 0.001), 0.05 * (i % 12))
        )
        fixes.append(
            (273000003, t + timedelta(hours=(6 if i == 20 else 0)), *north(PORT, 9.0), 0.0)
        )
        fixes.append(
            (273000004, t + timedelta(seconds=11), 40.04, 150.3 + 0.002 * i, 0.1 if i < 30 else 9.0)
        )
    counts = assert_same(_case(fixes))
    assert (
        counts["shared_mmsi"] == 1 and counts["observed_calls"] >= 3 and counts["zone_marks"] > 10
    )


def test_no_positions_and_no_ports(chunk_rows):
    assert assert_same(_case([]))["track"] == 0
    one = [(273000001, T0 + timedelta(minutes=i), *PORT, 0.0) for i in range(200)]
    assert assert_same(_case(one, ports=()))["zone_marks"] == 0


def test_sql_track_read_by_the_zones_kernel(monkeypatch):
    """The zones kernel on a track the SQL built (read back in vessel chunks)."""
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 3)
    fixes = [(273000000 + v, T0 + timedelta(minutes=7 * i + v), *east(PORT, 0.3 * i), 0.1 * (i % 7))
             for v in range(4) for i in range(30)]  # fmt: skip
    con = _case(fixes)
    marks = []
    for zones in ("sql", "numpy"):
        views.release(con)
        for stage in STAGES:
            if stage.name in MARITIME:
                kernel = zones if stage.name == "port_zones" else "sql"
                run_stage(con, stage, AnalysisSettings(maritime_kernel=kernel))
        marks.append(_table(con, "zone_marks"))
    assert marks[0] == marks[1] and len(marks[0]) > 10


def test_flat_distance_band_covers_the_haversine():
    """The zones kernel decides most fixes by a flat-earth distance; its error bound must
    hold wherever a fix can be, up to 80 degrees of latitude and for big circles."""
    import numpy as np

    from cargotrace.maritime.kernels.port_zones import PortGrid
    from cargotrace.reference.geodesy import haversine_km

    rng = np.random.default_rng(3)
    for lat0, radius in ((0.0, 5.0), (45.0, 5.0), (69.9, 5.0), (60.0, 50.0), (-33.0, 0.2)):
        con = _case([], ports=(port_row("XXBIG", (lat0, 20.0), radius_km=radius),))
        run_stage(con, next(s for s in STAGES if s.name == "port_areas"), AnalysisSettings())
        grid = PortGrid(con, 1.0)
        reach_deg = (radius + 1.0) / 111.0 + 0.04
        lat = lat0 + rng.uniform(-reach_deg, reach_deg, 20000)
        lon = 20.0 + rng.uniform(-reach_deg, reach_deg, 20000) / math.cos(math.radians(lat0))
        row = np.zeros(len(lat), np.int64)
        flat = grid._flat_km(lat, lon, row)
        exact = haversine_km(lat, lon, lat0, 20.0)
        assert np.all(np.abs(flat - exact) < grid.row["band_km"][0]), (lat0, radius)


def test_kernels_equal_the_sql_on_the_noaa_day(monkeypatch):
    path = shared_data("ais", "noaa", "AISdata_marinecadastre_20220103.csv.gz")
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 20_000)  # several parts and blocks
    con = _case(
        f"""SELECT MMSI, CAST(BaseDateTime AS TIMESTAMP) AT TIME ZONE 'UTC', LAT, LON,
                   CASE WHEN SOG < 102.2 THEN SOG END
            FROM read_csv('{path}', header = true)""",  # with its 43 pairs of fixes in one second
        ports=(),
        gazetteer=True,
    )
    counts = assert_same(con)
    assert counts["track"] > 90_000 and counts["observed_calls"] > 50 and counts["gaps"] > 100


def test_fixes_of_one_second_are_ordered_alike_whatever_the_ingest_order(chunk_rows):
    """Fixes sharing vessel and second are ordered by latitude, longitude, then speed
    (missing last) on both paths, so the track does not depend on the order of the rows."""
    fixes = []
    for i in range(30):
        t = T0 + timedelta(minutes=40 * (i // 3))  # three fixes a second, every 40 minutes
        place = (PORT, east(PORT, 3.6), north(PORT, 40.0))[(i * 7) % 3]
        fixes.append((273000001, t, *place, (0.1, None, 12.0)[i % 3]))
        fixes.append(
            (273000002, t, *PORT, (0.3, None, 0.1)[(i * 5) % 3])
        )  # one place, speeds differ
    tracks = []
    for rows in (fixes, fixes[::-1], fixes[1::2] + fixes[::2]):
        con = _case(rows)
        assert_same(con)
        tracks.append(_table(con, "track"))
        ordered = con.execute(
            "SELECT mmsi, ts, lat, lon, sog FROM track ORDER BY vid, seq"
        ).fetchall()
        for a, b in zip(ordered, ordered[1:], strict=False):
            if a[:2] == b[:2]:  # one vessel, one second: by position, then speed, missing last
                assert (a[2], a[3]) < (b[2], b[3]) or (
                    (a[2], a[3]) == (b[2], b[3]) and (b[4] is None or a[4] < b[4])
                )
        speeds = con.execute("SELECT sog FROM track WHERE mmsi = 273000002 ORDER BY seq").fetchall()
        assert [v for (v,) in speeds] == [0.1, 0.3, None] * 10
    assert tracks[0] == tracks[1] == tracks[2]


def test_vessel_partitions_go_to_disk_and_memory_stays_per_partition(monkeypatch, tmp_path):
    """Above CARGOTRACE_PARTITION_FIXES positions the kernels cut the case into vessel
    partitions on disk, next to the case: the track is published as a view over one Parquet
    file per partition, each holding whole vessels; the tables equal the SQL's, and
    releasing the tables deletes the files."""
    monkeypatch.setenv(partitions.PARTITION_FIXES_ENV, "25")
    fixes = [(273000000 + v, T0 + timedelta(minutes=10 * i), *east(PORT, 0.5 * i), 0.1 * (i % 5))
             for v in range(6) for i in range(30)]  # fmt: skip
    con = duckdb.connect(str(tmp_path / "case.duckdb"))
    for statement in create_statements():
        con.execute(statement)
    con.executemany(
        "INSERT INTO positions (mmsi, timestamp, lat, lon, sog) VALUES (?, ?, ?, ?, ?)", fixes
    )
    for p in PORTS:
        con.execute("INSERT INTO ports (locode, name, country, lat, lon, radius_km, geometry_wkt, origin) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 'user')", list(p))  # fmt: skip
    assert partitions.partition_count(con) == 8  # 180 positions / 25
    counts = assert_same(con)
    assert counts["track"] == 180 and counts["zone_marks"] > 6
    for stage in STAGES:
        if stage.name in MARITIME:
            run_stage(con, stage, AnalysisSettings())
    files = views.published_files(con, "track")
    assert files and views.published(con, "track") is None
    assert all(f.parent.parent.parent == tmp_path for f in files)  # next to the case
    per_file = [
        con.execute(f"SELECT list(DISTINCT mmsi) FROM read_parquet('{f}')").fetchone()[0]
        for f in files
    ]
    seen = [m for mmsis in per_file for m in mmsis]
    assert sorted(seen) == [273000000 + v for v in range(6)]  # every vessel in one file only
    assert views.published_files(con, "zone_marks") is not None
    views.release(con)
    assert not any(f.exists() for f in files)
    assert not list(tmp_path.glob(".cargotrace-kernels-*"))
    monkeypatch.setenv(partitions.PARTITION_FIXES_ENV, "lots")
    with pytest.raises(InputError, match="CARGOTRACE_PARTITION_FIXES must be a positive whole"):
        partitions.partition_count(con)


@pytest.mark.parametrize("partition", [None, "25"], ids=["in memory", "vessel partitions"])
def test_rows_not_yet_committed_are_read_through_the_callers_connection(monkeypatch, partition):
    """The blocks are fetched on other cursors, which see committed rows only (and the
    vessel partitions are spilled through the caller's connection)."""
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 4)
    if partition:
        monkeypatch.setenv(partitions.PARTITION_FIXES_ENV, partition)
    con = _case([])
    con.execute("BEGIN")
    fixes = [(273000000 + i % 3, T0 + timedelta(minutes=i), *PORT, 0.0) for i in range(60)]
    con.executemany(
        "INSERT INTO positions (mmsi, timestamp, lat, lon, sog) VALUES (?, ?, ?, ?, ?)", fixes
    )
    run_stage(con, next(s for s in STAGES if s.name == "track"), AnalysisSettings())
    assert con.execute("SELECT count(*), count(DISTINCT vid), max(seq) FROM track").fetchone() == (
        60,
        3,
        20,
    )
    con.execute("COMMIT")


def test_random_fixes_around_overlapping_ports(chunk_rows):
    """Fixes scattered over two overlapping circles, an anchorage and a polygon: the flat
    distance, the dominance of one circle over a cell and the haversine where in doubt must
    pick the same port, inside or not, as the SQL's haversine for every fix."""
    import numpy as np

    rng = np.random.default_rng(11)
    n = 3000
    lat = rng.uniform(39.9, 40.12, n)
    lon = rng.uniform(149.88, 150.45, n)
    sog = rng.choice([0.0, 0.1, 0.3, 0.6, 5.0], n)
    fixes = [(273000100 + i % 7, T0 + timedelta(minutes=10 * i), float(lat[i]), float(lon[i]), float(sog[i]))
             for i in range(n)]  # fmt: skip
    counts = assert_same(_case(fixes))
    assert counts["zone_marks"] > 500


def test_port_zones_in_the_track_pass_or_apart(chunk_rows):
    """The port tables built before the track (the registry's order): the track kernel's pass
    makes the port zones stage's tables from each part's track while it is in memory. Built
    after the track: the zones kernel reads the track, as with a track built by SQL. Both
    equal the SQL, and the fused tables are not reused with other settings."""
    from cargotrace.maritime.kernels import port_zones

    fixes = [(273000000 + v, T0 + timedelta(minutes=7 * i + v), *east(PORT, 0.3 * i), 0.1 * (i % 7))
             for v in range(4) for i in range(30)]  # fmt: skip
    fixes += [
        (273000009, T0 + timedelta(minutes=10 * i), 40.04, 150.3 + 0.002 * i, 0.1)
        for i in range(40)
    ]
    con = _case(fixes)
    by_name = {s.name: s for s in STAGES}
    runs = {}
    for way, order in {
        "sql": MARITIME,
        "fused": [s.name for s in STAGES if s.name in MARITIME],
        "apart": MARITIME,  # track first: no port tables yet when it runs
        "other settings": [s.name for s in STAGES if s.name in MARITIME],
    }.items():
        views.release(con)
        config = AnalysisSettings(maritime_kernel="sql" if way == "sql" else "numpy")
        for name in order:
            if way == "other settings" and name == "port_zones":
                config = AnalysisSettings(stop_begin_kn=0.25)
            run_stage(con, by_name[name], config)
        fused = views.tag(con, port_zones.FUSED_TAG) is not None
        assert fused == (way in ("fused", "other settings")), way
        runs[way] = {t: _table(con, t) for t in ("zone_marks", "visits", "port_stops")}
    assert runs["fused"] == runs["sql"] == runs["apart"]
    assert len(runs["sql"]["zone_marks"]) > 10 and runs["sql"]["port_stops"]
    assert runs["other settings"]["port_stops"] != runs["sql"]["port_stops"]


@pytest.mark.parametrize("workers", [1, 2, 3], ids=["one writer", "two slots", "three slots"])
@pytest.mark.parametrize("committed", [True, False], ids=["committed", "not yet committed"])
@pytest.mark.parametrize("parts", [None, 4], ids=["cut when read", "ordered by part when cut"])
def test_spill_keeps_row_order_within_each_part(monkeypatch, tmp_path, workers, committed, parts):
    """The spill streams contiguous row-id ranges on one cursor per worker, each into files
    of its own: read back, every part holds exactly the rows of its partition and part, in
    the table's row order (the order a feed wrote them in, which the track's sort relies
    on), whether the rows come through the slots or, not yet committed, through the
    caller's connection; and whether the parts are cut when read or the writers ordered
    each batch by part (read as slices)."""
    import numpy as np

    monkeypatch.setattr(chunks, "workers", lambda: workers)
    monkeypatch.setattr(chunks, "BLOCK_ROWS", 7)  # many blocks per slot
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 16)  # several parts per partition
    con = duckdb.connect(str(tmp_path / "case.duckdb"))
    con.execute("CREATE TABLE positions (mmsi BIGINT, x BIGINT)")
    if not committed:
        con.execute("BEGIN")
    rows = [(273000000 + (i * 7919) % 23, i) for i in range(400)]
    con.executemany("INSERT INTO positions VALUES (?, ?)", rows)
    ranges = partitions._row_ranges(con, "positions")
    assert (ranges is not None) == (committed and workers > 1)
    files = partitions.PartitionFiles(tmp_path / "spill", "mmsi", 3, parts)
    partitions._spill(con, "SELECT mmsi, x FROM positions WHERE {rows}", "positions", files)
    seen = []
    for cut in files.read():
        assert len(cut) == (parts or chunks.part_count(sum(len(p["x"]) for c in cut for p in c)))
        assert len(cut) > 1
        for part in cut:
            joined = chunks.join_pieces(part)
            mmsi, x = joined["mmsi"], joined["x"]
            assert list(x) == sorted(x)  # row order kept
            assert len(set(partitions.partition_of(mmsi, 3).tolist())) <= 1
            assert len(set(chunks.part_of(mmsi, len(cut)).tolist())) <= 1
            seen.extend(zip(mmsi.tolist(), x.tolist(), strict=True))
    assert sorted(seen, key=lambda r: r[1]) == rows
    assert np.unique([m for m, _ in seen]).size == 23
    assert not list((tmp_path / "spill").glob("*.arrow"))  # deleted once read
    files.remove()


def test_spill_of_a_temp_table_goes_through_the_callers_connection(tmp_path):
    """Other cursors do not see a temp table of the caller's connection: its rows are
    spilled through that connection, all of them."""
    con = duckdb.connect(str(tmp_path / "case.duckdb"))
    con.execute("CREATE TEMP TABLE positions (mmsi BIGINT, x BIGINT)")
    con.executemany(
        "INSERT INTO positions VALUES (?, ?)", [(273000000 + i % 5, i) for i in range(50)]
    )
    assert partitions._row_ranges(con, "positions") is None
    files = partitions.PartitionFiles(tmp_path / "spill", "mmsi", 2)
    partitions._spill(con, "SELECT mmsi, x FROM positions WHERE {rows}", "positions", files)
    seen = sorted(
        int(x) for cut in files.read() for part in cut for piece in part for x in piece["x"]
    )
    assert seen == list(range(50))
    files.remove()
