"""Port areas: the shapes that port calls are measured against, prepared once per analysis.

Each row of `ports` is one area: its polygon (`geometry_wkt`) when it has one, else a circle
of `radius_km` (default `port_radius_km`) around its point. Several rows with the same
UN/LOCODE form one port: that is how a user declares an anchorage outside the port's own
area ("Vostochny outer anchorage", locode RUVYP, its own point and radius or polygon), and a
call there is a call at RUVYP.

This small Python step (a few thousand ports) writes three tables that the SQL stages join:
* `port_areas`: area_id, port_id (one integer per UN/LOCODE), locode, country, kind
  ('circle' or 'polygon'), lat, lon, radius_km, ref_lat, ref_lon (origin of the polygon's
  local plane);
* `port_cells`: the 0.1-degree grid cells that an area, grown by the exit buffer, touches;
  a fix is only ever compared with the areas of its own cell. A cell touched by one circle
  only (most cells) is `direct` and carries the circle, so most fixes need one join and no
  grouping;
* `port_edges`: the polygon edges in a local plane (km east and north of ref_lat/ref_lon),
  for the even-odd inside test and the distance to the boundary.
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pyarrow as pa
import shapely
from shapely.geometry.base import BaseGeometry

from cargotrace.engine.sql import EARTH_RADIUS_KM
from cargotrace.settings import AnalysisSettings

CELL_DEG = 0.1
KM_PER_DEG = EARTH_RADIUS_KM * math.pi / 180


def cell_sql(lat: str, lon: str) -> tuple[str, str]:
    """SQL for the grid cell (y, x) of a point, matching `port_cells`."""
    return f"CAST(floor({lat} / {CELL_DEG}) AS INTEGER)", f"CAST(floor({lon} / {CELL_DEG}) AS INTEGER)"


def _rings(geom: BaseGeometry) -> list[np.ndarray]:
    polygons = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    rings = []
    for poly in polygons:
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        rings.append(np.asarray(poly.exterior.coords))
        rings.extend(np.asarray(r.coords) for r in poly.interiors)
    return rings


def _cells(lat_min: float, lat_max: float, lon_min: float, lon_max: float) -> list[tuple[int, int]]:
    ys = range(math.floor(lat_min / CELL_DEG), math.floor(lat_max / CELL_DEG) + 1)
    spans = [(lon_min, lon_max)]
    if lon_min < -180:
        spans = [(-180.0, lon_max), (lon_min + 360, 180.0)]
    elif lon_max > 180:
        spans = [(lon_min, 180.0), (-180.0, lon_max - 360)]
    cells = []
    for lo, hi in spans:
        xs = range(math.floor(lo / CELL_DEG), math.floor(hi / CELL_DEG) + 1)
        cells.extend((y, x) for y in ys for x in xs)
    return cells


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    rows = con.execute(
        "SELECT locode, country, lat, lon, radius_km, geometry_wkt FROM ports "
        "WHERE locode IS NOT NULL AND ((lat IS NOT NULL AND lon IS NOT NULL) OR geometry_wkt IS NOT NULL) "
        "ORDER BY locode, lat, lon"
    ).fetchall()
    buffer_km = settings.port_exit_buffer_km
    areas: dict[str, list[object]] = {k: [] for k in
        ("area_id", "port_id", "locode", "country", "kind", "lat", "lon", "radius_km", "ref_lat", "ref_lon")}  # fmt: skip
    port_ids: dict[str, int] = {}
    cell_areas: dict[tuple[int, int], list[int]] = {}
    edges: dict[str, list[float | int]] = {k: [] for k in ("area_id", "x1", "y1", "x2", "y2")}
    for area_id, (locode, country, lat, lon, radius_km, wkt) in enumerate(rows):
        geom = None
        if wkt:
            try:
                geom = shapely.from_wkt(wkt)
            except shapely.errors.GEOSException:
                geom = None
        rings = _rings(geom) if geom is not None else []
        if rings:
            min_lon, min_lat, max_lon, max_lat = geom.bounds  # type: ignore[union-attr]
            ref_lat, ref_lon = (min_lat + max_lat) / 2, (min_lon + max_lon) / 2
            kx = KM_PER_DEG * math.cos(math.radians(ref_lat))
            for ring in rings:
                x = (ring[:, 0] - ref_lon) * kx
                y = (ring[:, 1] - ref_lat) * KM_PER_DEG
                n = len(ring) - 1
                edges["area_id"] += [area_id] * n
                edges["x1"] += x[:-1].tolist()
                edges["y1"] += y[:-1].tolist()
                edges["x2"] += x[1:].tolist()
                edges["y2"] += y[1:].tolist()
            kind, radius = "polygon", None
            lat = lat if lat is not None else ref_lat
            lon = lon if lon is not None else ref_lon
            grow_lat = buffer_km / KM_PER_DEG
            grow_lon = buffer_km / (KM_PER_DEG * max(math.cos(math.radians(max(abs(min_lat), abs(max_lat)))), 0.01))
            box = (min_lat - grow_lat, max_lat + grow_lat, min_lon - grow_lon, max_lon + grow_lon)
        else:
            if lat is None or lon is None:
                continue
            kind, radius = "circle", float(radius_km or settings.port_radius_km)
            ref_lat, ref_lon = lat, lon
            reach = radius + buffer_km
            d_lat = reach / KM_PER_DEG
            d_lon = reach / (KM_PER_DEG * max(math.cos(math.radians(min(abs(lat) + d_lat, 89.9))), 0.01))
            box = (lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon)
        port_id = port_ids.setdefault(locode, len(port_ids))
        values = (area_id, port_id, locode, country, kind, lat, lon, radius, ref_lat, ref_lon)
        for key, value in zip(areas, values, strict=True):
            areas[key].append(value)
        for cell in _cells(*box):
            cell_areas.setdefault(cell, []).append(area_id)
    index = {a: i for i, a in enumerate(areas["area_id"])}
    cells: dict[str, list[object]] = {k: [] for k in ("cell_y", "cell_x", "area_id", "direct", "port_id", "lat", "lon", "radius_km")}
    for (y, x), ids in sorted(cell_areas.items()):
        direct = len(ids) == 1 and areas["kind"][index[ids[0]]] == "circle"
        for a in ids:
            i = index[a]
            for key, value in (("cell_y", y), ("cell_x", x), ("area_id", a), ("direct", direct), ("port_id", areas["port_id"][i]),
                               ("lat", areas["lat"][i]), ("lon", areas["lon"][i]), ("radius_km", areas["radius_km"][i])):  # fmt: skip
                cells[key].append(value)
    tables = {
        "port_areas": pa.table(areas, schema=pa.schema([
            ("area_id", pa.int32()), ("port_id", pa.int32()), ("locode", pa.string()), ("country", pa.string()), ("kind", pa.string()),
            ("lat", pa.float64()), ("lon", pa.float64()), ("radius_km", pa.float64()),
            ("ref_lat", pa.float64()), ("ref_lon", pa.float64())])),
        "port_cells": pa.table(cells, schema=pa.schema([("cell_y", pa.int32()), ("cell_x", pa.int32()), ("area_id", pa.int32()),
                                                        ("direct", pa.bool_()), ("port_id", pa.int32()), ("lat", pa.float64()),
                                                        ("lon", pa.float64()), ("radius_km", pa.float64())])),
        "port_edges": pa.table(edges, schema=pa.schema([("area_id", pa.int32()), ("x1", pa.float64()), ("y1", pa.float64()),
                                                        ("x2", pa.float64()), ("y2", pa.float64())])),
    }  # fmt: skip
    for name, table in tables.items():
        con.register(f"{name}_arrow", table)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        con.unregister(f"{name}_arrow")
