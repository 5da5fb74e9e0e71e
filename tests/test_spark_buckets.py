"""The positions in bucket files of whole vessels (engine/spark_buckets.py), as DuckDB writes
them for `analyze --engine spark` and a task of the kernels' pass reads them. No Spark
needed: the writing is DuckDB's, the reading pyarrow's inside `mapInArrow`. And the
driver's row limit those runs depend on (engine/spark_runner.py `driver_rows`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cargotrace.engine.spark_buckets import (
    BUCKET,
    TBIN_BUCKET,
    Buckets,
    bucket_count,
    read_bucket,
    read_split_bucket,
    spill_buckets,
    write_buckets,
    write_part,
    write_split_part,
)
from cargotrace.maritime.kernels import partitions
from cargotrace.maritime.kernels import track as track_kernel

T0 = dt.datetime(2024, 3, 1, 0, 9, 59, tzinfo=dt.UTC)


def _case() -> duckdb.DuckDBPyConnection:
    """Six vessels, 10 fixes each a minute apart from 00:09:59 (so the first fix is in one
    10-minute bin and the others in the next), then rows the kernels do not read: one without
    a place, one without a time and one without an MMSI; and a missing speed."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        'CREATE TABLE positions (mmsi BIGINT, "timestamp" TIMESTAMPTZ, lat DOUBLE, lon DOUBLE, '
        "sog DOUBLE, source_file VARCHAR)"
    )
    rows = [
        (273000000 + v, T0 + dt.timedelta(minutes=i), 40.0 + v, 150.0 + i / 100,
         None if (v, i) == (2, 3) else float(i), "a.csv")
        for v in range(6)
        for i in range(10)
    ]  # fmt: skip
    rows += [(273000000, T0, None, 150.0, 1.0, "b.csv"), (273000001, None, 40.0, 150.0, 1.0, "b.csv"),
             (None, T0, 40.0, 150.0, 1.0, "b.csv")]  # fmt: skip
    con.executemany("INSERT INTO positions VALUES (?, ?, ?, ?, ?, ?)", rows)
    return con


def test_bucket_count_is_one_per_task_at_least_and_bounded_by_the_partition_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(partitions.PARTITION_FIXES_ENV, "100")
    assert bucket_count(0, 8) == 8
    assert bucket_count(1_000, 8) == 10  # 100 positions a bucket at most, on average
    assert bucket_count(1_001, 8) == 11
    assert bucket_count(50, 0) == 1


def test_buckets_hold_whole_vessels_and_the_kernels_columns_of_their_select(
    tmp_path: Path,
) -> None:
    """Every row is written (the positions table for the SQL), each vessel in one bucket; a
    bucket read back gives the rows the track kernel's own SELECT gives for its vessels: the
    same `ts` and `tbin` (DuckDB's), the rows without MMSI, time or place left out, a
    missing speed as NaN."""
    con = _case()
    folder = tmp_path / "input" / "b"  # its parent made too
    buckets = write_buckets(con, folder, ["mmsi", "timestamp", "source_file"], least=4)
    assert (buckets.count, buckets.rows) == (4, 63)
    written = con.execute(
        f"SELECT mmsi, count(DISTINCT {BUCKET}), count(*) FROM read_parquet('{folder}/*/*.parquet', "
        "hive_partitioning = true) GROUP BY mmsi ORDER BY mmsi NULLS LAST"
    ).fetchall()
    assert written == [(273000000, 1, 11), (273000001, 1, 11)] + [
        (273000000 + v, 1, 10) for v in range(2, 6)
    ] + [(None, 1, 1)]
    expected = con.execute(
        "SELECT mmsi, ts, lat, lon, sog, tbin FROM ("
        + track_kernel.POSITIONS.format(rows="TRUE")
        + ") ORDER BY mmsi, ts"
    ).fetchall()
    got = []
    for bucket in range(buckets.count):
        columns = read_bucket(buckets, bucket)
        if columns is None:
            assert not buckets.files(bucket) or bucket_rows(folder, bucket) == 0
            continue
        assert {k: v.dtype.kind for k, v in columns.items()} == {
            "mmsi": "i", "ts": "i", "lat": "f", "lon": "f", "sog": "f", "tbin": "i"
        }  # fmt: skip
        got += zip(
            *(columns[c].tolist() for c in ("mmsi", "ts", "lat", "lon", "sog", "tbin")), strict=True
        )
    got.sort(key=lambda r: (r[0], r[1]))
    assert len(got) == len(expected) == 60
    for mine, theirs in zip(got, expected, strict=True):
        assert mine[:4] == theirs[:4] and mine[5] == theirs[5]
        assert (np.isnan(mine[4]) and theirs[4] is None) or mine[4] == theirs[4]
    assert sum(np.isnan(r[4]) for r in got) == 1
    assert {r[5] for r in got} == {int(T0.timestamp()) // 600, int(T0.timestamp()) // 600 + 1}
    assert read_bucket(buckets, buckets.count + 1) is None  # a bucket no vessel hashed to


def test_ipc_buckets_hold_whole_vessels_and_the_rows_of_the_kernels_select(
    tmp_path: Path,
) -> None:
    """The positions spilled as Arrow IPC files (when only the kernels read them): each
    vessel in one bucket, a bucket read back giving the track kernel's SELECT's rows for
    its vessels (nothing else: the rows without MMSI, time or place are not written)."""
    con = _case()
    buckets = spill_buckets(con, tmp_path / "ipc", least=4)
    assert (buckets.count, buckets.rows, buckets.ipc) == (4, 60, True)
    expected = con.execute(
        "SELECT mmsi, ts, lat, lon, sog, tbin FROM ("
        + track_kernel.POSITIONS.format(rows="TRUE")
        + ") ORDER BY mmsi, ts"
    ).fetchall()
    got, seen = [], {}
    for bucket in range(buckets.count):
        columns = read_bucket(buckets, bucket)
        if columns is None:
            assert not buckets.files(bucket)
            continue
        for mmsi in set(columns["mmsi"].tolist()):
            assert seen.setdefault(mmsi, bucket) == bucket  # whole vessels
        got += zip(
            *(columns[c].tolist() for c in ("mmsi", "ts", "lat", "lon", "sog", "tbin")), strict=True
        )
    got.sort(key=lambda r: (r[0], r[1]))
    assert len(got) == len(expected) == 60 and len(seen) == 6
    for mine, theirs in zip(got, expected, strict=True):
        assert mine[:4] == theirs[:4] and mine[5] == theirs[5]
        assert (np.isnan(mine[4]) and theirs[4] is None) or mine[4] == theirs[4]
    assert read_bucket(buckets, buckets.count + 1) is None


def bucket_rows(folder: Path, bucket: int) -> int:
    con = duckdb.connect()
    (n,) = con.execute(
        f"SELECT count(*) FROM read_parquet('{folder}/{BUCKET}={bucket}/*.parquet')"
    ).fetchone()  # type: ignore[misc]
    return int(n)


def test_pass_tables_written_per_task_in_their_declared_schema(tmp_path: Path) -> None:
    """A task's rows of a table: one file in the table's declared column order and types
    (the kernels' batches may name columns in another order, or use narrower types);
    nothing for no rows."""
    schema = pa.schema(
        [("vid", pa.int64()), ("ts", pa.timestamp("us", tz="UTC")), ("lat", pa.float64())]
    )
    batch = pa.record_batch({"lat": pa.array([1.5, 2.5]), "vid": pa.array([7, 8], pa.int32()),
                             "ts": pa.array([0, 60_000_000], pa.timestamp("us", tz="UTC"))})  # fmt: skip
    assert write_part(tmp_path / "t", 3, [batch, batch.slice(1)], schema) == 3
    assert write_part(tmp_path / "t", 4, [], schema) == 0
    assert [p.name for p in (tmp_path / "t").iterdir()] == ["part-3.parquet"]
    table = pq.read_table(tmp_path / "t" / "part-3.parquet")
    assert table.schema == schema
    assert table.column("vid").to_pylist() == [7, 8, 8]
    assert table.column("lat").to_pylist() == [1.5, 2.5, 2.5]


def test_bins_split_into_buckets_of_whole_bins_from_every_task(tmp_path: Path) -> None:
    """Two tasks' bins, cut by a hash of `tbin` into 3 buckets: each bin (from whichever
    task) in exactly one bucket, every row once, read back a bucket at a time."""
    schema = pa.schema([("mmsi", pa.int64()), ("tbin", pa.int64()), ("lat", pa.float64())])
    rows = {0: [(1, b, 0.5 * b) for b in range(20)], 1: [(2, b, -0.5 * b) for b in range(5, 25)]}
    for task, values in rows.items():
        mmsi, tbin, lat = zip(*values, strict=True)
        batch = pa.record_batch({"mmsi": pa.array(mmsi, pa.int64()), "tbin": pa.array(tbin, pa.int64()),
                                 "lat": pa.array(lat)})  # fmt: skip
        assert write_split_part(tmp_path / "bins", task, [batch], schema, "tbin", 3) == 20
    buckets = Buckets(tmp_path / "bins", 3, 40, key=TBIN_BUCKET)
    seen: dict[int, int] = {}
    got = []
    for bucket in range(3):
        table = read_split_bucket(buckets, bucket, ["mmsi", "tbin", "lat"])
        if table is None:
            continue
        for mmsi, tbin, lat in zip(
            *(table.column(c).to_pylist() for c in ("mmsi", "tbin", "lat")), strict=True
        ):
            assert seen.setdefault(tbin, bucket) == bucket  # a bin in one bucket only
            got.append((mmsi, tbin, lat))
    assert sorted(got) == sorted(rows[0] + rows[1])
    assert len(set(seen.values())) == 3  # 25 bins spread over the 3 buckets
    assert read_split_bucket(buckets, 5, ["tbin"]) is None


def test_driver_limit_is_relative_to_the_positions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Statements over tables of at most max(1,000,000, positions / 8) rows run on the driver
    unless CARGOTRACE_SPARK_DRIVER_ROWS fixes the limit (0: none)."""
    from cargotrace.engine.spark_runner import DRIVER_ROWS_ENV, driver_limit, driver_rows

    monkeypatch.delenv(DRIVER_ROWS_ENV, raising=False)
    assert driver_rows() is None
    assert driver_limit(0) == driver_limit(8_000_000) == 1_000_000
    assert driver_limit(100_000_000) == 12_500_000
    assert driver_limit(100_000_000_000) == 12_500_000_000  # then the memory decides
    monkeypatch.setenv(DRIVER_ROWS_ENV, "0")
    assert driver_rows() == 0
    monkeypatch.setenv(DRIVER_ROWS_ENV, " 300 ")
    assert driver_rows() == 300
    assert driver_limit(100_000_000, driver_rows()) == 300


def test_driver_statements_by_rows_and_memory(tmp_path: Path) -> None:
    """Where a statement runs: the driver while each table it reads holds at most the limit
    relative to the positions and the tables fit the driver's memory share; else Spark."""
    from cargotrace.engine.spark_runner import SparkRunner, row_bytes
    from cargotrace.engine.transpile import to_spark

    runner = SparkRunner(None, str(tmp_path), "memory", driver_rows=None)  # type: ignore[arg-type]
    pairs = pa.table({"a": pa.array(range(10), pa.int64()), "b": [0.5] * 10, "c": ["x"] * 10})
    runner.register_arrow("pairs", pairs)
    runner.register_arrow("one", pa.table({"a": pa.array([1], pa.int64())}))
    assert row_bytes(runner.tables["pairs"].schema()) == 8 + 8 + 32
    [both] = to_spark("CREATE TEMP TABLE t AS SELECT p.* FROM pairs p JOIN one o ON o.a = p.a")
    runner.driver_bytes = 10 * 48 + 8
    assert runner._small(both)
    runner.driver_bytes -= 1  # the two tables no longer fit together
    assert not runner._small(both)
    runner.driver_bytes = 1 << 30
    runner.driver_rows = 9  # a fixed limit below the pairs' 10 rows
    assert not runner._small(both)
    runner.driver_rows = 0
    assert not runner._small(both)
    # relative: the pairs past the floor of 1,000,000 rows, under positions / 8
    runner.driver_rows = None
    runner._rows["pairs"] = (runner.tables["pairs"].version, 3_000_000)
    assert not runner._small(both)
    runner.buckets = Buckets(tmp_path, 4, 24_000_000)
    assert runner.positions_rows() == 24_000_000
    assert runner._small(both)
    runner.buckets = Buckets(tmp_path, 4, 23_999_999)
    assert not runner._small(both)
