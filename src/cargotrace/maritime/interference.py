"""Position spoofing and GNSS interference: impossible jumps, and the areas and hours where
many vessels jump together.

A jump is a step between consecutive fixes of one MMSI that no ship can sail: longer than
`jump_min_km` and faster than `max_speed_kn` (track.jump_sql, the one definition). Both ends
of every jump count, in cells of `interference_cell_deg` [0.5 degree] and whole UTC hours: a
cell-hour where at least `interference_min_vessels` [3] different MMSIs jump is an
interference cell (GNSS jamming or spoofing hits every receiver in an area at once; one
vessel jumping alone is more likely a shared MMSI, see identity).

Tables: `interference` (one row per interference cell-hour: its centre, vessels, jumps) and
`interference_flags`: the port calls and gaps of the vessels that jumped there, whose time
span overlaps that hour (one row per event and hour; `cells` the interference cells it jumped in), so an analyst weighs them knowing the positions were unreliable.
Flagged, not removed: calls and gaps are still made from all fixes (the jumps of a shared MMSI
are split off by the track stage; a spoofed fix is not yet kept out of port calls). Circling
(many vessels drawing the same circle) is not detected. DuckDB stage; plain SQL.
"""

from __future__ import annotations

from cargotrace.maritime.track import jump_sql
from cargotrace.settings import AnalysisSettings


def statements(settings: AnalysisSettings) -> list[str]:
    cell = settings.interference_cell_deg
    jump = jump_sql(settings, "prev_lat", "prev_lon", "prev_ts")
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE position_jumps AS
        WITH p AS (
            SELECT mmsi, timestamp AS ts, lat, lon,
                   lag(timestamp) OVER w AS prev_ts, lag(lat) OVER w AS prev_lat, lag(lon) OVER w AS prev_lon
            FROM positions
            WHERE mmsi IS NOT NULL AND timestamp IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL
            WINDOW w AS (PARTITION BY mmsi ORDER BY timestamp, lat, lon, sog NULLS LAST)
        )
        SELECT mmsi, ts, lat, lon, prev_ts, prev_lat, prev_lon FROM p WHERE {jump}
        """,
        f"""
        CREATE OR REPLACE TABLE interference AS
        WITH ends AS (
            SELECT mmsi, ts, lat, lon FROM position_jumps
            UNION ALL
            SELECT mmsi, ts, prev_lat, prev_lon FROM position_jumps
        ), cells AS (
            SELECT mmsi, date_trunc('hour', ts) AS hour_start,
                   CAST(floor(lat / {cell}) AS BIGINT) AS cell_y, CAST(floor(lon / {cell}) AS BIGINT) AS cell_x
            FROM ends
        )
        SELECT hour_start, hour_start + INTERVAL 1 HOUR AS hour_end, cell_y, cell_x,
               CAST((cell_y + 0.5) * {cell} AS DOUBLE) AS lat, CAST((cell_x + 0.5) * {cell} AS DOUBLE) AS lon,
               count(DISTINCT mmsi) AS vessels, count(*) AS jump_ends
        FROM cells GROUP BY hour_start, cell_y, cell_x
        HAVING count(DISTINCT mmsi) >= {settings.interference_min_vessels}
        ORDER BY hour_start, cell_y, cell_x
        """,
        f"""
        CREATE OR REPLACE TABLE interference_flags AS
        WITH hit AS (
            SELECT j.mmsi, i.hour_start, any_value(i.hour_end) AS hour_end,
                   count(DISTINCT (i.cell_y, i.cell_x)) AS cells
            FROM position_jumps j JOIN interference i
              ON date_trunc('hour', j.ts) = i.hour_start
             AND ((CAST(floor(j.lat / {cell}) AS BIGINT) = i.cell_y AND CAST(floor(j.lon / {cell}) AS BIGINT) = i.cell_x)
               OR (CAST(floor(j.prev_lat / {cell}) AS BIGINT) = i.cell_y AND CAST(floor(j.prev_lon / {cell}) AS BIGINT) = i.cell_x))
            GROUP BY j.mmsi, i.hour_start
        )
        SELECT 'port_call' AS kind, c.port_call_id AS event_id, c.mmsi, h.hour_start, h.cells
        FROM port_calls c JOIN hit h ON h.mmsi = c.mmsi
        WHERE c.arrived_at < h.hour_end AND coalesce(c.departed_at, c.arrived_at) >= h.hour_start
        UNION ALL
        SELECT 'gap', g.gap_id, g.mmsi, h.hour_start, h.cells
        FROM gaps g JOIN hit h ON h.mmsi = g.mmsi
        WHERE g.started_at < h.hour_end AND g.ended_at >= h.hour_start
        ORDER BY 4, 1, 2
        """,
    ]
