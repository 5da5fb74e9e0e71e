"""Satellite detections matched to AIS: which detected ships AIS already shows (*lit*).

A vessel is placed at a detection's time from its fixes within `detection_match_hours` [2 h]
of it: interpolated along the straight line between the fix before and the fix after, or,
with a fix on one side only, dead-reckoned from it at its reported speed and course (held
where it has none). The placement is trusted to `detection_match_base_m` [1000 m] at a fix,
and the tolerance grows by `detection_match_drift_kn` [4 kn] times the time to the nearest fix
used. A vessel is a candidate for a detection when the detection lies within that tolerance
and their lengths agree: |detected - known| <= `detection_length_tolerance` [0.35] x known,
when both are known (a vessel's length comes from the `vessels` files' `length_m`, else
from its static AIS reports: dimensions A + B of types 5 and 19, or a CSV Length column).

One vessel per detection and one detection per vessel per scene (`scene_id`; the detection
time when there is none): an assignment, greedy by distance — the closest candidate pair is
taken first, then the closest pair left whose detection and vessel are both still free, and
so on (done in SQL rounds: each round takes the pairs that are the closest for both their
detection and their vessel). `detection_matches` holds the pairs with the distance, the
tolerance and the reason in words. Detections without a match are *dark*
(maritime/detection_attribution.py).

At scale (100,000 detections against 10 million positions: benchmarks/bench_detections.py)
the vessels near a detection come from a small index of where each vessel transmits, in two
tiers (statements() says why together they miss no vessel that can match): (10 minutes, cell
of the reach in 10 minutes at `max_speed_kn` plus the drift) for every fix, and (window of
`detection_match_hours`, cell of the reach in that time) for the fixes next to a silence of
more than 10 minutes; joined on the detection's own and neighbouring buckets and cells. Then
one as-of join per side finds each such vessel's fix before and after the detection. No pair
of a detection and a far-away position is ever formed.

Read from `positions` (the impossible fixes, table `impossible_fixes`, left out), so the stage runs
wherever the case is: on the Spark engine it runs in DuckDB after the Spark stages (not on
Spark yet: registered after the last Spark stage, as a Python step). Without detections its
tables are empty.
"""

from __future__ import annotations

import duckdb

from cargotrace.maritime.interference import possible_fix_sql
from cargotrace.reference.geodesy import KM_PER_DEG, KM_PER_NM
from cargotrace.settings import AnalysisSettings
from cargotrace.sql import haversine_km

KM_PER_DEG_LAT = KM_PER_DEG
M_PER_S_PER_KN = KM_PER_NM * 1000 / 3600
FINE_BUCKET_S = 600  # the fine tier of the index of where vessels transmit (statements)


def vessel_lengths_sql() -> str:
    """One length per MMSI: the longest given in the `vessels` files, else the longest its
    static AIS reports give (types 5 and 19: dimensions A + B; a CSV Length column)."""
    return """SELECT mmsi, coalesce(max(length_m) FILTER (WHERE given), max(length_m)) AS length_m
              FROM (SELECT mmsi, length_m, TRUE AS given FROM vessel_details
                    UNION ALL SELECT mmsi, length_m, FALSE FROM vessel_reports)
              WHERE mmsi IS NOT NULL AND length_m > 0 GROUP BY mmsi"""


def length_agrees_sql(detected: str, known: str, settings: AnalysisSettings) -> str:
    """True when the lengths agree or either is unknown (the one length rule)."""
    return (
        f"({detected} IS NULL OR {known} IS NULL OR "
        f"abs({detected} - {known}) <= {settings.detection_length_tolerance} * {known})"
    )


def scene_key_sql(alias: str = "d", time: str = "detected_at") -> str:
    return f"coalesce({alias}.scene_id, CAST({alias}.{time} AS VARCHAR))"


def scenes_sql() -> str:
    """Every scene with a footprint (`scene_key, scene_at, footprint_wkt`): the scenes of
    the detections (a scene's time its first detection's) and the scenes in which nothing
    was detected (`empty_scenes`, their time when taken); the one definition of a scene
    that the footprint rules test."""
    return f"""SELECT scene_key, min(scene_at) AS scene_at, min(footprint_wkt) AS footprint_wkt
               FROM (SELECT {scene_key_sql()} AS scene_key, d.detected_at AS scene_at, d.footprint_wkt
                     FROM detections d
                     UNION ALL
                     SELECT {scene_key_sql("e", "scene_at")}, e.scene_at, e.footprint_wkt FROM empty_scenes e)
               GROUP BY scene_key HAVING count(footprint_wkt) > 0"""


VALID_FIXES = f"""SELECT mmsi, timestamp, lat, lon, sog, cog FROM positions p
               WHERE mmsi IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL
                 AND {possible_fix_sql("p")}"""
METHOD_SQL = """CASE WHEN t0 IS NOT NULL AND t1 IS NOT NULL THEN 'interpolated'
                     WHEN t0 IS NOT NULL THEN 'after_last_fix' ELSE 'before_next_fix' END"""


def fixes_sql(targets: str, key: str, settings: AnalysisSettings) -> str:
    """The fix before and the fix after (within `detection_match_hours`) of each row of
    `targets` (`key`, `mmsi`, `detected_at`): as-of joins, one per side."""
    window_s = int(round(settings.detection_match_hours * 3600))
    return f"""
        WITH before AS (
            SELECT v.{key}, v.mmsi, f.timestamp AS t0, f.lat AS lat0, f.lon AS lon0, f.sog AS sog0, f.cog AS cog0
            FROM {targets} v ASOF JOIN ({VALID_FIXES}) f ON v.mmsi = f.mmsi AND v.detected_at >= f.timestamp
            WHERE f.timestamp >= v.detected_at - to_seconds({window_s})
        ), after AS (
            SELECT v.{key}, v.mmsi, f.timestamp AS t1, f.lat AS lat1, f.lon AS lon1, f.sog AS sog1, f.cog AS cog1
            FROM {targets} v ASOF JOIN ({VALID_FIXES}) f ON v.mmsi = f.mmsi AND v.detected_at < f.timestamp
            WHERE f.timestamp <= v.detected_at + to_seconds({window_s})
        )
        SELECT {key}, mmsi, b.t0, b.lat0, b.lon0, b.sog0, b.cog0, a.t1, a.lat1, a.lon1, a.sog1, a.cog1
        FROM before b FULL JOIN after a USING ({key}, mmsi)
        """


def placement_columns() -> str:
    """`est_lat, est_lon, seconds_to_fix`: where a vessel's AIS places it at `detected_at`
    from its fixes (`method`, t0/lat0/... before, t1/lat1/... after): interpolated, or
    dead-reckoned from one side (the one placement rule)."""
    # dead reckoning on one side: sog (kn) x hours along cog, on a local flat Earth
    # (no dead reckoning where speed or course is "not available": 102.3 kn, 360 deg)
    ahead_km = f"(CASE WHEN cog0 < 360 AND sog0 < 102.2 THEN sog0 ELSE 0 END) * {KM_PER_NM} * (epoch(detected_at) - epoch(t0)) / 3600.0"
    back_km = f"(CASE WHEN cog1 < 360 AND sog1 < 102.2 THEN sog1 ELSE 0 END) * {KM_PER_NM} * (epoch(t1) - epoch(detected_at)) / 3600.0"
    return f"""
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
                   least(coalesce(epoch(detected_at) - epoch(t0), 1e18), coalesce(epoch(t1) - epoch(detected_at), 1e18)) AS seconds_to_fix"""


def tolerance_m_sql(seconds: str, settings: AnalysisSettings) -> str:
    """Lit matching's tolerance (m) for a placement `seconds` from its fix."""
    return f"({settings.detection_match_base_m} + {settings.detection_match_drift_kn * M_PER_S_PER_KN} * {seconds})"


def statements(settings: AnalysisSettings) -> list[str]:
    window_s = int(round(settings.detection_match_hours * 3600))
    # a fix t away from the detection is at most max_speed x t from where the vessel is
    # placed, and the placement matches within base + drift x t: a reach per second
    kmps = (settings.max_speed_kn + settings.detection_match_drift_kn) * KM_PER_NM / 3600
    base_km = settings.detection_match_base_m / 1000
    fine_s = min(FINE_BUCKET_S, window_s)
    tiers = {  # tier -> (time bucket s, cell deg)
        "fine": (fine_s, (base_km + kmps * fine_s) / KM_PER_DEG_LAT),
        "coarse": (window_s, (base_km + kmps * window_s) / KM_PER_DEG_LAT),
    }
    valid = VALID_FIXES

    def cells(tier: str, t: str) -> str:
        bucket_s, deg = tiers[tier]
        return f"floor(epoch({t}) / {bucket_s}) AS tb, floor(lat / {deg}) AS cy, floor(lon / {deg}) AS cx"

    def keys(tier: str) -> str:
        deg = tiers[tier][1]
        return f"""
            SELECT d.detection_id, d.detected_at, '{tier}' AS tier, d.tb + a.i AS tb, d.cy + b.i AS cy, d.cx + c.i AS cx
            FROM (SELECT detection_id, detected_at, {cells(tier, "detected_at")},
                         CAST(ceil(1 / greatest(cos(radians(least(abs(lat) + {deg}, 90))), 0.01)) AS BIGINT) AS k
                  FROM detections WHERE lat IS NOT NULL AND lon IS NOT NULL) d,
                 range(-1, 2) a(i), range(-1, 2) b(i), range(-100, 101) c(i)
            WHERE c.i BETWEEN -d.k AND d.k"""

    return [
        # which vessels transmit in which (time bucket, cell): a small index of the positions,
        # in two tiers. A vessel with a fix within FINE_BUCKET_S of a detection is found in the
        # fine tier (10 minutes; a cell of the reach in that time); one without has its fix
        # before and its fix after more than that apart, so both are fixes next to a silence
        # longer than FINE_BUCKET_S, and only those fixes make the coarse tier (the window; a
        # cell of the reach in that time). In dense AIS the coarse tier is small.
        f"""
        CREATE OR REPLACE TEMP TABLE detection_presence AS
        WITH f AS (
            SELECT mmsi, timestamp, lat, lon,
                   epoch(timestamp) - epoch(lag(timestamp) OVER w) > {fine_s}
                   OR epoch(lead(timestamp) OVER w) - epoch(timestamp) > {fine_s}
                   OR lag(timestamp) OVER w IS NULL OR lead(timestamp) OVER w IS NULL AS by_silence
            FROM ({valid}) WINDOW w AS (PARTITION BY mmsi ORDER BY timestamp)
        )
        SELECT DISTINCT 'fine' AS tier, mmsi, {cells("fine", "timestamp")} FROM f
        UNION ALL
        SELECT DISTINCT 'coarse' AS tier, mmsi, {cells("coarse", "timestamp")} FROM f WHERE by_silence
        """,
        # each detection's own and neighbouring buckets and cells (more cells of longitude
        # towards the poles, where a degree of longitude is shorter), in both tiers: the
        # vessels there are the only ones whose fixes can place them at the detection
        f"""
        CREATE OR REPLACE TEMP TABLE detection_vessels AS
        WITH keys AS ({keys("fine")} UNION ALL {keys("coarse")})
        SELECT DISTINCT k.detection_id, k.detected_at, p.mmsi
        FROM keys k JOIN detection_presence p USING (tier, tb, cy, cx)
        """,
        # the fix before and the fix after each detection of each such vessel (as-of joins),
        # kept when within the window
        f"CREATE OR REPLACE TEMP TABLE detection_fixes AS {fixes_sql('detection_vessels', 'detection_id', settings)}",
        f"""
        CREATE OR REPLACE TEMP TABLE detection_placed AS
        WITH f AS (
            SELECT x.*, d.detected_at, d.lat, d.lon, d.length_m, {scene_key_sql()} AS scene_key,
                   {METHOD_SQL} AS method
            FROM detection_fixes x JOIN detections d USING (detection_id)
        ), placed AS (
            SELECT f.*, {placement_columns()} FROM f
        )
        SELECT p.detection_id, p.scene_key, p.detected_at, p.mmsi, p.method, p.t0, p.t1,
               round(p.seconds_to_fix / 60.0, 1) AS minutes_to_fix,
               round(1000 * {haversine_km("p.est_lat", "p.est_lon", "p.lat", "p.lon")}, 1) AS distance_m,
               round({tolerance_m_sql("p.seconds_to_fix", settings)}, 1) AS tolerance_m,
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
