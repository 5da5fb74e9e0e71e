"""Vessel detections in satellite imagery (contract §2): unnamed, one row per detected ship.

Our layout is `detected_at, lat, lon, length_m, score, scene_id, source` and optionally
`footprint` (WKT polygon of the scene). Global Fishing Watch's SAR detection layout
(`scene_id, detect_id, detect_timestamp, detect_lat, detect_lon, length_m, score`,
`footprint_wkt`) is recognised through the aliases below; its rows get the source `gfw_sar`
when none is given. `detection_id` is GFW's `detect_id` when given, else a hash of the row.

A row with a footprint and no position (lat, lon and detect_id empty) is a scene in which
nothing was detected: `detected_at` is the time it was taken. It goes to `empty_scenes`,
never to `detections` (it is not matched, attributed or counted as a detection), and the
footprint rules (maritime/detection_attribution.py, maritime/scene_misses.py) use it as a
scene that shows no detection anywhere. A row with neither a position nor a footprint is
refused (`missing_coordinates`).
"""

from __future__ import annotations

from cargotrace.ingest import sqlexpr
from cargotrace.ingest.readers.headers import Field
from cargotrace.ingest.types import ChunkContext, TabularKind

DETECTION_FIELDS = [
    Field(
        "detected_at", ("detect_timestamp", "timestamp", "detection time", "time"), required=True
    ),
    Field("lat", ("detect_lat", "latitude")),
    Field("lon", ("detect_lon", "longitude", "long")),
    Field("length_m", ("length", "length_meters", "estimated_length")),
    Field("score", ("presence_score", "confidence")),
    Field("scene_id", ("scene", "image_id", "product_id")),
    Field("detect_id", ("detection_id",)),
    Field("source", ("sensor", "provider", "imagery")),
    Field("footprint", ("footprint_wkt", "scene_footprint")),
]


# a scene in which nothing was detected: a footprint, no position, no detection id
EMPTY_SCENE = "lat IS NULL AND lon IS NULL AND detect_id IS NULL AND footprint IS NOT NULL"


def _detections_select(ctx: ChunkContext) -> str:
    lat, lon = sqlexpr.number("lat"), sqlexpr.number("lon")
    length, score = sqlexpr.number("length_m"), sqlexpr.number("score")
    reason, column = sqlexpr.first_reason(
        (f"{sqlexpr.timestamp('detected_at')} IS NULL", "bad_timestamp", "detected_at"),
        (f"(lat IS NULL OR lon IS NULL) AND NOT ({EMPTY_SCENE})", "missing_coordinates", "lat"),
        (f"NOT ({EMPTY_SCENE}) AND ({lat} IS NULL OR abs({lat}) > 90)", "bad_latitude", "lat"),
        (f"NOT ({EMPTY_SCENE}) AND ({lon} IS NULL OR abs({lon}) > 180)", "bad_longitude", "lon"),
        (
            f"length_m IS NOT NULL AND ({length} IS NULL OR {length} <= 0 OR {length} > 600)",
            "bad_length",
            "length_m",
        ),  # fmt: skip
        (f"score IS NOT NULL AND ({score} IS NULL OR {score} < 0)", "bad_score", "score"),
        (
            "footprint IS NOT NULL AND NOT regexp_matches(upper(trim(footprint)), '^(MULTI)?POLYGON\\s*\\(')",
            "bad_footprint",
            "footprint",
        ),
    )
    return f"""
        SELECT coalesce(detect_id, 'det-' || substr(md5(_raw), 1, 12)) AS detection_id,
               {sqlexpr.timestamp("detected_at")} AS detected_at, {lat} AS lat, {lon} AS lon,
               {length} AS length_m, {score} AS score, scene_id,
               coalesce(source, CASE WHEN detect_id IS NOT NULL THEN 'gfw_sar' END) AS source,
               nullif(trim(footprint), '') AS footprint_wkt,
               {sqlexpr.timestamp("detected_at")} AS scene_at, {EMPTY_SCENE} AS _empty_scene,
               _row, _raw, {reason} AS _reason, {column} AS _column
        FROM src
    """


DETECTIONS = TabularKind(
    "detections",
    "detections",
    DETECTION_FIELDS,
    _detections_select,
    split=("empty_scenes", "_empty_scene"),
)
