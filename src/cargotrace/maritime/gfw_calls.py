"""Port calls from Global Fishing Watch's port visits (KIND `gfw-events`).

A port visit becomes a call of its vessel (`vessel.ssvid` as the MMSI; the ship, across
changes of MMSI, from `ship_links` when the case has AIS of it) from its start to its end,
at the port whose circle holds the anchorage where it began (maritime/port_calls.
port_at_point_sql, the rule sightings and detections use; the event's position when the
anchorage has none), in the anchorage's country (the port's country when the gazetteer knows
the port). An anchorage in no port's circle stands for itself: `GFW:` and its anchorage id
(its name when it has none) in place of the UN/LOCODE, so a visit to an anchorage the
gazetteer does not know still counts as a call in its country. Its confidence is GFW's level
(2-4) / 4, its source `gfw`. A visit that an
observed call of the ship at that port overlaps (AIS or a sighting already shows it) is left
out: GFW computed it from AIS too. `gfw_calls` lists the visits that become calls; the port
calls stage adds them to `port_calls`, so an investigator with GFW's events and no raw AIS
links shipments to GFW's port visits.
"""

from __future__ import annotations

from cargotrace.maritime.port_calls import port_at_point_sql
from cargotrace.maritime.ships import span_join
from cargotrace.settings import AnalysisSettings


def statements(_settings: AnalysisSettings) -> list[str]:
    return [
        f"""
        CREATE OR REPLACE TABLE gfw_calls AS
        WITH visits AS (
            SELECT event_id, visit_id, mmsi, CAST(mmsi AS VARCHAR) AS vessel_key, vessel_name,
                   started_at, ended_at, gfw_confidence, anchorage_id, anchorage_name, anchorage_country,
                   coalesce(anchorage_lat, lat) AS lat, coalesce(anchorage_lon, lon) AS lon
            FROM gfw_events WHERE event_type = 'port_visit' AND mmsi IS NOT NULL
        ), placed AS (
            SELECT v.*, coalesce({port_at_point_sql("v")}, 'GFW:' || coalesce(v.anchorage_id, v.anchorage_name))
                        AS port_locode
            FROM visits v
        )
        SELECT md5('gfw|' || p.event_id) AS port_call_id, p.event_id, p.visit_id,
               p.vessel_key, coalesce(l.ship_key, p.vessel_key) AS ship_key, p.mmsi, p.vessel_name,
               p.port_locode, coalesce((SELECT min(o.country) FROM ports o WHERE o.locode = p.port_locode),
                                       p.anchorage_country) AS port_country,
               p.anchorage_id, p.anchorage_name, p.started_at AS arrived_at, p.ended_at AS departed_at,
               p.gfw_confidence, round(least(greatest(coalesce(p.gfw_confidence, 2), 0), 4) / 4.0, 3) AS confidence
        FROM placed p
        {span_join("l", "p.vessel_key", "p.started_at")}
        WHERE p.port_locode IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM observed_calls c
            WHERE c.ship_key = coalesce(l.ship_key, p.vessel_key) AND c.port_locode = p.port_locode
              AND c.arrived_at <= coalesce(p.ended_at, p.started_at)
              AND coalesce(c.departed_at, c.arrived_at + INTERVAL 1 DAY) >= p.started_at)
        ORDER BY arrived_at, event_id
        """
    ]
