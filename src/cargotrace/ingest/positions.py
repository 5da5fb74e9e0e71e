"""AIS position CSVs: the canonical layout, NOAA MarineCadastre and the Danish Maritime
Authority layout, recognised by their headers (contract §2 "ais").

Rows without a time or a possible position (lat 91 / lon 181 "not available", lat -101.5,
lon 205, years 1960 or 9999) are quarantined by the rules of `ais_rules`, shared with the
NMEA path. Other not-available values become NULL and the row is kept: sog outside 0-102.2 (102.3), cog outside
0-359.9 (360), heading outside 0-359 (511), navigation status 15 or unknown text; in the
identity columns, IMO 0, ship type 0 or "undefined", empty names (AIS '@' padding removed).
Duplicates, implied speeds and identity checks run once the whole file is in
(`ais_clean.finish_file`).
"""

from __future__ import annotations

import duckdb

from cargotrace.ingest import ais_rules, sqlexpr
from cargotrace.ingest.headers import Field
from cargotrace.ingest.loader import ChunkContext, TabularKind

FIELDS = [
    Field("mmsi", ("mmsi", "userid", "user id"), required=True),
    Field(
        "timestamp",
        ("basedatetime", "timestamp", "time", "datetime", "# timestamp", "t", "time utc"),
        required=True,
    ),
    Field("lat", ("latitude", "lat", "y"), required=True),
    Field("lon", ("longitude", "lon", "long", "lng", "x"), required=True),
    Field("sog", ("sog", "speed", "speed over ground")),
    Field("cog", ("cog", "course", "course over ground")),
    Field("heading", ("heading", "true heading", "hdg")),
    Field("nav_status", ("status", "navigational status", "nav status", "navstatus")),
    Field("msg_type", ("message type", "msgtype", "type", "message id", "msg type")),
    Field("name", ("vesselname", "vessel name", "name", "shipname")),
    Field("imo", ("imo",)),
    Field("callsign", ("callsign", "call sign")),
    Field("ship_type", ("vesseltype", "ship type", "shiptype")),
]

# Text statuses as the Danish Maritime Authority writes them, to ITU-R M.1371 codes.
NAV_STATUS_TEXT = {
    "under way using engine": 0, "at anchor": 1, "not under command": 2,
    "restricted maneuverability": 3, "constrained by her draught": 4, "moored": 5,
    "aground": 6, "engaged in fishing": 7, "under way sailing": 8, "ais-sart": 14,
    "unknown value": 15, "undefined": 15,
}  # fmt: skip


def _status_sql() -> str:
    cases = " ".join(f"WHEN '{text}' THEN {code}" for text, code in NAV_STATUS_TEXT.items())
    return f"coalesce(try_cast(try_cast(nav_status AS DOUBLE) AS SMALLINT), CASE lower(nav_status) {cases} END)"


def _select(ctx: ChunkContext) -> str:
    ts = sqlexpr.timestamp("timestamp", ctx.mapping.date_format)
    lat, lon = sqlexpr.number("lat"), sqlexpr.number("lon")
    mmsi = "try_cast(try_cast(mmsi AS DOUBLE) AS BIGINT)"
    reason, column = ais_rules.reason_sql(
        [
            (f"{mmsi} IS NULL", "bad_mmsi", "mmsi"),
            (f"{mmsi} NOT BETWEEN 1 AND 999999999", "bad_mmsi", "mmsi"),
            (f"timestamp IS NOT NULL AND {ts} IS NULL", "bad_timestamp", "timestamp"),
            (f"lat IS NOT NULL AND {lat} IS NULL", "bad_latitude", "lat"),
            (f"lon IS NOT NULL AND {lon} IS NULL", "bad_longitude", "lon"),
            *ais_rules.position_checks(ts, lat, lon),
        ]
    )
    num = sqlexpr.number
    return f"""
        SELECT {mmsi} AS mmsi, {ts} AS timestamp, {lat} AS lat, {lon} AS lon,
               CASE WHEN {num("sog")} BETWEEN 0 AND 102.2 THEN {num("sog")} END AS sog,
               CASE WHEN {num("cog")} >= 0 AND {num("cog")} < 360 THEN {num("cog")} END AS cog,
               CASE WHEN {num("heading")} BETWEEN 0 AND 359 THEN CAST({num("heading")} AS SMALLINT) END AS heading,
               CASE WHEN {_status_sql()} BETWEEN 0 AND 14 THEN {_status_sql()} END AS nav_status,
               coalesce(try_cast(msg_type AS SMALLINT), CAST(NULL AS SMALLINT)) AS msg_type,
               CAST(NULL AS DOUBLE) AS implied_speed_kn, CAST(NULL AS VARCHAR) AS flags,  -- ais_clean
               name, imo, callsign, ship_type,
               _row, _raw, {reason} AS _reason, {column} AS _column
        FROM src
    """


_NOT_AVAILABLE_TYPES = ("", "0", "undefined", "unknown", "not available", "n/a", "none")


def _text_sql(col: str) -> str:
    """Upper case, trimmed, AIS '@' padding removed; empty -> NULL."""
    return f"nullif(trim(rtrim(upper({col}), '@ ')), '')"


def _imo_sql(col: str) -> str:
    """'IMO 8207721', '8207721.0' -> '8207721'; empty or all zeros (not available) -> NULL."""
    bare = f"regexp_replace(regexp_replace(upper(trim({col})), '^IMO\\s*', ''), '\\.0$', '')"
    return f"(CASE WHEN regexp_full_match({bare}, '0*') THEN NULL ELSE {bare} END)"


def _ship_type_sql(col: str) -> str:
    absent = ", ".join(f"'{v}'" for v in _NOT_AVAILABLE_TYPES)
    return f"(CASE WHEN lower(trim({col})) IN ({absent}) THEN NULL ELSE regexp_replace(trim({col}), '\\.0$', '') END)"


def _identities(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """Provider CSVs repeat the name, IMO and call sign on every row: each distinct identity
    of an MMSI in the chunk becomes an identity report at the first and at the last row that
    shows it (one report if they are the same), so `vessel_identities` knows its time span.
    Rows without a position (static messages in a provider CSV) are quarantined as positions
    but their identity counts."""
    if not {"name", "imo", "callsign", "ship_type"} & set(ctx.columns.fields):
        return
    con.execute(
        f"""INSERT INTO vessel_reports (mmsi, imo, name, callsign, ship_type, observed_at,
                                        file_hash, source_file, source_row)
            WITH ids AS (
                SELECT mmsi, timestamp, _row, {_imo_sql("imo")} AS imo, {_text_sql("name")} AS name,
                       {_text_sql("callsign")} AS callsign, {_ship_type_sql("ship_type")} AS ship_type
                FROM normalized WHERE _reason IS NULL OR _reason = 'no_position'  -- static reports: identity, no place
            ), spans AS (
                SELECT mmsi, imo, name, callsign, ship_type,
                       min(timestamp) AS t0, arg_min(_row, (timestamp, _row)) AS r0,
                       max(timestamp) AS t1, arg_max(_row, (timestamp, _row)) AS r1
                FROM ids WHERE coalesce(imo, name, callsign, ship_type) IS NOT NULL
                GROUP BY mmsi, imo, name, callsign, ship_type
            )
            SELECT mmsi, imo, name, callsign, ship_type, t0, $1, $2, r0 FROM spans
            UNION ALL
            SELECT mmsi, imo, name, callsign, ship_type, t1, $1, $2, r1 FROM spans WHERE t1 > t0""",
        [ctx.file_hash, ctx.file_name],
    )


POSITIONS = TabularKind("ais", "positions", FIELDS, _select, after=_identities)
