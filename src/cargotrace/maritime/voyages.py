"""Voyage chains and shuttles.

Chains follow the ship (`ship_key`, maritime/ships.py), across changes of MMSI and name.

`voyages`: every vessel's calls in time order, from AIS, sightings (`port_calls`) and
possible dark calls (`dark_calls`, labelled `inferred`), each with the previous and next
port. A gap contributes one inferred call: its most likely port (the least detour, i.e.
the largest slack), the other feasible ports in `alternatives`; none when an observed call
of the vessel lies inside the gap already. `observed` is false for inferred calls.

`shuttles`: a vessel sailing between the same two ports (either direction, consecutive
calls of the chain) at least `shuttle_min_legs` times within `shuttle_period_days`: one row
per vessel and port pair with the most legs in any such period.
"""

from __future__ import annotations

from cargotrace.settings import AnalysisSettings


def statements(settings: AnalysisSettings) -> list[str]:
    return [
        """
        CREATE OR REPLACE TABLE voyages AS
        WITH inferred AS (
            SELECT d.gap_id, d.vessel_key, d.mmsi,
                   arg_max(d.port_locode, d.slack_hours) AS port_locode,
                   arg_max(d.port_country, d.slack_hours) AS port_country,
                   arg_max(d.earliest_arrival, d.slack_hours) AS arrived_at,
                   arg_max(d.latest_departure, d.slack_hours) AS departed_at,
                   list(d.port_locode ORDER BY d.slack_hours DESC, d.port_locode) AS ports
            FROM dark_calls d GROUP BY d.gap_id, d.vessel_key, d.mmsi
        ), inferred_kept AS (
            SELECT i.*, g.ship_key FROM inferred i JOIN gaps g USING (gap_id)
            WHERE NOT EXISTS (SELECT 1 FROM port_calls c WHERE c.ship_key = g.ship_key
                              AND c.arrived_at > g.started_at AND c.arrived_at < g.ended_at)
        ), calls AS (
            SELECT vessel_key, ship_key, mmsi, vessel_name, port_call_id AS call_id, port_locode, port_country, arrived_at,
                   departed_at, source, confidence, TRUE AS observed, CAST(NULL AS VARCHAR) AS alternatives
            FROM port_calls
            UNION ALL
            SELECT i.vessel_key, i.ship_key, i.mmsi, v.name, i.gap_id, i.port_locode, i.port_country, i.arrived_at, i.departed_at,
                   'inferred', CAST(NULL AS DOUBLE), FALSE, array_to_string(i.ports, ';')
            FROM inferred_kept i LEFT JOIN vessels v ON v.mmsi = i.mmsi
        )
        SELECT vessel_key, ship_key, mmsi, vessel_name,
               row_number() OVER w AS call_no, call_id, port_locode, port_country, arrived_at, departed_at,
               source, observed, confidence, alternatives,
               lag(port_locode) OVER w AS previous_port_locode, lag(coalesce(departed_at, arrived_at)) OVER w AS previous_departed_at,
               lead(port_locode) OVER w AS next_port_locode, lead(arrived_at) OVER w AS next_arrived_at
        FROM calls
        WINDOW w AS (PARTITION BY ship_key ORDER BY arrived_at, call_id)
        ORDER BY ship_key, call_no
        """,
        f"""
        CREATE OR REPLACE TABLE shuttles AS
        WITH legs AS (
            SELECT vessel_key, ship_key, mmsi, vessel_name, least(previous_port_locode, port_locode) AS port_a,
                   greatest(previous_port_locode, port_locode) AS port_b, arrived_at,
                   observed
            FROM voyages
            WHERE previous_port_locode IS NOT NULL AND previous_port_locode <> port_locode
        ), windowed AS (
            SELECT *, count(*) OVER w AS legs_in_period, max(arrived_at) OVER w AS period_last_at,
                      sum(CASE WHEN observed THEN 0 ELSE 1 END) OVER w AS inferred_legs
            FROM legs
            WINDOW w AS (PARTITION BY ship_key, port_a, port_b ORDER BY epoch(arrived_at)
                         RANGE BETWEEN CURRENT ROW AND {settings.shuttle_period_days * 86400} FOLLOWING)
        )
        SELECT arg_max(vessel_key, arrived_at) AS vessel_key, ship_key, arg_max(mmsi, arrived_at) AS mmsi,
               arg_max(vessel_name, arrived_at) AS vessel_name, port_a, port_b,
               max(legs_in_period) AS legs, arg_max(arrived_at, legs_in_period) AS first_leg_at,
               arg_max(period_last_at, legs_in_period) AS last_leg_at,
               arg_max(inferred_legs, legs_in_period) AS inferred_legs,
               count(*) AS legs_total
        FROM windowed GROUP BY ship_key, port_a, port_b
        HAVING max(legs_in_period) >= {settings.shuttle_min_legs}
        ORDER BY legs DESC, ship_key, port_a, port_b
        """,
    ]
