"""Vessel identities, watchlists and sightings (contract §2)."""

from __future__ import annotations

from cargotrace.ingest import sqlexpr
from cargotrace.ingest.readers.headers import Field
from cargotrace.ingest.types import ChunkContext, TabularKind, sql_str

_IMO = "nullif(regexp_replace(upper(imo), '^IMO\\s*|\\.0$', '', 'g'), '')"
_MMSI = "try_cast(try_cast(mmsi AS DOUBLE) AS BIGINT)"

VESSEL_FIELDS = [
    Field("mmsi", ("mmsi number",)),
    Field("imo", ("imo number", "imonumber")),
    Field("name", ("vessel name", "vesselname", "shipname", "ship name")),
    Field("callsign", ("call sign", "call_sign")),
    Field("ship_type", ("vessel type", "shiptype", "type")),
    Field("flag", ("flag state", "country")),
    Field("observed_at", ("date", "timestamp", "as of")),
]


def _vessels_select(ctx: ChunkContext) -> str:
    reason, column = sqlexpr.first_reason(
        ("mmsi IS NULL AND imo IS NULL AND name IS NULL", "no_identifier", "mmsi"),
        (
            f"mmsi IS NOT NULL AND ({_MMSI} IS NULL OR {_MMSI} NOT BETWEEN 1 AND 999999999)",
            "bad_mmsi",
            "mmsi",
        ),
        (
            "flag IS NOT NULL AND NOT regexp_full_match(trim(flag), '[A-Za-z]{2}')",
            "bad_flag",
            "flag",
        ),
    )
    return f"""
        SELECT {_MMSI} AS mmsi, {_IMO} AS imo, upper(name) AS name, upper(callsign) AS callsign,
               ship_type, upper(flag) AS flag, {sqlexpr.timestamp("observed_at")} AS observed_at,
               CAST(NULL AS VARCHAR) AS flag_source, CAST(NULL AS VARCHAR) AS flags,  -- set by ais_clean
               CAST(NULL AS DOUBLE) AS draught_m,  -- voyage data: AIS only
               CAST(NULL AS DOUBLE) AS length_m,  -- a length column goes to vessel_details
               _row, _raw, {reason} AS _reason, {column} AS _column
        FROM src
    """


VESSELS = TabularKind("vessels", "vessel_reports", VESSEL_FIELDS, _vessels_select)

WATCHLIST_FIELDS = [
    Field("name", ("entity", "vessel name", "caption"), required=True),
    Field("imo", ("imo number", "imonumber")),
    Field("mmsi", ()),
    Field("list", ("program", "source list", "dataset")),
    Field("note", ("notes", "remarks")),
    Field("schema", ("type", "entity type")),
]


def _watchlist_select(ctx: ChunkContext) -> str:
    reason, column = sqlexpr.first_reason(
        ("name IS NULL", "missing_name", "name"),
        (f"mmsi IS NOT NULL AND {_MMSI} IS NULL", "bad_mmsi", "mmsi"),
    )
    return f"""
        SELECT name, {_IMO} AS imo, {_MMSI} AS mmsi, coalesce(list, {sql_str(ctx.file_name)}) AS list, note,
               coalesce(schema, CASE WHEN imo IS NOT NULL OR mmsi IS NOT NULL THEN 'Vessel' ELSE 'LegalEntity' END) AS schema,
               _row, _raw, {reason} AS _reason, {column} AS _column
        FROM src
    """


WATCHLIST = TabularKind("watchlist", "watchlist", WATCHLIST_FIELDS, _watchlist_select)

SIGHTING_FIELDS = [
    Field("observed_at", ("date", "observed", "timestamp", "seen at"), required=True),
    Field("vessel_name", ("vessel", "name", "ship")),
    Field("imo", ("imo number",)),
    Field("mmsi", ()),
    Field("port", ("port locode", "locode", "port name")),
    Field("lat", ("latitude",)),
    Field("lon", ("longitude",)),
    Field("source", ("provider", "imagery")),
    Field("confidence", ("score",)),
    Field("note", ("notes", "comment")),
]


def _sightings_select(ctx: ChunkContext) -> str:
    conf = sqlexpr.number("confidence")
    reason, column = sqlexpr.first_reason(
        (f"{sqlexpr.timestamp('observed_at')} IS NULL", "bad_timestamp", "observed_at"),
        # A sighting without a vessel is an observation of a place (e.g. new storage on imagery
        # at a destination site): kept when it has coordinates, refused otherwise.
        (
            "vessel_name IS NULL AND imo IS NULL AND mmsi IS NULL AND (lat IS NULL OR lon IS NULL)",
            "no_vessel",
            "vessel_name",
        ),
        ("port IS NULL AND (lat IS NULL OR lon IS NULL)", "no_place", "port"),
        (
            f"lat IS NOT NULL AND ({sqlexpr.number('lat')} IS NULL OR abs({sqlexpr.number('lat')}) > 90)",
            "bad_latitude",
            "lat",
        ),
        (
            f"lon IS NOT NULL AND ({sqlexpr.number('lon')} IS NULL OR abs({sqlexpr.number('lon')}) > 180)",
            "bad_longitude",
            "lon",
        ),
        (
            f"confidence IS NOT NULL AND ({conf} IS NULL OR {conf} NOT BETWEEN 0 AND 1)",
            "bad_confidence",
            "confidence",
        ),
        (f"mmsi IS NOT NULL AND {_MMSI} IS NULL", "bad_mmsi", "mmsi"),
    )
    return f"""
        SELECT md5(_raw) AS sighting_id, {sqlexpr.timestamp("observed_at")} AS observed_at,
               upper(vessel_name) AS vessel_name, {_IMO} AS imo, {_MMSI} AS mmsi, port,
               {sqlexpr.number("lat")} AS lat, {sqlexpr.number("lon")} AS lon, source,
               coalesce({conf}, 0.5) AS confidence, note,
               _row, _raw, {reason} AS _reason, {column} AS _column
        FROM src
    """


SIGHTINGS = TabularKind("sightings", "sightings", SIGHTING_FIELDS, _sightings_select)
