"""Port calls from dark detections: a ship that imagery shows in port while its AIS is silent.

A dark detection (maritime/detection_attribution.py) inside a port's circle (the rule
sightings use: maritime/port_calls.port_at_point_sql) whose best candidate holds at least
`detection_call_min_share` [0.8] of its detection's candidate scores becomes a call of that
vessel at that port at the detection time, with source `detection` and confidence share x
detection score (capped at 1; the score taken as 1 when not given), unless an AIS or sighting
call of the same ship at that port (`observed_calls`) already spans the detection time.
`detection_calls` lists them with their detection; the port calls stage (the one writer of
`port_calls`: maritime/port_calls.union_statements) adds them to the observed calls, so
arrivals of interest and linking read them like any other call. Below the threshold a dark detection
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
              SELECT 1 FROM observed_calls c
              WHERE c.ship_key = p.ship_key AND c.port_locode = p.port_locode
                AND p.detected_at BETWEEN c.arrived_at AND coalesce(c.departed_at, c.arrived_at + INTERVAL 1 DAY))
        ORDER BY arrived_at, detection_id
        """,
    ]


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    for statement in statements(settings):
        con.execute(statement)
