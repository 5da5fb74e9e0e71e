"""Ship-to-ship meetings: two vessels within 500 m for at least 2 hours, at a median speed
under 2 kn, more than 10 km from any port. Candidates are paired through 10-minute time
bins and ~1 km spatial cells (each position replicated to the 3x3 neighbouring cells),
never all pairs."""

from __future__ import annotations

from cargotrace.engine.sql import haversine_km
from cargotrace.settings import AnalysisSettings

BIN_SECONDS = 600
CELL_DEG = 0.01
MAX_DISTANCE_M = 500.0
MIN_HOURS = 2.0
MAX_MEDIAN_SOG_KN = 2.0
MIN_PORT_KM = 10.0


def statements(settings: AnalysisSettings) -> list[str]:
    distance_m = haversine_km("a.lat", "a.lon", "b.lat", "b.lon") + " * 1000"
    port_km = haversine_km("e.lat", "e.lon", "p.lat", "p.lon")
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE binned AS
        SELECT mmsi, CAST(floor(epoch(timestamp) / {BIN_SECONDS}) AS BIGINT) AS tbin,
               avg(lat) AS lat, avg(lon) AS lon, avg(sog) AS sog
        FROM positions WHERE lat IS NOT NULL AND lon IS NOT NULL AND timestamp IS NOT NULL
        GROUP BY ALL
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE close_pairs AS
        WITH a AS (
            SELECT *, CAST(floor(lat / {CELL_DEG}) AS BIGINT) AS cy, CAST(floor(lon / {CELL_DEG}) AS BIGINT) AS cx FROM binned
        ), b AS (
            SELECT binned.*, CAST(floor(lat / {CELL_DEG}) AS BIGINT) + dy AS cy, CAST(floor(lon / {CELL_DEG}) AS BIGINT) + dx AS cx
            FROM binned, (SELECT unnest([-1, 0, 1]) AS dy), (SELECT unnest([-1, 0, 1]) AS dx)
        )
        SELECT a.mmsi AS mmsi_a, b.mmsi AS mmsi_b, a.tbin, {distance_m} AS distance_m,
               (a.lat + b.lat) / 2 AS lat, (a.lon + b.lon) / 2 AS lon, (coalesce(a.sog, 0) + coalesce(b.sog, 0)) / 2 AS sog
        FROM a JOIN b ON a.tbin = b.tbin AND a.cy = b.cy AND a.cx = b.cx AND a.mmsi < b.mmsi
        WHERE {distance_m} <= {MAX_DISTANCE_M}
        """,
        f"""
        CREATE OR REPLACE TABLE encounters AS
        WITH runs AS (
            SELECT *, tbin - row_number() OVER (PARTITION BY mmsi_a, mmsi_b ORDER BY tbin) AS run FROM close_pairs
        ), grouped AS (
            SELECT mmsi_a, mmsi_b, to_timestamp(min(tbin) * {BIN_SECONDS}) AS started_at,
                   to_timestamp((max(tbin) + 1) * {BIN_SECONDS}) AS ended_at,
                   median(distance_m) AS median_distance_m, median(sog) AS median_sog_kn,
                   avg(lat) AS lat, avg(lon) AS lon
            FROM runs GROUP BY mmsi_a, mmsi_b, run
            HAVING (max(tbin) + 1 - min(tbin)) * {BIN_SECONDS} >= {MIN_HOURS} * 3600
        )
        SELECT e.mmsi_a, e.mmsi_b, e.started_at, e.ended_at, round(e.median_distance_m, 1) AS median_distance_m,
               round(e.median_sog_kn, 2) AS median_sog_kn, e.lat, e.lon
        FROM grouped e
        WHERE e.median_sog_kn < {MAX_MEDIAN_SOG_KN}
          AND NOT EXISTS (SELECT 1 FROM ports p WHERE p.lat BETWEEN e.lat - 0.2 AND e.lat + 0.2
                          AND {port_km} <= {MIN_PORT_KM})
        ORDER BY e.started_at, e.mmsi_a, e.mmsi_b
        """,
    ]
