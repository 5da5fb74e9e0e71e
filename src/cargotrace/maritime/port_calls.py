"""Port calls from AIS positions and from sightings (contract §3 "Port call").

AIS: a vessel inside a port's area (radius_km, default 5 km) and stopped (slower than
`stop_speed_kn`) for at least `min_call_hours`; it arrives at the first stopped fix inside
the area and departs at the last one. Sightings: a sighting at a port is a call on that
day. A sighting that falls within an AIS call of the same vessel and port is merged into
it, and the call's evidence lists both.
"""

from __future__ import annotations

from cargotrace.engine.sql import haversine_km
from cargotrace.settings import AnalysisSettings

CELL_DEG = 1.0  # spatial bins for the position x port join; ports are replicated to 3x3 bins


def statements(settings: AnalysisSettings) -> list[str]:
    return [
        _vessel_keys(),
        _port_cells(settings),
        _fixes_in_port(),
        _ais_calls(settings),
        _sighting_places(),
        _port_calls(),
    ]


def _vessel_keys() -> str:
    """One identifier per vessel: the MMSI where any source gives or implies it."""
    return """
    CREATE OR REPLACE TEMP TABLE sighting_vessels AS
    WITH by_imo AS (
        SELECT imo, min(mmsi) AS mmsi FROM vessel_reports WHERE imo IS NOT NULL AND mmsi IS NOT NULL GROUP BY imo
    ), by_name AS (
        SELECT upper(name) AS name, min(mmsi) AS mmsi FROM vessel_reports
        WHERE name IS NOT NULL AND mmsi IS NOT NULL GROUP BY upper(name) HAVING count(DISTINCT mmsi) = 1
    )
    SELECT s.sighting_id,
           coalesce(s.mmsi, i.mmsi, n.mmsi) AS mmsi,
           coalesce(CAST(coalesce(s.mmsi, i.mmsi, n.mmsi) AS VARCHAR),
                    'IMO:' || s.imo, 'NAME:' || upper(s.vessel_name)) AS vessel_key
    FROM sightings s
    LEFT JOIN by_imo i ON i.imo = s.imo
    LEFT JOIN by_name n ON n.name = upper(s.vessel_name)
    """


def _port_cells(settings: AnalysisSettings) -> str:
    return f"""
    CREATE OR REPLACE TEMP TABLE port_cells AS
    SELECT p.locode, p.country, p.lat, p.lon, coalesce(p.radius_km, {settings.port_radius_km}) AS radius_km,
           CAST(floor(p.lat / {CELL_DEG}) AS INTEGER) + dy AS cell_y,
           CAST(floor(p.lon / {CELL_DEG}) AS INTEGER) + dx AS cell_x
    FROM ports p, (SELECT unnest([-1, 0, 1]) AS dy), (SELECT unnest([-1, 0, 1]) AS dx)
    WHERE p.lat IS NOT NULL AND p.lon IS NOT NULL
    """


def _fixes_in_port() -> str:
    distance = haversine_km("f.lat", "f.lon", "c.lat", "c.lon")
    return f"""
    CREATE OR REPLACE TEMP TABLE fixes_in_port AS
    SELECT f.mmsi, f.timestamp, c.locode, {distance} AS port_km
    FROM (SELECT DISTINCT mmsi, timestamp, lat, lon FROM positions
          WHERE lat IS NOT NULL AND lon IS NOT NULL AND timestamp IS NOT NULL) f
    JOIN port_cells c
      ON c.cell_y = CAST(floor(f.lat / {CELL_DEG}) AS INTEGER) AND c.cell_x = CAST(floor(f.lon / {CELL_DEG}) AS INTEGER)
    WHERE {distance} <= c.radius_km
    QUALIFY row_number() OVER (PARTITION BY f.mmsi, f.timestamp ORDER BY {distance}, c.locode) = 1
    """


def _ais_calls(settings: AnalysisSettings) -> str:
    return f"""
    CREATE OR REPLACE TEMP TABLE ais_calls AS
    WITH track AS (
        SELECT p.mmsi, p.timestamp, fp.locode,
               (fp.locode IS NOT NULL AND p.sog IS NOT NULL AND p.sog < {settings.stop_speed_kn}) AS stopped
        FROM (SELECT mmsi, timestamp, min(sog) AS sog FROM positions
              WHERE timestamp IS NOT NULL GROUP BY mmsi, timestamp) p
        LEFT JOIN fixes_in_port fp ON fp.mmsi = p.mmsi AND fp.timestamp = p.timestamp
    ), marked AS (
        SELECT *, CASE WHEN stopped AND lag(stopped) OVER w AND lag(locode) OVER w = locode THEN 0 ELSE 1 END AS starts
        FROM track WINDOW w AS (PARTITION BY mmsi ORDER BY timestamp)
    ), islands AS (
        SELECT *, sum(starts) OVER (PARTITION BY mmsi ORDER BY timestamp ROWS UNBOUNDED PRECEDING) AS island
        FROM marked
    )
    SELECT mmsi, locode AS port_locode, min(timestamp) AS arrived_at, max(timestamp) AS departed_at,
           count(*) AS fixes
    FROM islands WHERE stopped
    GROUP BY mmsi, locode, island
    HAVING (epoch(max(timestamp)) - epoch(min(timestamp))) >= {settings.min_call_hours} * 3600
    """


def _sighting_places() -> str:
    """A sighting's port: its UN/LOCODE, else a port name, else the port whose area holds it."""
    distance = haversine_km("s.lat", "s.lon", "p.lat", "p.lon")
    return f"""
    CREATE OR REPLACE TEMP TABLE sighting_calls AS
    WITH named AS (
        SELECT s.sighting_id,
               coalesce(
                   (SELECT min(p.locode) FROM ports p WHERE p.locode = upper(replace(s.port, ' ', ''))),
                   (SELECT min(p.locode) FROM ports p WHERE lower(p.name) = lower(s.port)),
                   (SELECT arg_min(p.locode, {distance}) FROM ports p
                     WHERE s.lat IS NOT NULL AND p.lat IS NOT NULL AND abs(p.lat - s.lat) < 1
                       AND {distance} <= coalesce(p.radius_km, 5.0))
               ) AS port_locode
        FROM sightings s
    )
    SELECT s.sighting_id, v.mmsi, v.vessel_key, n.port_locode, s.observed_at, s.confidence,
           s.source, s.vessel_name, s.imo, s.source_file, s.source_row
    FROM sightings s JOIN named n USING (sighting_id) JOIN sighting_vessels v USING (sighting_id)
    WHERE n.port_locode IS NOT NULL
    """


def _port_calls() -> str:
    return """
    CREATE OR REPLACE TABLE port_calls AS
    WITH ais AS (
        SELECT CAST(mmsi AS VARCHAR) AS vessel_key, mmsi, port_locode, arrived_at, departed_at, fixes
        FROM ais_calls
    ), matched AS (
        SELECT s.sighting_id, a.vessel_key, a.port_locode, a.arrived_at
        FROM sighting_calls s JOIN ais a
          ON a.vessel_key = s.vessel_key AND a.port_locode = s.port_locode
         AND CAST(s.observed_at AS DATE) BETWEEN CAST(a.arrived_at AS DATE) - 1 AND CAST(a.departed_at AS DATE) + 1
        QUALIFY row_number() OVER (PARTITION BY s.sighting_id ORDER BY a.arrived_at) = 1
    ), ais_with_sightings AS (
        SELECT a.*, list(m.sighting_id ORDER BY m.sighting_id) FILTER (WHERE m.sighting_id IS NOT NULL) AS sighting_ids
        FROM ais a LEFT JOIN matched m USING (vessel_key, port_locode, arrived_at)
        GROUP BY ALL
    ), sighting_only AS (
        SELECT vessel_key, min(mmsi) AS mmsi, port_locode,
               CAST(CAST(observed_at AS DATE) AS TIMESTAMPTZ) AS arrived_at,
               CAST(NULL AS TIMESTAMPTZ) AS departed_at, 0 AS fixes,
               list(sighting_id ORDER BY sighting_id) AS sighting_ids, max(confidence) AS confidence
        FROM sighting_calls WHERE sighting_id NOT IN (SELECT sighting_id FROM matched)
        GROUP BY vessel_key, port_locode, CAST(observed_at AS DATE)
    ), unioned AS (
        SELECT vessel_key, mmsi, port_locode, arrived_at, departed_at, fixes, sighting_ids,
               CASE WHEN len(coalesce(sighting_ids, [])) > 0 THEN 'both' ELSE 'ais' END AS source,
               CASE WHEN len(coalesce(sighting_ids, [])) > 0 THEN 0.95 ELSE 0.9 END AS confidence
        FROM ais_with_sightings
        UNION ALL
        SELECT vessel_key, mmsi, port_locode, arrived_at, departed_at, fixes, sighting_ids, 'sighting', confidence
        FROM sighting_only
    )
    SELECT md5(u.vessel_key || '|' || u.port_locode || '|' || CAST(u.arrived_at AS VARCHAR)) AS port_call_id,
           u.vessel_key, u.mmsi,
           coalesce(v.name, (SELECT min(vessel_name) FROM sighting_calls sc WHERE sc.vessel_key = u.vessel_key)) AS vessel_name,
           v.imo, u.port_locode, p.country AS port_country, u.arrived_at, u.departed_at, u.fixes,
           u.source, u.confidence, coalesce(u.sighting_ids, []) AS sighting_ids
    FROM unioned u
    LEFT JOIN vessels v ON v.mmsi = u.mmsi
    LEFT JOIN (SELECT locode, min(country) AS country FROM ports GROUP BY locode) p ON p.locode = u.port_locode
    ORDER BY u.vessel_key, u.arrived_at
    """
