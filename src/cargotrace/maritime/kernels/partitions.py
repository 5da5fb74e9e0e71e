"""Vessel partitions: the positions of a case too big for memory, worked a slice of vessels
at a time, so that the kernels' memory depends on the largest partition, not on the case.

A case of at most `partition_fixes()` positions is one partition, fetched straight into
memory (chunks.fetch_parts). A bigger case is cut, in one parallel pass of DuckDB over the
`positions` table (or view), into `ceil(rows / partition_fixes())` Parquet partitions by a
hash of the MMSI, in a scratch folder next to the case; each partition (whole vessels) is
then read back, cut into cache-sized parts and worked on as a small case would be. Every
step is linear in the number of positions: one scan, one write, one read of each partition.
The kernels write their tables partition by partition too (views.Sink).
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator

import duckdb
import pyarrow.parquet as pq

from cargotrace.errors import InputError
from cargotrace.maritime.kernels import chunks, views

PARTITION_FIXES_ENV = "CARGOTRACE_PARTITION_FIXES"
# ~130 bytes a fix at the kernels' peak: about 1 GB of arrays per partition
PARTITION_FIXES = 8_000_000


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


def vessel_partitions(
    con: duckdb.DuckDBPyConnection, select: str, table: str, key: str, partitions: int
) -> Iterator[list[list[chunks.Columns]]]:
    """The rows of `select` (see chunks.fetch_parts), partition by partition: each as its
    parts of whole `key` values, each part as a list of pieces."""
    if partitions == 1:
        yield chunks.fetch_parts(con, select, table, key)
        return
    folder = views.workdir(con) / f"{table}-partitions"
    shutil.rmtree(folder, ignore_errors=True)
    target = str(folder).replace("'", "''")
    try:
        con.execute(
            f"""COPY (SELECT *, CAST(hash({key}) % {partitions} AS INTEGER) AS vessel_part
                      FROM ({select.format(rows="TRUE")}))
                TO '{target}' (FORMAT parquet, PARTITION_BY (vessel_part), COMPRESSION uncompressed)"""
        )
        for part in range(partitions):
            found = folder / f"vessel_part={part}"
            if not found.exists():
                continue  # no vessel hashed here
            rows = pq.read_table(found, partitioning=None)
            columns = {
                name: rows.column(name).to_numpy()
                for name in rows.column_names
                if name != "vessel_part"
            }
            del rows
            pieces = chunks.split_block(columns, key, chunks.part_count(len(columns[key])))
            yield [[piece] for piece in pieces]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
