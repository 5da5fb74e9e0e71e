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


def sql_str(value: str) -> str:
    """A string literal; a NUL (which ends DuckDB's SQL text) becomes `chr(0)` concatenated."""
    literal = "'" + value.replace("'", "''") + "'"
    return literal.replace("\x00", "' || chr(0) || '") if "\x00" in value else literal


def sql_list(values: list[str] | tuple[str, ...]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def balanced(operator: str, terms: list[str], empty: str) -> str:
    """`terms` joined by an associative `operator` (`+`, `AND`, `OR`) as a balanced tree:
    a file of 1,000 columns makes an expression 10 levels deep, not 1,000 (DuckDB refuses
    expressions deeper than 1,000)."""
    if not terms:
        return empty
    while len(terms) > 1:
        terms = [
            f"({' '.join((terms[i], operator, terms[i + 1]))})" if i + 1 < len(terms) else terms[i]
            for i in range(0, len(terms), 2)
        ]
    return terms[0]
