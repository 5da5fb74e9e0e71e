"""Small spherical-geometry helpers for the synthetic sample case (stdlib only)."""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

from cargotrace.reference import geodesy

LatLon = tuple[float, float]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres (reference/geodesy.py's, for one pair)."""
    return float(geodesy.haversine_km(lat1, lon1, lat2, lon2))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from point 1 to point 2, degrees clockwise from north in [0, 360)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def offset_m(lat: float, lon: float, north_m: float, east_m: float) -> LatLon:
    """Shift a point by metres north and east (flat-earth approximation, fine below ~1 km)."""
    m_per_deg = geodesy.KM_PER_DEG * 1000
    dlat = north_m / m_per_deg
    dlon = east_m / (m_per_deg * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


@dataclass
class Route:
    """A polyline of (lat, lon) waypoints, walked by distance along it."""

    points: list[LatLon]
    cumulative_km: list[float] = field(init=False)

    def __post_init__(self) -> None:
        total = [0.0]
        for (a_lat, a_lon), (b_lat, b_lon) in zip(self.points, self.points[1:], strict=False):
            total.append(total[-1] + haversine_km(a_lat, a_lon, b_lat, b_lon))
        self.cumulative_km = total

    @property
    def length_km(self) -> float:
        return self.cumulative_km[-1]

    def reversed(self) -> Route:
        return Route(list(reversed(self.points)))

    def locate(self, s_km: float) -> tuple[float, float, float]:
        """(lat, lon, course) at distance `s_km` from the start (clamped to the route)."""
        s = min(max(s_km, 0.0), self.length_km)
        i = min(bisect_right(self.cumulative_km, s) - 1, len(self.points) - 2)
        seg = self.cumulative_km[i + 1] - self.cumulative_km[i]
        frac = 0.0 if seg == 0 else (s - self.cumulative_km[i]) / seg
        (a_lat, a_lon), (b_lat, b_lon) = self.points[i], self.points[i + 1]
        lat = a_lat + (b_lat - a_lat) * frac
        lon = a_lon + (b_lon - a_lon) * frac
        return lat, lon, bearing_deg(a_lat, a_lon, b_lat, b_lon)
