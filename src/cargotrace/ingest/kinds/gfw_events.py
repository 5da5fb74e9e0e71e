"""Global Fishing Watch events (contract §2, KIND `gfw-events`): port visits, encounters,
loitering and AIS gaps as GFW computed them, one row per event in `gfw_events`.

Read: the JSON of GFW's public events API v3 (a page `{"entries": [...], ...}`, a list of
such pages, or a list of entries) and CSV exports of it. Each entry is flattened the way
`pandas.json_normalize` flattens it (`vessel.ssvid`, `position.lat`,
`port_visit.startAnchorage.name`, ...), so a CSV written from the API's JSON by that (or by
hand with `_` for `.`) reads the same; the API writes the port visit block `port_visit` or
`portVisit` and both are read. Fields used (others are kept in the raw row only):

* every event: `id`, `type` (port_visit, encounter, loitering, gap; fishing is kept too),
  `start`, `end`, `position{lat, lon}`, `vessel{id, ssvid, name, flag}`;
* port_visit: `visitId`, `confidence` (GFW's 2-4), `startAnchorage{anchorageId, name, flag,
  lat, lon}` (where the visit began; `intermediateAnchorage` when there is no start);
* encounter: `vessel{ssvid, name, flag}` (the other vessel), `medianDistanceKilometers`;
* loitering: `totalTimeHours`, `totalDistanceKm`;
* gap: `durationHours`, `distanceKm`, `intentionalDisabling`, `offPosition{lat, lon}`,
  `onPosition{lat, lon}`.

Flags (GFW writes ISO 3166 alpha-3) are stored as alpha-2. Refused rows: `bad_timestamp`
(start), `missing_type`, `missing_vessel` (no MMSI-like `ssvid`), `bad_latitude` /
`bad_longitude`. The analysis turns port visits into port calls (source `gfw`, confidence
GFW's level / 4: maritime/port_calls.py) and lists the other events with their source.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from cargotrace.case.store import Case
from cargotrace.errors import InputError
from cargotrace.ingest import sqlexpr
from cargotrace.ingest.kinds.borders import _prepare as prepare_iso_codes
from cargotrace.ingest.loader import ingest_tabular
from cargotrace.ingest.readers.headers import Field
from cargotrace.ingest.readers.tabular_types import RawChunk, TableSource
from cargotrace.ingest.types import ChunkContext, IngestResult, Mapping, Progress, TabularKind


def _both(*paths: str) -> tuple[str, ...]:
    """Each path as the API writes the port visit block (`port_visit.` and `portVisit.`) and
    with `_` for `.` (CSV exports)."""
    out: list[str] = []
    for p in paths:
        variants = {p}
        if p.startswith("port_visit."):
            variants.add("portVisit." + p[len("port_visit.") :])
        for v in list(variants):
            variants.add(v.replace(".", "_"))
        out.extend(sorted(variants))
    return tuple(out)


GFW_EVENT_FIELDS = [
    Field("event_id", ("id", "event id", "eventId")),
    Field("event_type", ("type", "event type"), required=True),
    Field("started_at", ("start", "start time", "startDate", "event_start"), required=True),
    Field("ended_at", ("end", "end time", "endDate", "event_end")),
    Field("lat", _both("position.lat") + ("latitude",)),
    Field("lon", _both("position.lon") + ("longitude",)),
    Field("mmsi", _both("vessel.ssvid") + ("ssvid",)),
    Field("vessel_name", _both("vessel.name") + ("shipname",)),
    Field("flag", _both("vessel.flag")),
    Field("gfw_vessel_id", _both("vessel.id")),
    Field("visit_id", _both("port_visit.visitId")),
    Field("gfw_confidence", _both("port_visit.confidence") + ("confidence",)),
    Field(
        "anchorage_id",
        _both("port_visit.startAnchorage.anchorageId", "port_visit.startAnchorage.id"),
    ),
    Field("anchorage_name", _both("port_visit.startAnchorage.name") + ("port_name",)),
    Field("anchorage_flag", _both("port_visit.startAnchorage.flag") + ("port_flag",)),
    Field("anchorage_lat", _both("port_visit.startAnchorage.lat")),
    Field("anchorage_lon", _both("port_visit.startAnchorage.lon")),
    Field("mid_anchorage_name", _both("port_visit.intermediateAnchorage.name")),
    Field("mid_anchorage_flag", _both("port_visit.intermediateAnchorage.flag")),
    Field("mid_anchorage_lat", _both("port_visit.intermediateAnchorage.lat")),
    Field("mid_anchorage_lon", _both("port_visit.intermediateAnchorage.lon")),
    Field("other_mmsi", _both("encounter.vessel.ssvid")),
    Field("other_name", _both("encounter.vessel.name")),
    Field("other_flag", _both("encounter.vessel.flag")),
    Field("encounter_km", _both("encounter.medianDistanceKilometers")),
    Field("loitering_hours", _both("loitering.totalTimeHours")),
    Field("loitering_km", _both("loitering.totalDistanceKm")),
    Field("gap_hours", _both("gap.durationHours")),
    Field("gap_km", _both("gap.distanceKm")),
    Field("intentional_disabling", _both("gap.intentionalDisabling")),
    Field("off_lat", _both("gap.offPosition.lat")),
    Field("off_lon", _both("gap.offPosition.lon")),
    Field("on_lat", _both("gap.onPosition.lat")),
    Field("on_lon", _both("gap.onPosition.lon")),
]


def _alpha2(column: str) -> str:
    code = f"upper(trim({column}))"
    return f"""(CASE WHEN length({code}) = 2 THEN {code}
                     ELSE (SELECT alpha2 FROM iso_codes WHERE alpha3 = {code}) END)"""


def _select(_ctx: ChunkContext) -> str:
    lat, lon = sqlexpr.number("lat"), sqlexpr.number("lon")
    mmsi = "TRY_CAST(regexp_extract(trim(mmsi), '^[0-9]{9}$') AS BIGINT)"
    start = sqlexpr.timestamp("started_at")
    reason, column = sqlexpr.first_reason(
        (f"{start} IS NULL", "bad_timestamp", "start"),
        ("nullif(trim(event_type), '') IS NULL", "missing_type", "type"),
        (f"{mmsi} IS NULL", "missing_vessel", "vessel.ssvid"),
        (f"lat IS NOT NULL AND ({lat} IS NULL OR abs({lat}) > 90)", "bad_latitude", "position.lat"),
        (
            f"lon IS NOT NULL AND ({lon} IS NULL OR abs({lon}) > 180)",
            "bad_longitude",
            "position.lon",
        ),
    )
    n = sqlexpr.number
    return f"""
        SELECT coalesce(nullif(trim(event_id), ''), 'gfw-' || substr(md5(_raw), 1, 12)) AS event_id,
               lower(replace(trim(event_type), '-', '_')) AS event_type,
               {start} AS started_at, {sqlexpr.timestamp("ended_at")} AS ended_at,
               {lat} AS lat, {lon} AS lon, {mmsi} AS mmsi, nullif(trim(vessel_name), '') AS vessel_name,
               {_alpha2("flag")} AS flag, gfw_vessel_id, visit_id,
               TRY_CAST({n("gfw_confidence")} AS INTEGER) AS gfw_confidence,
               anchorage_id, coalesce(anchorage_name, mid_anchorage_name) AS anchorage_name,
               {_alpha2("coalesce(anchorage_flag, mid_anchorage_flag)")} AS anchorage_country,
               coalesce({n("anchorage_lat")}, {n("mid_anchorage_lat")}) AS anchorage_lat,
               coalesce({n("anchorage_lon")}, {n("mid_anchorage_lon")}) AS anchorage_lon,
               TRY_CAST(regexp_extract(trim(other_mmsi), '^[0-9]{{9}}$') AS BIGINT) AS other_mmsi,
               nullif(trim(other_name), '') AS other_name, {_alpha2("other_flag")} AS other_flag,
               coalesce({n("gap_hours")}, {n("loitering_hours")},
                        (epoch({sqlexpr.timestamp("ended_at")}) - epoch({start})) / 3600.0) AS hours,
               coalesce({n("encounter_km")}, {n("gap_km")}, {n("loitering_km")}) AS distance_km,
               lower(trim(intentional_disabling)) IN ('true', '1', 'yes') AS intentional_disabling,
               {n("off_lat")} AS off_lat, {n("off_lon")} AS off_lon, {n("on_lat")} AS on_lat, {n("on_lon")} AS on_lon,
               _row, _raw, {reason} AS _reason, {column} AS _column
        FROM src
    """


GFW_EVENTS = TabularKind(
    "gfw-events", "gfw_events", GFW_EVENT_FIELDS, _select, prepare=prepare_iso_codes
)


def is_json(path: Path) -> bool:
    from cargotrace.ingest.readers.sources import open_binary

    with open_binary(path) as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"{", b"[")


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, f"{prefix}.{key}" if prefix else str(key), out)
    elif value is None:
        return
    elif isinstance(value, list):
        out[prefix] = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    else:
        out[prefix] = str(value)


def _entries(path: Path, document: Any) -> list[Any]:
    """The events of a page, of a list of pages, or a bare list of events."""
    if isinstance(document, dict):
        if not isinstance(document.get("entries"), list):
            raise InputError(
                "a GFW events JSON object must hold an `entries` list (the events API's page)",
                file=str(path),
            )
        return list(document["entries"])
    if isinstance(document, list):
        if document and all(isinstance(d, dict) and "entries" in d for d in document):
            return [e for page in document for e in _entries(path, page)]
        return document
    raise InputError("a GFW events JSON file must be an object or a list", file=str(path))


def load_gfw_json(
    case: Case,
    spec: TabularKind,
    path: Path,
    mapping: Mapping,
    result: IngestResult,
    progress: Progress | None,
) -> None:
    from cargotrace.ingest.readers.sources import open_binary

    with open_binary(path) as handle:
        text = handle.read().decode("utf-8-sig", errors="replace")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", file=str(path)
        ) from None
    rows: list[dict[str, str]] = []
    for number, entry in enumerate(_entries(path, document), start=1):
        if not isinstance(entry, dict):
            raise InputError(f"event {number} is not an object", file=str(path), row=number)
        flat: dict[str, str] = {}
        _flatten(entry, "", flat)
        rows.append(flat)
    headers = list(dict.fromkeys(key for row in rows for key in row))
    arrays: dict[str, pa.Array] = {
        f"c{i}": pa.array([row.get(h) for row in rows], pa.string()) for i, h in enumerate(headers)
    }
    arrays["_row"] = pa.array(range(1, len(rows) + 1), pa.int64())
    result.detail["format"] = "json"
    chunk = RawChunk(headers, pa.table(arrays))
    ingest_tabular(case, spec, path, TableSource(path, "json", header_row=0), [chunk], mapping,
                   result, progress)  # fmt: skip
