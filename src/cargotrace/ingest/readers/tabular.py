"""Reading tabular files (CSV, XLSX, Parquet) as chunks of strings with row numbers.

Everything is read as text first and typed later in SQL, so a bad value becomes a
quarantined row with a reason instead of a failed file. Row numbers follow the spreadsheet
convention: the header is row 1 (or the row it was found on), data rows count from there.
A workbook yields one part per sheet; other files one part.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from cargotrace.errors import InputError
from cargotrace.ingest.readers.csvread import CsvOptions, read_csv, split_block
from cargotrace.ingest.readers.excel import Part, read_excel
from cargotrace.ingest.readers.sources import inner_name, wrapper_of
from cargotrace.ingest.readers.tabular_types import RawChunk, TableSource, strings_table

__all__ = [
    "CHUNK_ROWS",
    "Part",
    "RawChunk",
    "TableSource",
    "read_chunks",
    "read_parts",
    "split_block",
    "strings_table",
]

CHUNK_ROWS = 100_000
FAST_CHUNK_ROWS = 7 * 122_880  # streaming kinds: whole DuckDB row groups, bounded memory
# Kinds typed ahead (`first_chunk_rows` given): two row groups a chunk, so the last one,
# stored while the reading thread has nothing left to do, is short (one core idles then)
AHEAD_CHUNK_ROWS = 2 * 122_880
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")


def file_format(path: Path) -> str:
    """csv, xlsx or parquet, from the name of the content (inside .gz/.zip too)."""
    name = inner_name(path).lower()
    if name.endswith(EXCEL_SUFFIXES):
        return "xlsx"
    if name.endswith(".parquet"):
        return "parquet"
    with open(path, "rb") as probe:
        magic = probe.read(4)
    if magic == b"PAR1":
        return "parquet"
    if magic == b"PK\x03\x04" and not wrapper_of(path):
        return "xlsx"  # a workbook whatever its name says
    return "csv"


def read_parts(
    path: Path,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    header_hint: set[str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    encoding: str | None = None,
    delimiter: str | None = None,
    fast: bool = False,
    first_chunk_rows: int | None = None,
) -> list[Part]:
    fmt = file_format(path)
    if fmt == "xlsx":
        return read_excel(path, sheet, header_row, header_hint, chunk_rows)
    if sheet is not None:
        raise InputError(
            f"--sheet {sheet!r} given, but this is a {fmt} file, not a workbook", file=str(path)
        )
    if fmt == "parquet":
        return [_read_parquet(path, chunk_rows)]
    options = CsvOptions(encoding, delimiter, header_row, header_hint, fast, first_chunk_rows)
    rows = max(chunk_rows, FAST_CHUNK_ROWS) if fast else chunk_rows
    if fast and first_chunk_rows:
        rows = min(rows, AHEAD_CHUNK_ROWS)
    return [read_csv(path, options, rows)]


def read_chunks(
    path: Path,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    header_hint: set[str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> tuple[TableSource, Iterator[RawChunk]]:
    """The first part only (the first sheet with a table): the single-part interface."""
    return read_parts(
        path, sheet=sheet, header_row=header_row, header_hint=header_hint, chunk_rows=chunk_rows
    )[0]


def _read_parquet(path: Path, chunk_rows: int) -> Part:
    import pyarrow.parquet as pq

    if wrapper_of(path):
        raise InputError(
            "Parquet is compressed inside already; ingest the .parquet file itself", file=str(path)
        )
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError subclasses
        raise InputError(f"cannot read Parquet: {exc}", file=str(path)) from None
    source = TableSource(path, "parquet")

    def chunks() -> Iterator[RawChunk]:
        headers = list(parquet.schema_arrow.names)
        row = 1
        try:
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                arrays = {
                    f"c{i}": _as_strings(batch.column(i), headers[i], path)
                    for i in range(len(headers))
                }
                arrays["_row"] = pa.array(range(row + 1, row + 1 + batch.num_rows), pa.int64())
                row += batch.num_rows
                yield RawChunk(headers, pa.table(arrays))
        except (OSError, pa.ArrowException) as exc:
            raise InputError(
                f"cannot read Parquet after row {row}: {exc}", file=str(path), row=row + 1
            ) from None

    return source, chunks()


def _as_strings(column: pa.Array, name: str, path: Path) -> pa.Array:
    """Text of a typed column; nested values as JSON, bytes decoded leniently."""
    try:
        return column.cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        pass
    import json

    def text(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        return json.dumps(value, ensure_ascii=False, default=str)

    return pa.array([text(v) for v in column.to_pylist()], pa.string())
