"""Hand-built OOXML workbooks for the XLSX guards (tests/test_safety_hostile_files.py):
a minimal valid workbook whose sheet body and shared strings are written by the caller,
streamed, so a member of a gigabyte costs a megabyte on disk and no memory."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{REL}">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
HEADER = ("Номер накладной", "Дата отправления", "Вес груза, кг")
# the header as shared strings 0-2, a first record as strings 3-5
STRINGS = (*HEADER, "W1", "03.09.2023", "100")
ROWS = (
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
    '<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="s"><v>4</v></c><c r="C2" t="s"><v>5</v></c></row>'
)

Writer = Callable[[IO[bytes]], None]


def _member(book: zipfile.ZipFile, name: str, head: str, body: Writer, tail: str) -> None:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with book.open(info, "w", force_zip64=True) as out:
        out.write(head.encode())
        body(out)
        out.write(tail.encode())


def workbook(
    path: Path,
    rows: Writer = lambda out: out.write(ROWS.encode()),
    strings: Writer | None = None,
) -> Path:
    """A one-sheet workbook: `rows` writes the inside of <sheetData>, `strings` the <si>
    items after the six of STRINGS (the header and one record)."""
    items = "".join(f"<si><t>{s}</t></si>" for s in STRINGS)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/workbook.xml", WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        _member(book, "xl/worksheets/sheet1.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>',
                rows, "</sheetData></worksheet>")  # fmt: skip
        _member(book, "xl/sharedStrings.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}">{items}',
                strings or (lambda out: None), "</sst>")  # fmt: skip
    return path
