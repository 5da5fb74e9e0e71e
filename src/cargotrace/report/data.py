"""The data dict the HTML report is rendered from: findings plus map and timeline layers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cargotrace import __version__
from cargotrace.case.store import Case
from cargotrace.report import vessel_data
from cargotrace.report.export import findings as load_findings

MAP_MARGIN_DEG = 6.0
SIMPLIFY_DEG = 0.05


def _countries(case: Case, bbox: tuple[float, float, float, float] | None) -> list[dict[str, Any]]:
    from shapely import wkt
    from shapely.geometry import box

    if bbox is None:
        return []
    area = box(*bbox)
    out = []
    for code2, name, geometry in case.con.execute(
        "SELECT code2, name, geometry_wkt FROM borders WHERE geometry_wkt IS NOT NULL ORDER BY code2"
    ).fetchall():
        shape = wkt.loads(geometry)
        if not shape.intersects(area):
            continue
        # a world-wide view needs less detail: about 1/600 of the view's width
        tolerance = max(SIMPLIFY_DEG, (bbox[2] - bbox[0]) / 600)
        shape = shape.simplify(tolerance, preserve_topology=True)
        polygons = getattr(shape, "geoms", [shape])
        rings = [
            [[round(x, 3), round(y, 3)] for x, y in p.exterior.coords]
            for p in polygons
            if p.geom_type == "Polygon"
        ]
        out.append({"code": code2, "name": name, "rings": rings})
    return out


def _sea_leg(a: tuple[float, float], b: tuple[float, float]) -> list[list[float]]:
    """The sea route between two ports (searoute's offline marine network), else a straight line."""
    try:
        import searoute

        route = searoute.searoute([a[1], a[0]], [b[1], b[0]])
        return [[round(x, 3), round(y, 3)] for x, y in route["geometry"]["coordinates"]]
    except Exception:  # searoute raises on points it cannot snap; a straight line is still honest
        return [[a[1], a[0]], [b[1], b[0]]]


def build_report_data(case: Case, title: str | None = None) -> dict[str, Any]:
    result = load_findings(case)
    ports = {
        r["locode"]: r
        for r in case.rows(
            "SELECT locode, any_value(name) AS name, any_value(lat) AS lat, any_value(lon) AS lon FROM ports GROUP BY locode"
        )
    }
    entry = {a["port_locode"] for a in result["arrivals"]}
    origin = {a["previous_port_locode"] for a in result["arrivals"]}
    map_ports = [
        {"locode": code, "name": ports[code]["name"], "lat": ports[code]["lat"], "lon": ports[code]["lon"],
         "role": "origin" if code in origin else "entry"}
        for code in sorted(entry | origin) if code in ports
    ]  # fmt: skip
    legs: dict[tuple[str, str], int] = {}
    for a in result["arrivals"]:
        legs[(a["previous_port_locode"], a["port_locode"])] = (
            legs.get((a["previous_port_locode"], a["port_locode"]), 0) + 1
        )
    sea_legs = [
        {"from_locode": f, "to_locode": t, "count": n,
         "coords": _sea_leg((ports[f]["lat"], ports[f]["lon"]), (ports[t]["lat"], ports[t]["lon"]))}
        for (f, t), n in sorted(legs.items()) if f in ports and t in ports
    ]  # fmt: skip
    flows = case.rows(
        """SELECT l.port_locode, any_value(p.lat) AS from_lat, any_value(p.lon) AS from_lon, l.site_id,
                  any_value(s.lat) AS to_lat, any_value(s.lon) AS to_lon, round(sum(l.tonnes), 1) AS tonnes
           FROM linked_shipments l JOIN sites s USING (site_id)
           JOIN (SELECT locode, any_value(lat) AS lat, any_value(lon) AS lon FROM ports GROUP BY locode) p ON p.locode = l.port_locode
           WHERE s.lat IS NOT NULL GROUP BY l.port_locode, l.site_id ORDER BY tonnes DESC"""
    )
    facilities = case.rows(
        "SELECT name, category, lat, lon FROM facilities WHERE lat IS NOT NULL ORDER BY name"
    )
    points = [(p["lat"], p["lon"]) for p in map_ports] + [
        (s["lat"], s["lon"]) for s in result["sites"] if s["lat"] is not None
    ]
    points += [(f["lat"], f["lon"]) for f in facilities]
    vessels = vessel_data.build(case, result)
    points += [(p["lat"], p["lon"]) for p in vessels["ports"] if p["lat"] is not None]
    points += [
        (e["lat"], e["lon"]) for e in [*vessels["encounters"], *vessels.get("loitering", [])]
    ]
    for g in vessels["dark"]:
        points += [(g["start_lat"], g["start_lon"]), (g["end_lat"], g["end_lon"])]
    points = [p for p in points if p[0] is not None and p[1] is not None]
    bbox = None
    if points:
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        bbox = (
            max(-180.0, min(lons) - MAP_MARGIN_DEG),
            max(-90.0, min(lats) - MAP_MARGIN_DEG),
            min(180.0, max(lons) + MAP_MARGIN_DEG),
            min(90.0, max(lats) + MAP_MARGIN_DEG),
        )
    return {
        "title": title or f"cargotrace findings — {case.root.name}",
        "synthetic": bool(result.get("synthetic")),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "cargotrace_version": __version__,
        "findings": result,
        "map": {
            "countries": _countries(case, bbox),
            "ports": map_ports,
            "facilities": facilities,
            "flows": flows,
            "sea_legs": sea_legs,
            "border_country": result["parameters"]["border_country"],
        },  # fmt: skip
        "vessels": vessels,
        "timeline": {
            "vessels": _vessel_lanes(case, result),
            "departures_per_day": _departures(case),
        },
    }


def _vessel_lanes(case: Case, result: dict[str, Any]) -> list[dict[str, Any]]:
    of_interest = {a["arrival_id"] for a in result["arrivals"]}
    interesting = {a["vessel_name"] for a in result["arrivals"]} | {
        a.get("mmsi") for a in result["arrivals"]
    }
    lanes: dict[str, dict[str, Any]] = {}
    for c in case.rows("SELECT * FROM port_calls ORDER BY vessel_key, arrived_at"):
        if c["vessel_name"] not in interesting and str(c["mmsi"]) not in interesting:
            continue
        lane = lanes.setdefault(
            c["vessel_key"],
            {
                "vessel_name": c["vessel_name"],
                "mmsi": str(c["mmsi"]) if c["mmsi"] else None,
                "port_calls": [],
                "gaps": [],
            },
        )
        lane["port_calls"].append({"port_locode": c["port_locode"], "arrived_at": c["arrived_at"].isoformat(),
                                   "departed_at": c["departed_at"].isoformat() if c["departed_at"] else None,
                                   "source": c["source"], "of_interest": c["port_call_id"] in of_interest,
                                   "port_gaps": c["port_gaps"]})  # fmt: skip
    for g in case.rows(
        "SELECT mmsi, started_at, ended_at, hours, possible_dark_calls FROM gaps g "
        f"WHERE {vessel_data.GAP_OUTSIDE_CALLS} ORDER BY mmsi, started_at"
    ):
        gap_lane = lanes.get(str(g["mmsi"]))
        if gap_lane is not None:
            gap_lane["gaps"].append({"started_at": g["started_at"].isoformat(), "ended_at": g["ended_at"].isoformat(),
                                 "hours": g["hours"], "possible_dark_calls": g["possible_dark_calls"]})  # fmt: skip
    return list(lanes.values())


def _departures(case: Case) -> list[dict[str, Any]]:
    rows = case.rows(
        """SELECT CAST(departed_on AS VARCHAR) AS day, cargo_class, round(sum(coalesce(counted_t, 0)), 1) AS tonnes, count(*) AS shipments
           FROM consignments WHERE record = 'departure' AND departed_on IS NOT NULL
             AND row_hash IN (SELECT shipment_id FROM shipment_stations WHERE role = 'origin' AND port_locode IS NOT NULL)
           GROUP BY ALL ORDER BY day, cargo_class"""
    )
    return rows
