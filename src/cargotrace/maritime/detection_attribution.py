"""Dark detections: detected ships that no AIS track explains, and which vessels they could be.

A detection without a match in `detection_matches` is *dark*. Its candidates are the vessels
whose AIS is silent across its time: a gap of the `gaps` stage covers it, or the detection
falls within `dark_detection_silence_days` [45 d] before the ship's first fix or after its
last (of any of its transmitters, `ship_links`; `silence` says which, and only that one end
is checked for speed). A gap across a change of transmitter (`gaps.identity_change`) is the
ship's under its last identity seen, the one it had when it went dark. Each is judged by the first rule that rules it out, in this order:

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
    from_km = haversine_km("k.start_lat", "k.start_lon", "k.lat", "k.lon")
    to_km = haversine_km("k.lat", "k.lon", "k.end_lat", "k.end_lon")
    horizon_s = int(round(settings.dark_detection_silence_days * 86400))
    return [
        # where each ship is silent: its gaps, and before its first fix and after its last
        """
        CREATE OR REPLACE TEMP TABLE detection_silences AS
        SELECT 'gap' AS silence, coalesce(l.mmsi, g.mmsi) AS mmsi,
               coalesce(l.vessel_key, g.vessel_key) AS vessel_key, g.ship_key, g.gap_id,
               g.started_at, g.ended_at, g.start_lat, g.start_lon, g.end_lat, g.end_lon
        FROM gaps g LEFT JOIN ship_links l ON l.vessel_key = g.previous_vessel_key
        UNION ALL
        SELECT 'before_first_fix', arg_min(mmsi, first_fix_at), arg_min(vessel_key, first_fix_at), ship_key,
               NULL, NULL, min(first_fix_at), NULL, NULL,
               arg_min(first_lat, first_fix_at), arg_min(first_lon, first_fix_at)
        FROM ship_links WHERE first_fix_at IS NOT NULL GROUP BY ship_key
        UNION ALL
        SELECT 'after_last_fix', arg_max(mmsi, last_fix_at), arg_max(vessel_key, last_fix_at), ship_key,
               NULL, max(last_fix_at), NULL, arg_max(last_lat, last_fix_at), arg_max(last_lon, last_fix_at),
               NULL, NULL
        FROM ship_links WHERE last_fix_at IS NOT NULL GROUP BY ship_key
        """,
        f"""
        CREATE OR REPLACE TABLE detection_candidates AS
        WITH dark AS (
            SELECT d.*, {scene_key_sql()} AS scene_key FROM detections d
            WHERE d.detection_id NOT IN (SELECT detection_id FROM detection_matches)
        ), covering AS (
            SELECT k.*, g.silence, g.mmsi, g.vessel_key, g.ship_key, g.gap_id, g.started_at, g.ended_at,
                   g.start_lat, g.start_lon, g.end_lat, g.end_lon
            FROM dark k JOIN detection_silences g
              ON g.silence = 'gap' AND g.started_at < k.detected_at AND g.ended_at > k.detected_at
            UNION ALL
            SELECT k.*, g.silence, g.mmsi, g.vessel_key, g.ship_key, g.gap_id, g.started_at, g.ended_at,
                   g.start_lat, g.start_lon, g.end_lat, g.end_lon
            FROM dark k JOIN detection_silences g
              ON g.silence = 'before_first_fix' AND g.ended_at > k.detected_at
             AND g.ended_at <= k.detected_at + to_seconds({horizon_s})
            UNION ALL
            SELECT k.*, g.silence, g.mmsi, g.vessel_key, g.ship_key, g.gap_id, g.started_at, g.ended_at,
                   g.start_lat, g.start_lon, g.end_lat, g.end_lon
            FROM dark k JOIN detection_silences g
              ON g.silence = 'after_last_fix' AND g.started_at < k.detected_at
             AND g.started_at >= k.detected_at - to_seconds({horizon_s})
        ), pairs AS (
            SELECT k.detection_id, k.scene_key, k.detected_at, k.silence, k.mmsi, k.vessel_key, k.ship_key,
                   k.gap_id, k.started_at AS silent_from, k.ended_at AS silent_to,
                   {from_km} AS from_last_km, {to_km} AS to_next_km,
                   (epoch(k.detected_at) - epoch(k.started_at)) / 3600.0 AS from_last_hours,
                   (epoch(k.ended_at) - epoch(k.detected_at)) / 3600.0 AS to_next_hours,
                   k.length_m AS detection_length_m, v.length_m AS vessel_length_m,
                   m.detection_id AS lit_as
            FROM covering k
            LEFT JOIN ({vessel_lengths_sql()}) v ON v.mmsi = k.mmsi
            LEFT JOIN detection_matches m ON m.mmsi = k.mmsi AND m.scene_key = k.scene_key
        ), judged AS (
            SELECT *, from_last_km / 1.852 / from_last_hours AS speed_from_last_kn,
                   to_next_km / 1.852 / to_next_hours AS speed_to_next_kn
            FROM pairs
            WHERE coalesce(from_last_km / 1.852 / from_last_hours, 0) <= {settings.max_speed_kn}
              AND coalesce(to_next_km / 1.852 / to_next_hours, 0) <= {settings.max_speed_kn}
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
        SELECT detection_id, scene_key, detected_at, mmsi, vessel_key, ship_key, silence, gap_id,
               silent_from, silent_to,
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
                   ELSE CASE silence
                            WHEN 'before_first_fix' THEN 'AIS silent before its first fix '
                                 || strftime(silent_to, '%Y-%m-%d %H:%M') || ' UTC; '
                            WHEN 'after_last_fix' THEN 'AIS silent after its last fix '
                                 || strftime(silent_from, '%Y-%m-%d %H:%M') || ' UTC; '
                            ELSE 'AIS silent ' || strftime(silent_from, '%Y-%m-%d %H:%M') || ' to '
                                 || strftime(silent_to, '%Y-%m-%d %H:%M') || ' UTC; ' END
                        || CASE WHEN from_last_km IS NULL THEN ''
                                ELSE CAST(round(from_last_km, 1) AS VARCHAR) || ' km from its last fix at '
                                     || CAST(round(speed_from_last_kn, 1) AS VARCHAR) || ' kn; ' END
                        || CASE WHEN to_next_km IS NULL THEN ''
                                ELSE CAST(round(to_next_km, 1) AS VARCHAR) || ' km to its next at '
                                     || CAST(round(speed_to_next_kn, 1) AS VARCHAR) || ' kn; ' END
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
