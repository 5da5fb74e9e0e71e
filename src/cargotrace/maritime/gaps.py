"""AIS gaps ("going dark"): two consecutive fixes of one transmitter at least `gap_hours`
apart, read straight off the track (no further pass over the positions).

Each gap records where it began and ended, its duration, the great-circle distance between
its ends and the implied speed, and whether it began (and ended) offshore: outside every
port area grown by `port_exit_buffer_km`; otherwise `start_port_locode`/`end_port_locode`
name the port. A gap that begins and ends in the same port is also an in-port gap of that
port call (maritime/port_calls.py) and is kept here too: the vessel may have left and come
back dark.

A ship that changed its transmitter (maritime/ships.py: a new MMSI on the same IMO) has a
gap across the change when the old transmitter's last fix and the new one's first fix are at
least `gap_hours` apart: such a gap (`identity_change`, `previous_vessel_key` the old
transmitter) says that the change sits in a dark period. Its ends' ports are the port (the
first UN/LOCODE) whose point lies within its radius (`port_radius_km` when it has none) plus
`port_exit_buffer_km`. Every gap carries the ship (`ship_key`) of its transmitter.

Candidate dark calls (bounded here, refined by maritime/dark_calls.py): ports of the origin
country that the vessel could have reached and left again at its service speed with
`min_call_hours` at the berth, measured along great circles, which are never longer than
the sea route, so nothing feasible is dropped. The service speed is the
`service_speed_quantile` of the vessel's speeds over ground between 3 and 40 kn,
`default_service_speed_kn` when it has none: the discrete quantile (a speed the vessel
reported; `quantile_disc`, Spark `percentile_disc`), which both engines compute alike to the
last bit, where an interpolated one can differ in its last digit. A gap longer than
`dark_call_max_gap_days` offers none (`gaps.beyond_dark_call_bound`).
"""

from __future__ import annotations

from cargotrace.maritime.dark_calls import SEA_CELL_DEG
from cargotrace.maritime.port_areas import cell_sql
from cargotrace.maritime.ships import span_join
from cargotrace.maritime.sources import PER_FIX, Sources
from cargotrace.maritime.track import vessel_key_sql
from cargotrace.reference.geodesy import KM_PER_NM
from cargotrace.settings import AnalysisSettings
from cargotrace.sql import haversine_km, sql_list

# the band of speeds over ground (kn, exclusive) a vessel's service speed is a quantile of
SPEED_LOW_KN, SPEED_HIGH_KN = 3, 40


def statements(settings: AnalysisSettings, sources: Sources = PER_FIX) -> list[str]:
    """The gaps stage's SQL (`sources`: where `raw_gaps` and `service_speed` read the
    track's fixes: maritime/sources.py)."""
    step = haversine_km("t.gap_start_lat", "t.gap_start_lon", "t.lat", "t.lon")
    to_port = haversine_km("g.start_lat", "g.start_lon", "p.lat", "p.lon")
    from_port = haversine_km("p.lat", "p.lon", "g.end_lat", "g.end_lon")
    sy, sx = cell_sql("g.start_lat", "g.start_lon", SEA_CELL_DEG)
    ey, ex = cell_sql("g.end_lat", "g.end_lon", SEA_CELL_DEG)
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE raw_gaps AS
        SELECT t.vid, t.mmsi, t.tx, {vessel_key_sql("t.mmsi", "t.tx")} AS vessel_key, t.seq,
               t.prev_ts AS started_at, t.ts AS ended_at,
               (epoch(t.ts) - epoch(t.prev_ts)) / 3600.0 AS hours,
               t.gap_start_lat AS start_lat, t.gap_start_lon AS start_lon, t.lat AS end_lat, t.lon AS end_lon,
               {step} AS distance_km
        FROM {sources.gap_fixes} t WHERE t.gap_start_lat IS NOT NULL
        """,
        # the ports (if any) whose zone holds each end, from the zone marks: a fix at the end of
        # a gap is a zone run's first fix or, within one run, an in-port gap's end; the fix
        # before it is then a run's last fix or in the same run (one pass over the marks)
        """
        CREATE OR REPLACE TEMP TABLE gap_end_ports AS
        SELECT g.vid, g.seq, z.port_id, z.seq = g.seq - 1 OR NOT z.run_start AS at_start, z.seq = g.seq AS at_end
        FROM raw_gaps g JOIN zone_marks z ON z.vid = g.vid AND z.seq BETWEEN g.seq - 1 AND g.seq
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE service_speed AS
        SELECT vid, quantile_disc(sog, {settings.service_speed_quantile}) AS speed_kn
        FROM {sources.speeds} WHERE sog > {SPEED_LOW_KN} AND sog < {SPEED_HIGH_KN}
          AND (vid IN (SELECT vid FROM raw_gaps) OR vid IN (SELECT mmsi * 10 FROM ship_links WHERE ship_key <> vessel_key))
        GROUP BY vid
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE gap_facts AS
        SELECT g.*, md5(g.vessel_key || '|' || CAST(g.started_at AS VARCHAR)) AS gap_id,
               {service_speed_sql("s", settings)},
               (SELECT min(a.locode) FROM gap_end_ports e JOIN port_areas a ON a.port_id = e.port_id
                 WHERE e.vid = g.vid AND e.seq = g.seq AND e.at_start) AS start_port_locode,
               (SELECT min(a.locode) FROM gap_end_ports e JOIN port_areas a ON a.port_id = e.port_id
                 WHERE e.vid = g.vid AND e.seq = g.seq AND e.at_end) AS end_port_locode,
               {sy} AS start_cell_y, {sx} AS start_cell_x, {ey} AS end_cell_y, {ex} AS end_cell_x,
               coalesce(l.ship_key, g.vessel_key) AS ship_key, FALSE AS identity_change,
               CAST(NULL AS VARCHAR) AS previous_vessel_key
        FROM raw_gaps g
        LEFT JOIN service_speed s ON s.vid = g.vid
        {span_join("l", "g.vessel_key", "g.started_at")}
        """,
        *_change_gaps(settings),
        f"""
        CREATE OR REPLACE TEMP TABLE dark_call_candidates AS
        WITH p AS (
            SELECT locode, min(country) AS country, arg_min(lat, area_id) AS lat, arg_min(lon, area_id) AS lon
            FROM port_areas WHERE country IN {sql_list([settings.origin_country])} GROUP BY locode
        )
        SELECT g.gap_id, p.locode AS port_locode, p.country AS port_country, p.lat AS port_lat, p.lon AS port_lon,
               {to_port} AS gc_to_port_km, {from_port} AS gc_from_port_km
        FROM gap_facts g, p
        WHERE g.hours <= {settings.dark_call_max_gap_days * 24}
          AND ({to_port} + {from_port}) / ({KM_PER_NM} * g.speed_kn) + {settings.min_call_hours} <= g.hours
        """,
    ]


def service_speed_sql(alias: str, settings: AnalysisSettings) -> str:
    """The speed a gap is sailed at: the vessel's service speed (`alias`.speed_kn from
    `service_speed`), else the default; and whether it was assumed."""
    return (
        f"round(coalesce({alias}.speed_kn, {settings.default_service_speed_kn}), 2) AS speed_kn, "
        f"{alias}.speed_kn IS NULL AS speed_assumed"
    )


def _change_gaps(settings: AnalysisSettings) -> list[str]:
    """Gaps across a change of transmitter of one ship, appended to `gap_facts`."""
    gap_s = settings.gap_hours * 3600
    step = haversine_km("c.prev_lat", "c.prev_lon", "c.first_lat", "c.first_lon")
    sy, sx = cell_sql("c.prev_lat", "c.prev_lon", SEA_CELL_DEG)
    ey, ex = cell_sql("c.first_lat", "c.first_lon", SEA_CELL_DEG)
    reach = f"coalesce(a.radius_km, {settings.port_radius_km}) + {settings.port_exit_buffer_km}"
    near_start = haversine_km("c.prev_lat", "c.prev_lon", "a.lat", "a.lon")
    near_end = haversine_km("c.first_lat", "c.first_lon", "a.lat", "a.lon")
    keys = "c.ship_key, c.vessel_key, c.mmsi, c.prev_key, c.prev_at, c.prev_lat, c.prev_lon, c.first_fix_at, c.first_lat, c.first_lon"
    return [
        f"""
        CREATE OR REPLACE TEMP TABLE change_gaps AS
        WITH spans AS (
            SELECT ship_key, vessel_key, mmsi, first_fix_at, first_lat, first_lon,
                   lag(vessel_key) OVER w AS prev_key, lag(last_fix_at) OVER w AS prev_at,
                   lag(last_lat) OVER w AS prev_lat, lag(last_lon) OVER w AS prev_lon
            FROM ship_links WHERE first_fix_at IS NOT NULL AND ship_key <> vessel_key
            WINDOW w AS (PARTITION BY ship_key ORDER BY first_fix_at, vessel_key)
        ), c AS (
            SELECT * FROM spans
            WHERE prev_key IS NOT NULL AND prev_key <> vessel_key AND epoch(first_fix_at) - epoch(prev_at) >= {gap_s}
        )
        SELECT {keys},
               min(CASE WHEN {near_start} <= {reach} THEN a.locode END) AS start_port_locode,
               min(CASE WHEN {near_end} <= {reach} THEN a.locode END) AS end_port_locode
        FROM c LEFT JOIN port_areas a ON abs(a.lat - c.prev_lat) < 1 OR abs(a.lat - c.first_lat) < 1
        GROUP BY {keys}
        """,
        f"""
        INSERT INTO gap_facts
        SELECT c.mmsi * 10 AS vid, c.mmsi, 0 AS tx, c.vessel_key, CAST(NULL AS BIGINT) AS seq,
               c.prev_at AS started_at, c.first_fix_at AS ended_at,
               (epoch(c.first_fix_at) - epoch(c.prev_at)) / 3600.0 AS hours,
               c.prev_lat AS start_lat, c.prev_lon AS start_lon, c.first_lat AS end_lat, c.first_lon AS end_lon,
               {step} AS distance_km,
               md5(c.ship_key || '|' || c.prev_key || '|' || CAST(c.prev_at AS VARCHAR)) AS gap_id,
               {service_speed_sql("s", settings)}, c.start_port_locode, c.end_port_locode,
               {sy} AS start_cell_y, {sx} AS start_cell_x, {ey} AS end_cell_y, {ex} AS end_cell_x,
               c.ship_key, TRUE AS identity_change, c.prev_key AS previous_vessel_key
        FROM change_gaps c LEFT JOIN service_speed s ON s.vid = c.mmsi * 10
        """,
    ]
