"""Arrow tables published to a DuckDB connection under a table's name, and released after.

A published table is a DuckDB view over Arrow memory (zero copy). The kernels also keep the
table itself, so that a later kernel reads the arrays without a round trip through DuckDB.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

BATCH_ROWS = 1 << 17  # DuckDB scans an Arrow table one batch per thread: keep batches small

COPY_CELLS = 2_000_000
_published: dict[int, dict[str, pa.Table]] = {}


def publish(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Make `table` readable as `name` on `con`, replacing a temp table or view of that name.
    A small table becomes a DuckDB temp table (scans of Arrow cost more than copying it)."""
    con.unregister(name)
    con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")
    batches = pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_ROWS), table.schema)
    if table.num_rows * table.num_columns <= COPY_CELLS:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM batches")
    else:
        con.register(name, batches)
    _published.setdefault(id(con), {})[name] = table


def published(con: duckdb.DuckDBPyConnection, name: str) -> pa.Table | None:
    """The table published as `name` on `con`, if a kernel published it."""
    return _published.get(id(con), {}).get(name)


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Forget every table published on `con` (frees their memory)."""
    for name in _published.pop(id(con), {}):
        con.unregister(name)
