"""Country polygons (GeoJSON with an ISO alpha-2 or alpha-3 code) for distance to border."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from cargotrace.ingest import sqlexpr
from cargotrace.ingest.readers.headers import Field
from cargotrace.ingest.types import ChunkContext, TabularKind

BORDER_FIELDS = [
    Field("code2", ("iso_a2", "iso2", "iso_a2_eh", "alpha2", "iso_3166_1_alpha_2", "cc")),
    Field("code3", ("iso_a3", "iso3", "adm0_a3", "alpha3", "iso_3166_1_alpha_3", "sov_a3")),
    Field("name", ("admin", "name_en", "country", "name_long", "sovereignt")),
    Field("iso_a2_eh", ()),
    Field("lat", ()),
    Field("lon", ()),
    Field("geometry_wkt", ()),
    Field("_geometry_error", ()),
]


def _prepare(con: duckdb.DuckDBPyConnection, ctx: ChunkContext) -> None:
    import pycountry

    countries = list(pycountry.countries)
    con.register("iso_arrow", pa.table({
        "alpha2": [c.alpha_2 for c in countries], "alpha3": [c.alpha_3 for c in countries],
    }))  # fmt: skip
    con.execute("CREATE OR REPLACE TEMP TABLE iso_codes AS SELECT * FROM iso_arrow")
    con.unregister("iso_arrow")


def _select(ctx: ChunkContext) -> str:
    # Natural Earth writes -99 in ISO_A2 for a few countries (France, Norway); ISO_A2_EH holds
    # the code. Files with only alpha-3 codes get alpha-2 from the ISO 3166 table.
    code2 = (
        "upper(coalesce(CASE WHEN code2 = '-99' THEN NULL ELSE code2 END, nullif(iso_a2_eh, '-99'), "
        "(SELECT alpha2 FROM iso_codes WHERE alpha3 = upper(src.code3))))"
    )
    reason, column = sqlexpr.first_reason(
        ("_geometry_error IS NOT NULL", "bad_geometry", "geometry"),
        (f"{code2} IS NULL AND (code3 IS NULL OR code3 = '-99')", "missing_country_code", "iso_a2"),
    )
    return f"""
        SELECT {code2} AS code2, upper(nullif(code3, '-99')) AS code3, name,
               coalesce(geometry_wkt, 'POINT (' || lon || ' ' || lat || ')') AS geometry_wkt,
               _row, _raw, {reason} AS _reason, {column} AS _column
        FROM src
    """


BORDERS = TabularKind("borders", "borders", BORDER_FIELDS, _select, prepare=_prepare)


def natural_earth_countries_geojson(out: Path) -> Path | None:
    """Write Natural Earth's 1:110m admin-0 countries (public domain) as GeoJSON.

    The shapefile comes from the geopandas 0.14 wheel (the last release that ships it);
    we read it with pyshp rather than importing geopandas. Returns None if unavailable.
    """
    import json
    from importlib.util import find_spec

    spec = find_spec("geopandas")
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "naturalearth_lowres"
    shp = base / "naturalearth_lowres.shp"
    if not shp.exists():
        return None
    import shapefile

    reader = shapefile.Reader(str(shp))
    fields = [f[0] for f in reader.fields[1:]]
    features = []
    for record in reader.iterShapeRecords():
        props = dict(zip(fields, record.record, strict=True))
        features.append(
            {"type": "Feature", "properties": props, "geometry": record.shape.__geo_interface__}
        )
    out.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    return out
