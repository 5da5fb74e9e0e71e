"""Sites: destination stations of linked shipments, merged when within `site_merge_km`, with
the nearest facility of interest, the near flag and the distance to the border country."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from cargotrace.case.schema import TABLES
from cargotrace.reference.geodesy import distance_to_geometry_km, haversine_km
from cargotrace.settings import AnalysisSettings


def _clusters(lat: np.ndarray, lon: np.ndarray, merge_km: float) -> list[int]:
    """Union-find over station pairs closer than `merge_km` (a few hundred stations at most)."""
    parent = list(range(len(lat)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    known = ~(np.isnan(lat) | np.isnan(lon))
    for i in np.flatnonzero(known):
        d = haversine_km(lat[i], lon[i], lat, lon)
        for j in np.flatnonzero(known & (d <= merge_km)):
            parent[find(int(j))] = find(int(i))
    return [find(i) for i in range(len(lat))]


def site_groups(
    lat: np.ndarray, lon: np.ndarray, tonnes: list[float], keys: list[str], merge_km: float
) -> list[tuple[int, list[int]]]:
    """The sites of destination stations: stations within `merge_km` of each other are one
    site; its main station (name, place) is the one with the most tonnes, then the greatest
    key. (main station, member stations) by index, in the order of their first member. The one
    definition, used by the sites stage and the sensitivity grid."""
    groups: dict[int, list[int]] = {}
    for index, root in enumerate(_clusters(lat, lon, merge_km)):
        groups.setdefault(root, []).append(index)
    return [
        (max(members, key=lambda i: (tonnes[i], keys[i])), members) for members in groups.values()
    ]


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    stations = (
        con.execute(
            """SELECT l.destination_station_key AS station_key, any_value(ss.station_name) AS name,
                  any_value(ss.esr) AS esr, any_value(ss.lat) AS lat, any_value(ss.lon) AS lon,
                  sum(coalesce(l.tonnes, 0)) AS tonnes, count(*) AS shipments
           FROM linked_shipments l
           JOIN shipment_stations ss ON ss.shipment_id = l.shipment_id AND ss.role = 'destination'
           GROUP BY l.destination_station_key ORDER BY l.destination_station_key"""
        )
        .to_arrow_table()
        .to_pylist()
    )
    lat = np.array([s["lat"] if s["lat"] is not None else np.nan for s in stations], float)
    lon = np.array([s["lon"] if s["lon"] is not None else np.nan for s in stations], float)
    groups = site_groups(
        lat,
        lon,
        [s["tonnes"] for s in stations],
        [s["station_key"] for s in stations],
        settings.site_merge_km,
    )

    facilities = located_facilities(con)
    of_interest = facilities_of_interest(facilities, settings)
    border = [r[0] for r in con.execute(
        "SELECT geometry_wkt FROM borders WHERE code2 = ? AND geometry_wkt IS NOT NULL", [settings.border_country]
    ).fetchall()]  # fmt: skip

    sites: list[dict[str, Any]] = []
    members: list[dict[str, str]] = []
    for main, indices in groups:
        keys = sorted(stations[i]["station_key"] for i in indices)
        site_id = "site-" + hashlib.sha1("|".join(keys).encode()).hexdigest()[:10]
        site: dict[str, Any] = {
            "site_id": site_id, "name": stations[main]["name"], "esr": stations[main]["esr"],
            "lat": stations[main]["lat"], "lon": stations[main]["lon"],
            "stations": json.dumps(keys, ensure_ascii=False),
            "tonnes": round(sum(stations[i]["tonnes"] for i in indices), 3),
            "shipments": sum(stations[i]["shipments"] for i in indices),
        }  # fmt: skip
        site.update(_nearest(site["lat"], site["lon"], of_interest, facilities, settings))
        border_km = (
            distance_to_geometry_km(site["lat"], site["lon"], border)
            if border and site["lat"] is not None
            else None
        )
        site["border_km"] = round(border_km, 3) if border_km is not None else None
        sites.append(site)
        members.extend(
            {"station_key": stations[i]["station_key"], "site_id": site_id} for i in indices
        )
    sites.sort(key=lambda s: (-s["tonnes"], s["site_id"]))
    _write(con, sites, members)


def _nearest(
    lat: float | None,
    lon: float | None,
    of_interest: list[dict[str, Any]],
    everything: list[dict[str, Any]],
    settings: AnalysisSettings,
) -> dict[str, Any]:
    empty: dict[str, Any] = {
        "nearest_facility": None,
        "nearest_category": None,
        "facility_km": None,
        "near_facility": False,
        "nearest_by_category": "{}",
    }
    if lat is None or lon is None:
        return empty
    by_category: dict[str, dict[str, Any]] = {}
    if everything:
        d = haversine_km(lat, lon, [f["lat"] for f in everything], [f["lon"] for f in everything])
        for f, km in sorted(zip(everything, d, strict=True), key=lambda x: x[1]):
            by_category.setdefault(f["category"], {"name": f["name"], "km": round(float(km), 3)})
    result = dict(empty, nearest_by_category=json.dumps(by_category, ensure_ascii=False))
    nearest = nearest_facility(lat, lon, of_interest)
    if nearest is not None:
        best, km = nearest
        result.update(nearest_facility=of_interest[best]["name"], nearest_category=of_interest[best]["category"],
                      facility_km=round(km, 3), near_facility=is_near(km, settings.near_km))  # fmt: skip
    return result


def located_facilities(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The case's facilities that have a place (name, category, lat, lon), by name."""
    rows: list[dict[str, Any]] = (
        con.execute(
            "SELECT name, category, lat, lon FROM facilities WHERE lat IS NOT NULL ORDER BY name"
        )
        .to_arrow_table()
        .to_pylist()
    )
    return rows


def facilities_of_interest(
    facilities: list[dict[str, Any]], settings: AnalysisSettings
) -> list[dict[str, Any]]:
    """The facilities whose category the settings name (`facility_categories`)."""
    return [f for f in facilities if f["category"] in settings.facility_categories]


def nearest_facility(
    lat: float | None, lon: float | None, facilities: list[dict[str, Any]]
) -> tuple[int, float] | None:
    """(index, km) of the facility nearest a site's place (great circle); None when the site
    has no place or there is no facility. The one definition, used by the sites stage and the
    sensitivity grid."""
    if lat is None or lon is None or not facilities:
        return None
    d = haversine_km(lat, lon, [f["lat"] for f in facilities], [f["lon"] for f in facilities])
    best = int(np.argmin(d))
    return best, float(d[best])


def is_near(facility_km: float, near_km: float) -> bool:
    """A site is near a facility of interest when at most `near_km` from it."""
    return bool(facility_km <= near_km)


SITE_SCHEMA = TABLES["sites"].arrow_schema()  # declared in case/schema.py


def _write(
    con: duckdb.DuckDBPyConnection, sites: list[dict[str, Any]], members: list[dict[str, Any]]
) -> None:
    con.register("sites_arrow", pa.Table.from_pylist(sites, schema=SITE_SCHEMA))
    con.execute("CREATE OR REPLACE TABLE sites AS SELECT * FROM sites_arrow")
    con.unregister("sites_arrow")
    member_schema = pa.schema([("station_key", pa.string()), ("site_id", pa.string())])
    con.register("members_arrow", pa.Table.from_pylist(members, schema=member_schema))
    con.execute("CREATE OR REPLACE TABLE site_members AS SELECT * FROM members_arrow")
    con.unregister("members_arrow")
    con.execute(
        """CREATE OR REPLACE TABLE linked_shipments AS
           SELECT l.*, m.site_id FROM linked_shipments l
           LEFT JOIN site_members m ON m.station_key = l.destination_station_key
           ORDER BY l.departed_on, l.waybill, l.wagon"""
    )
