"""The case database schema, its version, and the migrations between versions.

Source tables hold what was ingested (every row with its provenance: file hash, file name,
sheet, row number). Derived tables are rebuilt by `analyze` in one transaction.
"""

from __future__ import annotations

from cargotrace.reference.mid import mid_flags_view_sql, mmsi_kind_sql, mmsi_mid_sql

SCHEMA_VERSION = 2

PROVENANCE = "file_hash VARCHAR, source_file VARCHAR, sheet VARCHAR, source_row BIGINT"

SOURCE_TABLES: dict[str, str] = {
    "meta": "key VARCHAR PRIMARY KEY, value VARCHAR",
    "ledger": """
        file_hash VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, file_name VARCHAR, path VARCHAR,
        size_bytes BIGINT, rows_read BIGINT, rows_kept BIGINT, rows_quarantined BIGINT,
        rows_duplicate BIGINT, rows_skipped BIGINT, ingested_at TIMESTAMPTZ, detail VARCHAR""",
    "quarantine": f"""
        kind VARCHAR, reason VARCHAR, column_name VARCHAR, raw VARCHAR, {PROVENANCE}""",
    "shipments": f"""
        row_hash VARCHAR, waybill VARCHAR, wagon VARCHAR, container VARCHAR, record VARCHAR,
        departed_on DATE, arrived_on DATE, origin_station VARCHAR, origin_esr VARCHAR,
        destination_station VARCHAR, destination_esr VARCHAR, cargo VARCHAR, cargo_code VARCHAR,
        cargo_class VARCHAR, cargo_rule VARCHAR, weight_t DOUBLE, consignor VARCHAR,
        consignee VARCHAR, flags VARCHAR, attributes VARCHAR, {PROVENANCE}""",
    # implied_speed_kn, flags: set at ingest by ingest/kinds/ais_clean.py (schema version 2)
    "positions": f"""
        mmsi BIGINT, timestamp TIMESTAMPTZ, lat DOUBLE, lon DOUBLE, sog DOUBLE, cog DOUBLE,
        heading SMALLINT, nav_status SMALLINT, msg_type SMALLINT, {PROVENANCE},
        implied_speed_kn DOUBLE, flags VARCHAR""",
    # AIS stations that are not vessels (base stations, aids to navigation, SAR aircraft,
    # SART/MOB/EPIRB): kept apart from vessel positions (ingest/kinds/ais_rules.py)
    "ais_stations": f"""
        station_kind VARCHAR, mmsi BIGINT, timestamp TIMESTAMPTZ, lat DOUBLE, lon DOUBLE,
        sog DOUBLE, cog DOUBLE, heading SMALLINT, nav_status SMALLINT, msg_type SMALLINT,
        {PROVENANCE}""",
    # flag_source: 'reported', or 'mid' when the flag was derived from the MMSI (version 2)
    "vessel_reports": f"""
        mmsi BIGINT, imo VARCHAR, name VARCHAR, callsign VARCHAR, ship_type VARCHAR,
        flag VARCHAR, observed_at TIMESTAMPTZ, {PROVENANCE}, flag_source VARCHAR, flags VARCHAR""",
    "sightings": f"""
        sighting_id VARCHAR, observed_at TIMESTAMPTZ, vessel_name VARCHAR, imo VARCHAR,
        mmsi BIGINT, port VARCHAR, lat DOUBLE, lon DOUBLE, source VARCHAR, confidence DOUBLE,
        note VARCHAR, {PROVENANCE}""",
    # Vessel detections in satellite imagery (ingest/kinds/detections.py): unnamed ships
    "detections": f"""
        detection_id VARCHAR, detected_at TIMESTAMPTZ, lat DOUBLE, lon DOUBLE, length_m DOUBLE,
        score DOUBLE, scene_id VARCHAR, source VARCHAR, footprint_wkt VARCHAR, {PROVENANCE}""",
    "ports": f"""
        locode VARCHAR, name VARCHAR, country VARCHAR, lat DOUBLE, lon DOUBLE,
        radius_km DOUBLE, geometry_wkt VARCHAR, origin VARCHAR, {PROVENANCE}""",
    "stations": f"""
        esr VARCHAR, name VARCHAR, name_norm VARCHAR, lat DOUBLE, lon DOUBLE,
        port_locode VARCHAR, {PROVENANCE}""",
    "facilities": f"""
        name VARCHAR, category VARCHAR, lat DOUBLE, lon DOUBLE, source VARCHAR,
        geometry_wkt VARCHAR, {PROVENANCE}""",
    "watchlist": f"""
        name VARCHAR, imo VARCHAR, mmsi BIGINT, list VARCHAR, note VARCHAR, schema VARCHAR,
        {PROVENANCE}""",
    "borders": f"""
        code2 VARCHAR, code3 VARCHAR, name VARCHAR, geometry_wkt VARCHAR, {PROVENANCE}""",
    # Structured watchlists (ingest/kinds/watchlists.py): one row per list file, and details of
    # `watchlist` rows keyed by (file_hash, source_row). Vessel owners from vessels files.
    "watchlist_lists": """
        file_hash VARCHAR, list VARCHAR, format VARCHAR, published DATE, date_source VARCHAR,
        source_file VARCHAR, entries BIGINT, detail VARCHAR""",
    "watchlist_entries": """
        file_hash VARCHAR, source_row BIGINT, entry_id VARCHAR, list VARCHAR, schema VARCHAR,
        name VARCHAR, imo VARCHAR, mmsi BIGINT, flag VARCHAR, past_flags VARCHAR,
        call_sign VARCHAR, inn VARCHAR, ogrn VARCHAR, programs VARCHAR, listed_on VARCHAR,
        vessel_details VARCHAR""",
    "watchlist_names": "file_hash VARCHAR, source_row BIGINT, name VARCHAR, kind VARCHAR",
    "watchlist_links": """
        file_hash VARCHAR, source_row BIGINT, relation VARCHAR, other_name VARCHAR,
        other_entry_id VARCHAR""",
    "vessel_parties": f"""
        mmsi BIGINT, imo VARCHAR, vessel_name VARCHAR, role VARCHAR, party VARCHAR, {PROVENANCE}""",
    # Length, build year, gross tonnage from columns of a vessels file (screening compares them).
    "vessel_details": f"""
        mmsi BIGINT, imo VARCHAR, vessel_name VARCHAR, length_m DOUBLE, build_year INTEGER,
        tonnage_gt DOUBLE, {PROVENANCE}""",
}

# The ITU MID table (reference/mid.csv) as a view: mid, flag, administration.
MID_FLAGS_VIEW = mid_flags_view_sql("mid_flags")

# The contract's `vessels` table: one row per MMSI, from identity reports and positions.
# Latest value of each attribute; a reported flag wins over one derived from the MID, and
# an MMSI seen only in positions gets its MID's flag. Extra columns: flag_source
# ('reported' or 'mid'), mmsi_kind and mmsi_valid (reference/mid.py).
VESSELS_VIEW = f"""
CREATE OR REPLACE VIEW vessels AS
WITH reports AS (
    SELECT mmsi, imo, name, callsign, ship_type, flag, flag_source, observed_at,
           coalesce(observed_at, TIMESTAMPTZ '1970-01-01') AS ts
    FROM vessel_reports WHERE mmsi IS NOT NULL
), seen AS (
    SELECT mmsi, min(timestamp) AS first_seen, max(timestamp) AS last_seen
    FROM positions GROUP BY mmsi
), latest AS (
    SELECT mmsi,
           arg_max(imo, ts) FILTER (WHERE imo IS NOT NULL) AS imo,
           arg_max(name, ts) FILTER (WHERE name IS NOT NULL) AS name,
           arg_max(callsign, ts) FILTER (WHERE callsign IS NOT NULL) AS callsign,
           arg_max(ship_type, ts) FILTER (WHERE ship_type IS NOT NULL) AS ship_type,
           arg_max(flag, ts) FILTER (WHERE flag IS NOT NULL AND flag_source IS DISTINCT FROM 'mid') AS reported_flag,
           min(observed_at) AS first_reported, max(observed_at) AS last_reported
    FROM reports GROUP BY mmsi
), joined AS (
    SELECT coalesce(l.mmsi, s.mmsi) AS mmsi, l.imo, l.name, l.callsign, l.ship_type, l.reported_flag,
           least(s.first_seen, l.first_reported) AS first_seen,
           greatest(s.last_seen, l.last_reported) AS last_seen
    FROM latest l FULL OUTER JOIN seen s ON l.mmsi = s.mmsi
), classified AS (
    SELECT *, {mmsi_kind_sql("mmsi")} AS mmsi_kind, {mmsi_mid_sql("mmsi")} AS mid FROM joined
)
SELECT c.mmsi, c.imo, c.name, c.callsign, c.ship_type,
       coalesce(c.reported_flag, CASE WHEN c.mmsi_kind = 'ship' THEN m.flag END) AS flag,
       c.first_seen, c.last_seen,
       CASE WHEN c.reported_flag IS NOT NULL THEN 'reported'
            WHEN c.mmsi_kind = 'ship' AND m.flag IS NOT NULL THEN 'mid' END AS flag_source,
       c.mmsi_kind,
       c.mmsi_kind <> 'invalid' AND (c.mid IS NULL OR m.mid IS NOT NULL) AS mmsi_valid
FROM classified c LEFT JOIN mid_flags m ON m.mid = c.mid
"""

# Every identity an MMSI has shown: one row per distinct (imo, name, callsign, ship_type,
# flag) in its reports, each attribute carried forward in time order (undated reports
# first, then by file and row) and, before its first report, back from the first one, so
# that partial reports (AIS type 24 parts A and B, a vessels file without a flag) combine
# into one identity while a rename or a reflagging starts a new one. first_seen/last_seen
# span the reports of that identity (a name used, dropped and used again is one row);
# reports counts them (a static AIS message, a vessels file row, or for position CSVs the
# first and last row of each identity per chunk: see ingest/kinds/positions.py); sources lists
# their files.
VESSEL_IDENTITIES_VIEW = """
CREATE OR REPLACE VIEW vessel_identities AS
WITH r AS (
    SELECT mmsi, observed_at, source_file, imo, name, callsign, ship_type, flag,
           row_number() OVER (PARTITION BY mmsi ORDER BY observed_at NULLS FIRST, source_file, source_row) AS k
    FROM vessel_reports WHERE mmsi IS NOT NULL
), filled AS (
    SELECT mmsi, observed_at, source_file,
           coalesce(last_value(imo IGNORE NULLS) OVER past, first_value(imo IGNORE NULLS) OVER future) AS imo,
           coalesce(last_value(name IGNORE NULLS) OVER past, first_value(name IGNORE NULLS) OVER future) AS name,
           coalesce(last_value(callsign IGNORE NULLS) OVER past, first_value(callsign IGNORE NULLS) OVER future) AS callsign,
           coalesce(last_value(ship_type IGNORE NULLS) OVER past, first_value(ship_type IGNORE NULLS) OVER future) AS ship_type,
           coalesce(last_value(flag IGNORE NULLS) OVER past, first_value(flag IGNORE NULLS) OVER future) AS flag
    FROM r
    WINDOW past AS (PARTITION BY mmsi ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
           future AS (PARTITION BY mmsi ORDER BY k ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)
)
SELECT mmsi, imo, name, callsign, ship_type, flag, min(observed_at) AS first_seen,
       max(observed_at) AS last_seen, count(*) AS reports,
       string_agg(DISTINCT source_file, ', ' ORDER BY source_file) AS sources
FROM filled
GROUP BY mmsi, imo, name, callsign, ship_type, flag
"""

# Migrations: MIGRATIONS[n] upgrades a case of schema version n to n + 1.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        "ALTER TABLE positions ADD COLUMN IF NOT EXISTS implied_speed_kn DOUBLE",
        "ALTER TABLE positions ADD COLUMN IF NOT EXISTS flags VARCHAR",
        "ALTER TABLE vessel_reports ADD COLUMN IF NOT EXISTS flag_source VARCHAR",
        "ALTER TABLE vessel_reports ADD COLUMN IF NOT EXISTS flags VARCHAR",
        "UPDATE vessel_reports SET flag_source = 'reported' WHERE flag IS NOT NULL",
    ],
}


def create_statements() -> list[str]:
    statements = [
        f"CREATE TABLE IF NOT EXISTS {name} ({columns})" for name, columns in SOURCE_TABLES.items()
    ]
    statements += [MID_FLAGS_VIEW, VESSELS_VIEW, VESSEL_IDENTITIES_VIEW]
    return statements
