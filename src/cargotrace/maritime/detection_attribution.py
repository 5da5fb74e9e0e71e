"""Dark detections: detected ships that no AIS track explains, and which vessels they could be.

A detection without a match in `detection_matches` is *dark*. Its candidates are the vessels
whose AIS is silent across its time (a gap of the `gaps` stage covers it). Each is judged by
the first rule that rules it out, in this order:

* `lit_in_scene` — AIS matched the vessel to another detection of the same scene;
* `speed_from_last_fix` — reaching the detection from the gap's first end (the last fix
  before it) needs more than `dark_detection_max_speed_kn` [16 kn] along a great circle;
* `speed_to_next_fix` — likewise from the detection to the gap's other end (the next fix);
* `length` — the lengths disagree (maritime/detections.py's rule), when both are known.

Vessels that could not have been there even at `max_speed_kn` [50 kn, the identity stage's
impossible speed] are not listed at all (on a whole coast's AIS they would be hundreds).
A candidate no rule rules out is feasible, with a score in 0..1: half the speed margin
(1 - the higher of the two needed speeds / the limit) and half the length fit (1 - the length
difference / the tolerance, 0.5 when a length is unknown). Feasible candidates are ranked by
score (`rank` 1 the best) and `share` is a candidate's score over the sum of its detection's
feasible scores. `dark_detections` lists every dark detection with its number of feasible and
ruled-out candidates and its best candidate.

Runs in DuckDB (after the Spark stages on the Spark engine), from `detections`, `gaps`,
`detection_matches` and the vessels' lengths.
"""

from __future__ import annotations

import duckdb

from cargotrace.maritime.detections import length_agrees_sql, scene_key_sql, vessel_lengths_sql
from cargotrace.settings import AnalysisSettings
from cargotrace.sql import haversine_km


def statements(settings: AnalysisSettings) -> list[str]:
    limit = settings.dark_detection_max_speed_kn
    tol = settings.detection_length_tolerance
    from_km = haversine_km("g.start_lat", "g.start_lon", "k.lat", "k.lon")
    to_km = haversine_km("k.lat", "k.lon", "g.end_lat", "g.end_lon")
    return [
        f"""
        CREATE OR REPLACE TABLE detection_candidates AS
        WITH dark AS (
            SELECT d.*, {scene_key_sql()} AS scene_key FROM detections d
            WHERE d.detection_id NOT IN (SELECT detection_id FROM detection_matches)
        ), pairs AS (
            SELECT k.detection_id, k.scene_key, k.detected_at, g.mmsi, g.vessel_key, g.gap_id,
                   g.started_at AS silent_from, g.ended_at AS silent_to,
                   {from_km} AS from_last_km, {to_km} AS to_next_km,
                   (epoch(k.detected_at) - epoch(g.started_at)) / 3600.0 AS from_last_hours,
                   (epoch(g.ended_at) - epoch(k.detected_at)) / 3600.0 AS to_next_hours,
                   k.length_m AS detection_length_m, v.length_m AS vessel_length_m,
                   m.detection_id AS lit_as
            FROM dark k
            JOIN gaps g ON g.started_at < k.detected_at AND g.ended_at > k.detected_at
            LEFT JOIN ({vessel_lengths_sql()}) v ON v.mmsi = g.mmsi
            LEFT JOIN detection_matches m ON m.mmsi = g.mmsi AND m.scene_key = k.scene_key
        ), judged AS (
            SELECT *, from_last_km / 1.852 / from_last_hours AS speed_from_last_kn,
                   to_next_km / 1.852 / to_next_hours AS speed_to_next_kn
            FROM pairs
            WHERE from_last_km / 1.852 / from_last_hours <= {settings.max_speed_kn}
              AND to_next_km / 1.852 / to_next_hours <= {settings.max_speed_kn}
        ), ruled AS (
            SELECT *,
                   CASE WHEN lit_as IS NOT NULL THEN 'lit_in_scene'
                        WHEN speed_from_last_kn > {limit} THEN 'speed_from_last_fix'
                        WHEN speed_to_next_kn > {limit} THEN 'speed_to_next_fix'
                        WHEN NOT {length_agrees_sql("detection_length_m", "vessel_length_m", settings)} THEN 'length'
                   END AS ruled_out_by,
                   0.5 * (1 - greatest(speed_from_last_kn, speed_to_next_kn) / {limit})
                   + 0.5 * CASE WHEN detection_length_m IS NULL OR vessel_length_m IS NULL THEN 0.5
                                ELSE 1 - abs(detection_length_m - vessel_length_m) / ({tol} * vessel_length_m) END
                     AS raw_score
            FROM judged
        ), scored AS (
            SELECT *, CASE WHEN ruled_out_by IS NULL THEN round(raw_score, 3) END AS score FROM ruled
        )
        SELECT detection_id, scene_key, detected_at, mmsi, vessel_key, gap_id, silent_from, silent_to,
               round(from_last_km, 3) AS from_last_km, round(speed_from_last_kn, 2) AS speed_from_last_kn,
               round(to_next_km, 3) AS to_next_km, round(speed_to_next_kn, 2) AS speed_to_next_kn,
               detection_length_m, vessel_length_m, ruled_out_by, score,
               CASE WHEN ruled_out_by IS NULL THEN
                   row_number() OVER (PARTITION BY detection_id, ruled_out_by IS NULL ORDER BY score DESC, mmsi)
               END AS rank,
               CASE WHEN ruled_out_by IS NULL THEN
                   round(score / nullif(sum(score) OVER (PARTITION BY detection_id, ruled_out_by IS NULL), 0), 3)
               END AS share,
               CASE ruled_out_by
                   WHEN 'lit_in_scene' THEN 'AIS places it at detection ' || lit_as || ' of this scene'
                   WHEN 'speed_from_last_fix' THEN 'would need ' || CAST(round(speed_from_last_kn, 1) AS VARCHAR)
                        || ' kn from its last fix (limit {limit:g} kn)'
                   WHEN 'speed_to_next_fix' THEN 'would need ' || CAST(round(speed_to_next_kn, 1) AS VARCHAR)
                        || ' kn to its next fix (limit {limit:g} kn)'
                   WHEN 'length' THEN 'length ' || CAST(round(vessel_length_m) AS BIGINT) || ' m known, '
                        || CAST(round(detection_length_m) AS BIGINT) || ' m detected'
                   ELSE 'AIS silent ' || strftime(silent_from, '%Y-%m-%d %H:%M') || ' to '
                        || strftime(silent_to, '%Y-%m-%d %H:%M') || ' UTC; '
                        || CAST(round(from_last_km, 1) AS VARCHAR) || ' km from its last fix at '
                        || CAST(round(speed_from_last_kn, 1) AS VARCHAR) || ' kn, '
                        || CAST(round(to_next_km, 1) AS VARCHAR) || ' km to its next at '
                        || CAST(round(speed_to_next_kn, 1) AS VARCHAR) || ' kn; '
                        || CASE WHEN detection_length_m IS NULL OR vessel_length_m IS NULL THEN 'length not compared'
                                ELSE 'length ' || CAST(round(vessel_length_m) AS BIGINT) || ' m known, '
                                     || CAST(round(detection_length_m) AS BIGINT) || ' m detected' END
               END AS reason
        FROM scored
        ORDER BY detection_id, ruled_out_by NULLS FIRST, rank, mmsi
        """,
        """
        CREATE OR REPLACE TABLE dark_detections AS
        WITH c AS (
            SELECT detection_id,
                   count(*) FILTER (WHERE ruled_out_by IS NULL) AS candidates,
                   count(*) FILTER (WHERE ruled_out_by IS NOT NULL) AS ruled_out,
                   arg_min(mmsi, rank) FILTER (WHERE rank = 1) AS best_mmsi,
                   max(share) FILTER (WHERE rank = 1) AS best_share
            FROM detection_candidates GROUP BY detection_id
        )
        SELECT d.detection_id, d.detected_at, d.lat, d.lon, d.length_m, d.score, d.scene_id, d.source,
               coalesce(c.candidates, 0) AS candidates, coalesce(c.ruled_out, 0) AS ruled_out,
               c.best_mmsi, c.best_share
        FROM detections d LEFT JOIN c USING (detection_id)
        WHERE d.detection_id NOT IN (SELECT detection_id FROM detection_matches)
        ORDER BY d.detected_at, d.detection_id
        """,
    ]


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    for statement in statements(settings):
        con.execute(statement)
