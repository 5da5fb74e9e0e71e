"""Draught change across a gap: a ship that went dark light and came back loaded (or the
other way round), from the draught its static reports gave (AIS type 5, a CSV `Draft`
column: `vessel_reports.draught_m`).

For every gap (maritime/gaps.py) no longer than `dark_call_max_gap_days`, the draught before
is the last one reported at or before the gap's start, by the transmitter that went dark
(the previous one when the ship changed MMSI in the gap), and the draught after the first
one reported at or after its end. A change of at least `draught_change_min_m` [1 m] is an
event: `deeper` (came back loaded) or `shallower` (came back light). Draught is typed in by
the crew, so an unchanged value says little; a change across a dark period says the cargo
changed while nobody could see where.

Table `draught_changes`: the gap (id, vessel, times, ends, possible dark calls), the two
draughts with the times they were reported, `change_m` (after minus before) and
`direction`. Plain window SQL; it reads `gaps`, which DuckDB routes, so on the Spark engine
it runs on DuckDB after the Spark stages.
"""

from __future__ import annotations

from cargotrace.settings import AnalysisSettings


def statements(settings: AnalysisSettings) -> list[str]:
    reports = """SELECT mmsi, observed_at AS ts, draught_m FROM vessel_reports
                 WHERE mmsi IS NOT NULL AND observed_at IS NOT NULL AND draught_m IS NOT NULL"""
    return [
        f"""
        CREATE OR REPLACE TABLE draught_changes AS
        WITH g AS (
            SELECT gap_id, vessel_key, mmsi, started_at, ended_at, hours, start_lat, start_lon,
                   end_lat, end_lon, possible_dark_calls, possible_dark_call_count,
                   CAST(split_part(coalesce(previous_vessel_key, vessel_key), '#', 1) AS BIGINT) AS mmsi_before
            FROM gaps WHERE NOT beyond_dark_call_bound
        ), d AS ({reports}
        ), before_marks AS (  -- a report at the gap's start counts (k 0 sorts before the gap's 1)
            SELECT mmsi, ts, 0 AS k, draught_m, CAST(NULL AS VARCHAR) AS gap_id FROM d
            UNION ALL
            SELECT mmsi_before, started_at, 1, CAST(NULL AS DOUBLE), gap_id FROM g
        ), before_gap AS (
            SELECT gap_id,
                   last_value(draught_m IGNORE NULLS) OVER w AS draught_before_m,
                   last_value(CASE WHEN draught_m IS NOT NULL THEN ts END IGNORE NULLS) OVER w AS draught_before_at
            FROM before_marks
            WINDOW w AS (PARTITION BY mmsi ORDER BY ts, k, draught_m ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        ), after_marks AS (  -- a report at the gap's end counts (k 0 sorts before the reports' 1)
            SELECT mmsi, ts, 1 AS k, draught_m, CAST(NULL AS VARCHAR) AS gap_id FROM d
            UNION ALL
            SELECT mmsi, ended_at, 0, CAST(NULL AS DOUBLE), gap_id FROM g
        ), after_gap AS (
            SELECT gap_id,
                   first_value(draught_m IGNORE NULLS) OVER w AS draught_after_m,
                   first_value(CASE WHEN draught_m IS NOT NULL THEN ts END IGNORE NULLS) OVER w AS draught_after_at
            FROM after_marks
            WINDOW w AS (PARTITION BY mmsi ORDER BY ts, k, draught_m ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)
        )
        SELECT g.gap_id, g.vessel_key, g.mmsi, g.started_at, g.ended_at, g.hours,
               g.start_lat, g.start_lon, g.end_lat, g.end_lon,
               b.draught_before_m, b.draught_before_at, a.draught_after_m, a.draught_after_at,
               round(a.draught_after_m - b.draught_before_m, 2) AS change_m,
               CASE WHEN a.draught_after_m > b.draught_before_m THEN 'deeper' ELSE 'shallower' END AS direction,
               g.possible_dark_calls, g.possible_dark_call_count
        FROM g JOIN before_gap b ON b.gap_id = g.gap_id JOIN after_gap a ON a.gap_id = g.gap_id
        WHERE round(abs(a.draught_after_m - b.draught_before_m), 2) >= {settings.draught_change_min_m}
        ORDER BY g.started_at, g.vessel_key
        """
    ]
