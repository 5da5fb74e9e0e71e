"""Satellite detections matched to AIS: which detected ships AIS already shows (*lit*).

A vessel is placed at a detection's time from its fixes within `detection_match_hours` [2 h]
of it: interpolated along the straight line between the fix before and the fix after, or,
with a fix on one side only, dead-reckoned from it at its reported speed and course (held
where it has none). The placement is trusted to `detection_match_base_m` [1000 m] at a fix,
and the tolerance grows by `detection_match_drift_kn` [4 kn] times the time to the nearest fix
used. A vessel is a candidate for a detection when the detection lies within that tolerance
and their lengths agree: |detected - known| <= `detection_length_tolerance` [0.35] x known,
when both are known (a vessel's length comes from the `vessels` files' `length_m`).

One vessel per detection and one detection per vessel per scene (`scene_id`; the detection
time when there is none): an assignment, greedy by distance — the closest candidate pair is
taken first, then the closest pair left whose detection and vessel are both still free, and
so on (done in SQL rounds: each round takes the pairs that are the closest for both their
detection and their vessel). `detection_matches` holds the pairs with the distance, the
tolerance and the reason in words. Detections without a match are *dark*
(maritime/detection_attribution.py).

At scale (100,000 detections against 10 million positions: benchmarks/bench_detections.py)
the vessels near a detection come from a small index, the (window of `detection_match_hours`,
cell of the reach at `max_speed_kn` in that time) where each vessel transmits, joined on the
detection's own and neighbouring windows and cells; then one as-of join per side finds each
such vessel's fix before and after the detection. No pair of a detection and a far-away
position is ever formed.

Read from `positions` (fixes flagged impossible at ingest left out), so the stage runs
wherever the case is: on the Spark engine it runs in DuckDB after the Spark stages (not on
Spark yet: registered after the last Spark stage, as a Python step). Without detections its
tables are empty.
"""

from __future__ import annotations

import duckdb

from cargotrace.reference.geodesy import KM_PER_DEG, KM_PER_NM
from cargotrace.settings import AnalysisSettings
from cargotrace.sql import haversine_km

KM_PER_DEG_LAT = KM_PER_DEG
M_PER_S_PER_KN = KM_PER_NM * 1000 / 3600


def vessel_lengths_sql() -> str:
    """One length per MMSI (the longest given in the `vessels` files)."""
    return """SELECT mmsi, max(length_m) AS length_m FROM vessel_details
              WHERE mmsi IS NOT NULL AND length_m > 0 GROUP BY mmsi"""


def length_agrees_sql(detected: str, known: str, settings: AnalysisSettings) -> str:
    """True when the lengths agree or either is unknown (the one length rule)."""
    return (
        f"({detected} IS NULL OR {known} IS NULL OR "
        f"abs({detected} - {known}) <= {settings.detection_length_tolerance} * {known})"
    )


def scene_key_sql(alias: str = "d") -> str:
    return f"coalesce({alias}.scene_id, CAST({alias}.detected_at AS VARCHAR))"


def statements(settings: AnalysisSettings) -> list[str]:
    window_s = int(round(settings.detection_match_hours * 3600))
    reach_deg = (
        settings.detection_match_base_m / 1000
        + settings.detection_match_hours * settings.max_speed_kn * KM_PER_NM
    ) / KM_PER_DEG_LAT
    # dead reckoning on one side: sog (kn) x hours along cog, on a local flat Earth
    # (no dead reckoning where speed or course is "not available": 102.3 kn, 360 deg)
    ahead_km = f"(CASE WHEN cog0 < 360 AND sog0 < 102.2 THEN sog0 ELSE 0 END) * {KM_PER_NM} * (epoch(detected_at) - epoch(t0)) / 3600.0"
    back_km = f"(CASE WHEN cog1 < 360 AND sog1 < 102.2 THEN sog1 ELSE 0 END) * {KM_PER_NM} * (epoch(t1) - epoch(detected_at)) / 3600.0"
    valid = """SELECT mmsi, timestamp, lat, lon, sog, cog FROM positions
               WHERE mmsi IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL
                 AND coalesce(flags, '') NOT LIKE '%impossible%'"""
    cells = f"floor(epoch({{t}}) / {window_s}) AS tb, floor({{lat}} / {reach_deg}) AS cy, floor({{lon}} / {reach_deg}) AS cx"
    return [
        # which vessels transmit in which (window, cell): a small index of the positions
        f"""
        CREATE OR REPLACE TEMP TABLE detection_presence AS
        SELECT DISTINCT mmsi, {cells.format(t="timestamp", lat="lat", lon="lon")} FROM ({valid})
        """,
        # each detection's own and neighbouring windows and cells (more cells of longitude
        # towards the poles, where a degree of longitude is shorter): the vessels seen there
        # are the only ones that can reach it within the window at `max_speed_kn`
        f"""
        CREATE OR REPLACE TEMP TABLE detection_vessels AS
        WITH d AS (
            SELECT detection_id, detected_at, {cells.format(t="detected_at", lat="lat", lon="lon")},
                   CAST(ceil(1 / greatest(cos(radians(least(abs(lat) + {reach_deg}, 90))), 0.01)) AS BIGINT) AS k
            FROM detections
        ), keys AS (
            SELECT d.detection_id, d.detected_at, d.tb + a.i AS tb, d.cy + b.i AS cy, d.cx + c.i AS cx
            FROM d, range(-1, 2) a(i), range(-1, 2) b(i), range(-100, 101) c(i)
            WHERE c.i BETWEEN -d.k AND d.k
        )
        SELECT DISTINCT k.detection_id, k.detected_at, p.mmsi
        FROM keys k JOIN detection_presence p USING (tb, cy, cx)
        """,
        # the fix before and the fix after each detection of each such vessel (as-of joins),
        # kept when within the window
        f"""
        CREATE OR REPLACE TEMP TABLE detection_fixes AS
        WITH before AS (
            SELECT v.detection_id, v.mmsi, f.timestamp AS t0, f.lat AS lat0, f.lon AS lon0, f.sog AS sog0, f.cog AS cog0
            FROM detection_vessels v ASOF JOIN ({valid}) f ON v.mmsi = f.mmsi AND v.detected_at >= f.timestamp
            WHERE f.timestamp >= v.detected_at - to_seconds({window_s})
        ), after AS (
            SELECT v.detection_id, v.mmsi, f.timestamp AS t1, f.lat AS lat1, f.lon AS lon1, f.sog AS sog1, f.cog AS cog1
            FROM detection_vessels v ASOF JOIN ({valid}) f ON v.mmsi = f.mmsi AND v.detected_at < f.timestamp
            WHERE f.timestamp <= v.detected_at + to_seconds({window_s})
        )
        SELECT detection_id, mmsi, b.t0, b.lat0, b.lon0, b.sog0, b.cog0, a.t1, a.lat1, a.lon1, a.sog1, a.cog1
        FROM before b FULL JOIN after a USING (detection_id, mmsi)
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE detection_placed AS
        WITH f AS (
            SELECT x.*, d.detected_at, d.lat, d.lon, d.length_m, {scene_key_sql()} AS scene_key,
                   CASE WHEN x.t0 IS NOT NULL AND x.t1 IS NOT NULL THEN 'interpolated'
                        WHEN x.t0 IS NOT NULL THEN 'after_last_fix' ELSE 'before_next_fix' END AS method
            FROM detection_fixes x JOIN detections d USING (detection_id)
        ), placed AS (
            SELECT f.*,
                   CASE method
                       WHEN 'interpolated' THEN lat0 + (lat1 - lat0) * (epoch(detected_at) - epoch(t0)) / greatest(epoch(t1) - epoch(t0), 1e-9)
                       WHEN 'after_last_fix' THEN lat0 + {ahead_km} * cos(radians(coalesce(cog0, 0))) / {KM_PER_DEG_LAT}
                       ELSE lat1 - {back_km} * cos(radians(coalesce(cog1, 0))) / {KM_PER_DEG_LAT}
                   END AS est_lat,
                   CASE method
                       WHEN 'interpolated' THEN lon0 + (lon1 - lon0) * (epoch(detected_at) - epoch(t0)) / greatest(epoch(t1) - epoch(t0), 1e-9)
                       WHEN 'after_last_fix' THEN lon0 + {ahead_km} * sin(radians(coalesce(cog0, 0))) / ({KM_PER_DEG_LAT} * cos(radians(lat0)))
                       ELSE lon1 - {back_km} * sin(radians(coalesce(cog1, 0))) / ({KM_PER_DEG_LAT} * cos(radians(lat1)))
                   END AS est_lon,
                   least(coalesce(epoch(detected_at) - epoch(t0), 1e18), coalesce(epoch(t1) - epoch(detected_at), 1e18)) AS seconds_to_fix
            FROM f
        )
        SELECT p.detection_id, p.scene_key, p.detected_at, p.mmsi, p.method, p.t0, p.t1,
               round(p.seconds_to_fix / 60.0, 1) AS minutes_to_fix,
               round(1000 * {haversine_km("p.est_lat", "p.est_lon", "p.lat", "p.lon")}, 1) AS distance_m,
               round({settings.detection_match_base_m} + {settings.detection_match_drift_kn * M_PER_S_PER_KN} * p.seconds_to_fix, 1) AS tolerance_m,
               p.length_m AS detection_length_m, v.length_m AS vessel_length_m,
               {length_agrees_sql("p.length_m", "v.length_m", settings)} AS length_agrees
        FROM placed p LEFT JOIN ({vessel_lengths_sql()}) v USING (mmsi)
        """,
        # candidate pairs; the assignment (build) takes them in rounds
        """
        CREATE OR REPLACE TEMP TABLE detection_pool AS
        SELECT * FROM detection_placed WHERE distance_m <= tolerance_m AND length_agrees
        """,
        """
        CREATE OR REPLACE TABLE detection_matches AS
        SELECT detection_id, scene_key, detected_at, mmsi, method, minutes_to_fix, distance_m,
               tolerance_m, detection_length_m, vessel_length_m, CAST(NULL AS VARCHAR) AS reason
        FROM detection_pool WHERE false
        """,
    ]


_ROUND = """
INSERT INTO detection_matches
SELECT detection_id, scene_key, detected_at, mmsi, method, minutes_to_fix, distance_m, tolerance_m,
       detection_length_m, vessel_length_m, NULL
FROM (
    SELECT *,
           row_number() OVER (PARTITION BY detection_id ORDER BY distance_m, mmsi) AS by_detection,
           row_number() OVER (PARTITION BY mmsi, scene_key ORDER BY distance_m, detection_id) AS by_vessel
    FROM detection_pool
) WHERE by_detection = 1 AND by_vessel = 1
"""

_PRUNE = """
DELETE FROM detection_pool p WHERE EXISTS (
    SELECT 1 FROM detection_matches m
    WHERE m.detection_id = p.detection_id OR (m.mmsi = p.mmsi AND m.scene_key = p.scene_key))
"""


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    """`detection_matches`: the assignment of detections to vessels, then its reasons."""
    for statement in statements(settings):
        con.execute(statement)
    while con.execute("SELECT count(*) FROM detection_pool").fetchone()[0]:  # type: ignore[index]
        con.execute(_ROUND)
        con.execute(_PRUNE)
    con.execute(
        """UPDATE detection_matches SET reason =
             CASE method
                 WHEN 'interpolated' THEN 'AIS positions interpolated between fixes '
                 WHEN 'after_last_fix' THEN 'AIS dead-reckoned from its fix '
                 ELSE 'AIS dead-reckoned back from its fix ' END
             || CAST(minutes_to_fix AS VARCHAR) || ' min away: ' || CAST(round(distance_m) AS BIGINT)
             || ' m off (tolerance ' || CAST(round(tolerance_m) AS BIGINT) || ' m)'
             || CASE WHEN detection_length_m IS NOT NULL AND vessel_length_m IS NOT NULL
                     THEN '; length ' || CAST(round(detection_length_m) AS BIGINT) || ' m detected, '
                          || CAST(round(vessel_length_m) AS BIGINT) || ' m known'
                     ELSE '; length not compared' END"""
    )
