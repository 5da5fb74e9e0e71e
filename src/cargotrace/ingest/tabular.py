"""Reading tabular files (CSV, XLSX, Parquet) as chunks of strings with row numbers.

Everything is read as text first and typed later in SQL, so a bad value becomes a
quarantined row with a reason instead of a failed file. Row numbers follow the spreadsheet
convention: the header is row 1 (or the row it was found on), data rows count from there.
"""

from __future__ import annotations

import csv
import io
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from cargotrace.errors import InputError
from cargotrace.ingest.sources import SNIFF_BYTES, detect_delimiter, detect_encoding, open_binary

CHUNK_ROWS = 100_000
MAX_FIELD_CHARS = 1_000_000
csv.field_size_limit(min(sys.maxsize, MAX_FIELD_CHARS))


@dataclass
class RawChunk:
    """Rows of one file as strings: `table` has the columns c0..cN plus `_row`."""

    headers: list[str]
    table: pa.Table
    ragged: list[tuple[int, list[str]]] = field(default_factory=list)
    blank: int = 0


@dataclass
class TableSource:
    """How a file was read: reported by `--dry-run` and stored in the ledger detail."""

    path: Path
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int = 1


def read_chunks(
    path: Path,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    header_hint: set[str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> tuple[TableSource, Iterator[RawChunk]]:
    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        return _read_excel(path, sheet, header_row, header_hint, chunk_rows)
    if suffix.endswith(".parquet"):
        return _read_parquet(path, chunk_rows)
    return _read_csv(path, header_row, chunk_rows)


def _strings_table(columns: list[list[str | None]], rows: list[int], width: int) -> pa.Table:
    arrays = {f"c{i}": pa.array(columns[i] if columns else [], pa.string()) for i in range(width)}
    arrays["_row"] = pa.array(rows, pa.int64())
    return pa.table(arrays)


def _read_csv(path: Path, header_row: int | None, chunk_rows: int) -> tuple[TableSource, Iterator[RawChunk]]:
    with open_binary(path) as probe:
        sample = probe.read(SNIFF_BYTES)
    if b"\x00" in sample[:4096]:
        raise InputError("looks like a binary file, not CSV text", file=str(path))
    encoding = detect_encoding(sample)
    text_sample = sample.decode(encoding, errors="replace")
    lines = [line for line in text_sample.splitlines()[:50] if line.strip()]
    skip = (header_row - 1) if header_row else 0
    delimiter = detect_delimiter(lines[skip : skip + 20] or [""])
    source = TableSource(path, "csv", encoding, delimiter, header_row=header_row or 1)
    return source, _csv_chunks(path, source, chunk_rows)


def _csv_chunks(path: Path, source: TableSource, chunk_rows: int) -> Iterator[RawChunk]:
    binary = open_binary(path)
    text = io.TextIOWrapper(binary, encoding=source.encoding or "utf-8", newline="")
    try:
        reader = csv.reader(text, delimiter=source.delimiter or ",")
        try:
            for _ in range(source.header_row - 1):
                next(reader)
            headers = next(reader)
        except StopIteration:
            raise InputError("file is empty (no header row)", file=str(path)) from None
        headers = [h.strip() for h in headers]
        width = len(headers)
        row_no = source.header_row
        while True:
            try:
                block = list(itertools.islice(reader, chunk_rows))
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"text is not valid {source.encoding} after row {row_no} ({exc.reason})",
                    file=str(path),
                    row=row_no + 1,
                ) from None
            except csv.Error as exc:
                raise InputError(f"CSV cannot be parsed: {exc}", file=str(path), row=row_no + 1) from None
            if not block:
                break
            numbers = range(row_no + 1, row_no + 1 + len(block))
            row_no += len(block)
            yield _split_block(headers, block, numbers, width)
    finally:
        text.close()


def _split_block(headers: list[str], block: list[list[str]], numbers: range, width: int) -> RawChunk:
    lengths = list(map(len, block))
    if all(n == width for n in lengths):
        good, good_rows, ragged, blank = block, list(numbers), [], 0
    else:
        good, good_rows, ragged, blank = [], [], [], 0
        for record, number, n in zip(block, numbers, lengths, strict=True):
            if n == width:
                good.append(record)
                good_rows.append(number)
            elif n == 0 or (n == 1 and not record[0].strip()):
                blank += 1
            elif n > width and not any(v.strip() for v in record[width:]):
                good.append(record[:width])  # trailing empty cells from a spreadsheet export
                good_rows.append(number)
            else:
                ragged.append((number, record))
    columns = [list(col) for col in zip(*good, strict=True)] if good else [[] for _ in range(width)]
    return RawChunk(headers, _strings_table(columns, good_rows, width), ragged, blank)


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return, attr-defined]
    return str(value)


def _read_excel(
    path: Path,
    sheet: str | None,
    header_row: int | None,
    header_hint: set[str] | None,
    chunk_rows: int,
) -> tuple[TableSource, Iterator[RawChunk]]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise InputError(f"cannot read workbook: {exc}", file=str(path)) from None
    names = book.sheet_names
    if sheet is not None and sheet not in names:
        raise InputError(f"sheet {sheet!r} not found; the workbook has {names}", file=str(path))
    chosen = sheet or names[0]
    rows = book.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
    found = header_row or _find_header_row(rows, header_hint)
    source = TableSource(path, "xlsx", sheet=chosen, header_row=found)

    def chunks() -> Iterator[RawChunk]:
        headers = [str(_cell_text(v) or "").strip() for v in rows[found - 1]] if rows else []
        width = len(headers)
        body = rows[found:]
        for start in range(0, len(body), chunk_rows):
            block = [[_cell_text(v) or "" for v in r][:width] for r in body[start : start + chunk_rows]]
            block = [r + [""] * (width - len(r)) for r in block]
            numbers = range(found + 1 + start, found + 1 + start + len(block))
            non_blank = [(r, n) for r, n in zip(block, numbers, strict=True) if any(v.strip() for v in r)]
            kept = [r for r, _ in non_blank]
            columns = [list(c) for c in zip(*kept, strict=True)] if kept else [[] for _ in range(width)]
            yield RawChunk(headers, _strings_table(columns, [n for _, n in non_blank], width), [], len(block) - len(kept))

    return source, chunks()


def _find_header_row(rows: list[list[object]], hint: set[str] | None) -> int:
    """The first row (1-based) among the first 30 that names at least two known columns."""
    from cargotrace.ingest.headers import normalize_header

    if not hint:
        return 1
    for index, row in enumerate(rows[:30]):
        names = {normalize_header(str(v))[0] for v in row if v not in (None, "")}
        if len(names & hint) >= 2:
            return index + 1
    return 1


def _read_parquet(path: Path, chunk_rows: int) -> tuple[TableSource, Iterator[RawChunk]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError subclasses
        raise InputError(f"cannot read Parquet: {exc}", file=str(path)) from None
    source = TableSource(path, "parquet")

    def chunks() -> Iterator[RawChunk]:
        headers = list(parquet.schema_arrow.names)
        row = 1
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            arrays = {f"c{i}": batch.column(i).cast(pa.string()) for i in range(len(headers))}
            arrays["_row"] = pa.array(range(row + 1, row + 1 + batch.num_rows), pa.int64())
            row += batch.num_rows
            yield RawChunk(headers, pa.table(arrays))

    return source, chunks()
