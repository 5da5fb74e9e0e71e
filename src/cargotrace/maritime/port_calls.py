"""Port calls from AIS positions and from sightings (contract §3 "Port call").

AIS, with hysteresis rules in the manner of Global Fishing Watch's port visits (every
number is a setting, defaults in brackets):
* in port: a visit begins at the first fix inside a port's area (its polygon, else a circle
  of `radius_km` [5 km]) and lasts while the vessel stays within the area grown by
  `port_exit_buffer_km` [1 km]; the first fix strictly beyond that ends it. Several `ports`
  rows with one UN/LOCODE are one port (a declared anchorage is part of its port).
* stopped: a stop begins at a fix slower than `stop_begin_kn` [0.2 kn] and ends at the
  first fix faster than `stop_end_kn` [0.5 kn]; fixes in between keep the state; the state
  starts as "moving" on entering a port zone.
* in-port gap: two consecutive fixes of a visit at least `port_gap_hours` [4 h] apart; a
  silence longer than `port_gap_max_days` [30] ends the visit instead (the stays before and
  after are separate visits: two samples years apart make no call spanning the years).
* a visit is a port call when it holds a stop or an in-port gap and the time from the start
  of its first stop (or gap) to the last stopped fix (or the end of the last gap) is at least
  `min_call_hours` [2 h]. The call arrives at that start (the first stopped fix inside the
  area: contract §3) and departs at that end; `entered_at`/`exited_at` are the first fix in
  the area and the first fix beyond the buffer, when those were observed (the fix before
  entry, or after exit, less than `port_gap_hours` away).
* confidence: level 4 (0.90) entry, stop and exit; level 3 (0.75) a stop with entry or
  exit, or a gap with both; level 2 (0.60) a stop alone, or a gap with entry or exit;
  level 1 (0.40) an in-port gap alone.

Sightings: a sighting at a port is a call on that day. A sighting of the same vessel and port
dated from the day before an AIS call's arrival to the day after its departure is merged into
it: the call's source is 'both', its evidence lists both, and its confidence combines the
two as independent evidence (1 - (1 - ais)(1 - sighting)).

Cost: the per-fix work is one join of the track with the grid cells of the ports and one
window pass over the fixes near a port; everything after that runs on the few fixes where
something changes (zone boundaries, stop changes, gaps).
"""

from __future__ import annotations

from cargotrace.case.schema import REPORTED_IDENTITY_SQL
from cargotrace.maritime.port_areas import cell_sql
from cargotrace.maritime.ships import span_join
from cargotrace.maritime.sources import PER_FIX, Sources
from cargotrace.maritime.stops import stop_state_sql
from cargotrace.maritime.track import vessel_key_sql
from cargotrace.reference.geodesy import KM_PER_DEG
from cargotrace.settings import AnalysisSettings
from cargotrace.sql import haversine_km

CONFIDENCE_BY_LEVEL = {4: 0.9, 3: 0.75, 2: 0.6, 1: 0.4}
# island keys of the zone runs after a silence longer than port_gap_max_days are offset by
# this much per such silence, so the runs on either side have different keys (kernel alike)
ISLAND_BREAK = 1 << 40


def zone_statements(settings: AnalysisSettings) -> list[str]:
    """The port zones stage: `zone_marks` (the fixes near ports where something may change),
    `visits` and `port_stops` (its NumPy kernel for the DuckDB engine:
    maritime/kernels/port_zones.py)."""
    return [_zone_marks(settings), _visits(), _port_stops()]


def statements(settings: AnalysisSettings, sources: Sources = PER_FIX) -> list[str]:
    """The observed calls stage (`observed_calls`: by AIS, by a named sighting, or both), from
    the port zones stage's tables and the sightings (`sources`: where `ais_calls` reads the
    zone marks of silences: maritime/sources.py)."""
    return [
        _ais_calls(settings, sources),
        _vessel_keys(),
        _sighting_places(),
        _reported_vessels(),
        _port_calls(),
    ]


def _candidates(where: str) -> str:
    cy, cx = cell_sql("t.lat", "t.lon")
    return f"""SELECT t.vid, t.seq, t.ts, t.prev_ts, t.next_ts, t.sog, t.lat, t.lon, c.area_id, c.port_id,
                      c.lat AS a_lat, c.lon AS a_lon, c.radius_km
               FROM track t JOIN port_cells c ON c.cell_y = {cy} AND c.cell_x = {cx}
               WHERE {where}"""


def _zone_fixes(settings: AnalysisSettings) -> str:
    """A SELECT of the fixes within `port_exit_buffer_km` of a port area, with the nearest
    such port and the signed distance to its area (negative inside); streamed into the one
    window pass of `_zone_marks`, never stored. An inside fix always picks a port it is in;
    of two ports equally near (gazetteers hold ports at one point) the lower port_id.
    Fixes in `direct` cells (one circle) need no grouping; the others take the best area."""
    circle_km = haversine_km("lat", "lon", "a_lat", "a_lon") + " - radius_km"
    seg = """greatest(0.0, least(1.0, CASE WHEN (e.x2 - e.x1) * (e.x2 - e.x1) + (e.y2 - e.y1) * (e.y2 - e.y1) = 0 THEN 0.0
             ELSE ((c.px - e.x1) * (e.x2 - e.x1) + (c.py - e.y1) * (e.y2 - e.y1))
                  / ((e.x2 - e.x1) * (e.x2 - e.x1) + (e.y2 - e.y1) * (e.y2 - e.y1)) END))"""
    edge_km = f"sqrt(power(c.px - (e.x1 + {seg} * (e.x2 - e.x1)), 2) + power(c.py - (e.y1 + {seg} * (e.y2 - e.y1)), 2))"
    crossing = """CASE WHEN (e.y1 > c.py) <> (e.y2 > c.py)
                        AND c.px < (e.x2 - e.x1) * (c.py - e.y1) / (e.y2 - e.y1) + e.x1 THEN 1 ELSE 0 END"""
    buffer_km = settings.port_exit_buffer_km
    return f"""
    WITH shared AS (
        SELECT * FROM ({_candidates("NOT c.direct")}) x
    ), polygon_points AS (
        SELECT s.vid, s.seq, s.ts, s.prev_ts, s.next_ts, s.sog, s.area_id, s.port_id,
               (s.lon - a.ref_lon) * {KM_PER_DEG} * cos(radians(a.ref_lat)) AS px, (s.lat - a.ref_lat) * {KM_PER_DEG} AS py
        FROM shared s JOIN port_areas a ON a.area_id = s.area_id
        WHERE a.kind = 'polygon'
    ), areas AS (
        SELECT vid, seq, ts, prev_ts, next_ts, sog, port_id, {circle_km} AS d_out FROM shared WHERE radius_km IS NOT NULL
        UNION ALL
        SELECT c.vid, c.seq, any_value(c.ts), any_value(c.prev_ts), any_value(c.next_ts), any_value(c.sog), c.port_id,
               CASE WHEN sum({crossing}) % 2 = 1 THEN -min({edge_km}) ELSE min({edge_km}) END
        FROM polygon_points c JOIN port_edges e ON e.area_id = c.area_id
        GROUP BY c.vid, c.seq, c.area_id, c.port_id
    )
    SELECT vid, seq, ts, prev_ts, next_ts, sog, port_id, d_out
    FROM (SELECT vid, seq, ts, prev_ts, next_ts, sog, port_id, {circle_km} AS d_out FROM ({_candidates("c.direct")}) x) direct
    WHERE d_out <= {buffer_km}
    UNION ALL
    SELECT vid, seq, any_value(ts), any_value(prev_ts), any_value(next_ts), any_value(sog),
           arg_min(port_id, struct_pack(d := d_out, p := port_id)), min(d_out)
    FROM areas WHERE d_out <= {buffer_km}
    GROUP BY vid, seq
    """


def _zone_marks(settings: AnalysisSettings) -> str:
    """The fixes of the port zones where something may change. A zone run is consecutive
    fixes near the same port; `island` (seq minus the fix's rank among the vessel's fixes
    near that port) is constant along a run. Kept: a run's first and last fix, a fix inside
    the area after one that was not, a decisive speed (below the stop or above the move
    threshold) that differs from the fix before, and the fix after an in-port gap or after any
    AIS gap (so that gaps find the port of their ends here)."""
    v = stop_state_sql("sog", settings)
    gap = f"epoch(ts) - epoch(prev_ts) >= {settings.port_gap_hours * 3600}"
    long_s = settings.port_gap_max_days * 86400
    long_before = f"(prev_ts IS NOT NULL AND epoch(ts) - epoch(prev_ts) > {long_s})"
    return f"""
    CREATE OR REPLACE TEMP TABLE zone_marks AS
    WITH zone_fixes AS ({_zone_fixes(settings)}
    ), z AS (
        SELECT vid, port_id, seq, ts, prev_ts, next_ts, d_out <= 0 AS inside, {v} AS v,
               seq - row_number() OVER w
                 + {ISLAND_BREAK} * sum(CASE WHEN {long_before} THEN 1 ELSE 0 END)
                     OVER (PARTITION BY vid, port_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS island,
               {long_before} AS long_before,
               (next_ts IS NOT NULL AND epoch(next_ts) - epoch(ts) > {long_s}) AS long_after,
               lag(seq) OVER w AS p_seq, lead(seq) OVER w AS n_seq,
               lag({v}) OVER w AS p_v, lag(d_out <= 0) OVER w AS p_inside
        FROM zone_fixes WINDOW w AS (PARTITION BY vid, port_id ORDER BY seq)
    ), flagged AS (
        -- a silence longer than port_gap_max_days ends a zone run: the stays on either side
        -- are separate visits (two samples years apart make no call spanning the years)
        SELECT *, (p_seq IS NULL OR p_seq <> seq - 1 OR long_before) AS run_start,
               (n_seq IS NULL OR n_seq <> seq + 1 OR long_after) AS run_end
        FROM z
    )
    SELECT vid, port_id, island, seq, ts, prev_ts, next_ts, inside, v, run_start, run_end,
           (NOT run_start AND {gap}) AS port_gap
    FROM flagged
    WHERE run_start OR run_end OR (inside AND NOT p_inside) OR (v IS NOT NULL AND p_v IS DISTINCT FROM v)
       OR (NOT run_start AND {gap}) OR epoch(ts) - epoch(prev_ts) >= {settings.gap_hours * 3600}
    """


def _visits() -> str:
    """A visit: a zone run from its first fix inside the area to the run's last fix. Times
    only grow with seq, so the times at the first inside fix are the least over inside fixes
    (the fix before it is unknown only for a track's first fix, seq 1). Aggregates rather
    than self-joins: temporary tables have no statistics inside the analysis transaction,
    and a join order chosen blind can explode."""
    return """
    CREATE OR REPLACE TEMP TABLE visits AS
    SELECT vid, port_id, island,
           min(seq) FILTER (WHERE inside) AS first_seq, max(seq) FILTER (WHERE run_end) AS last_seq,
           min(ts) FILTER (WHERE inside) AS first_ts,
           CASE WHEN min(seq) FILTER (WHERE inside) > 1 THEN min(prev_ts) FILTER (WHERE inside) END AS before_ts,
           max(ts) FILTER (WHERE run_end) AS last_ts, max(next_ts) FILTER (WHERE run_end) AS after_ts
    FROM zone_marks GROUP BY vid, port_id, island
    HAVING count(*) FILTER (WHERE inside) > 0
    """


def _port_stops() -> str:
    """Stops in zone runs: from a fix that turns the state to stopped to the fix before the
    one that turns it back (or the run's end). Only decisive fixes can change the state, and
    among them only those that differ from the fix before them."""
    return """
    CREATE OR REPLACE TEMP TABLE port_stops AS
    WITH decisive AS (
        SELECT vid, port_id, island, seq, ts, prev_ts, v,
               lag(v) OVER (PARTITION BY vid, port_id, island ORDER BY seq) AS pv
        FROM zone_marks WHERE v IS NOT NULL
    ), changes AS (
        SELECT vid, port_id, island, seq, ts, prev_ts, v FROM decisive
        WHERE (v = 1 AND coalesce(pv, 0) = 0) OR (v = 0 AND pv = 1)
    ), paired AS (
        SELECT *, lead(seq) OVER w AS end_seq, lead(prev_ts) OVER w AS end_prev_ts
        FROM changes WINDOW w AS (PARTITION BY vid, port_id, island ORDER BY seq)
    )
    SELECT p.vid, p.port_id, p.island, p.seq AS begin_seq, p.ts AS begin_ts,
           coalesce(p.end_seq - 1, v.last_seq) AS last_seq, coalesce(p.end_prev_ts, v.last_ts) AS last_ts
    FROM paired p JOIN visits v ON v.vid = p.vid AND v.port_id = p.port_id AND v.island = p.island
    WHERE p.v = 1 AND coalesce(p.end_seq - 1, v.last_seq) >= v.first_seq
    """


def _ais_calls(settings: AnalysisSettings, sources: Sources) -> str:
    gap_s = settings.port_gap_hours * 3600
    level = """CASE WHEN has_stop AND entry AND exit THEN 4
                    WHEN (has_stop AND (entry OR exit)) OR (has_gap AND entry AND exit) THEN 3
                    WHEN has_stop OR (has_gap AND (entry OR exit)) THEN 2 ELSE 1 END"""
    confidence = (
        "CASE "
        + " ".join(f"WHEN {level} = {k} THEN {c}" for k, c in CONFIDENCE_BY_LEVEL.items())
        + " END"
    )
    on = "ON {a}.vid = {b}.vid AND {a}.port_id = {b}.port_id AND {a}.island = {b}.island"
    clipped_begin = "CASE WHEN s.begin_seq < v.first_seq THEN v.first_ts ELSE s.begin_ts END"
    return f"""
    CREATE OR REPLACE TEMP TABLE ais_calls AS
    WITH stops AS (
        SELECT v.vid, v.port_id, v.island, count(*) AS stops, min({clipped_begin}) AS stop_from, max(s.last_ts) AS stop_to,
               sum(epoch(s.last_ts) - epoch({clipped_begin})) / 3600.0 AS stop_hours
        FROM visits v JOIN port_stops s {on.format(a="s", b="v")}
        GROUP BY v.vid, v.port_id, v.island
    ), gaps AS (
        SELECT v.vid, v.port_id, v.island, count(*) AS gaps, min(z.prev_ts) AS gap_from, max(z.ts) AS gap_to,
               sum(epoch(z.ts) - epoch(z.prev_ts)) / 3600.0 AS gap_hours
        FROM visits v JOIN {sources.gap_marks} z {on.format(a="z", b="v")}
        WHERE z.port_gap AND z.seq > v.first_seq
        GROUP BY v.vid, v.port_id, v.island
    ), joined AS (
        SELECT v.*, CAST((v.vid - v.vid % 10) / 10 AS BIGINT) AS mmsi, CAST(v.vid % 10 AS INTEGER) AS tx,
               coalesce(s.stops, 0) AS stops, coalesce(s.stop_hours, 0) AS stop_hours,
               coalesce(g.gaps, 0) AS gaps, coalesce(g.gap_hours, 0) AS gap_hours,
               least(s.stop_from, g.gap_from) AS arrived_at, greatest(s.stop_to, g.gap_to) AS departed_at,
               coalesce(s.stops, 0) > 0 AS has_stop, coalesce(g.gaps, 0) > 0 AS has_gap,
               (v.before_ts IS NOT NULL AND epoch(v.first_ts) - epoch(v.before_ts) < {gap_s}) AS entry,
               (v.after_ts IS NOT NULL AND epoch(v.after_ts) - epoch(v.last_ts) < {gap_s}) AS exit
        FROM visits v
        LEFT JOIN stops s {on.format(a="s", b="v")}
        LEFT JOIN gaps g {on.format(a="g", b="v")}
    )
    SELECT j.mmsi, j.tx, j.vessel_key, coalesce(l.ship_key, j.vessel_key) AS ship_key, p.locode AS port_locode,
           j.arrived_at, j.departed_at,
           CASE WHEN j.entry THEN j.first_ts END AS entered_at, CASE WHEN j.exit THEN j.after_ts END AS exited_at,
           j.last_seq - j.first_seq + 1 AS fixes, j.stops, round(j.stop_hours, 3) AS stop_hours, j.gaps AS port_gaps,
           round(j.gap_hours, 3) AS port_gap_hours,
           round((epoch(j.departed_at) - epoch(j.arrived_at)) / 3600.0, 3) AS dwell_hours,
           concat_ws(',', CASE WHEN j.entry THEN 'entry' END, CASE WHEN j.has_stop THEN 'stop' END,
                     CASE WHEN j.has_gap THEN 'gap' END, CASE WHEN j.exit THEN 'exit' END) AS ais_events,
           {level} AS confidence_level, {confidence} AS ais_confidence
    FROM (SELECT *, {vessel_key_sql("mmsi", "tx")} AS vessel_key FROM joined) j
    JOIN (SELECT DISTINCT port_id, locode FROM port_areas) p ON p.port_id = j.port_id
    {span_join("l", "j.vessel_key", "j.arrived_at")}
    WHERE (j.has_stop OR j.has_gap) AND epoch(j.departed_at) - epoch(j.arrived_at) >= {settings.min_call_hours} * 3600
    """


def _vessel_keys() -> str:
    """One identifier per vessel: the MMSI where any source gives or implies it."""
    return """
    CREATE OR REPLACE TEMP TABLE sighting_vessels AS
    WITH by_imo AS (
        SELECT imo, min(mmsi) AS mmsi FROM vessel_reports WHERE imo IS NOT NULL AND mmsi IS NOT NULL GROUP BY imo
    ), by_name AS (
        SELECT upper(name) AS name, min(mmsi) AS mmsi FROM vessel_reports
        WHERE name IS NOT NULL AND mmsi IS NOT NULL GROUP BY upper(name) HAVING count(DISTINCT mmsi) = 1
    )
    SELECT s.sighting_id,
           coalesce(s.mmsi, i.mmsi, n.mmsi) AS mmsi,
           coalesce(CAST(coalesce(s.mmsi, i.mmsi, n.mmsi) AS VARCHAR),
                    'IMO:' || s.imo, 'NAME:' || upper(s.vessel_name)) AS vessel_key
    FROM sightings s
    LEFT JOIN by_imo i ON i.imo = s.imo
    LEFT JOIN by_name n ON n.name = upper(s.vessel_name)
    """


def port_at_point_sql(alias: str) -> str:
    """The port whose circle holds the point `alias`.lat/lon (the nearest; radius 5 km when it
    has none): how a sighting or a detection with coordinates but no port finds its port."""
    distance = haversine_km(f"{alias}.lat", f"{alias}.lon", "p.lat", "p.lon")
    return f"""(SELECT arg_min(p.locode, {distance}) FROM ports p
                     WHERE {alias}.lat IS NOT NULL AND p.lat IS NOT NULL AND abs(p.lat - {alias}.lat) < 1
                       AND {distance} <= coalesce(p.radius_km, 5.0))"""


def _sighting_places() -> str:
    """A sighting's port: its UN/LOCODE, else a port name, else the port whose area holds it."""
    return f"""
    CREATE OR REPLACE TEMP TABLE sighting_calls AS
    WITH named AS (
        SELECT s.sighting_id,
               coalesce(
                   (SELECT min(p.locode) FROM ports p WHERE p.locode = upper(replace(s.port, ' ', ''))),
                   (SELECT min(p.locode) FROM ports p WHERE lower(p.name) = lower(s.port)),
                   {port_at_point_sql("s")}
               ) AS port_locode
        FROM sightings s
    )
    SELECT s.sighting_id, v.mmsi, v.vessel_key,
           -- the ship: of the MMSI the sighting gives, else of its IMO, else of the vessel found
           coalesce(CASE WHEN s.mmsi IS NOT NULL THEN l.ship_key END,
                    (SELECT min(k.ship_key) FROM ship_links k WHERE k.ship_key = 'IMO:' || s.imo),
                    l.ship_key, v.vessel_key) AS ship_key,
           n.port_locode, s.observed_at, s.confidence,
           s.source, s.vessel_name, s.imo, s.source_file, s.source_row
    FROM sightings s JOIN named n USING (sighting_id) JOIN sighting_vessels v USING (sighting_id)
    {span_join("l", "v.vessel_key", "s.observed_at")}
    WHERE n.port_locode IS NOT NULL AND v.vessel_key IS NOT NULL  -- place-only sightings are site evidence
    """


def _reported_vessels() -> str:
    """The reported name and IMO of each MMSI (`vessels`' own, without the scan of every
    position for first and last seen that the view makes): one row per MMSI, so that on Spark
    the statement reading it stays small enough for the driver."""
    return f"CREATE OR REPLACE TEMP TABLE reported_vessels AS {REPORTED_IDENTITY_SQL}"


def _port_calls() -> str:
    return """
    CREATE OR REPLACE TABLE observed_calls AS
    WITH ais AS (
        SELECT * FROM ais_calls
    ), matched AS (
        SELECT s.sighting_id, s.confidence, a.vessel_key, a.port_locode, a.arrived_at
        FROM sighting_calls s JOIN ais a
          ON a.ship_key = s.ship_key AND a.port_locode = s.port_locode
         AND CAST(s.observed_at AS DATE) BETWEEN CAST(a.arrived_at AS DATE) - 1 AND CAST(a.departed_at AS DATE) + 1
        QUALIFY row_number() OVER (PARTITION BY s.sighting_id ORDER BY a.arrived_at) = 1
    ), ais_with_sightings AS (
        SELECT a.vessel_key, a.port_locode, a.arrived_at,
               list(m.sighting_id ORDER BY m.sighting_id) FILTER (WHERE m.sighting_id IS NOT NULL) AS sighting_ids,
               max(coalesce(m.confidence, 0.5)) FILTER (WHERE m.sighting_id IS NOT NULL) AS sighting_confidence
        FROM ais a LEFT JOIN matched m USING (vessel_key, port_locode, arrived_at)
        GROUP BY a.vessel_key, a.port_locode, a.arrived_at
    ), sighting_only AS (
        SELECT min(vessel_key) AS vessel_key, ship_key, min(mmsi) AS mmsi, port_locode,
               CAST(CAST(observed_at AS DATE) AS TIMESTAMPTZ) AS arrived_at,
               list(sighting_id ORDER BY sighting_id) AS sighting_ids, max(confidence) AS confidence
        FROM sighting_calls WHERE sighting_id NOT IN (SELECT sighting_id FROM matched)
        GROUP BY ship_key, port_locode, CAST(observed_at AS DATE)
    ), unioned AS (
        SELECT a.vessel_key, a.ship_key, a.mmsi, a.port_locode, a.arrived_at, a.departed_at, a.fixes, s.sighting_ids,
               CASE WHEN len(coalesce(s.sighting_ids, [])) > 0 THEN 'both' ELSE 'ais' END AS source,
               round(CASE WHEN len(coalesce(s.sighting_ids, [])) > 0
                          THEN 1 - (1 - a.ais_confidence) * (1 - least(s.sighting_confidence, 1.0))
                          ELSE a.ais_confidence END, 3) AS confidence,
               a.entered_at, a.exited_at, a.dwell_hours, a.stops, a.stop_hours, a.port_gaps, a.port_gap_hours,
               a.ais_events, a.confidence_level
        FROM ais a JOIN ais_with_sightings s USING (vessel_key, port_locode, arrived_at)
        UNION ALL
        SELECT vessel_key, ship_key, mmsi, port_locode, arrived_at, CAST(NULL AS TIMESTAMPTZ), 0, sighting_ids, 'sighting',
               confidence, CAST(NULL AS TIMESTAMPTZ), CAST(NULL AS TIMESTAMPTZ), CAST(NULL AS DOUBLE),
               0, CAST(NULL AS DOUBLE), 0, CAST(NULL AS DOUBLE), CAST(NULL AS VARCHAR), CAST(NULL AS INTEGER)
        FROM sighting_only
    )
    SELECT md5(u.vessel_key || '|' || u.port_locode || '|' || CAST(u.arrived_at AS VARCHAR)) AS port_call_id,
           u.vessel_key, u.ship_key, u.mmsi,
           coalesce(v.name, (SELECT min(vessel_name) FROM sighting_calls sc WHERE sc.vessel_key = u.vessel_key)) AS vessel_name,
           v.imo, u.port_locode, p.country AS port_country, u.arrived_at, u.departed_at, u.fixes,
           u.source, u.confidence, coalesce(u.sighting_ids, []) AS sighting_ids,
           u.entered_at, u.exited_at, u.dwell_hours, u.stops, u.stop_hours, u.port_gaps, u.port_gap_hours,
           u.ais_events, u.confidence_level
    FROM unioned u
    LEFT JOIN reported_vessels v ON v.mmsi = u.mmsi
    LEFT JOIN (SELECT locode, min(country) AS country FROM ports GROUP BY locode) p ON p.locode = u.port_locode
    ORDER BY u.vessel_key, u.arrived_at
    """


def union_statements(_settings: AnalysisSettings) -> list[str]:
    """The port calls stage, the one writer of `port_calls`: the observed calls, the calls
    from attributed dark detections (maritime/detection_calls.py) and from Global Fishing
    Watch's port visits (maritime/gfw_calls.py); those an observed call of the ship at that
    port already spans are left out there."""
    return [
        f"""
        CREATE OR REPLACE TABLE port_calls AS
        SELECT * FROM observed_calls
        UNION ALL BY NAME
        SELECT d.port_call_id, d.vessel_key, d.ship_key, d.mmsi, v.name AS vessel_name, v.imo,
               d.port_locode, p.country AS port_country, d.arrived_at,
               CAST(NULL AS TIMESTAMPTZ) AS departed_at, 0 AS fixes, 'detection' AS source,
               d.confidence, CAST([] AS VARCHAR[]) AS sighting_ids, 0 AS stops, 0 AS port_gaps
        FROM detection_calls d
        LEFT JOIN ({REPORTED_IDENTITY_SQL}) v ON v.mmsi = d.mmsi
        LEFT JOIN (SELECT locode, min(country) AS country FROM ports GROUP BY locode) p
          ON p.locode = d.port_locode
        UNION ALL BY NAME
        SELECT g.port_call_id, g.vessel_key, g.ship_key, g.mmsi, coalesce(v.name, g.vessel_name) AS vessel_name,
               v.imo, g.port_locode, g.port_country, g.arrived_at, g.departed_at, 0 AS fixes, 'gfw' AS source,
               g.confidence, CAST([] AS VARCHAR[]) AS sighting_ids, 0 AS stops, 0 AS port_gaps
        FROM gfw_calls g LEFT JOIN ({REPORTED_IDENTITY_SQL}) v ON v.mmsi = g.mmsi
        ORDER BY vessel_key, arrived_at
        """
    ]
