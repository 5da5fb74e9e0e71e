"""AIS position CSVs: the canonical layout, NOAA MarineCadastre and the Danish Maritime
Authority layout, recognised by their headers (contract §2 "ais")."""

from __future__ import annotations

import duckdb

from cargotrace.ingest import sqlexpr
from cargotrace.ingest.headers import Field
from cargotrace.ingest.loader import ChunkContext, TabularKind

FIELDS = [
    Field("mmsi", ("mmsi", "userid", "user id"), required=True),
    Field("timestamp", ("basedatetime", "timestamp", "time", "datetime", "# timestamp", "t", "time utc"), required=True),
    Field("lat", ("latitude", "lat", "y"), required=True),
    Field("lon", ("longitude", "lon", "long", "lng", "x"), required=True),
    Field("sog", ("sog", "speed", "speed over ground")),
    Field("cog", ("cog", "course", "course over ground")),
    Field("heading", ("heading", "true heading", "hdg")),
    Field("nav_status", ("status", "navigational status", "nav status", "navstatus")),
    Field("msg_type", ("message type", "msgtype", "type")),
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
    ts = sqlexpr.timestamp("timestamp")
    lat, lon = sqlexpr.number("lat"), sqlexpr.number("lon")
    mmsi = "try_cast(try_cast(mmsi AS DOUBLE) AS BIGINT)"
    reason, column = sqlexpr.first_reason(
        (f"{mmsi} IS NULL", "bad_mmsi", "mmsi"),
        (f"{mmsi} NOT BETWEEN 1 AND 999999999", "bad_mmsi", "mmsi"),
        (f"{ts} IS NULL", "bad_timestamp", "timestamp"),
        (f"{lat} IS NULL", "bad_latitude", "lat"),
        (f"{lon} IS NULL", "bad_longitude", "lon"),
        (f"abs({lat}) > 91", "bad_latitude", "lat"),
        (f"abs({lon}) > 181", "bad_longitude", "lon"),
    )
    num = sqlexpr.number
    return f"""
        SELECT {mmsi} AS mmsi, {ts} AS timestamp,
               CASE WHEN abs({lat}) <= 90 THEN {lat} END AS lat,
               CASE WHEN abs({lon}) <= 180 THEN {lon} END AS lon,
               CASE WHEN {num('sog')} BETWEEN 0 AND 102.2 THEN {num('sog')} END AS sog,
               CASE WHEN {num('cog')} >= 0 AND {num('cog')} < 360 THEN {num('cog')} END AS cog,
               CASE WHEN {num('heading')} BETWEEN 0 AND 359 THEN CAST({num('heading')} AS SMALLINT) END AS heading,
               CASE WHEN {_status_sql()} BETWEEN 0 AND 14 THEN {_status_sql()} END AS nav_status,
               coalesce(try_cast(msg_type AS SMALLINT), CAST(NULL AS SMALLINT)) AS msg_type,
               name, imo, callsign, ship_type,
               _row, _raw, {reason} AS _reason, {column} AS _column
        FROM src
    """


def _identities(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """Provider CSVs carry names, IMO and call signs: they feed the identity table too."""
    if not {"name", "imo", "callsign", "ship_type"} & set(ctx.columns.fields):
        return
    con.execute(
        """INSERT INTO vessel_reports
           SELECT mmsi, nullif(regexp_replace(upper(imo), '^IMO', ''), ''), name, callsign, ship_type, NULL,
                  min(timestamp), ?, ?, NULL, min(_row)
           FROM normalized WHERE _reason IS NULL AND coalesce(name, imo, callsign, ship_type) IS NOT NULL
           GROUP BY mmsi, imo, name, callsign, ship_type""",
        [ctx.file_hash, ctx.file_name],
    )


POSITIONS = TabularKind("ais", "positions", FIELDS, _select, after=_identities)
