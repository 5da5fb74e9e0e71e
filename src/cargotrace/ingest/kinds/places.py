"""Reference places: ports, rail stations and facilities on land (contract §2)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from cargotrace.ingest import sqlexpr
from cargotrace.ingest.readers.headers import Field
from cargotrace.ingest.types import ChunkContext, TabularKind
from cargotrace.reference.checkdigits import normalize_esr
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
    Field("locode", ("unlocode", "un locode", "port_locode", "code", "port"), required=True),
    Field("name", ("port name", "portname")),
    Field("country", ("country code", "iso2", "cty")),
    Field("lat", ("latitude", "y")),
    Field("lon", ("longitude", "long", "x")),
    Field("radius_km", ("radius", "radius km")),
    *_GEOMETRY_FIELDS,
]


def _ports_select(ctx: ChunkContext) -> str:
    reason, column = sqlexpr.first_reason(
        ("locode IS NULL", "missing_locode", "locode"),
        *_coordinate_checks(),
        (
            f"radius_km IS NOT NULL AND ({sqlexpr.number('radius_km')} IS NULL OR {sqlexpr.number('radius_km')} <= 0)",
            "bad_radius",
            "radius_km",
        ),
    )
    return f"""
        SELECT upper(replace(locode, ' ', '')) AS locode, name,
               upper(coalesce(country, left(replace(locode, ' ', ''), 2))) AS country,
               {sqlexpr.number("lat")} AS lat, {sqlexpr.number("lon")} AS lon,
               {sqlexpr.number("radius_km")} AS radius_km, geometry_wkt, 'user' AS origin,
               _row, _raw, {reason} AS _reason, {column} AS _column
        FROM src
    """


def _ports_after(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    """A user's port replaces the gazetteer's entry of the same UN/LOCODE."""
    con.execute(
        "DELETE FROM ports WHERE origin = 'gazetteer' AND locode IN "
        "(SELECT locode FROM normalized WHERE _reason IS NULL)"
    )


PORTS = TabularKind("ports", "ports", PORT_FIELDS, _ports_select, after=_ports_after)

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


FACILITIES = TabularKind("facilities", "facilities", FACILITY_FIELDS, _facilities_select)
