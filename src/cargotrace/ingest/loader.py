"""The one path every tabular input takes into a case.

For each chunk of raw strings: map columns to fields, drop exact duplicates, type and
validate in SQL (each kind supplies its SELECT), then insert kept rows with provenance and
quarantine the rest with a reason. A whole file is one transaction, so a killed ingest
leaves either all of a file's rows or none of them, and the ledger never disagrees.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cargotrace.case.store import Case, quote_ident
from cargotrace.errors import InputError
from cargotrace.ingest.headers import ColumnMap, Field, map_columns
from cargotrace.ingest.sources import file_hash
from cargotrace.ingest.tabular import RawChunk, TableSource

Progress = Callable[[int], None]


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
        known = {"columns", "units", "date_format", "sheet", "header_row"}
        unknown = set(data) - known
        if unknown:
            raise InputError(f"unknown mapping keys {sorted(unknown)}; expected {sorted(known)}", file=str(path))
        try:
            return cls(
                columns={str(k): str(v) for k, v in dict(data.get("columns", {})).items()},
                units={str(k): str(v) for k, v in dict(data.get("units", {})).items()},
                date_format=data.get("date_format"),
                sheet=data.get("sheet"),
                header_row=int(data["header_row"]) if "header_row" in data else None,
            )
        except (TypeError, ValueError) as exc:
            raise InputError(f"mapping has a value of the wrong type: {exc}", file=str(path)) from None


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


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _src_view_sql(ctx: ChunkContext, fields: list[Field]) -> str:
    parts = []
    for f in fields:
        if f.name in ctx.columns.fields:
            parts.append(f"nullif(trim(c{ctx.columns.fields[f.name]}), '') AS {quote_ident(f.name)}")
        else:
            parts.append(f"CAST(NULL AS VARCHAR) AS {quote_ident(f.name)}")
    raw_pairs = ", ".join(f"{sql_str(h or f'column {i + 1}')}, c{i}" for i, h in enumerate(ctx.headers))
    attr_pairs = ", ".join(f"{sql_str(h)}, c{i}" for h, i in ctx.columns.unmapped.items())
    raw = f"json_object({raw_pairs})" if raw_pairs else "'{}'"
    attrs = f"json_object({attr_pairs})" if attr_pairs else "NULL"
    return f"SELECT {', '.join(parts)}, _row, CAST({raw} AS VARCHAR) AS _raw, CAST({attrs} AS VARCHAR) AS _attrs, _hash FROM chunk_dedup"


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
    con = case.con
    ctx: ChunkContext | None = None
    con.execute("CREATE OR REPLACE TEMP TABLE seen_hashes (h VARCHAR)")
    for chunk in chunks:
        if ctx is None:
            columns = map_columns(chunk.headers, spec.fields, file=path.name, explicit=mapping.columns)
            ctx = ChunkContext(columns, mapping, source, path.name, chunk.headers, case.root, result.file_hash)
        result.rows_skipped += chunk.blank
        _quarantine_ragged(con, spec.kind, chunk, result, path.name, source)
        _load_chunk(con, spec, ctx, chunk.table, result)
        if progress:
            progress(chunk.table.num_rows + len(chunk.ragged))
    con.execute("DROP TABLE IF EXISTS seen_hashes")
    if ctx is not None:
        result.detail["columns"] = {name: ctx.headers[i] for name, i in ctx.columns.fields.items()}
        result.detail["units"] = ctx.columns.units
        result.detail["unmapped"] = sorted(ctx.columns.unmapped)


def _quarantine_ragged(
    con: duckdb.DuckDBPyConnection, kind: str, chunk: RawChunk, result: IngestResult, name: str, source: TableSource
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
    con: duckdb.DuckDBPyConnection, spec: TabularKind, ctx: ChunkContext, table: pa.Table, result: IngestResult
) -> None:
    con.register("chunk_raw", table)
    width = len(ctx.headers)
    concat = " || chr(31) || ".join(f"coalesce(c{i}, chr(0))" for i in range(width)) or "''"
    con.execute(f"CREATE OR REPLACE TEMP TABLE chunk_hashed AS SELECT *, md5({concat}) AS _hash FROM chunk_raw")
    against = ""
    if spec.dedupe_against_table:
        against = f"AND _hash NOT IN (SELECT row_hash FROM {quote_ident(spec.table)} WHERE row_hash IS NOT NULL)"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE chunk_dedup AS
            SELECT * FROM chunk_hashed
            WHERE _hash NOT IN (SELECT h FROM seen_hashes) {against}
            QUALIFY row_number() OVER (PARTITION BY _hash ORDER BY _row) = 1"""
    )
    con.execute("INSERT INTO seen_hashes SELECT _hash FROM chunk_dedup")
    unique = con.execute("SELECT count(*) FROM chunk_dedup").fetchone()[0]  # type: ignore[index]
    result.rows_read += table.num_rows
    result.rows_duplicate += table.num_rows - unique
    con.execute(f"CREATE OR REPLACE TEMP TABLE src AS {_src_view_sql(ctx, spec.fields)}")
    if spec.prepare:
        spec.prepare(con, ctx)
    con.execute(f"CREATE OR REPLACE TEMP TABLE normalized AS {spec.select(ctx)}")
    if spec.after:
        spec.after(con, ctx)
    target_cols = [c for c in _table_columns(con, spec.table) if c not in ("file_hash", "source_file", "sheet", "source_row")]
    select_cols = ", ".join(quote_ident(c) for c in target_cols)
    provenance = f"{sql_str(result.file_hash)}, {sql_str(ctx.file_name)}, {sql_str(ctx.source.sheet) if ctx.source.sheet else 'NULL'}, _row"
    kept = con.execute(
        f"INSERT INTO {quote_ident(spec.table)} ({select_cols}, file_hash, source_file, sheet, source_row) "
        f"SELECT {select_cols}, {provenance} FROM normalized WHERE _reason IS NULL"
    ).fetchone()[0]  # type: ignore[index]
    quarantined = con.execute(
        f"INSERT INTO quarantine SELECT {sql_str(spec.kind)}, _reason, _column, _raw, {provenance} "
        f"FROM normalized WHERE _reason IS NOT NULL"
    ).fetchone()[0]  # type: ignore[index]
    result.rows_kept += int(kept)
    result.rows_quarantined += int(quarantined)
    con.unregister("chunk_raw")


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
) -> IngestResult:
    """Hash the file, skip it if the ledger knows it, else run `body` in one transaction."""
    digest = file_hash(path)
    result = IngestResult(path, kind, digest)
    known = case.scalar("SELECT kind FROM ledger WHERE file_hash = ?", [digest])
    if known is not None:
        result.already_ingested = True
        result.detail["ingested_as"] = known
        return result
    with case.transaction():
        body(result)
        result.check_invariant()
        case.con.execute(
            "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [digest, kind, path.name, str(path.resolve()), path.stat().st_size, result.rows_read,
             result.rows_kept, result.rows_quarantined, result.rows_duplicate, result.rows_skipped,
             datetime.now(UTC), json.dumps(result.detail, ensure_ascii=False, default=str)],
        )  # fmt: skip
    return result
