"""Port calls from dark detections: a ship that imagery shows in port while its AIS is silent.

A dark detection (maritime/detection_attribution.py) inside a port's circle (the rule
sightings use: maritime/port_calls.port_at_point_sql) whose best candidate holds at least
`detection_call_min_share` [0.8] of its detection's candidate scores becomes a call of that
vessel at that port at the detection time, with source `detection` and confidence share x
detection score (capped at 1; the score taken as 1 when not given). It is added to
`port_calls` (unless an AIS or sighting call of the same ship at that port already spans the
detection time), so arrivals of interest and linking read it like any other call.
`detection_calls` lists them with their detection. Below the threshold a dark detection
stays in `dark_detections` with its candidates.

Runs in DuckDB after the attribution (also on the Spark engine), before voyages and arrivals.
"""

from __future__ import annotations

import duckdb

from cargotrace.maritime.port_calls import port_at_point_sql
from cargotrace.settings import AnalysisSettings


def statements(settings: AnalysisSettings) -> list[str]:
    return [
        f"""
        CREATE OR REPLACE TABLE detection_calls AS
        WITH attributed AS (
            SELECT k.detection_id, k.detected_at, k.lat, k.lon, k.score AS detection_score,
                   c.mmsi, c.vessel_key, c.ship_key, c.share
            FROM dark_detections k
            JOIN detection_candidates c ON c.detection_id = k.detection_id AND c.rank = 1
            WHERE c.share >= {settings.detection_call_min_share}
        ), placed AS (
            SELECT a.*, {port_at_point_sql("a")} AS port_locode FROM attributed a
        )
        SELECT md5(p.vessel_key || '|' || p.port_locode || '|' || CAST(p.detected_at AS VARCHAR)) AS port_call_id,
               p.detection_id, p.vessel_key, p.ship_key, p.mmsi, p.port_locode, p.detected_at AS arrived_at,
               p.share, round(p.share * least(coalesce(p.detection_score, 1), 1), 3) AS confidence
        FROM placed p
        WHERE p.port_locode IS NOT NULL
          AND NOT EXISTS (
              SELECT 1 FROM port_calls c
              WHERE c.ship_key = p.ship_key AND c.port_locode = p.port_locode
                AND p.detected_at BETWEEN c.arrived_at AND coalesce(c.departed_at, c.arrived_at + INTERVAL 1 DAY))
        ORDER BY arrived_at, detection_id
        """,
        """
        INSERT INTO port_calls BY NAME
        SELECT d.port_call_id, d.vessel_key, d.ship_key, d.mmsi, v.name AS vessel_name, v.imo,
               d.port_locode, (SELECT min(country) FROM ports p WHERE p.locode = d.port_locode) AS port_country,
               d.arrived_at, CAST(NULL AS TIMESTAMPTZ) AS departed_at, 0 AS fixes, 'detection' AS source,
               d.confidence, CAST([] AS VARCHAR[]) AS sighting_ids, 0 AS stops, 0 AS port_gaps
        FROM detection_calls d LEFT JOIN vessels v ON v.mmsi = d.mmsi
        """,
    ]


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    for statement in statements(settings):
        con.execute(statement)
