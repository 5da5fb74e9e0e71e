"""The NumPy kernels on Spark: the track stage as vessel partitions through `mapInArrow`.

The same kernel as on DuckDB (maritime/kernels/track.py) runs on the executors: positions
are hash-partitioned by MMSI (`repartition`, one shuffle, as the SQL's window needs too),
and each task cuts its partition into cache-sized parts of whole vessels and runs the
kernel on each, with no JVM sort and no window functions. The stage SQL stays the
definition: `--set maritime_kernel=sql` runs it on Spark, and tests/test_spark_engine.py
holds Spark's kernel tables equal to DuckDB's SQL tables.

One `mapInArrow` has one output schema, so the track's rows, the `shared_mmsi` rows (per
split MMSI) and the `spoofed_fixes` rows travel together: a shared row has a NULL `vid` and
its own three columns, a spoofed fix has `spoofed` true. The combined table is checkpointed
once; `track`, `shared_mmsi` and `spoofed_fixes` are views of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

from cargotrace.maritime.kernels import chunks
from cargotrace.maritime.kernels.partitions import partition_fixes
from cargotrace.settings import AnalysisSettings

if TYPE_CHECKING:
    from cargotrace.engine.spark_runner import SparkRunner

TRACK_COLUMNS = (
    "vid long, mmsi long, tx int, seq long, ts timestamp, lat double, lon double, sog double, "
    "prev_ts timestamp, next_ts timestamp, jump boolean, gap_start_lat double, gap_start_lon double"
)
SHARED_COLUMNS = ("jumps", "first_jump_at", "last_jump_at")
COMBINED = (
    TRACK_COLUMNS + ", jumps long, first_jump_at timestamp, last_jump_at timestamp, spoofed boolean"
)
SPOOFED_COLUMNS = ("vid", "mmsi", "seq", "ts", "lat", "lon")
TIMESTAMP = pa.timestamp("us", tz="UTC")


def _combined_schema() -> pa.Schema:
    track = [
        ("vid", pa.int64()), ("mmsi", pa.int64()), ("tx", pa.int32()), ("seq", pa.int64()),
        ("ts", TIMESTAMP), ("lat", pa.float64()), ("lon", pa.float64()), ("sog", pa.float64()),
        ("prev_ts", TIMESTAMP), ("next_ts", TIMESTAMP), ("jump", pa.bool_()),
        ("gap_start_lat", pa.float64()), ("gap_start_lon", pa.float64()),
        ("jumps", pa.int64()), ("first_jump_at", TIMESTAMP), ("last_jump_at", TIMESTAMP),
        ("spoofed", pa.bool_()),
    ]  # fmt: skip
    return pa.schema(track)


def _as_combined(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """`batch` (track or shared rows) with every column of `schema`, NULL where it has none."""
    columns = [
        batch.column(f.name).cast(f.type)
        if f.name in batch.schema.names
        else pa.nulls(batch.num_rows, f.type)
        for f in schema
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def track_partitions(
    settings: AnalysisSettings,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function `mapInArrow` runs on each partition of (mmsi, ts, lat, lon, sog) rows,
    whole vessels per partition: the track kernel on cache-sized parts."""
    from cargotrace.maritime.kernels.track import _chunk

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        schema = _combined_schema()
        received = list(batches)
        if not received:  # no vessel hashed to this partition
            return
        table = pa.Table.from_batches(received)
        if table.num_rows == 0:
            return
        columns = {
            name: table.column(name).to_numpy() for name in ("mmsi", "ts", "lat", "lon", "sog")
        }
        del table
        pieces = chunks.split_block(columns, "mmsi", chunks.part_count(len(columns["mmsi"])))
        for piece in pieces:
            if len(piece["mmsi"]) == 0:
                continue
            done = _chunk([piece], settings)
            yield _as_combined(done.track, schema)
            if done.shared.num_rows:
                yield _as_combined(done.shared, schema)
            if done.spoofed.num_rows:
                marked = done.spoofed.append_column(
                    "spoofed", pa.repeat(True, done.spoofed.num_rows)
                )
                yield _as_combined(marked, schema)

    return run


def run_track(runner: SparkRunner, settings: AnalysisSettings) -> None:
    """The track stage on Spark with the NumPy kernel: writes `track`, `shared_mmsi` and
    `spoofed_fixes`."""
    from pyspark.sql import functions as F

    positions = runner.table("positions")
    rows = positions.select(
        F.col("mmsi").cast("long").alias("mmsi"),
        F.unix_micros(F.col("timestamp").cast("timestamp")).alias("ts"),
        F.col("lat").cast("double").alias("lat"),
        F.col("lon").cast("double").alias("lon"),
        F.col("sog").cast("double").alias("sog"),
    ).where("mmsi IS NOT NULL AND ts IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL")
    spark = runner.spark
    wanted = int(spark.conf.get("spark.sql.shuffle.partitions") or "1")
    partitions = max(wanted, math.ceil(rows.count() / partition_fixes()))
    combined = runner.checkpoint_df(
        "track_and_shared",
        rows.repartition(partitions, "mmsi").mapInArrow(track_partitions(settings), COMBINED),
    )
    track_names = [c.split()[0] for c in TRACK_COLUMNS.split(", ")]
    runner.register(
        "track", combined.where("vid IS NOT NULL AND spoofed IS NULL").select(*track_names)
    )
    runner.register("shared_mmsi", combined.where("vid IS NULL").select("mmsi", *SHARED_COLUMNS))
    runner.register("spoofed_fixes", combined.where("spoofed").select(*SPOOFED_COLUMNS))


# stage name -> its kernel on Spark (the stages not named here run their SQL)
SPARK_KERNELS: dict[str, Callable[[SparkRunner, AnalysisSettings], None]] = {"track": run_track}
