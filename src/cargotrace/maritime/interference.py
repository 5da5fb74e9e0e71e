"""Position spoofing and GNSS interference: impossible jumps, circling, and the areas and
hours where many vessels jump or circle together.

A jump is a step between consecutive fixes of one MMSI that no ship can sail: longer than
`jump_min_km` and faster than `max_speed_kn` (track.jump_sql, the one definition).

Circling: the fixes of one MMSI in one UTC hour (at least `circling_min_fixes` [6]) lie on a
circle around their mean position: their mean distance from it (the radius) is between
`circling_min_radius_km` [0.5] and `circling_max_radius_km` [30], the distances vary little
(standard deviation at most `CIRCLE_MAX_SPREAD` of the radius) and the directions from the
centre go all round it (the mean of their unit vectors is at most `CIRCLE_MAX_RESULTANT`
long: a ship sailing straight has fixes at every distance from their centre, one swinging at
anchor stays within a few hundred metres). Spoofed positions drawn as circles, often around
a port, hit many ships at once.

Both ends of every jump and the centre of every circling hour count, in cells of
`interference_cell_deg` [0.5 degree] and whole UTC hours: a cell-hour where at least
`interference_min_vessels` [3] different MMSIs jump or circle is an interference cell (GNSS
jamming or spoofing hits every receiver in an area at once; one vessel jumping alone is more
likely a shared MMSI, see identity).

Tables: `interference` (one row per interference cell-hour: its centre, vessels, jump ends,
circling vessels), `circling` (every circling vessel-hour), `spoofed_positions` (the fixes
that jumped out and straight back, which the track left out: maritime/track.spoofed_sql, so
they neither make nor break port calls and gaps) and `interference_flags`: the port calls and
gaps of the vessels that jumped or circled in an interference cell, whose time span overlaps
that hour (one row per event and hour; `cells` the interference cells it was in), so an
analyst weighs them knowing the positions were unreliable. The flags are a stage of their own
(`flag_statements`, stage interference_flags): they read the gaps, which DuckDB routes, and
the port calls of every source, so `interference` runs on Spark and the flags on DuckDB.
"""

from __future__ import annotations

from cargotrace.maritime.track import jump_sql
from cargotrace.reference.geodesy import KM_PER_DEG, KM_PER_NM
from cargotrace.settings import AnalysisSettings
from cargotrace.sql import haversine_km

CIRCLE_MAX_SPREAD = 0.3  # standard deviation of the distances to the centre / their mean
CIRCLE_MAX_RESULTANT = 0.3  # length of the mean unit vector from the centre (0: all round)


def _cell(lat: str, lon: str, cell: float) -> tuple[str, str]:
    return (
        f"CAST(floor({lat} / {cell}) AS BIGINT)",
        f"CAST(floor({lon} / {cell}) AS BIGINT)",
    )


VALID = "mmsi IS NOT NULL AND timestamp IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL"


def jumps_sql(settings: AnalysisSettings) -> str:
    """`position_jumps`: every impossible step between consecutive positions of one MMSI
    (spoofed ones included). maritime/kernels/interference.py finds the same in the track
    kernel's pass."""
    jump = jump_sql(settings, "prev_lat", "prev_lon", "prev_ts")
    return f"""
        CREATE OR REPLACE TEMP TABLE position_jumps AS
        WITH p AS (
            SELECT mmsi, timestamp AS ts, lat, lon,
                   lag(timestamp) OVER w AS prev_ts, lag(lat) OVER w AS prev_lat, lag(lon) OVER w AS prev_lon
            FROM positions
            WHERE {VALID}
            WINDOW w AS (PARTITION BY mmsi ORDER BY timestamp, lat, lon, sog NULLS LAST)
        )
        SELECT mmsi, ts, lat, lon, prev_ts, prev_lat, prev_lon FROM p WHERE {jump}
        """


def shapes_sql(settings: AnalysisSettings) -> str:
    """Common table expressions ending in `shape`: per MMSI and UTC hour with at least
    `circling_min_fixes` fixes, their count, centre (lat, lon), mean distance from it
    (radius_km), the distances' population standard deviation (spread_km) and the length of
    the mean unit vector from the centre (resultant), unrounded. The kernel
    (maritime/kernels/interference.py) computes the same rows in the track kernel's pass."""
    return f"""
        f AS (
            SELECT mmsi, date_trunc('hour', timestamp) AS hour_start, lat, lon FROM positions WHERE {VALID}
        ), centre AS (
            SELECT mmsi, hour_start, count(*) AS fixes, avg(lat) AS c_lat, avg(lon) AS c_lon
            FROM f GROUP BY mmsi, hour_start HAVING count(*) >= {settings.circling_min_fixes}
        ), offsets AS (
            SELECT c.mmsi, c.hour_start, c.fixes, c.c_lat, c.c_lon,
                   (f.lon - c.c_lon) * {KM_PER_DEG} * cos(radians(c.c_lat)) AS dx_km,
                   (f.lat - c.c_lat) * {KM_PER_DEG} AS dy_km
            FROM f JOIN centre c ON c.mmsi = f.mmsi AND c.hour_start = f.hour_start
        ), polar AS (
            SELECT *, sqrt(dx_km * dx_km + dy_km * dy_km) AS r_km FROM offsets
        ), shape AS (
            SELECT mmsi, hour_start, any_value(fixes) AS fixes, any_value(c_lat) AS lat, any_value(c_lon) AS lon,
                   avg(r_km) AS radius_km, stddev_pop(r_km) AS spread_km,
                   sqrt(power(avg(CASE WHEN r_km > 0 THEN dx_km / r_km ELSE 0 END), 2)
                        + power(avg(CASE WHEN r_km > 0 THEN dy_km / r_km ELSE 0 END), 2)) AS resultant
            FROM polar GROUP BY mmsi, hour_start
        )"""


def circling_sql(settings: AnalysisSettings, shapes: str) -> str:
    """`circling`: the vessel-hours (`shapes`: common table expressions ending in `shape`)
    whose fixes lie on a circle."""
    return f"""
        CREATE OR REPLACE TABLE circling AS
        WITH {shapes}
        SELECT mmsi, hour_start, fixes, lat, lon, round(radius_km, 3) AS radius_km,
               round(spread_km, 3) AS spread_km, round(resultant, 3) AS resultant
        FROM shape
        WHERE radius_km BETWEEN {settings.circling_min_radius_km} AND {settings.circling_max_radius_km}
          AND spread_km <= {CIRCLE_MAX_SPREAD} * radius_km AND resultant <= {CIRCLE_MAX_RESULTANT}
        ORDER BY hour_start, mmsi
        """


def statements(settings: AnalysisSettings) -> list[str]:
    return [
        jumps_sql(settings),
        circling_sql(settings, shapes_sql(settings)),
        *cell_statements(settings),
    ]


def cell_statements(settings: AnalysisSettings) -> list[str]:
    """From `position_jumps` and `circling`: the marks, the interference cell-hours and the
    spoofed positions."""
    cell = settings.interference_cell_deg
    ey, ex = _cell("lat", "lon", cell)
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE interference_marks AS
        SELECT mmsi, date_trunc('hour', ts) AS hour_start, {ey} AS cell_y, {ex} AS cell_x, 'jump' AS mark
        FROM position_jumps
        UNION ALL
        SELECT mmsi, date_trunc('hour', ts), {_cell("prev_lat", "prev_lon", cell)[0]},
               {_cell("prev_lat", "prev_lon", cell)[1]}, 'jump'
        FROM position_jumps
        UNION ALL
        SELECT mmsi, hour_start, {ey}, {ex}, 'circle' FROM circling
        """,
        f"""
        CREATE OR REPLACE TABLE interference AS
        SELECT hour_start, hour_start + INTERVAL 1 HOUR AS hour_end, cell_y, cell_x,
               CAST((cell_y + 0.5) * {cell} AS DOUBLE) AS lat, CAST((cell_x + 0.5) * {cell} AS DOUBLE) AS lon,
               count(DISTINCT mmsi) AS vessels, count(CASE WHEN mark = 'jump' THEN 1 END) AS jump_ends,
               count(DISTINCT CASE WHEN mark = 'circle' THEN mmsi END) AS circling_vessels
        FROM interference_marks GROUP BY hour_start, cell_y, cell_x
        HAVING count(DISTINCT mmsi) >= {settings.interference_min_vessels}
        ORDER BY hour_start, cell_y, cell_x
        """,
        """
        CREATE OR REPLACE TABLE spoofed_positions AS
        SELECT mmsi, ts AS timestamp, lat, lon FROM spoofed_fixes ORDER BY mmsi, ts, lat, lon
        """,
    ]


def impossible_fixes_statements(settings: AnalysisSettings) -> list[str]:
    """`impossible_fixes`: every fix reached by an impossible step from the fix before it of
    the same MMSI (`position_jumps`: `track.jump_sql`, the one rule, over every valid
    position in the track's order), with that fix and the speed the step implies (NULL when
    both fixes are of the same second). A case's table, kept after `analyze`: the stages and
    exports that leave impossible fixes out (tracks, detections, AIS disabling) read it,
    matching a position by (mmsi, timestamp, lat, lon) (`possible_fix_sql`)."""
    seconds = "(epoch(ts) - epoch(prev_ts))"
    step = haversine_km("prev_lat", "prev_lon", "lat", "lon")
    return [
        f"""
        CREATE OR REPLACE TABLE impossible_fixes AS
        SELECT mmsi, ts AS timestamp, lat, lon, prev_ts AS prev_timestamp, prev_lat, prev_lon,
               round({step}, 3) AS step_km,
               CASE WHEN {seconds} > 0 THEN round({step} / {KM_PER_NM} / ({seconds} / 3600.0), 3) END
                   AS implied_speed_kn
        FROM position_jumps ORDER BY mmsi, ts, lat, lon
        """
    ]


def possible_fix_sql(alias: str) -> str:
    """True for a position (`alias`: a row of `positions`) that is not an impossible fix
    (table `impossible_fixes`, made by `analyze`)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM impossible_fixes i WHERE i.mmsi = {alias}.mmsi "
        f"AND i.timestamp = {alias}.timestamp AND i.lat = {alias}.lat AND i.lon = {alias}.lon)"
    )


def flag_statements(settings: AnalysisSettings) -> list[str]:
    """`interference_flags`: the calls and gaps of the vessels that jumped or circled in an
    interference cell, overlapping its hour."""
    return [
        """
        CREATE OR REPLACE TABLE interference_flags AS
        WITH hit AS (
            SELECT m.mmsi, i.hour_start, any_value(i.hour_end) AS hour_end,
                   count(DISTINCT (i.cell_y, i.cell_x)) AS cells
            FROM interference_marks m JOIN interference i
              ON m.hour_start = i.hour_start AND m.cell_y = i.cell_y AND m.cell_x = i.cell_x
            GROUP BY m.mmsi, i.hour_start
        )
        SELECT 'port_call' AS kind, c.port_call_id AS event_id, c.mmsi, h.hour_start, h.cells
        FROM port_calls c JOIN hit h ON h.mmsi = c.mmsi
        WHERE c.arrived_at < h.hour_end AND coalesce(c.departed_at, c.arrived_at) >= h.hour_start
        UNION ALL
        SELECT 'gap', g.gap_id, g.mmsi, h.hour_start, h.cells
        FROM gaps g JOIN hit h ON h.mmsi = g.mmsi
        WHERE g.started_at < h.hour_end AND g.ended_at >= h.hour_start
        ORDER BY 4, 1, 2
        """
    ]
