"""SQL text building blocks shared by the stages, written once for every engine.

The stages generate SQL text through these helpers; DuckDB runs it as is, and the Spark
engine transpiles it (sqlglot, DuckDB -> Spark dialect), so there is one definition of each
stage rather than two hand-kept copies. Keep to functions both dialects have.
"""

from __future__ import annotations

from cargotrace.reference.geodesy import EARTH_RADIUS_KM


def haversine_km(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    """Great-circle distance in km between two points given as SQL expressions in degrees."""
    return (
        f"(2 * {EARTH_RADIUS_KM} * asin(sqrt("
        f"power(sin(radians(({lat2}) - ({lat1})) / 2), 2) + "
        f"cos(radians({lat1})) * cos(radians({lat2})) * "
        f"power(sin(radians(({lon2}) - ({lon1})) / 2), 2))))"
    )


def sql_list(values: list[str] | tuple[str, ...]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"
