"""AIS gaps ("going dark") and the origin-country ports a vessel could have visited in one.

A gap is two consecutive fixes of one vessel at least `gap_hours` apart. A port is a
*possible dark call* when going there from the gap's start and on to its end, along great
circles, fits in the gap's duration at the vessel's service speed (95th percentile of its
moving speeds, 12 kn when unknown). Great circles are shorter than sea routes, so the list
errs on the side of inclusion; every entry is inferred, never observed.
"""

from __future__ import annotations

from cargotrace.engine.sql import haversine_km
from cargotrace.settings import AnalysisSettings

DEFAULT_SERVICE_SPEED_KN = 12.0
KM_PER_NM = 1.852


def statements(settings: AnalysisSettings) -> list[str]:
    step = haversine_km("lat", "lon", "next_lat", "next_lon")
    to_port = haversine_km("g.start_lat", "g.start_lon", "p.lat", "p.lon")
    from_port = haversine_km("p.lat", "p.lon", "g.end_lat", "g.end_lon")
    return [
        """
        CREATE OR REPLACE TEMP TABLE service_speed AS
        SELECT mmsi, quantile_cont(sog, 0.95) AS speed_kn FROM positions WHERE sog > 3 AND sog < 40 GROUP BY mmsi
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE raw_gaps AS
        WITH fixes AS (
            SELECT mmsi, timestamp, any_value(lat) AS lat, any_value(lon) AS lon FROM positions
            WHERE lat IS NOT NULL AND lon IS NOT NULL AND timestamp IS NOT NULL GROUP BY mmsi, timestamp
        ), steps AS (
            SELECT mmsi, timestamp, lat, lon,
                   lead(timestamp) OVER w AS next_ts, lead(lat) OVER w AS next_lat, lead(lon) OVER w AS next_lon
            FROM fixes WINDOW w AS (PARTITION BY mmsi ORDER BY timestamp)
        )
        SELECT mmsi, timestamp AS started_at, next_ts AS ended_at,
               (epoch(next_ts) - epoch(timestamp)) / 3600.0 AS hours,
               lat AS start_lat, lon AS start_lon, next_lat AS end_lat, next_lon AS end_lon,
               {step} AS distance_km
        FROM steps
        WHERE next_ts IS NOT NULL AND (epoch(next_ts) - epoch(timestamp)) >= {settings.gap_hours} * 3600
        """,
        f"""
        CREATE OR REPLACE TABLE gaps AS
        WITH feasible AS (
            SELECT g.mmsi, g.started_at, list(p.locode ORDER BY p.locode) AS locodes
            FROM raw_gaps g
            LEFT JOIN service_speed s ON s.mmsi = g.mmsi
            JOIN (SELECT DISTINCT locode, lat, lon FROM ports WHERE country = '{settings.origin_country}'
                  AND lat IS NOT NULL) p
              ON ({to_port} + {from_port}) / ({KM_PER_NM} * coalesce(s.speed_kn, {DEFAULT_SERVICE_SPEED_KN})) <= g.hours
            GROUP BY g.mmsi, g.started_at
        )
        SELECT g.mmsi, g.started_at, g.ended_at, round(g.hours, 3) AS hours,
               g.start_lat, g.start_lon, g.end_lat, g.end_lon, round(g.distance_km, 3) AS distance_km,
               round(g.distance_km / {KM_PER_NM} / nullif(g.hours, 0), 3) AS implied_speed_kn,
               array_to_string(coalesce(f.locodes, []), ';') AS possible_dark_calls
        FROM raw_gaps g LEFT JOIN feasible f USING (mmsi, started_at)
        ORDER BY g.mmsi, g.started_at
        """,
    ]
