"""`cargotrace explain ID`: the evidence behind any id the findings and exports show.

An id is looked up, in this order, as a waybill (the evidence chain of the shipment,
workflow.explain), a vessel (MMSI, IMO number, name, or the `vessel_key` / `ship_key` of the
tables), a port call (`port_call_id`), an arrival of interest (`arrival_id`), a gap or a
silence with no AIS data (`gap_id`), a watchlist hit (`hit_id`), and a satellite detection
(`detection_id`: its AIS match, or its candidates, the call it made, the arrivals and
shipments resting on that call). Every match is
explained (an id can be both a waybill and a vessel's name); none is an error that says what
explain takes. Each explanation holds the rows it rests on and `lines`, the text printed.
"""

from __future__ import annotations

from typing import Any

from cargotrace.case.store import Case
from cargotrace.errors import InputError

ACCEPTS = (
    "a waybill; a vessel (MMSI, IMO number, name, or a vessel_key / ship_key such as "
    "273990011 or IMO:9900112); a port_call_id or arrival_id; a gap_id (of gaps or "
    "coverage_gaps); a watchlist hit_id; a detection_id"
)
LIST_LIMIT = 30  # rows listed per kind; the counts are complete


def not_found(ident: str) -> InputError:
    return InputError(
        f"{ident!r} is not an id of this case; explain takes {ACCEPTS} "
        "(the ids the findings and `cargotrace export --table ...` show)"
    )


def _t(value: Any) -> str:
    """A time as the report writes it, UTC to the minute."""
    if value is None:
        return "?"
    if hasattr(value, "strftime"):
        return str(value.strftime("%Y-%m-%d %H:%M"))
    return str(value)


def _listed(title: str, rows: list[dict[str, Any]], line: Any, table: str) -> list[str]:
    if not rows:
        return []
    out = [f"{title} ({len(rows):,}):"]
    out += [f"  {line(r)}" for r in rows[:LIST_LIMIT]]
    if len(rows) > LIST_LIMIT:
        out.append(f"  ... {len(rows) - LIST_LIMIT:,} more (cargotrace export --table {table})")
    return out


def _rows(
    case: Case, table: str, where: str, params: list[Any], order: str
) -> list[dict[str, Any]]:
    if not case.has_table(table):
        return []
    return case.rows(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}", params)


def _call_line(c: dict[str, Any]) -> str:
    return (
        f"{_t(c['arrived_at'])} -> {_t(c['departed_at'])} at {c['port_locode']} "
        f"({c['source']}, confidence {c['confidence']}) [port_call_id {c['port_call_id']}]"
    )


def _gfw_mark(e: dict[str, Any]) -> str:
    """How an event of another source than the case's AIS is marked (maritime/gfw_events.py)."""
    if e.get("source", "ais") == "ais":
        return ""
    return f" (Global Fishing Watch event {e['event_id']}, confidence {e['confidence']})"


def _gap_line(g: dict[str, Any]) -> str:
    calls = g.get("possible_dark_calls") or "none"
    return (
        f"{_t(g['started_at'])} -> {_t(g['ended_at'])}, {g['hours']:,.1f} h, "
        f"possible dark calls: {calls}{_gfw_mark(g)} [gap_id {g['gap_id']}]"
    )


def _at(lat: float | None, lon: float | None) -> str:
    return "an unknown position" if lat is None or lon is None else f"{lat:.5f}, {lon:.5f}"


# ------------------------------------------------------------------ vessels
def _vessels(case: Case, ident: str) -> list[dict[str, Any]]:
    text = ident.strip()
    digits = text.upper().removeprefix("IMO:").removeprefix("IMO").strip()
    mmsi = int(text) if text.isdigit() and len(text) <= 10 else None
    found = case.rows(
        """SELECT DISTINCT v.mmsi FROM vessels v
           WHERE v.mmsi = ? OR v.imo = ? OR upper(trim(v.name)) = upper(?)
              OR v.mmsi IN (SELECT mmsi FROM port_calls WHERE vessel_key = ? OR ship_key = ?)
              OR v.mmsi IN (SELECT mmsi FROM gaps WHERE vessel_key = ? OR ship_key = ?)
           ORDER BY v.mmsi""",
        [mmsi, digits if digits.isdigit() else None, text, text, text, text, text],
    )
    known = {int(r["mmsi"]) for r in found}
    if case.has_table("gfw_events"):  # vessels known only from GFW's events (no AIS, no reports)
        known |= {int(r["mmsi"]) for r in case.rows(
            f"""SELECT DISTINCT mmsi FROM ({_GFW_VESSEL_ROWS})
               WHERE mmsi IS NOT NULL AND (mmsi = ? OR upper(trim(name)) = upper(?))
                 AND mmsi NOT IN (SELECT mmsi FROM vessels WHERE mmsi IS NOT NULL)""",
            [mmsi, text],
        )}  # fmt: skip
    return [_vessel(case, m) for m in sorted(known)]


# Every vessel GFW's events name: the event's own, and an encounter's other vessel.
_GFW_VESSEL_ROWS = """
    SELECT mmsi, vessel_name AS name, flag, started_at, ended_at FROM gfw_events
    UNION ALL
    SELECT other_mmsi, other_name, other_flag, started_at, ended_at FROM gfw_events WHERE other_mmsi IS NOT NULL"""


def _gfw_vessel(case: Case, mmsi: int) -> dict[str, Any]:
    """What GFW's events say of a vessel the case knows only from them: its latest name and
    flag, the span of its events (no IMO, call sign or ship type: GFW's events carry none)."""
    [v] = case.rows(
        f"""SELECT mmsi, NULL AS imo, arg_max(name, started_at) AS name, NULL AS callsign,
                   NULL AS ship_type, arg_max(flag, started_at) AS flag, min(started_at) AS first_seen,
                   max(ended_at) AS last_seen, 'gfw' AS flag_source
            FROM ({_GFW_VESSEL_ROWS}) WHERE mmsi = ? GROUP BY mmsi""",
        [mmsi],
    )
    return v


def _seen(vessel: dict[str, Any]) -> str:
    """When the vessel was seen; a vessel known only from messages without a time (an
    identity report of a log that gives none) says so rather than 'seen ? to ?'."""
    if vessel.get("first_seen") is None and vessel.get("last_seen") is None:
        return "no position with a time in this case (known from messages without one)"
    return f"seen {_t(vessel.get('first_seen'))} to {_t(vessel.get('last_seen'))} UTC"


def _vessel(case: Case, mmsi: int) -> dict[str, Any]:
    rows = case.rows("SELECT * FROM vessels WHERE mmsi = ?", [mmsi])
    v = rows[0] if rows else _gfw_vessel(case, mmsi)
    calls = _rows(case, "port_calls", "mmsi = ?", [mmsi], "arrived_at, port_locode")
    # gaps, encounters, loitering of every source: AIS's and GFW's (maritime/gfw_events.py)
    gaps = _rows(case, "all_gaps", "mmsi = ?", [mmsi], "started_at")
    silences = _rows(case, "coverage_gaps", "mmsi = ?", [mmsi], "started_at")
    meets = _rows(case, "all_encounters", "mmsi_a = ? OR mmsi_b = ?", [mmsi, mmsi], "started_at")
    loiters = _rows(case, "all_loitering", "mmsi = ?", [mmsi], "started_at")
    unseen = _rows(case, "scene_misses", "mmsi = ?", [mmsi], "scene_at, scene_key")
    events = _rows(case, "identity_events", "mmsi = ?", [mmsi], "observed_at NULLS FIRST, event")
    arrivals = _rows(case, "arrivals", "mmsi = ?", [mmsi], "arrived_at")
    hits = _rows(case, "watchlist_hits", "mmsi = ?", [str(mmsi)], "hit_id")
    name = v.get("name") or "unnamed"
    lines = [
        f"Vessel MMSI {mmsi}: {name}, IMO {v.get('imo') or 'unknown'}, flag {v.get('flag') or '?'}"
        f", ship type {v.get('ship_type') or '?'}; {_seen(v)}"
        + (" (known only from Global Fishing Watch's events)" if not rows else "")
    ]
    lines += _listed("port calls", calls, _call_line, "port_calls")
    lines += _listed("arrivals of interest", arrivals,
                     lambda a: f"{_t(a['arrived_at'])} at {a['port_locode']} after {a['previous_port_locode']} "
                               f"({a['days_since_previous']} days before) [arrival_id {a['arrival_id']}]",
                     "arrivals")  # fmt: skip
    lines += _listed("AIS gaps", gaps, _gap_line, "gaps")
    lines += _listed("silences with no AIS data (not gaps)", silences,
                     lambda s: f"{_t(s['started_at'])} -> {_t(s['ended_at'])} [gap_id {s['gap_id']}]",
                     "coverage_gaps")  # fmt: skip
    lines += _listed("encounters", meets,
                     lambda e: f"{_t(e['started_at'])} -> {_t(e['ended_at'])} with MMSI "
                               f"{e['mmsi_b'] if e['mmsi_a'] == mmsi else e['mmsi_a']} at {e['lat']:.4f}, {e['lon']:.4f}"
                               f"{_gfw_mark(e)}",
                     "encounters")  # fmt: skip
    lines += _listed("loitering", loiters,
                     lambda e: f"{_t(e['started_at'])} -> {_t(e['ended_at'])}, {e['hours']:,.1f} h at "
                               f"{e['lat']:.4f}, {e['lon']:.4f}{_gfw_mark(e)}",
                     "loitering")  # fmt: skip
    lines += _listed("satellite scenes that do not show it where its AIS places it (evidence against its AIS there)",
                     unseen, lambda u: str(u["reason"]), "scene_misses")  # fmt: skip
    lines += _listed(
        "identity events", events, lambda e: f"{e['event']}: {e['detail']}", "identity_events"
    )
    lines += _listed("watchlist hits", hits, lambda h: f"{h['status']} on {h['list']}: {h['explanation']} [hit_id {h['hit_id']}]",
                     "watchlist_hits")  # fmt: skip
    return {"kind": "vessel", "id": str(mmsi), "vessel": v, "port_calls": calls, "arrivals": arrivals,
            "gaps": gaps, "coverage_gaps": silences, "encounters": meets, "loitering": loiters, "scene_misses": unseen, "identity_events": events,
            "watchlist_hits": hits, "lines": lines}  # fmt: skip


# ------------------------------------------------------------------ calls and arrivals
def _port_calls(case: Case, ident: str) -> list[dict[str, Any]]:
    out = []
    for c in _rows(case, "port_calls", "port_call_id = ?", [ident], "arrived_at"):
        arrivals = _rows(case, "arrivals",
                         "(vessel_key = ? AND port_locode = ? AND arrived_at = ?) OR previous_call_id = ?",
                         [c["vessel_key"], c["port_locode"], c["arrived_at"], ident], "arrived_at")  # fmt: skip
        lines = [
            f"Port call {ident}: {c['vessel_name'] or 'unnamed'} (MMSI {c['mmsi']}, IMO {c['imo'] or '?'}) "
            f"at {c['port_locode']} ({c['port_country']})",
            f"  arrived {_t(c['arrived_at'])}, departed {_t(c['departed_at'])} UTC; dwell "
            f"{c['dwell_hours'] if c['dwell_hours'] is not None else '?'} h, {c['fixes']} fixes, "
            f"{c['stops']} stops, {c['port_gaps']} in-port gaps",
            f"  source: {c['source']} (confidence {c['confidence']})"
            + (f"; sightings {', '.join(c['sighting_ids'])}" if c.get("sighting_ids") else ""),
        ]
        for d in _rows(case, "detection_calls", "port_call_id = ?", [ident], "detection_id"):
            lines.append(f"  from satellite detection {d['detection_id']}:")
            lines += [
                "  " + line for line in detection_chain(case, d["detection_id"], downstream=False)
            ]
        lines += _listed("arrivals of interest resting on it", arrivals,
                         lambda a: f"{_t(a['arrived_at'])} at {a['port_locode']} "
                                   f"({'this call' if a['previous_call_id'] != ident else 'previous call ' + str(a['previous_port_locode'])})"
                                   f" [arrival_id {a['arrival_id']}]",
                         "arrivals")  # fmt: skip
        out.append(
            {"kind": "port_call", "id": ident, "port_call": c, "arrivals": arrivals, "lines": lines}
        )
    return out


def _arrivals(case: Case, ident: str) -> list[dict[str, Any]]:
    out = []
    for a in _rows(case, "arrivals", "arrival_id = ?", [ident], "arrived_at"):
        links = _rows(
            case, "linked_shipments", "arrival_id = ?", [ident], "departed_on, waybill, wagon"
        )
        tonnes = sum(float(x["tonnes"] or 0) for x in links)
        lines = [
            f"Arrival of interest {ident}: {a['vessel_name'] or 'unnamed'} (MMSI {a['mmsi']}) at "
            f"{a['port_locode']} {_t(a['arrived_at'])} UTC ({a['source']}, confidence {a['confidence']})",
            f"  previous call: {a['previous_port_locode']} {_t(a['previous_call_at'])}, "
            f"{a['days_since_previous']} days before [port_call_id {a['previous_call_id']}]"
            + (" (the ship changed identity in between)" if a.get("identity_changed") else ""),
            f"  linked shipments: {len(links):,}, {tonnes:,.1f} t",
        ]
        lines += _listed("linked shipments", links,
                         lambda x: f"waybill {x['waybill']} {x['departed_on']} «{x['cargo']}» {x['tonnes']} t "
                                   f"(lag {x['lag_days']} d) [{x['source_file']}, row {x['source_row']}]",
                         "linked_shipments")  # fmt: skip
        out.append(
            {
                "kind": "arrival",
                "id": ident,
                "arrival": a,
                "linked_shipments": links,
                "lines": lines,
            }
        )
    return out


# ------------------------------------------------------------------ satellite detections
def _candidate_line(c: dict[str, Any]) -> str:
    head = (
        f"#{c['rank']} MMSI {c['mmsi']} score {c['score']} share {c['share']}"
        if c["rank"]
        else (f"MMSI {c['mmsi']} ruled out by {c['ruled_out_by']}")
    )
    return f"{head}: {c['reason']}"


def detection_chain(case: Case, detection_id: str, downstream: bool = True) -> list[str]:
    """detection -> (AIS match | candidates) -> call -> arrivals -> shipments, as lines (without
    `downstream`: up to the candidates)."""
    lines: list[str] = []
    for m in _rows(case, "detection_matches", "detection_id = ?", [detection_id], "mmsi"):
        lines.append(
            f"  lit: AIS of MMSI {m['mmsi']} is there ({m['reason']}); a lit detection makes no call"
        )
    candidates = _rows(case, "detection_candidates", "detection_id = ?", [detection_id],
                       "ruled_out_by NULLS FIRST, rank, mmsi")  # fmt: skip
    if not lines:
        listed = _listed(
            "dark: no AIS matches it; candidates",
            candidates,
            _candidate_line,
            "detection_candidates",
        )
        lines += ["  " + line for line in listed] or [
            "  dark: no AIS matches it, and no vessel was silent then"
        ]
    if not downstream:
        return lines
    calls = _rows(case, "detection_calls", "detection_id = ?", [detection_id], "arrived_at")
    for c in calls:
        lines.append(f"  call: MMSI {c['mmsi']} at {c['port_locode']} {_t(c['arrived_at'])} UTC (share {c['share']}, "
                     f"confidence {c['confidence']}) [port_call_id {c['port_call_id']}]")  # fmt: skip
        arrivals = _rows(case, "arrivals", "arrival_id = ? OR previous_call_id = ?",
                         [c["port_call_id"], c["port_call_id"]], "arrived_at")  # fmt: skip
        for a in arrivals:
            links = _rows(case, "linked_shipments", "arrival_id = ?", [a["arrival_id"]], "waybill")
            tonnes = sum(float(x["tonnes"] or 0) for x in links)
            role = "this call" if a["arrival_id"] == c["port_call_id"] else "its previous call"
            lines.append(f"  arrival of interest at {a['port_locode']} {_t(a['arrived_at'])} UTC ({role}): "
                         f"{len(links):,} linked shipments, {tonnes:,.1f} t [arrival_id {a['arrival_id']}]")  # fmt: skip
            lines += [
                f"    waybill {x['waybill']} {x['departed_on']} {x['tonnes']} t"
                for x in links[:LIST_LIMIT]
            ]
    if not calls and not lines[0].startswith("  lit"):
        lines.append("  no call: not in a port, or no candidate holds the share a call needs")
    return lines


def _detections(case: Case, ident: str) -> list[dict[str, Any]]:
    out = []
    for d in _rows(case, "detections", "detection_id = ?", [ident], "detected_at"):
        lines = [
            f"Detection {ident}: {_t(d['detected_at'])} UTC at {d['lat']:.5f}, {d['lon']:.5f} by {d['source'] or '?'} "
            f"(length {d['length_m'] if d['length_m'] is not None else '?'} m, score {d['score']}, "
            f"scene {d['scene_id'] or '?'}) [{d['source_file']}, row {d['source_row']}]",
            *detection_chain(case, ident),
        ]  # fmt: skip
        out.append({"kind": "detection", "id": ident, "detection": d, "lines": lines})
    return out


# ------------------------------------------------------------------ gaps and hits
def _gfw_gap_lines(ident: str, g: dict[str, Any]) -> list[str]:
    """A gap Global Fishing Watch reported (gfw_gaps): what GFW says of it."""
    disabling = g.get("intentional_disabling")
    judged = "not given" if disabling is None else "yes" if disabling else "no"
    return [
        f"AIS gap {ident}: MMSI {g['mmsi']} (vessel {g['vessel_key']}, ship {g['ship_key']}) silent "
        f"{g['hours']:,.1f} h{_gfw_mark(g)}",
        f"  AIS off {_t(g['started_at'])} UTC at {_at(g['start_lat'], g['start_lon'])}",
        f"  AIS on {_t(g['ended_at'])} UTC at {_at(g['end_lat'], g['end_lon'])}",
        f"  intentional disabling by GFW's judgement: {judged}",
    ]


def _gaps(case: Case, ident: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for g in _rows(case, "all_gaps", "gap_id = ?", [ident], "started_at"):
        if g["source"] != "ais":
            out.append({"kind": "gap", "id": ident, "gap": g, "lines": _gfw_gap_lines(ident, g)})
            continue
        calls = _rows(case, "dark_calls", "gap_id = ?", [ident], "earliest_arrival, port_locode")
        disabling = _rows(case, "ais_disabling", "gap_id = ?", [ident], "started_at")
        lines = [
            f"AIS gap {ident}: MMSI {g['mmsi']} (vessel {g['vessel_key']}, ship {g['ship_key']}) silent "
            f"{g['hours']:,.1f} h",
            f"  last fix {_t(g['started_at'])} at {g['start_lat']:.5f}, {g['start_lon']:.5f}"
            f" ({g['start_port_locode'] or 'offshore'})",
            f"  next fix {_t(g['ended_at'])} at {g['end_lat']:.5f}, {g['end_lon']:.5f}"
            f" ({g['end_port_locode'] or 'offshore'})",
            f"  {g['distance_km']:,.1f} km apart, {g['implied_speed_kn']} kn implied; service speed "
            f"{g['service_speed_kn']} kn{' (assumed)' if g['speed_assumed'] else ''}",
        ]
        if g.get("beyond_dark_call_bound"):
            lines.append("  longer than dark_call_max_gap_days: no possible dark calls are offered")
        if g.get("note"):
            lines.append(f"  {g['note']}")
        lines += _listed("possible dark calls (inferred, never observed)", calls,
                         lambda d: f"{d['port_locode']} ({d['port_country']}): earliest arrival {_t(d['earliest_arrival'])}, "
                                   f"latest departure {_t(d['latest_departure'])}, {d['to_port_km']} + {d['from_port_km']} km "
                                   f"({d['distance_method']}), slack {d['slack_hours']} h",
                         "dark_calls")  # fmt: skip
        for d in disabling:
            shore = (
                f"{d['start_shore_km']} / {d['end_shore_km']} km from shore"
                if d.get("shore_known")
                else "distance to shore unknown (no borders in the case)"
            )
            lines.append(
                f"  likely intentional AIS disabling: {'yes' if d['likely_intentional'] else 'no'} "
                f"({shore}, {d['prior_fixes']} fixes before)"
            )
        for d in _rows(
            case, "draught_changes", "gap_id = ?", [ident], "started_at"
        ):  # maritime/draught.py
            lines.append(
                f"  draught {d['draught_before_m']:g} m (reported {_t(d['draught_before_at'])}) -> "
                f"{d['draught_after_m']:g} m (reported {_t(d['draught_after_at'])}): came back "
                f"{'deeper (loaded?)' if d['direction'] == 'deeper' else 'shallower (unloaded?)'}"
            )
        out.append({"kind": "gap", "id": ident, "gap": g, "dark_calls": calls, "ais_disabling": disabling,
                    "lines": lines})  # fmt: skip
    for s in _rows(case, "coverage_gaps", "gap_id = ?", [ident], "started_at"):
        lines = [
            f"Silence {ident} (no AIS data, not a gap): MMSI {s['mmsi']} from {_t(s['started_at'])} "
            f"to {_t(s['ended_at'])} UTC ({s['hours']:,.1f} h)",
            f"  no AIS file of the case covers {_t(s['uncovered_from'])} to {_t(s['uncovered_to'])} UTC"
            + (f" (and {s['covered_stretches_between']} more uncovered stretches)" if s["covered_stretches_between"] else ""),
            "  see `cargotrace export --table ais_coverage` for the time the case's AIS files cover",
        ]  # fmt: skip
        out.append({"kind": "coverage_gap", "id": ident, "coverage_gap": s, "lines": lines})
    return out


def _hits(case: Case, ident: str) -> list[dict[str, Any]]:
    return [
        {
            "kind": "watchlist_hit",
            "id": ident,
            "hit": h,
            "lines": [
                f"Watchlist {h['status']} {ident}: {h['subject_type']} {h['subject']} ~ {h['entry']} "
                f"on {h['list']} ({h['list_file']})",
                f"  {h['explanation']}",
            ],
        }  # fmt: skip
        for h in _rows(case, "watchlist_hits", "hit_id = ?", [ident], "hit_id")
    ]


def explain_other(case: Case, ident: str) -> list[dict[str, Any]]:
    """Every non-waybill match of `ident` (the waybill is workflow.explain's)."""
    out: list[dict[str, Any]] = []
    if case.has_table("vessels"):
        out += _vessels(case, ident)
    for look in (_port_calls, _arrivals, _gaps, _hits, _detections):
        out += look(case, ident)
    return out
