"""The one path every tabular input takes into a case.

For each chunk of raw strings: map columns to fields, drop exact duplicates, type and
validate in SQL (each kind supplies its SELECT), then insert kept rows with provenance and
quarantine the rest with a reason. A whole file is one transaction, so a killed ingest
leaves either all of a file's rows or none of them, and the ledger never disagrees.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import duckdb
import pyarrow as pa

from cargotrace.case.store import Case, quote_ident
from cargotrace.errors import InputError
from cargotrace.ingest.arrow_scan import local_scans
from cargotrace.ingest.headers import ColumnMap, Field, map_columns
from cargotrace.ingest.sources import file_hash
from cargotrace.ingest.tabular import RawChunk, TableSource
from cargotrace.sql import balanced

Progress = Callable[[int], None]


@runtime_checkable
class ByteProgress(Protocol):
    """A progress callback that can also show bytes: `progress(n)` advances the row count
    by n; `start_bytes(total)` and `bytes_read(done)` drive a bar over the file size on
    disk (compressed size for .gz input), which gives the time left."""

    def __call__(self, n: int) -> None: ...

    def start_bytes(self, total: int) -> None: ...

    def bytes_read(self, done: int) -> None: ...


@dataclass
class IngestResult:
    path: Path
    kind: str
    file_hash: str
    rows_read: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    rows_skipped: int = 0
    already_ingested: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    def check_invariant(self) -> None:
        if self.rows_read != self.rows_kept + self.rows_quarantined + self.rows_duplicate:
            raise AssertionError(
                f"{self.path}: rows read {self.rows_read} != kept {self.rows_kept} + "
                f"quarantined {self.rows_quarantined} + duplicates {self.rows_duplicate}"
            )


@dataclass
class Mapping:
    """A user's `--mapping MAP.toml`: column names, units, date format, sheet, header row."""

    columns: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    encoding: str | None = None
    delimiter: str | None = None

    @classmethod
    def load(cls, path: Path | None) -> Mapping:
        if path is None:
            return cls()
        import tomllib

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read mapping: {exc}", file=str(path)) from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"mapping is not valid TOML: {exc}", file=str(path)) from None
        except RecursionError:
            raise InputError(
                "mapping is not valid TOML: nested too deeply", file=str(path)
            ) from None
        data = mapping_keys(data, path)
        try:
            mapping = cls(
                columns={str(k): str(v) for k, v in dict(data.get("columns", {})).items()},
                units={str(k): str(v) for k, v in dict(data.get("units", {})).items()},
                date_format=_date_format(data["date_format"], path)
                if "date_format" in data
                else None,
                sheet=str(data["sheet"]) if "sheet" in data else None,
                header_row=int(data["header_row"]) if "header_row" in data else None,
                encoding=str(data["encoding"]) if "encoding" in data else None,
                delimiter=_delimiter(data["delimiter"], path) if "delimiter" in data else None,
            )
        except (TypeError, ValueError, OverflowError) as exc:
            raise InputError(
                f"mapping has a value of the wrong type: {exc}", file=str(path)
            ) from None
        if mapping.header_row is not None and mapping.header_row < 0:
            raise InputError(
                f"mapping header_row must be 0 (no header) or a row number, not {mapping.header_row}",
                file=str(path),
            )
        return mapping


MAPPING_SETTINGS = ("date_format", "sheet", "header_row", "encoding", "delimiter")
UNIT_FIELDS = ("weight",)


def mapping_keys(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Check every key of a parsed mapping; none is ignored. A setting written after a
    `[units]` or `[columns]` header (TOML then puts it inside that table, as in an older
    README example) is read as the setting; any other key that means nothing is refused."""
    data = dict(data)
    for table in ("columns", "units"):
        section = data.get(table, {})
        if not isinstance(section, dict):
            raise InputError(
                f"mapping {table} must be a table ([{table}] with name = value lines), not {section!r}",
                file=str(path),
            )
        section = dict(section)
        for key in MAPPING_SETTINGS:
            if key in section:
                if key in data:
                    raise InputError(
                        f"mapping gives {key} twice: at the top and under [{table}]", file=str(path)
                    )
                data[key] = section.pop(key)
        data[table] = section
    known = {"columns", "units", *MAPPING_SETTINGS}
    unknown = set(data) - known
    if unknown:
        raise InputError(
            f"unknown mapping keys {sorted(unknown)}; expected {sorted(known)}", file=str(path)
        )
    odd_units = sorted(set(data["units"]) - set(UNIT_FIELDS))
    if odd_units:
        raise InputError(
            f"unknown key(s) {odd_units} under [units]; a unit can be given for "
            f"{', '.join(UNIT_FIELDS)} (kg or t). Settings ({', '.join(MAPPING_SETTINGS)}) go "
            "at the top of the file or under [units]",
            file=str(path),
        )
    return data


def _date_format(value: object, path: Path) -> str:
    """A strptime format DuckDB accepts (it refuses a bad one at query time, not per row)."""
    if not isinstance(value, str):
        raise InputError(
            f'mapping date_format must be text such as "%d.%m.%Y", not {value!r}', file=str(path)
        )
    try:
        with duckdb.connect() as con:
            con.execute("SELECT try_strptime('2000-01-01', ?)", [value])
    except duckdb.Error as exc:
        raise InputError(
            f"mapping date_format {value!r} is not a strptime format: {exc}", file=str(path)
        ) from None
    return value


def _delimiter(value: object, path: Path) -> str:
    text = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}.get(
        str(value).lower(), str(value)
    )
    if len(text) != 1:
        raise InputError(
            f"mapping delimiter {value!r} must be one character (or tab, semicolon, comma, pipe)",
            file=str(path),
        )
    return text


@dataclass
class ChunkContext:
    """What a kind's SQL may depend on: the column map, units, the mapping, the file."""

    columns: ColumnMap
    mapping: Mapping
    source: TableSource
    file_name: str
    headers: list[str]
    case_dir: Path | None = None
    file_hash: str = ""


SelectBuilder = Callable[[ChunkContext], str]
Prepare = Callable[[duckdb.DuckDBPyConnection, ChunkContext], None]
# Streaming kinds: derived columns computed in Arrow from the chunk's trimmed field columns.
Transform = Callable[[duckdb.DuckDBPyConnection, ChunkContext, pa.Table], dict[str, pa.Array]]


@dataclass
class TabularKind:
    """A kind of tabular input: its fields and the SQL that types and validates them.

    `select` returns a SELECT over the relation `src` (one VARCHAR column per field, plus
    `_row` and `_raw`, `_attrs`) yielding the target table's columns (without provenance)
    and `_reason`, `_column` (NULL when the row is kept).
    """

    kind: str
    table: str
    fields: list[Field]
    select: SelectBuilder
    prepare: Prepare | None = None  # runs per chunk once `src` exists (lookup tables)
    after: Prepare | None = None  # runs per chunk once `normalized` exists (side tables)
    dedupe_against_table: bool = False
    # Streaming kinds (big, mostly clean files): `src` and the SELECT are views over the
    # chunk, nothing is copied before the insert, `_raw` (all cells as JSON) is built for
    # quarantined rows only (the SELECT must not use it), `_attrs` is NULL when every
    # unmapped cell is empty, and CSV goes through Arrow's parser when the file is regular.
    # `transform` adds derived columns to `src`; `reasons` is a cheap SELECT of `_row,
    # _reason, _column` for the refused rows (else `select` is used); `after` runs over the
    # `normalized` view (so it computes the SELECT again: keep it to an aggregate).
    # See `stream_load.py`.
    stream: bool = False
    transform: Transform | None = None
    reasons: SelectBuilder | None = None
    # Kept rows go to this temp table (shaped like `table`, file_hash and source_file left
    # NULL) and the kind's finish moves them into `table` at the end of the file.
    stage: str | None = None
    # Streaming kinds whose finish drops repeated rows by their own key may skip the hash of
    # every row (the dearest step of a chunk): refused rows are then deduplicated at the end.
    row_hashes: bool = True


def sql_str(value: str) -> str:
    """A string literal; a NUL (which ends DuckDB's SQL text) becomes `chr(0)` concatenated."""
    literal = "'" + value.replace("'", "''") + "'"
    return literal.replace("\x00", "' || chr(0) || '") if "\x00" in value else literal


def hash_sql(ctx: ChunkContext, fields: list[Field]) -> str:
    """md5 over (name, cell) pairs in a fixed order: mapped fields in field order, then the
    other columns by header. The same record hashes alike whatever the column order."""
    order = [(f.name, ctx.columns.fields[f.name]) for f in fields if f.name in ctx.columns.fields]
    order += sorted(ctx.columns.unmapped.items())
    parts = ", ".join(f"{sql_str(name)}, coalesce(c{i}, chr(0))" for name, i in order) or "''"
    return f"md5(concat_ws(chr(31), {parts}))"


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


def _lookahead(chunks: Iterable[RawChunk]) -> Iterator[tuple[RawChunk, bool]]:
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
    # stream_load imports this module, hence the late import
    from cargotrace.ingest.stream_load import (
        drop_repeated_refusals,
        load_chunk_streaming,
        remember_hashes,
    )

    con = case.con
    con.execute("CREATE OR REPLACE TEMP TABLE seen_hashes (h VARCHAR)")
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
        for chunk, last in _lookahead(chunks) if not spec.stream else ((c, False) for c in chunks):
            if ctx is None:
                where = (
                    path.name if source.sheet is None else f"{path.name}, sheet {source.sheet!r}"
                )
                columns = map_columns(
                    chunk.headers,
                    spec.fields,
                    file=where,
                    explicit=mapping.columns,
                    row=source.header_row,
                )
                ctx = ChunkContext(
                    columns, mapping, source, path.name, chunk.headers, case.root, result.file_hash
                )
            result.rows_skipped += chunk.blank
            _quarantine_ragged(con, spec.kind, chunk, result, path.name, source)
            count = chunk.table.num_rows + len(chunk.ragged)
            if spec.stream:
                if not spec.dedupe_against_table:  # else the table holds the earlier chunks' rows
                    remember_hashes(con, pending_hashes)  # the previous chunk's, now another came
                pending_hashes = load_chunk_streaming(con, spec, ctx, _pop_table(chunk), result)
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
    were dropped as copies of rows in the table (`stream_load._duplicates`)."""
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
    kept = con.execute(
        f"INSERT INTO {into} ({select_cols}, file_hash, source_file, sheet, source_row) "
        f"SELECT {select_cols}, {kept_provenance} FROM normalized WHERE _reason IS NULL"
    ).fetchone()[0]  # type: ignore[index]
    quarantined = con.execute(
        f"INSERT INTO quarantine SELECT {sql_str(spec.kind)}, _reason, _column, _raw, {provenance} "
        f"FROM normalized WHERE _reason IS NOT NULL"
    ).fetchone()[0]  # type: ignore[index]
    result.rows_kept += int(kept)
    result.rows_quarantined += int(quarantined)


def target_sql(
    con: duckdb.DuckDBPyConnection, spec: TabularKind, ctx: ChunkContext, result: IngestResult
) -> tuple[str, str]:
    """The target table's own columns (quoted, comma-separated) and the provenance values."""
    target_cols = [
        c
        for c in _table_columns(con, spec.table)
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


def run_ingest(
    case: Case,
    kind: str,
    path: Path,
    body: Callable[[IngestResult], None],
    replace: bool = False,
) -> IngestResult:
    """Hash the file, skip it if the ledger knows it (unless `replace`: then its rows are
    removed first, `ingest.replace`), else run `body` in one transaction."""
    digest = file_hash(path)
    result = IngestResult(path, kind, digest)
    known = case.scalar("SELECT kind FROM ledger WHERE file_hash = ?", [digest])
    if known is not None and not replace:
        result.already_ingested = True
        result.detail["ingested_as"] = known
        return result
    with case.transaction():
        if known is not None:
            from cargotrace.ingest.replace import forget_file

            result.detail["replaced"] = {"ingested_as": known, **forget_file(case.con, digest)}
        body(result)
        result.check_invariant()
        if result.rows_quarantined:  # for the summary: reasons, columns, an example of each
            from cargotrace.ingest.outcome import refusals

            found = refusals(case.con, digest, result.detail.get("columns"))
            result.detail["quarantined_by_reason"] = found["by_reason"]
            result.detail["quarantine_top"] = found["top"]
        case.con.execute(
            "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [digest, kind, path.name, str(path.resolve()), path.stat().st_size, result.rows_read,
             result.rows_kept, result.rows_quarantined, result.rows_duplicate, result.rows_skipped,
             datetime.now(UTC), json.dumps(result.detail, ensure_ascii=False, default=str)],
        )  # fmt: skip
    return result
