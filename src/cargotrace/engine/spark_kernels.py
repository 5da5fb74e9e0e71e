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
left to do. The loitering and interference kernels run there too (maritime/kernels/
loitering.py, interference.py: runs of slow fixes, jumps, circling vessel-hours, from the
same sorted fixes), so those stages only run their last SQL, over a few rows, on Spark.
One `mapInArrow` has one output schema, so the track's rows, the `shared_mmsi` rows (per
split MMSI), the `spoofed_fixes` rows, the events' rows and the zone marks, visits and
stops in port travel together, told apart by `row_kind`, each table's columns in shared
slots of their type (`Packing`: a row is as wide as the widest table, not as all of them).
The combined table is checkpointed once; the tables are views of it. (Without the port
tables, the track runs alone and the port zones stage runs its own pass: `run_port_zones`.)

Encounters pair vessels, so their kernel (maritime/kernels/encounters.py) runs in a pass of
its own over rows hash-partitioned by 10-minute bin (`run_encounters`): the bins the track's
pass averaged per vessel (`vessel_bins`, each vessel's fixes in time order), or without that
pass the positions, each bin's fixes averaged in time order (`bins_in_time_order`), so the
sums do not depend on the order the shuffle delivers them in.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from cargotrace.engine import spark_derived as derived
from cargotrace.maritime import encounters, interference, loitering
from cargotrace.maritime.kernels import chunks
from cargotrace.maritime.kernels import encounters as encounters_kernel
from cargotrace.maritime.kernels import interference as interference_kernel
from cargotrace.maritime.kernels import loitering as loitering_kernel
from cargotrace.maritime.kernels.partitions import partition_fixes
from cargotrace.settings import AnalysisSettings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from cargotrace.engine.spark_buckets import Buckets
    from cargotrace.engine.spark_runner import SparkRunner
    from cargotrace.maritime.kernels.port_zones import PortGrid

SPOOFED_COLUMNS = ("vid", "mmsi", "seq", "ts", "lat", "lon")
# row_kind: the track's tables, the loitering and interference kernels' rows (EVENT_TABLES),
# then the port zones tables (ZONES + 0, 1, 2: ZONE_TABLES)
TRACK, SHARED, SPOOFED, JUMPS, SHAPES, RUNS, ZONES = 0, 1, 2, 3, 4, 5, 6
BINS = 9  # the encounters' bins (after the three port zones tables)
# the small tables derived from each part's track and zone marks (engine/spark_derived.py)
DERIVED = {
    derived.TRANSMITTERS: 10, derived.GAP_FIXES: 11, derived.SPEEDS: 12, derived.ZONE_GAPS: 13,
}  # fmt: skip
# the per-vessel halves of interference and loitering, found in the track's pass
# (maritime/kernels/interference.py, loitering.py): row_kind -> (table, its schema)
EVENT_TABLES = {
    JUMPS: (interference_kernel.JUMPS, interference_kernel.JUMP_SCHEMA),
    SHAPES: (interference_kernel.SHAPES, interference_kernel.SHAPE_SCHEMA),
    RUNS: (loitering_kernel.RUNS, loitering_kernel.SCHEMA),
}
TIMESTAMP = pa.timestamp("us", tz="UTC")


def _track_tables() -> dict[int, tuple[str, pa.Schema]]:
    """The tables of the track's pass: row_kind -> (table, schema)."""
    track = pa.schema(
        [("vid", pa.int64()), ("mmsi", pa.int64()), ("tx", pa.int32()), ("seq", pa.int64()),
         ("ts", TIMESTAMP), ("lat", pa.float64()), ("lon", pa.float64()), ("sog", pa.float64()),
         ("prev_ts", TIMESTAMP), ("next_ts", TIMESTAMP), ("jump", pa.bool_()),
         ("gap_start_lat", pa.float64()), ("gap_start_lon", pa.float64())]
    )  # fmt: skip
    shared = pa.schema(
        [("mmsi", pa.int64()), ("jumps", pa.int64()), ("first_jump_at", TIMESTAMP), ("last_jump_at", TIMESTAMP)]
    )  # fmt: skip
    spoofed = pa.schema([track.field(name) for name in SPOOFED_COLUMNS])
    return {TRACK: ("track", track), SHARED: ("shared_mmsi", shared),
            SPOOFED: ("spoofed_fixes", spoofed), **EVENT_TABLES,
            BINS: (encounters_kernel.BINS, encounters_kernel.BIN_SCHEMA)}  # fmt: skip


@dataclass(frozen=True)
class Packing:
    """Several tables in one `mapInArrow` output, told apart by `row_kind`: each table's
    columns sit in slots named by type and number (`long_0`, `double_3`, ...) that the other
    tables reuse, so a row is as wide as the widest table (per type), not as all of them
    together: the track's rows, nearly all of the output, carry no empty columns of the
    small tables (zone marks, visits, runs of slow fixes, ...) in the checkpoint."""

    schema: pa.Schema
    slots: dict[int, dict[str, str]]  # row_kind -> the table's column -> its slot

    @classmethod
    def of(cls, tables: dict[int, pa.Schema]) -> Packing:
        fields: dict[str, pa.DataType] = {"row_kind": pa.int32()}
        slots: dict[int, dict[str, str]] = {}
        for kind, schema in tables.items():
            used: dict[pa.DataType, int] = {}
            slots[kind] = {}
            for f in schema:
                number = used.get(f.type, 0)
                used[f.type] = number + 1
                slot = f"{SPARK_TYPES[f.type]}_{number}"
                fields.setdefault(slot, f.type)
                slots[kind][f.name] = slot
        return cls(pa.schema(list(fields.items())), slots)

    def pack(self, batch: pa.RecordBatch, kind: int) -> pa.RecordBatch:
        """`batch` (rows of table `kind`) in the packed schema, NULL in the slots it does not use."""
        names = {slot: name for name, slot in self.slots[kind].items()}
        columns = [
            pa.array(np.full(batch.num_rows, kind, np.int32))
            if f.name == "row_kind"
            else batch.column(names[f.name]).cast(f.type)
            if f.name in names
            else pa.nulls(batch.num_rows, f.type)
            for f in self.schema
        ]
        return pa.RecordBatch.from_arrays(columns, schema=self.schema)

    def unpack(self, combined: DataFrame, kind: int) -> DataFrame:
        """Table `kind`'s rows and columns (names and order as its schema) from the output."""
        from pyspark.sql import functions as F

        return combined.where(f"row_kind = {kind}").select(
            *(F.col(slot).alias(name) for name, slot in self.slots[kind].items())
        )


def _widened(schema: pa.Schema, others: list[pa.Schema]) -> pa.Schema:
    """`schema` and then the columns of `others` it lacks; a name in both must have one type."""
    fields = list(schema)
    for other in others:
        for f in other:
            known = next((g for g in fields if g.name == f.name), None)
            if known is None:
                fields.append(f)
            elif known.type != f.type:
                raise TypeError(f"kernels on Spark: {f.name} has two types")
    return pa.schema(fields)


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


def _received(batches: Iterator[pa.RecordBatch]) -> pa.Table | None:
    """A `mapInArrow` partition's batches as one table, None when it holds no row."""
    received = list(batches)
    table = pa.Table.from_batches(received) if received else None
    return table if table is not None and table.num_rows else None


def track_partitions(
    settings: AnalysisSettings, packing: Packing, grid: PortGrid | None = None
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function `mapInArrow` runs on each partition of (mmsi, ts, lat, lon, sog) rows,
    whole vessels per partition: the track kernel on cache-sized parts, and with a port
    `grid` the port zones kernel on each part's track (`packing`: `_track_packing`)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = _received(batches)
        if table is None:  # no row hashed to this partition
            return
        columns = {
            name: table.column(name).to_numpy()
            for name in ("mmsi", "ts", "lat", "lon", "sog", "tbin")
        }
        del table
        for kind, batch in _track_results(columns, settings, grid):
            yield packing.pack(batch, kind)

    return run


def bucket_partitions(
    buckets: Buckets,
    settings: AnalysisSettings,
    tables: dict[int, tuple[str, pa.Schema]],
    folder: Path,
    grid: PortGrid | None = None,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function `mapInArrow` runs on each partition of `spark.range(buckets.count)`: for
    each bucket number it is given, that bucket's positions (whole vessels, read from its
    files: engine/spark_buckets.py) through the kernels of `track_partitions`, each table's
    rows written by the task as Parquet under `folder/<table>/` (the encounters' bins cut by
    a hash of their bin: the encounters' pass reads whole bins); yields (table, rows) per table."""
    from cargotrace.engine.spark_buckets import read_bucket, write_part, write_split_part

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for bucket in batch.column("id").to_pylist():
                found: dict[int, list[pa.RecordBatch]] = {kind: [] for kind in tables}
                columns = read_bucket(buckets, int(bucket))
                if columns is not None:
                    for kind, rows in _track_results(columns, settings, grid):
                        found[kind].append(rows)
                    del columns
                written = {}
                for kind, (table, schema) in tables.items():
                    if kind == BINS:
                        written[table] = write_split_part(
                            folder / table, bucket, found.pop(kind), schema, "tbin", buckets.count
                        )
                    else:
                        written[table] = write_part(folder / table, bucket, found.pop(kind), schema)
                yield pa.record_batch(
                    {"table": list(written), "rows": pa.array(list(written.values()), pa.int64())}
                )

    return run


def _track_results(
    columns: chunks.Columns, settings: AnalysisSettings, grid: PortGrid | None
) -> Iterator[tuple[int, pa.RecordBatch]]:
    """The kernels of the track's pass over whole vessels' rows, in cache-sized parts: each
    table's rows with its row_kind."""
    from cargotrace.maritime.kernels.port_zones import _zones
    from cargotrace.maritime.kernels.track import _chunk

    pieces = chunks.split_block(columns, "mmsi", chunks.part_count(len(columns["mmsi"])))
    for piece in pieces:
        if len(piece["mmsi"]) == 0:
            continue
        done = _chunk([piece], settings)
        yield TRACK, done.track
        found = (done.shared, done.spoofed, done.jumps, done.shapes, done.loitering_runs,
                 done.bins)  # fmt: skip
        for kind, batch in zip((SHARED, SPOOFED, *EVENT_TABLES, BINS), found, strict=True):
            if batch is not None and batch.num_rows:
                yield kind, batch
        marks = None
        if grid is not None:
            zones = _zones(done.track, grid, settings)
            marks = zones.marks
            for kind, batch in enumerate((zones.marks, zones.visits, zones.stops)):
                if batch.num_rows:
                    yield ZONES + kind, batch
        for table, batch in derived.tables_of(done.track, marks, settings):
            if batch.num_rows:
                yield DERIVED[table], batch


def _pass_tables(
    grid: PortGrid | None, settings: AnalysisSettings
) -> dict[int, tuple[str, pa.Schema]]:
    """The tables of the track's pass (and, with a port `grid`, of the port zones kernel
    fused into it): row_kind -> (table, schema)."""
    tables = _track_tables()
    marks = None
    if grid is not None:
        zones, names = _zone_schemas(grid, settings)
        for kind, table in enumerate(ZONE_TABLES):
            tables[ZONES + kind] = (table, pa.schema([zones.field(n) for n in names[table]]))
        marks = tables[ZONES][1]
    for table, schema in derived.schemas(tables[TRACK][1], marks).items():
        tables[DERIVED[table]] = (table, schema)
    return tables


def _track_packing(
    grid: PortGrid | None, settings: AnalysisSettings
) -> tuple[Packing, dict[int, str]]:
    """How the tables of the track's pass share its output; and the table of each row_kind."""
    tables = _pass_tables(grid, settings)
    packing = Packing.of({kind: schema for kind, (_, schema) in tables.items()})
    return packing, {kind: table for kind, (table, _) in tables.items()}


def run_track(runner: SparkRunner, settings: AnalysisSettings) -> None:
    """The track stage on Spark with the NumPy kernel: writes `track`, `shared_mmsi` and
    `spoofed_fixes` (and the other tables of its pass: the loitering and interference
    kernels' rows, the port zones tables when fused, and the encounters' bins: each vessel's
    fixes averaged per 10-minute bin while they sit sorted by time, as on DuckDB). With the
    positions in bucket files (`runner.buckets`) the pass reads them there, a bucket a task."""
    fused = all(name in runner.tables for name in PORT_TABLES)
    grid = _grid(runner, settings) if fused else None  # the port zones kernel in the same pass
    if runner.buckets is not None:  # whole vessels in files already: no shuffle, no JVM read
        _track_from_buckets(runner, runner.buckets, settings, grid)
        return
    packing, tables = _track_packing(grid, settings)
    passed = _positions_by_vessel(runner).mapInArrow(
        track_partitions(settings, packing, grid), _ddl(packing.schema)
    )
    combined = runner.checkpoint_df("track_and_zones" if fused else "track_and_shared", passed)
    # the other tables kept apart from the track's rows (one scan): a statement reading one of
    # them then reads its few rows, not all of the pass's output again
    # (the bins, a third as many rows as the track, are read once, by the encounters' pass)
    small = runner.checkpoint_df(
        "track_pass_tables", combined.where(f"row_kind NOT IN ({TRACK}, {BINS})")
    )
    for kind, table in tables.items():
        runner.register(table, packing.unpack(combined if kind in (TRACK, BINS) else small, kind))
    derived.mark_current(runner)


def _track_from_buckets(
    runner: SparkRunner, buckets: Buckets, settings: AnalysisSettings, grid: PortGrid | None
) -> None:
    """The track's pass over the positions' bucket files, a bucket a task, each task writing
    its tables' rows as Parquet (`bucket_partitions`): the JVM neither reads the positions
    nor holds the pass's output; each table is read back from its files by the statements
    that need it (only the columns they name), its row count known from the tasks. The
    encounters' bins, cut by bin, become `runner.bin_buckets` for the encounters' pass."""
    from cargotrace.engine.spark_buckets import TBIN_BUCKET, Buckets
    from cargotrace.engine.spark_runner import Files, local_path

    local = local_path(runner.workdir)
    if local is None:
        raise RuntimeError("positions in bucket files need a local work directory")
    folder = local / "tables" / "track_pass"
    shutil.rmtree(folder, ignore_errors=True)
    tables = _pass_tables(grid, settings)
    count = buckets.count
    written: dict[str, int] = dict.fromkeys((table for table, _ in tables.values()), 0)
    for row in (
        runner.spark.range(0, count, 1, count)
        .mapInArrow(bucket_partitions(buckets, settings, tables, folder, grid), "table string, rows long")
        .collect()
    ):  # fmt: skip
        written[row["table"]] += int(row["rows"])
    for _, (table, schema) in tables.items():
        if written[table]:  # the driver reads the files; Spark only if a Spark statement does
            runner.register_files(table, Files(folder / table, schema), rows=written[table])
        else:
            runner.register_arrow(table, schema.empty_table())
    derived.mark_current(runner)
    bins = encounters_kernel.BINS
    runner.bin_buckets = Buckets(folder / bins, count, written[bins], key=TBIN_BUCKET)


def _positions_by_vessel(runner: SparkRunner) -> DataFrame:
    """The kernels' columns of the job's positions in partitions of whole vessels (shuffled by
    MMSI unless the runner keeps them so already)."""
    from pyspark.sql import functions as F

    from cargotrace.engine.transpile import expression_to_spark

    tbin = expression_to_spark(f"SELECT {encounters_kernel.TBIN} AS tbin").removeprefix("SELECT ")
    positions = runner.table("positions")
    rows = positions.select(
        F.col("mmsi").cast("long").alias("mmsi"),
        F.unix_micros(F.col("timestamp").cast("timestamp")).alias("ts"),
        F.col("lat").cast("double").alias("lat"),
        F.col("lon").cast("double").alias("lon"),
        F.col("sog").cast("double").alias("sog"),
        F.expr(tbin).cast("long").alias("tbin"),  # the encounters' bin, as their SQL has it
    ).where("mmsi IS NOT NULL AND ts IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL")
    if "positions" in runner.by_vessel:  # whole vessels per partition already: no shuffle
        return rows
    wanted = int(runner.spark.conf.get("spark.sql.shuffle.partitions") or "1")
    return rows.repartition(max(wanted, math.ceil(rows.count() / partition_fixes())), "mmsi")


def _ddl(schema: pa.Schema) -> str:
    return ", ".join(f"{f.name} {SPARK_TYPES[f.type]}" for f in schema)


def run_loitering(runner: SparkRunner, settings: AnalysisSettings) -> None:
    """The loitering stage's SQL on Spark, from the runs of slow fixes the track's pass found
    (as `kernels.loitering.build` on DuckDB): only the distance from ports is SQL here. The
    stage SQL when the track was not built by the kernel in this job."""
    if loitering_kernel.RUNS not in runner.tables:
        runner.execute_all(loitering.statements(settings))
        return
    runs = f"e AS (SELECT {loitering.RUN_COLUMNS} FROM {loitering_kernel.RUNS})"
    runner.execute(loitering.candidates_sql(settings, runs))


def run_interference(runner: SparkRunner, settings: AnalysisSettings) -> None:
    """The interference stage's SQL on Spark, from the jumps and vessel-hours the track's pass
    found (as `kernels.interference.build` on DuckDB): the circling rule and the cells and
    hours. The stage SQL when the track was not built by the kernel in this job."""
    jumps, shapes = interference_kernel.JUMPS, interference_kernel.SHAPES
    if jumps not in runner.tables or shapes not in runner.tables:
        runner.execute_all(interference.statements(settings))
        return
    columns = ", ".join(interference_kernel.JUMP_SCHEMA.names)
    runner.execute(f"CREATE OR REPLACE TEMP TABLE position_jumps AS SELECT {columns} FROM {jumps}")
    shape = f"shape AS (SELECT {', '.join(interference_kernel.SHAPE_SCHEMA.names)} FROM {shapes})"
    runner.execute(interference.circling_sql(settings, shape))
    runner.execute_all(interference.cell_statements(settings))


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

    from cargotrace.maritime.kernels.port_zones import PortGrid

    con = duckdb.connect()
    try:
        for name in ("port_cells", "port_areas", "port_edges"):
            con.register(name, runner.arrow(name))
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
        table = _received(batches)
        if table is None:  # no row hashed to this partition
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


ENCOUNTER_COLUMNS = ("mmsi", "tbin", "ts", "lat", "lon", "sog")


def bins_in_time_order(part: chunks.Columns) -> chunks.Columns:
    """A part's positions averaged per (10-minute bin, vessel) as the stage SQL's `binned`
    (maritime/encounters.py), each bin's fixes summed in the order of their time (then lat,
    lon, speed), whatever order the shuffle delivered them in: the sums are the same in every
    run, and the same as DuckDB's SQL sums positions ingested in time order (a median speed
    on a rounding edge, 0.575 kn, depends on the last bit). One row per bin and vessel, so
    the kernel's own averaging (`find_pairs`) keeps these values as they are."""
    order = np.lexsort(
        (part["sog"], part["lon"], part["lat"], part["ts"], part["mmsi"], part["tbin"])
    )
    return encounters_kernel.bin_means(
        part["tbin"][order],
        part["mmsi"][order],
        part["lat"][order].astype(np.float64),
        part["lon"][order].astype(np.float64),
        part["sog"][order].astype(np.float64),
    )


def encounter_partitions(
    settings: AnalysisSettings, schema: pa.Schema, binned: bool = False
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function `mapInArrow` runs on each partition of (mmsi, tbin, ts, lat, lon, sog)
    rows, whole 10-minute bins per partition: the encounters kernel on cache-sized parts of
    whole bins, each part averaged per bin and vessel first (`bins_in_time_order`; `binned`:
    the rows are the track pass's bins already, mmsi, tbin, lat, lon, sog); its close pairs
    (row_kind 0) and crowded cells (1) leave together."""
    names = encounters_kernel.BIN_SCHEMA.names if binned else ENCOUNTER_COLUMNS

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = _received(batches)
        if table is None:  # no row hashed to this partition
            return
        columns = {name: table.column(name).to_numpy() for name in names}
        del table
        for piece in chunks.split_block(columns, "tbin", chunks.part_count(len(columns["tbin"]))):
            if len(piece["tbin"]) == 0:
                continue
            # one row per bin and vessel: the kernel's own averaging leaves them as they are
            bins = piece if binned else bins_in_time_order(piece)
            pairs, crowds = encounters_kernel.find_pairs(bins, settings)
            for kind, batch in enumerate((pairs, crowds)):
                if batch.num_rows:
                    yield _as_combined(batch, kind, schema)

    return run


def run_encounters(runner: SparkRunner, settings: AnalysisSettings) -> None:
    """The encounters stage on Spark with the NumPy kernel: the positions (the kernel's own
    SELECT, transpiled, with the time of each fix to order a bin's fixes by) hash-partitioned
    by their 10-minute bin, which no pair spans (the spatial-temporal partitioning of
    docs/scaling.md), the kernel on parts of whole bins in `mapInArrow`; writes `close_pairs`
    and the crowded cells, then the stage's last statements (`encounter_crowds`, the runs of
    bins per pair: `encounter_runs`, `encounters`) as Spark SQL. When the track's pass wrote
    its bins in files of whole bins (`runner.bin_buckets`), a task reads a bucket of them:
    no shuffle."""
    schema = _widened(
        pa.schema([("row_kind", pa.int32())]),
        [encounters_kernel.PAIR_SCHEMA, encounters_kernel.CROWD_SCHEMA],
    )
    binned = encounters_kernel.BINS in runner.tables  # made by the track's pass
    crowded = encounters_kernel.CROWDED
    if runner.bin_buckets is not None and binned:  # in files of whole bins: no shuffle
        _encounters_from_bin_buckets(runner, runner.bin_buckets, settings, schema)
    else:
        passed = _encounter_rows(runner, binned).mapInArrow(
            encounter_partitions(settings, schema, binned), _ddl(schema)
        )
        combined = runner.checkpoint_df("encounter_kernel", passed)
        pairs = combined.where("row_kind = 0").select(*encounters_kernel.PAIR_SCHEMA.names)
        runner.register("close_pairs", pairs)
        crowds = combined.where("row_kind = 1").select(*encounters_kernel.CROWD_SCHEMA.names)
        runner.register(crowded, crowds)
    runner.execute(encounters.crowds_sql(f"SELECT tbin, vessels, lat, lon FROM {crowded}"))
    runner.execute(encounters.encounter_runs_sql(settings))
    if runner.holds_on_driver("encounter_runs"):  # few rows: the ports that can be nearest
        _nearby_ports(runner)
        runner.execute(encounters.encounters_sql(settings, ports=encounters_kernel.NEARBY_PORTS))
    else:
        runner.execute(encounters.encounters_sql(settings))


def _nearby_ports(runner: SparkRunner) -> None:
    """`encounters_kernel.NEARBY_PORTS` on the driver, as the DuckDB engine's kernel makes it
    (`kernels.encounters.publish_nearby_ports`): per run of `encounter_runs`, the ports that
    can be its nearest (kernels/nearby_ports.py), so that `encounters_sql` measures those
    instead of every port within a degree of latitude (the same rows)."""
    import pyarrow.compute as pc

    from cargotrace.maritime.kernels import nearby_ports

    runs = runner.arrow("encounter_runs")
    ports = runner.arrow("ports").select(["lat", "lon"])
    ports = ports.filter(pc.is_valid(ports.column("lat")))

    def floats(column: pa.ChunkedArray) -> np.ndarray:
        return np.asarray(column.to_numpy(zero_copy_only=False), np.float64)

    port_lat, port_lon = floats(ports.column("lat")), floats(ports.column("lon"))
    event, port = nearby_ports.candidates(
        floats(runs.column("lat")), floats(runs.column("lon")), port_lat, port_lon
    )
    near = runs.select(list(encounters.RUN_KEY)).take(pa.array(event))
    near = near.append_column("lat", pa.array(port_lat[port], pa.float64()))
    near = near.append_column("lon", pa.array(port_lon[port], pa.float64()))
    runner.register_arrow(encounters_kernel.NEARBY_PORTS, near)


ENCOUNTER_TABLES = {
    0: ("close_pairs", encounters_kernel.PAIR_SCHEMA),
    1: (encounters_kernel.CROWDED, encounters_kernel.CROWD_SCHEMA),
}


def bin_bucket_partitions(
    buckets: Buckets, settings: AnalysisSettings, schema: pa.Schema, folder: Path
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function `mapInArrow` runs on each partition of `spark.range(buckets.count)`: for
    each bucket number it is given, the bins the track's pass wrote to that bucket (whole
    10-minute bins: `engine/spark_buckets.write_split_part`) through the encounters kernel,
    as `encounter_partitions` runs it, the close pairs and crowded cells written by the task
    as Parquet under `folder/<table>/`; yields (table, rows) per table."""
    from cargotrace.engine.spark_buckets import read_split_bucket, write_part

    run_bins = encounter_partitions(settings, schema, binned=True)
    names = list(encounters_kernel.BIN_SCHEMA.names)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for bucket in batch.column("id").to_pylist():
                found: dict[int, list[pa.RecordBatch]] = {kind: [] for kind in ENCOUNTER_TABLES}
                table = read_split_bucket(buckets, int(bucket), names)
                if table is not None:
                    for rows in run_bins(iter(table.to_batches())):
                        kinds = rows.column("row_kind").to_numpy()
                        for kind in ENCOUNTER_TABLES:
                            found[kind].append(rows.filter(pa.array(kinds == kind)))
                written = {
                    name: write_part(folder / name, bucket, found[kind], table_schema)
                    for kind, (name, table_schema) in ENCOUNTER_TABLES.items()
                }
                yield pa.record_batch(
                    {"table": list(written), "rows": pa.array(list(written.values()), pa.int64())}
                )

    return run


def _encounters_from_bin_buckets(
    runner: SparkRunner, buckets: Buckets, settings: AnalysisSettings, schema: pa.Schema
) -> None:
    """The encounters kernel over the track pass's bins in files of whole bins, a bucket a
    task, each task writing its close pairs and crowded cells as Parquet: the driver reads
    those (few) rows from the files, Spark only if a Spark statement needs them."""
    from cargotrace.engine.spark_runner import Files, local_path

    local = local_path(runner.workdir)
    if local is None:
        raise RuntimeError("bins in bucket files need a local work directory")
    folder = local / "tables" / "encounter_pass"
    shutil.rmtree(folder, ignore_errors=True)
    written = dict.fromkeys((name for name, _ in ENCOUNTER_TABLES.values()), 0)
    count = buckets.count
    for row in (
        runner.spark.range(0, count, 1, count)
        .mapInArrow(bin_bucket_partitions(buckets, settings, schema, folder), "table string, rows long")
        .collect()
    ):  # fmt: skip
        written[row["table"]] += int(row["rows"])
    for name, table_schema in ENCOUNTER_TABLES.values():
        if written[name]:
            runner.register_files(name, Files(folder / name, table_schema), rows=written[name])
        else:
            runner.register_arrow(name, table_schema.empty_table())


def _encounter_rows(runner: SparkRunner, binned: bool) -> DataFrame:
    """The encounters kernel's rows (the track pass's bins, else the positions) in partitions
    of whole 10-minute bins (a shuffle by bin)."""
    from pyspark.sql import functions as F

    from cargotrace.engine.transpile import expression_to_spark

    if binned:
        rows = runner.table(encounters_kernel.BINS)
    else:
        select = encounters_kernel.POSITIONS.format(rows="TRUE")
        timed = select.replace(" lat, lon,", " timestamp, lat, lon,", 1)  # the SELECT, timed
        if timed == select:
            raise RuntimeError("encounters kernel on Spark: its positions' SELECT has changed")
        rows = runner.spark.sql(expression_to_spark(timed)).select(
            F.col("mmsi").cast("long").alias("mmsi"), F.col("tbin").cast("long").alias("tbin"),
            F.unix_micros(F.col("timestamp").cast("timestamp")).alias("ts"),
            F.col("lat").cast("double").alias("lat"), F.col("lon").cast("double").alias("lon"),
            F.col("sog").cast("double").alias("sog"),
        )  # fmt: skip
    count = runner.by_vessel.get("positions", runner.buckets.rows if runner.buckets else None)
    wanted = int(runner.spark.conf.get("spark.sql.shuffle.partitions") or "1")
    partitions = max(wanted, math.ceil((count if count is not None else rows.count()) / partition_fixes()))  # fmt: skip
    return rows.repartition(partitions, "tbin")


# stage name -> its kernel on Spark (the stages not named here run their SQL)
SPARK_KERNELS: dict[str, Callable[[SparkRunner, AnalysisSettings], None]] = {
    "track": run_track,
    "port_zones": run_port_zones,
    "loitering": run_loitering,
    "interference": run_interference,
    "encounters": run_encounters,
}
