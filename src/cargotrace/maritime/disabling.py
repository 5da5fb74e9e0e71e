"""Likely intentional AIS disabling among the gaps, in the manner of Global Fishing Watch
(Welch et al. 2022): a gap of at least `disabling_min_gap_hours` [12 h] whose two ends are
both at least `disabling_min_shore_km` [92.6 km, 50 nm] from shore, by a vessel that was well
received just before it: at least `disabling_min_prior_fixes` [14] fixes in the
`disabling_min_gap_hours` before the gap. That count is the coverage measure taken from the
data itself: a vessel seldom heard before going quiet says little by going quiet, since the
silence may be the receivers' (`fixes_per_hour_before` gives the rate).

Table `ais_disabling`: every gap of at least `disabling_min_gap_hours` and no longer than
`dark_call_max_gap_days` (longer ones say more about coverage or unrelated samples) with
its measures and `likely_intentional`. Without borders in the case, distance from shore is
unknown: `shore_known` is false and no gap is marked likely intentional. DuckDB-only for now
(a Python step over the long gaps; Spark runs it in DuckDB after its stages).
"""

from __future__ import annotations

import duckdb
import numpy as np

from cargotrace.maritime.interference import possible_fix_sql
from cargotrace.maritime.shore import shore_km
from cargotrace.settings import AnalysisSettings


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    window_s = settings.disabling_min_gap_hours * 3600
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE disabling_candidates AS
            WITH g AS (
                SELECT gap_id, vessel_key, mmsi, started_at, ended_at, hours, start_lat, start_lon, end_lat, end_lon
                FROM gaps WHERE hours >= {settings.disabling_min_gap_hours} AND NOT beyond_dark_call_bound
            )
            SELECT g.*, row_number() OVER (ORDER BY g.started_at, g.vessel_key) AS k,
                   (SELECT count(*) FROM positions p WHERE p.mmsi = g.mmsi
                      AND p.timestamp BETWEEN g.started_at - to_seconds(CAST({window_s} AS BIGINT)) AND g.started_at
                      AND {possible_fix_sql("p")}) AS prior_fixes
            FROM g"""
    )
    ends = con.execute(
        "SELECT start_lat, start_lon, end_lat, end_lon FROM disabling_candidates ORDER BY k"
    ).fetchnumpy()
    n = len(ends["start_lat"])
    km = shore_km(
        con,
        np.concatenate([np.asarray(ends["start_lat"], float), np.asarray(ends["end_lat"], float)]),
        np.concatenate([np.asarray(ends["start_lon"], float), np.asarray(ends["end_lon"], float)]),
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE disabling_shore (k BIGINT, start_shore_km DOUBLE, end_shore_km DOUBLE)"
    )
    if km is not None and n:
        rows = [
            (i + 1, *(None if np.isnan(v) else round(float(v), 1) for v in (km[i], km[n + i])))
            for i in range(n)
        ]
        con.executemany("INSERT INTO disabling_shore VALUES (?, ?, ?)", rows)
    known = "TRUE" if km is not None else "FALSE"
    far = settings.disabling_min_shore_km
    con.execute(
        f"""CREATE OR REPLACE TABLE ais_disabling AS
            SELECT c.gap_id, c.vessel_key, c.mmsi, c.started_at, c.ended_at, c.hours,
                   c.start_lat, c.start_lon, c.end_lat, c.end_lon, s.start_shore_km, s.end_shore_km,
                   c.prior_fixes, round(c.prior_fixes / {settings.disabling_min_gap_hours}, 2) AS fixes_per_hour_before,
                   {known} AS shore_known,
                   coalesce(s.start_shore_km >= {far} AND s.end_shore_km >= {far}, FALSE)
                     AND c.prior_fixes >= {settings.disabling_min_prior_fixes} AS likely_intentional
            FROM disabling_candidates c LEFT JOIN disabling_shore s USING (k)
            ORDER BY c.started_at, c.vessel_key"""
    )
