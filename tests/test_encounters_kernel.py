"""The encounters kernel (maritime/kernels/encounters.py) against the stage SQL it replaces on
the DuckDB engine: the same close pairs, crowds and encounters, on hand-built meetings (cell
edges at several latitudes, a crowd beside a pair, missing speeds, a run across midnight and
across partitions) and on generated fleets (Hypothesis), in one part, in parts of a few
positions, and in partitions on disk. Averages are summed in another order by each path,
so raw floats are compared to 1e-9 (rounded columns exactly)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_maritime_support import T0, east, north

import kernel_support
from kernel_support import assert_tables_match, ordered_by, positions_case, run_both_ways

BEFORE = ("track", "identity", "ships", "port_areas")
TABLES = {
    "close_pairs": "mmsi_a, mmsi_b, tbin",
    "encounter_crowds": "started_at",
    "encounter_runs": "mmsi_a, mmsi_b, started_at",
    "encounters": "started_at, mmsi_a, mmsi_b",
}


def assert_same(
    con: duckdb.DuckDBPyConnection, track_by: str = "numpy", **overrides: Any
) -> dict[str, int]:
    """Run the encounters stage by its SQL, then by the kernel: each table both ways. The
    stages before run by `track_by`: with the kernels, the track kernel's pass has binned the
    fixes already (kernels.encounters.vessel_bins); with SQL the kernel reads the positions."""
    by_sql, by_kernel = run_both_ways(
        con,
        ["encounters"],
        ordered_by(TABLES),
        before=BEFORE,
        before_kernel=track_by,
        **overrides,
    )
    return assert_tables_match(by_sql, by_kernel)


def _pair(
    a: int, b: int, at: tuple[float, float], km: float, bins: int, start=T0, offset=east, sog=0.5
):
    fixes = []
    for i in range(bins):
        t = start + timedelta(minutes=10 * i + 3)
        fixes += [(a, t, *at, sog), (b, t + timedelta(minutes=2), *offset(at, km), sog)]
    return fixes


def test_meetings_at_cell_edges_crowds_and_midnight(chunk_rows):
    fixes = []
    mmsi = 273000000
    for lat in (0.0, 45.0, 60.0, 75.0, -80.0):
        for k, shift in enumerate((0.0, 0.0031, 0.0049, 0.0051, 0.0067)):
            mmsi += 2  # 0.499 km due east, the meetings 0.1 degree apart
            fixes += _pair(mmsi, mmsi + 1, (lat + shift, 160.0 + shift + 0.1 * k), 0.499, 13)
    # 70 vessels in one cell for an hour (a crowd), a pair 3 km away meeting meanwhile
    for v in range(70):
        fixes += [(274000000 + v, T0 + timedelta(minutes=10 * i + 1), 30.0 + v * 1.3e-5, 150.0, 0.2)
                  for i in range(6)]  # fmt: skip
    fixes += _pair(275000001, 275000002, north((30.0, 150.0), 3.0), 0.3, 14, sog=None)
    # a meeting across midnight, with a second fix per bin for one of them
    night = T0.replace(hour=23)
    fixes += _pair(276000001, 276000002, (50.0, -20.0), 0.2, 15, start=night, offset=north)
    fixes += [
        (276000001, night + timedelta(minutes=10 * i + 8), 50.0001, -20.0, 1.0) for i in range(15)
    ]
    counts = assert_same(positions_case(fixes))
    assert counts["encounters"] == 27 and counts["encounter_crowds"] == 6
    assert counts["close_pairs"] > 27 * 12


def test_no_positions():
    assert assert_same(positions_case([])) == {
        "close_pairs": 0,
        "encounter_crowds": 0,
        "encounter_runs": 0,
        "encounters": 0,
    }


@pytest.mark.parametrize("track_by", ["numpy", "sql"])
def test_bins_from_the_track_pass_or_from_the_positions(track_by, chunk_rows):
    """The kernel pairs the bins the track kernel made; after a track built by SQL it bins the
    positions itself. Fixes written out of time order, two in one bin, a missing speed."""
    fixes = _pair(273000010, 273000011, (40.0, 150.0), 0.3, 14, sog=None)
    fixes += _pair(273000012, 273000013, (40.1, 150.0), 0.4, 14)
    fixes += [
        (273000012, T0 + timedelta(minutes=10 * i + 9), 40.1001, 150.0, 1.0) for i in range(8)
    ]
    fixes.reverse()
    counts = assert_same(positions_case(fixes), track_by=track_by)
    assert counts == {
        "close_pairs": 28,
        "encounter_crowds": 0,
        "encounter_runs": 2,
        "encounters": 2,
    }


PLACES = [(40.0, 150.0), (40.0045, 150.0), (40.0049, 150.003), (40.0051, 150.0061),
          (39.9999, 149.9999), (40.002, 150.0059), (60.0049, 10.009), (60.0052, 10.0103)]  # fmt: skip

fleets = kernel_support.fleets(
    st.integers(0, 7),  # vessel
    st.integers(0, 40),  # minutes from the start, in 3-minute steps
    PLACES,
    [0.0, 0.5, 1.9, 2.5, None],
    max_fixes=120,
)


@settings(kernel_support.EQUALITY_EXAMPLES, max_examples=25)
@given(spec=fleets, crowd=st.sampled_from([2, 3, 64]))
def test_kernel_equals_the_sql_on_generated_fleets(spec, crowd, chunk_rows):
    fixes = [
        (273000000 + v, T0 + timedelta(minutes=3 * m, seconds=v), *PLACES[p], sog)
        for v, m, p, sog in spec
    ]
    assert_same(
        positions_case(fixes), encounter_max_vessels_per_cell=crowd, encounter_min_hours=0.3
    )


def test_sums_in_order_add_one_value_after_another():
    """Bins of one to 300 fixes (the masked steps while most bins have a fix, then the few
    long ones), columns or not: each sum is the one a loop adding from the first gives."""
    import numpy as np

    from cargotrace.maritime.kernels.arrays import sums_in_order

    rng = np.random.default_rng(5)
    for _ in range(50):
        sizes = rng.choice([1, 2, 3, 4, 5, 60, 300], size=int(rng.integers(1, 40)))
        values = rng.normal(size=(int(sizes.sum()), 2)) * 10.0 ** rng.integers(-3, 6)
        at = np.cumsum(sizes) - sizes
        both, one = sums_in_order(values, at, sizes), sums_in_order(values[:, 1].copy(), at, sizes)
        for g, (start, size) in enumerate(zip(at.tolist(), sizes.tolist(), strict=True)):
            for column in (0, 1):
                total = 0.0
                for x in values[start : start + size, column].tolist():
                    total += x
                assert both[g, column] == total
            assert one[g] == both[g, 1]


def test_bins_of_a_case_in_partitions_go_to_files_by_bin(monkeypatch):
    """Above one vessel partition the track kernel's pass cuts its bins by bin, as it makes
    them, into one Arrow file per partition (no Parquet, no second pass through DuckDB): each
    bin in one file only, every (vessel, bin) of the SQL's `binned` once; the encounters
    stage reads them (twice over, the files kept until release) and equals the SQL."""
    import numpy as np
    import pyarrow as pa

    from cargotrace.analysis.pipeline import STAGES, run_stage
    from cargotrace.maritime import encounters
    from cargotrace.maritime.kernels import encounters as encounters_kernel
    from cargotrace.maritime.kernels import partitions, views
    from cargotrace.settings import AnalysisSettings

    monkeypatch.setenv(partitions.PARTITION_FIXES_ENV, "20")
    fixes = _pair(273000010, 273000011, (40.0, 150.0), 0.3, 14)
    fixes += _pair(273000012, 273000013, (40.1, 150.0), 0.4, 14, start=T0 + timedelta(hours=3))
    con = positions_case(fixes)
    assert partitions.partition_count(con) == 3  # 56 positions / 20
    counts = assert_same(con)
    assert counts == {
        "close_pairs": 28,
        "encounter_crowds": 0,
        "encounter_runs": 2,
        "encounters": 2,
    }
    files = views.kept(con, encounters_kernel.BINS)
    assert isinstance(files, partitions.PartitionFiles) and files.partitions == 3
    assert views.published(con, encounters_kernel.BINS) is None
    per_file = {  # a partition's rows in the files of every writer's slot
        p: pa.concat_tables(pa.ipc.open_file(str(f)).read_all() for f in found)
        for p in range(files.partitions)
        if (found := sorted(files.folder.glob(f"part-{p:05d}.*arrow")))
    }
    assert len(per_file) > 1
    for p, table in per_file.items():  # each file holds the bins of its partition only
        tbin = np.array(table.column("tbin").to_pylist(), np.int64)
        assert set(partitions.partition_of(tbin, 3).tolist()) == {p}
    con.execute(encounters.binned_sql())
    expected = con.execute("SELECT mmsi, tbin FROM binned ORDER BY ALL").fetchall()
    found = sorted(
        (m, t)
        for table in per_file.values()
        for m, t in zip(
            table.column("mmsi").to_pylist(), table.column("tbin").to_pylist(), strict=True
        )
    )
    assert found == expected
    first = con.execute("SELECT * FROM close_pairs ORDER BY ALL").fetchall()
    stage = next(s for s in STAGES if s.name == "encounters")
    run_stage(con, stage, AnalysisSettings())  # again: the files are still there
    assert con.execute("SELECT * FROM close_pairs ORDER BY ALL").fetchall() == first
    views.release(con)
    assert not any(path.exists() for path in files.paths)


def test_bins_of_times_are_duckdbs():
    """The track pass works the encounters' bin out from each fix's microseconds
    (`bins_of`), not from DuckDB's `epoch`: the same bin as the stage's expression on every
    bin edge from 1900 to 2100, around edges (the microseconds either side, where DuckDB's
    `epoch` may be a unit in the last place off and `bins_of` asks DuckDB), and at random."""
    import numpy as np
    import pyarrow as pa

    from cargotrace.maritime.kernels.encounters import NEAR_EDGE_US, TBIN, US_PER_BIN, bins_of

    con = duckdb.connect()
    first, last = -(70 * 365 * 144), 130 * 365 * 144  # 10-minute bins from the epoch
    (wrong,) = con.execute(
        f"SELECT count(*) FROM (SELECT k, make_timestamptz(k * {US_PER_BIN}) AS timestamp "
        f"FROM range({first}, {last}) t(k)) WHERE {TBIN} <> k"
    ).fetchone()
    assert wrong == 0
    rng = np.random.default_rng(7)
    edges = rng.integers(first, last, 2000) * US_PER_BIN
    offsets = np.concatenate([np.arange(-3, 4), [-NEAR_EDGE_US - 1, -NEAR_EDGE_US, NEAR_EDGE_US,
                                                 NEAR_EDGE_US + 1, 999_999, 1_000_001]])  # fmt: skip
    ts_us = np.concatenate(
        [
            (edges[:, None] + offsets[None, :]).ravel(),
            rng.integers(-(2**61), 2**61, 200_000) // 1000,
        ]
    )
    con.register("times", pa.table({"us": ts_us}))
    expected = con.execute(
        f"SELECT {TBIN} AS tbin FROM (SELECT make_timestamptz(us) AS timestamp FROM times)"
    ).fetchnumpy()["tbin"]
    assert np.array_equal(bins_of(ts_us), expected)
    assert np.array_equal(bins_of(ts_us[:0]), expected[:0])


def test_runs_of_close_pairs_exact():
    """`runs_of` (the kernel's `encounter_runs`) on hand-made close pairs, shuffled: a run of
    12 bins (2 h: kept) with an even count's median, one of 11 bins (too short), a pair's
    bins cut by a missing bin into 13 and 3, the same bin twice for one pair (a run number
    that recurs: the SQL groups by it), and a pair whose mmsi_b alone differs."""
    import numpy as np

    from cargotrace.maritime.kernels.encounters import runs_of
    from cargotrace.settings import AnalysisSettings

    rows = []  # mmsi_a, mmsi_b, tbin, distance_m, lat, lon, sog
    rows += [(1, 2, 100 + i, 10.0 * (i + 1), 1.0, 2.0, 0.5 if i < 6 else 1.5) for i in range(12)]
    rows += [(1, 3, 100 + i, 5.0, 3.0, 4.0, 0.1) for i in range(11)]
    rows += [(4, 5, 200 + i, 100.0 + i, 5.0 + i, 6.0, 1.0) for i in (*range(13), 14, 15, 16)]
    rows += [(6, 7, 300, 1.0, 0.0, 0.0, 0.0), (6, 7, 300, 3.0, 0.0, 0.0, 0.0)]
    rows += [(6, 7, 302 + i, 2.0, 0.0, 0.0, 0.0) for i in range(11)]
    order = np.random.default_rng(3).permutation(len(rows))
    names = ("mmsi_a", "mmsi_b", "tbin", "distance_m", "lat", "lon", "sog")
    pairs = {n: np.array([rows[i][k] for i in order]) for k, n in enumerate(names)}
    found = runs_of(pairs, AnalysisSettings()).to_pylist()
    found.sort(key=lambda r: (r["mmsi_a"], r["mmsi_b"], r["started_at"]))
    started = [
        (
            r["mmsi_a"],
            r["mmsi_b"],
            r["started_at"].timestamp() / 600,
            r["ended_at"].timestamp() / 600,
        )
        for r in found
    ]
    # tbin 300 twice: numbers 1 and 2 give runs 299 and 298; 302.. (numbers 3..) give 299:
    # the SQL's run 299 is {300, 302..312}: 13 bins from 300 to 313 (a gap inside)
    assert started == [(1, 2, 100, 112), (4, 5, 200, 213), (6, 7, 300, 313)]
    first, second, third = found
    assert (first["median_distance_m"], first["median_sog_kn"], first["bins"]) == (65.0, 1.0, 12)
    assert (first["lat"], first["lon"]) == (1.0, 2.0)
    assert (second["median_distance_m"], second["bins"], second["lat"]) == (106.0, 13, 11.0)
    assert (third["median_distance_m"], third["bins"]) == (2.0, 12)
    assert runs_of({n: pairs[n][:0] for n in names}, AnalysisSettings()).num_rows == 0
    # and the stage's SQL, the definition, finds the same
    from cargotrace.maritime.encounters import encounter_runs_sql

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("given", {n: pairs[n] for n in names})
    con.execute("CREATE TEMP TABLE close_pairs AS SELECT * FROM given")
    con.execute(encounter_runs_sql(AnalysisSettings()))
    by_sql = con.execute("SELECT * FROM encounter_runs ORDER BY mmsi_a, mmsi_b, started_at")
    assert [tuple(r.values()) for r in found] == by_sql.fetchall()
