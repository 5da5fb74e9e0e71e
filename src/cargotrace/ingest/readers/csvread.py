"""CSV as chunks of strings with exact record numbers.

Two readers give the same rows and numbers:

* Arrow's multi-threaded CSV parser (fast path), used when every record has exactly as many
  fields as the header. Record numbers are exact because Arrow keeps empty lines as rows
  (`ignore_empty_lines=False`), so the n-th record it returns is the n-th of the file.
* Python's `csv` module (exact path), used for small files and whenever Arrow meets a
  record with the wrong number of fields: such records are kept aside (quarantined by the
  loader as `wrong_field_count`), trailing empty cells are trimmed, blank lines skipped.

Row numbers follow the spreadsheet convention: the header is row 1 (or the row it was found
on), data rows count on from there, one per CSV record (a quoted field may span lines).
"""

from __future__ import annotations

import codecs
import collections
import csv
import io
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cargotrace.errors import InputError
from cargotrace.ingest.readers.arrow_text import any_contains_byte, may_be_blank_rows
from cargotrace.ingest.readers.headers import find_header_row, unique_headers
from cargotrace.ingest.readers.read_ahead import read_ahead
from cargotrace.ingest.readers.single_byte import Checked, Transcoder, single_byte
from cargotrace.ingest.readers.sources import (
    ENCODING_NAMES,
    SNIFF_BYTES,
    HeldMeter,
    Utf8Stream,
    detect_delimiter,
    detect_encoding,
    line_too_long,
    max_line_bytes,
    open_binary,
    read_sample,
    wrapper_of,
)
from cargotrace.ingest.readers.tabular_types import RawChunk, TableSource, strings_table

MAX_FIELD_CHARS = 1_000_000
csv.field_size_limit(min(sys.maxsize, MAX_FIELD_CHARS))
FAST_MIN_BYTES = 4 << 20  # smaller files go through the exact reader (fast enough, one code path)
FAST_BUFFER_BYTES = 32 << 20  # Arrow data held before the reader is chosen; bigger files stream
# (and overlap: the next chunk is parsed while the loader works on one, `read_ahead`)
# Text Arrow parses at once (one record batch). Its parser reads many blocks ahead: 16 MB
# blocks held ~0.9 GB of a wide file in memory, 4 MB ones ~0.4 GB, at the same speed.
ARROW_BLOCK_BYTES = 4 << 20
TAIL_SHARE = 0.2  # the last chunk of the Arrow reader may be this much longer
EXACT_CHUNK_ROWS = 100_000  # Python lists are big: the exact reader hands out smaller chunks
# and no chunk holds more text than this, however wide the rows. Two chunks are in memory
# (`read_ahead`); the 5 GB register of tests/test_resource_bounds.py (2 KB rows) peaked at
# 1,562 MiB with 128 MB chunks and 1,507 MiB with 96 MB (DuckDB at 500 MB, Dec 2026).
CHUNK_BYTES = 96 << 20
DELIMITERS = (",", ";", "\t", "|")


@dataclass
class CsvOptions:
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = None  # 0: no header, columns are named `column 1`, ...
    header_hint: set[str] | None = None
    fast: bool = False
    # the fast reader's first chunk holds at most this many rows: the loader, waiting for
    # it, starts sooner (`read_ahead` overlaps the rest)
    first_chunk_rows: int | None = None


def read_csv(
    path: Path, options: CsvOptions, chunk_rows: int
) -> tuple[TableSource, Iterator[RawChunk]]:
    sample = read_sample(path)
    if b"\x00" in sample[:4096] and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("looks like a binary file, not CSV text", file=str(path))
    limit = max_line_bytes()
    if len(sample) >= min(limit, SNIFF_BYTES) and not any(
        b in sample[:limit] for b in (b"\n", b"\r")
    ):
        _refuse_long_line(path, 1, limit)  # no line break where one must be: refused before parsing
    encoding = _encoding(options.encoding, sample, path)
    text = _whole_records(sample.decode(encoding, errors="replace"))
    delimiter, header_row = _layout(text, options)
    source = TableSource(path, "csv", encoding, delimiter, header_row=header_row)
    fast = options.fast and header_row > 0 and _content_size(path) >= FAST_MIN_BYTES
    if fast:
        return source, read_ahead(
            _fast_or_exact(path, source, chunk_rows, options.first_chunk_rows)
        )
    return source, _exact_chunks(path, source, chunk_rows)


def _encoding(wanted: str | None, sample: bytes, path: Path) -> str:
    if not wanted:
        return detect_encoding(sample)
    try:
        name = codecs.lookup(wanted).name
        bytes(4).decode(
            name, "replace"
        )  # LookupError for codecs that are not text encodings (rot13)
        return {"koi8-r": "koi8_r"}.get(name, name)
    except LookupError:
        raise InputError(f"unknown encoding {wanted!r} in the mapping", file=str(path)) from None


def _whole_records(text: str) -> str:
    """The sample without its last, possibly cut, line."""
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut > 0 else text


def _layout(text: str, options: CsvOptions) -> tuple[str, int]:
    """(delimiter, header row): the pair under which some early record names the most
    known columns; otherwise the most consistent delimiter and row 1."""
    candidates = [options.delimiter] if options.delimiter else list(DELIMITERS)
    if options.header_row is not None:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        skip = max(options.header_row - 1, 0)
        return options.delimiter or detect_delimiter(
            lines[skip : skip + 20] or [""]
        ), options.header_row
    best: tuple[int, str, int] | None = None
    for delimiter in candidates:
        try:
            records = list(
                itertools.islice(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 40)
            )
        except csv.Error:  # a field beyond the limit in the sample: the reader refuses it later
            continue
        row = find_header_row([r for r in records], options.header_hint)
        if row is None:
            continue
        hits = _hits(records[row - 1], options.header_hint)
        if best is None or hits > best[0]:
            best = (hits, delimiter, row)
    if best is not None:
        return best[1], best[2]
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return options.delimiter or detect_delimiter(lines[:20] or [""]), 1


def _hits(record: list[str], hint: set[str] | None) -> int:
    from cargotrace.ingest.readers.headers import normalize_header

    return len({normalize_header(v)[0] for v in record if v.strip()} & (hint or set()))


def _content_size(path: Path) -> int:
    return path.stat().st_size  # compressed size for wrapped files: a lower bound, good enough


# --------------------------------------------------------------------------- exact reader
def _text_reader(path: Path, source: TableSource) -> tuple[io.TextIOWrapper, Iterator[list[str]]]:
    binary = open_binary(path)
    text = io.TextIOWrapper(
        binary, encoding=source.encoding or "utf-8", errors="strict", newline=""
    )
    lines = _bounded_lines(text, max_line_bytes(), path)
    return text, csv.reader(lines, delimiter=source.delimiter or ",")


def _bounded_lines(text: io.TextIOWrapper, limit: int, path: Path) -> Iterator[str]:
    """The lines of `text`, refusing one longer than `limit` before it is read whole."""
    readline = text.readline
    number = 0
    while line := readline(limit + 1):
        number += 1
        if len(line) > limit and len(line.rstrip("\r\n")) > limit:
            _refuse_long_line(path, number, limit)
        yield line


BOMB_PROBE_BYTES = 64 << 20


def _refuse_long_line(path: Path, number: int, limit: int) -> None:
    """Refuse a line beyond the limit. In a .gz or .zip a decompression bomb is the likelier
    story (a huge run of one byte): reading on lets the size cap say so first."""
    if wrapper_of(path):
        with open_binary(path) as handle:
            for _ in range(BOMB_PROBE_BYTES >> 20):
                if not handle.read(1 << 20):
                    break
    raise line_too_long(number, limit, str(path))


def _exact_chunks(path: Path, source: TableSource, chunk_rows: int) -> Iterator[RawChunk]:
    chunk_rows = min(chunk_rows, EXACT_CHUNK_ROWS)
    source.reader = "python"
    text, reader = _text_reader(path, source)
    row_no = 0
    try:
        for _ in range(max(source.header_row - 1, 0)):
            if next(reader, None) is None:
                break  # a header row beyond the end: "file is empty" below
            row_no += 1
        first = next(reader, None)
        if first is None:
            if source.header_row > 1:
                raise InputError(
                    f"the file ends before header row {source.header_row}", file=str(path)
                )
            raise InputError("file is empty (no header row)", file=str(path))
        if source.header_row == 0:
            headers, pending = unique_headers([""] * len(first)), [first]
        else:
            headers, pending = unique_headers(first), []
            row_no += 1
        width = len(headers)
        while True:
            try:
                block = pending + _take_records(reader, chunk_rows - len(pending))
            except csv.Error as exc:
                raise InputError(
                    f"CSV cannot be parsed: {exc}", file=str(path), row=row_no + 1
                ) from None
            pending = []
            if not block:
                break
            numbers = range(row_no + 1, row_no + 1 + len(block))
            row_no += len(block)
            yield split_block(
                headers, block, numbers, width, delimiter=source.delimiter or ",", file=str(path)
            )
    except UnicodeDecodeError as exc:
        raise _decode_error(path, source, exc) from None
    finally:
        text.close()


def _take_records(reader: Iterator[list[str]], rows: int) -> list[list[str]]:
    """Up to `rows` records, fewer once they hold CHUNK_BYTES of text (wide rows)."""
    block: list[list[str]] = []
    size = 0
    for record in itertools.islice(reader, rows):
        block.append(record)
        size += sum(map(len, record)) + len(record)
        if size >= CHUNK_BYTES:
            break
    return block


def _decode_error(path: Path, source: TableSource, exc: UnicodeDecodeError) -> InputError:
    name = ENCODING_NAMES.get(source.encoding or "", source.encoding)
    return InputError(
        f"text is not valid {name} ({exc.reason}); re-save the file in one encoding or name it with "
        f'encoding = "..." in a mapping',
        file=str(path),
        row=_bad_line(path, source.encoding or "utf-8"),
    )


def _bad_line(path: Path, encoding: str) -> int | None:
    """The line holding the first byte that does not decode."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines = 0
    with open_binary(path) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                return lines + block[: max(exc.start, 0)].count(b"\n") + 1
            lines += block.count(b"\n")
    return None


def check_runaway_quote(
    record: list[str], number: int, headers: list[str], delimiter: str, file: str
) -> None:
    """A field that swallowed whole lines of fields (an opening quote never closed) would
    make the rows after it vanish into one cell: refuse the file instead. A line inside the
    cell with a row's worth of delimiters is the sign."""
    width = len(headers)
    for index, value in enumerate(record):
        if "\n" in value and any(
            line.count(delimiter) >= max(width - 1, 2) for line in value.split("\n")[1:]
        ):
            raise InputError(
                f"a quote opened in this field is never closed: it runs over {value.count(chr(10))} more line(s) "
                f"that look like whole rows; fix the quote and ingest the file again",
                file=file,
                row=number,
                column=headers[index] if index < width else None,
            )


def split_block(
    headers: list[str],
    block: list[list[str]],
    numbers: range,
    width: int,
    *,
    delimiter: str = ",",
    file: str = "",
) -> RawChunk:
    """Rows of the header's width become the table; blank rows are counted; rows with too
    few or too many (non-empty) fields are set aside with their numbers."""
    good: list[list[str]] = []
    good_rows: list[int] = []
    ragged: list[tuple[int, list[str]]] = []
    blank = 0
    for record, number in zip(block, numbers, strict=True):
        n = len(record)
        if any("\n" in v for v in record):
            check_runaway_quote(record, number, headers, delimiter, file)
        if not any(v.strip() for v in record):
            blank += 1
        elif n == width:
            good.append(record)
            good_rows.append(number)
        elif n > width and not any(v.strip() for v in record[width:]):
            good.append(record[:width])  # trailing empty cells from a spreadsheet export
            good_rows.append(number)
        else:
            ragged.append((number, record))
    columns: list[list[str | None]] = [list(col) for col in zip(*good, strict=True)] if good else []
    return RawChunk(headers, strings_table(columns, good_rows, width), ragged, blank)


# --------------------------------------------------------------------------- fast reader
def _arrow_reader(path: Path, source: TableSource, width: int) -> Iterator[pa.RecordBatch]:
    """The file's batches, every cell UTF-8 text: a single-byte encoding parsed as bytes and
    transcoded per column (`single_byte`), any other transcoded before the parse."""
    encoding = source.encoding or "utf-8"
    if single_byte(encoding):
        label = ENCODING_NAMES.get(encoding, encoding)
        raw = Checked(open_binary(path), encoding, str(path), label)
        return Transcoder(encoding).batches(iter(_arrow_parse(raw, source, width, pa.binary())))
    return iter(_arrow_parse(Utf8Stream(open_binary(path), encoding, str(path)), source, width))


def _arrow_parse(
    stream: Utf8Stream | Checked, source: TableSource, width: int, cell: pa.DataType | None = None
) -> pacsv.CSVStreamingReader:
    names = [f"c{i}" for i in range(width)]
    # Text transcoded by Python's strict codec is valid UTF-8: Arrow need not check it again
    # (checking took ~45 % of its parse). UTF-8 input passes through unchecked: Arrow checks it.
    check_utf8 = isinstance(stream, Utf8Stream) and stream.passthrough
    return pacsv.open_csv(
        io.BufferedReader(stream, 1 << 22),
        read_options=pacsv.ReadOptions(skip_rows=source.header_row, column_names=names, block_size=ARROW_BLOCK_BYTES),
        # no handler of invalid rows: a record of the wrong width raises ArrowInvalid (the file
        # needs the exact reader); a handler would be given the row as UTF-8 text, which the
        # bytes of a single-byte encoding are not
        parse_options=pacsv.ParseOptions(
            delimiter=source.delimiter or ",", newlines_in_values=True, ignore_empty_lines=False,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={n: cell or pa.string() for n in names}, strings_can_be_null=False,
            quoted_strings_can_be_null=False, check_utf8=check_utf8,
        ),
    )  # fmt: skip


def _header(path: Path, source: TableSource) -> list[str]:
    text, reader = _text_reader(path, source)
    try:
        record: list[str] = []
        for _ in range(source.header_row):
            record = next(reader)
        return unique_headers(record)
    except UnicodeDecodeError as exc:
        raise _decode_error(path, source, exc) from None
    except (StopIteration, csv.Error):
        raise InputError(
            "cannot read the header row", file=str(path), row=source.header_row
        ) from None
    finally:
        text.close()


class IrregularCsv(Exception):
    """Arrow met a record of the wrong width after rows of a big file were handed out: the
    file's transaction is rolled back and the file read again with the exact reader."""


def _fast_or_exact(
    path: Path, source: TableSource, chunk_rows: int, first_chunk_rows: int | None = None
) -> Iterator[RawChunk]:
    """Arrow when the file is regular, else the exact reader. Up to FAST_BUFFER_BYTES of
    Arrow data the choice is made before any row is handed out, so the loader never sees a
    mix; a bigger file is streamed in one pass, and a wrong-width record found after the
    buffer raises IrregularCsv (the caller starts the file again with the exact reader)."""
    headers = _header(path, source)
    width = len(headers)
    batches: list[pa.RecordBatch] = []
    buffered, complete = 0, True
    meter = HeldMeter()
    try:
        reader = _counted(_arrow_reader(path, source, width), meter)
        for batch in reader:
            batches.append(batch)
            buffered += batch.nbytes
            if buffered > FAST_BUFFER_BYTES:
                complete = False
                break
    except (pa.ArrowInvalid, InputError):
        meter.release()
        yield from _exact_chunks(path, source, chunk_rows)
        return
    source.reader = "arrow"
    batches_iter = (
        _drain(batches) if complete else itertools.chain(_drain(batches), _irregular_raises(reader))
    )
    del batches
    try:
        for chunk in _rechunk(
            headers, batches_iter, source.header_row, chunk_rows, first_chunk_rows
        ):
            _check_multiline(chunk, source.delimiter or ",", str(path))
            meter.handed_out(chunk.table.num_rows + chunk.blank)
            out = [chunk]
            del chunk
            yield out.pop()
    finally:
        meter.release()


def _counted(batches: Iterator[pa.RecordBatch], meter: HeldMeter) -> Iterator[pa.RecordBatch]:
    """The batches, their rows counted as read (the progress bar's share handed out)."""
    for batch in batches:
        meter.rows_read += batch.num_rows
        yield batch


def _check_multiline(chunk: RawChunk, delimiter: str, file: str) -> None:
    """The runaway-quote check of the exact reader, on the few cells holding a line break."""
    table = chunk.table
    for name in table.column_names[:-1]:
        if not any_contains_byte(table.column(name), 0x0A):  # most columns: no look at each cell
            continue
        multiline = pc.match_substring(table.column(name), "\n")
        if pc.any(multiline).as_py():
            hits = table.filter(multiline)
            for record in hits.to_pylist():
                check_runaway_quote([record[f"c{i}"] or "" for i in range(len(chunk.headers))], record["_row"],
                                    chunk.headers, delimiter, file)  # fmt: skip


def _irregular_raises(reader: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    try:
        yield from reader
    except (pa.ArrowInvalid, InputError) as exc:
        raise IrregularCsv(str(exc)) from None


def _drain(batches: list[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Hand out the buffered batches, letting go of each (its memory) once handed out."""
    queue = collections.deque(batches)
    batches.clear()
    while queue:
        yield queue.popleft()


def _rechunk(
    headers: list[str],
    batches: Iterator[pa.RecordBatch],
    header_row: int,
    chunk_rows: int,
    first_chunk_rows: int | None = None,
) -> Iterator[RawChunk]:
    """Arrow's batches regrouped into chunks of exactly `chunk_rows` rows (the first one
    `first_chunk_rows` when given), numbered on from the header row; the last chunk takes
    the rest, up to TAIL_SHARE more rows, so a file does not end in a small extra chunk
    (another insert costs more than its rows)."""
    next_row = header_row + 1
    pending: list[pa.RecordBatch] = []
    pending_rows = pending_bytes = 0

    def limit() -> int:  # rows per chunk: `chunk_rows`, fewer when rows are wide
        rows = (
            chunk_rows
            if first_chunk_rows is None or next_row > header_row + 1
            else first_chunk_rows
        )
        return min(rows, max(1024, CHUNK_BYTES * pending_rows // max(pending_bytes, 1)))

    for batch in itertools.chain(batches, [None]):
        if batch is not None:
            pending.append(batch)
            pending_rows += batch.num_rows
            pending_bytes += batch.nbytes
        while pending_rows > limit() * (1 + TAIL_SHARE) or (batch is None and pending_rows):
            table = pa.Table.from_batches(pending)
            take = pending_rows if batch is None else limit()
            rest = table.slice(take)
            pending, pending_rows = rest.to_batches(), rest.num_rows
            pending_bytes = sum(b.nbytes for b in pending)
            out = [_arrow_chunk(headers, table.slice(0, take), next_row)]
            del table, rest
            next_row = out[0][1]
            yield out.pop()[0]  # the frame keeps no reference: the chunk dies with its consumer's


def _arrow_chunk(headers: list[str], table: pa.Table, first_row: int) -> tuple[RawChunk, int]:
    """Number the rows, then drop blank ones (every cell empty or spaces) and count them."""
    count = table.num_rows
    table = table.append_column("_row", pa.array(range(first_row, first_row + count), pa.int64()))
    blank = 0
    rows = may_be_blank_rows(table.column(0)) if table.num_columns > 1 else np.empty(0, np.int64)
    if len(rows):  # the exact test on the few rows whose first cell may be blank
        some = table.take(rows)
        mask = _blank(some.column(0))
        for column in some.columns[1:-1]:
            mask = pc.and_(mask, _blank(column))
        hits = rows[np.asarray(mask.to_numpy(zero_copy_only=False), bool)]
        blank = len(hits)
        if blank:
            keep = np.ones(count, bool)
            keep[hits] = False
            table = table.filter(pa.array(keep))
    return RawChunk(headers, table, [], blank), first_row + count


def _blank(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0)
