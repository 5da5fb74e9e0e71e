"""The vessel part of the report data: what a case with vessel data holds, for the vessel map,
the per-vessel timeline and the cards (report.js draws them; html.py words the cards).

* `holds`: row counts of the inputs, so the report shows the vessel sections when there are
  positions, sightings or Global Fishing Watch events and the rail sections when there are shipments (both when both);
* `ports`: every port with a call, sized on the map by its calls, with its country (the
  origin country of the parameters is coloured);
* `dark`: AIS gaps as lines from the last fix before to the first fix after, with their
  possible dark calls (the longest `MAP_GAPS` first), and whether a gap is beyond
  `dark_call_max_gap_days` (it offers no dark calls);
* gaps, `encounters`, `loitering` are every source's (tables all_gaps, all_encounters,
  all_loitering: AIS's and Global Fishing Watch's, each with its `source`);
* `encounters`, `loitering`: ship-to-ship meetings and loitering as points; dark periods
  carry `likely_intentional` (maritime/disabling.py) and, when the draught changed across
  them, `draught_before_m`/`draught_after_m` (maritime/draught.py);
* `lanes`: the vessels with the most events (calls, gaps, meetings), `TIMELINE_VESSELS` at most,
  each with its calls, gaps and meetings in time order;
* `counts`: what the cards count.
"""

from __future__ import annotations

from typing import Any

from cargotrace.case.store import Case
from cargotrace.outputs import iso as _iso
from cargotrace.report.spatial import PORT_POINTS

# a gap that lies within one of the vessel's port calls is an in-port gap (counted in the
# call's `port_gaps`): the timelines draw the call, not a dark band over it
GAP_OUTSIDE_CALLS = """NOT EXISTS (SELECT 1 FROM port_calls c WHERE c.vessel_key = g.vessel_key
                       AND c.arrived_at <= g.started_at AND g.ended_at <= c.departed_at)"""
MAP_GAPS = 1500  # gaps drawn on the map (longest first); all of them are in the exports
TIMELINE_VESSELS = 40


def _rows(case: Case, sql: str) -> list[dict[str, Any]]:
    return [{k: _iso(v) for k, v in r.items()} for r in case.rows(sql)]


IDENTITY_CHANGES = (
    "('name_change', 'flag_change', 'imo_change', 'callsign_change', 'mmsi_change', 'shared_mmsi')"
)


def _count(case: Case, table: str, where: str = "TRUE") -> int:
    return (
        int(case.scalar(f"SELECT count(*) FROM {table} WHERE {where}"))
        if case.has_table(table)
        else 0
    )


def holds(case: Case) -> dict[str, int]:
    """Rows of each input that decides which sections the report shows."""
    return {
        name: _count(case, name) for name in ("positions", "sightings", "shipments", "gfw_events")
    }


def _every(case: Case, name: str) -> str:
    """The table of `name` events of every source (maritime/gfw_events.py), when analysed."""
    return f"all_{name}" if case.has_table(f"all_{name}") else name


def build(case: Case, result: dict[str, Any]) -> dict[str, Any]:
    held = holds(case)
    if not (held["positions"] or held["sightings"] or held["gfw_events"]) or not case.has_table(
        "port_calls"
    ):
        return {"holds": held, "ports": [], "dark": [], "encounters": [], "lanes": [], "counts": {}}
    names = "(SELECT mmsi, any_value(name) AS name FROM vessels GROUP BY mmsi)"
    gaps, meets, loiters = (_every(case, name) for name in ("gaps", "encounters", "loitering"))
    ports = _rows(
        case,
        f"""SELECT c.port_locode AS locode, any_value(g.name) AS name, any_value(c.port_country) AS country,
                   any_value(p.lat) AS lat, any_value(p.lon) AS lon, count(*) AS calls,
                   count(DISTINCT c.vessel_key) AS vessels
            FROM port_calls c LEFT JOIN {PORT_POINTS} p ON p.locode = c.port_locode
            LEFT JOIN (SELECT locode, any_value(name) AS name FROM ports GROUP BY locode) g ON g.locode = c.port_locode
            WHERE c.port_locode IS NOT NULL GROUP BY c.port_locode ORDER BY calls DESC, locode""",
    )
    draught = (
        "LEFT JOIN draught_changes d ON d.gap_id = g.gap_id"
        if case.has_table("draught_changes")
        else "LEFT JOIN (SELECT NULL AS gap_id, NULL::DOUBLE AS draught_before_m, NULL::DOUBLE AS draught_after_m) d ON FALSE"
    )
    dark = _rows(
        case,
        f"""SELECT g.gap_id, g.vessel_key, g.mmsi, n.name AS vessel_name, g.started_at, g.ended_at, g.hours,
                   g.start_lat, g.start_lon, g.end_lat, g.end_lon, g.possible_dark_calls,
                   g.beyond_dark_call_bound, g.began_offshore, g.ended_offshore,
                   d.draught_before_m, d.draught_after_m{", g.source" if gaps != "gaps" else ""}
            FROM {gaps} g LEFT JOIN {names} n ON n.mmsi = g.mmsi {draught}
            WHERE g.start_lat IS NOT NULL AND g.end_lat IS NOT NULL  -- a line needs both ends
            ORDER BY g.possible_dark_call_count > 0 DESC, d.gap_id IS NOT NULL DESC, g.hours DESC, g.vessel_key
            LIMIT {MAP_GAPS}""",
    )
    encounters = _rows(
        case,
        f"""SELECT e.mmsi_a, e.mmsi_b, na.name AS name_a, nb.name AS name_b, e.started_at, e.ended_at,
                   e.hours, e.median_distance_m, e.lat, e.lon{", e.source" if meets != "encounters" else ""}
            FROM {meets} e LEFT JOIN {names} na ON na.mmsi = e.mmsi_a LEFT JOIN {names} nb ON nb.mmsi = e.mmsi_b
            ORDER BY e.started_at, e.mmsi_a, e.mmsi_b""",
    )
    loitering = (
        _rows(
            case,
            f"""SELECT l.mmsi, n.name AS vessel_name, l.started_at, l.ended_at, l.hours, l.lat, l.lon,
                       l.median_sog_kn, l.shore_km, l.shore_known{", l.source" if loiters != "loitering" else ""}
                FROM {loiters} l LEFT JOIN {names} n ON n.mmsi = l.mmsi ORDER BY l.started_at, l.mmsi""",
        )
        if case.has_table("loitering")
        else []
    )
    intentional = (
        {
            r["gap_id"]
            for r in case.rows("SELECT gap_id FROM ais_disabling WHERE likely_intentional")
        }
        if case.has_table("ais_disabling")
        else set()
    )
    interference = (
        _rows(
            case,
            "SELECT hour_start, lat, lon, vessels, jump_ends FROM interference ORDER BY hour_start",
        )
        if case.has_table("interference")
        else []
    )
    shore_known = bool(
        case.has_table("borders") and case.scalar("SELECT count(*) > 0 FROM borders")
    )
    counts = {
        "vessels": _count(case, "vessels"),
        "vessels_with_calls": int(case.scalar("SELECT count(DISTINCT vessel_key) FROM port_calls")),
        "port_calls": _count(case, "port_calls"),
        "ports": len(ports),
        "origin_calls": _count(
            case, "port_calls", f"port_country = '{result['parameters']['origin_country']}'"
        ),
        "gaps": _count(case, gaps),
        "gaps_beyond_bound": _count(case, gaps, "beyond_dark_call_bound"),
        "gaps_with_dark_calls": _count(case, "gaps", "possible_dark_call_count > 0"),
        "dark_calls": _count(case, "dark_calls"),
        "encounters": len(encounters),
        "loitering": len(loitering),
        "interference": len(interference),
        "interference_flags": _count(case, "interference_flags"),
        "spoofed_positions": _count(case, "spoofed_positions"),
        "circling": _count(case, "circling"),
        "likely_intentional": len(intentional),
        "draught_changes": _count(case, "draught_changes"),
        "draught_deeper": _count(case, "draught_changes", "direction = 'deeper'"),
        # changes only: conflicts (invalid_imo, imo_conflict, cloned_identity) are findings of
        # their own, counted apart, not changes of identity
        "identity_events": _count(case, "identity_events", f"event IN {IDENTITY_CHANGES}"),
        "identity_conflicts": _count(case, "identity_events", f"event NOT IN {IDENTITY_CHANGES}"),
        "watchlist_hits": _count(case, "watchlist_hits", "status = 'hit'"),
        "watchlist_leads": _count(case, "watchlist_hits", "status = 'lead'"),
    }
    for g in dark:
        g["likely_intentional"] = g["gap_id"] in intentional
    return {
        "holds": held,
        "ports": ports,
        "dark": dark,
        "encounters": encounters,
        "lanes": _lanes(case, names),
        "loitering": loitering,
        "interference": interference,
        "counts": counts,
        "shore_known": shore_known,
    }


def _lanes(case: Case, names: str) -> list[dict[str, Any]]:
    """The vessels with the most events, each with its calls, gaps, meetings and loitering."""
    gaps, meets, loiters = (_every(case, name) for name in ("gaps", "encounters", "loitering"))
    loiter = (
        f"UNION ALL SELECT CAST(mmsi AS VARCHAR), mmsi, 'loitering', started_at, ended_at, NULL, NULL, hours, NULL FROM {loiters}"
        if case.has_table("loitering")
        else ""
    )
    events = f"""
        WITH ev AS (
            SELECT vessel_key, mmsi, 'call' AS kind, arrived_at AS started_at, departed_at AS ended_at,
                   port_locode AS what, source, NULL::DOUBLE AS hours, NULL::BOOLEAN AS beyond FROM port_calls
            UNION ALL
            SELECT vessel_key, mmsi, 'gap', started_at, ended_at, possible_dark_calls, NULL, hours,
                   beyond_dark_call_bound FROM {gaps} g WHERE {GAP_OUTSIDE_CALLS}
            UNION ALL
            SELECT CAST(mmsi_a AS VARCHAR), mmsi_a, 'meeting', started_at, ended_at, CAST(mmsi_b AS VARCHAR), NULL, hours, NULL FROM {meets}
            UNION ALL
            SELECT CAST(mmsi_b AS VARCHAR), mmsi_b, 'meeting', started_at, ended_at, CAST(mmsi_a AS VARCHAR), NULL, hours, NULL FROM {meets}
            {loiter}
        ), top AS (
            SELECT vessel_key, count(*) FILTER (WHERE kind <> 'gap') AS seen, count(*) AS n
            FROM ev GROUP BY vessel_key ORDER BY n DESC, seen DESC, vessel_key LIMIT {TIMELINE_VESSELS}
        )
        SELECT ev.*, n.name AS vessel_name, top.seen, top.n FROM ev JOIN top USING (vessel_key)
        LEFT JOIN {names} n ON n.mmsi = ev.mmsi
        ORDER BY top.n DESC, top.seen DESC, ev.vessel_key, ev.started_at, ev.kind
    """
    lanes: dict[str, dict[str, Any]] = {}
    for r in _rows(case, events):
        lane = lanes.setdefault(
            r["vessel_key"],
            {
                "vessel_key": r["vessel_key"],
                "mmsi": r["mmsi"],
                "vessel_name": r["vessel_name"],
                "events": [],
            },
        )
        lane["events"].append(
            {
                k: r[k]
                for k in ("kind", "started_at", "ended_at", "what", "source", "hours", "beyond")
            }
        )
    return list(lanes.values())
