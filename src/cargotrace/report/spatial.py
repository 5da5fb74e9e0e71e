"""Geometries of the spatial export tables, for GeoJSON and GeoParquet (and a WKT column in CSV).

Each spatial table has one geometry type and one query that yields the table's columns plus
two hidden list columns, `_x` (longitudes) and `_y` (latitudes): one element for a Point, the
vertices in time order for a LineString. Coordinates are WGS 84 longitude, latitude (RFC 7946
order; GeoParquet's default CRS, OGC:CRS84). A row without usable coordinates gets a null
geometry, never a made-up one.

* port_calls, arrivals, dark_calls: the port's position (the case's own port before the
  gazetteer's), since a call is a stay at a port, not a fix;
* gaps, encounters, loitering: every source's (tables all_gaps, all_encounters, all_loitering:
  the AIS rules' and Global Fishing Watch's, with `source` and `confidence`);
* gaps: a LineString from the last fix before the gap to the first fix after it (the dark
  stretch as the crow flies, not the route sailed), a Point when both ends coincide;
* ais_disabling, draught_changes: like gaps; encounters, loitering, interference, circling
  (its centre), spoofed_positions, sightings, sites, facilities, ports, stations, positions,
  ais_stations: Points;
* tracks: one LineString per vessel (MMSI) and UTC day from its positions in time order,
  leaving out the fixes `analyze` found impossible (table impossible_fixes: reached by a step no
  ship can sail, maritime/interference.py), so a case not analysed yet has no tracks to export;
  a day with fewer than two such fixes is left out, a day spent at one position is a Point
  (`fixes` counts the fixes).
* impossible_fixes: Points, each with the fix before it and the speed the step implies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.maritime.interference import possible_fix_sql

GEOPARQUET_VERSION = "1.1.0"

# One position per UN/LOCODE: a port the user added wins over the gazetteer's.
PORT_POINTS = """(SELECT locode, lon, lat FROM ports WHERE lat IS NOT NULL AND lon IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY locode ORDER BY origin = 'gazetteer', source_file, lat, lon) = 1)"""


@dataclass(frozen=True)
class SpatialTable:
    geometry_type: str  # "Point" or "LineString"
    sql: str  # the table's columns plus `_x` and `_y` (lists of longitudes and latitudes)
    needs: str  # the case table it reads (for the "not analysed yet" message)


PORT_CALL_COLUMNS = ", ".join(f"t.{c}" for c in (
    "port_call_id", "mmsi", "vessel_name", "imo", "port_locode", "arrived_at", "departed_at", "source",
    "confidence", "fixes", "vessel_key", "port_country", "entered_at", "exited_at", "dwell_hours", "stops",
    "stop_hours", "port_gaps", "port_gap_hours", "ais_events", "confidence_level", "sighting_ids"))  # fmt: skip


def _at_port(table: str, order: str, exclude: str = "") -> str:
    return (
        f"SELECT t.* {exclude}, [p.lon] AS _x, [p.lat] AS _y FROM {table} t "
        f"LEFT JOIN {PORT_POINTS} p ON p.locode = t.port_locode ORDER BY {order}"
    )


def _points(table: str, order: str, columns: str = "t.*", where: str = "TRUE") -> str:
    return f"SELECT {columns}, [t.lon] AS _x, [t.lat] AS _y FROM {table} t WHERE {where} ORDER BY {order}"


TRACKS_SQL = f"""
SELECT mmsi, CAST(timestamp AT TIME ZONE 'UTC' AS DATE) AS day, min(timestamp) AS first_fix_at,
       max(timestamp) AS last_fix_at, count(*) AS fixes,
       list(lon ORDER BY timestamp, lat, lon) AS _x, list(lat ORDER BY timestamp, lat, lon) AS _y
FROM positions p
WHERE mmsi IS NOT NULL AND timestamp IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL
  AND {possible_fix_sql("p")}
GROUP BY ALL HAVING count(*) >= 2 ORDER BY mmsi, day
"""

SPATIAL_TABLES: dict[str, SpatialTable] = {
    "port_calls": SpatialTable("Point", _at_port("port_calls", "t.arrived_at, t.port_call_id").replace("t.* ,", f"{PORT_CALL_COLUMNS},"), "port_calls"),
    "arrivals": SpatialTable("Point", _at_port("arrivals", "t.arrived_at", "EXCLUDE (sighting_ids)"), "arrivals"),
    "dark_calls": SpatialTable("Point", _at_port("dark_calls", "t.vessel_key, t.earliest_arrival, t.port_locode"), "dark_calls"),
    "gaps": SpatialTable(
        "LineString",
        "SELECT t.*, [t.start_lon, t.end_lon] AS _x, [t.start_lat, t.end_lat] AS _y FROM all_gaps t ORDER BY t.mmsi, t.started_at",
        "all_gaps",
    ),
    "encounters": SpatialTable("Point", _points("all_encounters", "t.started_at, t.mmsi_a, t.mmsi_b"), "all_encounters"),
    "loitering": SpatialTable("Point", _points("all_loitering", "t.started_at, t.mmsi"), "all_loitering"),
    "interference": SpatialTable("Point", _points("interference", "t.hour_start, t.cell_y, t.cell_x"), "interference"),
    "circling": SpatialTable("Point", _points("circling", "t.hour_start, t.mmsi"), "circling"),
    "spoofed_positions": SpatialTable("Point", _points("spoofed_positions", "t.mmsi, t.timestamp"), "spoofed_positions"),
    "ais_disabling": SpatialTable(
        "LineString",
        "SELECT t.*, [t.start_lon, t.end_lon] AS _x, [t.start_lat, t.end_lat] AS _y FROM ais_disabling t ORDER BY t.started_at, t.vessel_key",
        "ais_disabling",
    ),
    "draught_changes": SpatialTable(
        "LineString",
        "SELECT t.*, [t.start_lon, t.end_lon] AS _x, [t.start_lat, t.end_lat] AS _y FROM draught_changes t ORDER BY t.started_at, t.vessel_key",
        "draught_changes",
    ),
    "sites": SpatialTable("Point", _points("sites", "t.tonnes DESC"), "sites"),
    "facilities": SpatialTable("Point", _points("facilities", "t.name"), "facilities"),
    "sightings": SpatialTable(
        "Point",
        "SELECT t.*, [coalesce(t.lon, p.lon)] AS _x, [coalesce(t.lat, p.lat)] AS _y FROM sightings t "
        f"LEFT JOIN {PORT_POINTS} p ON p.locode = t.port ORDER BY t.observed_at",
        "sightings",
    ),
    "ports": SpatialTable("Point", _points("ports", "t.locode", where="t.origin <> 'gazetteer'"), "ports"),
    "stations": SpatialTable("Point", _points("stations", "t.esr"), "stations"),
    "positions": SpatialTable(
        "Point",
        _points("positions", "t.mmsi, t.timestamp", "t.mmsi, t.timestamp, t.lat, t.lon, t.sog, t.cog, t.heading, t.nav_status, t.msg_type, t.flags, t.source_file, t.source_row"),
        "positions",
    ),
    "impossible_fixes": SpatialTable("Point", _points("impossible_fixes", "t.mmsi, t.timestamp, t.lat, t.lon"), "impossible_fixes"),
    "tracks": SpatialTable("LineString", TRACKS_SQL, "impossible_fixes"),  # made by analyze
    # base stations, aids to navigation, SAR aircraft: AIS reports that are not vessels (ingest/kinds/ais_rules.py)
    "ais_stations": SpatialTable("Point", _points("ais_stations", "t.station_kind, t.mmsi, t.timestamp"), "ais_stations"),
}  # fmt: skip


def geometries(data: pa.Table, geometry_type: str) -> np.ndarray:
    """Shapely geometries (None where coordinates are missing) from the `_x`/`_y` columns.

    A line drops vertices that repeat the one before; a line left with one position (a ship
    that did not move, a gap that ended where it began) is that Point, not an invalid line."""
    import shapely

    xs, ys = data.column("_x").combine_chunks(), data.column("_y").combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(xs), 0).to_numpy(zero_copy_only=False)
    flat_x = pc.list_flatten(xs).to_numpy(zero_copy_only=False).astype(float)
    flat_y = pc.list_flatten(ys).to_numpy(zero_copy_only=False).astype(float)
    row_of = np.repeat(np.arange(len(lengths)), lengths)
    finite = np.isfinite(flat_x) & np.isfinite(flat_y)
    # a row with any missing vertex has no geometry (a partial line would misplace it)
    usable = (np.bincount(row_of, weights=finite, minlength=len(lengths)) == lengths) & (
        lengths > 0
    )
    out = np.full(len(lengths), None, dtype=object)
    keep = usable[row_of]
    x, y, rows = flat_x[keep], flat_y[keep], row_of[keep]
    if geometry_type == "LineString":
        fresh = np.ones(len(rows), dtype=bool)
        fresh[1:] = (rows[1:] != rows[:-1]) | (x[1:] != x[:-1]) | (y[1:] != y[:-1])
        x, y, rows = x[fresh], y[fresh], rows[fresh]
        vertices = np.bincount(rows, minlength=len(lengths))
        line = (vertices >= 2)[rows]
        _, dense = np.unique(rows[line], return_inverse=True)  # shapely wants 0..n-1
        if line.any():
            out[np.unique(rows[line])] = shapely.linestrings(
                np.column_stack([x[line], y[line]]), indices=dense
            )
        x, y, rows = x[~line], y[~line], rows[~line]
    if len(rows):
        out[rows] = shapely.points(np.column_stack([x, y]))
    return out


def geometry_types(shapes: np.ndarray) -> list[str]:
    """The GeoParquet `geometry_types` of the geometries present (sorted, no duplicates)."""
    return sorted({s.geom_type for s in shapes if s is not None})


def plain_columns(data: pa.Table) -> pa.Table:
    return data.drop_columns([c for c in ("_x", "_y") if c in data.column_names])


def with_wkb(data: pa.Table, geometry_type: str) -> pa.Table:
    """The table with its geometry as a WKB `geometry` column and GeoParquet 1.1 metadata."""
    import shapely

    shapes = geometries(data, geometry_type)
    wkb = shapely.to_wkb(shapes, output_dimension=2)
    table = plain_columns(data).append_column("geometry", pa.array(list(wkb), type=pa.binary()))
    present = shapes[shapes != np.array(None)]
    column: dict[str, Any] = {"encoding": "WKB", "geometry_types": geometry_types(shapes)}
    if len(present):
        column["bbox"] = [float(v) for v in shapely.total_bounds(present)]
    geo = {
        "version": GEOPARQUET_VERSION,
        "primary_column": "geometry",
        "columns": {"geometry": column},
    }
    return table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"geo": json.dumps(geo).encode()}
    )


def with_wkt(data: pa.Table, geometry_type: str) -> pa.Table:
    """The table with its geometry as a `wkt` column (GDAL's CSV driver and QGIS find it)."""
    import shapely

    wkt = shapely.to_wkt(geometries(data, geometry_type), rounding_precision=-1)
    return plain_columns(data).append_column("wkt", pa.array(list(wkt), type=pa.string()))


def geojson_features(data: pa.Table, geometry_type: str) -> list[dict[str, Any]]:
    """GeoJSON features; the properties keep the raw values (the caller makes them JSON)."""
    import shapely

    shapes = geometries(data, geometry_type)
    rows = plain_columns(data).to_pylist()
    return [
        {
            "type": "Feature",
            "geometry": None if shape is None else json.loads(shapely.to_geojson(shape)),
            "properties": row,
        }
        for shape, row in zip(shapes, rows, strict=True)
    ]
