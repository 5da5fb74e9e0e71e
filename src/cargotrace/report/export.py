"""Exports: the findings as JSON, and any table as CSV, JSON, GeoJSON or Parquet.

CSV cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage
return) are prefixed with a quote, so hostile text in leaked files cannot execute on open.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cargotrace.case import freshness, quarantine
from cargotrace.case.schema import TABLES
from cargotrace.case.store import Case
from cargotrace.errors import CargotraceError, InputError
from cargotrace.outputs import atomic_output, check_output_path, json_text
from cargotrace.report import spatial

# declared tables (case/schema.py) export their declared columns, in their export order
EXPORT_TABLES = {
    "vessels": TABLES["vessels"].export_sql(),
    "vessel_identities": TABLES["vessel_identities"].export_sql(),
    "shipments": TABLES["shipments"].export_sql(),
    "quarantine": TABLES["quarantine"].export_sql(),
    "identity_events": "SELECT * FROM identity_events ORDER BY mmsi, observed_at NULLS FIRST, event",
    "ship_links": "SELECT * FROM ship_links ORDER BY ship_key, valid_from NULLS FIRST, vessel_key",
    "ship_timeline": "SELECT * FROM ship_timeline ORDER BY ship_key, identity_no",
    "voyages": "SELECT * FROM voyages ORDER BY vessel_key, call_no",
    "encounter_crowds": "SELECT * FROM encounter_crowds ORDER BY started_at",
    "ais_coverage": "SELECT * FROM ais_coverage ORDER BY stretch",
    "coverage_gaps": "SELECT * FROM coverage_gaps ORDER BY mmsi, started_at, vessel_key",
    "shuttles": "SELECT * FROM shuttles ORDER BY legs DESC, vessel_key, port_a, port_b",
    "linked_shipments": "SELECT * FROM linked_shipments ORDER BY departed_on, waybill, wagon",
    "label_changes": "SELECT * FROM label_changes ORDER BY waybill, wagon",
    "outbound": "SELECT * FROM outbound ORDER BY arrived_at",
    "watchlist_hits": "SELECT * FROM watchlist_hits",
    "party_clusters": "SELECT * FROM party_clusters",
    "ledger": TABLES["ledger"].export_sql(),
    "watchlist": TABLES["watchlist"].export_sql(),
    "interference_flags": "SELECT * FROM interference_flags ORDER BY hour_start, kind, event_id",
    "detections": TABLES["detections"].export_sql(),
    "empty_scenes": TABLES["empty_scenes"].export_sql(),
    "detection_matches": "SELECT * FROM detection_matches ORDER BY detected_at, detection_id",
    "dark_detections": "SELECT * FROM dark_detections ORDER BY detected_at, detection_id",
    "detection_candidates": "SELECT * FROM detection_candidates ORDER BY detected_at, detection_id, ruled_out_by NULLS FIRST, rank, mmsi",
    "detection_calls": "SELECT * FROM detection_calls ORDER BY arrived_at, detection_id",
    "scene_misses": "SELECT * FROM scene_misses ORDER BY scene_at, scene_key, mmsi",
    "gfw_events": TABLES["gfw_events"].export_sql(),
    "gfw_calls": "SELECT * FROM gfw_calls ORDER BY arrived_at, event_id",
    "gfw_encounters": "SELECT * FROM gfw_encounters ORDER BY started_at, mmsi_a, mmsi_b, event_id",
    "gfw_loitering": "SELECT * FROM gfw_loitering ORDER BY started_at, mmsi, event_id",
    "gfw_gaps": "SELECT * FROM gfw_gaps ORDER BY started_at, mmsi, event_id",
}
# spatial tables: their query also yields the geometry's coordinates (report/spatial.py)
EXPORT_TABLES |= {name: t.sql for name, t in spatial.SPATIAL_TABLES.items()}
EXTENSIONS = {".json": "json", ".geojson": "geojson", ".csv": "csv", ".parquet": "parquet",
              ".geoparquet": "parquet", ".pq": "parquet"}  # fmt: skip
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formula injection in a CSV cell (OWASP recommendation)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def findings(case: Case) -> dict[str, Any]:
    text = case.meta("findings")
    if text is None:
        raise CargotraceError(
            f"case {case.root} has not been analysed yet; run `cargotrace analyze --case {case.root}`"
        )
    parsed: dict[str, Any] = json.loads(text)
    parsed["analysis_status"] = freshness.analysis_status(case)
    return parsed


def resolve_format(fmt: str | None, out: Path) -> str:
    """The export format: as given, else from the file's extension (json when it has none we
    know). A format that contradicts a known extension is refused, never written silently."""
    by_extension = EXTENSIONS.get(out.suffix.lower())
    if fmt is None:
        if by_extension is None and out.suffix:
            raise InputError(
                f"cannot tell an export format from the extension of {out} ({out.suffix}); "
                "give --format json, csv, geojson or parquet, or an --out ending in one of "
                + ", ".join(sorted(EXTENSIONS))
            )
        return by_extension or "json"
    if (
        by_extension is not None
        and by_extension != fmt
        and not (fmt == "geojson" and by_extension == "json")
    ):
        raise InputError(
            f"--format {fmt} does not match the extension of {out} ({by_extension}); "
            f"change --out or --format, or leave --format out to follow the extension"
        )
    return fmt


def table_help() -> str:
    """The tables `export --table` knows, for the command's help."""
    shaped = ", ".join(
        f"{n} ({t.geometry_type.lower()}s)" for n, t in spatial.SPATIAL_TABLES.items()
    )
    plain = ", ".join(n for n in EXPORT_TABLES if n not in spatial.SPATIAL_TABLES)
    return f"With geometry: {shaped}. Without: {plain}."


def table(case: Case, name: str) -> pa.Table:
    """One table; a spatial table keeps its hidden `_x`/`_y` coordinate lists."""
    if name not in EXPORT_TABLES:
        raise InputError(f"unknown table {name!r}; choose one of: {', '.join(EXPORT_TABLES)}")
    shape = spatial.SPATIAL_TABLES.get(name)
    base = shape.needs if shape else EXPORT_TABLES[name].split(" FROM ")[1].split()[0]
    if not case.has_table(base):
        raise CargotraceError(
            f"table {name!r} does not exist yet; run `cargotrace analyze --case {case.root}` first"
        )
    sql = EXPORT_TABLES[name]
    if name == "quarantine":  # NMEA logs' refused messages are stored as runs: one row each
        sql = sql.replace(" FROM quarantine", f" FROM {quarantine.rows_sql(case.con)} AS q", 1)
    return case.arrow(sql)


def write_csv(data: pa.Table, out: Path) -> None:
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(data.column_names)
        for batch in data.to_batches(50_000):
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for row in zip(*columns, strict=True):
                writer.writerow([safe_cell(_plain(v)) for v in row])


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def write_geojson(data: pa.Table, out: Path, table_name: str) -> None:
    names = data.column_names
    lat_col = next((c for c in ("lat", "start_lat") if c in names), None)
    lon_col = next((c for c in ("lon", "start_lon") if c in names), None)
    if lat_col is None or lon_col is None:
        raise InputError(
            f"--table {table_name} has no coordinates to write as GeoJSON (columns: "
            f"{', '.join(names)}); write it as csv, json or parquet. Tables with a place: "
            f"{', '.join(spatial.SPATIAL_TABLES)}"
        )
    features = []
    for row in data.to_pylist():
        lat, lon = row.get(lat_col), row.get(lon_col)
        geometry = (
            {"type": "Point", "coordinates": [lon, lat]} if _finite(lat) and _finite(lon) else None
        )
        features.append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {k: _plain(v) for k, v in row.items()},
            }
        )
    out.write_text(json_text({"type": "FeatureCollection", "features": features}), encoding="utf-8")


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def sites_geojson(result: dict[str, Any]) -> dict[str, Any]:
    """Findings sites as GeoJSON points (the default GeoJSON export)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]} if s["lat"] is not None else None,
             "properties": {k: v for k, v in s.items() if k not in ("lat", "lon")}}
            for s in result["sites"]
        ],
    }  # fmt: skip


def export(case: Case, fmt: str | None, out: Path, table_name: str | None) -> int:
    """Write one export; returns the number of records written. `fmt` None: from `out`'s
    extension. Spatial tables carry their geometry: GeoJSON features, a GeoParquet `geometry`
    column (WKB, `geo` metadata), a `wkt` column in CSV."""
    fmt = resolve_format(fmt, out)
    if fmt not in ("json", "csv", "geojson", "parquet"):
        raise InputError(f"unknown format {fmt!r}; choose json, csv, geojson or parquet")
    check_output_path(out)
    # written beside `out` and renamed into place once complete: a failure leaves what was there
    with atomic_output(out) as temp:
        return _write(case, fmt, temp, table_name)


def _write(case: Case, fmt: str, out: Path, table_name: str | None) -> int:
    if table_name is None:
        result = findings(case)
        if fmt == "json":
            out.write_text(json_text(result, indent=2), encoding="utf-8")
            return len(result["linked_shipments"])
        if fmt == "geojson":
            out.write_text(json_text(sites_geojson(result)), encoding="utf-8")
            return len(result["sites"])
        table_name = "linked_shipments"
    data = table(case, table_name)
    shape = spatial.SPATIAL_TABLES.get(table_name)
    if shape is not None and fmt == "geojson":
        features = spatial.geojson_features(data, shape.geometry_type)
        for f in features:
            f["properties"] = {k: _plain(v) for k, v in f["properties"].items()}
        out.write_text(
            json_text({"type": "FeatureCollection", "features": features}), encoding="utf-8"
        )
        return int(data.num_rows)
    if shape is not None:
        data = (spatial.with_wkb if fmt == "parquet" else spatial.with_wkt)(
            data, shape.geometry_type
        )
        if fmt == "json":
            data = data.drop_columns(["wkt"])
    if fmt == "csv":
        write_csv(data, out)
    elif fmt == "parquet":
        pq.write_table(data, out)
    elif fmt == "geojson":
        write_geojson(data, out, table_name)
    elif fmt == "json":
        out.write_text(
            json_text([{k: _plain(v) for k, v in r.items()} for r in data.to_pylist()]),
            encoding="utf-8",
        )
    else:
        raise InputError(f"unknown format {fmt!r}; choose json, csv, geojson or parquet")
    return int(data.num_rows)
