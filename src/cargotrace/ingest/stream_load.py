"""The chunk pipeline of streaming kinds (shipments): Arrow columns and views, no copies.

Copying a million rows of strings inside DuckDB costs more than typing them, so nothing is
materialised before the final insert except small tables:

1. the row hash of every row is computed once (DuckDB md5) and kept with the chunk;
2. cells are trimmed in Arrow (empty -> NULL), and the kind's `transform` derives columns
   in Arrow (lookups over dictionary-encoded values: a few thousand distinct values per
   million rows, then `take`), so the SQL needs no joins;
3. rows that are exact duplicates (of an earlier row of the chunk, of an earlier chunk or
   sheet of the file, or of a row other files left in the table) are found with Arrow
   hash sets and the file's hashes so far (`seen_hashes`);
4. `src` is a view over the chunk without those rows: field columns, derived columns,
   `_row`, `_hash`, `_attrs` (unmapped cells as JSON), `_filled` (non-empty cells);
5. `chunk_bad`: row number, reason and column of each refused row (the kind's `reasons`);
6. the refused rows go to the quarantine with their raw cells as JSON, read back from the
   untouched chunk; the kept ones are inserted straight from the kind's SELECT, which
   leaves the refused rows out (the chunk is not copied), by one DuckDB thread when they
   fill a table's row groups (`_sequential_insert`; a kind with a stage, copied on at the
   end of the file, keeps DuckDB's threads).

Steps 1 and 2 and the copies within the chunk read nothing of the file's transaction
(`type_chunk`): a kind with `type_ahead` (shipments) has them done on the thread that
reads the next chunk, on a cursor (`typed_ahead`), while the main thread stores the chunk
before; the rest is the main thread's, in the file's transaction. When nothing of the
kind's SELECT needs the transaction (`selects_ahead`: no `prepare`, `after`, `split` or
stage) the whole SELECT runs there too, each value worked out once (the reasons and the
kept columns share the weights), its copied columns handed over from Arrow as they are
(`TabularKind.copied`), what is as wide as the row left to the insert
(`TabularKind.stored`: the JSON of the unmapped cells, from the cells handed over); the
typed chunk keeps the raw cells of its refused rows only, and the main thread looks up
earlier copies, quarantines and stores (`_store_selected`: DuckDB's storage, on one
thread, is most of its work).

Arrow tables reach DuckDB through its replacement scan of *local variables* (`chunk_src`,
...), not `con.register`: a registered object stays alive until the transaction commits,
and a file is one transaction, so registering each chunk would hold the whole file in
memory. `python_scan_all_frames` is on while a chunk loads, so the names resolve from any
frame below (a kind's `prepare`, a wrapped connection).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.case.hash128 import (
    HASH_HALVES,
    halves_of_hashes,
    halves_sql,
    hashes_of_halves,
    number_sql,
)
from cargotrace.case.settings_scope import duckdb_settings
from cargotrace.case.store import quote_ident
from cargotrace.ingest.chunk_sql import (
    hash_sql,
    kept_target,
    raw_json,
    target_sql,
)
from cargotrace.ingest.readers.arrow_scan import local_scans
from cargotrace.ingest.readers.arrow_text import any_edge_space, any_empty
from cargotrace.ingest.readers.read_ahead import ahead
from cargotrace.ingest.readers.tabular_types import RawChunk
from cargotrace.ingest.types import ChunkContext, IngestResult, TabularKind, sql_str
from cargotrace.sql import balanced

_HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cargotrace-row-hashes")


def _sequential_insert(
    con: duckdb.DuckDBPyConnection, one_thread: bool
) -> AbstractContextManager[None]:
    """The kept rows inserted in any order (rows carry their number), on one DuckDB thread
    when they go straight into a table (`one_thread`; a kind with a stage appends to a temp
    table copied on at the file's end, and keeps DuckDB's threads).

    One thread fills one row group after another, whole whatever the Arrow batches it
    reads. A parallel insert leaves a part-filled row group per thread at the end of each
    statement: with wide rows those hold hundreds of MB of the file's uncommitted rows (the
    5 GB register's peak), and the checkpoint closing the case rewrites the table to merge
    them (tests/test_shipments_storage.py). Each row group is compressed and written as it
    fills (`FLUSHED_ROW_GROUPS`). The settings come back even when the insert fails, and
    then the insert's error is the one raised."""
    if one_thread:
        return duckdb_settings(
            con,
            threads=1,
            preserve_insertion_order=False,
            write_buffer_row_group_count=FLUSHED_ROW_GROUPS,
        )
    return duckdb_settings(con, preserve_insertion_order=False)


# Row groups an insert on one thread holds before it compresses and writes them: DuckDB's
# default (5) left the last ones of a file to its commit, alone on the main thread while the
# reading thread had nothing left to do. One at a time, storing 1 M waybill rows took
# 3.18 CPU s against 3.70 (mean of 4 runs each, same table and chunks, load 5-6, Dec 2026),
# the commit 0.07 s against 0.93-1.31; the same rows, the same row groups and file size.
FLUSHED_ROW_GROUPS = 1


def _hashes(
    con: duckdb.DuckDBPyConnection, ctx: ChunkContext, spec: TabularKind, table: pa.Table
) -> pa.Table:
    """The row hashes' halves (`HASH_HALVES`), in row order."""
    chunk_plain = table  # noqa: F841 - read by DuckDB's replacement scan (see `arrow_scan`)
    hashed = con.execute(
        f"SELECT _row, {halves_sql('_hash')} FROM "
        f"(SELECT _row, {hash_sql(ctx, spec.fields)} AS _hash FROM chunk_plain)"
    ).to_arrow_table()
    return _in_row_order(hashed, table)


def _hashes_aside(
    con: duckdb.DuckDBPyConnection, ctx: ChunkContext, spec: TabularKind, table: pa.Table
) -> Future[pa.Table]:
    """The row hashes, computed on a thread of their own while the chunk is typed in Arrow
    (DuckDB and Arrow let go of the GIL): a cursor of the case's database, outside the
    file's transaction, reads nothing but the chunk (an md5 of its cells)."""

    def work() -> pa.Table:
        cursor = con.cursor()
        try:
            return _hashes(cursor, ctx, spec, table)
        finally:
            cursor.close()

    return _HASHER.submit(work)


def _in_row_order(hashed: pa.Table, table: pa.Table) -> pa.Table:
    rows = hashed.column("_row")
    if not pc.all(pc.equal(rows, table.column("_row"))).as_py():
        hashed = hashed.take(pc.sort_indices(rows))  # given back in another order
    return hashed.select(list(HASH_HALVES)).combine_chunks()


def trimmed(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Surrounding white space removed; empty cells become NULL. A column copied only when
    some cell needs it (cheap byte tests on its buffers first: `arrow_text`)."""
    if any_edge_space(column):
        column = pc.utf8_trim_whitespace(column)
    if any_empty(column):
        column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
    return column


def _source_table(
    con: duckdb.DuckDBPyConnection,
    spec: TabularKind,
    ctx: ChunkContext,
    table: pa.Table,
) -> pa.Table:
    columns: dict[str, pa.ChunkedArray | pa.Array] = {}
    for f in spec.fields:
        index = ctx.columns.fields.get(f.name)
        columns[f.name] = (
            trimmed(table.column(f"c{index}"))
            if index is not None
            else pa.nulls(table.num_rows, pa.string())
        )
    fields = pa.table({**columns, "_row": table.column("_row")})
    derived = spec.transform(con, ctx, fields) if spec.transform else {}
    unmapped = {f"c{i}": table.column(f"c{i}") for i in ctx.columns.unmapped.values()}
    return pa.table({**columns, **derived, **unmapped, "_row": table.column("_row")})


def _filled(spec: TabularKind, ctx: ChunkContext) -> str:
    """Non-empty cells of the row (mapped fields are trimmed already, the others are not)."""
    parts = [
        f"({quote_ident(f.name)} IS NOT NULL)::INTEGER"
        for f in spec.fields
        if f.name in ctx.columns.fields
    ]
    # "has a character other than a space" (= trim(c) <> '', spaces being Unicode Zs), found without copying the cell
    parts += [
        f"coalesce(regexp_matches(c{i}, '[^\\p{{Zs}}]'), false)::INTEGER"
        for i in ctx.columns.unmapped.values()
    ]
    return balanced("+", parts, "0")


def _attrs(ctx: ChunkContext) -> str:
    """Unmapped cells as JSON, NULL when all of them are empty."""
    if not ctx.columns.unmapped:
        return "CAST(NULL AS VARCHAR)"
    pairs = ", ".join(f"{sql_str(h)}, c{i}" for h, i in ctx.columns.unmapped.items())
    empty = balanced(
        "AND",
        [
            f"NOT coalesce(regexp_matches(c{i}, '[^\\p{{Zs}}]'), false)"
            for i in ctx.columns.unmapped.values()
        ],
        "true",
    )
    return f"CASE WHEN {empty} THEN NULL ELSE CAST(json_object({pairs}) AS VARCHAR) END"


class Hashes(NamedTuple):
    """A chunk's row hashes, the later copies of rows of the chunk (a mask) and the distinct
    hashes: worked out with the typing (`_within`), before the chunk's turn to be stored.
    A hash is 16 bytes (`FixedSizeBinary`, its halves' bytes: `hash128.hashes_of_halves`),
    which Arrow's hash sets (`is_in`, `dictionary_encode`) take as they are."""

    rows: pa.Array
    copies: pa.Array
    distinct: pa.Array


def _within(hashed: pa.Table) -> Hashes:
    """The later copies of rows of the chunk: rows whose low half (an md5's 64 bits, as good
    a key as any) an earlier row has, confirmed by the high half (else, two hashes sharing
    a low half, by the whole hashes)."""
    hashes = hashes_of_halves(hashed)
    high = hashed.column(HASH_HALVES[0]).to_numpy()
    keys = hashed.column(HASH_HALVES[1]).to_numpy()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if len(first) == len(keys):
        return Hashes(hashes, pa.array(np.zeros(len(keys), dtype=bool)), hashes)
    earliest = first[inverse.reshape(-1)]  # the first row with each row's key
    later = np.flatnonzero(earliest != np.arange(len(keys)))
    if not np.array_equal(high[later], high[earliest[later]]):
        return _within_exact(hashes)
    copies = np.zeros(len(keys), dtype=bool)
    copies[later] = True
    mask = pa.array(copies)
    return Hashes(hashes, mask, hashes.filter(pc.invert(mask)))


def _within_exact(hashes: pa.Array) -> Hashes:
    encoded = pc.dictionary_encode(hashes)
    copies = np.ones(len(hashes), dtype=bool)
    _, first = np.unique(encoded.indices.to_numpy(), return_index=True)
    copies[first] = False
    return Hashes(hashes, pa.array(copies), encoded.dictionary)


def _duplicates(
    con: duckdb.DuckDBPyConnection, spec: TabularKind, hashes: Hashes, file_hash: str
) -> pa.Array:
    """Boolean mask of the rows to drop as exact duplicates: a later copy of a row of this
    chunk, or a copy of a row of the file's earlier chunks and sheets (the temp table
    `seen_hashes`, `remember_hashes`), or, for kinds deduplicated against their table, of
    a row other files left in it. Those are looked up by their file: scanning the table's
    rows of this file too (as many as the file has stored) made the look-ups grow with the
    square of the file's length. A copy of a refused row of an earlier chunk is dropped
    here too, as `drop_repeated_refusals` would have at the end of the file."""
    mask = hashes.copies
    earlier = "SELECT h FROM seen_hashes"
    if spec.dedupe_against_table:
        earlier += f" UNION ALL SELECT row_hash FROM {quote_ident(spec.table)} WHERE file_hash <> {sql_str(file_hash)}"
    chunk_hashes = halves_of_hashes(hashes.distinct)  # noqa: F841 - replacement scan
    query = (
        f"SELECT {halves_sql('h')} FROM (SELECT DISTINCT h FROM ({earlier}) AS e(h) "
        f"WHERE h IN (SELECT {number_sql()} FROM chunk_hashes))"
    )
    repeated = con.execute(query).to_arrow_table()
    if repeated.num_rows:
        mask = pc.or_(mask, pc.is_in(hashes.rows, value_set=hashes_of_halves(repeated)))
        if spec.dedupe_against_table:  # the rows this file repeats: `loader._superseded_files`
            con.execute(f"INSERT INTO seen_hashes SELECT {number_sql()} FROM repeated")
    return mask


def drop_repeated_refusals(
    con: duckdb.DuckDBPyConnection, spec: TabularKind, result: IngestResult
) -> None:
    """For kinds without row hashes (whose kept rows are deduplicated by their finish) and
    kinds deduplicated against their table (which remembers kept rows only): of the file's
    refused rows with the same cells, the first stays in the quarantine and the others
    count as exact duplicates (as row hashes would have had them)."""
    repeated = con.execute(
        """DELETE FROM quarantine WHERE rowid IN (
               SELECT rid FROM (
                   SELECT rowid AS rid, row_number() OVER (PARTITION BY raw ORDER BY sheet, source_row) AS copy
                   FROM quarantine WHERE file_hash = ? AND kind = ? AND reason <> 'wrong_field_count')
               WHERE copy > 1)""",
        [result.file_hash, spec.kind],
    ).fetchone()[0]  # type: ignore[index]
    result.rows_quarantined -= int(repeated)
    result.rows_duplicate += int(repeated)


def remember_hashes(con: duckdb.DuckDBPyConnection, hashes: pa.Array | None) -> None:
    """Add a chunk's row hashes to `seen_hashes`, so later chunks drop copies of its rows."""
    if hashes is None or not len(hashes):
        return
    chunk_hashes = halves_of_hashes(hashes)  # noqa: F841 - replacement scan
    with local_scans(con):
        con.execute(f"INSERT INTO seen_hashes SELECT DISTINCT {number_sql()} FROM chunk_hashes")


Parts = tuple[pa.Table, pa.Table, "Hashes | None", pa.Table | None]


class TypedChunk:
    """A chunk typed before its storing: its raw cells (`table`: c0..cN and `_row`), the
    typed columns (`source`: the fields trimmed, the kind's derived columns, the unmapped
    cells, `_row`), the row hashes (None when the kind has none) and, selected ahead, the
    refused rows (else None). `take` hands them over once, so the chunk's memory goes with
    its last user."""

    def __init__(
        self,
        table: pa.Table,
        source: pa.Table,
        hashes: Hashes | None,
        bad: pa.Table | None,
        rows: int | None = None,
        selected: bool = False,
    ) -> None:
        self._parts: Parts | None = (table, source, hashes, bad)
        self.rows = table.num_rows if rows is None else rows
        # `source` is the kind's SELECT over the chunk (`_selected`): the target columns,
        # `_row`, `_reason`, `_column`, in row order; `table` holds the refused rows only
        self.selected = selected

    def take(self) -> Parts:
        parts, self._parts = self._parts, None
        if parts is None:
            raise RuntimeError("the typed chunk was taken already")
        return parts


def type_chunk(
    con: duckdb.DuckDBPyConnection, spec: TabularKind, ctx: ChunkContext, table: pa.Table
) -> TypedChunk:
    """Trim and derive the chunk's columns (Arrow, and SQL over distinct values on `con`)
    while its row hashes are computed on a thread of their own (`_hashes_aside`). Nothing
    here reads the file's transaction: `con` may be a cursor, on another thread."""
    pending = _hashes_aside(con, ctx, spec, table) if spec.row_hashes else None
    source = _source_table(con, spec, ctx, table)  # meanwhile the hashes are computed
    if selects_ahead(spec):
        hashed = pending.result() if pending is not None else None
        if hashed is not None:
            for name in HASH_HALVES:
                source = source.append_column(name, hashed.column(name))
        selected = _selected(con, spec, ctx, source)
        del source
        bad = selected.filter(pc.is_valid(selected.column("_reason"))).select(_BAD)
        refused_raw = table.filter(pc.is_in(table.column("_row"), value_set=bad.column("_row")))
        count = table.num_rows
        del table  # only the refused rows' raw cells are needed (the quarantine's text)
        hashes = _within(hashed) if hashed is not None else None
        return TypedChunk(refused_raw, selected, hashes, bad, rows=count, selected=True)
    hashes = _within(pending.result()) if pending is not None else None
    return TypedChunk(table, source, hashes, None)


_BAD = ["_row", "_reason", "_column"]


def selects_ahead(spec: TabularKind) -> bool:
    """Whether the kind's whole SELECT runs with the typing, off the file's transaction
    (`type_ahead`, and nothing per chunk needs the transaction: no `prepare`, `after`,
    `split` or stage): the main thread then only stores its output. What is as wide as the
    row (the JSON of its cells, `TabularKind.stored`) is worked out by the insert: held
    ahead it took a chunk's memory again (a 1.5 GB register peaked ~165 MiB higher)."""
    return (
        spec.type_ahead
        and spec.prepare is None
        and spec.after is None
        and spec.split is None
        and spec.stage is None
    )


def _selected(
    con: duckdb.DuckDBPyConnection, spec: TabularKind, ctx: ChunkContext, source: pa.Table
) -> pa.Table:
    """The kind's SELECT over the typed chunk (every row, duplicates too: the loader leaves
    those out), as Arrow, in row order: each value is worked out once (the reasons and the
    kept columns share their parts, the weights)."""
    chunk_src = source  # noqa: F841 - read by DuckDB's replacement scan
    select = spec.computed(ctx) if spec.computed and spec.copied else spec.select(ctx)
    selected = con.execute(
        f"WITH src AS ({_src_sql(spec, ctx, source.column_names)}) {select}"
    ).to_arrow_table()
    rows = selected.column("_row")
    if not pc.all(pc.equal(rows, source.column("_row"))).as_py():
        selected = selected.take(pc.sort_indices(rows))  # given back in another order
    if spec.computed and spec.copied:
        copied = {t: source.column(n) for t, n in spec.copied.items() if n != "_hash"}
        halves = {n: source.column(n) for n in HASH_HALVES if n in source.column_names}
        selected = pa.table(
            {**copied, **halves, **{n: selected.column(n) for n in selected.column_names}}
        )
    if spec.stored:  # what the insert reads to work out the kind's `stored` columns
        names = [f"c{i}" for i in ctx.columns.unmapped.values()] + list(spec.stored_inputs)
        selected = pa.table({**dict(zip(selected.column_names, selected.columns, strict=True)),
                             **{n: source.column(n) for n in names}})  # fmt: skip
    return selected


def _src_sql(spec: TabularKind, ctx: ChunkContext, columns: list[str], where: str = "") -> str:
    """`src`: the chunk's columns, `_attrs` and `_filled` (the unmapped raw cells stay as
    c<i>, for reasons that look at the whole row), `_hash` when the row hashes' halves are
    there."""
    hashed = f", {number_sql()} AS _hash" if HASH_HALVES[0] in columns else ""
    return (
        f"SELECT {', '.join(map(quote_ident, columns))}, {_attrs(ctx)} AS _attrs, "
        f"{_filled(spec, ctx)} AS _filled{hashed} FROM chunk_src{where}"
    )


Context = Callable[[RawChunk], ChunkContext]


def typed_ahead(
    con: duckdb.DuckDBPyConnection, spec: TabularKind, chunks: Iterator[RawChunk], context: Context
) -> Generator[tuple[RawChunk, ChunkContext | None, TypedChunk | None], None, None]:
    """Each chunk with its context (`context` of the first chunk) and typed (`type_chunk`,
    on a cursor of the case) by the thread that reads the chunks (`read_ahead.ahead`): the
    next chunk is read and typed while the caller stores this one, and no more chunks are
    in memory than with the reading alone. The chunk's table moves into the typed chunk."""
    cursor = con.cursor()
    found: list[ChunkContext] = []

    def step(chunk: RawChunk) -> tuple[RawChunk, ChunkContext, TypedChunk]:
        if not found:
            found.append(context(chunk))
        table, chunk.table = chunk.table, None
        return chunk, found[0], type_chunk(cursor, spec, found[0], table)

    items = ahead(chunks, step)
    try:
        yield from items
    finally:
        items.close()
        cursor.close()


def load_chunk_streaming(
    con: duckdb.DuckDBPyConnection,
    spec: TabularKind,
    ctx: ChunkContext,
    chunk: pa.Table | TypedChunk,
    result: IngestResult,
) -> pa.Array | None:
    """Load one chunk, raw (typed here) or typed already (`typed_ahead`); the caller passes
    its only reference to it: the raw cells are let go of before the insert. Returns the
    chunk's row hashes for `remember_hashes` (None when the kind has no row hashes:
    `drop_repeated_refusals` then does their job)."""
    with local_scans(con):
        if isinstance(chunk, pa.Table):
            chunk = type_chunk(con, spec, ctx, chunk)
        return _load(con, spec, ctx, chunk, result)


def _load(
    con: duckdb.DuckDBPyConnection,
    spec: TabularKind,
    ctx: ChunkContext,
    typed: TypedChunk,
    result: IngestResult,
) -> pa.Array | None:
    if typed.selected:
        return _store_selected(con, spec, ctx, typed, result)
    table, source, hashes, _ = typed.take()
    columns, unique = source.column_names, ""
    result.rows_read += table.num_rows
    drop = _copies(con, spec, hashes, result)
    if hashes is not None:
        halves = halves_of_hashes(hashes.rows)
        columns = [*columns, *HASH_HALVES]
        for name in HASH_HALVES:
            source = source.append_column(name, halves.column(name))
    if drop is not None:  # left out by the view: filtering the chunk in Arrow copies every column
        source, unique = source.append_column("_copy", drop), " WHERE NOT _copy"
    chunk_src = source  # noqa: F841 - read through the views by DuckDB's replacement scan
    con.execute(f"CREATE OR REPLACE TEMP VIEW src AS {_src_sql(spec, ctx, columns, unique)}")
    if spec.prepare:
        spec.prepare(con, ctx)
    con.execute(f"CREATE OR REPLACE TEMP VIEW normalized AS {spec.select(ctx)}")
    reasons = spec.reasons(ctx) if spec.reasons else "SELECT _row, _reason, _column FROM normalized"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE chunk_bad AS SELECT _row, _reason, _column FROM ({reasons}) WHERE _reason IS NOT NULL"
    )
    if spec.after:  # `chunk_bad` is there: the refused rows, their reasons
        spec.after(con, ctx)
    select_cols, provenance = target_sql(con, spec, ctx, result)
    bad_rows = con.execute("SELECT _row FROM chunk_bad").to_arrow_table().column(0).combine_chunks()
    is_bad = pc.is_in(table.column("_row"), value_set=bad_rows)
    chunk_raw = table.filter(is_bad)  # noqa: F841
    del table  # the raw cells of the kept rows are not needed any more
    quarantined = _quarantine(con, spec, ctx, provenance, "chunk_bad", "chunk_raw")
    # the refused rows left out by the SQL: the chunk is not copied (one DuckDB thread fills
    # whole row groups whatever the Arrow batches, `_sequential_insert`)
    kept_only = " WHERE _row NOT IN (SELECT _row FROM chunk_bad)" if len(bad_rows) else ""
    if spec.set_apart:  # rows the kind's `after` keeps out of the table
        kept_only += (
            f"{' AND' if kept_only else ' WHERE'} _row NOT IN (SELECT _row FROM {spec.set_apart})"
        )
    with _sequential_insert(con, one_thread=spec.stage is None):
        into, kept_provenance = kept_target(spec, ctx, provenance)
        kept = con.execute(
            f"INSERT INTO {into} ({select_cols}, file_hash, source_file, sheet, source_row) "
            f"SELECT {select_cols}, {kept_provenance} FROM normalized{kept_only}"
        ).fetchone()[0]  # type: ignore[index]
    result.rows_kept += int(kept)
    result.rows_quarantined += int(quarantined)
    con.execute("DROP VIEW IF EXISTS normalized")
    con.execute("DROP VIEW IF EXISTS src")
    return None if hashes is None else hashes.rows


def _copies(
    con: duckdb.DuckDBPyConnection, spec: TabularKind, hashes: Hashes | None, result: IngestResult
) -> pa.Array | None:
    """The chunk's rows to leave out as exact duplicates (`_duplicates`), counted; None when
    it has none (or the kind no row hashes)."""
    if hashes is None:
        return None
    drop = _duplicates(con, spec, hashes, result.file_hash)
    dropped = int(pc.sum(drop).as_py() or 0)
    result.rows_duplicate += dropped
    return drop if dropped else None


def _quarantine(
    con: duckdb.DuckDBPyConnection,
    spec: TabularKind,
    ctx: ChunkContext,
    provenance: str,
    bad: str,
    raw: str,
) -> int:
    """Insert the refused rows of `bad` (_row, _reason, _column) into the quarantine with
    their raw cells from `raw` (rows keyed by _row); returns how many."""
    return int(
        con.execute(
            f"INSERT INTO quarantine SELECT {sql_str(spec.kind)}, b._reason, b._column, {raw_json(ctx, 'r.')}, "
            f"{provenance.replace('_row', 'b._row')} FROM {bad} b JOIN {raw} r ON r._row = b._row"
        ).fetchone()[0]  # type: ignore[index]
    )


def _store_selected(
    con: duckdb.DuckDBPyConnection,
    spec: TabularKind,
    ctx: ChunkContext,
    typed: TypedChunk,
    result: IngestResult,
) -> pa.Array | None:
    """Store a chunk whose SELECT ran with its typing (`selects_ahead`): the refused rows
    to the quarantine with their raw cells, the kept ones into the table, the duplicates
    left out (by the SQL: filtering the chunk in Arrow copies every column)."""
    refused_raw, selected, hashes, bad = typed.take()
    assert bad is not None
    kept_only = " WHERE _reason IS NULL"
    result.rows_read += typed.rows
    drop = _copies(con, spec, hashes, result)
    if drop is not None:
        selected = selected.append_column("_copy", drop)
        kept_only += " AND NOT _copy"
        copies = selected.column("_row").filter(drop)
        bad = bad.filter(pc.invert(pc.is_in(bad.column("_row"), value_set=copies)))
    select_cols, provenance = target_sql(con, spec, ctx, result)
    chunk_bad_rows = bad  # noqa: F841 - read by DuckDB's replacement scan
    chunk_raw = refused_raw  # noqa: F841
    quarantined = _quarantine(con, spec, ctx, provenance, "chunk_bad_rows", "chunk_raw")
    del chunk_raw, refused_raw
    chunk_selected = selected  # noqa: F841
    del selected
    rows = "chunk_selected"
    worked_out = [spec.stored(ctx)] if spec.stored else []  # from the cells handed over
    worked_out += [f"{number_sql()} AS {t}" for t, n in (spec.copied or {}).items() if n == "_hash"]
    if worked_out:  # (`_selected`), and the row hash of its halves
        rows = f"(SELECT *, {', '.join(worked_out)} FROM (SELECT *, {_attrs(ctx)} AS _attrs FROM chunk_selected))"
    with _sequential_insert(con, one_thread=True):
        kept = con.execute(
            f"INSERT INTO {quote_ident(spec.table)} ({select_cols}, file_hash, source_file, sheet, source_row) "
            f"SELECT {select_cols}, {provenance} FROM {rows}{kept_only}"
        ).fetchone()[0]  # type: ignore[index]
    result.rows_kept += int(kept)
    result.rows_quarantined += int(quarantined)
    return None if hashes is None else hashes.rows
