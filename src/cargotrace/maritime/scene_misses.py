"""Vessels whose own AIS places them inside a scene that shows no detection near them.

A scene with a footprint (`detections.footprint_wkt`; a scene is `scene_id`, its time its
first detection's; or a scene in which nothing was detected, `empty_scenes`, at the time it
was taken) saw what was in it. A vessel whose AIS places it inside the footprint at
the scene's time (lit matching's placement, maritime/detections.py: interpolated between its
fixes within `detection_match_hours`, or dead-reckoned from one side), farther than lit
matching's tolerance (`detection_match_base_m` + `detection_match_drift_kn` x the time to
that fix) from every detection of the scene, is *unseen*: the imagery contradicts its AIS
there. That is evidence against the vessel's AIS position at that time (a false position,
or a ship too small for the sensor or missed by it), never proof; `scene_misses` lists it
with the nearest detection of the scene and the reason in words. A vessel that matched a
detection of the scene (lit) is not listed.

The vessels looked at for a scene are those with a fix in the scene's time window within the
footprint's bounding box widened by the reach in that window (`max_speed_kn` plus the drift),
so no pair of a scene and a far-away position is formed; the footprint test itself is
shapely's `contains_xy` over every placement at once.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import shapely

from cargotrace.maritime.detections import (
    KM_PER_DEG_LAT,
    METHOD_SQL,
    VALID_FIXES,
    fixes_sql,
    placement_columns,
    scene_key_sql,
    scenes_sql,
    tolerance_m_sql,
)
from cargotrace.reference.geodesy import KM_PER_NM
from cargotrace.settings import AnalysisSettings
from cargotrace.sql import haversine_km


def statements(settings: AnalysisSettings) -> list[str]:
    """After `scene_frames` (build): the vessels near each scene, their placement, and the
    ones placed farther than the tolerance from every detection of the scene."""
    window_s = int(round(settings.detection_match_hours * 3600))
    reach_deg = (
        settings.detection_match_base_m / 1000
        + (settings.max_speed_kn + settings.detection_match_drift_kn) * KM_PER_NM * window_s / 3600
    ) / KM_PER_DEG_LAT
    widen_lon = f"{reach_deg} / greatest(cos(radians(least(greatest(abs(s.ymin), abs(s.ymax)) + {reach_deg}, 89))), 0.01)"
    nearest_m = f"1000 * {haversine_km('d.lat', 'd.lon', 'p.est_lat', 'p.est_lon')}"
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE scene_vessels AS
        SELECT DISTINCT s.scene_no, s.scene_at AS detected_at, f.mmsi
        FROM scene_frames s JOIN ({VALID_FIXES}) f
          ON f.timestamp BETWEEN s.scene_at - to_seconds({window_s}) AND s.scene_at + to_seconds({window_s})
         AND f.lat BETWEEN s.ymin - {reach_deg} AND s.ymax + {reach_deg}
         AND f.lon BETWEEN s.xmin - {widen_lon} AND s.xmax + {widen_lon}
        """,
        f"CREATE OR REPLACE TEMP TABLE scene_fixes AS {fixes_sql('scene_vessels', 'scene_no', settings)}",
        f"""
        CREATE OR REPLACE TEMP TABLE scene_placed AS
        WITH f AS (
            SELECT x.*, s.scene_key, s.scene_at AS detected_at, {METHOD_SQL} AS method
            FROM scene_fixes x JOIN scene_frames s USING (scene_no)
            WHERE x.mmsi NOT IN (SELECT m.mmsi FROM detection_matches m WHERE m.scene_key = s.scene_key)
        ), placed AS (
            SELECT f.*, {placement_columns()} FROM f
        )
        SELECT row_number() OVER (ORDER BY p.scene_no, p.mmsi) AS placed_id, p.scene_no, p.scene_key,
               p.detected_at AS scene_at, p.mmsi, p.method, round(p.seconds_to_fix / 60.0, 1) AS minutes_to_fix,
               p.est_lat, p.est_lon, round({tolerance_m_sql("p.seconds_to_fix", settings)}, 1) AS tolerance_m,
               (SELECT round(min({nearest_m}), 1) FROM detections d
                WHERE {scene_key_sql()} = p.scene_key AND d.lat IS NOT NULL) AS nearest_detection_m
        FROM placed p
        """,
    ]


def _frames(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """`scene_frames`: each scene with a footprint, its time and the footprint's bounds; the
    footprints themselves are returned (shapely geometries, by `scene_no`)."""
    scenes = con.execute(f"{scenes_sql()} ORDER BY scene_key").to_arrow_table()
    wkt = np.asarray(scenes.column("footprint_wkt").to_pylist(), dtype=object)
    footprints = shapely.from_wkt(wkt, on_invalid="ignore")
    bounds = shapely.bounds(footprints)  # NaN for a footprint that is not a polygon
    frames = pa.table({
        "scene_no": pa.array(np.arange(len(wkt), dtype=np.int64)),
        "scene_key": scenes.column("scene_key"),
        "scene_at": scenes.column("scene_at"),
        "xmin": pa.array(bounds[:, 0]), "ymin": pa.array(bounds[:, 1]),
        "xmax": pa.array(bounds[:, 2]), "ymax": pa.array(bounds[:, 3]),
    })  # fmt: skip
    con.register("scene_frames_arrow", frames)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE scene_frames AS SELECT * FROM scene_frames_arrow WHERE NOT isnan(xmin)"
    )
    con.unregister("scene_frames_arrow")
    shapely.prepare(footprints)
    return np.asarray(footprints)


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    footprints = _frames(con)
    for statement in statements(settings):
        con.execute(statement)
    placed = con.execute(
        """SELECT placed_id, scene_no, est_lat, est_lon FROM scene_placed
           WHERE nearest_detection_m IS NULL OR nearest_detection_m > tolerance_m"""
    ).fetchnumpy()
    scene_no = np.asarray(placed["scene_no"], dtype=np.int64)
    inside = shapely.contains_xy(
        footprints[scene_no],
        np.asarray(placed["est_lon"], float),
        np.asarray(placed["est_lat"], float),
    )
    con.register(
        "scene_inside",
        pa.table({"placed_id": pa.array(np.asarray(placed["placed_id"], np.int64)[inside])}),
    )
    con.execute(
        """CREATE OR REPLACE TABLE scene_misses AS
           SELECT scene_key, scene_at, mmsi, method, minutes_to_fix, round(est_lat, 5) AS est_lat,
                  round(est_lon, 5) AS est_lon, tolerance_m, nearest_detection_m,
                  'AIS places it at ' || CAST(round(est_lat, 4) AS VARCHAR) || ', '
                  || CAST(round(est_lon, 4) AS VARCHAR) || ' inside scene ' || scene_key || ' of '
                  || strftime(scene_at, '%Y-%m-%d %H:%M') || ' UTC, and the scene shows '
                  || CASE WHEN nearest_detection_m IS NULL THEN 'no detection'
                          ELSE 'no detection within ' || CAST(CAST(round(tolerance_m) AS BIGINT) AS VARCHAR)
                               || ' m (nearest ' || CAST(CAST(round(nearest_detection_m) AS BIGINT) AS VARCHAR)
                               || ' m)' END AS reason
           FROM scene_placed WHERE placed_id IN (SELECT placed_id FROM scene_inside)
           ORDER BY scene_at, scene_key, mmsi"""
    )
    con.unregister("scene_inside")
