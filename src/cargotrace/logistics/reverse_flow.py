"""Reverse flow: vessels that call at a port served by rail and then go on to the origin
country (e.g. tankers loading at Vostochny for North Korea). Reported as outbound findings
with the rail cargo that reached the port in the `window_days` before the call, when the
records say so."""

from __future__ import annotations

from cargotrace.settings import AnalysisSettings


def statements(settings: AnalysisSettings) -> list[str]:
    return [
        f"""
        CREATE OR REPLACE TABLE outbound AS
        WITH ordered AS (
            SELECT *, lead(port_locode) OVER w AS next_port_locode, lead(port_country) OVER w AS next_country,
                   lead(arrived_at) OVER w AS next_call_at, lead(source) OVER w AS next_source
            FROM port_calls WINDOW w AS (PARTITION BY ship_key ORDER BY arrived_at, port_call_id)
        ), calls AS (
            SELECT port_call_id AS outbound_id, vessel_key, ship_key, mmsi, vessel_name, imo, port_locode, arrived_at, departed_at,
                   source, confidence, next_port_locode, next_call_at, next_source,
                   date_diff('day', CAST(coalesce(departed_at, arrived_at) AS DATE), CAST(next_call_at AS DATE)) AS days_to_next
            FROM ordered
            WHERE port_locode IN (SELECT DISTINCT port_locode FROM stations WHERE port_locode IS NOT NULL)
              AND next_country = '{settings.origin_country}'
              AND date_diff('day', CAST(coalesce(departed_at, arrived_at) AS DATE), CAST(next_call_at AS DATE)) <= {settings.lookback_days}
        ), inbound_rail AS (
            SELECT ss.port_locode, coalesce(s.arrived_on, s.departed_on) AS rail_day, s.cargo_class, s.counted_t AS weight_t
            FROM consignments s JOIN shipment_stations ss ON ss.shipment_id = s.row_hash AND ss.role = 'destination'
            WHERE ss.port_locode IS NOT NULL
        )
        SELECT c.*,
               coalesce((SELECT string_agg(cargo_class || ': ' || CAST(round(t, 1) AS VARCHAR) || ' t', '; ' ORDER BY cargo_class)
                         FROM (SELECT r.cargo_class, sum(coalesce(r.weight_t, 0)) AS t FROM inbound_rail r
                               WHERE r.port_locode = c.port_locode
                                 AND r.rail_day BETWEEN CAST(c.arrived_at AS DATE) - {int(settings.window_days)} AND CAST(coalesce(c.departed_at, c.arrived_at) AS DATE)
                               GROUP BY r.cargo_class)), '') AS rail_cargo_to_port
        FROM calls c ORDER BY c.arrived_at, c.outbound_id
        """
    ]
