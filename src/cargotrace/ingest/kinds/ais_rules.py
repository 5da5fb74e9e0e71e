"""What an AIS row must be to count as a vessel's position: one definition for every AIS
path (NMEA logs and position CSVs, whatever stores them), as DuckDB SQL expressions over
the typed columns of any relation.

**Refused** (quarantined with the reason, before the row is stored; `position_checks`):

| reason                  | when |
|-------------------------|------|
| `no_timestamp`          | the row has no time (an NMEA line without tag block or time column) |
| `implausible_timestamp` | before `EARLIEST_AIS` (AIS, ITU-R M.1371, dates from 1998: a tag block `c:0` is 1970) or more than `FUTURE_DAYS` after the ingest (years 2999, 9999) |
| `no_position`           | lat or lon missing or "not available" (lat 91, lon 181) |
| `impossible_position`   | lat beyond ±90 or lon beyond ±180 otherwise (lat -101.5, lon 205) |
| `null_island`           | lat 0 and lon 0 exactly: the default of a receiver or converter without a fix, not a place a ship was |

A row refused here never reaches a track, a gap, an export of positions or the vessels
table; `cargotrace quarantine` lists it with its reason.

**Kept apart** (`station_kind_sql`): base stations (message type 4, MMSI 00MIDxxxx), aids to
navigation (type 21, 99MIDxxxx), SAR aircraft (type 9, 111MIDxxx) and AIS-SART / MOB /
EPIRB / AMRD devices (970, 972, 974, 979) are not vessels. Their rows are kept, in the table
`ais_stations`, not in `positions` (`separate_stations`), so no track, port call, gap or
encounter is built from them.

**Flagged** (`mmsi_invalid_sql`): an MMSI that names no station (`1` from a file's row-id
column, `123456789`, ten digits) or whose MID is not allocated. Such positions are kept
(a vessel may transmit a made-up MMSI, which is itself worth seeing) with the flag
`mmsi_invalid` in `positions.flags`; the vessels table has `mmsi_valid` = false.
"""

from __future__ import annotations

import duckdb

from cargotrace.case.quarantine import counted_sql
from cargotrace.ingest.predicates import (
    Abs,
    Col,
    Compare,
    IsNull,
    NowPlusDays,
    Num,
    Rule,
    Time,
    both,
    either,
)
from cargotrace.ingest.sqlexpr import first_reason
from cargotrace.reference.mid import MMSI_RANGES, mmsi_kind_sql, mmsi_mid_sql

EARLIEST_AIS = "1998-01-01"
FUTURE_DAYS = 1  # a time more than this many days after the ingest is implausible

Check = tuple[str, str, str | None]  # (condition, reason, column), as `sqlexpr.first_reason` takes

# MMSI kinds (reference/mid.py) and message types that are not vessels -> station kind
_KIND_STATIONS = {
    "coast_station": "base_station",
    "aton": "aid_to_navigation",
    "sar_aircraft": "sar_aircraft",
    "sart": "sart",
    "mob": "man_overboard",
    "epirb": "epirb",
    "amrd": "autonomous_device",
}
_TYPE_STATIONS = {4: "base_station", 9: "sar_aircraft", 21: "aid_to_navigation"}
REASONS = (
    "no_timestamp",
    "implausible_timestamp",
    "no_position",
    "impossible_position",
    "null_island",
)


# The refusal rules, in priority order (the first that holds names the row's reason), over
# the columns ts (TIMESTAMPTZ), lat and lon (DOUBLE degrees): one definition, as SQL over a
# CSV's typed columns (`position_checks`) and evaluated over a decoded NMEA batch's Arrow
# columns (`POSITION_RULES`, `ingest/predicates.py`)
_TS, _LAT, _LON = Col("ts"), Col("lat"), Col("lon")
TIME_RULES = (
    Rule(IsNull(_TS), "no_timestamp", "timestamp"),
    Rule(
        either(Compare(_TS, "<", Time(EARLIEST_AIS)), Compare(_TS, ">", NowPlusDays(FUTURE_DAYS))),
        "implausible_timestamp",
        "timestamp",
    ),
)
COORDINATE_RULES = (
    Rule(either(IsNull(_LAT), Compare(_LAT, "=", Num(91))), "no_position", "lat"),
    Rule(either(IsNull(_LON), Compare(_LON, "=", Num(181))), "no_position", "lon"),
    Rule(Compare(Abs(_LAT), ">", Num(90)), "impossible_position", "lat"),
    Rule(Compare(Abs(_LON), ">", Num(180)), "impossible_position", "lon"),
    Rule(both(Compare(_LAT, "=", Num(0)), Compare(_LON, "=", Num(0))), "null_island", "lat"),
)
POSITION_RULES = TIME_RULES + COORDINATE_RULES


def time_checks(ts: str) -> list[Check]:
    """The timestamp rules over a TIMESTAMPTZ expression."""
    return [rule.check({"ts": ts}) for rule in TIME_RULES]


def implausible_time_sql(ts: str) -> str:
    """True for a time that is given but cannot be an AIS time (NULL-safe: false if none)."""
    return f"coalesce({time_checks(ts)[1][0]}, false)"


def coordinate_checks(lat: str, lon: str) -> list[Check]:
    """The position rules over DOUBLE latitude and longitude expressions (degrees)."""
    return [rule.check({"lat": lat, "lon": lon}) for rule in COORDINATE_RULES]


def position_checks(ts: str, lat: str, lon: str) -> list[Check]:
    """Every rule, in priority order (the first that holds names the row's reason)."""
    return time_checks(ts) + coordinate_checks(lat, lon)


def reason_sql(checks: list[Check]) -> tuple[str, str]:
    """`_reason` and `_column` expressions (NULL when the row passes)."""
    return first_reason(*checks)


def vessel_position_sql(mmsi: str, ts: str, lat: str, lon: str, msg_type: str) -> str:
    """True for a row that every rule lets into `positions`: not refused, not a station. For
    engines that read positions without ingesting them (the Spark inputs)."""
    refused = " OR ".join(f"({cond})" for cond, _, _ in position_checks(ts, lat, lon))
    return f"(NOT coalesce({refused}, false) AND {station_kind_sql(mmsi, msg_type)} IS NULL)"


def station_kind_sql(mmsi: str, msg_type: str) -> str:
    """The kind of a station that is not a vessel ('base_station', ...), NULL for a vessel."""
    by_type = " ".join(f"WHEN {msg_type} = {t} THEN '{k}'" for t, k in _TYPE_STATIONS.items())
    by_kind = " ".join(f"WHEN '{kind}' THEN '{k}'" for kind, k in _KIND_STATIONS.items())
    return f"(CASE {by_type} ELSE (CASE {mmsi_kind_sql(mmsi)} {by_kind} END) END)"


def is_station_sql(mmsi: str, msg_type: str) -> str:
    """True where `station_kind_sql` is not NULL (a row that is not a vessel's), as a cheap
    test: the message types and the MMSI ranges of the station kinds, no text compared."""
    ranges = [f"{mmsi} BETWEEN {low} AND {high}" for kind, low, high, _ in MMSI_RANGES
              if kind in _KIND_STATIONS]  # fmt: skip
    types = ", ".join(str(t) for t in _TYPE_STATIONS)
    return f"({msg_type} IN ({types}) OR {' OR '.join(ranges)})"


def mmsi_invalid_sql(mmsi: str) -> str:
    """True for an MMSI that names no station or whose MID is not allocated (needs the
    case's `mid_flags` view)."""
    mid = mmsi_mid_sql(mmsi)
    return (
        f"({mmsi_kind_sql(mmsi)} = 'invalid' OR "
        f"({mid} IS NOT NULL AND {mid} NOT IN (SELECT mid FROM mid_flags)))"
    )


STATIONS_COLUMNS = "mmsi, timestamp, lat, lon, sog, cog, heading, nav_status, msg_type"
# Positions equal in these columns (NULLs equal) are one report: the first (in file order)
# is kept, later copies and copies of another file's positions are exact duplicates
DUPLICATE_KEY = ("mmsi", "timestamp", "msg_type", "lat", "lon", "sog", "cog", "heading")


def separate_stations(con: duckdb.DuckDBPyConnection, file_hash: str) -> dict[str, int]:
    """Move the file's rows of stations that are not vessels from `positions` to
    `ais_stations`; returns the rows moved by station kind."""
    kind = station_kind_sql("mmsi", "msg_type")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE ais_moved AS
            SELECT {kind} AS station_kind, {STATIONS_COLUMNS}, file_hash, source_file, sheet, source_row
            FROM positions WHERE file_hash = ? AND {kind} IS NOT NULL""",
        [file_hash],
    )
    counts = dict(
        con.execute("SELECT station_kind, count(*) FROM ais_moved GROUP BY 1 ORDER BY 1").fetchall()
    )
    if counts:
        con.execute(
            f"""INSERT INTO ais_stations (station_kind, {STATIONS_COLUMNS}, file_hash, source_file, sheet, source_row)
                SELECT * FROM ais_moved"""
        )
        con.execute(
            f"DELETE FROM positions WHERE file_hash = ? AND {kind} IS NOT NULL", [file_hash]
        )
    con.execute("DROP TABLE ais_moved")
    return {str(k): int(v) for k, v in counts.items()}


def refused_by_reason(con: duckdb.DuckDBPyConnection, file_hash: str) -> dict[str, int]:
    """The file's quarantined rows by reason (for the ingest summary)."""
    rows = con.execute(
        f"SELECT reason, sum(rows) FROM {counted_sql(con)} WHERE file_hash = ? GROUP BY 1 ORDER BY 2 DESC, 1",
        [file_hash],
    ).fetchall()
    return {str(r): int(n) for r, n in rows}
