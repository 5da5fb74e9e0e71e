"""GeoJSON features as rows: properties become columns, geometry becomes lat/lon (points)
or a representative point plus WKT (polygons), so GeoJSON takes the same path as CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from shapely.geometry import shape

from cargotrace.errors import InputError
from cargotrace.ingest.readers.sources import open_binary
from cargotrace.ingest.readers.tabular import RawChunk, TableSource

MAX_GEOJSON_BYTES = 512 * 1024**2


def is_geojson(path: Path) -> bool:
    return path.suffix.lower() in (".geojson", ".json") or path.name.lower().endswith(
        (".geojson.gz", ".json.gz")
    )


def load_features(path: Path) -> list[dict[str, Any]]:
    with open_binary(path, max_bytes=MAX_GEOJSON_BYTES) as handle:
        data = handle.read()
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON: {exc}", file=str(path)) from None
    except RecursionError:
        raise InputError("JSON nested too deeply to be GeoJSON", file=str(path)) from None
    if isinstance(document, dict) and document.get("type") == "FeatureCollection":
        features = document.get("features")
    elif isinstance(document, dict) and document.get("type") == "Feature":
        features = [document]
    else:
        raise InputError("expected a GeoJSON FeatureCollection", file=str(path))
    if not isinstance(features, list):
        raise InputError("GeoJSON 'features' is not a list", file=str(path))
    return features


def features_to_chunk(
    path: Path, features: list[dict[str, Any]]
) -> tuple[TableSource, list[RawChunk]]:
    """Rows of strings; a feature whose geometry cannot be read keeps empty lat/lon and the
    reason in `_geometry_error`, so the kind's SQL can quarantine it with file and row."""
    keys: list[str] = []
    seen = {"lat", "lon", "geometry_wkt", "_geometry_error"}  # a set: many keys stay linear
    for number, feature in enumerate(features, start=1):
        props = _properties(path, number, feature)
        for key in props:
            if key not in seen:
                seen.add(key)
                keys.append(str(key))
    headers = [*keys, "lat", "lon", "geometry_wkt", "_geometry_error"]
    columns: list[list[str | None]] = [[] for _ in headers]
    for feature in features:
        props = feature.get("properties") or {} if isinstance(feature, dict) else {}
        values = [_text(props.get(k)) for k in keys]
        values.extend(
            _geometry_values(feature.get("geometry") if isinstance(feature, dict) else None)
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    arrays = {f"c{i}": pa.array(col, pa.string()) for i, col in enumerate(columns)}
    arrays["_row"] = pa.array(range(1, len(features) + 1), pa.int64())
    return TableSource(path, "geojson", header_row=0), [RawChunk(headers, pa.table(arrays))]


def _properties(path: Path, number: int, feature: Any) -> dict[str, Any]:
    """The properties of feature `number`: an object, or none (GeoJSON allows null)."""
    props = feature.get("properties") if isinstance(feature, dict) else None
    if props is None:
        return {}
    if not isinstance(props, dict):
        raise InputError(
            f"feature {number}: 'properties' is a {type(props).__name__}, not an object "
            "(GeoJSON properties are name: value pairs)",
            file=str(path),
            row=number,
        )
    return props


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _geometry_values(geometry: Any) -> list[str | None]:
    if geometry is None:
        return [None, None, None, "missing geometry"]
    try:
        geom = shape(geometry)
        if geom.is_empty:
            return [None, None, None, "empty geometry"]
        if geom.geom_type == "Point":
            return [repr(geom.y), repr(geom.x), None, None]
        point = geom.representative_point()
        return [repr(point.y), repr(point.x), geom.wkt, None]
    except Exception as exc:  # shapely raises several types for malformed coordinates
        return [None, None, None, f"unreadable geometry: {exc}"[:200]]
