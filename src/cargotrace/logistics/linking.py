"""Linked shipments (contract §3): a shipment of interest leaving a station that serves the
arrival port, dated from the arrival day to `window_days` after it. With several qualifying
arrivals, the latest one before the departure wins.

Shipments are read from `consignments` (logistics/consignments.py): each consignment once,
and `tonnes` is its counted weight (NULL when `weight_left_out` says why it is not summed;
`recorded_t` keeps what the record says)."""

from __future__ import annotations

from cargotrace.settings import AnalysisSettings
from cargotrace.sql import sql_list


def statements(settings: AnalysisSettings) -> list[str]:
    return [
        f"""
        CREATE OR REPLACE TABLE shipments_of_interest AS
        SELECT s.row_hash AS shipment_id, s.*, o.port_locode AS origin_port_locode,
               o.station_key AS origin_station_key, d.station_key AS destination_station_key
        FROM consignments s
        LEFT JOIN shipment_stations o ON o.shipment_id = s.row_hash AND o.role = 'origin'
        LEFT JOIN shipment_stations d ON d.shipment_id = s.row_hash AND d.role = 'destination'
        WHERE s.record = 'departure' AND s.departed_on IS NOT NULL
          AND s.cargo_class IN {sql_list(settings.interest_classes)}
        """,
        f"CREATE OR REPLACE TABLE linked_shipments AS {linked_sql(settings)}",
    ]


def linked_sql(settings: AnalysisSettings, arrivals: str = "arrivals") -> str:
    """Shipments of interest linked to the arrivals in table `arrivals`, one row per shipment
    (the latest qualifying arrival wins); the sensitivity grid runs it with other windows."""
    return f"""
        SELECT s.shipment_id, s.waybill, s.wagon, a.arrival_id, a.vessel_name, a.port_locode,
               date_diff('day', a.arrival_day, s.departed_on) AS lag_days,
               s.counted_t AS tonnes, s.weight_t AS recorded_t, s.weight_left_out,
               s.date_out_of_period, s.copies, s.conflicting, s.departed_on, s.cargo, s.cargo_class, s.cargo_rule,
               s.origin_station, s.origin_esr, s.destination_station, s.destination_esr,
               s.destination_station_key, s.consignor, s.consignee,
               s.file_hash, s.source_file, s.sheet, s.source_row
        FROM shipments_of_interest s
        JOIN {arrivals} a ON a.port_locode = s.origin_port_locode
         AND s.departed_on >= a.arrival_day
         AND s.departed_on <= a.arrival_day + {int(settings.window_days)}
        QUALIFY row_number() OVER (PARTITION BY s.shipment_id ORDER BY a.arrival_day DESC, a.arrived_at DESC, a.arrival_id) = 1
        ORDER BY s.departed_on, s.waybill, s.wagon
        """
