"""Possible dark calls: the origin-country ports a vessel could have visited during an AIS
gap, measured along sea routes.

The SQL stage (maritime/gaps.py) keeps only the (gap, port) pairs that are feasible along
great circles. Here the few survivors are measured again along the offline marine network
that the `searoute` package ships (Eurostat's global shipping lanes): from the grid cell of
the gap's start to the port and from the port to the cell of its end. A pair stays when

    (sea_to_port_km + sea_from_port_km) / (1.852 * speed_kn) + min_call_hours <= gap hours

Sea-route distances are cached per (0.1-degree cell, port) in the case (`sea_distances`), so
a re-analysis or another gap from the same waters costs nothing. A distance never goes below
the great circle, and the offset between the fix and its cell centre is subtracted (so the
list errs on the side of inclusion). Where searoute finds no route, the great circle stands
and `distance_method` says so. Every row is labelled `inferred`: nothing was observed.

Tables: `dark_calls` (one row per feasible gap x port) and `gaps` (contract columns plus
`possible_dark_calls`, the feasible UN/LOCODEs joined by ';', and `beyond_dark_call_bound`:
the gap is longer than `dark_call_max_gap_days` and offers none). A silence across time no
AIS file of the case covers is no gap: it goes to `coverage_gaps` (maritime/coverage.py).
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import duckdb
import pyarrow as pa

from cargotrace.maritime import coverage
from cargotrace.reference.geodesy import KM_PER_NM
from cargotrace.reference.geodesy import haversine_km as _haversine
from cargotrace.settings import AnalysisSettings

SEA_CELL_DEG = 0.1  # gap ends are snapped to this grid for the sea-route cache
CACHE_DDL = """CREATE TABLE IF NOT EXISTS sea_distances (
    cell_y INTEGER, cell_x INTEGER, port_locode VARCHAR, port_lat DOUBLE, port_lon DOUBLE, km DOUBLE, method VARCHAR)"""


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(_haversine(lat1, lon1, lat2, lon2))


def cell_centre(cell_y: int, cell_x: int) -> tuple[float, float]:
    return (cell_y + 0.5) * SEA_CELL_DEG, (cell_x + 0.5) * SEA_CELL_DEG


@lru_cache(maxsize=100_000)
def sea_route_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float | None:
    """Length in km of the shortest route on searoute's marine network between two points,
    including the legs from each point to the network; None when no route exists."""
    import searoute

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            feature = searoute.searoute(
                [lon1, lat1], [lon2, lat2], units="km", append_orig_dest=True
            )
        except Exception:  # noqa: BLE001 - the network has odd corners; fall back to the great circle
            return None
    length = float(feature["properties"]["length"])
    return length if math.isfinite(length) else None


def _cached_distances(
    con: duckdb.DuckDBPyConnection, wanted: set[tuple[int, int, str, float, float]]
) -> dict[tuple[int, int, str], tuple[float, str]]:
    con.execute(CACHE_DDL)
    known = {
        (r[0], r[1], r[2], r[3], r[4]): (r[5], r[6])
        for r in con.execute(
            "SELECT cell_y, cell_x, port_locode, port_lat, port_lon, km, method FROM sea_distances"
        ).fetchall()
    }
    out: dict[tuple[int, int, str], tuple[float, str]] = {}
    fresh = []
    for key in sorted(wanted):
        if key in known:
            out[key[:3]] = known[key]
            continue
        lat, lon = cell_centre(key[0], key[1])
        km = sea_route_km(lat, lon, key[3], key[4])
        value = (
            (km, "searoute")
            if km is not None
            else (haversine_km(lat, lon, key[3], key[4]), "great_circle")
        )
        out[key[:3]] = value
        fresh.append((*key, *value))
    if fresh:
        con.executemany("INSERT INTO sea_distances VALUES (?, ?, ?, ?, ?, ?, ?)", fresh)
    return out


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    # silences across time no AIS file covers are no data, not gaps (maritime/coverage.py)
    for statement in (
        coverage.coverage_sql(settings),
        coverage.no_data_sql(),
        coverage.coverage_gaps_sql(),
    ):
        con.execute(statement)  # fmt: skip
    candidates = con.execute(
        """SELECT c.gap_id, c.port_locode, c.port_country, c.port_lat, c.port_lon, c.gc_to_port_km, c.gc_from_port_km,
                  g.start_lat, g.start_lon, g.end_lat, g.end_lon, g.start_cell_y, g.start_cell_x, g.end_cell_y, g.end_cell_x,
                  g.speed_kn, g.hours, g.started_at, g.ended_at, g.vessel_key, g.mmsi
           FROM dark_call_candidates c JOIN gap_facts g USING (gap_id)
           WHERE g.gap_id NOT IN (SELECT gap_id FROM coverage_gaps)
           ORDER BY g.vessel_key, g.started_at, c.port_locode"""
    ).fetchall()
    wanted = set()
    for r in candidates:
        wanted.add((r[11], r[12], r[1], r[3], r[4]))
        wanted.add((r[13], r[14], r[1], r[3], r[4]))
    distances = _cached_distances(con, wanted) if wanted else {}
    cols: dict[str, list[object]] = {k: [] for k in (
        "gap_id", "vessel_key", "mmsi", "port_locode", "port_country", "to_port_km", "from_port_km",
        "gc_to_port_km", "gc_from_port_km", "distance_method", "speed_kn", "earliest_arrival_hours",
        "latest_departure_hours", "slack_hours", "label")}  # fmt: skip
    for r in candidates:
        (gap_id, locode, country, plat, plon, gc_to, gc_from, slat, slon, elat, elon, sy, sx, ey, ex,
         speed, hours, _started, _ended, vessel_key, mmsi) = r  # fmt: skip
        to_km, to_method = distances[(sy, sx, locode)]
        from_km, from_method = distances[(ey, ex, locode)]
        to_km = max(gc_to, to_km - haversine_km(slat, slon, *cell_centre(sy, sx)))
        from_km = max(gc_from, from_km - haversine_km(elat, elon, *cell_centre(ey, ex)))
        sail_to, sail_from = to_km / (KM_PER_NM * speed), from_km / (KM_PER_NM * speed)
        slack = hours - sail_to - sail_from - settings.min_call_hours
        if slack < 0:
            continue
        for key, value in (("gap_id", gap_id), ("vessel_key", vessel_key), ("mmsi", mmsi), ("port_locode", locode),
                           ("port_country", country), ("to_port_km", round(to_km, 1)), ("from_port_km", round(from_km, 1)),
                           ("gc_to_port_km", round(gc_to, 1)), ("gc_from_port_km", round(gc_from, 1)),
                           ("distance_method", "searoute" if "great_circle" not in (to_method, from_method) else "great_circle"),
                           ("speed_kn", speed), ("earliest_arrival_hours", round(sail_to, 2)),
                           ("latest_departure_hours", round(hours - sail_from, 2)), ("slack_hours", round(slack, 2)),
                           ("label", "inferred")):  # fmt: skip
            cols[key].append(value)
    schema = pa.schema([
        ("gap_id", pa.string()), ("vessel_key", pa.string()), ("mmsi", pa.int64()), ("port_locode", pa.string()),
        ("port_country", pa.string()), ("to_port_km", pa.float64()), ("from_port_km", pa.float64()),
        ("gc_to_port_km", pa.float64()), ("gc_from_port_km", pa.float64()), ("distance_method", pa.string()),
        ("speed_kn", pa.float64()), ("earliest_arrival_hours", pa.float64()), ("latest_departure_hours", pa.float64()),
        ("slack_hours", pa.float64()), ("label", pa.string())])  # fmt: skip
    con.register("dark_calls_arrow", pa.table(cols, schema=schema))
    con.execute(
        """CREATE OR REPLACE TABLE dark_calls AS
           SELECT d.gap_id, d.vessel_key, d.mmsi, d.port_locode, d.port_country,
                  g.started_at + to_seconds(CAST(round(d.earliest_arrival_hours * 3600) AS BIGINT)) AS earliest_arrival,
                  g.started_at + to_seconds(CAST(round(d.latest_departure_hours * 3600) AS BIGINT)) AS latest_departure,
                  d.to_port_km, d.from_port_km, d.gc_to_port_km, d.gc_from_port_km, d.distance_method, d.speed_kn,
                  d.slack_hours, d.label
           FROM dark_calls_arrow d JOIN gap_facts g USING (gap_id)
           ORDER BY d.vessel_key, earliest_arrival, d.port_locode"""
    )
    con.unregister("dark_calls_arrow")
    con.execute(
        f"""CREATE OR REPLACE TABLE gaps AS
           WITH calls AS (
               SELECT gap_id, list(port_locode ORDER BY port_locode) AS locodes FROM dark_calls GROUP BY gap_id
           )
           SELECT g.gap_id, g.vessel_key, g.mmsi, g.started_at, g.ended_at, round(g.hours, 3) AS hours,
                  g.start_lat, g.start_lon, g.end_lat, g.end_lon, round(g.distance_km, 3) AS distance_km,
                  round(g.distance_km / {KM_PER_NM} / nullif(g.hours, 0), 3) AS implied_speed_kn,
                  g.start_port_locode IS NULL AS began_offshore, g.end_port_locode IS NULL AS ended_offshore,
                  g.start_port_locode, g.end_port_locode, g.speed_kn AS service_speed_kn, g.speed_assumed,
                  array_to_string(coalesce(c.locodes, []), ';') AS possible_dark_calls,
                  len(coalesce(c.locodes, [])) AS possible_dark_call_count,
                  g.hours > {settings.dark_call_max_gap_days * 24} AS beyond_dark_call_bound,
                  g.ship_key, g.identity_change, g.previous_vessel_key,
                  CASE WHEN g.identity_change THEN 'the ship changed transmitter in this dark period: '
                       || g.previous_vessel_key || ' -> ' || g.vessel_key END AS note
           FROM gap_facts g LEFT JOIN calls c USING (gap_id)
           WHERE g.gap_id NOT IN (SELECT gap_id FROM coverage_gaps)
           ORDER BY g.mmsi, g.started_at, g.vessel_key"""
    )
