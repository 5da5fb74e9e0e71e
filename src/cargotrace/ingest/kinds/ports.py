"""The default port gazetteer: the UN/LOCODE port list that the `searoute` package ships."""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from cargotrace.case.store import Case

DEFAULT_RADIUS_KM = 5.0


def gazetteer_table() -> pa.Table:
    text = resources.files("searoute").joinpath("data", "ports.geojson").read_text("utf-8")
    features = json.loads(text)["features"]
    rows = {"locode": [], "name": [], "country": [], "lat": [], "lon": []}  # type: dict[str, list[object]]
    for feature in features:
        props, (lon, lat) = feature["properties"], feature["geometry"]["coordinates"]
        locode = str(props.get("port") or "").upper()
        if len(locode) != 5:
            continue
        rows["locode"].append(locode)
        rows["name"].append(props.get("name"))
        rows["country"].append(locode[:2])
        rows["lat"].append(float(lat))
        rows["lon"].append(float(lon))
    return pa.table(rows)


def load_default_gazetteer(case: Case) -> int:
    """Insert the gazetteer's ports that the case does not already define."""
    table = gazetteer_table()
    case.con.register("gazetteer_arrow", table)
    with case.transaction():
        case.con.execute(
            f"""INSERT INTO ports
                SELECT locode, name, country, lat, lon, {DEFAULT_RADIUS_KM}, NULL, 'gazetteer',
                       NULL, 'searoute/ports.geojson', NULL, NULL
                FROM gazetteer_arrow
                WHERE locode NOT IN (SELECT locode FROM ports)
                QUALIFY row_number() OVER (PARTITION BY locode ORDER BY name) = 1"""
        )
    case.con.unregister("gazetteer_arrow")
    return int(table.num_rows)
