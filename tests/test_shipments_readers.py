"""The CSV readers against Python's csv writer: any text (quotes, delimiters, line breaks,
Cyrillic) in any supported encoding comes back cell for cell, with its record number,
through both the Arrow reader and the exact one; and the encoding detector on real words."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cargotrace.ingest.readers import csvread
from cargotrace.ingest.readers.csvread import CsvOptions, read_csv
from cargotrace.ingest.readers.sources import detect_encoding

HEADER = ["waybill", "cargo", "origin_station", "weight_kg"]
HINT = {"waybill", "cargo", "origin station", "weight"}
ALPHABET = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЕЁЖЯ abcXYZ019,;|\t\"'\n-."
CELL = st.text(alphabet=ALPHABET, max_size=12)
ROWS = st.lists(
    st.tuples(st.text(alphabet="ЭАБ0123456789", min_size=1, max_size=8), CELL, CELL, CELL),
    min_size=1,
    max_size=25,
)


def read_all(
    path: Path, encoding: str, fast: bool
) -> tuple[list[list[str | None]], list[int], int]:
    source, chunks = read_csv(
        path, CsvOptions(encoding=encoding, header_hint=HINT, fast=fast), chunk_rows=7
    )
    cells: list[list[str | None]] = []
    numbers: list[int] = []
    blank = 0
    for chunk in chunks:
        assert chunk.headers == HEADER and not chunk.ragged
        table = chunk.table
        cells += [
            list(r)
            for r in zip(*(table.column(f"c{i}").to_pylist() for i in range(4)), strict=True)
        ]
        numbers += table.column("_row").to_pylist()
        blank += chunk.blank
    return cells, numbers, blank


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ROWS, st.sampled_from([",", ";", "\t", "|"]), st.sampled_from(["utf-8", "utf-8-sig", "cp1251", "koi8_r"]),
       st.sampled_from(["\r\n", "\n"]), st.booleans())  # fmt: skip
def test_both_readers_give_back_what_was_written(
    tmp_path, monkeypatch, rows, delimiter, encoding, newline, blank_line
):
    # a line inside a cell holding a whole row's delimiters reads as an unclosed quote (refused)
    assume(
        not any(
            line.count(delimiter) >= 3
            for row in rows
            for cell in row
            for line in cell.split("\n")[1:]
        )
    )
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(HEADER)
    expected_numbers = []
    number = 1
    for i, row in enumerate(rows):
        if blank_line and i == len(rows) // 2:
            buffer.write(newline)
            number += 1
        writer.writerow(row)
        number += 1
        expected_numbers.append(number)
    path = tmp_path / "t.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    monkeypatch.setattr(csvread, "FAST_MIN_BYTES", 0)
    fast = read_all(path, encoding, fast=True)
    exact = read_all(path, encoding, fast=False)
    expected = ([list(r) for r in rows], expected_numbers, 1 if blank_line else 0)
    assert exact == expected
    assert fast == expected


@pytest.mark.parametrize("encoding", ["cp1251", "koi8_r"])
@pytest.mark.parametrize(
    "text",
    [
        "Номер накладной;Станция отправления;Наименование груза\nЭА1;Находка-Восточная;Взрывчатые вещества\n",
        "НОМЕР НАКЛАДНОЙ;СТАНЦИЯ ОТПРАВЛЕНИЯ;ГРУЗ\nЭА1;ТИХОРЕЦКАЯ;УГОЛЬ КАМЕННЫЙ\n",  # all capitals
        "накладная;груз;вес\nЭА1;боеприпасы;61\n",
    ],
)
def test_encoding_of_real_russian_words_is_recognised(text, encoding):
    assert detect_encoding(text.encode(encoding)) == encoding


@pytest.mark.parametrize(("data", "encoding"), [("Груз".encode("utf-8-sig"), "utf-8-sig"), ("Груз".encode("utf-16"), "utf-16"),
                                                ("Груз".encode(), "utf-8"), (("Груз" * 1000).encode()[:-1], "utf-8")])  # fmt: skip
def test_unicode_encodings(data, encoding):
    assert detect_encoding(data) == encoding


def test_a_workbook_spanning_billions_of_cells_is_refused_quickly(tmp_path):
    """One cell at XFD1048576 would make the sheet reader allocate 17 billion cells and
    abort the process; the span is counted from the sheet's XML first and refused."""
    import re
    import time
    import zipfile

    import openpyxl
    from typer.testing import CliRunner

    from cargotrace.cli.app import app

    book = openpyxl.Workbook()
    book.active.append(["Номер накладной", "Дата отправления", "Вес груза, кг"])
    book.active.append(["W1", "03.09.2023", "100"])
    small = tmp_path / "small.xlsx"
    book.save(small)
    hostile = tmp_path / "claim.xlsx"
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(hostile, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(
                    rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:XFD1048576"/>', data
                )
                far = (
                    b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
                )
                data = data.replace(b"</sheetData>", far + b"</sheetData>")
            out.writestr(item, data)
    started = time.perf_counter()
    result = CliRunner().invoke(
        app, ["ingest", "shipments", str(hostile), "--case", str(tmp_path / "case")]
    )
    assert result.exit_code == 2, result.output
    assert "17,179,869,184 cells" in " ".join(result.output.split())
    assert time.perf_counter() - started < 10
    ok = CliRunner().invoke(
        app, ["ingest", "shipments", str(small), "--case", str(tmp_path / "case")]
    )
    assert ok.exit_code == 0, ok.output


def _ods(path, rows_xml: str) -> None:
    """A minimal OpenDocument spreadsheet with one sheet holding `rows_xml`."""
    import zipfile

    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="S1">{rows_xml}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        book.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>"))  # fmt: skip
        book.writestr("content.xml", content)


def _text_cell(text: str, extra: str = "") -> str:
    return f'<table:table-cell{extra} office:value-type="string"><text:p>{text}</text:p></table:table-cell>'


HEADER_ROW = f"<table:table-row>{_text_cell('Номер накладной')}{_text_cell('Вес груза, кг')}</table:table-row>"


def test_an_ods_whose_repeats_span_too_many_cells_is_refused_quickly(tmp_path):
    """A 2 KB .ods asking for one cell repeated 1,000 times in a row repeated 90,000 times
    made calamine abort the process on a 4 GB allocation; the repeats are counted first.
    LibreOffice's trailing empty repeated rows and cells do not count."""
    import time

    from typer.testing import CliRunner

    from cargotrace.cli.app import app
    from cargotrace.ingest.readers.excel import check_sheet_spans

    hostile = tmp_path / "repeats.ods"
    _ods(hostile, HEADER_ROW + '<table:table-row table:number-rows-repeated="90000">'
         + _text_cell("x", ' table:number-columns-repeated="1000"') + "</table:table-row>")  # fmt: skip
    started = time.perf_counter()
    result = CliRunner().invoke(
        app, ["ingest", "shipments", str(hostile), "--case", str(tmp_path / "case")]
    )
    assert result.exit_code == 2, result.output
    assert "90,001 rows x 1,000 columns" in " ".join(result.output.split())
    assert time.perf_counter() - started < 10

    genuine = tmp_path / "libreoffice.ods"
    _ods(genuine, HEADER_ROW + f"<table:table-row>{_text_cell('W1')}{_text_cell('100')}"
         '<table:table-cell table:number-columns-repeated="1022"/></table:table-row>'
         '<table:table-row table:number-rows-repeated="1048574">'
         '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>')  # fmt: skip
    check_sheet_spans(genuine, "libreoffice.ods")  # 2 x 2: passes
    ok = CliRunner().invoke(
        app, ["ingest", "shipments", str(genuine), "--case", str(tmp_path / "case")]
    )
    # read, not refused as hostile: its one row has no date (quarantined), and a file of which
    # nothing was kept exits 2 (issue 16)
    output = " ".join(ok.output.split())
    assert ok.exit_code == 2 and "1 rows read = 0 kept + 1 quarantined" in output, ok.output
    assert "NOTHING KEPT" in output and "rows x" not in output


def test_ods_span_counts_repeats_up_to_the_last_cell_with_content(tmp_path, monkeypatch):
    """Exact spans: empty cells and rows before content count, repeated ones by their
    repeat, covered cells too; a tag cut by the 4 MiB read block is read whole."""
    from cargotrace.errors import InputError
    from cargotrace.ingest.readers.excel import ENV_MAX_SHEET_CELLS, check_sheet_spans

    rows = (HEADER_ROW + '<table:table-row table:number-rows-repeated="4"><table:table-cell/></table:table-row>'
            '<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="5"/>'
            '<table:covered-table-cell table:number-columns-repeated="2" office:value-type="float"/>'
            '<table:table-cell table:number-columns-repeated="9"/></table:table-row>')  # fmt: skip
    path = tmp_path / "exact.ods"
    _ods(path, rows)  # 1 + 4 + 3 = 8 rows; 5 + 2 = 7 columns: 56 cells
    monkeypatch.setenv(ENV_MAX_SHEET_CELLS, "56")
    check_sheet_spans(path, "exact.ods")
    monkeypatch.setenv(ENV_MAX_SHEET_CELLS, "55")
    with pytest.raises(InputError, match="8 rows x 7 columns = 56 cells"):
        check_sheet_spans(path, "exact.ods")

    padding = f"<table:table-row>{_text_cell('p' * ((1 << 22) - 700))}</table:table-row>"
    cut = tmp_path / "cut.ods"  # the repeated cell's tag straddles the first 4 MiB block
    _ods(cut, HEADER_ROW + padding + '<table:table-row table:number-rows-repeated="30">'
         + _text_cell("x", ' table:style-name="' + "s" * 800 + '" table:number-columns-repeated="2"') + "</table:table-row>")  # fmt: skip
    with pytest.raises(InputError, match="32 rows x 2 columns"):
        check_sheet_spans(cut, "cut.ods")


# Windows-1251 bytes of two- and three-byte UTF-8 characters («, », №, —, €, ‰) beside Cyrillic
SINGLE_BYTE_CELLS = ["Взрывчатые вещества «ВВ» № 5 — 10 ‰", "Уголь €", "", " ", "abc", "ёЁ"]


@pytest.mark.parametrize("encoding", ["cp1251", "koi8_r", "cp866"])
def test_binary_columns_are_transcoded_as_the_codec_decodes_them(encoding):
    """`single_byte.Transcoder`: ASCII columns as they are, columns of few distinct values
    through their distinct values, varied ones whole; slices and NULLs too."""
    import pyarrow as pa

    from cargotrace.ingest.readers.single_byte import Transcoder, single_byte

    assert single_byte(encoding) and not single_byte("utf-8") and not single_byte("utf-16")
    cells = [c for c in SINGLE_BYTE_CELLS if c.encode(encoding, "ignore").decode(encoding) == c]
    few = [cells[i % len(cells)] for i in range(600)]  # 6 distinct values in 600 rows
    varied = [f"{cells[i % len(cells)]}{i}" for i in range(600)]  # all distinct
    plain = [str(i) for i in range(600)]
    for name, values in (("few", few), ("varied", varied), ("plain", plain)):
        column = pa.array([v.encode(encoding) for v in values], pa.binary())
        for array in (column, column.slice(7, 300)):
            out = Transcoder(encoding).column(name, array)
            assert out.type == pa.string()
            assert out.to_pylist() == [b.decode(encoding) for b in array.to_pylist()]
        with_nulls = pa.array(
            [None if i % 5 == 0 else v.encode(encoding) for i, v in enumerate(values)]
        )
        out = Transcoder(encoding).column(name, with_nulls.slice(3))
        assert out.to_pylist() == [
            None if b is None else b.decode(encoding) for b in with_nulls.slice(3).to_pylist()
        ]


def test_a_byte_windows_1251_leaves_undefined_is_refused_with_its_line(tmp_path, monkeypatch):
    """The Arrow reader parses Windows-1251 as bytes; a byte the encoding does not define
    (0x98) is refused naming the line (by the exact reader, which the Arrow one hands the
    file to), as when the text was transcoded first."""
    from cargotrace.errors import InputError

    monkeypatch.setattr(csvread, "FAST_MIN_BYTES", 0)
    lines = [";".join(HEADER).encode("cp1251")] + [
        f"ЭА{i};уголь;Находка;{i}".encode("cp1251") for i in range(40)
    ]
    lines[31] = lines[31].replace(b";", b"\x98;", 1)  # the 32nd line
    path = tmp_path / "t.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    with pytest.raises(InputError) as raised:
        read_all(path, "cp1251", fast=True)
    assert raised.value.row == 32
    assert "not valid Windows-1251" in str(raised.value)
