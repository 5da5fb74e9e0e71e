"""Vessel partitions: the positions of a case too big for memory, worked a slice of vessels
at a time, so that the kernels' memory depends on the largest partition, not on the case.

A case of at most `partition_fixes()` positions is one partition, fetched straight into
memory (chunks.fetch_parts). A bigger case is cut, in one pass over the `positions` table
(or view), into `ceil(rows / partition_fixes())` partitions by a hash of the MMSI, each an
Arrow IPC file in a scratch folder next to the case; each partition (whole vessels) is then
mapped back, cut into cache-sized parts and worked on as a small case would be. Every step
is linear in the number of positions: one scan, one write, one mapped read per partition.
The kernels write their tables partition by partition too (views.Sink).
"""

from __future__ import annotations

import math
import os
import queue
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from cargotrace import heap
from cargotrace.errors import InputError
from cargotrace.maritime.kernels import chunks, views

PARTITION_FIXES_ENV = "CARGOTRACE_PARTITION_FIXES"
# ~130 bytes a fix at the kernels' peak: about 1 GB of arrays per partition
PARTITION_FIXES = 8_000_000
MIX = np.uint64(0xD6E8FEB86659FD93)


def partition_fixes() -> int:
    """The most positions one partition holds: CARGOTRACE_PARTITION_FIXES, else the default."""
    text = os.environ.get(PARTITION_FIXES_ENV, "").strip() or str(PARTITION_FIXES)
    if not text.isdigit() or int(text) == 0:
        raise InputError(
            f"{PARTITION_FIXES_ENV} must be a positive whole number of positions, not {text!r}"
        )
    return int(text)


def partition_count(con: duckdb.DuckDBPyConnection, table: str = "positions") -> int:
    """How many vessel partitions the kernels cut `table` into (1: it fits in memory)."""
    (rows,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[misc]
    return max(1, math.ceil(int(rows) / partition_fixes()))


def partition_of(key: NDArray[np.int64], partitions: int) -> NDArray[np.int64]:
    """The vessel partition of each key: a multiplicative hash whose bits are independent of
    the ones chunks.part_of takes (its top bits), so a partition still spreads over parts."""
    mixed = key.astype(np.int64).view(np.uint64) * MIX
    return ((mixed >> np.uint64(16)) % np.uint64(partitions)).astype(np.int64)


def vessel_partitions(
    con: duckdb.DuckDBPyConnection, select: str, table: str, key: str, partitions: int
) -> Iterator[list[list[chunks.Columns]]]:
    """The rows of `select` (see chunks.fetch_parts), partition by partition: each as its
    parts of whole `key` values, each part as a list of pieces.

    One partition: fetched straight into memory. Several: the rows stream once from DuckDB
    (through the caller's connection, so uncommitted rows are seen) in blocks, each block
    is cut by partition and appended to that partition's Arrow IPC file; each file is then
    mapped back (no copy, no decoding) and cut into cache-sized parts block by block.
    The rows stream on one cursor per core, each over a contiguous range of row ids into
    files of its own (`PartitionFiles` slots), when those cursors see the rows the caller's
    connection sees."""
    if partitions == 1:
        yield chunks.fetch_parts(con, select, table, key)
        return
    (rows,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[misc]
    parts = chunks.part_count(-(-int(rows) // partitions))  # as many as an average partition needs
    files = PartitionFiles(views.workdir(con) / f"{table}-partitions", key, partitions, parts)
    try:
        _spill(con, select, table, files)
        yield from files.read()
    finally:
        files.remove()


def cut(batch: pa.RecordBatch, key: str, partitions: int, parts: int = 1) -> list[pa.RecordBatch]:
    """`batch`'s rows by partition of `key` (partition_of): one batch per partition, input
    order kept within each, empty where no row falls; with `parts`, each partition's rows
    ordered by their part (chunks.part_of), input order kept within each part."""
    values = batch.column(key).to_numpy(zero_copy_only=False)
    group = partition_of(values, partitions)
    if parts > 1:
        group = group * parts + chunks.part_of(values, parts)
    if partitions * parts <= 1 << 16:  # a stable sort of 16-bit keys is a radix sort: linear
        group = group.astype(np.uint16)
    order = np.argsort(group, kind="stable")
    sizes = np.bincount(group, minlength=partitions * parts).reshape(partitions, parts)
    bounds = np.concatenate([[0], np.cumsum(sizes.sum(axis=1))])
    moved = batch.take(pa.array(order))
    return [moved.slice(bounds[p], bounds[p + 1] - bounds[p]) for p in range(partitions)]


class PartitionFiles:
    """Rows kept on disk by partition of `key`: one Arrow IPC file per partition in `folder`,
    appended to batch by batch, then read back a partition at a time (`read`). Writers on
    several threads each append to files of their own (`slot`): a partition's rows are its
    slots' files read in slot order."""

    def __init__(self, folder: Path, key: str, partitions: int, parts: int | None = None) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder, self.key, self.partitions = folder, key, partitions
        # the parts each partition is read in, when the writers order each batch by part
        # (`cut(..., parts)`): read as slices of the mapped files, no gather; else (None)
        # cut into parts when read, as many as its rows need
        self.parts = parts
        self.paths = [folder / f"part-{p:05d}.arrow" for p in range(partitions)]  # slot 0
        self.writers: dict[tuple[int, int], pa.ipc.RecordBatchFileWriter] = {}
        self.slots = 1  # writers' slots used so far
        self.lock = threading.Lock()
        self.slot_of: dict[int, int] = {}  # worker thread -> its slot, this round (`append_here`)

    def path(self, partition: int, slot: int = 0) -> Path:
        """The file of `partition` written by writer `slot`."""
        if slot == 0:
            return self.paths[partition]
        return self.folder / f"part-{partition:05d}.{slot:03d}.arrow"

    def append(self, partition: int, batch: pa.RecordBatch, slot: int = 0) -> None:
        """Append `batch` (rows of `partition`) to its file of writer `slot` (nothing for no
        rows). One thread per slot."""
        if batch.num_rows == 0:
            return
        writer = self.writers.get((partition, slot))
        if writer is None:
            with self.lock:
                path = str(self.path(partition, slot))
                self.slots = max(self.slots, slot + 1)
                writer = self.writers[partition, slot] = pa.ipc.new_file(path, batch.schema)
        writer.write_batch(batch)

    def append_here(self, partition: int, batch: pa.RecordBatch) -> None:
        """`append` from a worker thread, to the slot of that thread in this round of
        workers (`new_round`): the rows of a partition then come in no set order."""
        with self.lock:
            slot = self.slot_of.setdefault(threading.get_ident(), len(self.slot_of))
        self.append(partition, batch, slot)

    def new_round(self) -> None:
        """The workers of the last round are done: the next round's threads take their
        slots (and files) over."""
        with self.lock:
            self.slot_of.clear()

    def close(self) -> None:
        """Finish the files (before `read`)."""
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()

    def read(self, *, delete: bool = True) -> Iterator[list[list[chunks.Columns]]]:
        """Each partition's rows, mapped back (no copy, no decoding) and cut into parts of
        whole `key` values block by block (see chunks.fetch_parts); its files deleted after
        unless not `delete` (to be read again)."""
        self.close()
        for partition in range(self.partitions):
            paths = [self.path(partition, s) for s in range(self.slots)]
            paths = [path for path in paths if path.exists()]
            if not paths:
                continue  # no row hashed here
            batches = [
                batch
                for path in paths
                for batch in pa.ipc.open_file(pa.memory_map(str(path))).read_all().to_batches()
                if batch.num_rows
            ]  # mapped: no copy
            rows = sum(b.num_rows for b in batches)
            count = self.parts or chunks.part_count(rows)
            if self.parts is None and len(batches) > 2 * max(1, rows // chunks.BLOCK_ROWS):
                # many small batches (a part's rows each, written by the workers): cut in
                # blocks, not batch by batch (one copy, fewer and longer gathers)
                whole = pa.Table.from_batches(batches).combine_chunks()
                batches = whole.to_batches(max_chunksize=chunks.BLOCK_ROWS)
                del whole

            def cut_batch(batch: pa.RecordBatch, count: int = count) -> list[chunks.Columns]:
                columns = {
                    name: batch.column(name).to_numpy(zero_copy_only=False)
                    for name in batch.schema.names
                }
                if self.parts is None:
                    return chunks.split_block(columns, self.key, count)
                # already ordered by part: slices of the mapped columns
                part = chunks.part_of(columns[self.key], count)
                at = np.searchsorted(part, np.arange(count + 1, dtype=part.dtype))
                return [
                    {name: v[at[i] : at[i + 1]] for name, v in columns.items()}
                    for i in range(count)
                ]

            # the blocks cut on the thread pool (NumPy's gathers release the GIL)
            pieces = chunks.map_parts(cut_batch, batches)
            del batches
            parts = [[block[i] for block in pieces] for i in range(count)]
            del pieces
            yield parts
            del parts  # before the next partition is read (the caller drops its own too)
            if delete:
                for path in paths:
                    path.unlink()
            release_memory()

    def remove(self) -> None:
        """Close and delete the files."""
        try:
            self.close()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def release_memory() -> None:
    """Give the heap memory freed since back to the system. glibc keeps freed blocks in its
    per-thread arenas, and the arrays of one partition, allocated by a pool of threads, are
    freed in an order that leaves them fragmented: without this the process held about
    1 GB more after each few partitions (2.0 GB more after the track stage at 30 M)."""
    heap.trim()


def _spill(con: duckdb.DuckDBPyConnection, select: str, table: str, files: PartitionFiles) -> None:
    """Append the rows of `select` (over `table`, `{rows}` where a row range goes) to the
    Arrow IPC files of their partitions: on one cursor per core, each streaming a contiguous
    range of row ids into its own slot of the files, in parallel (DuckDB turns a result into
    Arrow on one thread, and the cut and the writes are the spill's serial half); through
    the caller's connection when the cursors would not see the same rows (uncommitted ones)
    or `table` has no row ids (a view)."""
    ranges = _row_ranges(con, table)
    if ranges is None:
        for batch in _prefetched(
            con.execute(select.format(rows="TRUE")).to_arrow_reader(chunks.BLOCK_ROWS)
        ):
            _append(files, batch, 0)
        return
    cursors = [con.cursor() for _ in ranges]  # made here: a connection is not shared

    def stream(slot: int) -> None:
        query = select.format(rows=ranges[slot])
        for batch in cursors[slot].execute(query).to_arrow_reader(chunks.BLOCK_ROWS):
            _append(files, batch, slot)

    try:
        chunks.map_parts(stream, range(len(ranges)))
    finally:
        for cursor in cursors:
            cursor.close()


def _append(files: PartitionFiles, batch: pa.RecordBatch, slot: int) -> None:
    if batch.num_rows:
        for p, piece in enumerate(cut(batch, files.key, files.partitions, files.parts or 1)):
            files.append(p, piece, slot)


def _row_ranges(con: duckdb.DuckDBPyConnection, table: str) -> list[str] | None:
    """`table`'s row ids in one contiguous range per worker (as conditions), or None: one
    worker, no row ids (a view), or rows another cursor would not see (not yet committed:
    its count or row ids differ from the caller's)."""
    if chunks.workers() == 1:
        return None
    query = f"SELECT count(*), min(rowid), max(rowid) FROM {table}"
    try:
        seen = con.execute(query).fetchone()
    except duckdb.BinderException:  # a view (Parquet files): no rowid to cut ranges by
        return None
    cursor = con.cursor()
    try:
        committed = cursor.execute(query).fetchone()
    except duckdb.Error:  # a temp table of the caller's connection: not another cursor's
        return None
    finally:
        cursor.close()
    if seen is None or seen != committed or not seen[0]:
        return None
    _, low, high = (int(v) for v in seen)
    step = -(-(high - low + 1) // chunks.workers())
    return [
        f"rowid >= {low + i * step} AND rowid < {low + (i + 1) * step}"
        for i in range(chunks.workers())
    ]


def _prefetched(reader: pa.RecordBatchReader, ahead: int = 2) -> Iterator[pa.RecordBatch]:
    """The reader's batches, read on a thread of their own up to `ahead` batches in advance,
    so that DuckDB produces the next block while the caller cuts and writes this one."""
    done = object()
    ready: queue.Queue[object] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def read() -> None:
        try:
            for batch in reader:
                if stop.is_set():
                    return
                ready.put(batch)
            ready.put(done)
        except BaseException as error:  # handed to the caller's thread
            ready.put(error)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # let the reader finish its put and see `stop`
            try:
                ready.get(timeout=0.05)
            except queue.Empty:
                pass
        thread.join()
