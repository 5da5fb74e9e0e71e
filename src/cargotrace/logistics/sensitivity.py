"""Sensitivity: linked tonnage, sites and p-value over a grid of the parameters a critic
would question — window 3-14 days, near distance 5-50 km, lookback 14-60 days.

The arrivals and linking stages' SQL is re-run for each (lookback, window) pair, and their
sites grouped by the sites stage's rule; the near distance only moves a threshold on the
sites' facility distances, so it costs nothing. The result names the
parameters the conclusion ("timing unlikely by chance at p < 0.05") depends on.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import duckdb
import numpy as np

from cargotrace.logistics import arrivals, linking, significance
from cargotrace.logistics.significance import store_result
from cargotrace.logistics.sites import (
    facilities_of_interest,
    is_near,
    located_facilities,
    nearest_facility,
    site_groups,
)
from cargotrace.settings import AnalysisSettings

WINDOWS = (3, 5, 7, 10, 14)
NEAR_KM = (5.0, 10.0, 20.0, 30.0, 50.0)
LOOKBACKS = (14, 21, 30, 45, 60)
ALPHA = 0.05


def _station_facility_km(
    con: duckdb.DuckDBPyConnection, settings: AnalysisSettings
) -> dict[str, tuple[float, float, float]]:
    """Destination station key -> (lat, lon, km to the nearest facility of interest), by the
    sites stage's rule (logistics/sites.py)."""
    stations = con.execute(
        """SELECT destination_station_key, any_value(ss.lat), any_value(ss.lon)
           FROM shipments_of_interest s JOIN shipment_stations ss ON ss.shipment_id = s.shipment_id AND ss.role = 'destination'
           GROUP BY destination_station_key"""
    ).fetchall()
    of_interest = facilities_of_interest(located_facilities(con), settings)
    out = {}
    for key, lat, lon in stations:
        nearest = nearest_facility(lat, lon, of_interest)
        if lat is None or lon is None:
            out[key] = (np.nan, np.nan, np.inf)
        else:
            out[key] = (lat, lon, np.inf if nearest is None else nearest[1])
    return out


def compute(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> dict[str, Any]:
    """The grid: for each lookback, the arrivals of interest (logistics/arrivals.py); for each
    window, the links (logistics/linking.py) and their sites (logistics/sites.py) - the
    stages' own rules with other settings; the timing test on each cell."""
    stations = _station_facility_km(con, settings)
    departures = significance.tested_departures(con)
    grid: list[dict[str, Any]] = []
    for lookback in LOOKBACKS:
        cell = replace(settings, lookback_days=lookback)
        con.execute(f"CREATE OR REPLACE TEMP TABLE grid_arrivals AS {arrivals.select_sql(cell)}")
        arrival_days = con.execute("SELECT port_locode, arrival_day FROM grid_arrivals").fetchall()
        for window in WINDOWS:
            linked = linking.linked_sql(replace(cell, window_days=window), arrivals="grid_arrivals")
            links = con.execute(
                f"""SELECT destination_station_key AS station_key, sum(coalesce(tonnes, 0)) AS tonnes, count(*) AS n
                    FROM ({linked}) GROUP BY destination_station_key ORDER BY station_key"""
            ).fetchall()
            site_km = _site_distances(links, stations, settings.site_merge_km)
            axis = significance.day_axis(departures, arrival_days, window)
            test = significance.shift_test(axis.per_port, axis.n_days, window) if axis else {}
            p_value, permutations = test.get("p_value"), test.get("permutations")
            for near in NEAR_KM:
                grid.append({
                    "window_days": window, "near_km": near, "lookback_days": lookback,
                    "linked_tonnes": round(sum(t for _, t, _ in links), 1), "linked_shipments": sum(n for _, _, n in links),
                    "sites": len(site_km), "sites_near_facility": sum(is_near(km, near) for km in site_km),
                    "p_value": p_value, "permutations": permutations,
                })  # fmt: skip
    return {"grid": grid, "depends_on": _depends_on(grid, settings), "alpha": ALPHA}


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    """The `sensitivity` stage: the grid and what the conclusion depends on, as one JSON row."""
    store_result(con, "sensitivity", compute(con, settings))


def _site_distances(
    links: list[tuple[str, float, int]],
    stations: dict[str, tuple[float, float, float]],
    merge_km: float,
) -> list[float]:
    """Facility distance of each site's main station."""
    if not links:
        return []
    lat = np.array([stations.get(k, (np.nan, np.nan, np.inf))[0] for k, _, _ in links], float)
    lon = np.array([stations.get(k, (np.nan, np.nan, np.inf))[1] for k, _, _ in links], float)
    groups = site_groups(lat, lon, [t for _, t, _ in links], [k for k, _, _ in links], merge_km)
    return [stations.get(links[main][0], (0, 0, np.inf))[2] for main, _ in groups]


def _depends_on(grid: list[dict[str, Any]], settings: AnalysisSettings) -> list[dict[str, Any]]:
    """For each parameter varied alone (others at the nearest grid value to the settings),
    whether the conclusion p < alpha changes across its range, and the tonnage range."""

    def nearest(values: tuple[float, ...], target: float) -> float:
        return min(values, key=lambda v: (abs(v - target), v))

    base = {"window_days": nearest(WINDOWS, settings.window_days), "near_km": nearest(NEAR_KM, settings.near_km),
            "lookback_days": nearest(LOOKBACKS, settings.lookback_days)}  # fmt: skip
    out = []
    for name in ("window_days", "near_km", "lookback_days"):
        rows = [r for r in grid if all(r[k] == v for k, v in base.items() if k != name)]
        verdicts = {r["p_value"] is not None and r["p_value"] < ALPHA for r in rows}
        tonnes = [r["linked_tonnes"] for r in rows]
        near = [r["sites_near_facility"] for r in rows]
        out.append({
            "parameter": name, "values": [r[name] for r in rows],
            "conclusion_changes": len(verdicts) > 1,
            "linked_tonnes_range": [min(tonnes), max(tonnes)] if tonnes else None,
            "sites_near_facility_range": [min(near), max(near)] if near else None,
        })  # fmt: skip
    return out
