"""The one path every tabular input takes into a case.

For each chunk of raw strings: map columns to fields, drop exact duplicates, type and
validate in SQL (each kind supplies its SELECT), then insert kept rows with provenance and
quarantine the rest with a reason. A whole file is one transaction, so a killed ingest
leaves either all of a file's rows or none of them, and the ledger never disagrees.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from cargotrace.case.store import MEMORY_LIMIT_ENV, Case, memory_limit, quote_ident
from cargotrace.ingest.chunk_sql import (
    attrs_json,
    field_columns,
    filled_sql,
    hash_sql,
    kept_target,
    raw_json,
    target_sql,
)
from cargotrace.ingest.readers.arrow_scan import local_scans
from cargotrace.ingest.readers.headers import map_columns
from cargotrace.ingest.readers.sources import file_hash
from cargotrace.ingest.readers.tabular import RawChunk, TableSource
from cargotrace.ingest.stream_load import (
    TypedChunk,
    drop_repeated_refusals,
    load_chunk_streaming,
    remember_hashes,
    typed_ahead,
)
from cargotrace.ingest.types import (
    ChunkContext,
    IngestResult,
    Mapping,
    Progress,
    TabularKind,
    sql_str,
)

T = TypeVar("T")


def _src_sql(ctx: ChunkContext, spec: TabularKind, against: str, first: bool) -> str:
    """`src`: the chunk's unique rows, one trimmed text column per field, `_row`, `_raw`
    (all cells as JSON), `_attrs` (unmapped cells as JSON), `_hash` and `_filled`."""
    seen = "" if first else "AND _hash NOT IN (SELECT h FROM seen_hashes)"
    return f"""
        WITH hashed AS (SELECT *, {hash_sql(ctx, spec.fields)} AS _hash FROM chunk_raw)
        SELECT {", ".join(field_columns(ctx, spec.fields))}, _row, {raw_json(ctx)} AS _raw,
               {attrs_json(ctx, False)} AS _attrs, _hash, {filled_sql(ctx)} AS _filled
        FROM hashed WHERE true {seen} {against}
        QUALIFY row_number() OVER (PARTITION BY _hash ORDER BY _row) = 1"""


def _pop_table(chunk: RawChunk) -> pa.Table:
    """The chunk's table, which the chunk lets go of (so its memory can go with its user)."""
    table, chunk.table = chunk.table, None
    return table


def _lookahead(chunks: Iterable[T]) -> Iterator[tuple[T, bool]]:
    """Each chunk with whether it is the last (the last one need not remember its hashes)."""
    iterator = iter(chunks)
    current = next(iterator, None)
    while current is not None:
        following = next(iterator, None)
        yield current, following is None
        current = following


Part = tuple[TableSource, Iterable[RawChunk]]


def ingest_tabular(
    case: Case,
    spec: TabularKind,
    path: Path,
    source: TableSource,
    chunks: Iterable[RawChunk],
    mapping: Mapping,
    result: IngestResult,
    progress: Progress | None = None,
) -> None:
    """Load all chunks of one file. The caller holds the transaction."""
    ingest_parts(case, spec, path, [(source, chunks)], mapping, result, progress)


def ingest_parts(
    case: Case,
    spec: TabularKind,
    path: Path,
    parts: Sequence[Part],
    mapping: Mapping,
    result: IngestResult,
    progress: Progress | None = None,
) -> None:
    """Load every part (sheet) of one file; exact duplicates are dropped across parts too."""
    with file_memory_limit(case.con, spec.memory_limit):
        _ingest_parts(case, spec, path, parts, mapping, result, progress)


@contextmanager
def file_memory_limit(con: duckdb.DuckDBPyConnection, limit: str | None) -> Iterator[None]:
    """DuckDB's memory limit lowered to `limit` for the file, unless the user chose one."""
    if limit is None or os.environ.get(MEMORY_LIMIT_ENV, "").strip():
        yield
        return
    con.execute(f"SET memory_limit = {sql_str(limit)}")
    try:
        yield
    finally:
        with suppress(
            duckdb.Error
        ):  # an aborted transaction refuses it: the error that aborted it counts
            con.execute(f"SET memory_limit = {sql_str(memory_limit())}")  # the case's own


def _ingest_parts(
    case: Case,
    spec: TabularKind,
    path: Path,
    parts: Sequence[Part],
    mapping: Mapping,
    result: IngestResult,
    progress: Progress | None = None,
) -> None:
    con = case.con
    con.execute("CREATE OR REPLACE TEMP TABLE seen_hashes (h UHUGEINT)")
    pending_hashes = None  # streaming kinds: hashes of the last chunk, remembered lazily
    sheets: list[dict[str, Any]] = []
    for number, (source, chunks) in enumerate(parts):
        ctx: ChunkContext | None = None
        before = (
            result.rows_read,
            result.rows_kept,
            result.rows_quarantined,
            result.rows_duplicate,
        )

        def context(chunk: RawChunk, source: TableSource = source) -> ChunkContext:
            where = path.name if source.sheet is None else f"{path.name}, sheet {source.sheet!r}"
            columns = map_columns(
                chunk.headers,
                spec.fields,
                file=where,
                explicit=mapping.columns,
                # no header row (GeoJSON properties, a headerless CSV): no "row 0" in messages
                row=source.header_row or None,
            )
            return ChunkContext(
                columns, mapping, source, path.name, chunk.headers, case.root, result.file_hash
            )

        items: Generator[tuple[RawChunk, ChunkContext | None, TypedChunk | None], None, None]
        if spec.type_ahead:  # read and typed on the reader's thread (`stream_load.typed_ahead`)
            items = typed_ahead(con, spec, iter(chunks), context)
        else:
            items = ((c, None, None) for c in chunks)
        with closing(items):
            for (chunk, chunk_ctx, typed), last in (
                _lookahead(items) if not spec.stream else ((i, False) for i in items)
            ):
                if ctx is None:
                    ctx = chunk_ctx or context(chunk)
                result.rows_skipped += chunk.blank
                _quarantine_ragged(con, spec.kind, chunk, result, path.name, source)
                rows = typed.rows if typed is not None else chunk.table.num_rows
                count = rows + len(chunk.ragged)
                if spec.stream:
                    # the previous chunk's hashes, now another came
                    remember_hashes(con, pending_hashes)
                    loaded = typed if typed is not None else _pop_table(chunk)
                    typed = None  # `load_chunk_streaming` holds the only reference
                    pending_hashes = load_chunk_streaming(con, spec, ctx, loaded, result)
                else:
                    _load_chunk(
                        con,
                        spec,
                        ctx,
                        chunk.table,
                        result,
                        remember=not (last and number == len(parts) - 1),
                    )
                if progress:
                    progress(count)
        if ctx is None:
            continue
        if not sheets:
            result.detail["columns"] = {
                name: ctx.headers[i] for name, i in ctx.columns.fields.items()
            }
            result.detail["units"] = ctx.columns.units
            result.detail["unmapped"] = sorted(ctx.columns.unmapped)
        after = (result.rows_read, result.rows_kept, result.rows_quarantined, result.rows_duplicate)
        sheets.append({"sheet": source.sheet, "header_row": source.header_row,
                       "columns": {name: ctx.headers[i] for name, i in ctx.columns.fields.items()},
                       **dict(zip(("rows_read", "rows_kept", "rows_quarantined", "rows_duplicate"),
                                  (a - b for a, b in zip(after, before, strict=True)), strict=True))})  # fmt: skip
    if spec.stream and (not spec.row_hashes or spec.dedupe_against_table):
        drop_repeated_refusals(con, spec, result)
    if spec.stream and spec.dedupe_against_table:
        superseded = _superseded_files(con, spec, result.file_hash)
        if superseded:
            result.detail["supersedes"] = superseded
    con.execute("DROP TABLE IF EXISTS seen_hashes")
    if (
        not spec.stream
    ):  # the streaming kinds make `src` and `normalized` views: leave no tables behind
        con.execute("DROP TABLE IF EXISTS src")
        con.execute("DROP TABLE IF EXISTS normalized")
    if len(sheets) > 1 or (sheets and sheets[0]["sheet"] is not None):
        result.detail["sheets"] = sheets
    notes = [source.note for source, _ in parts if source.note]
    if notes:
        result.detail["notes"] = notes
    if parts and parts[0][0].reader:
        result.detail["reader"] = parts[0][0].reader


def _superseded_files(
    con: duckdb.DuckDBPyConnection, spec: TabularKind, file_hash: str
) -> list[str]:
    """Earlier files with refused rows whose every kept row this file holds again: this
    file is their corrected copy, and `cargotrace quarantine` stops listing their refused
    rows (they stay in the case). Needs, in `seen_hashes`, the hashes of the file's rows that
    were dropped as copies of rows in the table (`stream_load._duplicates`). Looked for only
    when the ledger has such a file: else the look-up scanned the table's new rows for none."""
    candidates = con.execute(
        "SELECT 1 FROM ledger WHERE kind = ? AND rows_quarantined > 0 AND file_hash <> ? LIMIT 1",
        [spec.kind, file_hash],
    ).fetchone()
    if candidates is None:
        return []
    rows = con.execute(
        f"""SELECT l.file_hash FROM ledger l
            JOIN (SELECT file_hash, count(*) AS again FROM {quote_ident(spec.table)}
                  WHERE file_hash <> ? AND row_hash IN (SELECT h FROM seen_hashes)
                    AND file_hash IN (SELECT file_hash FROM ledger WHERE kind = ? AND rows_quarantined > 0)
                  GROUP BY file_hash) t ON t.file_hash = l.file_hash
            WHERE t.again = l.rows_kept ORDER BY l.ingested_at""",
        [file_hash, spec.kind],
    ).fetchall()
    return [r[0] for r in rows]


def _quarantine_ragged(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    chunk: RawChunk,
    result: IngestResult,
    name: str,
    source: TableSource,
) -> None:
    if not chunk.ragged:
        return
    width = len(chunk.headers)
    rows = [
        (kind, "wrong_field_count", None, json.dumps({"fields": values, "expected": width}, ensure_ascii=False),
         result.file_hash, name, source.sheet, number)
        for number, values in chunk.ragged
    ]  # fmt: skip
    con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    result.rows_read += len(rows)
    result.rows_quarantined += len(rows)


def _load_chunk(
    con: duckdb.DuckDBPyConnection,
    spec: TabularKind,
    ctx: ChunkContext,
    table: pa.Table,
    result: IngestResult,
    remember: bool = True,
) -> None:
    with local_scans(con):
        _load_chunk_scanned(con, spec, ctx, table, result, remember)


def _load_chunk_scanned(
    con: duckdb.DuckDBPyConnection,
    spec: TabularKind,
    ctx: ChunkContext,
    table: pa.Table,
    result: IngestResult,
    remember: bool,
) -> None:
    chunk_raw = table  # noqa: F841 - read by DuckDB's replacement scan (see `arrow_scan`)
    against = ""
    if spec.dedupe_against_table:
        against = f"AND _hash NOT IN (SELECT row_hash FROM {quote_ident(spec.table)} WHERE row_hash IS NOT NULL)"
    first = con.execute("SELECT count(*) FROM seen_hashes").fetchone()[0] == 0  # type: ignore[index]
    con.execute(f"CREATE OR REPLACE TEMP TABLE src AS {_src_sql(ctx, spec, against, first)}")
    unique = con.execute("SELECT count(*) FROM src").fetchone()[0]  # type: ignore[index]
    result.rows_read += table.num_rows
    result.rows_duplicate += table.num_rows - unique
    if remember:
        con.execute("INSERT INTO seen_hashes SELECT _hash FROM src")
    if spec.prepare:
        spec.prepare(con, ctx)
    con.execute(f"CREATE OR REPLACE TEMP TABLE normalized AS {spec.select(ctx)}")
    if spec.after:
        spec.after(con, ctx)
    select_cols, provenance = target_sql(con, spec, ctx, result)
    into, kept_provenance = kept_target(spec, ctx, provenance)
    kept_where = "_reason IS NULL"
    if spec.split:  # the kept rows meeting the condition go to the split table
        split_table, condition = spec.split
        split_cols, _ = target_sql(con, spec, ctx, result, split_table)
        apart = int(
            con.execute(
                f"INSERT INTO {quote_ident(split_table)} ({split_cols}, file_hash, source_file, sheet, source_row) "
                f"SELECT {split_cols}, {provenance} FROM normalized WHERE _reason IS NULL AND ({condition})"
            ).fetchone()[0]  # type: ignore[index]
        )
        result.rows_kept += apart
        kept_apart = result.detail.setdefault("kept_apart", {})  # said by the summary
        kept_apart[split_table] = kept_apart.get(split_table, 0) + apart
        kept_where += f" AND NOT ({condition})"
    kept = con.execute(
        f"INSERT INTO {into} ({select_cols}, file_hash, source_file, sheet, source_row) "
        f"SELECT {select_cols}, {kept_provenance} FROM normalized WHERE {kept_where}"
    ).fetchone()[0]  # type: ignore[index]
    quarantined = con.execute(
        f"INSERT INTO quarantine SELECT {sql_str(spec.kind)}, _reason, _column, _raw, {provenance} "
        f"FROM normalized WHERE _reason IS NOT NULL"
    ).fetchone()[0]  # type: ignore[index]
    result.rows_kept += int(kept)
    result.rows_quarantined += int(quarantined)


class _Known(BaseException):
    """The file is in the ledger (found once its hash is known, `_HashedOnDemand`): the
    file's transaction is rolled back, nothing of it was stored."""

    def __init__(self, digest: str, kind: str) -> None:
        super().__init__(kind)
        self.digest, self.kind = digest, kind


class _HashedOnDemand(IngestResult):
    """A result whose `file_hash` is worked out on a thread while the body starts (a table
    file's first chunk is parsed meanwhile: hashing a 300 MB file took ~0.5 s before
    anything else began). Its first read waits for the hash and runs `settle` (the ledger
    check), before anything of the file is stored under it."""

    def __init__(self, path: Path, kind: str, settle: Callable[[], str]) -> None:
        self._settle: Callable[[], str] | None = settle
        self._digest = ""
        super().__init__(path, kind, "")

    @property
    def file_hash(self) -> str:
        if self._settle is not None:
            settle, self._settle = self._settle, None
            self._digest = settle()
        return self._digest

    @file_hash.setter
    def file_hash(self, value: str) -> None:
        self._digest = value


_HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cargotrace-file-hash")


def _skipped(path: Path, kind: str, digest: str, known: str) -> IngestResult:
    result = IngestResult(path, kind, digest, already_ingested=True)
    result.detail["ingested_as"] = known
    return result


def run_ingest(
    case: Case,
    kind: str,
    path: Path,
    body: Callable[[IngestResult], None],
    replace: bool = False,
    hash_aside: bool = False,
) -> IngestResult:
    """Hash the file, skip it if the ledger knows it (unless `replace`: then its rows are
    removed first, `ingest.replace`), else run `body` in one transaction. `hash_aside`:
    the body starts while the file is hashed on a thread, and waits for the hash and the
    ledger check where it first reads `result.file_hash` (a body that reads it on its own
    thread before it stores anything); a file the ledger knows is then rolled back and
    skipped all the same."""
    if not hash_aside:
        digest = file_hash(path)
        known = case.scalar("SELECT kind FROM ledger WHERE file_hash = ?", [digest])
        if known is not None and not replace:
            return _skipped(path, kind, digest, known)
        result = IngestResult(path, kind, digest)
    else:
        pending = _HASHING.submit(file_hash, path)

        def settle() -> str:  # in the transaction, on the body's first read of the hash
            found = pending.result()
            earlier = case.scalar("SELECT kind FROM ledger WHERE file_hash = ?", [found])
            if earlier is not None and not replace:
                raise _Known(found, earlier)
            if earlier is not None:
                _forget(case, result, found, earlier)
            return found

        known = None  # known or not: told by `settle`
        result = _HashedOnDemand(path, kind, settle)
    try:
        with case.transaction():
            if known is not None:
                _forget(case, result, digest, known)
            body(result)
            digest = result.file_hash  # settled here if the body never read it
            result.check_invariant()
            if result.rows_quarantined:  # for the summary: reasons, columns, an example of each
                from cargotrace.ingest.outcome import refusals

                cells = result.detail.get("format") != "nmea"  # sentences, not cells
                found = refusals(case.con, digest, result.detail.get("columns"), cells)
                result.detail["quarantined_by_reason"] = found["by_reason"]
                result.detail["quarantine_top"] = found["top"]
            case.con.execute(
                "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [digest, kind, path.name, str(path.resolve()), path.stat().st_size, result.rows_read,
                 result.rows_kept, result.rows_quarantined, result.rows_duplicate, result.rows_skipped,
                 datetime.now(UTC), json.dumps(result.detail, ensure_ascii=False, default=str)],
            )  # fmt: skip
    except _Known as known:  # rolled back: the file was in the ledger already
        return _skipped(path, kind, known.digest, known.kind)
    return result


def _forget(case: Case, result: IngestResult, digest: str, known: str) -> None:
    """`replace`: the file's earlier rows removed (in the file's transaction)."""
    from cargotrace.ingest.replace import forget_file

    result.detail["replaced"] = {"ingested_as": known, **forget_file(case.con, digest)}
