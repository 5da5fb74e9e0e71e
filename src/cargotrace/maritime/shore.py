"""Distance from shore: from a point to the nearest land of the case's `borders` (the Natural
Earth countries the project already uses for "distance to border"), 0 on land.

The nearest country is found in degrees (an STR-tree), then the distance to its nearest point
is measured on the sphere (haversine), so the figure is true to well under a kilometre at the
scales the rules use (tens of nautical miles). Without borders in the case there is no shore:
the functions return None and the rules that need it say so.
"""

from __future__ import annotations

import duckdb
import numpy as np
from numpy.typing import NDArray

from cargotrace.reference.geodesy import haversine_km


def shore_km(
    con: duckdb.DuckDBPyConnection, lat: NDArray[np.float64], lon: NDArray[np.float64]
) -> NDArray[np.float64] | None:
    """Kilometres from each (lat, lon) to the nearest land; None when the case has no land."""
    import shapely

    wkts = [
        r[0]
        for r in con.execute(
            "SELECT geometry_wkt FROM borders WHERE geometry_wkt IS NOT NULL"
        ).fetchall()
    ]
    if not wkts:
        return None
    land = shapely.from_wkt(wkts)
    land = land[~shapely.is_empty(land) & shapely.is_valid(land)]
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    out = np.full(len(lat), np.nan)
    if not len(lat) or not len(land):
        return out if len(land) else None
    points = shapely.points(lon, lat)
    tree = shapely.STRtree(land)
    point_idx, land_idx = tree.query_nearest(points, all_matches=False)
    lines = shapely.shortest_line(land[land_idx], points[point_idx])
    ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    out[point_idx] = haversine_km(ends[:, 0, 1], ends[:, 0, 0], ends[:, 1, 1], ends[:, 1, 0])
    on_land, _ = tree.query(points, predicate="intersects")
    out[on_land] = 0.0
    return out
