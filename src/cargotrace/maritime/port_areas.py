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
* `port_cells`: the 0.02-degree grid cells that an area, grown by the exit buffer, touches;
  a fix is only ever compared with the areas of its own cell. A cell touched by one circle
  only (most cells) is `direct` and carries the circle, so most fixes need one join and no
  grouping;
* `port_edges`: the polygon edges in a local plane (km east and north of ref_lat/ref_lon),
  for the even-odd inside test and the distance to the boundary.
"""

from __future__ import annotations

import math
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import shapely
from shapely.geometry.base import BaseGeometry

from cargotrace.maritime.kernels import views
from cargotrace.reference.geodesy import KM_PER_DEG
from cargotrace.settings import AnalysisSettings

CELL_DEG = 0.02  # ~2.2 km: most cells near a port touch one area only


GRID_TAG = "port_grid"  # views tag: a new object each time the tables are built


def cell_sql(lat: str, lon: str, cell_deg: float = CELL_DEG) -> tuple[str, str]:
    """SQL for the grid cell (y, x) of a point, matching `port_cells` by default."""
    return (
        f"CAST(floor({lat} / {cell_deg}) AS INTEGER)",
        f"CAST(floor({lon} / {cell_deg}) AS INTEGER)",
    )


def _rings(geom: BaseGeometry) -> list[np.ndarray]:
    polygons = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    rings = []
    for poly in polygons:
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        rings.append(np.asarray(poly.exterior.coords))
        rings.extend(np.asarray(r.coords) for r in poly.interiors)
    return rings


def _cells(
    lat_min: float,
    lat_max: float,
    lon_min: float,
    lon_max: float,
    centre: tuple[float, float] | None = None,
    reach_km: float = 0.0,
) -> list[tuple[int, int]]:
    """Grid cells of a bounding box; with `centre`, only the cells that may hold a point
    within `reach_km` of it (a lower bound of the distance, 1% to spare, decides)."""
    ys = np.arange(math.floor(lat_min / CELL_DEG), math.floor(lat_max / CELL_DEG) + 1)
    spans = [(lon_min, lon_max)]
    if lon_min < -180:
        spans = [(-180.0, lon_max), (lon_min + 360, 180.0)]
    elif lon_max > 180:
        spans = [(lon_min, 180.0), (-180.0, lon_max - 360)]
    cells: list[tuple[int, int]] = []
    for lo, hi in spans:
        xs = np.arange(math.floor(lo / CELL_DEG), math.floor(hi / CELL_DEG) + 1)
        yy, xx = (a.ravel() for a in np.meshgrid(ys, xs, indexing="ij"))
        if centre is not None:
            lat, lon = centre
            lon = lon + 360 if lo > 0 > lon else lon - 360 if hi < 0 < lon else lon
            y0, y1, x0, x1 = yy * CELL_DEG, (yy + 1) * CELL_DEG, xx * CELL_DEG, (xx + 1) * CELL_DEG
            dy = np.maximum(np.maximum(y0 - lat, lat - y1), 0) * KM_PER_DEG
            far_lat = np.maximum(np.abs(y0), np.abs(y1)).clip(max=89.9)
            dx = (
                np.maximum(np.maximum(x0 - lon, lon - x1), 0)
                * KM_PER_DEG
                * np.cos(np.radians(far_lat))
            )
            keep = np.hypot(dx, dy) * 0.99 <= reach_km
            yy, xx = yy[keep], xx[keep]
        cells.extend(zip(yy.tolist(), xx.tolist(), strict=True))
    return cells


def _circle_cells(circles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cells of many circles at once (rows: area_id, lat_min, lat_max, lon_min, lon_max,
    lat, lon, reach_km), pruned as in `_cells`."""
    area, lat_min, lat_max, lon_min, lon_max, lat, lon, reach = circles.T
    y0, y1 = (
        np.floor(lat_min / CELL_DEG).astype(np.int64),
        np.floor(lat_max / CELL_DEG).astype(np.int64),
    )
    x0, x1 = (
        np.floor(lon_min / CELL_DEG).astype(np.int64),
        np.floor(lon_max / CELL_DEG).astype(np.int64),
    )
    ny, nx = y1 - y0 + 1, x1 - x0 + 1
    n = ny * nx
    idx = np.repeat(np.arange(len(circles)), n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    yy, xx = y0[idx] + k // nx[idx], x0[idx] + k % nx[idx]
    c0, c1, d0, d1 = yy * CELL_DEG, (yy + 1) * CELL_DEG, xx * CELL_DEG, (xx + 1) * CELL_DEG
    dy = np.maximum(np.maximum(c0 - lat[idx], lat[idx] - c1), 0) * KM_PER_DEG
    far_lat = np.maximum(np.abs(c0), np.abs(c1)).clip(max=89.9)
    dx = (
        np.maximum(np.maximum(d0 - lon[idx], lon[idx] - d1), 0)
        * KM_PER_DEG
        * np.cos(np.radians(far_lat))
    )
    keep = np.hypot(dx, dy) * 0.99 <= reach[idx]
    return np.column_stack([yy[keep], xx[keep]]).astype(np.int32), area[idx][keep].astype(np.int32)


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
    cell_lists: list[np.ndarray] = []
    cell_owner: list[np.ndarray] = []
    circles: list[tuple[float, ...]] = []
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
            grow_lon = buffer_km / (
                KM_PER_DEG * max(math.cos(math.radians(max(abs(min_lat), abs(max_lat)))), 0.01)
            )
            box: tuple[Any, ...] | None = (
                min_lat - grow_lat,
                max_lat + grow_lat,
                min_lon - grow_lon,
                max_lon + grow_lon,
            )
        else:
            if lat is None or lon is None:
                continue
            kind, radius = "circle", float(radius_km or settings.port_radius_km)
            ref_lat, ref_lon = lat, lon
            reach = radius + buffer_km
            d_lat = reach / KM_PER_DEG
            d_lon = reach / (
                KM_PER_DEG * max(math.cos(math.radians(min(abs(lat) + d_lat, 89.9))), 0.01)
            )
            box = (lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon, (lat, lon), reach)
            if -180 <= box[2] and box[3] <= 180:
                circles.append((area_id, *box[:4], lat, lon, reach))  # gridded below, all at once
                box = None
        port_id = port_ids.setdefault(locode, len(port_ids))
        values = (area_id, port_id, locode, country, kind, lat, lon, radius, ref_lat, ref_lon)
        for key, value in zip(areas, values, strict=True):
            areas[key].append(value)
        if box is not None:
            found = _cells(*box)
            cell_lists.append(np.array(found, dtype=np.int32).reshape(-1, 2))
            cell_owner.append(np.full(len(found), area_id, np.int32))
    if circles:
        cells, owner = _circle_cells(np.array(circles, dtype=np.float64))
        cell_lists.append(cells)
        cell_owner.append(owner)
    grid = np.concatenate(cell_lists) if cell_lists else np.zeros((0, 2), np.int32)
    owners = np.concatenate(cell_owner) if cell_owner else np.zeros(0, np.int32)
    tables = {
        "port_areas": pa.table(areas, schema=pa.schema([
            ("area_id", pa.int32()), ("port_id", pa.int32()), ("locode", pa.string()), ("country", pa.string()), ("kind", pa.string()),
            ("lat", pa.float64()), ("lon", pa.float64()), ("radius_km", pa.float64()),
            ("ref_lat", pa.float64()), ("ref_lon", pa.float64())])),
        "cells": pa.table({"cell_y": grid[:, 0], "cell_x": grid[:, 1], "area_id": owners}),
        "port_edges": pa.table(edges, schema=pa.schema([("area_id", pa.int32()), ("x1", pa.float64()), ("y1", pa.float64()),
                                                        ("x2", pa.float64()), ("y2", pa.float64())])),
    }  # fmt: skip
    for name, table in tables.items():
        con.register(f"{name}_arrow", table)
    con.execute("CREATE OR REPLACE TEMP TABLE port_areas AS SELECT * FROM port_areas_arrow")
    con.execute("CREATE OR REPLACE TEMP TABLE port_edges AS SELECT * FROM port_edges_arrow")
    # a cell is `direct` when it touches a single area and that area is a circle
    con.execute(
        """CREATE OR REPLACE TEMP TABLE port_cells AS
           SELECT c.cell_y, c.cell_x, c.area_id,
                  (count(*) OVER (PARTITION BY c.cell_y, c.cell_x) = 1 AND a.kind = 'circle') AS direct,
                  a.port_id, a.lat, a.lon, a.radius_km
           FROM cells_arrow c JOIN port_areas_arrow a ON a.area_id = c.area_id"""
    )
    for name in tables:
        con.unregister(f"{name}_arrow")
    # this analysis's port grid: a kernel that reads these tables notes which one it read
    views.set_tag(con, GRID_TAG, object())
