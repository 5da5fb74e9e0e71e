"""SQL fragments over one chunk of raw text cells (`c0`, `c1`, ...): the row hash, the raw
cells and the unmapped ones as JSON, one trimmed column per field, and where kept rows go."""

from __future__ import annotations

import duckdb

from cargotrace.case.store import quote_ident
from cargotrace.ingest.readers.headers import Field
from cargotrace.ingest.types import ChunkContext, IngestResult, TabularKind, sql_str
from cargotrace.sql import balanced

SEP = chr(31)  # between the names and cells of a row's hashed text


def hash_sql(ctx: ChunkContext, fields: list[Field]) -> str:
    """md5 over (name, cell) pairs in a fixed order: mapped fields in field order, then the
    other columns by header. The same record hashes alike whatever the column order.

    The text hashed is `concat_ws(chr(31), name1, cell1, name2, cell2, ...)` (a NULL cell as
    chr(0)), written as one `concat` whose constant parts hold the separators: the same
    bytes, a third less work than `concat_ws` over twice as many arguments.

    The hash is a number (UHUGEINT: the md5's 16 bytes read little-endian, `md5_number`;
    how it crosses Arrow and is shown: `case/hash128.py`), not its 32 hex digits: stored as
    text it was ~1.1 CPU s of the 1 M-row register's storing (schema 5:
    `case/schema.MIGRATIONS[4]` turns an earlier case's hex into the same number)."""
    order = [(f.name, ctx.columns.fields[f.name]) for f in fields if f.name in ctx.columns.fields]
    order += sorted(ctx.columns.unmapped.items())
    if not order:
        return "md5_number('')"
    parts = ", ".join(
        f"{sql_str(('' if n == 0 else SEP) + name + SEP)}, coalesce(c{i}, chr(0))"
        for n, (name, i) in enumerate(order)
    )
    return f"md5_number(concat({parts}))"


def raw_json(ctx: ChunkContext, alias: str = "") -> str:
    pairs = ", ".join(
        f"{sql_str(h or f'column {i + 1}')}, {alias}c{i}" for i, h in enumerate(ctx.headers)
    )
    return f"CAST(json_object({pairs}) AS VARCHAR)" if pairs else "'{}'"


def attrs_json(ctx: ChunkContext, lazy: bool) -> str:
    attr_pairs = ", ".join(f"{sql_str(h)}, c{i}" for h, i in ctx.columns.unmapped.items())
    if not attr_pairs:
        return "CAST(NULL AS VARCHAR)"
    if not lazy:
        return f"CAST(json_object({attr_pairs}) AS VARCHAR)"
    empty = balanced(
        "AND", [f"coalesce(trim(c{i}), '') = ''" for i in ctx.columns.unmapped.values()], "true"
    )
    return f"CASE WHEN {empty} THEN NULL ELSE CAST(json_object({attr_pairs}) AS VARCHAR) END"


def field_columns(ctx: ChunkContext, fields: list[Field]) -> list[str]:
    """One trimmed text column per field (NULL when empty or absent)."""
    parts = []
    for f in fields:
        if f.name in ctx.columns.fields:
            parts.append(
                f"nullif(trim(c{ctx.columns.fields[f.name]}), '') AS {quote_ident(f.name)}"
            )
        else:
            parts.append(f"CAST(NULL AS VARCHAR) AS {quote_ident(f.name)}")
    return parts


def filled_sql(ctx: ChunkContext) -> str:
    """How many cells of the row are not empty."""
    return (
        " + ".join(f"(coalesce(c{i}, '') <> '')::INTEGER" for i in range(len(ctx.headers))) or "0"
    )


def target_sql(
    con: duckdb.DuckDBPyConnection,
    spec: TabularKind,
    ctx: ChunkContext,
    result: IngestResult,
    table: str | None = None,
) -> tuple[str, str]:
    """The target table's (or `table`'s) own columns (quoted, comma-separated) and the
    provenance values."""
    target_cols = [
        c
        for c in _table_columns(con, table or spec.table)
        if c not in ("file_hash", "source_file", "sheet", "source_row")
    ]
    sheet = sql_str(ctx.source.sheet) if ctx.source.sheet else "NULL"
    provenance = f"{sql_str(result.file_hash)}, {sql_str(ctx.file_name)}, {sheet}, _row"
    return ", ".join(quote_ident(c) for c in target_cols), provenance


def kept_target(spec: TabularKind, ctx: ChunkContext, provenance: str) -> tuple[str, str]:
    """Where kept rows go (the table, or the kind's stage) and their provenance values."""
    if spec.stage is None:
        return quote_ident(spec.table), provenance
    sheet = sql_str(ctx.source.sheet) if ctx.source.sheet else "NULL"
    return quote_ident(spec.stage), f"NULL, NULL, {sheet}, _row"


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]
