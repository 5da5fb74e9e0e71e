"""Kernel tables published to a DuckDB connection under a table's name, and released after.

A table that fits in memory is published as a DuckDB view over Arrow memory (zero copy);
the kernels also keep the table itself, so that a later kernel reads the arrays without a
round trip through DuckDB. A table written vessel partition by vessel partition (a case
larger than one partition, kernels/partitions.py) goes to Parquet files, one per partition,
in a work folder next to the case, and is published as a view over those files: its size
on disk grows with the case, the memory it takes does not. `release` drops the views and
deletes the files.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cargotrace.case.store import quote_ident
from cargotrace.maritime.kernels import chunks

BATCH_ROWS = 1 << 17  # DuckDB scans an Arrow table one batch per thread: keep batches small

COPY_CELLS = 2_000_000
# Parquet options of scratch files (the kernels' partitions here, Spark's pass tables): plain
# pages, neither compressed nor dictionary-encoded, cheapest to write and to read back (a
# third of the CPU time of snappy with dictionaries; the row groups keep their statistics)
SCRATCH_PARQUET: dict[str, object] = {"compression": "none", "use_dictionary": False}


def delta_encoded(schema: pa.Schema) -> dict[str, object]:
    """SCRATCH_PARQUET with every integer and timestamp column delta-encoded: the kernels'
    tables are sorted by vessel and time, so ids and times go down to a few bits a row (the
    track's files to a third of their plain size, for less CPU than writing the plain bytes:
    writing to the page cache costs more than encoding)."""
    delta = {
        f.name: "DELTA_BINARY_PACKED"
        for f in schema
        if pa.types.is_integer(f.type) or pa.types.is_timestamp(f.type)
    }
    return {**SCRATCH_PARQUET, "column_encoding": delta} if delta else SCRATCH_PARQUET


@dataclass
class _State:
    """What the kernels published on one connection, until `release`."""

    tables: dict[str, pa.Table] = field(default_factory=dict)  # published in memory
    files: dict[str, list[Path]] = field(default_factory=dict)  # published as Parquet files
    tags: dict[str, object] = field(default_factory=dict)
    kept: dict[str, object] = field(default_factory=dict)  # see `keep`
    workdir: Path | None = None


# Keyed by the connection itself, held weakly: a connection that is gone takes its state
# with it (its work folder is removed by the finalizer `workdir` registers).
_states: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, _State] = weakref.WeakKeyDictionary()


def _state(con: duckdb.DuckDBPyConnection) -> _State:
    found = _states.get(con)
    if found is None:
        found = _states[con] = _State()
    return found


def _drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Remove a temp table, temp view or registered Arrow view called `name`."""
    con.unregister(name)
    kinds = con.execute(
        "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = $1 UNION ALL "
        "SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = $1",
        [name],
    ).fetchall()
    for (kind,) in kinds:
        con.execute(f"DROP {kind} IF EXISTS temp.main.{quote_ident(name)}")


def publish(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Make `table` readable as `name` on `con`, replacing a temp table or view of that name.
    A small table becomes a DuckDB temp table (scans of Arrow cost more than copying it)."""
    _drop(con, name)
    batches = pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_ROWS), table.schema)
    if table.num_rows * table.num_columns <= COPY_CELLS:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM batches")
    else:
        con.register(name, batches)
    _state(con).tables[name] = table


def publish_files(con: duckdb.DuckDBPyConnection, name: str, files: list[Path]) -> None:
    """Make the Parquet `files` (one table's partitions, same schema) readable as `name`."""
    _drop(con, name)
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    con.execute(f"CREATE TEMP VIEW {quote_ident(name)} AS SELECT * FROM read_parquet([{listed}])")
    _state(con).files[name] = files


def published(con: duckdb.DuckDBPyConnection, name: str) -> pa.Table | None:
    """The table published as `name` on `con`, if a kernel published it in memory."""
    found = _states.get(con)
    return found.tables.get(name) if found else None


def published_files(con: duckdb.DuckDBPyConnection, name: str) -> list[Path] | None:
    """The Parquet files, one per vessel partition, of the table published as `name`."""
    found = _states.get(con)
    return found.files.get(name) if found else None


def set_tag(con: duckdb.DuckDBPyConnection, name: str, value: object) -> None:
    """Remember what the table published as `name` was made from (say, the settings of its
    rules), until `release`."""
    _state(con).tags[name] = value


def tag(con: duckdb.DuckDBPyConnection, name: str) -> object:
    """What `set_tag` noted for `name` on `con` (None: nothing, or released since)."""
    found = _states.get(con)
    return found.tags.get(name) if found else None


def keep(con: duckdb.DuckDBPyConnection, name: str, value: object) -> None:
    """Hold `value` (say, a kernel's partition files in the work folder, which no DuckDB view
    reads) for a later kernel on `con`, until `release`."""
    _state(con).kept[name] = value


def kept(con: duckdb.DuckDBPyConnection, name: str) -> object:
    """What `keep` holds as `name` on `con` (None: nothing, or released since)."""
    found = _states.get(con)
    return found.kept.get(name) if found else None


def workdir(con: duckdb.DuckDBPyConnection) -> Path:
    """A scratch folder for `con`'s kernel files: next to the case's database file (where
    there is room for a copy of the positions), else in the system's temp folder."""
    state = _state(con)
    if state.workdir is None:
        found = con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()
        parent = Path(found[0]).parent if found and found[0] else None
        state.workdir = Path(tempfile.mkdtemp(prefix=".cargotrace-kernels-", dir=parent))
        # removed when the connection goes, or at exit, whichever comes first
        weakref.finalize(con, shutil.rmtree, state.workdir, ignore_errors=True)
    return state.workdir


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Forget every table published on `con` (frees their memory, deletes their files)."""
    state = _states.pop(con, None)
    if state is None:
        return
    for name in state.tables:
        con.unregister(name)
    for name in state.files:
        _drop(con, name)
    if state.workdir is not None:
        shutil.rmtree(state.workdir, ignore_errors=True)


class Sink:
    """Collects one table's record batches, partition by partition, and publishes them:
    in memory, or (`to_disk`) as Parquet files, a few per partition: written by `add` on
    the calling thread, or by `put` from the worker threads as each part is done (a file
    per thread, closed by `end_partition`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, name: str, *, to_disk: bool) -> None:
        self.con, self.name, self.to_disk = con, name, to_disk
        self.batches: list[pa.RecordBatch] = []
        self.files: list[Path] = []
        self.schema: pa.Schema | None = None
        self.lock = threading.Lock()
        self.writers: dict[int, pq.ParquetWriter] = {}  # by thread, until end_partition

    def put(self, batch: pa.RecordBatch) -> None:
        """One part's rows, from any thread: appended to that thread's file of the current
        partition (`to_disk`; the rows of a file in the order its thread put them), else
        kept in memory (in the order they come)."""
        with self.lock:
            self.schema = self.schema or batch.schema
            if not self.to_disk:
                self.batches.append(batch)
                return
            if batch.num_rows == 0:
                return
            writer = self.writers.get(threading.get_ident())
            if writer is None:
                folder = workdir(self.con) / self.name
                folder.mkdir(exist_ok=True)
                path = folder / f"part-{len(self.files):05d}.parquet"
                writer = pq.ParquetWriter(path, self.schema, **delta_encoded(self.schema))
                self.writers[threading.get_ident()] = writer
                self.files.append(path)
        writer.write_batch(batch)  # a row group per part; one thread per writer

    def end_partition(self) -> None:
        """Close the files `put` wrote this partition (the worker threads are done)."""
        with self.lock:
            for writer in self.writers.values():
                writer.close()
            self.writers.clear()

    def add(self, batches: list[pa.RecordBatch]) -> None:
        if not batches:
            return
        self.schema = self.schema or batches[0].schema
        if not self.to_disk:
            self.batches.extend(batches)
            return
        batches = [b for b in batches if b.num_rows]
        if not batches:
            return
        folder = workdir(self.con) / self.name
        folder.mkdir(exist_ok=True)
        # a file per worker thread, written in parallel, each a run of whole batches (a
        # kernel's batch holds whole vessels or bins)
        rows = np.cumsum([b.num_rows for b in batches])
        cuts = np.searchsorted(rows, rows[-1] * np.arange(1, chunks.workers()) / chunks.workers())
        bounds = [0, *sorted(set(int(c) + 1 for c in cuts if c + 1 < len(batches))), len(batches)]
        paths = [folder / f"part-{len(self.files) + i:05d}.parquet" for i in range(len(bounds) - 1)]
        options = delta_encoded(self.schema)

        def write(i: int) -> None:
            table = pa.Table.from_batches(batches[bounds[i] : bounds[i + 1]], self.schema)
            pq.write_table(table, paths[i], row_group_size=BATCH_ROWS * 4, **options)

        chunks.map_parts(write, range(len(paths)))
        self.files.extend(paths)

    def publish(self) -> None:
        self.end_partition()
        if self.schema is None:
            raise ValueError(f"{self.name}: no batch was added (not even an empty one)")
        if not self.to_disk:
            publish(self.con, self.name, pa.Table.from_batches(self.batches, self.schema))
            return
        if not self.files:  # every partition empty: one empty file gives the view its columns
            path = workdir(self.con) / f"{self.name}-empty.parquet"
            pq.write_table(self.schema.empty_table(), path)
            self.files.append(path)
        publish_files(self.con, self.name, self.files)
