"""Excel workbooks through python-calamine: every sheet or a chosen one.

Each sheet is read from A1, so row numbers are the ones Excel shows. Merged cells are
filled with their value (a waybill merged over the rows of its wagons belongs to each of
them); the header row is found below title rows; date cells become ISO dates and plain
numbers keep the digits Excel displays (15 significant), so Excel serial dates stored as
numbers still reach the date parser.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from cargotrace.errors import InputError
from cargotrace.ingest.readers.headers import find_header_row, unique_headers
from cargotrace.ingest.readers.sources import open_binary, wrapper_of
from cargotrace.ingest.readers.tabular_types import RawChunk, TableSource, strings_table
from cargotrace.ingest.readers.xlsx_guard import (
    ENV_MAX_SHEET_CELLS,
    MAX_SHEET_CELLS,
    check_ooxml,
    max_sheet_cells,
    refuse_span,
)

__all__ = ["ENV_MAX_SHEET_CELLS", "MAX_SHEET_CELLS", "Part", "check_sheet_spans", "read_excel"]

Part = tuple[TableSource, Iterator[RawChunk]]
_SHEET_MEMBER = re.compile(r"xl/worksheets/[^/]+\.xml")

# The cells a sheet spans, its text and its members' sizes are bounded before calamine sees
# the workbook (`xlsx_guard`): calamine aborts the process on a grid too large to allocate.
_refuse_span = refuse_span


# OpenDocument: a row or cell stands for `number-rows-repeated` / `number-columns-repeated`
# copies of itself, which calamine expands into the grid (a 1.5 KB file asking for a cell
# repeated 1,000 times in a row repeated 90,000 times made it abort on a 4 GB allocation).
# Matched with the literal `table:` prefix, as calamine's reader matches them.
_ODS_TOKEN = re.compile(
    rb"<(/?)table:(table-row|table-cell|covered-table-cell|table)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>"
    rb"|<text:p(?=[\s/>])"
)
_ODS_ROWS = re.compile(rb'table:number-rows-repeated="([0-9]{1,10})"')
_ODS_COLUMNS = re.compile(rb'table:number-columns-repeated="([0-9]{1,10})"')
_ODS_VALUE = re.compile(rb"office:value-type=")
_ODS_TAG_MAX = 16 << 20  # a longer tag is refused (no genuine sheet has one)


class _OdsSpan:
    """Rows and columns a sheet of an .ods spans up to its last cell with content, repeats
    counted (trailing empty repeated rows and cells, which LibreOffice writes, do not count)."""

    def __init__(self, limit: int, name: str) -> None:
        self.limit, self.name = limit, name
        self.sheet = 0
        self._reset()

    def _reset(self) -> None:
        self.row = self.rows = self.columns = 0
        self.row_repeat = self.column = 0
        self.row_has_content = False
        self.cell_open = False
        self.cell_start = self.cell_repeat = 0

    def _end_sheet(self) -> None:
        _refuse_span(f"#{self.sheet}", self.rows, self.columns, self.limit, self.name)
        self._reset()

    def _content(self) -> None:
        self.columns = max(self.columns, self.cell_start + self.cell_repeat)
        self.row_has_content = True

    def feed(self, text: bytes) -> None:
        for match in _ODS_TOKEN.finditer(text):
            closing, tag, attrs, empty = match.groups()
            if tag is None:  # <text:p>: the open cell has content
                if self.cell_open:
                    self._content()
            elif tag == b"table":
                if closing:
                    self._end_sheet()
                else:
                    self.sheet += 1
            elif tag == b"table-row":
                if closing:
                    if self.row_has_content:
                        self.rows = max(self.rows, self.row + self.row_repeat)
                    self.row += self.row_repeat
                    continue
                repeat = _ODS_ROWS.search(attrs)
                self.row_repeat = int(repeat.group(1)) if repeat else 1
                self.column, self.row_has_content = 0, False
                if empty:
                    self.row += self.row_repeat
            elif closing:  # </table:table-cell>
                self.cell_open = False
            else:
                repeat = _ODS_COLUMNS.search(attrs)
                self.cell_start, self.cell_repeat = (
                    self.column,
                    int(repeat.group(1)) if repeat else 1,
                )
                self.column += self.cell_repeat
                self.cell_open = not empty
                if _ODS_VALUE.search(attrs):
                    self._content()


def _check_ods_spans(archive: zipfile.ZipFile, limit: int, name: str) -> None:
    """The spans of every sheet of an .ods, from its content.xml read in 4 MiB blocks."""
    span = _OdsSpan(limit, name)
    try:
        with archive.open("content.xml") as member:
            carry = b""
            while block := member.read(1 << 22):
                text = carry + block
                cut = max(text.rfind(b"<"), 0)  # "<" never occurs inside a tag: a safe cut
                span.feed(text[:cut])
                carry = text[cut:]
                if len(carry) > _ODS_TAG_MAX:
                    raise InputError(
                        f"content.xml holds a tag longer than {_ODS_TAG_MAX:,} bytes", file=name
                    )
            span.feed(carry)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return  # damaged: calamine says so in its own words
    if span.rows or span.columns:  # a sheet left open by a cut file
        span._end_sheet()


def check_sheet_spans(workbook: Path | io.BytesIO, name: str) -> None:
    """Refuse a workbook whose sheet spans more cells than MAX_SHEET_CELLS (from A1 to its
    farthest row and column): OOXML (.xlsx) and OpenDocument (.ods) zips. Other workbooks
    pass unchecked: a BIFF .xls sheet holds at most 65,536 x 256 cells (16.8 M); a binary
    .xlsb sheet is not checked (its cells are binary records: not yet read here)."""
    try:
        archive = zipfile.ZipFile(workbook)
    except (zipfile.BadZipFile, OSError):
        return
    limit = max_sheet_cells()
    with archive:
        if "content.xml" in archive.namelist() and not any(
            _SHEET_MEMBER.fullmatch(n) for n in archive.namelist()
        ):
            _check_ods_spans(archive, limit, name)
            return
        check_ooxml(archive, name)


def cell_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")
    if isinstance(value, datetime):
        return (
            value.isoformat(sep=" ")
            if (value.hour, value.minute, value.second) != (0, 0, 0)
            else value.date().isoformat()
        )
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _open_book(path: Path) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        if wrapper_of(path):
            with open_binary(path) as handle:
                content = io.BytesIO(handle.read())
            check_sheet_spans(content, str(path))
            content.seek(0)  # the check read it
            return CalamineWorkbook.from_filelike(content)
        check_sheet_spans(path, str(path))
        return CalamineWorkbook.from_path(str(path))
    except InputError:
        raise
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise InputError(f"cannot read workbook: {exc}", file=str(path)) from None


def _sheet_rows(book: Any, name: str, path: Path) -> list[list[str]]:
    from python_calamine import CalamineError

    try:  # a sheet's XML is only parsed here: a damaged member surfaces now, not at opening
        sheet = book.get_sheet_by_name(name)
        values = sheet.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OverflowError) as exc:
        raise InputError(
            f"cannot read sheet {name!r}: the workbook is damaged ({type(exc).__name__}: {exc}); "
            "open and save it again in a spreadsheet program, or export the sheet as CSV",
            file=str(path),
        ) from None
    rows = [[cell_text(v) for v in row] for row in values]
    for (r0, c0), (r1, c1) in getattr(sheet, "merged_cell_ranges", None) or []:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            for c in range(c0, min(c1, len(rows[r]) - 1) + 1):
                rows[r][c] = value
    return rows


def read_excel(
    path: Path, sheet: str | None, header_row: int | None, hint: set[str] | None, chunk_rows: int
) -> list[Part]:
    """One part per sheet that holds a table (or the chosen sheet)."""
    book = _open_book(path)
    names = [m.name for m in book.sheets_metadata if str(m.typ).endswith("WorkSheet")] or list(
        book.sheet_names
    )
    if sheet is not None and sheet not in names:
        raise InputError(f"sheet {sheet!r} not found; the workbook has {names}", file=str(path))
    parts: list[Part] = []
    skipped: list[str] = []
    for name in [sheet] if sheet is not None else names:
        rows = _sheet_rows(book, name, path)
        if not any(any(v.strip() for v in r) for r in rows):
            skipped.append(f"{name} (empty)")
            continue
        found = header_row if header_row is not None else find_header_row(rows, hint)
        if found is not None and found > len(rows):
            raise InputError(
                f"header row {found} is below the last row ({len(rows)}) of sheet {name!r}",
                file=str(path),
            )
        if found is None:
            if sheet is None:
                skipped.append(f"{name} (no header row with known columns)")
                continue
            found = 1
        parts.append(
            (
                TableSource(path, "xlsx", sheet=name, header_row=found),
                _chunks(rows, found, chunk_rows),
            )
        )
    if not parts:
        raise InputError(
            f"no sheet holds a table with known column names ({', '.join(skipped) or 'no sheets'}); "
            f"choose one with --sheet and name its columns with --mapping",
            file=str(path),
        )
    if skipped:
        parts[0][0].note = "sheets skipped: " + "; ".join(skipped)
    return parts


def _chunks(rows: list[list[str]], header_row: int, chunk_rows: int) -> Iterator[RawChunk]:
    body = rows[header_row:] if header_row > 0 else rows
    raw_header = rows[header_row - 1] if header_row > 0 else []
    width = max([len(raw_header), *(len(r) for r in body)]) if body or raw_header else 0
    used = [
        any(i < len(r) and r[i].strip() for r in body)
        or (i < len(raw_header) and raw_header[i].strip())
        for i in range(width)
    ]
    while width and not used[width - 1]:
        width -= 1
    headers = unique_headers([*raw_header[:width], *[""] * (width - len(raw_header))])
    first = header_row + 1
    for start in range(0, max(len(body), 1), chunk_rows):
        block = body[start : start + chunk_rows]
        kept: list[list[str]] = []
        numbers: list[int] = []
        for offset, row in enumerate(block):
            cells = (row + [""] * width)[:width]
            if any(v.strip() for v in cells):
                kept.append(cells)
                numbers.append(first + start + offset)
        columns: list[list[str | None]] = [list(c) for c in zip(*kept, strict=True)] if kept else []
        yield RawChunk(headers, strings_table(columns, numbers, width), [], len(block) - len(kept))
