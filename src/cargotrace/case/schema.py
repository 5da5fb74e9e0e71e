"""The case database schema, its version, and the migrations between versions.

Source tables hold what was ingested (every row with its provenance: file hash, file name,
sheet, row number). Derived tables are rebuilt by `analyze` in one transaction.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

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
    "positions": f"""
        mmsi BIGINT, timestamp TIMESTAMPTZ, lat DOUBLE, lon DOUBLE, sog DOUBLE, cog DOUBLE,
        heading SMALLINT, nav_status SMALLINT, msg_type SMALLINT, {PROVENANCE}""",
    "vessel_reports": f"""
        mmsi BIGINT, imo VARCHAR, name VARCHAR, callsign VARCHAR, ship_type VARCHAR,
        flag VARCHAR, observed_at TIMESTAMPTZ, {PROVENANCE}""",
    "sightings": f"""
        sighting_id VARCHAR, observed_at TIMESTAMPTZ, vessel_name VARCHAR, imo VARCHAR,
        mmsi BIGINT, port VARCHAR, lat DOUBLE, lon DOUBLE, source VARCHAR, confidence DOUBLE,
        note VARCHAR, {PROVENANCE}""",
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
    # Structured watchlists (ingest/watchlists.py): one row per list file, and details of
    # `watchlist` rows keyed by (file_hash, source_row). Vessel owners from vessels files.
    "watchlist_lists": """
        file_hash VARCHAR, list VARCHAR, format VARCHAR, published DATE, date_source VARCHAR,
        source_file VARCHAR, entries BIGINT, detail VARCHAR""",
    "watchlist_entries": """
        file_hash VARCHAR, source_row BIGINT, entry_id VARCHAR, list VARCHAR, schema VARCHAR,
        name VARCHAR, imo VARCHAR, mmsi BIGINT, flag VARCHAR, past_flags VARCHAR,
        call_sign VARCHAR, inn VARCHAR, ogrn VARCHAR, programs VARCHAR, listed_on VARCHAR""",
    "watchlist_names": "file_hash VARCHAR, source_row BIGINT, name VARCHAR, kind VARCHAR",
    "watchlist_links": """
        file_hash VARCHAR, source_row BIGINT, relation VARCHAR, other_name VARCHAR,
        other_entry_id VARCHAR""",
    "vessel_parties": f"""
        mmsi BIGINT, imo VARCHAR, vessel_name VARCHAR, role VARCHAR, party VARCHAR, {PROVENANCE}""",
}

# The contract's `vessels` table: one row per MMSI, from identity reports and positions.
VESSELS_VIEW = """
CREATE OR REPLACE VIEW vessels AS
WITH reports AS (
    SELECT mmsi, imo, name, callsign, ship_type, flag, observed_at FROM vessel_reports
), seen AS (
    SELECT mmsi, min(timestamp) AS first_seen, max(timestamp) AS last_seen
    FROM positions GROUP BY mmsi
), latest AS (
    SELECT mmsi,
           arg_max(imo, coalesce(observed_at, TIMESTAMPTZ '1970-01-01'))
               FILTER (WHERE imo IS NOT NULL) AS imo,
           arg_max(name, coalesce(observed_at, TIMESTAMPTZ '1970-01-01'))
               FILTER (WHERE name IS NOT NULL) AS name,
           arg_max(callsign, coalesce(observed_at, TIMESTAMPTZ '1970-01-01'))
               FILTER (WHERE callsign IS NOT NULL) AS callsign,
           arg_max(ship_type, coalesce(observed_at, TIMESTAMPTZ '1970-01-01'))
               FILTER (WHERE ship_type IS NOT NULL) AS ship_type,
           arg_max(flag, coalesce(observed_at, TIMESTAMPTZ '1970-01-01'))
               FILTER (WHERE flag IS NOT NULL) AS flag,
           min(observed_at) AS first_reported, max(observed_at) AS last_reported
    FROM reports WHERE mmsi IS NOT NULL GROUP BY mmsi
)
SELECT coalesce(l.mmsi, s.mmsi) AS mmsi, l.imo, l.name, l.callsign, l.ship_type, l.flag,
       least(s.first_seen, l.first_reported) AS first_seen,
       greatest(s.last_seen, l.last_reported) AS last_seen
FROM latest l FULL OUTER JOIN seen s ON l.mmsi = s.mmsi
"""

# Migrations: MIGRATIONS[n] upgrades a case of schema version n to n + 1.
MIGRATIONS: dict[int, list[str]] = {}


def create_statements() -> list[str]:
    statements = [
        f"CREATE TABLE IF NOT EXISTS {name} ({columns})" for name, columns in SOURCE_TABLES.items()
    ]
    statements.append(VESSELS_VIEW)
    return statements
