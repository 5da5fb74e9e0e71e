"""Resolving the stations named in shipment records to the case's station table.

By ESR code first; by normalised name (case, ё/е, «ст.», transliteration) when the record has
no usable code. The result says which rule matched, so a link can be explained.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from cargotrace.reference.names import normalize_station_name


def resolve(con: duckdb.DuckDBPyConnection) -> None:
    names = [r[0] for r in con.execute(
        "SELECT DISTINCT n FROM (SELECT origin_station AS n FROM consignments UNION SELECT destination_station FROM consignments) WHERE n IS NOT NULL"
    ).fetchall()]  # fmt: skip
    con.register("name_norm_arrow", pa.table({
        "name": pa.array(names, pa.string()),
        "name_norm": pa.array([normalize_station_name(n) for n in names], pa.string()),
    }))  # fmt: skip
    con.execute("CREATE OR REPLACE TEMP TABLE station_name_norm AS SELECT * FROM name_norm_arrow")
    con.unregister("name_norm_arrow")
    con.execute(
        """
        CREATE OR REPLACE TABLE shipment_stations AS
        WITH st AS (
            SELECT esr, any_value(name) AS name, any_value(name_norm) AS name_norm, any_value(lat) AS lat,
                   any_value(lon) AS lon, max(port_locode) AS port_locode
            FROM stations GROUP BY esr
        ), by_name AS (
            SELECT name_norm, min(esr) AS esr FROM st GROUP BY name_norm HAVING count(*) = 1
        ), ends AS (
            SELECT row_hash AS shipment_id, 'origin' AS role, origin_esr AS esr, origin_station AS name FROM consignments
            UNION ALL
            SELECT row_hash, 'destination', destination_esr, destination_station FROM consignments
        )
        SELECT e.shipment_id, e.role,
               coalesce(c.esr, bn.esr) AS esr,
               CASE WHEN c.esr IS NOT NULL THEN 'esr' WHEN bn.esr IS NOT NULL THEN 'name' END AS matched_by,
               coalesce(c.esr, bn.esr, 'NAME:' || n.name_norm, 'ESR:' || e.esr, '(unknown)') AS station_key,
               coalesce(c.name, s2.name, e.name) AS station_name,
               coalesce(c.lat, s2.lat) AS lat, coalesce(c.lon, s2.lon) AS lon,
               coalesce(c.port_locode, s2.port_locode) AS port_locode
        FROM ends e
        LEFT JOIN st c ON c.esr = e.esr
        LEFT JOIN station_name_norm n ON n.name = e.name
        LEFT JOIN by_name bn ON c.esr IS NULL AND bn.name_norm = n.name_norm
        LEFT JOIN st s2 ON s2.esr = bn.esr
        """
    )
