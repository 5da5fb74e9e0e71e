"""Cleaning of AIS positions and vessel identity reports, run once per file at the end of
its ingest, inside the file's transaction, as set-based SQL over the file's rows.

Three passes, in this order:

1. **Duplicates** (`drop_duplicate_positions`). The same message heard by several
   receivers, or a file that repeats part of another, gives positions equal in
   (mmsi, timestamp, msg_type, lat, lon, sog, cog, heading); NULLs compare equal. Of the
   file's positions, those equal to a position of another file already in the case are
   dropped, and so is every copy after the first (in file order) within the file. Positions
   without a timestamp are never dropped (without a time, a repeat cannot be told from a
   new report). Dropped rows count as `rows_duplicate` in the ledger, so rows read = kept +
   quarantined + duplicates still holds.
2. **Implied speed** (`flag_implied_speeds`). Each fix (a position with time, lat and lon)
   gets `implied_speed_kn`: the great-circle distance from the fix before it of the same
   MMSI divided by the time between them (at least `MIN_DT_S`, the resolution of AIS
   times). Fixes are ordered by (timestamp, file_hash, source_row) over the whole case, so
   the answer does not depend on how the fixes were split into batches or files, nor on
   the order the files were ingested in: a file's fixes may fall between fixes already
   stored, so for every MMSI of the file the pass recomputes the span from the last stored
   fix before the file's first fix to the first stored fix after its last one, updating
   the stored fixes inside it too. A fix more than `MAX_SPEED_KN` from its predecessor, and
   more than `MIN_STEP_KM` away (GPS scatter between reports a second apart reaches such
   speeds over a few metres), gets `flags = 'impossible_speed'`. Nothing is dropped.
3. **Identity reports** (`check_identity_reports`). Rows of `vessel_reports` from the file
   without a flag get the flag their MMSI's MID implies (ship MMSIs only; `flag_source =
   'mid'`; a given flag is `'reported'`), and `flags` lists `imo_check_digit` (an IMO
   number that fails its check digit, or is not 7 digits, or is all zeros) and
   `mmsi_invalid` (reference/mid.py). Flagged rows are kept.

Between 1 and 2, stations that are not vessels (base stations, aids to navigation, SAR
aircraft) move to `ais_stations`, and the implied-speed pass also sets the `mmsi_invalid`
flag (`ais_rules`). Rows without a time or a possible position never got here: the
rules of `ais_rules` quarantined them before they were stored.

Not-available values (lat 91, lon 181, sog 102.3, cog 360, heading 511, IMO 0, empty
text) are already NULL here: the NMEA decoder and the position CSV SELECT null them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb

from cargotrace.ingest.ais_rules import mmsi_invalid_sql, refused_by_reason, separate_stations
from cargotrace.ingest.loader import IngestResult
from cargotrace.reference.geodesy import KM_PER_NM
from cargotrace.reference.mid import WITHOUT_MID, mmsi_kind_sql, mmsi_mid_sql
from cargotrace.sql import haversine_km

MAX_SPEED_KN = 50.0
MIN_STEP_KM = 0.5
MIN_DT_S = 1.0
KEY = ("mmsi", "timestamp", "msg_type", "lat", "lon", "sog", "cog", "heading")
_FIX = (
    "{p}timestamp IS NOT NULL AND {p}lat IS NOT NULL AND {p}lon IS NOT NULL AND {p}mmsi IS NOT NULL"
)


@dataclass
class CleanStats:
    duplicates_in_file: int = 0
    duplicates_of_case: int = 0
    impossible_speed: int = 0  # fixes of this file flagged
    impossible_speed_elsewhere: int = 0  # fixes of other files whose flag changed
    flags_from_mid: int = 0
    imo_invalid: int = 0
    mmsi_invalid: int = 0  # identity reports
    positions_mmsi_invalid: int = 0  # positions of the file whose MMSI cannot be a ship's


def imo_ok_sql(col: str) -> str:
    """SQL twin of `reference.checkdigits.imo_check_ok` (which accepts 0000000; this does not)."""
    weighted = " + ".join(f"CAST(substr({col}, {i + 1}, 1) AS INTEGER) * {7 - i}" for i in range(6))
    return (
        f"(CASE WHEN regexp_full_match({col}, '[0-9]{{7}}') AND {col} <> '0000000' "
        f"THEN ({weighted}) % 10 = CAST(substr({col}, 7, 1) AS INTEGER) ELSE false END)"
    )


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def drop_duplicate_positions(con: duckdb.DuckDBPyConnection, file_hash: str) -> tuple[int, int]:
    """Delete the file's duplicate positions; returns (within the file, of the case)."""
    key = ", ".join(KEY)
    same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM m.{c}" for c in KEY)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ais_mine AS
            SELECT rowid AS rid, source_row, {key} FROM positions WHERE file_hash = ? AND timestamp IS NOT NULL""",
        [file_hash],
    )
    # copies of another file's position (the whole case, within the file's time span), then
    # copies within the file: only keys seen twice are sorted
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ais_dupes AS
            WITH span AS (SELECT min(timestamp) AS lo, max(timestamp) AS hi FROM ais_mine),
            theirs AS (
                SELECT DISTINCT {key} FROM positions, span
                WHERE file_hash <> ? AND timestamp BETWEEN span.lo AND span.hi
            )
            SELECT m.rid, true AS in_case FROM ais_mine m SEMI JOIN theirs t ON {same}""",
        [file_hash],
    )
    con.execute(
        f"""INSERT INTO ais_dupes
            SELECT rid, false FROM (
                SELECT m.rid, row_number() OVER (PARTITION BY {", ".join(f"m.{c}" for c in KEY)}
                                                  ORDER BY m.source_row, m.rid) AS copy
                FROM ais_mine m SEMI JOIN (SELECT {key} FROM ais_mine GROUP BY ALL HAVING count(*) > 1) t
                     ON {same}
            ) WHERE copy > 1 AND rid NOT IN (SELECT rid FROM ais_dupes)"""
    )
    of_case = _count(con, "SELECT count(*) FROM ais_dupes WHERE in_case")
    in_file = _count(con, "SELECT count(*) FROM ais_dupes WHERE NOT in_case")
    if of_case or in_file:
        con.execute("DELETE FROM positions WHERE rowid IN (SELECT rid FROM ais_dupes)")
    con.execute("DROP TABLE ais_dupes")
    con.execute("DROP TABLE ais_mine")
    return in_file, of_case


def flag_implied_speeds(con: duckdb.DuckDBPyConnection, file_hash: str) -> tuple[int, int]:
    """Set implied_speed_kn and the impossible_speed flag over the span the file touches.

    Returns (fixes of the file flagged, fixes of other files whose flag changed)."""
    fix, fix_p = _FIX.format(p=""), _FIX.format(p="p.")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ais_span AS
            SELECT f.mmsi, f.t0, f.t1,
                   max(p.timestamp) FILTER (WHERE p.timestamp < f.t0) AS lo,
                   min(p.timestamp) FILTER (WHERE p.timestamp > f.t1) AS hi
            FROM (SELECT mmsi, min(timestamp) AS t0, max(timestamp) AS t1 FROM positions
                  WHERE file_hash = ? AND {fix} GROUP BY mmsi) f
            JOIN positions p ON p.mmsi = f.mmsi AND {fix_p}
            GROUP BY f.mmsi, f.t0, f.t1""",
        [file_hash],
    )
    step = haversine_km("prev.lat", "prev.lon", "lat", "lon")
    hours = f"greatest(epoch(timestamp) - epoch(prev.ts), {MIN_DT_S}) / 3600.0"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ais_speed AS
            WITH stepped AS (
                SELECT p.rowid AS rid, p.file_hash, CASE WHEN p.flags LIKE '%impossible_speed%' THEN 'impossible_speed' END AS old_flags, p.timestamp, p.lat, p.lon, s.lo,
                       lag(struct_pack(ts := p.timestamp, lat := p.lat, lon := p.lon)) OVER w AS prev
                FROM positions p JOIN ais_span s ON p.mmsi = s.mmsi
                     AND p.timestamp BETWEEN coalesce(s.lo, s.t0) AND coalesce(s.hi, s.t1)
                WHERE {fix_p}
                WINDOW w AS (PARTITION BY p.mmsi ORDER BY p.timestamp, p.file_hash, p.source_row)
            ), measured AS (
                SELECT rid, file_hash, old_flags, timestamp, prev, {step} AS step_km
                FROM stepped WHERE lo IS NULL OR timestamp > lo
            )
            SELECT rid, file_hash, old_flags, step_km / {KM_PER_NM} / ({hours}) AS speed,
                   CASE WHEN step_km / {KM_PER_NM} / ({hours}) > {MAX_SPEED_KN} AND step_km > {MIN_STEP_KM}
                        THEN 'impossible_speed' END AS flags
            FROM measured"""
    )
    con.execute(  # the MMSI's flag is recomputed with the speed's (ais_rules)
        f"""UPDATE positions SET implied_speed_kn = a.speed,
                  flags = nullif(concat_ws(',', CASE WHEN {mmsi_invalid_sql("positions.mmsi")} THEN 'mmsi_invalid' END,
                                           a.flags), '')
           FROM ais_speed a WHERE positions.rowid = a.rid"""
    )
    mine = _count(
        con, "SELECT count(*) FROM ais_speed WHERE file_hash = ? AND flags IS NOT NULL", [file_hash]
    )
    others = _count(
        con,
        "SELECT count(*) FROM ais_speed WHERE file_hash <> ? AND flags IS DISTINCT FROM old_flags",
        [file_hash],
    )
    con.execute("DROP TABLE ais_speed")
    con.execute("DROP TABLE ais_span")
    return mine, others


def check_identity_reports(con: duckdb.DuckDBPyConnection, file_hash: str) -> dict[str, int]:
    """Derive missing flags from the MID and flag bad IMO numbers and MMSIs (see module doc)."""
    kind, mid = mmsi_kind_sql("r.mmsi"), mmsi_mid_sql("r.mmsi")
    no_mid = ", ".join(f"'{k}'" for k in sorted(WITHOUT_MID))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ais_reports AS
            SELECT rid, given_flag,
                   CASE WHEN given_flag IS NULL AND kind = 'ship' THEN mid_flag END AS derived_flag,
                   nullif(concat_ws(',',
                       CASE WHEN imo IS NOT NULL AND NOT {imo_ok_sql("imo")} THEN 'imo_check_digit' END,
                       CASE WHEN mmsi IS NOT NULL AND (kind = 'invalid' OR (kind NOT IN ({no_mid}) AND mid_flag IS NULL))
                            THEN 'mmsi_invalid' END), '') AS flags
            FROM (
                SELECT r.rowid AS rid, r.mmsi, r.imo, nullif(upper(trim(r.flag)), '') AS given_flag,
                       {kind} AS kind, m.flag AS mid_flag
                FROM vessel_reports r LEFT JOIN mid_flags m ON m.mid = {mid}
                WHERE r.file_hash = ?
            ) classified""",
        [file_hash],
    )
    con.execute(
        """UPDATE vessel_reports SET flag = coalesce(a.given_flag, a.derived_flag),
                  flag_source = CASE WHEN a.given_flag IS NOT NULL THEN 'reported'
                                     WHEN a.derived_flag IS NOT NULL THEN 'mid' END,
                  flags = a.flags
           FROM ais_reports a WHERE vessel_reports.rowid = a.rid"""
    )
    counts = con.execute(
        """SELECT count(*) FILTER (WHERE derived_flag IS NOT NULL),
                  count(*) FILTER (WHERE flags LIKE '%imo_check_digit%'),
                  count(*) FILTER (WHERE flags LIKE '%mmsi_invalid%')
           FROM ais_reports"""
    ).fetchone()
    con.execute("DROP TABLE ais_reports")
    assert counts is not None
    return {"flags_from_mid": counts[0], "imo_invalid": counts[1], "mmsi_invalid": counts[2]}


def finish_positions_file(con: duckdb.DuckDBPyConnection, result: IngestResult) -> CleanStats:
    """All three passes for one AIS file; moves dropped duplicates from kept to duplicate."""
    stats = CleanStats()
    stats.duplicates_in_file, stats.duplicates_of_case = drop_duplicate_positions(
        con, result.file_hash
    )
    dropped = stats.duplicates_in_file + stats.duplicates_of_case
    result.rows_kept -= dropped
    result.rows_duplicate += dropped
    stations = separate_stations(con, result.file_hash)  # not vessels: out of the tracks
    if stations:
        result.detail["not_vessels"] = stations
    stats.impossible_speed, stats.impossible_speed_elsewhere = flag_implied_speeds(
        con, result.file_hash
    )
    stats.positions_mmsi_invalid = _count(
        con,
        "SELECT count(*) FROM positions WHERE file_hash = ? AND flags LIKE '%mmsi_invalid%'",
        [result.file_hash],
    )
    result.detail["quarantined_by_reason"] = refused_by_reason(con, result.file_hash)
    for name, value in check_identity_reports(con, result.file_hash).items():
        setattr(stats, name, value)
    result.detail["cleaning"] = asdict(stats)
    return stats


def finish_file(con: duckdb.DuckDBPyConnection, kind: str, result: IngestResult) -> None:
    """End of one file's ingest (in its transaction): the passes its kind needs, if any."""
    if kind == "ais":
        finish_positions_file(con, result)
    elif kind == "vessels":
        result.detail["cleaning"] = check_identity_reports(con, result.file_hash)
