"""Self-contained offline HTML report.

``render_report(data)`` turns the report dict built by the case layer (findings JSON per
contract §4 plus a ``map`` and a ``timeline`` block) into ONE HTML document: CSS, JavaScript
and data are inline, a Content-Security-Policy forbids every network load, and the page
works from a ``file://`` URL with no connection.

Safety model (the data are leaked records and may contain hostile strings):

* static parts are rendered by Jinja2 with autoescape on; every printed value also passes
  through :func:`clean_text`, which makes bidi overrides visible and drops control chars;
* the data travel as JSON inside ``<script type="application/json">`` with ``<``, ``>``,
  ``&``, U+2028/2029 and bidi controls written as ``\\uXXXX`` so no string can close the
  element; the page script reads it with ``JSON.parse`` and inserts values only through
  ``textContent`` and ``setAttribute`` on a whitelist of attribute names;
* the only executable script is the bundled ``report.js``, allowed by its SHA-256 hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

__all__ = ["BANNER_TEXT", "clean_text", "embed_json", "render_report"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
BANNER_TEXT = "SYNTHETIC SAMPLE DATA — this case shows the method, not evidence"

# Bidi embedding/override/isolate controls and marks: shown as visible "[U+202E]" so a
# hostile name cannot reorder the text around it.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CTRL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Characters written as \uXXXX inside the embedded JSON.
_JSON_ESCAPES = re.compile("[<>&\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: object) -> str:
    """Printable text for display: visible bidi controls, no C0 control characters."""
    text = "" if value is None else str(value)
    text = _BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)
    return _CTRL.sub("\ufffd", text)


def _jsonable(value: Any) -> Any:
    """Plain JSON types; NaN/inf become null, dates ISO strings, unknown objects str()."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _jsonable(item())
        except (TypeError, ValueError):
            pass
    return str(value)


def embed_json(data: Any) -> Markup:
    """JSON that is safe verbatim inside ``<script type="application/json">``."""
    text = json.dumps(_jsonable(data), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Markup(_JSON_ESCAPES.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


# --------------------------------------------------------------------------- formatting


def _num(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    try:
        out = float(str(value))
    except ValueError:
        return None
    return out if math.isfinite(out) else None


def fmt_int(value: object) -> str:
    x = _num(value)
    return "—" if x is None else f"{round(x):,}"


def fmt_tonnes(value: object) -> str:
    x = _num(value)
    if x is None:
        return "—"
    return f"{x:,.1f}" if abs(x) < 100 else f"{x:,.0f}"


def fmt_km(value: object) -> str:
    x = _num(value)
    if x is None:
        return "—"
    return f"{x:,.1f}" if abs(x) < 100 else f"{x:,.0f}"


def fmt_rounds(value: object) -> str:
    x = _num(value)
    if x is None:
        return "—"
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.2f} million"
    return f"{round(x):,}"


def fmt_p(value: object, permutations: object = None) -> str:
    """A p-value to two significant digits, rounded up: never shown below its true value, so
    never below the test's resolution 1/(permutations + 1) (p = 0.0055 stays 0.0055)."""
    p = _num(value)
    if p is None:
        return "—"
    n = _num(permutations)
    if n is not None and n > 0:
        p = max(p, 1 / (n + 1))
    if p <= 0:
        return "0"
    exponent = math.floor(math.log10(p)) - 1
    step = 10.0**exponent
    up = math.ceil(round(p / step, 9)) * step
    return f"{min(up, 1.0):.{max(0, -exponent)}f}"


def fmt_share(value: object) -> str:
    """A share in [0, 1] as a percentage; other numbers as they are."""
    x = _num(value)
    if x is None:
        return "—"
    if 0 <= x <= 1:
        return f"{x * 100:.0f} %"
    return f"{x:,.3g}"


def fmt_time(value: object) -> str:
    """ISO timestamps shortened for tables: '2023-09-03 10:00 UTC'."""
    if value is None or value == "":
        return "—"
    text = str(value)
    m = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]00:?00)?", text
    )
    if m:
        return f"{m.group(1)} {m.group(2)}" + (" UTC" if m.group(3) else "")
    return text


def fmt_day(value: object) -> str:
    """The day of a timestamp ('2023-09-03'): a sighting dates a call to the day, not the minute."""
    text = fmt_time(value)
    return text[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", text) else text


def fmt_call_time(value: object, evidence: object) -> str:
    """A call's time: to the minute from AIS, the day only when a sighting alone dates it."""
    return fmt_day(value) if _as_list(evidence) == ["sighting"] else fmt_time(value)


def port_label(code: object, names: Mapping[str, str]) -> str:
    """'Vostochny (RUVYP)' where the port's name is known, else the UN/LOCODE."""
    if code in (None, ""):
        return "—"
    name = names.get(str(code))
    return f"{name} ({code})" if name and name != code else str(code)


def fmt_param(value: object) -> object:
    """Parameter values for prose: 20.0 -> 20."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return "?" if value is None else value


def _as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _as_dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _join(values: Iterable[object], sep: str = ", ") -> str:
    return sep.join(str(v) for v in values if v not in (None, ""))


# --------------------------------------------------------------------------- view model


_LABEL_KEYS = ("declared", "at_destination", "declared_text", "at_destination_text")


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _label_groups(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Label changes grouped by class and original texts (ignoring case and spacing).

    Each group shows its most frequent spelling and how many spellings it merges.
    """
    groups: dict[tuple[str, ...], Counter[tuple[str, ...]]] = {}
    for c in changes:
        exact = tuple(str(c.get(k) or "") for k in _LABEL_KEYS)
        groups.setdefault(tuple(_fold(t) for t in exact), Counter())[exact] += 1
    out = []
    for spellings in groups.values():
        (top, _), n = spellings.most_common(1)[0], sum(spellings.values())
        out.append(
            {**dict(zip(_LABEL_KEYS, top, strict=True)), "count": n, "variants": len(spellings)}
        )
    return sorted(out, key=lambda g: (-g["count"], g["declared_text"]))


TABLE_ROWS = 200  # rows of a secondary table drawn in the report; the rest stay in the JSON


def _sections(data: Mapping[str, Any], findings: Mapping[str, Any]) -> dict[str, bool]:
    """Which story the case tells: rail sections with shipments (or, for report data without
    the `vessels` block, always), vessel sections with positions, sightings or GFW events; both
    when both."""
    vessels = _as_dict(data.get("vessels"))
    held = _as_dict(vessels.get("holds"))
    if not held:
        return {"rail": True, "maritime": False}
    rail = bool(held.get("shipments")) or bool(_as_list(findings.get("linked_shipments")))
    vessel_data = held.get("positions") or held.get("sightings") or held.get("gfw_events")
    return {"rail": rail, "maritime": bool(vessel_data)}


def _vessel_view(data: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    vessels = _as_dict(data.get("vessels"))
    counts = _as_dict(vessels.get("counts"))
    lanes = _as_list(vessels.get("lanes"))
    out: dict[str, Any] = {k: fmt_int(counts.get(k, 0)) for k in (
        "vessels", "vessels_with_calls", "port_calls", "ports", "origin_calls", "gaps", "gaps_beyond_bound",
        "gaps_with_dark_calls", "dark_calls", "encounters", "identity_events", "watchlist_hits",
        "loitering", "likely_intentional", "interference", "interference_flags", "draught_changes", "spoofed_positions", "circling",
        "draught_deeper")}  # fmt: skip
    for key in ("identity_conflicts", "watchlist_leads"):  # shown only when there are some
        out[key] = fmt_int(counts[key]) if counts.get(key) else ""
    out["gap_hours"] = fmt_param(params.get("gap_hours"))
    out["max_gap_days"] = fmt_param(params.get("dark_call_max_gap_days"))
    out["shore_known"] = bool(vessels.get("shore_known"))
    for key, name in (("disabling_hours", "disabling_min_gap_hours"), ("disabling_shore_km", "disabling_min_shore_km"),
                      ("loiter_kn", "loitering_max_sog_kn"), ("loiter_hours", "loitering_min_hours"),
                      ("loiter_shore_km", "loitering_min_shore_km"), ("jam_vessels", "interference_min_vessels"),
                      ("jam_cell", "interference_cell_deg"), ("draught_min_m", "draught_change_min_m")):  # fmt: skip
        out[key] = fmt_param(params.get(name))
    out["lanes_note"] = (
        f"The {fmt_int(len(lanes))} vessels with the most calls and meetings; "
        "all vessels are in the exports (port_calls, gaps, encounters)."
        if lanes
        else "No vessel has a port call, gap or meeting."
    )
    return out


def _view(data: Mapping[str, Any]) -> dict[str, Any]:
    findings = _as_dict(data.get("findings"))
    params = _as_dict(findings.get("parameters"))
    totals = _as_dict(findings.get("totals"))
    mun = _as_dict(totals.get("munitions_equivalent"))
    sig = _as_dict(findings.get("significance"))
    quarantine = _as_dict(findings.get("quarantine"))
    arrivals = [_as_dict(a) for a in _as_list(findings.get("arrivals"))]
    shipments = [_as_dict(s) for s in _as_list(findings.get("linked_shipments"))]
    sites = [_as_dict(s) for s in _as_list(findings.get("sites"))]
    label_changes = [_as_dict(c) for c in _as_list(findings.get("label_changes"))]
    outbound = [_as_dict(o) for o in _as_list(findings.get("outbound"))]
    identity = [_as_dict(e) for e in _as_list(findings.get("identity_events"))]

    port_names = {
        str(p.get("locode")): str(p.get("name"))
        for p in [
            *_as_list(_as_dict(data.get("map")).get("ports")),
            *_as_list(_as_dict(data.get("vessels")).get("ports")),
        ]
        if isinstance(p, Mapping) and p.get("name")
    }
    by_arrival: dict[str, list[float]] = {}
    for s in shipments:
        by_arrival.setdefault(str(s.get("arrival_id")), []).append(_num(s.get("tonnes")) or 0.0)

    interval = _as_list(sig.get("expected_interval"))
    expected_range = ""
    if len(interval) == 2:
        expected_range = f"{fmt_share(interval[0])}–{fmt_share(interval[1])}"

    low, high = mun.get("kg_per_round_low"), mun.get("kg_per_round_high")
    kg_range = ""
    if _num(low) is not None and _num(high) is not None:
        kg_range = f"{_num(low):g}–{_num(high):g} kg"

    return {
        **_sections(data, findings),
        "vs": _vessel_view(data, params),
        "title": data.get("title") or "cargotrace report",
        "synthetic": bool(data.get("synthetic")),
        "banner": BANNER_TEXT,
        "stale": _as_dict(findings.get("analysis_status")).get("message") or "",
        "left_out": [
            str(line) for line in _as_list(_as_dict(findings.get("left_out")).get("summary"))
        ],
        "generated_at": fmt_time(data.get("generated_at")),
        "version": data.get("cargotrace_version") or "",
        "params": params,
        "param_rows": [
            (
                k,
                ", ".join(map(str, v))
                if isinstance(v, list)
                else json.dumps(v, ensure_ascii=False)
                if isinstance(v, dict)
                else v,
            )
            for k, v in params.items()
        ],
        "window_days": fmt_param(params.get("window_days")),
        "lookback_days": fmt_param(params.get("lookback_days")),
        "near_km": fmt_param(params.get("near_km")),
        "origin_country": fmt_param(params.get("origin_country")),
        "headline": {
            "linked_tonnes": fmt_tonnes(totals.get("linked_tonnes")),
            "shipments": fmt_int(len(shipments)),
            "arrivals": fmt_int(len(arrivals)),
            "sites": fmt_int(totals.get("sites", len(sites))),
            "sites_near": fmt_int(totals.get("sites_near_facility")),
            "mun_central": fmt_rounds(mun.get("central")),
            "mun_low": fmt_rounds(mun.get("low")),
            "mun_high": fmt_rounds(mun.get("high")),
            "mun_profile": mun.get("profile") or "",
            "p_value": fmt_p(sig.get("p_value"), sig.get("permutations")),
            "observed": fmt_share(sig.get("observed_within_window")),
            "expected": fmt_share(sig.get("expected_within_window")),
            "expected_range": expected_range,
            "permutations": fmt_int(sig.get("permutations"))
            if sig.get("permutations") is not None
            else "",
            "test": sig.get("test") or "permutation",
        },
        "mun": {
            "profile": mun.get("profile") or "",
            "kg_range": kg_range,
            "source": mun.get("source") or "",
        },
        "arrivals": [
            {
                "vessel": a.get("vessel_name"),
                "identity_change": f"identity changed since the previous call: was {a.get('previous_vessel_name') or ''} "
                f"(MMSI {a.get('previous_mmsi')})"
                if a.get("identity_changed")
                else "",
                "imo": a.get("imo"),
                "mmsi": a.get("mmsi"),
                "port": port_label(a.get("port_locode"), port_names),
                "arrived": fmt_call_time(a.get("arrived_at"), a.get("evidence")),
                "previous": port_label(a.get("previous_port_locode"), port_names),
                "previous_at": fmt_call_time(
                    a.get("previous_call_at"), a.get("previous_call_evidence")
                ),
                "evidence": _join(_as_list(a.get("evidence"))),
                "shipments": fmt_int(len(by_arrival.get(str(a.get("arrival_id")), []))),
                "tonnes": fmt_tonnes(sum(by_arrival.get(str(a.get("arrival_id")), []))),
            }
            for a in arrivals
        ],
        "sites": [
            {
                "index": i,
                "number": i + 1,
                "name": s.get("name"),
                "site_id": s.get("site_id"),
                "esr": s.get("esr"),
                "tonnes": fmt_tonnes(s.get("tonnes")),
                "shipments": fmt_int(s.get("shipments")),
                "facility": s.get("nearest_facility") or "—",
                "facility_km": fmt_km(s.get("facility_km")),
                "near": bool(s.get("near_facility")),
                "border_km": fmt_km(s.get("border_km")),
                "label_changes": fmt_int(s.get("label_changes"))
                if s.get("label_changes") is not None
                else "—",
            }
            for i, s in enumerate(sites)
        ],
        "label_changes": label_changes,
        "label_groups": _label_groups(label_changes),
        "outbound": [
            {
                "vessel": o.get("vessel_name") or o.get("vessel_key"),
                "port": port_label(o.get("port_locode"), port_names),
                "departed": fmt_time(o.get("departed_at"))
                if o.get("departed_at")
                else f"seen {fmt_day(o.get('arrived_at'))}",  # a sighting: the day only
                "next_port": port_label(o.get("next_port_locode"), port_names),
                "next_source": o.get("next_source") or "",
                "next_at": fmt_day(o.get("next_call_at"))
                if o.get("next_source") == "sighting"
                else fmt_time(o.get("next_call_at")),
                "days": fmt_int(o.get("days_to_next")),
                "rail_cargo": o.get("rail_cargo_to_port") or "—",
            }
            for o in outbound[:TABLE_ROWS]
        ],
        "outbound_count": fmt_int(len(outbound)),
        "outbound_more": fmt_int(len(outbound) - TABLE_ROWS) if len(outbound) > TABLE_ROWS else "",
        "identity": [
            {
                "vessel": e.get("vessel_key") or e.get("mmsi"),
                "event": str(e.get("event") or "").replace("_", " "),
                "change": f"{e.get('previous_value')} → {e.get('new_value')}"
                if e.get("previous_value") is not None
                else (e.get("detail") or ""),
                "at": fmt_time(e.get("observed_at")),
                "source": f"{e.get('source_file')}:{e.get('source_row')}"
                if e.get("source_file")
                else "track",
            }
            for e in identity[:TABLE_ROWS]
        ],
        "ships_changed": [
            {
                "ship": s.get("imo") or s.get("ship_key"),
                "identities": [
                    {
                        "name": i.get("name") or "",
                        "mmsi": i.get("mmsi") or "",
                        "callsign": i.get("callsign") or "",
                        "flag": i.get("flag") or "",
                        "from": fmt_time(i.get("from")),
                        "to": fmt_time(i.get("to")),
                        "sources": i.get("sources") or "",
                    }
                    for i in (_as_dict(x) for x in _as_list(s.get("identities")))
                ],
                "changes": [
                    f"{c.get('from_vessel_key')} → {c.get('to_vessel_key')}: {c.get('note')}, "
                    f"{fmt_time(c.get('dark_from'))} to {fmt_time(c.get('dark_to'))}"
                    for c in (_as_dict(x) for x in _as_list(s.get("changes")))
                ],
            }
            for s in (_as_dict(x) for x in _as_list(findings.get("ship_identities")))
        ],
        "identity_count": fmt_int(len(identity)),
        "identity_more": fmt_int(len(identity) - TABLE_ROWS) if len(identity) > TABLE_ROWS else "",
        "quarantine_rows": fmt_int(quarantine.get("rows", 0)),
        "quarantine": [_as_dict(r) for r in _as_list(quarantine.get("by_reason"))],
        "border_country": _as_dict(data.get("map")).get("border_country") or "",
        "fmt_int": fmt_int,
    }


def _environment() -> Environment:
    def finalize(value: Any) -> Any:
        if isinstance(value, Markup):
            return value
        if isinstance(value, str):
            return clean_text(value)
        return value

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(data: Mapping[str, Any]) -> str:
    """One complete, offline HTML document for the report dict (see module docstring)."""
    script = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    style = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    if "</script" in script.lower() or "</style" in style.lower():
        raise ValueError("bundled script/style must not contain a closing tag")
    csp = "; ".join(
        [
            "default-src 'none'",
            "img-src data:",
            f"style-src {_csp_hash(style)}",
            f"script-src {_csp_hash(script)}",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    template = _environment().get_template("report.html.j2")
    return template.render(
        v=_view(data),
        csp=csp,
        style=Markup(style),
        script=Markup(script),
        data_json=embed_json(data),
    )
