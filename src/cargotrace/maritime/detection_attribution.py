"""Dark detections: detected ships that no AIS track explains, and which vessels they could be.

A detection without a match in `detection_matches` is *dark*. Its candidates are the vessels
whose AIS is silent across its time: a gap covers it (the `gaps` stage's, or one Global
Fishing Watch reported that no AIS gap of the ship overlaps: `all_gaps`, silence `gfw_gap`,
maritime/gfw_events.py), or the detection
falls within `dark_detection_silence_days` [45 d] before the ship's first fix or after its
last (of any of its transmitters, `ship_links`; `silence` says which, and only that one end
is checked for speed). A gap across a change of transmitter (`gaps.identity_change`) is the
ship's under its last identity seen, the one it had when it went dark. Each is judged by the first rule that rules it out, in this order:

* `lit_in_scene` — AIS matched the vessel to another detection of the same scene;
* `speed_from_last_fix` — reaching the detection from the gap's first end (the last fix
  before it) needs more than `dark_detection_max_speed_kn` [16 kn] along a great circle;
* `speed_to_next_fix` — likewise from the detection to the gap's other end (the next fix);
* `length` — the lengths disagree (maritime/detections.py's rule), when both are known;
* `footprint_no_detection` — another scene with a footprint (`footprint_wkt`; a scene is
  `scene_id`, its time its first detection's; or a scene in which nothing was detected,
  `empty_scenes`, at the time it was taken) was taken while the vessel was silent, on its
  way from its last fix to the detection or from the detection to its next fix; on the
  straight line between those two (in degrees, linear in time, as lit placement
  interpolates) the vessel was at a point inside that footprint, and the scene shows no
  detection within lit matching's tolerance of that point (`detection_match_base_m` +
  `detection_match_drift_kn` x the time to the nearer end of that leg). The first such scene
  names the rule's reason. A scene that shows a detection near that point, or one taken
  while the vessel's AIS was on, rules nothing out. The straight line is a simplification:
  a vessel that went around the scene at the speed cap is not seen by it; the tolerance
  grows with the time to the leg's ends to allow for some of that.

Vessels that could not have been there even at `max_speed_kn` [50 kn, the identity stage's
impossible speed] are not listed at all (on a whole coast's AIS they would be hundreds).
A candidate no rule rules out is feasible, with a score in 0..1: half the speed margin
(1 - the higher of the two needed speeds / the limit) and half the length fit (1 - the length
difference / the tolerance, 0.5 when a length is unknown). Feasible candidates are ranked by
score (`rank` 1 the best) and `share` is a candidate's score over the sum of its detection's
feasible scores. `dark_detections` lists every dark detection with its number of feasible and
ruled-out candidates and its best candidate.

Runs in DuckDB (after the Spark stages on the Spark engine), from `detections`, `empty_scenes`, `gaps`,
`detection_matches` and the vessels' lengths; the footprints are tested with shapely
(`contains_xy` over all the placed points of a run at once).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import shapely

from cargotrace.maritime.detections import (
    length_agrees_sql,
    scene_key_sql,
    scenes_sql,
    tolerance_m_sql,
    vessel_lengths_sql,
)
from cargotrace.settings import AnalysisSettings
from cargotrace.sql import haversine_km


def statements(settings: AnalysisSettings) -> list[str]:
    from_km = haversine_km("k.start_lat", "k.start_lon", "k.lat", "k.lon")
    to_km = haversine_km("k.lat", "k.lon", "k.end_lat", "k.end_lon")
    horizon_s = int(round(settings.dark_detection_silence_days * 86400))
    return [
        # where each ship is silent: its gaps, and before its first fix and after its last
        """
        CREATE OR REPLACE TEMP TABLE detection_silences AS
        SELECT CASE g.source WHEN 'ais' THEN 'gap' ELSE 'gfw_gap' END AS silence, coalesce(l.mmsi, g.mmsi) AS mmsi,
               coalesce(l.vessel_key, g.vessel_key) AS vessel_key, g.ship_key, g.gap_id,
               g.started_at, g.ended_at, g.start_lat, g.start_lon, g.end_lat, g.end_lon
        FROM all_gaps g LEFT JOIN ship_links l ON l.vessel_key = g.previous_vessel_key
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
        CREATE OR REPLACE TEMP TABLE detection_pairs AS
        WITH dark AS (
            SELECT d.*, {scene_key_sql()} AS scene_key FROM detections d
            WHERE d.detection_id NOT IN (SELECT detection_id FROM detection_matches)
        ), covering AS (
            SELECT k.*, g.silence, g.mmsi, g.vessel_key, g.ship_key, g.gap_id, g.started_at, g.ended_at,
                   g.start_lat, g.start_lon, g.end_lat, g.end_lon
            FROM dark k JOIN detection_silences g
              ON g.silence IN ('gap', 'gfw_gap') AND g.started_at < k.detected_at AND g.ended_at > k.detected_at
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
                   m.detection_id AS lit_as, k.lat, k.lon, k.start_lat, k.start_lon, k.end_lat, k.end_lon
            FROM covering k
            LEFT JOIN ({vessel_lengths_sql()}) v ON v.mmsi = k.mmsi
            LEFT JOIN detection_matches m ON m.mmsi = k.mmsi AND m.scene_key = k.scene_key
        ), judged AS (
            SELECT *, from_last_km / 1.852 / from_last_hours AS speed_from_last_kn,
                   to_next_km / 1.852 / to_next_hours AS speed_to_next_kn
            FROM pairs
            WHERE coalesce(from_last_km / 1.852 / from_last_hours, 0) <= {settings.max_speed_kn}
              AND coalesce(to_next_km / 1.852 / to_next_hours, 0) <= {settings.max_speed_kn}
        )
        SELECT row_number() OVER (ORDER BY detection_id, mmsi, silence, gap_id) AS pair_id, * FROM judged
        """,
        *footprint_statements(settings),
    ]


def candidate_statements(settings: AnalysisSettings) -> list[str]:
    """`detection_candidates` and `dark_detections`, once the footprint rule has run."""
    limit = settings.dark_detection_max_speed_kn
    tol = settings.detection_length_tolerance
    return [
        f"""
        CREATE OR REPLACE TABLE detection_candidates AS
        WITH ruled AS (
            SELECT p.*, f.scene_key AS unseen_in, f.scene_at AS unseen_at, f.exp_lat AS unseen_lat,
                   f.exp_lon AS unseen_lon, f.tolerance_m AS unseen_tolerance_m, f.leg AS unseen_leg,
                   CASE WHEN lit_as IS NOT NULL THEN 'lit_in_scene'
                        WHEN speed_from_last_kn > {limit} THEN 'speed_from_last_fix'
                        WHEN speed_to_next_kn > {limit} THEN 'speed_to_next_fix'
                        WHEN NOT {length_agrees_sql("detection_length_m", "vessel_length_m", settings)} THEN 'length'
                        WHEN f.pair_id IS NOT NULL THEN 'footprint_no_detection'
                   END AS ruled_out_by,
                   0.5 * (1 - greatest(speed_from_last_kn, speed_to_next_kn) / {limit})
                   + 0.5 * CASE WHEN detection_length_m IS NULL OR vessel_length_m IS NULL THEN 0.5
                                ELSE 1 - abs(detection_length_m - vessel_length_m) / ({tol} * vessel_length_m) END
                     AS raw_score
            FROM detection_pairs p LEFT JOIN footprint_rulings f USING (pair_id)
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
                   WHEN 'footprint_no_detection' THEN 'scene ' || unseen_in || ' of '
                        || strftime(unseen_at, '%Y-%m-%d %H:%M') || ' UTC covers where it would have been '
                        || unseen_leg || ' (' || CAST(round(unseen_lat, 4) AS VARCHAR) || ', '
                        || CAST(round(unseen_lon, 4) AS VARCHAR) || ') and shows no detection within '
                        || CAST(CAST(round(unseen_tolerance_m) AS BIGINT) AS VARCHAR) || ' m'
                   ELSE CASE silence
                            WHEN 'before_first_fix' THEN 'AIS silent before its first fix '
                                 || strftime(silent_to, '%Y-%m-%d %H:%M') || ' UTC; '
                            WHEN 'after_last_fix' THEN 'AIS silent after its last fix '
                                 || strftime(silent_from, '%Y-%m-%d %H:%M') || ' UTC; '
                            WHEN 'gfw_gap' THEN 'AIS silent ' || strftime(silent_from, '%Y-%m-%d %H:%M') || ' to '
                                 || strftime(silent_to, '%Y-%m-%d %H:%M') || ' UTC (a gap Global Fishing Watch reported); '
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


def footprint_statements(settings: AnalysisSettings) -> list[str]:
    """Where each candidate would have been when another scene with a footprint was taken
    during its silence, and whether that scene shows a detection near there (the footprint
    itself is tested in `build`, with shapely)."""
    legs = []
    for leg, a, b, when in (
        ("from its last fix to the detection", ("p.start_lat", "p.start_lon", "p.silent_from"),
         ("p.lat", "p.lon", "p.detected_at"), "s.scene_at > p.silent_from AND s.scene_at < p.detected_at"),
        ("from the detection to its next fix", ("p.lat", "p.lon", "p.detected_at"),
         ("p.end_lat", "p.end_lon", "p.silent_to"), "s.scene_at > p.detected_at AND s.scene_at < p.silent_to"),
    ):  # fmt: skip
        legs.append(f"""
            SELECT p.pair_id, s.scene_key, s.scene_no, s.scene_at, 'on its way {leg}' AS leg,
                   {a[0]} AS lat0, {a[1]} AS lon0, {a[2]} AS t0, {b[0]} AS lat1, {b[1]} AS lon1, {b[2]} AS t1
            FROM detection_pairs p JOIN detection_scenes s ON s.scene_key <> p.scene_key AND {when}
            WHERE {a[0]} IS NOT NULL AND {b[0]} IS NOT NULL""")
    near_m = f"1000 * {haversine_km('d.lat', 'd.lon', 'l.exp_lat', 'l.exp_lon')}"
    return [
        # the scenes with a footprint (a scene's time is its first detection's), and the
        # scenes in which nothing was detected (`empty_scenes`)
        f"""
        CREATE OR REPLACE TEMP TABLE detection_scenes AS
        SELECT row_number() OVER (ORDER BY scene_key) - 1 AS scene_no, * FROM ({scenes_sql()})
        """,
        # the candidate's position at each such scene's time within its silence, on the
        # straight line (in degrees, as lit placement interpolates) between its last fix and
        # the detection, or between the detection and its next fix; the tolerance is lit
        # matching's, from the nearer end of that leg
        f"""
        CREATE OR REPLACE TEMP TABLE footprint_legs AS
        WITH legs AS ({" UNION ALL ".join(legs)}), placed AS (
            SELECT *, (epoch(scene_at) - epoch(t0)) / greatest(epoch(t1) - epoch(t0), 1e-9) AS f,
                   least(epoch(scene_at) - epoch(t0), epoch(t1) - epoch(scene_at)) AS seconds_to_end
            FROM legs
        )
        SELECT row_number() OVER (ORDER BY pair_id, scene_at, scene_key) AS leg_id, pair_id, scene_key,
               scene_no, scene_at, leg, lat0 + (lat1 - lat0) * f AS exp_lat, lon0 + (lon1 - lon0) * f AS exp_lon,
               round({tolerance_m_sql("seconds_to_end", settings)}, 1) AS tolerance_m
        FROM placed
        """,
        # ... kept where the scene shows no detection within that tolerance
        f"""
        CREATE OR REPLACE TEMP TABLE footprint_unseen AS
        SELECT l.* FROM footprint_legs l
        WHERE NOT EXISTS (SELECT 1 FROM detections d
                          WHERE {scene_key_sql()} = l.scene_key AND {near_m} <= l.tolerance_m)
        """,
    ]


def _footprint_rulings(con: duckdb.DuckDBPyConnection) -> None:
    """`footprint_rulings`: per candidate, the first scene whose footprint holds where it would
    have been and shows no detection there (footprint_statements)."""
    scenes = con.execute(
        "SELECT footprint_wkt FROM detection_scenes ORDER BY scene_no"
    ).fetchnumpy()
    unseen = con.execute(
        "SELECT leg_id, scene_no, exp_lat, exp_lon FROM footprint_unseen"
    ).fetchnumpy()
    footprints = shapely.from_wkt(
        np.asarray(scenes["footprint_wkt"], dtype=object), on_invalid="ignore"
    )
    shapely.prepare(footprints)
    scene_no = np.asarray(unseen["scene_no"], dtype=np.int64)
    inside = shapely.contains_xy(
        footprints[scene_no],
        np.asarray(unseen["exp_lon"], float),
        np.asarray(unseen["exp_lat"], float),
    )
    leg_ids = pa.table({"leg_id": pa.array(np.asarray(unseen["leg_id"], np.int64)[inside])})
    con.register("footprint_inside", leg_ids)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE footprint_rulings AS
           SELECT * FROM footprint_unseen WHERE leg_id IN (SELECT leg_id FROM footprint_inside)
           QUALIFY row_number() OVER (PARTITION BY pair_id ORDER BY scene_at, scene_key) = 1"""
    )
    con.unregister("footprint_inside")


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    for statement in statements(settings):
        con.execute(statement)
    _footprint_rulings(con)
    for statement in candidate_statements(settings):
        con.execute(statement)
