"""Distances on the Earth: haversine on arrays, and geodesic distance from a point to a
country's territory (for "distance to border")."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG), for great-circle distances
KM_PER_NM = 1.852  # one international nautical mile
KM_PER_DEG = EARTH_RADIUS_KM * math.pi / 180  # one degree of latitude (of a great circle)


def haversine_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dlat = p2 - p1
    dlon = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    km: NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    return km


@lru_cache(maxsize=64)
def _aeqd(lat: float, lon: float):  # type: ignore[no-untyped-def]
    from pyproj import Transformer

    return Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m", always_xy=True
    )


def distance_to_geometry_km(lat: float, lon: float, geometry_wkts: list[str]) -> float | None:
    """Geodesic distance (km) from a point to the nearest point of the given polygons.

    The polygons are projected to an azimuthal equidistant projection centred on the point,
    where distances from the centre are true geodesic distances; 0 when inside.
    """
    import shapely
    from shapely import wkt
    from shapely.geometry import Point

    if not geometry_wkts:
        return None
    shapes = shapely.union_all([wkt.loads(g) for g in geometry_wkts])
    transformer = _aeqd(lat, lon)

    def project(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    projected = shapely.transform(shapes, project)
    return float(projected.distance(Point(0.0, 0.0))) / 1000.0
