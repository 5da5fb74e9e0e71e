"""The chunk pipeline of streaming kinds (shipments): views instead of copies.

Copying a million rows of strings inside DuckDB costs more than typing them, so nothing is
materialised before the final insert except small tables:

1. the row hash of every row is computed once and appended to the Arrow chunk;
2. `chunk_drop`: the rows that are exact duplicates (of an earlier row of the chunk, of an
   earlier chunk or part of the file, or of a row already in the table);
3. `src` is a view over the chunk without those rows (trimmed field columns, `_row`,
   `_hash`, `_attrs`, `_filled`); the kind's lookups read distinct values from it;
4. `chunk_bad`: row number, reason and column of every row the kind's SELECT refuses;
5. the kept rows are inserted straight from the SELECT; the refused ones go to the
   quarantine with their raw cells as JSON, read back from the chunk.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.case.store import quote_ident
from cargotrace.ingest.loader import (
    ChunkContext,
    IngestResult,
    TabularKind,
    attrs_json,
    field_columns,
    filled_sql,
    hash_sql,
    raw_json,
    sql_str,
    target_sql,
)


def _with_hashes(con: duckdb.DuckDBPyConnection, ctx: ChunkContext, spec: TabularKind, table: pa.Table) -> pa.Table:
    con.register("chunk_plain", table)
    hashed = con.execute(f"SELECT _row, {hash_sql(ctx, spec.fields)} AS _hash FROM chunk_plain").to_arrow_table()
    con.unregister("chunk_plain")
    rows, hashes = hashed.column("_row"), hashed.column("_hash")
    if not pc.all(pc.equal(rows, table.column("_row"))).as_py():
        order = pc.sort_indices(rows)
        hashes = pc.take(hashes, order)  # the query gave them back in another order
    return table.append_column("_hash", hashes)


def _drops(con: duckdb.DuckDBPyConnection, spec: TabularKind, first: bool) -> int:
    """Rows to drop as exact duplicates; returns how many."""
    parts = [
        """SELECT _row FROM (SELECT _row, _hash FROM chunk_raw
                             WHERE _hash IN (SELECT _hash FROM chunk_raw GROUP BY _hash HAVING count(*) > 1))
           QUALIFY row_number() OVER (PARTITION BY _hash ORDER BY _row) > 1"""
    ]
    if not first:
        parts.append("SELECT _row FROM chunk_raw WHERE _hash IN (SELECT h FROM seen_hashes)")
    if spec.dedupe_against_table:
        parts.append(
            f"SELECT _row FROM chunk_raw WHERE _hash IN (SELECT row_hash FROM {quote_ident(spec.table)} "
            f"WHERE row_hash IN (SELECT _hash FROM chunk_raw))"
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE chunk_drop AS {' UNION '.join(parts)}")
    return int(con.execute("SELECT count(*) FROM chunk_drop").fetchone()[0])  # type: ignore[index]


def load_chunk_streaming(
    con: duckdb.DuckDBPyConnection,
    spec: TabularKind,
    ctx: ChunkContext,
    table: pa.Table,
    result: IngestResult,
    remember: bool = True,
) -> None:
    con.register("chunk_raw", _with_hashes(con, ctx, spec, table))
    first = con.execute("SELECT count(*) FROM seen_hashes").fetchone()[0] == 0  # type: ignore[index]
    dropped = _drops(con, spec, first)
    result.rows_read += table.num_rows
    result.rows_duplicate += dropped
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW src AS
            SELECT {', '.join(field_columns(ctx, spec.fields))}, _row, _hash,
                   {attrs_json(ctx, True)} AS _attrs, {filled_sql(ctx)} AS _filled
            FROM chunk_raw WHERE _row NOT IN (SELECT _row FROM chunk_drop)"""
    )
    if remember:
        con.execute("INSERT INTO seen_hashes SELECT _hash FROM src")
    if spec.prepare:
        spec.prepare(con, ctx)
    con.execute(f"CREATE OR REPLACE TEMP VIEW normalized AS {spec.select(ctx)}")
    con.execute("CREATE OR REPLACE TEMP TABLE chunk_bad AS SELECT _row, _reason, _column FROM normalized WHERE _reason IS NOT NULL")
    select_cols, provenance = target_sql(con, spec, ctx, result)
    kept = con.execute(
        f"INSERT INTO {quote_ident(spec.table)} ({select_cols}, file_hash, source_file, sheet, source_row) "
        f"SELECT {select_cols}, {provenance} FROM normalized WHERE _row NOT IN (SELECT _row FROM chunk_bad)"
    ).fetchone()[0]  # type: ignore[index]
    quarantined = con.execute(
        f"INSERT INTO quarantine SELECT {sql_str(spec.kind)}, b._reason, b._column, {raw_json(ctx, 'r.')}, "
        f"{provenance.replace('_row', 'b._row')} FROM chunk_bad b JOIN chunk_raw r ON r._row = b._row"
    ).fetchone()[0]  # type: ignore[index]
    result.rows_kept += int(kept)
    result.rows_quarantined += int(quarantined)
    con.execute("DROP VIEW IF EXISTS normalized")
    con.execute("DROP VIEW IF EXISTS src")
    con.unregister("chunk_raw")
