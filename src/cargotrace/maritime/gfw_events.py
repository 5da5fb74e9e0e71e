"""Global Fishing Watch's encounters, loitering and gaps next to the ones derived from AIS.

GFW's events (KIND `gfw-events`, table `gfw_events`) are read into three tables of their
own, one per type, in the columns of the AIS stages' tables (maritime/encounters.py,
loitering.py, gaps.py), and the stages `all_events` and `all_gaps` write the union of each
pair: the
outputs named encounters, loitering and gaps (the findings' lists, `export --table`, the GIS
exports, the report, `explain`) read these unions. One writer per table: `encounters`,
`loitering` and `gaps` stay the AIS rules' own (the stages after them read those), the
`gfw_*` tables are GFW's, `all_*` both.

* Vessels: GFW's `vessel.ssvid` is the MMSI (`mmsi`, and `vessel_key` its text, the key AIS
  vessels have); a gap's `ship_key` is the ship that transmitter belonged to at the gap's
  start (`ship_links`, as for GFW's port calls), else the transmitter itself. An encounter
  is stored with the lower MMSI as `mmsi_a`, as the AIS rule stores its pairs.
* Where: an encounter and a loitering event at GFW's `position`; a gap from GFW's
  `offPosition` (else `position`) to its `onPosition`.
* Source and confidence: `source` is `ais` or `gfw`; `confidence` is AIS_EVENT_CONFIDENCE
  (1.0: computed here from the case's own positions by the stage's rule) or
  GFW_EVENT_CONFIDENCE (0.75: GFW publishes no confidence for these events; they are taken
  at its middle port-visit level, 3 of 4, as a port visit's GFW level / 4 is its call's).
* Overlaps: GFW computes its events from AIS too, so an event the case's AIS already shows
  is not listed twice. A GFW encounter whose pair of MMSIs has an AIS encounter overlapping
  it in time, a GFW loitering event whose MMSI loiters by AIS over an overlapping time, and
  a GFW gap whose ship has an overlapping AIS gap are kept in the `gfw_*` table with
  `ais_event_id` naming that AIS event, and left out of the union. With no AIS, every GFW
  event is in the union.

GFW's own extras are kept: `event_id`, `vessel_name`, and a gap's `intentional_disabling`
(GFW's judgement; the AIS rule's is `ais_disabling`).
"""

from __future__ import annotations

from cargotrace.case.schema import TABLES
from cargotrace.maritime.offshore import nearest_port_km_sql
from cargotrace.maritime.ships import span_join
from cargotrace.reference.geodesy import KM_PER_NM
from cargotrace.settings import AnalysisSettings

AIS_EVENT_CONFIDENCE = 1.0
GFW_EVENT_CONFIDENCE = 0.75


def _overlap(a: str, b: str) -> str:
    """`a` and `b` (aliases with started_at, ended_at; an open end is the start) overlap."""
    return (
        f"{a}.started_at <= coalesce({b}.ended_at, {b}.started_at) "
        f"AND coalesce({a}.ended_at, {a}.started_at) >= {b}.started_at"
    )


HOURS = "coalesce(e.hours, (epoch(e.ended_at) - epoch(e.started_at)) / 3600.0)"


def statements(_settings: AnalysisSettings) -> list[str]:
    """Stage `gfw_events`: `gfw_encounters`, `gfw_loitering`."""
    hours = HOURS
    return [
        f"""
        CREATE OR REPLACE TABLE gfw_encounters AS
        WITH e AS (
            SELECT e.event_id, least(e.mmsi, e.other_mmsi) AS mmsi_a, greatest(e.mmsi, e.other_mmsi) AS mmsi_b,
                   e.started_at, e.ended_at, round({hours}, 3) AS hours,
                   round(e.distance_km * 1000, 1) AS median_distance_m, CAST(NULL AS DOUBLE) AS median_sog_kn,
                   e.lat, e.lon, e.vessel_name, e.other_name
            FROM gfw_events e
            WHERE e.event_type = 'encounter' AND e.mmsi IS NOT NULL AND e.other_mmsi IS NOT NULL
        )
        SELECT e.mmsi_a, e.mmsi_b, e.started_at, e.ended_at, e.hours, e.median_distance_m, e.median_sog_kn,
               e.lat, e.lon, {nearest_port_km_sql("e")} AS nearest_port_km, e.event_id,
               e.vessel_name, e.other_name,
               (SELECT min(md5(CAST(a.mmsi_a AS VARCHAR) || '|' || CAST(a.mmsi_b AS VARCHAR) || '|'
                               || CAST(a.started_at AS VARCHAR)))
                FROM encounters a WHERE a.mmsi_a = e.mmsi_a AND a.mmsi_b = e.mmsi_b AND {_overlap("a", "e")})
                 AS ais_event_id
        FROM e ORDER BY e.started_at, e.mmsi_a, e.mmsi_b, e.event_id
        """,
        f"""
        CREATE OR REPLACE TABLE gfw_loitering AS
        WITH e AS (
            SELECT md5('gfw|' || e.event_id) AS loitering_id, e.mmsi, e.started_at, e.ended_at,
                   round({hours}, 3) AS hours, e.lat, e.lon, e.event_id, e.vessel_name,
                   e.distance_km
            FROM gfw_events e WHERE e.event_type = 'loitering' AND e.mmsi IS NOT NULL
        )
        SELECT e.loitering_id, e.mmsi, e.started_at, e.ended_at, e.hours, CAST(NULL AS BIGINT) AS fixes,
               e.lat, e.lon, CAST(NULL AS DOUBLE) AS median_sog_kn, {nearest_port_km_sql("e")} AS nearest_port_km,
               CAST(NULL AS DOUBLE) AS shore_km, FALSE AS shore_known, e.event_id, e.vessel_name, e.distance_km,
               (SELECT min(a.loitering_id) FROM loitering a WHERE a.mmsi = e.mmsi AND {_overlap("a", "e")})
                 AS ais_event_id
        FROM e ORDER BY e.started_at, e.mmsi, e.event_id
        """,
    ]


def gap_statements(settings: AnalysisSettings) -> list[str]:
    """Stage `gfw_gaps`: `gfw_gaps` (apart from the other events: dark detections read the
    gaps of every source, and need not wait for encounters and loitering)."""
    hours = HOURS
    return [
        f"""
        CREATE OR REPLACE TABLE gfw_gaps AS
        WITH e AS (
            SELECT md5('gfw|' || e.event_id) AS gap_id, CAST(e.mmsi AS VARCHAR) AS vessel_key, e.mmsi,
                   e.started_at, e.ended_at, {hours} AS hours,
                   coalesce(e.off_lat, e.lat) AS start_lat, coalesce(e.off_lon, e.lon) AS start_lon,
                   e.on_lat AS end_lat, e.on_lon AS end_lon, e.distance_km, e.event_id, e.vessel_name,
                   e.intentional_disabling
            FROM gfw_events e WHERE e.event_type = 'gap' AND e.mmsi IS NOT NULL
        ), keyed AS (
            SELECT e.*, coalesce(l.ship_key, e.vessel_key) AS ship_key
            FROM e {span_join("l", "e.vessel_key", "e.started_at")}
        )
        SELECT e.gap_id, e.vessel_key, e.mmsi, e.started_at, e.ended_at, round(e.hours, 3) AS hours,
               e.start_lat, e.start_lon, e.end_lat, e.end_lon, round(e.distance_km, 3) AS distance_km,
               round(e.distance_km / {KM_PER_NM} / nullif(e.hours, 0), 3) AS implied_speed_kn,
               CAST(NULL AS BOOLEAN) AS began_offshore, CAST(NULL AS BOOLEAN) AS ended_offshore,
               CAST(NULL AS VARCHAR) AS start_port_locode, CAST(NULL AS VARCHAR) AS end_port_locode,
               CAST(NULL AS DOUBLE) AS service_speed_kn, CAST(NULL AS BOOLEAN) AS speed_assumed,
               '' AS possible_dark_calls, 0 AS possible_dark_call_count,
               coalesce(e.hours > {settings.dark_call_max_gap_days * 24}, FALSE) AS beyond_dark_call_bound,
               e.ship_key, FALSE AS identity_change, CAST(NULL AS VARCHAR) AS previous_vessel_key,
               CAST(NULL AS VARCHAR) AS note, e.event_id, e.vessel_name, e.intentional_disabling,
               (SELECT min(a.gap_id) FROM gaps a WHERE a.ship_key = e.ship_key AND {_overlap("a", "e")})
                 AS ais_event_id
        FROM keyed e ORDER BY e.started_at, e.mmsi, e.event_id
        """,
    ]


def _source(source: str) -> str:
    confidence = AIS_EVENT_CONFIDENCE if source == "ais" else GFW_EVENT_CONFIDENCE
    return f"'{source}' AS source, CAST({confidence} AS DOUBLE) AS confidence"


def union_statements(_settings: AnalysisSettings) -> list[str]:
    """Stage `all_events`, the one writer of `all_encounters` and `all_loitering`."""
    return _unions(
        (("encounters", "started_at, mmsi_a, mmsi_b"), ("loitering", "started_at, mmsi"))
    )


def gap_union_statements(_settings: AnalysisSettings) -> list[str]:
    """Stage `all_gaps`, the one writer of `all_gaps`."""
    return _unions((("gaps", "mmsi, started_at, vessel_key"),))


def _unions(tables: tuple[tuple[str, str], ...]) -> list[str]:
    """The AIS rule's events and GFW's that no AIS event overlaps, each with its source and
    confidence (GFW's extras NULL on AIS rows), in the columns case/schema.py declares."""
    out = []
    for table, order in tables:
        columns = ", ".join(TABLES[f"all_{table}"].names)
        out.append(f"""
        CREATE OR REPLACE TABLE all_{table} AS
        SELECT {columns} FROM (
            SELECT *, {_source("ais")} FROM {table}
            UNION ALL BY NAME
            SELECT * EXCLUDE (ais_event_id), {_source("gfw")} FROM gfw_{table} WHERE ais_event_id IS NULL
        )
        ORDER BY {order}
        """)
    return out
