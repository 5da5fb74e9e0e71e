"""Vessel chunks: the fixes split into parts that each hold whole vessels, worked in parallel.

Every per-fix rule looks only at one vessel's fixes, so the kernels cut the positions into
parts of about `CHUNK_ROWS` fixes by a hash of the MMSI, sort each part on its own, and run
the parts on a thread pool (NumPy releases the GIL in its loops, sorts and gathers). A part
small enough to stay in the CPU caches also makes the sorts and gathers several times
faster than on the whole table.
"""

from __future__ import annotations

import math
import os
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import duckdb
import numpy as np
from numpy.typing import NDArray

CHUNK_ROWS = 1 << 17  # about 130,000 fixes: a part's columns fit in the caches
MAX_BITS = 15  # at most 32,768 parts
BLOCK_ROWS = 1 << 18  # rows fetched and cut into parts at a time: a block stays in the caches
GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: MMSIs often end in zeros
T = TypeVar("T")
R = TypeVar("R")


def part_count(rows: int) -> int:
    """A power of two, so that a part is a few top bits of the hash."""
    return 1 << int(min(MAX_BITS, max(0, math.ceil(math.log2(max(rows, 1) / CHUNK_ROWS)))))


def part_of(mmsi: NDArray[np.int64], parts: int) -> NDArray[np.uint16]:
    """The part of each MMSI: the top bits of a multiplicative hash (a multiply and a shift)."""
    if parts == 1:
        return np.zeros(len(mmsi), np.uint16)
    bits = parts.bit_length() - 1
    return ((mmsi.astype(np.int64).view(np.uint64) * GOLDEN) >> np.uint64(64 - bits)).astype(
        np.uint16
    )


Columns = dict[str, NDArray[Any]]


def split_block(block: Columns, key: str, parts: int) -> list[Columns]:
    """A block of rows cut into its parts (input order kept within each)."""
    part = part_of(block[key], parts)
    order = np.argsort(part, kind="stable")  # a radix sort for 16-bit keys: linear
    bounds = np.concatenate([[0], np.cumsum(np.bincount(part, minlength=parts))])
    moved = {name: values[order] for name, values in block.items()}
    return [{name: v[bounds[i] : bounds[i + 1]] for name, v in moved.items()} for i in range(parts)]


def join_pieces(pieces: Sequence[Columns]) -> Columns:
    """One part's pieces from every block, as contiguous arrays."""
    return {name: np.concatenate([p[name] for p in pieces]) for name in pieces[0]}


def fetch_parts(
    con: duckdb.DuckDBPyConnection, select: str, table: str, key: str
) -> list[list[Columns]]:
    """The rows of `select` (a query over `table` with `{rows}` where a rowid range goes),
    cut into parts of whole `key` values; each part as a list of pieces (see join_pieces).

    Blocks of rowids are fetched on parallel cursors (DuckDB converts a result to Arrow on
    one thread) and cut into parts as they arrive. The cursors see committed rows only: when
    they do not find every row the caller's connection sees, the rows are read through that
    connection instead."""
    try:
        count, low, high = con.execute(
            f"SELECT count(*), min(rowid), max(rowid) FROM {table}"
        ).fetchone()  # type: ignore[misc]
    except duckdb.BinderException:  # a view (Parquet files): no rowid to cut blocks by
        (count,), low, high = con.execute(f"SELECT count(*) FROM {table}").fetchone(), 0, 0  # type: ignore[misc]
    parts = part_count(int(count))
    blocks = 1 if parts == 1 or not high else max(workers() * 2, -(-int(count) // BLOCK_ROWS))
    first = int(low or 0)
    step = -(-(int(high or 0) - first + 1) // blocks)
    # one cursor per thread, made here: a connection object is not shared between threads
    idle: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
    for _ in range(min(workers(), blocks)):
        idle.put(con.cursor())

    def cut(rows: str, via: duckdb.DuckDBPyConnection) -> list[Columns]:
        result = via.execute(select.format(rows=rows)).to_arrow_table()
        columns = {
            name: result.column(name).to_numpy(zero_copy_only=False) for name in result.column_names
        }
        return split_block(columns, key, parts)

    def block(i: int) -> list[Columns]:
        cursor = idle.get()
        try:
            return cut(f"rowid >= {first + i * step} AND rowid < {first + (i + 1) * step}", cursor)
        finally:
            idle.put(cursor)

    if blocks == 1:
        return [[piece] for piece in cut("TRUE", con)]
    done = map_parts(block, range(blocks))
    while not idle.empty():
        idle.get().close()
    (expected,) = con.execute(f"SELECT count(*) FROM ({select.format(rows='TRUE')})").fetchone()  # type: ignore[misc]
    if sum(len(piece[key]) for pieces in done for piece in pieces) != expected:
        done = [cut("TRUE", con)]  # rows not yet committed: the caller's connection sees more
    return [[pieces[i] for pieces in done] for i in range(parts)]


def aligned_slices(vid: NDArray[np.int64]) -> list[slice]:
    """Slices of a table sorted by vessel, each about `CHUNK_ROWS` long, cut between vessels."""
    n = len(vid)
    if n == 0:
        return []
    starts = np.flatnonzero(np.concatenate([[True], vid[1:] != vid[:-1]]))
    cuts = np.unique(starts[np.searchsorted(starts, np.arange(0, n, CHUNK_ROWS), side="right") - 1])
    bounds = [*cuts.tolist(), n]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def map_parts(work: Callable[[T], R], parts: Sequence[T]) -> list[R]:
    """`work` on every part, in parallel threads, results in the parts' order."""
    if len(parts) <= 1 or workers() == 1:
        return [work(p) for p in parts]
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        return list(pool.map(work, parts))
