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

from cargotrace.maritime.kernels import chunks
from cargotrace.maritime.kernels import encounters as encounters_kernel
from cargotrace.maritime.kernels.partitions import partition_fixes

if TYPE_CHECKING:
    import duckdb

BUCKET = "vessel_bucket"
# the positions' columns the kernels read (always written), and the kernels' columns as the
# track kernel's SELECT names them
POSITION_COLUMNS = ("mmsi", "timestamp", "lat", "lon", "sog")
KERNEL_COLUMNS = ("mmsi", "ts", "lat", "lon", "sog", "tbin")


@dataclass(frozen=True)
class Buckets:
    """Positions written in `count` buckets of whole vessels under `folder` (`rows` in all)."""

    folder: Path
    count: int
    rows: int

    def files(self, bucket: int) -> list[Path]:
        """The Parquet files of one bucket (none when no vessel hashed to it)."""
        return sorted((self.folder / f"{BUCKET}={bucket}").glob("*.parquet"))


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
    kept = ", ".join(f'"{c}"' for c in dict.fromkeys([*columns, *POSITION_COLUMNS]))
    target = str(folder).replace("'", "''")
    # every row kept (the positions table for the SQL); the kernels drop the rows without a
    # vessel, time or place when they read them (`read_bucket`), as the track kernel's SELECT
    con.execute(
        f'COPY (SELECT {kept}, epoch_us("timestamp") AS ts, {encounters_kernel.TBIN} AS tbin, '
        f"hash(mmsi) % {count} AS {BUCKET} FROM {table}) "
        f"TO '{target}' (FORMAT parquet, PARTITION_BY ({BUCKET}), OVERWRITE_OR_IGNORE)"
    )
    return Buckets(folder, count, int(rows))


def read_bucket(buckets: Buckets, bucket: int) -> chunks.Columns | None:
    """The kernels' columns of one bucket as NumPy arrays (the rows with an MMSI, a time and a
    place, as the track kernel's SELECT keeps), None when it holds no such row."""
    files = buckets.files(bucket)
    if not files:
        return None
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
