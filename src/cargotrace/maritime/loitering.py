"""Loitering: a vessel slow for a long time away from port and shore, in the manner of Global
Fishing Watch's loitering events (every number a setting, defaults in brackets).

A loitering event is a run of consecutive fixes of one MMSI slower than
`loitering_max_sog_kn` [2 kn], with no AIS gap of `gap_hours` [6 h] inside, lasting at least
`loitering_min_hours` [4 h], whose mean position is more than `loitering_min_port_km` [10 km]
from every port and at least `loitering_min_shore_km` [37.04 km, GFW's 20 nm] from shore.
Spoofed fixes (a jump out and straight back, maritime/track.spoofed_sql) are left out. Distance from
shore comes from the case's borders (maritime/shore.py); without them `shore_km` is null and
only the port rule applies (`shore_known` false), which the report says.

Read from `positions` (not the track: its own order and runs). The SQL runs on Spark with
the other maritime stages; the distance from shore (`build`) on DuckDB.
"""

from __future__ import annotations

import duckdb
import numpy as np

from cargotrace.maritime.offshore import far_from_ports_sql, nearest_port_km_sql
from cargotrace.maritime.shore import shore_km
from cargotrace.settings import AnalysisSettings

RUN_COLUMNS = "mmsi, started_at, ended_at, fixes, lat, lon, median_sog_kn"


def runs_sql(settings: AnalysisSettings) -> str:
    """Common table expressions ending in `e`: every run of slow fixes of one MMSI with no gap
    inside, at least `loitering_min_hours` long (RUN_COLUMNS: means of lat and lon, the
    median speed unrounded). maritime/kernels/loitering.py computes the same rows in the
    track kernel's pass over the vessels."""
    slow = f"sog < {settings.loitering_max_sog_kn}"
    return f"""
        p AS (
            -- k numbers the fixes in the order lag saw them: a second window ordered by the
            -- same keys could order fixes equal in all of them otherwise, and cut runs apart
            SELECT mmsi, timestamp AS ts, lat, lon, sog, lag(timestamp) OVER w AS prev_ts, row_number() OVER w AS k
            FROM positions pos
            WHERE mmsi IS NOT NULL AND timestamp IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM spoofed_fixes s WHERE s.mmsi = pos.mmsi AND s.ts = pos.timestamp
                                                              AND s.lat = pos.lat AND s.lon = pos.lon)
            WINDOW w AS (PARTITION BY mmsi ORDER BY timestamp, lat, lon, sog NULLS LAST)
        ), r AS (
            -- a run of slow fixes starts after any fix that is not slow, or after a gap
            SELECT *, sum(CASE WHEN sog IS NULL OR NOT ({slow}) OR prev_ts IS NULL
                                    OR epoch(ts) - epoch(prev_ts) >= {settings.gap_hours * 3600} THEN 1 ELSE 0 END)
                          OVER (PARTITION BY mmsi ORDER BY k ROWS UNBOUNDED PRECEDING) AS run
            FROM p
        ), e AS (
            SELECT mmsi, run, min(ts) AS started_at, max(ts) AS ended_at, count(*) AS fixes,
                   avg(lat) AS lat, avg(lon) AS lon, median(sog) AS median_sog_kn
            FROM r WHERE {slow} GROUP BY mmsi, run
            HAVING epoch(max(ts)) - epoch(min(ts)) >= {settings.loitering_min_hours * 3600}
        )"""


def candidates_sql(settings: AnalysisSettings, runs: str) -> str:
    """`loitering_candidates`: the runs (`runs`: common table expressions ending in `e`,
    RUN_COLUMNS) far enough from every port."""
    return f"""
        CREATE OR REPLACE TEMP TABLE loitering_candidates AS
        WITH {runs}
        SELECT e.mmsi, e.started_at, e.ended_at, round((epoch(e.ended_at) - epoch(e.started_at)) / 3600.0, 3) AS hours,
               e.fixes, e.lat, e.lon, round(e.median_sog_kn, 2) AS median_sog_kn,
               {nearest_port_km_sql("e")} AS nearest_port_km
        FROM e
        WHERE {far_from_ports_sql(settings.loitering_min_port_km, "e")}
        """


def statements(settings: AnalysisSettings) -> list[str]:
    """The runs a table of their own (`loitering_runs`), then the candidates over it: their
    mean place computed once (a common table expression may be evaluated twice, e.g. by
    Spark for the nearest port's correlated subquery, and joined back on the exact doubles
    of the mean: `encounters.encounter_runs_sql`)."""
    return [
        f"CREATE OR REPLACE TEMP TABLE loitering_runs AS WITH {runs_sql(settings)} SELECT {RUN_COLUMNS} FROM e",
        candidates_sql(settings, "e AS (SELECT * FROM loitering_runs)"),
    ]


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    """`loitering`: the candidates at least `loitering_min_shore_km` from shore (when known)."""
    where = con.execute(
        "SELECT lat, lon FROM loitering_candidates ORDER BY mmsi, started_at"
    ).fetchnumpy()
    lat, lon = np.asarray(where["lat"], float), np.asarray(where["lon"], float)
    km = shore_km(con, lat, lon)
    con.execute("CREATE OR REPLACE TEMP TABLE loitering_shore (k BIGINT, shore_km DOUBLE)")
    if km is not None and len(km):
        con.executemany(
            "INSERT INTO loitering_shore VALUES (?, ?)",
            [(i + 1, None if np.isnan(v) else round(float(v), 1)) for i, v in enumerate(km)],
        )
    known = "TRUE" if km is not None else "FALSE"
    con.execute(
        f"""CREATE OR REPLACE TABLE loitering AS
            WITH c AS (SELECT *, row_number() OVER (ORDER BY mmsi, started_at) AS k FROM loitering_candidates)
            SELECT md5(CAST(c.mmsi AS VARCHAR) || '|' || CAST(c.started_at AS VARCHAR)) AS loitering_id,
                   c.mmsi, c.started_at, c.ended_at, c.hours, c.fixes, c.lat, c.lon, c.median_sog_kn,
                   c.nearest_port_km, s.shore_km, {known} AS shore_known
            FROM c LEFT JOIN loitering_shore s USING (k)
            WHERE s.shore_km IS NULL OR s.shore_km >= {settings.loitering_min_shore_km}
            ORDER BY c.started_at, c.mmsi"""
    )
