"""What became of a file's rows, for the summary under an ingest's counts: the quarantined
rows by reason, the top (reason, column) groups with the first row of each as an example,
the hint an investigator needs when a whole file was refused (a wrong date format, a wrong
column, a wrong delimiter), and what the kept rows of an AIS file are (positions, identity
reports, stations that are not vessels)."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from cargotrace.case.quarantine import counted_sql

TOP_GROUPS = 5

# The likely cause of a refusal that covers a whole file, and what to check.
_DATE = 'check date_format in the mapping (a strptime format such as "%d.%m.%Y")'
HINTS = {
    "bad_date": _DATE,
    "implausible_date": _DATE,
    "no_timestamp": "check which column holds the time and its format ([columns] and date_format in the mapping)",
    "implausible_timestamp": _DATE,
    "missing_date": "check which column holds the date ([columns] in the mapping)",
    "bad_weight": "check the weight column and its unit (units.weight in the mapping)",
    "unknown_weight_unit": 'give the unit in the mapping (units.weight = "kg" or "t")',
    "missing_waybill": "check which column holds the waybill ([columns] waybill = ... in the mapping)",
    "no_position": "check which columns hold lat and lon ([columns] in the mapping)",
    "impossible_position": "check which columns hold lat and lon (swapped? [columns] in the mapping)",
    "null_island": "the file's positions are all 0,0: a receiver without a fix, or the wrong columns",
    "wrong_field_count": "check the delimiter (delimiter = ... in the mapping)",
}
DEFAULT_HINT = "check the column mapping (`cargotrace ingest --dry-run` shows how the file is read)"


def refusals(
    con: duckdb.DuckDBPyConnection,
    file_hash: str,
    columns: dict[str, str] | None = None,
    cells: bool = True,
) -> dict[str, Any]:
    """`by_reason` ({reason: rows}, most first) and `top`: the largest (reason, column)
    groups with their rows and the first row of each (row number and the cell as written).
    `columns` maps field names to the file's headers (the raw cells are keyed by header).
    `cells` False: a file whose raw rows are not cells (an NMEA log's sentences), no
    example value (nor the reading of the texts for it)."""
    counted = counted_sql(con)
    first_raw = "arg_min(raw, source_row)" if cells else "NULL"
    by_reason = con.execute(
        f"SELECT reason, sum(rows) FROM {counted} WHERE file_hash = ? GROUP BY 1 ORDER BY 2 DESC, 1",
        [file_hash],
    ).fetchall()
    groups = con.execute(
        f"""SELECT reason, column_name, sum(rows), min(source_row), {first_raw}
           FROM {counted} WHERE file_hash = ? GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT ?""",
        [file_hash, TOP_GROUPS],
    ).fetchall()
    top = []
    for reason, column, rows, row, raw in groups:
        header = (columns or {}).get(column, column) if column else None
        top.append(
            {"reason": reason, "column": header, "rows": int(rows), "example_row": row,
             "example_value": _cell(raw, header, column)}
        )  # fmt: skip
    return {"by_reason": {str(r): int(n) for r, n in by_reason}, "top": top}


def _cell(raw: str | None, header: str | None, field: str | None) -> str | None:
    """The refused cell as written (the raw row is JSON keyed by header), if it can be found."""
    if not raw or not (header or field):
        return None
    try:
        cells = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(cells, dict):
        return None
    for key in (header, field):
        if key in cells and cells[key] is not None:
            return str(cells[key])
    return None


# An NMEA log has no columns to map: its times come from tag blocks or a time column.
NMEA_HINTS = {
    "no_timestamp": "the log gives no time (no tag block with a c: field, no leading epoch or "
    "ISO time column); positions need one",
    "implausible_timestamp": "the log's times cannot be AIS times (a tag block c:0 is 1970)",
}


def hint(reason: str, file_format: str | None = None) -> str:
    """What to check when `reason` refused a whole file (`file_format` "nmea": a raw log)."""
    if file_format == "nmea" and reason in NMEA_HINTS:
        return NMEA_HINTS[reason]
    return HINTS.get(reason, DEFAULT_HINT)


def kept_as(positions: int, stations: int, rows_kept: int) -> dict[str, int]:
    """An AIS file's kept rows by what they became: `positions` (vessel tracks), `stations`
    (table `ais_stations`) and `identity_reports`, the rest: static messages (types 5, 19,
    24) of an NMEA log, which hold a vessel's identity and no position (`vessel_reports`).
    The counts come from the file's own passes (`ais_clean`), not from a scan of the case."""
    identity = max(rows_kept - positions - stations, 0)
    return {"positions": positions, "identity_reports": identity, "stations": stations}
