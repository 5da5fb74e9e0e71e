"""Stops anywhere (not only in ports), with the same hysteresis as port calls: a stop begins
at a fix slower than `stop_begin_kn` and ends at the first fix faster than `stop_end_kn`;
it lasts from its first stopped fix to its last, and counts when that is at least
`min_call_hours`. The speed of a fix is its reported speed over ground, or, when a source
has none (tracks from GPS loggers, anonymised exports), the speed implied by the step from
the fix before.

Not an analysis stage (port calls need only the stops inside port zones): used to validate
the hysteresis on real tracks against MovingPandas (benchmarks/compare_movingpandas.py) and
available to library users as `statements(settings)`; reads `track`, writes `stops`.
"""

from __future__ import annotations

from cargotrace.maritime.track import vessel_key_sql
from cargotrace.reference.geodesy import KM_PER_NM
from cargotrace.settings import AnalysisSettings
from cargotrace.sql import haversine_km


def stop_state_sql(speed: str, settings: AnalysisSettings) -> str:
    """The hysteresis of a stop, for one fix: 1 (stopped) below `stop_begin_kn`, 0 (moving)
    above `stop_end_kn`, NULL in between (the fix keeps the state before it). The one
    definition, used here and by port calls (maritime/port_calls.py)."""
    return f"CASE WHEN {speed} < {settings.stop_begin_kn} THEN 1 WHEN {speed} > {settings.stop_end_kn} THEN 0 END"


def statements(settings: AnalysisSettings) -> list[str]:
    step = haversine_km("lag(lat) OVER w", "lag(lon) OVER w", "lat", "lon")
    implied = f"CASE WHEN epoch(ts) > epoch(prev_ts) THEN {step} / {KM_PER_NM} * 3600 / (epoch(ts) - epoch(prev_ts)) END"
    v = stop_state_sql(f"coalesce(sog, {implied})", settings)
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE stop_changes AS
        WITH decisive AS (
            SELECT vid, mmsi, tx, seq, ts, prev_ts, lat, lon, v, lag(v) OVER (PARTITION BY vid ORDER BY seq) AS pv
            FROM (SELECT *, {v} AS v FROM track WINDOW w AS (PARTITION BY vid ORDER BY seq)) t WHERE v IS NOT NULL
        )
        SELECT * FROM decisive WHERE (v = 1 AND coalesce(pv, 0) = 0) OR (v = 0 AND pv = 1)
        """,
        f"""
        CREATE OR REPLACE TABLE stops AS
        WITH paired AS (
            SELECT *, lead(seq) OVER w AS end_seq, lead(prev_ts) OVER w AS end_prev_ts
            FROM stop_changes WINDOW w AS (PARTITION BY vid ORDER BY seq)
        ), last_fix AS (
            SELECT vid, max(seq) AS seq, max(ts) AS ts FROM track GROUP BY vid
        )
        SELECT {vessel_key_sql("p.mmsi", "p.tx")} AS vessel_key, p.mmsi, p.ts AS started_at,
               coalesce(p.end_prev_ts, l.ts) AS ended_at,
               round((epoch(coalesce(p.end_prev_ts, l.ts)) - epoch(p.ts)) / 3600.0, 3) AS hours,
               coalesce(p.end_seq, l.seq + 1) - p.seq AS fixes, p.lat, p.lon
        FROM paired p JOIN last_fix l ON l.vid = p.vid
        WHERE p.v = 1 AND epoch(coalesce(p.end_prev_ts, l.ts)) - epoch(p.ts) >= {settings.min_call_hours} * 3600
        ORDER BY p.mmsi, started_at
        """,
    ]
