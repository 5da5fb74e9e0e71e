"""What every kind of input shares: the mapping a user gives, the result of one file, the
context a kind's SQL sees, and the description of a tabular kind. No imports from the rest
of `ingest`, so every module can import it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import duckdb
import pyarrow as pa

from cargotrace.errors import InputError
from cargotrace.ingest.readers.headers import ColumnMap, Field
from cargotrace.ingest.readers.tabular import TableSource
from cargotrace.sql import sql_str as sql_str  # shared with case/ (which may not import ingest/)

Progress = Callable[[int], None]


@runtime_checkable
class ByteProgress(Protocol):
    """A progress callback that can also show bytes: `progress(n)` advances the row count
    by n; `start_bytes(total)` and `bytes_read(done)` drive a bar over the file size on
    disk (compressed size for .gz input), which gives the time left."""

    def __call__(self, n: int) -> None: ...

    def start_bytes(self, total: int) -> None: ...

    def bytes_read(self, done: int) -> None: ...


Stage = Callable[[str, int, int], None]  # (what, step, steps) of the pass after the reading


@runtime_checkable
class StageProgress(Protocol):
    """A progress callback that also shows the pass after a file is read (duplicates,
    stations, the append, the commit: minutes for a big AIS file):
    `stage(what, step, steps)` starts step `step` of `steps`."""

    def __call__(self, n: int) -> None: ...

    def stage(self, what: str, step: int, steps: int) -> None: ...


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
    # (streaming kinds: and `chunk_bad`, the refused rows' `_row, _reason, _column`)
    dedupe_against_table: bool = False
    # (table, SQL condition over `normalized`): kept rows meeting the condition go to that
    # table (its columns by name) instead of `table`; they count as kept (non-streaming kinds)
    split: tuple[str, str] | None = None
    # Streaming kinds (big, mostly clean files): `src` and the SELECT are views over the
    # chunk, nothing is copied before the insert, `_raw` (all cells as JSON) is built for
    # quarantined rows only (the SELECT must not use it), `_attrs` is NULL when every
    # unmapped cell is empty, and CSV goes through Arrow's parser when the file is regular.
    # `transform` adds derived columns to `src`; `reasons` is a cheap SELECT of `_row,
    # _reason, _column` for the refused rows (else `select` is used); `after` runs once
    # those are in `chunk_bad` (reading `normalized` computes the SELECT again: read `src`
    # and `chunk_bad` where it can, and keep it to an aggregate).
    # See `stream_load.py`.
    stream: bool = False
    transform: Transform | None = None
    reasons: SelectBuilder | None = None
    # Kept rows go to this temp table (shaped like `table`, file_hash and source_file left
    # NULL) and the kind's finish moves them into `table` at the end of the file.
    stage: str | None = None
    # Streaming kinds: a temp table of the chunk's `_row`s that its `after` kept out of
    # `table` (stored elsewhere, or dropped as copies: the kind's finish counts them).
    set_apart: str | None = None
    # Streaming kinds whose finish drops repeated rows by their own key may skip the hash of
    # every row (the dearest step of a chunk): refused rows are then deduplicated at the end.
    row_hashes: bool = True
    # Streaming kinds: each chunk typed (`transform`, row hashes) on the thread that reads
    # the next one (`stream_load.typed_ahead`); `transform` then runs on a cursor, outside
    # the file's transaction.
    type_ahead: bool = False
    # Kinds whose SELECT runs ahead (`stream_load.selects_ahead`) may split it: `copied`
    # (target column -> the `src` column it is, unchanged) and `computed` (a SELECT over
    # `src` of the other target columns, `_row`, `_reason`, `_column`); the chunk's copied
    # columns are then handed over as they are, not copied out of DuckDB. `select` must
    # give the same columns (build both from the same parts).
    copied: dict[str, str] | None = None
    computed: SelectBuilder | None = None
    # ... and `stored`: a select list of the target columns the insert works out, over the
    # copied and computed columns, the unmapped cells, `_attrs` and `stored_inputs` (the
    # columns of `src` it reads besides): those as wide as the row (the JSON of its cells),
    # which held ahead would take a chunk's memory again (the peak of a wide register)
    stored: SelectBuilder | None = None
    stored_inputs: tuple[str, ...] = ()
    # DuckDB's share while a file of this kind loads, when the user set none
    # (CARGOTRACE_MEMORY_LIMIT): the reader's chunks and Arrow live beside it (`loader`).
    memory_limit: str | None = None
