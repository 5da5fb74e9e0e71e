"""Label changes: a consignment (waybill, and wagon when given) whose departure record
declares one cargo class and whose arrival record another (e.g. explosives -> ammunition).

Records are read from `consignments` and matched on the waybill and wagon keys (look-alike
Latin and Cyrillic letters folded, `reference/identifiers.py`), so an arrival record typed
with `ЭA498498` (Latin A) still meets its departure `ЭА498498`."""

from __future__ import annotations

from cargotrace.settings import AnalysisSettings


def statements(settings: AnalysisSettings) -> list[str]:
    return [
        """
        CREATE OR REPLACE TABLE label_changes AS
        WITH dep AS (
            SELECT waybill_key, wagon_key, arg_min(waybill, source_row) AS waybill,
                   arg_min(wagon, source_row) AS wagon,
                   arg_min(cargo_class, source_row) AS declared, arg_min(cargo, source_row) AS declared_text,
                   min(departed_on) AS departed_on, arg_min(source_file, source_row) AS departure_file,
                   min(source_row) AS departure_row
            FROM consignments WHERE record = 'departure' GROUP BY waybill_key, wagon_key
        ), arr AS (
            SELECT waybill_key, wagon_key, arg_min(waybill, source_row) AS arrival_waybill,
                   arg_min(cargo_class, source_row) AS at_destination, arg_min(cargo, source_row) AS at_destination_text,
                   min(coalesce(arrived_on, departed_on)) AS arrived_on, arg_min(source_file, source_row) AS arrival_file,
                   min(source_row) AS arrival_row
            FROM consignments WHERE record = 'arrival' GROUP BY waybill_key, wagon_key
        )
        SELECT d.waybill, d.wagon, d.declared, a.at_destination, d.declared_text, a.at_destination_text,
               d.departed_on, a.arrived_on, d.departure_file, d.departure_row, a.arrival_file, a.arrival_row,
               a.arrival_waybill
        FROM dep d JOIN arr a USING (waybill_key, wagon_key)
        WHERE d.declared IS DISTINCT FROM a.at_destination
        ORDER BY d.waybill, d.wagon
        """
    ]
