"""Arrivals of interest (contract §3): a port call at a port served by at least one station,
by a vessel whose previous port call, at most `lookback_days` earlier, was in the origin
country. The chain follows the ship (`ship_key`, maritime/ships.py): a ship that changed
its MMSI, name or flag since its previous call keeps that call, and the arrival is marked
`identity_changed` (the previous call was made under another transmitter, before the
current one's first fix). Days are counted between calendar dates (UTC): the previous call's departure day
(its arrival day when the departure is unknown) and this call's arrival day."""

from __future__ import annotations

from cargotrace.maritime.ships import span_join
from cargotrace.settings import AnalysisSettings


def statements(settings: AnalysisSettings) -> list[str]:
    return [f"CREATE OR REPLACE TABLE arrivals AS {select_sql(settings)}"]


def select_sql(settings: AnalysisSettings) -> str:
    """The arrivals of interest as a query over `port_calls` and `stations` (the sensitivity
    grid runs it with other lookbacks)."""
    return f"""
        WITH ordered AS (
            SELECT *,
                   lag(port_call_id) OVER w AS previous_call_id,
                   lag(port_locode) OVER w AS previous_port_locode,
                   lag(port_country) OVER w AS previous_country,
                   lag(coalesce(departed_at, arrived_at)) OVER w AS previous_call_at,
                   lag(vessel_key) OVER w AS previous_vessel_key, lag(mmsi) OVER w AS previous_mmsi,
                   lag(vessel_name) OVER w AS previous_vessel_name
            FROM port_calls
            WINDOW w AS (PARTITION BY ship_key ORDER BY arrived_at, port_call_id)
        )
        SELECT port_call_id AS arrival_id, o.vessel_key, o.ship_key, o.mmsi, vessel_name, o.imo, port_locode,
               arrived_at, CAST(arrived_at AS DATE) AS arrival_day, departed_at, source, confidence,
               sighting_ids, previous_call_id, previous_port_locode, previous_call_at,
               date_diff('day', CAST(previous_call_at AS DATE), CAST(arrived_at AS DATE)) AS days_since_previous,
               previous_vessel_key, previous_mmsi, previous_vessel_name,
               -- under another transmitter, which this one had not replaced yet (its first fix is later)
               coalesce(o.previous_vessel_key <> o.vessel_key
                        AND (l.first_fix_at IS NULL OR l.first_fix_at > o.previous_call_at), FALSE) AS identity_changed
        FROM ordered o
        {span_join("l", "o.vessel_key", "o.arrived_at")}
        WHERE port_locode IN (SELECT DISTINCT port_locode FROM stations WHERE port_locode IS NOT NULL)
          AND previous_country = '{settings.origin_country}'
          AND date_diff('day', CAST(previous_call_at AS DATE), CAST(arrived_at AS DATE)) <= {settings.lookback_days}
        ORDER BY arrived_at, arrival_id
        """
