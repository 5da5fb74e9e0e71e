"""Away from ports: the one rule that an event at sea (an encounter, loitering) is farther
than a minimum distance from every port, and the distance to the nearest port it reports.

Ports within one degree of latitude of the event are searched (the events' minimum
distances are a few tens of km, well inside it); distances are great-circle (sql.py).
"""

from __future__ import annotations

from cargotrace.sql import haversine_km


def _port_km(alias: str) -> str:
    return haversine_km(f"{alias}.lat", f"{alias}.lon", "p.lat", "p.lon")


def nearest_port_km_sql(alias: str = "e", ports: str = "ports", match: str = "") -> str:
    """The distance (km, 0.1) from the event `alias` (lat, lon) to the nearest port. `ports`
    and `match` (a condition on `p` and the event, with its AND) let a kernel hand the ports
    that can be the nearest of each event (maritime/kernels/nearby_ports.py): same result."""
    return (
        f"(SELECT round(min({_port_km(alias)}), 1) FROM {ports} p\n"
        f"                 WHERE p.lat BETWEEN {alias}.lat - 1 AND {alias}.lat + 1 AND p.lat IS NOT NULL{match})"
    )


def far_from_ports_sql(
    min_port_km: float, alias: str = "e", ports: str = "ports", match: str = ""
) -> str:
    """True when the event `alias` is farther than `min_port_km` from every port (`ports`
    and `match` as in nearest_port_km_sql)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM {ports} p WHERE p.lat BETWEEN {alias}.lat - 1 AND {alias}.lat + 1{match}\n"
        f"                          AND {_port_km(alias)} <= {min_port_km})"
    )
