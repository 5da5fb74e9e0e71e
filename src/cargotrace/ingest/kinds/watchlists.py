"""Watchlists into the case (contract §2 `watchlist`), whatever their layout.

`cargotrace ingest watchlist FILE` recognises the layout from the content: the OFAC SDN
legacy CSV, the UN consolidated list XML, FollowTheMoney JSON lines (OpenSanctions), or
the simple CSV `name, imo, mmsi, list, note` (read by the ordinary tabular path). Every
structured list writes one `watchlist` row per entry, as the simple CSV does, plus:

* `watchlist_lists`: the list's name, date (and how it was found), format, source file;
* `watchlist_entries`: entry id, schema, flag, call sign, INN/OGRN, programmes, vessel
  details (type, tonnage, build year, length), keyed by file and row;
* `watchlist_names`: every alias, weak alias and former name;
* `watchlist_links`: "Linked To", owner, operator and other relations to other entries.

Vessel identity files may also name owners, operators and managers in columns of their
own; those go to `vessel_parties` so the owners can be screened too.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import pyarrow as pa

from cargotrace.case.schema import TABLES
from cargotrace.case.store import Case
from cargotrace.errors import InputError
from cargotrace.ingest.kinds.identities import VESSELS
from cargotrace.ingest.kinds.list_formats import ListFile, read_list, sniff_format
from cargotrace.ingest.loader import ingest_tabular
from cargotrace.ingest.readers.tabular import RawChunk, TableSource
from cargotrace.ingest.types import ChunkContext, IngestResult, Mapping, Progress, TabularKind

SIDE_TABLES = (
    "watchlist_lists",
    "watchlist_entries",
    "watchlist_names",
    "watchlist_links",
    "vessel_parties",
    "vessel_details",
)
_HEADERS = ["name", "imo", "mmsi", "list", "note", "schema", "entry_id"]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the screening source tables in a case made before they existed."""
    for name in SIDE_TABLES:
        con.execute(TABLES[name].ddl())
    # vessel type, tonnage, build year, length (JSON), added after the first cases were made
    con.execute("ALTER TABLE watchlist_entries ADD COLUMN IF NOT EXISTS vessel_details VARCHAR")


def watchlist_format(path: Path) -> str:
    return sniff_format(path)


def load_watchlist(
    case: Case,
    spec: TabularKind,
    path: Path,
    mapping: Mapping,
    result: IngestResult,
    progress: Progress | None,
) -> None:
    """Read a structured list and load it: one `watchlist` row per entry, side tables for the rest."""
    ensure_tables(case.con)
    try:
        listed = read_list(path)
    except ElementTree.ParseError as exc:
        raise InputError(f"not well-formed XML ({exc})", file=str(path)) from None
    except (
        ValueError,
        csv.Error,
        UnicodeDecodeError,
        LookupError,
    ) as exc:  # LookupError: unknown XML encoding
        raise InputError(f"cannot read the watchlist: {exc}", file=str(path)) from None
    columns: list[list[str | None]] = [[] for _ in _HEADERS]
    rows: list[int] = []
    for entry in listed.entries:
        values = [entry.name or None, entry.imo, entry.mmsi, ", ".join(entry.datasets) or listed.name,
                  entry.note[:2000] if entry.note else None, entry.schema, entry.entry_id]  # fmt: skip
        for column, value in zip(columns, values, strict=True):
            column.append(value)
        rows.append(entry.row)
    arrays = {f"c{i}": pa.array(col, pa.string()) for i, col in enumerate(columns)}
    arrays["_row"] = pa.array(rows, pa.int64())
    chunk = RawChunk(list(_HEADERS), pa.table(arrays), listed.rejected, listed.skipped)
    ingest_tabular(
        case,
        spec,
        path,
        TableSource(path, listed.format, header_row=0),
        [chunk],
        mapping,
        result,
        progress,
    )
    kept = {
        r[0]
        for r in case.con.execute(
            "SELECT source_row FROM watchlist WHERE file_hash = ?", [result.file_hash]
        ).fetchall()
    }
    _write_side_tables(case.con, listed, kept, result.file_hash, path.name)
    result.detail.update({
        "format": listed.format, "list": listed.name,
        "published": listed.published.isoformat() if listed.published else None,
        "date_source": listed.date_source, **listed.detail,
        "note": "rows are list entries; link and sanction records, and later lines of an entity id already "
                "read (fragments, merged into it), are folded into the entries they name and counted as skipped"
                if listed.format == "ftm-jsonl" else "rows are list entries",
    })  # fmt: skip


def _write_side_tables(
    con: duckdb.DuckDBPyConnection, listed: ListFile, kept: set[int], digest: str, file_name: str
) -> None:
    entries: list[tuple[object, ...]] = []
    names: list[tuple[object, ...]] = []
    links: list[tuple[object, ...]] = []
    for e in listed.entries:
        if e.row not in kept:
            continue
        entries.append((digest, e.row, e.entry_id, ", ".join(e.datasets) or listed.name, e.schema, e.name, e.imo,
                        int(e.mmsi) if e.mmsi and e.mmsi.isdigit() else None, e.flag,
                        ",".join(e.past_flags) or None, e.call_sign, e.inn, e.ogrn,
                        "; ".join(e.programs) or None, e.listed_on,
                        json.dumps(e.vessel_details(), sort_keys=True) if e.vessel_details() else None))  # fmt: skip
        names.extend((digest, e.row, name, kind) for name, kind in e.names())
        links.extend((digest, e.row, link.relation, link.name, link.entry_id) for link in e.links)
    insert_rows(con, "watchlist_entries", entries)
    insert_rows(con, "watchlist_names", names)
    insert_rows(con, "watchlist_links", links)
    con.execute(
        "INSERT INTO watchlist_lists VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [digest, listed.name, listed.format, listed.published, listed.date_source, file_name, len(entries),
         json.dumps(listed.detail, ensure_ascii=False)],
    )  # fmt: skip


def insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[tuple[object, ...]]
) -> None:
    """Bulk insert through Arrow (executemany is row by row in DuckDB)."""
    if not rows:
        return
    columns = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [table]
    ).fetchall()]  # fmt: skip
    data = pa.table({f"c{i}": pa.array([r[i] for r in rows]) for i in range(len(columns))})
    con.register("_bulk_rows", data)
    try:
        selected = ", ".join(f"c{i}" for i in range(len(columns)))
        con.execute(f"INSERT INTO {table} SELECT {selected} FROM _bulk_rows")
    finally:
        con.unregister("_bulk_rows")


# --------------------------------------------------------------------------- vessel parties

_PARTY_HEADER = re.compile(
    r"owner|operator|manager|charterer|владел|оператор|менеджер|фрахтовател", re.IGNORECASE
)


def _capture_parties(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """Owner/operator/manager columns of a vessels file (unmapped, so in `_attrs`)."""
    headers = [h for h in ctx.columns.unmapped if h and _PARTY_HEADER.search(h)]
    if not headers:
        return
    con.execute(TABLES["vessel_parties"].ddl())
    for header in headers:
        path = '$."' + header.replace("\\", "\\\\").replace('"', '\\"') + '"'
        con.execute(
            """INSERT INTO vessel_parties
               SELECT n.mmsi, n.imo, n.name, ?, trim(json_extract_string(s._attrs, ?)), ?, ?, ?, n._row
               FROM normalized n JOIN src s USING (_row)
               WHERE n._reason IS NULL AND nullif(trim(json_extract_string(s._attrs, ?)), '') IS NOT NULL""",
            [
                " ".join(header.lower().split()),
                path,
                ctx.file_hash,
                ctx.file_name,
                ctx.source.sheet,
                path,
            ],
        )


# header pattern -> vessel_details column; the number is the first one in the cell
_DETAIL_HEADERS = (
    ("length_m", r"^(length|loa|длина)([\W_]|$)"),  # length, length_m, LOA (m), длина, м
    ("build_year", r"(build|built|year of build|год постройки)"),
    ("tonnage_gt", r"(gross tonnage|^gt$|^grt$|gross registered|валовая)"),
)


def _capture_details(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """Length, build year and gross tonnage columns of a vessels file (unmapped, in `_attrs`)."""
    found: dict[str, str] = {}
    for column, pattern in _DETAIL_HEADERS:
        for h in ctx.columns.unmapped:
            if h and column not in found and re.search(pattern, h.strip().lower()):
                found[column] = h
    if not found:
        return
    con.execute(TABLES["vessel_details"].ddl())

    params: list[object] = []

    def value(column: str, cast: str) -> str:
        if column not in found:
            return "NULL"
        params.append('$."' + found[column].replace("\\", "\\\\").replace('"', '\\"') + '"')
        text = r"regexp_replace(json_extract_string(s._attrs, ?), '(\d)[, ](\d{3})\b', '\1\2', 'g')"
        number = rf"regexp_extract(replace({text}, ',', '.'), '\d+(\.\d+)?')"
        return f"TRY_CAST(nullif({number}, '') AS {cast})"

    selected = ", ".join(
        (value("length_m", "DOUBLE"), value("build_year", "INTEGER"), value("tonnage_gt", "DOUBLE"))
    )
    con.execute(
        f"""INSERT INTO vessel_details
            SELECT n.mmsi, n.imo, n.name, {selected}, ?, ?, ?, n._row
            FROM normalized n JOIN src s USING (_row) WHERE n._reason IS NULL""",
        [*params, ctx.file_hash, ctx.file_name, ctx.source.sheet],
    )


def _capture_vessel_side(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    _capture_parties(con, ctx)
    _capture_details(con, ctx)


VESSELS_WITH_PARTIES = replace(VESSELS, after=_capture_vessel_side)
