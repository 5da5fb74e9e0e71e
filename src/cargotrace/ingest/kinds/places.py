"""Reference places: ports, rail stations and facilities on land (contract §2)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from cargotrace.errors import InputError
from cargotrace.ingest import sqlexpr
from cargotrace.ingest.kinds.borders import BORDER_FIELDS
from cargotrace.ingest.readers.headers import Field, normalize_header
from cargotrace.ingest.types import ChunkContext, TabularKind
from cargotrace.reference.checkdigits import normalize_esr
from cargotrace.reference.country_names import country_code, country_codes
from cargotrace.reference.names import normalize_station_name

_GEOMETRY_FIELDS = [Field("geometry_wkt", ("wkt", "geometry")), Field("_geometry_error")]


def _coordinate_checks(required: bool = True) -> list[tuple[str, str, str | None]]:
    lat, lon = sqlexpr.number("lat"), sqlexpr.number("lon")
    checks: list[tuple[str, str, str | None]] = (
        [("_geometry_error IS NOT NULL", "bad_geometry", "geometry")] if required else []
    )
    checks += [
        (f"lat IS NOT NULL AND ({lat} IS NULL OR abs({lat}) > 90)", "bad_latitude", "lat"),
        (f"lon IS NOT NULL AND ({lon} IS NULL OR abs({lon}) > 180)", "bad_longitude", "lon"),
    ]
    if required:
        checks.append(("lat IS NULL OR lon IS NULL", "missing_coordinates", "lat"))
    return checks


# ----------------------------------------------------------------------------- ports
PORT_FIELDS = [
    Field(
        "locode",
        ("unlocode", "un locode", "port_locode", "code", "port"),
        required=True,
        unless=("country", "location"),
    ),
    # UN/LOCODE's own layout (UNECE's code list, geoapify's copy with coordinates): the code
    # split into `country` + `location`, and `function`, whose first place is 1 for a port.
    Field("location", ()),
    Field("function", ()),
    # NGA's World Port Index (Pub 150) names its columns "Main Port Name" and "Country Code",
    # the latter holding country names ("North Korea"), not codes.
    Field("name", ("port name", "portname", "main port name")),
    Field("country", ("country code", "iso2", "cty")),
    Field("lat", ("latitude", "y")),
    Field("lon", ("longitude", "long", "x")),
    Field("radius_km", ("radius", "radius km")),
    *_GEOMETRY_FIELDS,
]


# The port's code: its `locode` column, else UN/LOCODE's `country` + `location` (KP + RJN).
_PORT_CODE = """coalesce(nullif(upper(replace(trim(locode), ' ', '')), ''),
    CASE WHEN length(trim(country)) = 2 AND length(trim(location)) = 3
         THEN upper(trim(country) || trim(location)) END)"""


def _not_a_port(ctx: ChunkContext) -> str:
    """In UN/LOCODE's layout (`location` and `function` columns), a row whose function
    classifier ("1-3-----": eight places) does not begin with 1 is no port: an airport, a
    rail terminal, a town of the full list. A row without a readable classifier is refused
    too (geoapify's copy has ~1,000 rows of bad quoting whose cells moved, e.g. 'OH' read as
    the function and a longitude as the latitude)."""
    if not {"location", "function"} <= set(ctx.columns.fields):
        return "false"
    return "function IS NULL OR NOT regexp_full_match(trim(function), '1[0-9B-]{7}')"


# Whitespace as Python's `str.split` knows it (RE2's \s is ASCII only): a cell's country
# code may come padded with no-break spaces.
_SPACE = r"[\t\n\v\f\r\x1c-\x1f\x{85}\p{Z}]"

# ISO alpha-2 of a port: `--origin-country KP` compares codes, so a port stored with a
# country name (NGA's World Port Index writes "North Korea" in its "Country Code" column)
# would never count as a port of its country. A two-letter code as written wins; otherwise
# the LOCODE's first two letters, which are its country's alpha-2 by definition (more
# reliable than resolving a name: "Curacao" and "Sint Maarten" resolve to NL by name, their
# LOCODEs say CW and SX), when they are an ISO code (`country_codes`): that is `_by_code`.
# A prefix that is no ISO code (a typo, a made-up LOCODE) leaves the name to resolve
# (`port_country_names`); when that fails too, the prefix stands (`_PORT_COUNTRY`).
_PORT_KEYS = f"""SELECT *, CASE WHEN regexp_full_match(_written, '\\p{{L}}{{2}}') THEN upper(_written)
                         WHEN _prefix IN (SELECT code FROM country_codes) THEN _prefix END AS _by_code
    FROM (SELECT *, left(upper(regexp_replace(_code, '{_SPACE}+', '', 'g')), 2) AS _prefix
          FROM (SELECT *, {_PORT_CODE} AS _code,
                       regexp_replace(country, '^{_SPACE}+|{_SPACE}+$', '', 'g') AS _written
                FROM src))"""
_PORT_COUNTRY = (
    """coalesce(k._by_code, n.alpha2, CASE WHEN length(k._prefix) = 2 THEN k._prefix END)"""
)


def _ports_prepare(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """The ISO codes (`country_codes`) and, for the country cells that neither a code as
    written nor a LOCODE settles, the name's code (`port_country_names`): a name is resolved
    by `country_code` (pycountry's exact look-up, then its fuzzy search: Python), once per
    distinct name (the World Port Index: 82 of its 196 names, for 3,768 rows; resolving each
    distinct (country, LOCODE) pair in Python took 3,401 calls; the same ports either way)."""
    con.register("country_codes_arrow", pa.table({"code": pa.array(country_codes(), pa.string())}))
    con.execute("CREATE OR REPLACE TEMP TABLE country_codes AS SELECT * FROM country_codes_arrow")
    con.unregister("country_codes_arrow")
    names = (
        con.execute(
            f"SELECT DISTINCT country FROM ({_PORT_KEYS}) WHERE _by_code IS NULL AND country IS NOT NULL"
        )
        .to_arrow_table()
        .column("country")
    )
    con.register("port_country_arrow", pa.table({
        "raw_country": names,
        "alpha2": pa.array([country_code(n) for n in names.to_pylist()], pa.string()),
    }))  # fmt: skip
    con.execute(
        "CREATE OR REPLACE TEMP TABLE port_country_names AS SELECT * FROM port_country_arrow"
    )
    con.unregister("port_country_arrow")


def _ports_select(ctx: ChunkContext) -> str:
    reason, column = sqlexpr.first_reason(
        ("_code IS NULL", "missing_locode", "locode"),
        (_not_a_port(ctx), "not_a_port", "function"),
        *_coordinate_checks(),
        (
            f"radius_km IS NOT NULL AND ({sqlexpr.number('radius_km')} IS NULL OR {sqlexpr.number('radius_km')} <= 0)",
            "bad_radius",
            "radius_km",
        ),
    )
    return f"""
        SELECT _code AS locode, name, {_PORT_COUNTRY} AS country,
               {sqlexpr.number("lat")} AS lat, {sqlexpr.number("lon")} AS lon,
               {sqlexpr.number("radius_km")} AS radius_km, geometry_wkt, 'user' AS origin,
               _row, _raw, {reason} AS _reason, {column} AS _column
        FROM ({_PORT_KEYS}) k LEFT JOIN port_country_names n ON n.raw_country = k.country
    """


def _ports_after(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """A user's port replaces the gazetteer's entry of the same UN/LOCODE."""
    con.execute(
        "DELETE FROM ports WHERE origin = 'gazetteer' AND locode IN "
        "(SELECT locode FROM normalized WHERE _reason IS NULL)"
    )


PORTS = TabularKind(
    "ports", "ports", PORT_FIELDS, _ports_select, prepare=_ports_prepare, after=_ports_after
)

# -------------------------------------------------------------------------- stations
STATION_FIELDS = [
    Field("esr", ("код еср", "еср", "esr code", "code", "код станции"), required=True),
    Field(
        "name",
        ("станция", "наименование станции", "station", "station name", "название"),
        required=True,
    ),
    Field("lat", ("latitude", "широта")),
    Field("lon", ("longitude", "долгота")),
    Field("port_locode", ("port", "locode", "порт")),
]


def _stations_prepare(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    rows = con.execute("SELECT DISTINCT esr, name FROM src").fetchall()
    con.register("station_lookup_arrow", pa.table({
        "raw_esr": pa.array([r[0] for r in rows], pa.string()),
        "raw_name": pa.array([r[1] for r in rows], pa.string()),
        "esr": pa.array([normalize_esr(r[0])[0] for r in rows], pa.string()),
        "name_norm": pa.array([normalize_station_name(r[1]) for r in rows], pa.string()),
    }))  # fmt: skip
    con.execute("CREATE OR REPLACE TEMP TABLE station_lookup AS SELECT * FROM station_lookup_arrow")
    con.unregister("station_lookup_arrow")


def _stations_select(ctx: ChunkContext) -> str:
    reason, column = sqlexpr.first_reason(
        ("s.esr IS NULL", "missing_esr", "esr"),
        ("l.esr IS NULL OR length(l.esr) <> 6", "bad_esr", "esr"),
        ("s.name IS NULL", "missing_name", "name"),
        *[
            (c.replace("lat", "s.lat").replace("lon", "s.lon"), r, col)
            for c, r, col in _coordinate_checks(required=False)
        ],
    )
    return f"""
        SELECT l.esr, s.name, l.name_norm, {sqlexpr.number("s.lat")} AS lat, {sqlexpr.number("s.lon")} AS lon,
               upper(s.port_locode) AS port_locode, s._row, s._raw, {reason} AS _reason, {column} AS _column
        FROM src s LEFT JOIN station_lookup l
          ON l.raw_esr IS NOT DISTINCT FROM s.esr AND l.raw_name IS NOT DISTINCT FROM s.name
    """


STATIONS = TabularKind(
    "stations", "stations", STATION_FIELDS, _stations_select, prepare=_stations_prepare
)

# ------------------------------------------------------------------------ facilities
FACILITY_FIELDS = [
    Field("name", ("facility", "название", "site"), required=True),
    Field("category", ("type", "kind", "категория")),
    Field("lat", ("latitude", "y")),
    Field("lon", ("longitude", "long", "x")),
    Field("source", ("reference", "citation", "источник")),
    *_GEOMETRY_FIELDS,
]


def _facilities_select(ctx: ChunkContext) -> str:
    reason, column = sqlexpr.first_reason(
        ("name IS NULL", "missing_name", "name"), *_coordinate_checks()
    )
    return f"""
        SELECT name, lower(coalesce(category, 'unknown')) AS category,
               {sqlexpr.number("lat")} AS lat, {sqlexpr.number("lon")} AS lon, source, geometry_wkt,
               _row, _raw, {reason} AS _reason, {column} AS _column
        FROM src
    """


def _facilities_prepare(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """Refuse a country borders file given as facilities: Natural Earth's countries were
    stored as 177 facilities (each country's representative point) of category "unknown",
    or "sovereign country" from its TYPE column, and the case got no borders. A borders file
    has a country code column of the `borders` kind and nothing but polygons; a file of
    depots' outlines rarely has country codes, and a --mapping naming its name or category
    column takes it as facilities all the same."""
    if {"name", "category"} & set(ctx.mapping.columns):
        return
    codes = {key for f in BORDER_FIELDS if f.name in ("code2", "code3") for key in f.keys()}
    if not any(normalize_header(h)[0] in codes for h in ctx.headers):
        return
    shapes, polygons = con.execute(
        "SELECT count(geometry_wkt), count(*) FILTER (WHERE geometry_wkt LIKE '%POLYGON%') FROM src"
    ).fetchone() or (0, 0)
    if shapes and polygons == shapes:
        raise InputError(
            f"{polygons:,} polygons with country codes: this looks like a country borders file, "
            f"not facilities. Ingest it as borders (`cargotrace ingest borders {ctx.file_name}`); "
            "if these really are facilities, say which column holds their category (or name) "
            'with --mapping MAP.toml (columns.category = "<your header>")',
            file=ctx.file_name,
        )


FACILITIES = TabularKind(
    "facilities", "facilities", FACILITY_FIELDS, _facilities_select, prepare=_facilities_prepare
)
