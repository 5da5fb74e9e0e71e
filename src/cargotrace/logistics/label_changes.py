"""Label changes: a consignment (waybill, and wagon when given) whose departure record
declares one cargo class and whose arrival record another (e.g. explosives -> ammunition)."""

from __future__ import annotations

from cargotrace.settings import AnalysisSettings


def statements(settings: AnalysisSettings) -> list[str]:
    return [
        """
        CREATE OR REPLACE TABLE label_changes AS
        WITH dep AS (
            SELECT waybill, coalesce(wagon, '') AS wagon_key, any_value(wagon) AS wagon,
                   arg_min(cargo_class, source_row) AS declared, arg_min(cargo, source_row) AS declared_text,
                   min(departed_on) AS departed_on, arg_min(source_file, source_row) AS departure_file,
                   min(source_row) AS departure_row
            FROM shipments WHERE record = 'departure' GROUP BY waybill, coalesce(wagon, '')
        ), arr AS (
            SELECT waybill, coalesce(wagon, '') AS wagon_key,
                   arg_min(cargo_class, source_row) AS at_destination, arg_min(cargo, source_row) AS at_destination_text,
                   min(coalesce(arrived_on, departed_on)) AS arrived_on, arg_min(source_file, source_row) AS arrival_file,
                   min(source_row) AS arrival_row
            FROM shipments WHERE record = 'arrival' GROUP BY waybill, coalesce(wagon, '')
        )
        SELECT d.waybill, d.wagon, d.declared, a.at_destination, d.declared_text, a.at_destination_text,
               d.departed_on, a.arrived_on, d.departure_file, d.departure_row, a.arrival_file, a.arrival_row
        FROM dep d JOIN arr a USING (waybill, wagon_key)
        WHERE d.declared IS DISTINCT FROM a.at_destination
        ORDER BY d.waybill, d.wagon
        """
    ]
