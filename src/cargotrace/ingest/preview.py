"""`cargotrace ingest KIND FILE --dry-run`: how a file would be read, and nothing written.

The first rows of each sheet go through the real pipeline (the same readers, mapping, SQL
and quarantine rules) in a throw-away in-memory database, so what the preview shows is
what `ingest` would do with those rows. When a case is named, it is attached read-only to
say whether the file was ingested before and how many of the previewed rows the case holds
already (they would be dropped as exact duplicates).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import duckdb

from cargotrace.case.schema import create_statements
from cargotrace.case.store import DB_NAME, Case
from cargotrace.ingest.kinds import position_appends
from cargotrace.ingest.kinds.ais_clean import begin_file
from cargotrace.ingest.loader import ingest_parts
from cargotrace.ingest.readers.sources import ENCODING_NAMES, file_hash
from cargotrace.ingest.readers.tabular import read_parts
from cargotrace.ingest.summary import skipped_phrase
from cargotrace.ingest.types import IngestResult, Mapping, TabularKind
from cargotrace.sql import sql_str

PREVIEW_ROWS = 1000  # rows of each sheet run through the pipeline
SHOWN_ROWS = 10  # rows printed
_SHOWN = {
    "shipments": ["waybill", "record", "departed_on", "arrived_on", "origin_station", "origin_esr", "destination_station",
                  "destination_esr", "cargo", "cargo_class", "weight_t", "consignor", "consignee", "wagon", "flags", "attributes"],
}  # fmt: skip


def dry_run(
    spec: TabularKind, path: Path, mapping: Mapping, case_dir: Path | None = None
) -> IngestResult:
    """Read the first rows of `path` as `ingest` would; `detail["preview"]` says what happened."""
    hint = set().union(*(f.keys() for f in spec.fields))
    parts = read_parts(path, sheet=mapping.sheet, header_row=mapping.header_row, header_hint=hint,
                       chunk_rows=PREVIEW_ROWS, encoding=mapping.encoding, delimiter=mapping.delimiter)  # fmt: skip
    limited = [(source, itertools.islice(chunks, 1)) for source, chunks in parts]
    result = IngestResult(path, spec.kind, file_hash(path))
    con = duckdb.connect()
    try:
        for statement in create_statements():
            con.execute(statement)
        case = Case(
            case_dir if case_dir is not None else Path("<no case>"), con, None
        )  # its vocabulary, if any
        con.execute("BEGIN TRANSACTION")
        begin_file(con, spec.kind)  # AIS positions wait in a stage: shown from there
        ingest_parts(case, spec, path, limited, mapping, result, None)
        if spec.set_apart == position_appends.SET_APART:
            # a position CSV's station reports and copies wait for the file's finish to be
            # counted: without them the preview's counts did not add up to the rows read
            in_file, of_case, stations = position_appends.finish(con, result.file_hash)
            result.rows_kept += sum(stations.values())
            result.rows_duplicate += in_file + of_case
            result.detail["not_vessels"] = stations
        shown = _SHOWN.get(spec.kind)
        columns = ", ".join(shown) if shown else "*"
        kept = _rows(
            con,
            f"SELECT source_row AS row, sheet, {columns} FROM {spec.stage or spec.table} ORDER BY sheet, source_row LIMIT {SHOWN_ROWS}",
        )
        refused = _rows(
            con,
            f"SELECT source_row AS row, sheet, reason, column_name, raw FROM quarantine ORDER BY sheet, source_row LIMIT {SHOWN_ROWS}",
        )
        reasons = _rows(
            con,
            "SELECT reason, count(*) AS rows FROM quarantine GROUP BY reason ORDER BY rows DESC, reason",
        )
        in_case = _against_case(con, spec, case_dir, result.file_hash)
    finally:
        _discard(con)
    source = parts[0][0]
    result.detail.update({
        "format": source.format, "encoding": source.encoding, "delimiter": source.delimiter,
        "sheet": source.sheet, "header_row": source.header_row,
        "preview": {"kept": kept, "quarantined": refused, "reasons": reasons, "rows_previewed": result.rows_read,
                    **in_case},
    })  # fmt: skip
    return result


def _against_case(
    con: duckdb.DuckDBPyConnection, spec: TabularKind, case_dir: Path | None, digest: str
) -> dict[str, Any]:
    """Whether the case knows the file, and how many previewed rows it holds already."""
    if case_dir is None or not (case_dir / DB_NAME).exists():
        return {}
    try:
        con.execute(f"ATTACH {sql_str(str(case_dir / DB_NAME))} AS existing (READ_ONLY)")
    except duckdb.Error:  # being written by another process, or damaged: say so, go on
        return {
            "case_note": "the case could not be read now (busy or damaged); duplicates not checked"
        }
    # left attached until the preview's connection is discarded (_discard)
    known = con.execute("SELECT kind FROM existing.ledger WHERE file_hash = ?", [digest]).fetchone()
    found: dict[str, Any] = {"already_ingested_as": known[0] if known else None}
    # a case made before row hashes were numbers (schema 5) holds hex text: until it is
    # next opened for writing (and upgraded) its rows cannot be compared
    if _columns(con, "existing", spec.table).get("row_hash") == "UHUGEINT":
        found["rows_in_case"] = con.execute(
            f"SELECT count(*) FROM {spec.table} WHERE row_hash IN (SELECT row_hash FROM existing.{spec.table})"
        ).fetchone()[0]  # type: ignore[index]
    return found


def _discard(con: duckdb.DuckDBPyConnection) -> None:
    """Roll the preview back, let go of the case, then close: closing a connection with an
    open transaction over an attached database crashed DuckDB 1.5 now and then (SIGSEGV in
    close, seen under load)."""
    for statement in ("ROLLBACK", "DETACH DATABASE IF EXISTS existing"):
        try:
            con.execute(statement)
        except duckdb.Error:
            pass  # no transaction open, or nothing attached
    con.close()


def _columns(con: duckdb.DuckDBPyConnection, database: str, table: str) -> dict[str, str]:
    """The table's columns and their types."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? AND table_name = ?",
        [database, table],
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def describe(result: IngestResult) -> list[str]:
    """The dry-run report of one file, as lines of plain text."""
    d = result.detail
    delimiter = {"\t": "tab", ";": "';'", ",": "','", "|": "'|'"}.get(
        d.get("delimiter") or "", repr(d.get("delimiter"))
    )
    lines = [f"{result.path.name} ({result.kind}) — dry run, nothing written"]
    lines.append(f"  format: {d.get('format')}" + (f", encoding: {ENCODING_NAMES.get(d.get('encoding') or '', d.get('encoding'))}" if d.get("encoding") else "")
                 + (f", delimiter: {delimiter}" if d.get("delimiter") else ""))  # fmt: skip
    for sheet in d.get("sheets") or [
        {
            "sheet": d.get("sheet"),
            "header_row": d.get("header_row"),
            "columns": d.get("columns", {}),
        }
    ]:
        where = f"sheet {sheet['sheet']!r}, " if sheet.get("sheet") else ""
        lines.append(f"  {where}header on row {sheet.get('header_row')}")
        for field, header in (sheet.get("columns") or {}).items():
            unit = (d.get("units") or {}).get(field)
            lines.append(f"    {field:<20} <- {header!r}" + (f" (unit {unit})" if unit else ""))
    if d.get("unmapped"):
        lines.append(f"  kept as attributes: {', '.join(repr(h) for h in d['unmapped'])}")
    for note in d.get("notes") or []:
        lines.append(f"  note: {note}")
    preview = d.get("preview", {})
    stations = sum((d.get("not_vessels") or {}).values())
    lines.append(
        f"  first {preview.get('rows_previewed', 0):,} rows: {result.rows_kept:,} would be kept"
        + (
            f" ({stations:,} of them station reports: table ais_stations, not tracks)"
            if stations
            else ""
        )
        + ", "
        f"{result.rows_quarantined:,} quarantined, {result.rows_duplicate:,} exact duplicates"
        + skipped_phrase(result, "blank lines")
    )
    for reason in preview.get("reasons", []):
        lines.append(f"    {reason['reason']}: {reason['rows']:,}")
    if preview.get("already_ingested_as"):
        lines.append(
            f"  this file is in the case already (as {preview['already_ingested_as']}): ingest would skip it"
        )
    elif preview.get("rows_in_case"):
        lines.append(f"  {preview['rows_in_case']:,} of the rows that would be kept are in the case already "
                     "(exact duplicates): ingest would drop them")  # fmt: skip
    if preview.get("case_note"):
        lines.append(f"  note: {preview['case_note']}")
    if preview.get("kept"):
        lines.append("  rows as parsed:")
        for row in preview["kept"]:
            values = {
                k: _text(v) for k, v in row.items() if k not in ("row", "sheet") and v is not None
            }
            lines.append(
                f"    row {row['row']}: " + "; ".join(f"{k}={v}" for k, v in values.items())
            )
    if preview.get("quarantined"):
        lines.append("  rows refused:")
        for row in preview["quarantined"]:
            column = f", column {row['column_name']}" if row.get("column_name") else ""
            lines.append(f"    row {row['row']}: {row['reason']}{column}: {row['raw']}")
    return lines


def _text(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
