"""What an OOXML workbook (.xlsx, .xlsm) would cost to read, found before calamine reads it.

calamine turns a sheet into a dense grid from A1 to its farthest cell and holds every shared
string in memory: a 2 KB file with one cell at XFD1048576 asks for 17 billion cells (the
process aborts), a 1 MB file holding one 1 GiB shared string takes gigabytes. So each XML
member is read here first, streamed through expat (a real XML parser: any quoting, any
namespace prefix, entities as XML defines them) in 1 MiB blocks, and the workbook is refused
with a clear message when

* a sheet spans more cells than `MAX_SHEET_CELLS` (rows x columns from A1 to its farthest
  cell, counting cells and rows without an `r` reference where they fall, as calamine does);
* one shared or inline string is longer than Excel's 32,767 characters per cell;
* the text a sheet's cells expand to (shared strings counted at every use) exceeds
  `MAX_SHEET_TEXT_CHARS`, or the shared strings together do;
* a member decompresses to more than `MAX_MEMBER_BYTES`, holds a tag longer than
  `MAX_TAG_BYTES`, declares a DTD or entities (OOXML has none), or is damaged.

The limits can be raised for a genuine workbook through the environment (names below).
"""

from __future__ import annotations

import os
import re
import zipfile
from array import array
from pyexpat import ExpatError, ParserCreate
from typing import Any

from cargotrace.errors import InputError

MAX_SHEET_CELLS = 20_000_000  # 1,048,576 rows (Excel's most) x 19 columns
ENV_MAX_SHEET_CELLS = "CARGOTRACE_MAX_SHEET_CELLS"
MAX_CELL_CHARS = 32_767  # Excel's own limit for the text of one cell
MAX_SHEET_TEXT_CHARS = 1 << 30
ENV_MAX_SHEET_TEXT = "CARGOTRACE_MAX_SHEET_TEXT"
MAX_MEMBER_BYTES = 4 << 30
ENV_MAX_MEMBER_BYTES = "CARGOTRACE_MAX_XLSX_MEMBER_BYTES"
MAX_TAG_BYTES = 16 << 20
BLOCK_BYTES = 1 << 20
_DIGITS = "0123456789"
_REF = re.compile(r"\s*([A-Za-z]{1,3})?([0-9]{1,10})?\s*", re.ASCII)
_SHEET_ROOTS = {"worksheet", "dialogsheet", "chartsheet", "macrosheet"}
_READ_BY_CALAMINE = {"workbook", "styleSheet", "Relationships", "Types", "table"}


def _limit(env: str, default: int) -> int:
    text = os.environ.get(env, "").strip()
    return int(text) if text.isdigit() else default


def max_sheet_cells() -> int:
    return _limit(ENV_MAX_SHEET_CELLS, MAX_SHEET_CELLS)


def refuse_span(sheet: str, rows: int, columns: int, limit: int, name: str) -> None:
    if rows * columns > limit:
        raise InputError(
            f"sheet {sheet} spans {rows:,} rows x {columns:,} columns "
            f"= {rows * columns:,} cells from A1 to its farthest cell, beyond the {limit:,} this "
            f"reader holds (set {ENV_MAX_SHEET_CELLS} higher if the sheet is genuine, or export it as CSV)",
            file=name,
        )


def _letters(column: int) -> str:
    """Column letters of a column number (1 = A, 27 = AA)."""
    text = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        text = chr(65 + rest) + text
    return text


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


class _Member:
    """One XML member, streamed through expat. Its root element decides what is counted:
    the length of every string of the shared strings (`sst`), or the span and the text of a
    sheet. On sheets only the start of each element is seen (a call per element, no more),
    and the text of a `<v>` only in shared-string cells (`t="s"`), where it is the index."""

    def __init__(
        self, guard: _Guard, member: str, probe: bool = False, exact: bool = False
    ) -> None:
        self.guard, self.member, self.probe = guard, member, probe
        self.root: str | None = None
        self.sheet = member.rsplit("/", 1)[-1]
        self.names: dict[str, str] = {}  # element name -> local name (prefixes vary)
        self.in_data = False
        self.row = self.rows = self.column = self.columns = 0
        self.text_chars = 0
        self.rows_text = "0"  # `rows` as text, for quick comparisons
        self.columns_text = ""  # `columns` as letters, likewise
        self.column_letters: str | None = None  # the last cell's column, not yet a number
        self.shared_cells = 0  # cells holding a shared string
        self.exact = exact  # add up the length of each shared-string cell's text
        self.shared_cell = False  # the open cell holds a shared string, counted exactly
        self.index: list[str] | None = None  # the text of its <v>, being read
        self.string_chars = -1  # length of the open <si> of the shared strings
        self.in_t = False
        self.parser = ParserCreate()
        self.parser.buffer_text = False
        self.parser.StartElementHandler = self.first
        self.parser.StartDoctypeDeclHandler = self.doctype
        self.parser.EntityDeclHandler = self.doctype
        self.last_event = 0

    def fail(self, message: str) -> InputError:
        return InputError(f"{self.member}: {message}", file=self.guard.name)

    def doctype(self, *_args: Any) -> None:
        raise self.fail("declares a DTD or entities, which a workbook never does")

    def local(self, name: str) -> str:
        tag = self.names.get(name)
        if tag is None:
            tag = self.names[name] = name.rpartition(":")[2]
        return tag

    # -------------------------------------------------------------- events
    def first(self, name: str, attrs: dict[str, str]) -> None:
        """The root element: choose what to look at."""
        self.root = self.local(name)
        handler = None
        if self.probe:
            pass
        elif self.root == "sst":
            handler = self.start_sst
            self.parser.EndElementHandler = self.end_sst
            self.parser.CharacterDataHandler = self.text_sst
        elif self.root in _SHEET_ROOTS:
            handler = self.start_sheet
        else:
            handler = self.start_other
        self.parser.StartElementHandler = handler

    def start_other(self, name: str, attrs: dict[str, str]) -> None:
        self.last_event = self.parser.CurrentByteIndex

    def start_sst(self, name: str, attrs: dict[str, str]) -> None:
        self.last_event = self.parser.CurrentByteIndex
        tag = self.local(name)
        if tag == "si":
            self.string_chars = 0
        elif tag == "t":
            self.in_t = True

    def end_sst(self, name: str) -> None:
        self.last_event = self.parser.CurrentByteIndex
        tag = self.local(name)
        if tag == "t":
            self.in_t = False
        elif tag == "si":
            self.guard.add_shared(self.string_chars, self)
            self.string_chars = -1

    def text_sst(self, data: str) -> None:
        if self.in_t and self.string_chars >= 0:
            self.string_chars += len(data)
            if self.string_chars > MAX_CELL_CHARS:
                raise self.fail(
                    f"a string of more than {MAX_CELL_CHARS:,} characters, beyond what a cell "
                    "of Excel holds; the workbook is not genuine or is damaged"
                )

    def start_sheet(self, name: str, attrs: dict[str, str]) -> None:
        """Called for every element of a sheet: kept to the few steps each cell needs."""
        tag = self.names.get(name) or self.local(name)
        if tag == "c":
            if not self.in_data:
                return
            ref = attrs.get("r")
            if ref is None:
                self.column = self._column() + 1
                if self.column > self.columns:
                    self.columns, self.columns_text = self.column, _letters(self.column)
                    self._check_span()
            else:
                self._cell_ref(ref)
            if attrs.get("t") == "s":
                self.shared_cells += 1
                self.shared_cell = self.exact
        elif tag == "v":
            if self.shared_cell and self.in_data:
                self.index = []
                self.parser.CharacterDataHandler = self.index_text
        elif self.index is not None:
            self._shared_cell_done()
        if tag == "row":
            self.last_event = self.parser.CurrentByteIndex
            if not self.in_data:
                return
            text = attrs.get("r", "").strip()
            number = int(text) if text.isdigit() and len(text) <= 10 else None
            self.row = number if number is not None else self.row + 1
            self.column, self.column_letters = 0, None
            if self.row > self.rows:
                self.rows, self.rows_text = self.row, str(self.row)
                self._check_span()
        elif tag == "sheetData":
            self.in_data = True

    def _cell_ref(self, ref: str) -> None:
        """Column and row of a cell reference such as `AB12`. The maxima are compared as
        text first (same length: text order is number order); numbers only when bigger."""
        letters = ref.rstrip(_DIGITS)
        row = ref[len(letters) :]
        if not (
            0 < len(letters) <= 3 and letters.isascii() and letters.isalpha() and letters.isupper()
        ):
            match = _REF.fullmatch(ref)  # unusual: spaces, lower case, no letters
            found = match.group(1).upper() if match and match.group(1) else None
            row = match.group(2) if match and match.group(2) else ""
            self.column = _column_number(found) if found else self._column() + 1
            self.column_letters = None
            if self.column > self.columns:
                self.columns, self.columns_text = self.column, _letters(self.column)
                self._check_span()
        else:
            self.column_letters = letters
            top = self.columns_text
            if len(letters) > len(top) or (len(letters) == len(top) and letters > top):
                self.columns, self.columns_text = _column_number(letters), letters
                self._check_span()
        top = self.rows_text
        if row and (len(row) > len(top) or (len(row) == len(top) and row > top)):
            number = int(row) if row.isdigit() else 0
            if number > self.rows:
                self.rows, self.rows_text = number, str(number)
                self._check_span()

    def _column(self) -> int:
        """The column of the last cell (its number found from its letters only now)."""
        if self.column_letters is not None:
            self.column, self.column_letters = _column_number(self.column_letters), None
        return self.column

    def index_text(self, data: str) -> None:
        assert self.index is not None
        self.index.append(data)
        if len(self.index) > 32:
            raise self.fail("a shared-string cell whose index is not a number")

    def _shared_cell_done(self) -> None:
        assert self.index is not None
        text = "".join(self.index).strip()
        self.index = None
        self.shared_cell = False
        self.parser.CharacterDataHandler = None
        self.text_chars += self.guard.shared_length(text)
        if self.text_chars > self.guard.text_limit:
            raise self.text_error()

    def text_error(self) -> InputError:
        return self.fail(
            f"the sheet's cells hold more than {self.guard.text_limit:,} characters of text "
            f"(shared strings counted at every use); set {ENV_MAX_SHEET_TEXT} higher if the "
            "sheet is genuine, or export it as CSV"
        )

    def _check_span(self) -> None:
        refuse_span(self.sheet, self.rows, self.columns, self.guard.cells, self.guard.name)

    # -------------------------------------------------------------- reading
    def read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, only_root: bool) -> None:
        """Parse the member (only up to its root element when `only_root`)."""
        fed = 0
        try:
            with archive.open(info) as handle:
                while block := handle.read(BLOCK_BYTES):
                    fed += len(block)
                    if fed > self.guard.member_bytes:
                        raise self.fail(
                            f"decompresses to more than {self.guard.member_bytes:,} bytes; set "
                            f"{ENV_MAX_MEMBER_BYTES} higher if the workbook is genuine, or export "
                            "it as CSV"
                        )
                    self.parser.Parse(block, False)
                    if only_root and self.root is not None:
                        return
                    if fed - max(self.last_event, 0) > MAX_TAG_BYTES + BLOCK_BYTES:
                        raise self.fail(
                            f"holds a tag or text longer than {MAX_TAG_BYTES:,} bytes, "
                            "which no genuine workbook does"
                        )
                self.parser.Parse(b"", True)
        except ExpatError as exc:
            raise self.fail(f"is not well-formed XML ({exc}); the workbook is damaged") from None
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise InputError(
                f"the workbook is damaged ({self.member}: {exc}); open and save it again in a "
                "spreadsheet program, or export the sheet as CSV",
                file=self.guard.name,
            ) from None
        if self.index is not None:
            self._shared_cell_done()
        if self.root in _SHEET_ROOTS:
            self._check_span()


class _Guard:
    def __init__(self, name: str) -> None:
        self.name = name
        self.cells = max_sheet_cells()
        self.text_limit = _limit(ENV_MAX_SHEET_TEXT, MAX_SHEET_TEXT_CHARS)
        self.member_bytes = _limit(ENV_MAX_MEMBER_BYTES, MAX_MEMBER_BYTES)
        self.tables: list[array[int]] = []  # per shared-strings member: lengths by index
        self.shared_total = 0

    def add_shared(self, chars: int, member: _Member) -> None:
        self.tables[-1].append(chars)
        self.shared_total += chars
        if self.shared_total > self.text_limit:
            raise member.fail(
                f"the shared strings hold more than {self.text_limit:,} characters; set "
                f"{ENV_MAX_SHEET_TEXT} higher if the workbook is genuine, or export it as CSV"
            )

    def shared_length(self, index_text: str) -> int:
        """The length of a shared string (the longest, should several members hold them)."""
        if not index_text.isdigit():
            return 0  # calamine reports a bad index itself
        index = int(index_text)
        return max((t[index] for t in self.tables if index < len(t)), default=0)


def check_ooxml(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse an OOXML workbook that would take more than the limits above to read."""
    guard = _Guard(name)
    members = [i for i in archive.infolist() if i.filename.lower().endswith((".xml", ".rels"))]
    sheets: list[zipfile.ZipInfo] = []
    for info in members:  # shared strings first: the sheets' text is counted through them
        probe = _Member(guard, info.filename, probe=True)
        probe.read(archive, info, only_root=True)
        if probe.root == "sst":
            guard.tables.append(array("q"))
            _Member(guard, info.filename).read(archive, info, only_root=False)
        elif probe.root in _SHEET_ROOTS:
            sheets.append(info)
        elif probe.root in _READ_BY_CALAMINE:  # other members (pivot caches...) are never read
            _Member(guard, info.filename).read(archive, info, only_root=False)
    longest = max((max(t, default=0) for t in guard.tables), default=0)
    for info in sheets:
        sheet = _Member(guard, info.filename)
        sheet.read(archive, info, only_root=False)
        if sheet.shared_cells * longest > guard.text_limit:  # may be too much: count exactly
            _Member(guard, info.filename, exact=True).read(archive, info, only_root=False)
