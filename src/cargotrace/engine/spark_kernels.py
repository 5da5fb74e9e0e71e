"""The NumPy kernels on Spark: the track and port zones stages as vessel partitions through
`mapInArrow`.

The same kernel as on DuckDB (maritime/kernels/track.py) runs on the executors: positions
are hash-partitioned by MMSI (`repartition`, one shuffle, as the SQL's window needs too),
and each task cuts its partition into cache-sized parts of whole vessels and runs the
kernel on each, with no JVM sort and no window functions. The stage SQL stays the
definition: `--set maritime_kernel=sql` runs it on Spark, and tests/test_spark_engine.py
holds Spark's kernel tables equal to DuckDB's SQL tables.

The port zones kernel runs in the same pass (fused): each task hands the track of each of
its parts, still sorted by (vid, seq), straight to the port zones kernel, so the track is
shuffled once and crosses to Python and back once, and the port zones stage has nothing
left to do. One `mapInArrow` has one output schema, so the track's rows, the `shared_mmsi`
rows (per split MMSI), the `spoofed_fixes` rows and the zone marks, visits and stops in
port travel together, told apart by `row_kind`, each using the columns of its table (same
names, same types) and NULL in the others. The combined table is checkpointed once; the six
tables are views of it. (Without the port tables, the track runs alone and the port zones
stage runs its own pass: `run_port_zones`.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from cargotrace.maritime.kernels import chunks
from cargotrace.maritime.kernels.partitions import partition_fixes
from cargotrace.settings import AnalysisSettings

if TYPE_CHECKING:
    from cargotrace.engine.spark_runner import SparkRunner
    from cargotrace.maritime.kernels.port_zones import PortGrid

TRACK_COLUMNS = (
    "vid long, mmsi long, tx int, seq long, ts timestamp, lat double, lon double, sog double, "
    "prev_ts timestamp, next_ts timestamp, jump boolean, gap_start_lat double, gap_start_lon double"
)
SHARED_COLUMNS = ("mmsi", "jumps", "first_jump_at", "last_jump_at")
SPOOFED_COLUMNS = ("vid", "mmsi", "seq", "ts", "lat", "lon")
COMBINED = (
    "row_kind int, "
    + TRACK_COLUMNS
    + ", jumps long, first_jump_at timestamp, last_jump_at timestamp"
)
TRACK, SHARED, SPOOFED, ZONES = 0, 1, 2, 3  # row_kind (ZONES + 0, 1, 2: ZONE_TABLES)
TIMESTAMP = pa.timestamp("us", tz="UTC")


def _combined_schema() -> pa.Schema:
    track = [
        ("row_kind", pa.int32()), ("vid", pa.int64()), ("mmsi", pa.int64()), ("tx", pa.int32()), ("seq", pa.int64()),
        ("ts", TIMESTAMP), ("lat", pa.float64()), ("lon", pa.float64()), ("sog", pa.float64()),
        ("prev_ts", TIMESTAMP), ("next_ts", TIMESTAMP), ("jump", pa.bool_()),
        ("gap_start_lat", pa.float64()), ("gap_start_lon", pa.float64()),
        ("jumps", pa.int64()), ("first_jump_at", TIMESTAMP), ("last_jump_at", TIMESTAMP),
    ]  # fmt: skip
    return pa.schema(track)


def _as_combined(batch: pa.RecordBatch, kind: int, schema: pa.Schema) -> pa.RecordBatch:
    """`batch` (rows of one table) with every column of `schema`, NULL where it has none."""
    columns = [
        pa.array(np.full(batch.num_rows, kind, np.int32))
        if f.name == "row_kind"
        else batch.column(f.name).cast(f.type)
        if f.name in batch.schema.names
        else pa.nulls(batch.num_rows, f.type)
        for f in schema
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def track_partitions(
    settings: AnalysisSettings, grid: PortGrid | None = None, schema: pa.Schema | None = None
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function `mapInArrow` runs on each partition of (mmsi, ts, lat, lon, sog) rows,
    whole vessels per partition: the track kernel on cache-sized parts, and with a port
    `grid` the port zones kernel on each part's track (`schema`: `_fused_schema`)."""
    from cargotrace.maritime.kernels.port_zones import _zones
    from cargotrace.maritime.kernels.track import _chunk

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        combined = schema or _combined_schema()
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
            yield _as_combined(done.track, TRACK, combined)
            if done.shared.num_rows:
                yield _as_combined(done.shared, SHARED, combined)
            if done.spoofed.num_rows:
                yield _as_combined(done.spoofed, SPOOFED, combined)
            if grid is not None:
                zones = _zones(done.track, grid, settings)
                for kind, batch in enumerate((zones.marks, zones.visits, zones.stops)):
                    if batch.num_rows:
                        yield _as_combined(batch, ZONES + kind, combined)

    return run


def _fused_schema(
    grid: PortGrid, settings: AnalysisSettings
) -> tuple[pa.Schema, dict[str, list[str]]]:
    """The combined schema of the fused pass: the track's, then the port zones tables'
    columns it lacks (a name both have has one type); and each zone table's columns."""
    zones, names = _zone_schemas(grid, settings)
    track = _combined_schema()
    for f in zones:
        if f.name in track.names and track.field(f.name).type != f.type:
            raise TypeError(f"track and port zones kernels: {f.name} has two types")
    extra = [f for f in zones if f.name not in track.names]
    return pa.schema([*track, *extra]), names


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
    if "positions" in runner.by_vessel:  # whole vessels per partition already: no shuffle
        parted = rows
    else:
        wanted = int(runner.spark.conf.get("spark.sql.shuffle.partitions") or "1")
        parted = rows.repartition(max(wanted, math.ceil(rows.count() / partition_fixes())), "mmsi")
    fused = all(name in runner.tables for name in PORT_TABLES)
    if fused:  # the port zones kernel in the same pass
        grid = _grid(runner, settings)
        schema, names = _fused_schema(grid, settings)
        ddl = ", ".join(f"{f.name} {SPARK_TYPES[f.type]}" for f in schema)
        task = track_partitions(settings, grid, schema)
    else:
        ddl, task = COMBINED, track_partitions(settings)
    combined = runner.checkpoint_df(
        "track_and_zones" if fused else "track_and_shared",
        parted.mapInArrow(task, ddl),
    )
    if fused:
        for kind, table in enumerate(ZONE_TABLES):
            runner.register(
                table, combined.where(f"row_kind = {ZONES + kind}").select(*names[table])
            )
    track_names = [c.split()[0] for c in TRACK_COLUMNS.split(", ")]
    runner.register("track", combined.where(f"row_kind = {TRACK}").select(*track_names))
    runner.register("shared_mmsi", combined.where(f"row_kind = {SHARED}").select(*SHARED_COLUMNS))
    runner.register(
        "spoofed_fixes", combined.where(f"row_kind = {SPOOFED}").select(*SPOOFED_COLUMNS)
    )


ZONE_TABLES = ("zone_marks", "visits", "port_stops")
PORT_TABLES = ("port_cells", "port_areas", "port_edges")
SPARK_TYPES = {
    pa.int64(): "long", pa.int32(): "int", pa.float64(): "double", pa.bool_(): "boolean",
    TIMESTAMP: "timestamp",
}  # fmt: skip


def _zone_schemas(
    grid: PortGrid, settings: AnalysisSettings
) -> tuple[pa.Schema, dict[str, list[str]]]:
    """The combined schema of the port zones kernel's three tables (row_kind first, then every
    column name once: a name two tables share has one type), and each table's columns."""
    from cargotrace.maritime.kernels.port_zones import _zones

    empty = pa.table(
        {"vid": pa.array([], pa.int64()), "seq": pa.array([], pa.int64()), "ts": pa.array([], TIMESTAMP),
         "lat": pa.array([], pa.float64()), "lon": pa.array([], pa.float64()), "sog": pa.array([], pa.float64())}
    )  # fmt: skip
    zones = _zones(empty, grid, settings)
    fields: dict[str, pa.DataType] = {"row_kind": pa.int32()}
    names: dict[str, list[str]] = {}
    for table, batch in zip(ZONE_TABLES, (zones.marks, zones.visits, zones.stops), strict=True):
        names[table] = batch.schema.names
        for f in batch.schema:
            if fields.setdefault(f.name, f.type) != f.type:
                raise TypeError(f"port zones kernel: {f.name} has two types")
    return pa.schema(list(fields.items())), names


def _grid(runner: SparkRunner, settings: AnalysisSettings) -> PortGrid:
    """The port grid, built on the driver from the (small) port tables of the job."""
    import duckdb

    from cargotrace.engine.spark_runner import to_arrow
    from cargotrace.maritime.kernels.port_zones import PortGrid

    con = duckdb.connect()
    try:
        for name in ("port_cells", "port_areas", "port_edges"):
            con.register(name, to_arrow(runner.table(name)))
        return PortGrid(con, settings.port_exit_buffer_km)
    finally:
        con.close()


def zones_partitions(
    grid: PortGrid, settings: AnalysisSettings, schema: pa.Schema
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function `mapInArrow` runs on each partition of track rows (whole vessels): sort
    by (vid, seq), cut between vessels, the port zones kernel on each part."""
    from cargotrace.maritime.kernels.port_zones import _aligned, _zones

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        received = list(batches)
        if not received:
            return
        table = pa.Table.from_batches(received)
        if table.num_rows == 0:
            return
        vid = np.asarray(table.column("vid").to_numpy(), np.int64)
        seq = np.asarray(table.column("seq").to_numpy(), np.int64)
        table = table.take(pa.array(np.lexsort((seq, vid))))
        for part in _aligned(table):
            zones = _zones(part, grid, settings)
            for kind, batch in enumerate((zones.marks, zones.visits, zones.stops)):
                if batch.num_rows:
                    yield _as_combined(batch, kind, schema)

    return run


def run_port_zones(runner: SparkRunner, settings: AnalysisSettings) -> None:
    """The port zones stage on Spark with the NumPy kernel: the track hash-partitioned by
    vessel, the port grid shipped to the tasks with the function; writes `zone_marks`,
    `visits` and `port_stops`. Nothing to do when the track's pass wrote them (fused)."""
    if all(table in runner.tables for table in ZONE_TABLES):
        return
    grid = _grid(runner, settings)
    schema, names = _zone_schemas(grid, settings)
    track = runner.table("track").select("vid", "seq", "ts", "lat", "lon", "sog")
    wanted = int(runner.spark.conf.get("spark.sql.shuffle.partitions") or "1")
    partitions = max(wanted, math.ceil(track.count() / partition_fixes()))
    ddl = ", ".join(f"{f.name} {SPARK_TYPES[f.type]}" for f in schema)
    combined = runner.checkpoint_df(
        "port_zones_kernel",
        track.repartition(partitions, "vid").mapInArrow(
            zones_partitions(grid, settings, schema), ddl
        ),
    )
    for kind, table in enumerate(ZONE_TABLES):
        runner.register(table, combined.where(f"row_kind = {kind}").select(*names[table]))


# stage name -> its kernel on Spark (the stages not named here run their SQL)
SPARK_KERNELS: dict[str, Callable[[SparkRunner, AnalysisSettings], None]] = {
    "track": run_track,
    "port_zones": run_port_zones,
}
