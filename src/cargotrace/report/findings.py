"""The findings (contract §4): assembled from the derived tables after analysis."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cargotrace import __version__
from cargotrace.case.quarantine import counted_sql
from cargotrace.case.store import Case
from cargotrace.logistics import munitions
from cargotrace.logistics.significance import stored_result
from cargotrace.outputs import iso as _iso
from cargotrace.report.findings_types import (
    Arrival,
    Findings,
    LinkedShipment,
    MaritimeLists,
    MissingInput,
    ShipTimeline,
    Sighting,
    Site,
    SiteSighting,
)
from cargotrace.report.left_out import left_out_block
from cargotrace.sample.markers import is_synthetic
from cargotrace.screening.findings import watchlist_block
from cargotrace.settings import AnalysisSettings


def _evidence(source: str) -> list[str]:
    return {"ais": ["ais"], "sighting": ["sighting"], "both": ["ais", "sighting"]}.get(
        source, [source]
    )


def arrivals_block(case: Case) -> list[Arrival]:
    rows = case.rows(
        """SELECT a.arrival_id, a.vessel_name, a.imo, a.mmsi, a.vessel_key, a.port_locode, a.arrived_at,
                  a.departed_at, a.previous_port_locode, a.previous_call_at, a.days_since_previous,
                  a.source, a.confidence, a.sighting_ids, a.previous_call_id,
                  p.source AS previous_source, p.sighting_ids AS previous_sighting_ids,
                  p.confidence AS previous_confidence, a.ship_key, a.identity_changed,
                  a.previous_mmsi, a.previous_vessel_name
           FROM arrivals a LEFT JOIN port_calls p ON p.port_call_id = a.previous_call_id
           ORDER BY a.arrived_at, a.arrival_id"""
    )
    sightings = {r["sighting_id"]: r for r in case.rows(
        "SELECT sighting_id, observed_at, source, confidence, source_file, source_row FROM sightings"
    )}  # fmt: skip
    timelines = ship_timelines(case)
    draughts = _draught_changes_by_mmsi(case)
    imagery = detections_by_call(case)
    out: list[Arrival] = []
    for r in rows:
        changed = bool(r["identity_changed"]) and r["ship_key"] in timelines
        out.append({
            "ship_key": r["ship_key"], "identity_changed": changed,
            "previous_mmsi": str(r["previous_mmsi"]) if r["previous_mmsi"] is not None else None,
            "previous_vessel_name": r["previous_vessel_name"],
            "identity_timeline": timelines[r["ship_key"]]["identities"] if changed else [],
            "arrival_id": r["arrival_id"], "vessel_name": r["vessel_name"],
            "imo": r["imo"], "mmsi": str(r["mmsi"]) if r["mmsi"] is not None else None,
            "port_locode": r["port_locode"], "arrived_at": _iso(r["arrived_at"]),
            "departed_at": _iso(r["departed_at"]),
            "previous_port_locode": r["previous_port_locode"], "previous_call_at": _iso(r["previous_call_at"]),
            "days_since_previous": r["days_since_previous"],
            "evidence": _evidence(r["source"]), "confidence": r["confidence"],
            "previous_call_evidence": _evidence(r["previous_source"] or ""),
            "previous_call_confidence": r["previous_confidence"],
            "sightings": [_sighting(sightings[s]) for s in (r["sighting_ids"] or []) if s in sightings],
            "previous_call_sightings": [_sighting(sightings[s]) for s in (r["previous_sighting_ids"] or []) if s in sightings],
            "detections": imagery.get(r["arrival_id"], []),
            "previous_call_detections": imagery.get(r["previous_call_id"], []),
            "draught_changes": _between(draughts.get(r["mmsi"], []), r["previous_call_at"], r["arrived_at"]),
        })  # fmt: skip
    return out


def detections_by_call(case: Case) -> dict[str, list[dict[str, Any]]]:
    """Port call id -> the dark satellite detection it was made from: the detection, how many
    candidates it had and how many were ruled out, and the share of the ship it was given."""
    out: dict[str, list[dict[str, Any]]] = {}
    if not case.has_table("detection_calls"):
        return out
    for r in case.rows(
        """SELECT c.port_call_id, c.detection_id, d.detected_at, d.source, d.length_m, d.score, d.scene_id,
                  c.mmsi, c.share, k.candidates, k.ruled_out, d.source_file, d.source_row
           FROM detection_calls c JOIN detections d USING (detection_id)
           LEFT JOIN dark_detections k USING (detection_id)
           ORDER BY c.port_call_id, d.detected_at"""
    ):
        out.setdefault(r.pop("port_call_id"), []).append({k: _iso(v) for k, v in r.items()})
    return out


def detection_lines(detections: list[Mapping[str, Any]]) -> list[str]:
    """detection -> candidates -> call, one line per detection."""
    return [
        f"  Detection {d['detection_id']} {str(d['detected_at'])[:16].replace('T', ' ')} UTC by {d['source'] or '?'}"
        f" ({'length ' + format(d['length_m'], '.0f') + ' m, ' if d['length_m'] is not None else ''}"
        f"score {d['score'] if d['score'] is not None else '?'}, scene {d['scene_id'] or '?'}): no AIS matches it; "
        f"{d['candidates']} candidate(s), {d['ruled_out']} ruled out; attributed to MMSI {d['mmsi']} "
        f"(share {d['share']}) [{d['source_file']}, row {d['source_row']}; cargotrace explain {d['detection_id']}]"
        for d in detections
    ]


def _draught_changes_by_mmsi(case: Case) -> dict[int, list[dict[str, Any]]]:
    """The draught changes across gaps (maritime/draught.py) of each MMSI, in time order."""
    out: dict[int, list[dict[str, Any]]] = {}
    if not case.has_table("draught_changes"):
        return out
    for r in case.rows(
        """SELECT mmsi, vessel_key, started_at, ended_at, hours, draught_before_m, draught_before_at,
                  draught_after_m, draught_after_at, change_m, direction, possible_dark_calls
           FROM draught_changes ORDER BY mmsi, started_at"""
    ):
        out.setdefault(r["mmsi"], []).append(r)
    return out


def _between(changes: list[dict[str, Any]], since: Any, until: Any) -> list[dict[str, Any]]:
    """The changes whose gap lies between the previous call and the arrival (from the
    arrival's start back to the previous call, or all before it when there is none)."""
    return [
        {k: _iso(v) for k, v in c.items()}
        for c in changes
        if c["ended_at"] <= until and (since is None or c["started_at"] >= since)
    ]


def draught_lines(arrival: Mapping[str, Any]) -> list[str]:
    """The gaps between the previous call and the arrival across which the draught changed."""
    return [
        f"Dark from {str(c['started_at'])[:16]} to {str(c['ended_at'])[:16]} UTC ({c['hours']:g} h) and came back "
        f"{'deeper (loaded?)' if c['direction'] == 'deeper' else 'shallower (unloaded?)'}: draught {c['draught_before_m']:g} m "
        f"(reported {str(c['draught_before_at'])[:16]}) -> {c['draught_after_m']:g} m (reported {str(c['draught_after_at'])[:16]})"
        + (
            f"; possible dark calls {c['possible_dark_calls']}"
            if c.get("possible_dark_calls")
            else ""
        )
        for c in arrival.get("draught_changes", [])
    ]


def ship_timelines(case: Case) -> dict[str, ShipTimeline]:
    """Ships that changed identity (maritime/ships.py): their identities in time order, and
    each change of transmitter with the dark period it sits in, when it does."""
    out: dict[str, ShipTimeline] = {}
    for r in case.rows("SELECT * FROM ship_timeline ORDER BY ship_key, identity_no"):
        ship = out.setdefault(
            r["ship_key"],
            {"ship_key": r["ship_key"], "imo": r["imo"], "identities": [], "changes": []},
        )
        ship["identities"].append({
            "mmsi": str(r["mmsi"]), "vessel_key": r["vessel_key"], "name": r["name"], "callsign": r["callsign"],
            "flag": r["flag"], "from": _iso(r["valid_from"]), "to": _iso(r["valid_to"]), "sources": r["sources"],
            "rule": r["rule"], "evidence": r["evidence"],
        })  # fmt: skip
    for g in case.rows(
        """SELECT ship_key, previous_vessel_key, vessel_key, started_at, ended_at, hours, possible_dark_calls
           FROM gaps WHERE identity_change ORDER BY ship_key, started_at"""
    ):
        if g["ship_key"] in out:
            out[g["ship_key"]]["changes"].append({
                "from_vessel_key": g["previous_vessel_key"], "to_vessel_key": g["vessel_key"],
                "dark_from": _iso(g["started_at"]), "dark_to": _iso(g["ended_at"]), "dark_hours": g["hours"],
                "possible_dark_calls": g["possible_dark_calls"],
                "note": f"the change sits in a dark period of {g['hours']:.0f} h (no AIS from either transmitter)",
            })  # fmt: skip
    return out


def identity_lines(arrival: Mapping[str, Any]) -> list[str]:
    """The ship's identities, for an arrival whose chain crosses a change of identity."""
    if not arrival.get("identity_changed"):
        return []
    lines = [
        f"Ship {arrival['ship_key']}: the previous call was made as {arrival.get('previous_vessel_name') or 'MMSI ' + str(arrival.get('previous_mmsi'))} "
        f"(MMSI {arrival.get('previous_mmsi')}), this arrival as {arrival['vessel_name']} (MMSI {arrival['mmsi']}): same IMO, one hull"
    ]
    for i in arrival["identity_timeline"]:
        lines.append(
            f"  transmitting as {i['name'] or 'unnamed'} (MMSI {i['mmsi']}, call sign {i['callsign'] or '?'}, flag {i['flag'] or '?'}) "
            f"from {str(i['from'] or '?')[:10]} to {str(i['to'] or '?')[:10]} [{i['sources'] or 'AIS'}]"
        )
    return lines


def _sighting(s: Mapping[str, Any]) -> Sighting:
    return {"observed_at": _iso(s["observed_at"]), "source": s["source"], "confidence": s["confidence"],
            "source_file": s["source_file"], "source_row": s["source_row"]}  # fmt: skip


def evidence_chain(link: Mapping[str, Any], arrival: Mapping[str, Any] | None, site: Mapping[str, Any] | None, settings: AnalysisSettings,
                   watchlist: list[str] | None = None) -> list[str]:  # fmt: skip
    """Plain-language steps from the source row to the destination site, then the listed
    vessels and parties the chain touches (`watchlist` lines). Deterministic."""
    steps = [
        f"Shipment {link['waybill']}{' wagon ' + link['wagon'] if link.get('wagon') else ''}: "
        f"{_weight_text(link)} of «{link['cargo']}» (class {link['cargo_class']}, rule {link['cargo_rule']}) "
        f"left {link['origin_station']} (ESR {link['origin_esr']}) on {_iso(link['departed_on'])} "
        f"[{link['source_file']}{', sheet ' + link['sheet'] if link.get('sheet') else ''}, row {link['source_row']}]",
    ]
    if arrival:
        how = " and ".join(arrival["evidence"])
        steps.append(
            f"Linked to the arrival of {arrival['vessel_name'] or 'vessel ' + str(arrival['mmsi'])} at "
            f"{arrival['port_locode']} on {str(arrival['arrived_at'])[:10]} ({how}, confidence "
            f"{arrival['confidence']:.2f}): departure {link['lag_days']} day(s) later, window 0-{settings.window_days}"
        )
        for s in arrival["sightings"]:
            steps.append(
                f"  Sighting {str(s['observed_at'])[:10]} by {s['source']} [{s['source_file']}, row {s['source_row']}]"
            )
        steps.extend(detection_lines(arrival.get("detections", [])))
        steps.append(
            f"Previous call: {arrival['previous_port_locode']} on {str(arrival['previous_call_at'])[:10]}, "
            f"{arrival['days_since_previous']} day(s) before the arrival (lookback {settings.lookback_days}), "
            f"evidence {' and '.join(arrival['previous_call_evidence']) or 'unknown'}"
        )
        for s in arrival["previous_call_sightings"]:
            steps.append(
                f"  Sighting {str(s['observed_at'])[:10]} by {s['source']} [{s['source_file']}, row {s['source_row']}]"
            )
        steps.extend(detection_lines(arrival.get("previous_call_detections", [])))
        steps.extend(identity_lines(arrival))
        steps.extend(draught_lines(arrival))
    if site:
        near = "yes" if site["near_facility"] else "no"
        facility = (
            f"nearest {site['nearest_category']} {site['nearest_facility']} at {site['facility_km']:.1f} km "
            f"(near: {near}, threshold {settings.near_km:g} km)"
            if site["nearest_facility"]
            else "no facility of interest in the case"
        )
        border = (
            f"; {site['border_km']:.0f} km from the {settings.border_country} border"
            if site["border_km"] is not None
            else ""
        )
        steps.append(f"Destination site {site['name']} (ESR {site['esr']}): {facility}{border}")
        for seen in site.get("sightings", []):
            steps.append(
                f"  Observed at the site {str(seen['observed_at'])[:10]} by {seen['source']}: {seen['note'] or 'no note'} "
                f"({seen['km']:.1f} km away) [{seen['source_file']}, row {seen['source_row']}]"
            )
    steps.extend(watchlist or [])
    return steps


def _site_sightings(
    case: Case, sites: list[dict[str, Any]], settings: AnalysisSettings
) -> dict[str, list[SiteSighting]]:
    """Place-only sightings (no vessel; e.g. new storage seen on imagery) near each site."""
    from cargotrace.reference.geodesy import haversine_km

    rows = case.rows(
        """SELECT observed_at, lat, lon, source, confidence, note, source_file, source_row FROM sightings
           WHERE vessel_name IS NULL AND imo IS NULL AND mmsi IS NULL AND lat IS NOT NULL AND lon IS NOT NULL
           ORDER BY observed_at, source_file, source_row"""
    )
    out: dict[str, list[SiteSighting]] = {}
    for site in sites:
        if site["lat"] is None or not rows:
            continue
        distances = haversine_km(
            site["lat"], site["lon"], [r["lat"] for r in rows], [r["lon"] for r in rows]
        )
        for row, km in zip(rows, distances, strict=True):
            if km <= settings.site_sighting_km:
                out.setdefault(site["site_id"], []).append(
                    {
                        "observed_at": _iso(row["observed_at"]),
                        "km": round(float(km), 3),
                        "source": row["source"],
                        "confidence": row["confidence"],
                        "note": row["note"],
                        "source_file": row["source_file"],
                        "source_row": row["source_row"],
                    }  # fmt: skip
                )
    return out


def _link_confidence(arrival: Mapping[str, Any] | None) -> float | None:
    """How sure each link of the chain is: the arrival's evidence times the previous call's.

    Timing itself is not a probability; its strength is reported by the significance test.
    """
    if arrival is None:
        return None
    return round(
        float(arrival["confidence"] or 0) * float(arrival["previous_call_confidence"] or 0), 3
    )


def _weight_text(link: Mapping[str, Any]) -> str:
    if link.get("weight_left_out"):
        recorded = link.get("recorded_t")
        as_recorded = "a weight" if recorded is None else f"{recorded:,.1f} t as recorded"
        return f"{as_recorded} (left out of totals: {link['weight_left_out']})"
    return _t(link["tonnes"])


def _t(tonnes: float | None) -> str:
    return "unknown weight" if tonnes is None else f"{tonnes:,.1f} t"


MARITIME_LIST_LIMIT = 1000  # longer lists stay in the table exports; `events` has the counts
MARITIME_TABLES = (
    "port_calls",
    "gaps",
    "encounters",
    "loitering",
    "ais_disabling",
    "draught_changes",
    "interference",
    "circling",
    "spoofed_positions",
    "dark_calls",
    "identity_events",
    "ship_timeline",
    "voyages",
    "shuttles",
)


EVERY_SOURCE = ("gaps", "encounters", "loitering")  # their all_* tables hold AIS's and GFW's


def maritime_counts(case: Case) -> dict[str, int]:
    """Counts of every maritime table (port calls, gaps, dark calls, encounters, identity)."""
    counts = {name: case.scalar(f"SELECT count(*) FROM {name}") for name in MARITIME_TABLES}
    # gaps, encounters and loitering of every source: AIS's and GFW's (maritime/gfw_events.py)
    for name in EVERY_SOURCE:
        counts[f"{name}_from_gfw"] = 0
        if case.has_table(f"all_{name}"):
            counts[name] = case.scalar(f"SELECT count(*) FROM all_{name}")
            counts[f"{name}_from_gfw"] = case.scalar(
                f"SELECT count(*) FROM all_{name} WHERE source = 'gfw'"
            )
    counts["gaps_with_possible_dark_calls"] = case.scalar(
        "SELECT count(*) FROM gaps WHERE possible_dark_call_count > 0"
    )
    counts["likely_intentional_disabling"] = case.scalar(
        "SELECT count(*) FROM ais_disabling WHERE likely_intentional"
    )
    # silences across time no AIS file covers: no data, not gaps (maritime/coverage.py)
    counts["coverage_gaps"] = (
        case.scalar("SELECT count(*) FROM coverage_gaps") if case.has_table("coverage_gaps") else 0
    )
    # satellite detections: lit, dark, and the calls the dark ones made (maritime/detection*.py);
    # Global Fishing Watch's events by type, as GFW computed them (kind gfw-events)
    for key, table in (("detections", "detections"), ("lit_detections", "detection_matches"),
                       ("dark_detections", "dark_detections"), ("detection_calls", "detection_calls"),
                       ("ais_unseen_in_scenes", "scene_misses"), ("empty_scenes", "empty_scenes")):  # fmt: skip
        counts[key] = case.scalar(f"SELECT count(*) FROM {table}") if case.has_table(table) else 0
    gfw = (
        dict(
            case.con.execute("SELECT event_type, count(*) FROM gfw_events GROUP BY ALL").fetchall()
        )
        if case.has_table("gfw_events")
        else {}
    )
    for kind, key in (("port_visit", "gfw_port_visits"), ("encounter", "gfw_encounters"),
                      ("loitering", "gfw_loitering"), ("gap", "gfw_gaps")):  # fmt: skip
        counts[key] = int(gfw.get(kind, 0))
    # bins of crowds not searched for encounters pair by pair (maritime/encounters.py)
    counts["encounter_crowds"] = (
        case.scalar("SELECT count(*) FROM encounter_crowds")
        if case.has_table("encounter_crowds")
        else 0
    )
    return counts


# What each finding needs (input kind, its table, what is missing without it), in the order
# a new user meets them: said by `analyze` and listed in the findings (`missing_inputs`).
NEEDED_INPUTS = (
    ("ais", "positions", "no AIS positions: no port calls from AIS, gaps, encounters or tracks"),
    ("sightings", "sightings", "no sightings: port calls come from AIS alone"),
    ("shipments", "shipments", "no rail shipments: nothing to link to arrivals, no sites"),
    ("stations", "stations", "no stations: no port is known to be served by rail, so no arrivals of interest"),
    ("facilities", "facilities", "no facilities: no site can be near a depot"),
)  # fmt: skip


def missing_inputs(case: Case) -> list[MissingInput]:
    """The inputs the case lacks, each with what the analysis cannot find without it."""
    out: list[MissingInput] = []
    for kind, table, effect in NEEDED_INPUTS:
        if not case.has_table(table) or not case.scalar(f"SELECT count(*) > 0 FROM {table}"):
            out.append({"kind": kind, "effect": effect})
    return out


def _plain_rows(case: Case, sql: str) -> list[dict[str, Any]]:
    return [
        {k: _iso(v) for k, v in r.items()} for r in case.rows(sql + f" LIMIT {MARITIME_LIST_LIMIT}")
    ]


def maritime_block(case: Case) -> MaritimeLists:
    """Identity events, shuttles, gaps with possible dark calls and encounters (each list at
    most MARITIME_LIST_LIMIT long; whole tables via `cargotrace export --table NAME`)."""
    return {
        "identity_events": _plain_rows(
            case,
            "SELECT vessel_key, mmsi, imo, event, observed_at, previous_value, new_value, "
            "source_file, source_row, detail FROM identity_events ORDER BY mmsi, observed_at NULLS FIRST, event",
        ),
        "ship_identities": list(ship_timelines(case).values()),
        "shuttles": _plain_rows(
            case, "SELECT * FROM shuttles ORDER BY legs DESC, vessel_key, port_a, port_b"
        ),
        "possible_dark_calls": _plain_rows(
            case,
            """
            SELECT g.gap_id, g.vessel_key, g.mmsi, g.started_at, g.ended_at, g.hours, g.began_offshore,
                   g.start_port_locode, g.end_port_locode, g.possible_dark_calls,
                   'inferred' AS label
            FROM gaps g WHERE g.possible_dark_call_count > 0 ORDER BY g.started_at, g.vessel_key""",
        ),
        # every source's, AIS's and GFW's, each with its source and confidence
        "encounters": _plain_rows(
            case, "SELECT * FROM all_encounters ORDER BY started_at, mmsi_a, mmsi_b"
        ),
        "loitering": _plain_rows(case, "SELECT * FROM all_loitering ORDER BY started_at, mmsi"),
        "gaps": _plain_rows(case, "SELECT * FROM all_gaps ORDER BY started_at, vessel_key"),
        "draught_changes": _plain_rows(
            case, "SELECT * FROM draught_changes ORDER BY started_at, vessel_key"
        ),
    }


def build_findings(case: Case, settings: AnalysisSettings) -> Findings:
    arrivals = arrivals_block(case)
    watch = watchlist_block(case)
    for a in arrivals:
        a["watchlist"] = watch.for_arrival(a)
    by_arrival = {a["arrival_id"]: a for a in arrivals}
    site_rows = case.rows("SELECT * FROM sites ORDER BY tonnes DESC, site_id")
    label_rows = case.rows("SELECT * FROM label_changes ORDER BY waybill, wagon")
    changes_by_site: dict[str, int] = {}
    links = case.rows(
        "SELECT * FROM linked_shipments ORDER BY departed_on, waybill, wagon, shipment_id"
    )
    changed = {(r["waybill"], r["wagon"]) for r in label_rows}
    sites_by_id = {s["site_id"]: s for s in site_rows}
    site_sightings = _site_sightings(case, site_rows, settings)
    for site_id, observed in site_sightings.items():
        sites_by_id[site_id] = dict(sites_by_id[site_id], sightings=observed)
    linked: list[LinkedShipment] = []
    for link in links:
        if (link["waybill"], link["wagon"]) in changed and link["site_id"]:
            changes_by_site[link["site_id"]] = changes_by_site.get(link["site_id"], 0) + 1
        linked.append({
            "waybill": link["waybill"], "wagon": link["wagon"], "arrival_id": link["arrival_id"],
            "lag_days": link["lag_days"], "tonnes": link["tonnes"], "site_id": link["site_id"],
            "weight_left_out": link["weight_left_out"], "recorded_t": link["recorded_t"],
            "confidence": _link_confidence(by_arrival.get(link["arrival_id"])),
            "departed_on": _iso(link["departed_on"]), "cargo": link["cargo"], "cargo_class": link["cargo_class"],
            "origin_station": link["origin_station"], "destination_station": link["destination_station"],
            "source_file": link["source_file"], "source_row": link["source_row"],
            "consignor": link["consignor"], "consignee": link["consignee"],
            "watchlist": watch.for_link(link, by_arrival.get(link["arrival_id"])),
            "evidence_chain": evidence_chain(link, by_arrival.get(link["arrival_id"]), sites_by_id.get(link["site_id"]), settings,
                                             watch.chain_lines(link, by_arrival.get(link["arrival_id"]))),
        })  # fmt: skip
    sites_out: list[Site] = [{
        "site_id": s["site_id"], "name": s["name"], "esr": s["esr"], "lat": s["lat"], "lon": s["lon"],
        "tonnes": s["tonnes"], "shipments": s["shipments"], "nearest_facility": s["nearest_facility"],
        "nearest_category": s["nearest_category"], "facility_km": s["facility_km"],
        "near_facility": bool(s["near_facility"]), "border_km": s["border_km"],
        "stations": json.loads(s["stations"]), "label_changes": changes_by_site.get(s["site_id"], 0),
        "sightings": site_sightings.get(s["site_id"], []),
        "nearest_by_category": json.loads(s["nearest_by_category"] or "{}"),
    } for s in site_rows]  # fmt: skip
    linked_tonnes = round(sum(link["tonnes"] or 0.0 for link in links), 3)
    stats = stored_result(case.con, "significance")  # the significance stage
    left_out = left_out_block(case)
    stats["out_of_period_departures"] = left_out["out_of_period_dates"]["departures_kept_off_test"]
    lag_hist = stats.pop("lag_histogram", [])
    sens = stored_result(case.con, "sensitivity")  # the sensitivity stage
    by_reason = case.rows(
        f"SELECT kind, reason, sum(rows) AS rows FROM {counted_sql(case.con)} GROUP BY ALL "
        "ORDER BY rows DESC, kind, reason"
    )
    return {
        "cargotrace_version": __version__,
        "synthetic": is_synthetic(case),
        "parameters": settings.as_parameters(),
        "missing_inputs": missing_inputs(case),
        "arrivals": arrivals,
        "linked_shipments": linked,
        "sites": sites_out,
        "label_changes": [
            {
                "waybill": r["waybill"],
                "wagon": r["wagon"],
                "declared": r["declared"],
                "at_destination": r["at_destination"],
                "declared_text": r["declared_text"],
                "at_destination_text": r["at_destination_text"],
                "departure_file": r["departure_file"],
                "departure_row": r["departure_row"],
                "arrival_file": r["arrival_file"],
                "arrival_row": r["arrival_row"],
            }
            for r in label_rows
        ],  # fmt: skip
        "totals": {
            "linked_tonnes": linked_tonnes,
            "linked_shipments": len(links),
            "linked_weights_left_out": sum(1 for link in links if link["weight_left_out"]),
            "arrivals": len(arrivals),
            "sites": len(sites_out),
            "sites_near_facility": sum(1 for s in sites_out if s["near_facility"]),
            "munitions_equivalent": munitions.equivalent(linked_tonnes, settings.munitions_profile),
        },
        "significance": stats,
        "outbound": [
            {k: _iso(v) for k, v in r.items()}
            for r in case.rows("SELECT * FROM outbound ORDER BY arrived_at, outbound_id")
        ],
        "lag_histogram": lag_hist,
        "sensitivity": sens["grid"],
        "sensitivity_summary": sens["depends_on"],
        "events": maritime_counts(case),
        **maritime_block(case),
        "quarantine": {"rows": sum(r["rows"] for r in by_reason), "by_reason": by_reason},
        "left_out": left_out,
        **watch.finish(arrivals, linked),
    }
