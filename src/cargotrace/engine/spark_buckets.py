"""Positions in vessel buckets: a case's positions handed to Spark already cut into whole
vessels, so the kernels' pass needs no shuffle and the JVM never holds the positions.

DuckDB writes the positions once (`write_buckets`), as Parquet partitioned by a hash of the
MMSI (`COPY ... PARTITION_BY`: one folder per bucket, `vessel_bucket=K/`), with the columns
the stage SQL mentions and the two the kernels need, computed in DuckDB as the track
kernel's own SELECT does (maritime/kernels/track.py `POSITIONS`): `ts` (microseconds since
the epoch) and `tbin` (the encounters' 10-minute bin, `kernels.encounters.TBIN`). The kernels'
pass (engine/spark_kernels.py `run_track`) is then a `mapInArrow` over `spark.range(n)` in n
partitions, one bucket number each: each task reads its bucket's files with pyarrow (only
the kernels' columns) and runs the kernels on whole vessels. Spark reads and shuffles
nothing. The positions stay a Spark table over the same files (lazy: with the kernels no
statement reads them; the stage SQL, `maritime_kernel=sql`, does).

When only the kernels read the positions (the stage SQL never does: the default), DuckDB
writes them instead as the track kernel's own SELECT in Arrow IPC files of whole vessels
(`spill_buckets`, as the DuckDB engine spills its vessel partitions), which the tasks map
without decoding; the positions are then a lazy Spark table over those files
(`bucket_frame`) that no statement reads.

The files must be readable by the Python workers at their path: true for `analyze --engine
spark` (a local session over the case's folder) and for a shared file system; the cluster
job (`python -m cargotrace.engine.spark`) reads its positions through Spark instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cargotrace.maritime.kernels import chunks, partitions, views
from cargotrace.maritime.kernels import encounters as encounters_kernel
from cargotrace.maritime.kernels.partitions import partition_fixes, partition_of

if TYPE_CHECKING:
    from collections.abc import Iterator

    import duckdb
    from pyspark.sql import DataFrame, SparkSession

BUCKET = "vessel_bucket"
# the positions' columns the kernels read (always written), and the kernels' columns as the
# track kernel's SELECT names them
POSITION_COLUMNS = ("mmsi", "timestamp", "lat", "lon", "sog")
KERNEL_COLUMNS = ("mmsi", "ts", "lat", "lon", "sog", "tbin")


@dataclass(frozen=True)
class Buckets:
    """Rows written in `count` buckets under `folder` (`rows` in all), one folder per bucket
    (`<key>=<bucket>`): the positions in buckets of whole vessels, or the encounters' bins in
    buckets of whole bins (`write_split_part`); or (`ipc`) the kernels' columns of the
    positions in Arrow IPC files of whole vessels (`spill_buckets`)."""

    folder: Path
    count: int
    rows: int
    key: str = BUCKET
    ipc: bool = False

    def files(self, bucket: int) -> list[Path]:
        """The files of one bucket (none when nothing hashed to it)."""
        if self.ipc:  # partitions.PartitionFiles: one file per partition and writer
            return sorted(self.folder.glob(f"part-{bucket:05d}*.arrow"))
        return sorted((self.folder / f"{self.key}={bucket}").glob("*.parquet"))


def bucket_count(rows: int, least: int) -> int:
    """At least `least` buckets (one per task Spark would run), and enough for each to hold
    at most `partition_fixes()` positions on average."""
    return max(1, least, math.ceil(rows / partition_fixes()))


def write_buckets(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    columns: list[str],
    least: int,
    table: str = "positions",
) -> Buckets:
    """`table`'s `columns` (and those the kernels read) and the kernels' `ts` and `tbin`,
    written under `folder` in buckets of whole vessels (a hash of the MMSI), one folder per
    bucket."""
    (rows,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[misc]
    count = bucket_count(int(rows), least)
    folder.parent.mkdir(parents=True, exist_ok=True)
    kept = ", ".join(f'"{c}"' for c in dict.fromkeys([*columns, *POSITION_COLUMNS]))
    target = str(folder).replace("'", "''")
    # every row kept (the positions table for the SQL); the kernels drop the rows without a
    # vessel, time or place when they read them (`read_bucket`), as the track kernel's SELECT
    con.execute(
        f'COPY (SELECT {kept}, epoch_us("timestamp") AS ts, {encounters_kernel.TBIN} AS tbin, '
        f"hash(mmsi) % {count} AS {BUCKET} FROM {table}) "
        f"TO '{target}' (FORMAT parquet, PARTITION_BY ({BUCKET}), OVERWRITE_OR_IGNORE, "
        "COMPRESSION uncompressed)"  # scratch files, read once: compressing costs more CPU
    )
    return Buckets(folder, count, int(rows))


def spill_buckets(
    con: duckdb.DuckDBPyConnection, folder: Path, least: int, table: str = "positions"
) -> Buckets:
    """The rows of the track kernel's own SELECT (maritime/kernels/track.py `POSITIONS`: the
    kernels' columns, `ts` and `tbin` computed by DuckDB, the rows without a vessel, time or
    place left out) in Arrow IPC files of whole vessels under `folder`, as the DuckDB
    engine spills its vessel partitions (`partitions.PartitionFiles`, cut by a hash of the
    MMSI): no Parquet to encode here nor to decode in the tasks, which map the files. For a
    job whose SQL never reads the positions (only the kernels do)."""
    from cargotrace.maritime.kernels import track as track_kernel

    (rows,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[misc]
    count = bucket_count(int(rows), least)
    files = partitions.PartitionFiles(folder, "mmsi", count)
    select = track_kernel.POSITIONS.format(rows="TRUE").replace(" FROM positions", f" FROM {table}")
    kept = 0
    try:
        for batch in con.execute(select).to_arrow_reader(chunks.BLOCK_ROWS):
            kept += batch.num_rows
            for bucket, piece in enumerate(partitions.cut(batch, "mmsi", count)):
                files.append(bucket, piece)
    finally:
        files.close()
    return Buckets(folder, count, kept, ipc=True)


def bucket_frame(spark: SparkSession, buckets: Buckets) -> DataFrame:
    """The positions of IPC buckets (`spill_buckets`) as a lazy Spark table (their kernels'
    columns and `timestamp`), read by a task a bucket should a statement ever read them."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for bucket in batch.column("id").to_pylist():
                columns = read_bucket(buckets, int(bucket))
                if columns is not None:
                    when = pa.array(columns["ts"], pa.int64()).cast(pa.timestamp("us", tz="UTC"))
                    yield pa.record_batch(
                        {"mmsi": columns["mmsi"], "timestamp": when, "lat": columns["lat"],
                         "lon": columns["lon"], "sog": columns["sog"], "ts": columns["ts"],
                         "tbin": columns["tbin"]}
                    )  # fmt: skip

    ddl = "mmsi long, timestamp timestamp, lat double, lon double, sog double, ts long, tbin long"
    return spark.range(0, buckets.count, 1, buckets.count).mapInArrow(run, ddl)


def read_bucket(buckets: Buckets, bucket: int) -> chunks.Columns | None:
    """The kernels' columns of one bucket as NumPy arrays (the rows with an MMSI, a time and a
    place, as the track kernel's SELECT keeps), None when it holds no such row."""
    files = buckets.files(bucket)
    if not files:
        return None
    if buckets.ipc:  # mapped: no copy, no decoding
        table = pa.concat_tables(pa.ipc.open_file(pa.memory_map(str(f))).read_all() for f in files)
    else:
        table = pa.concat_tables(pq.read_table(f, columns=list(KERNEL_COLUMNS)) for f in files)
    valid = pc.and_(
        pc.and_(pc.is_valid(table.column("mmsi")), pc.is_valid(table.column("ts"))),
        pc.and_(pc.is_valid(table.column("lat")), pc.is_valid(table.column("lon"))),
    )
    if valid.null_count or not pc.all(valid).as_py():
        table = table.filter(valid)
    if table.num_rows == 0:
        return None
    return {
        "mmsi": table.column("mmsi").to_numpy().astype(np.int64, copy=False),
        "ts": table.column("ts").to_numpy().astype(np.int64, copy=False),
        "lat": table.column("lat").to_numpy().astype(np.float64, copy=False),
        "lon": table.column("lon").to_numpy().astype(np.float64, copy=False),
        "sog": table.column("sog").cast(pa.float64()).to_numpy(zero_copy_only=False),
        "tbin": table.column("tbin").to_numpy().astype(np.int64, copy=False),
    }


# ----------------------------------------------------------------------------- the pass's tables
TBIN_BUCKET = "tbin_bucket"
# the pass's tables are scratch files on a local disk, written once and read a few times
# (`views.SCRATCH_PARQUET`: their row groups keep their statistics, so Spark still skips by them)
SCRATCH = views.SCRATCH_PARQUET


def write_part(folder: Path, bucket: int, batches: list[pa.RecordBatch], schema: pa.Schema) -> int:
    """One task's rows of a table as `folder/part-<bucket>.parquet`, in `schema` (its declared
    columns and types); nothing when it has none. Returns the rows written. A task run again
    writes the same file again."""
    rows = int(sum(b.num_rows for b in batches))
    if rows:
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_batches([b.select(schema.names) for b in batches]).cast(schema)
        # sorted by vessel and time: ids and times delta-encoded (cheaper than plain bytes)
        pq.write_table(table, folder / f"part-{bucket}.parquet", **views.delta_encoded(schema))
    return rows


def write_split_part(
    folder: Path,
    bucket: int,
    batches: list[pa.RecordBatch],
    schema: pa.Schema,
    key: str,
    count: int,
) -> int:
    """As `write_part`, the rows cut by a hash of column `key` into `count` buckets of whole
    key values (`folder/tbin_bucket=K/part-<bucket>.parquet`), for a pass that works on whole
    keys to read them (`read_split_bucket`)."""
    rows = int(sum(b.num_rows for b in batches))
    if not rows:
        return 0
    table = pa.Table.from_batches([b.select(schema.names) for b in batches]).cast(schema)
    target = partition_of(table.column(key).to_numpy(), count)
    order = np.argsort(target, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(target, minlength=count))])
    table = table.take(pa.array(order))
    for split in range(count):
        if bounds[split + 1] > bounds[split]:
            where = folder / f"{TBIN_BUCKET}={split}"
            where.mkdir(parents=True, exist_ok=True)
            part = table.slice(int(bounds[split]), int(bounds[split + 1] - bounds[split]))
            pq.write_table(part, where / f"part-{bucket}.parquet", **SCRATCH)
    return rows


def read_split_bucket(buckets: Buckets, split: int, columns: list[str]) -> pa.Table | None:
    """The rows every task wrote to bucket `split` (`write_split_part`), None if none."""
    files = buckets.files(split)
    if not files:
        return None
    return pa.concat_tables(pq.read_table(f, columns=columns) for f in files)
