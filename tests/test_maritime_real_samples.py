"""Stops and port calls on real AIS: the NOAA MarineCadastre day, the Ever Given week at Suez
(no speed column: speeds implied by the fixes) and the Danish clip in UTM 32N (reprojected).
The comparison with MovingPandas runs outside the test suite (benchmarks/compare_movingpandas.py)."""

from __future__ import annotations

import json

import duckdb
import pytest

from cargotrace.analysis.pipeline import run_stages
from cargotrace.case.schema import create_statements
from cargotrace.ingest.kinds.ports import gazetteer_table
from cargotrace.maritime import stops, track
from cargotrace.settings import AnalysisSettings
from test_maritime_support import rows

from conftest import shared_data


def _case(select_positions: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for statement in create_statements():
        con.execute(statement)
    con.execute(f"INSERT INTO positions (mmsi, timestamp, lat, lon, sog) {select_positions}")
    con.register("gazetteer_arrow", gazetteer_table())
    con.execute("""INSERT INTO ports (locode, name, country, lat, lon, radius_km, origin)
                   SELECT locode, name, country, lat, lon, 5.0, 'gazetteer' FROM gazetteer_arrow
                   QUALIFY row_number() OVER (PARTITION BY locode ORDER BY name) = 1""")
    settings = AnalysisSettings()
    run_stages(
        con,
        settings,
        ("track", "identity", "ships", "port_areas", "port_zones", "port_calls", "gaps"),
    )
    for statement in stops.statements(settings):
        con.execute(statement)
    return con


@pytest.fixture(scope="module")
def noaa():
    path = shared_data("ais", "noaa", "AISdata_marinecadastre_20220103.csv.gz")
    return _case(f"""SELECT MMSI, CAST(BaseDateTime AS TIMESTAMP) AT TIME ZONE 'UTC', LAT, LON,
                            CASE WHEN SOG < 102.2 THEN SOG END
                     FROM read_csv('{path}', header = true, all_varchar = false)""")


def test_noaa_day_has_stops_and_port_calls(noaa):
    n_stops = rows(noaa, "SELECT count(*) AS n FROM stops")[0]["n"]
    calls = rows(noaa, "SELECT * FROM port_calls")
    assert n_stops > 100 and len(calls) > 50
    assert all(
        c["port_locode"].startswith(("US", "PR", "VI", "GU", "MX", "CA", "AS", "MP", "BS"))
        for c in calls
    )
    # every AIS call holds a stop or an in-port gap and lasts 2 h or more
    assert all((c["stops"] > 0 or c["port_gaps"] > 0) and c["dwell_hours"] >= 2.0 for c in calls)
    # a stop inside a port zone that lasts 2 h is a call there: calls never outnumber such stops by much
    levels = {r["confidence_level"] for r in calls}
    assert levels <= {1, 2, 3, 4}


def test_noaa_stops_follow_the_hysteresis(noaa):
    # the first fix of every stop is slower than 0.2 kn (of the fixes with that timestamp:
    # the day holds a few duplicate timestamps with different speeds)
    got = rows(
        noaa,
        """SELECT count(*) AS bad FROM (
                            SELECT s.mmsi FROM stops s JOIN track t ON t.mmsi = s.mmsi AND t.ts = s.started_at
                            GROUP BY s.mmsi, s.started_at HAVING min(coalesce(t.sog, 0)) >= 0.2)""",
    )
    assert got[0]["bad"] == 0


def test_evergiven_stops_from_implied_speed():
    path = shared_data("ais", "movingpandas", "boat-positions_evergiven.csv")
    con = _case(f"""SELECT ID, strptime(ais_pos_timestamp, '%d/%m/%Y %H:%M') AT TIME ZONE 'UTC', latitude, longitude, NULL
                    FROM read_csv('{path}', header = true)""")
    got = rows(
        con,
        "SELECT count(*) AS n, count(DISTINCT mmsi) AS vessels, max(hours) AS longest FROM stops",
    )[0]
    # ships queued at the canal's ends for days while the Ever Given blocked it
    assert got["vessels"] > 50 and got["longest"] > 48


def test_denmark_clip_reprojected_has_no_two_hour_stop():
    from pyproj import Transformer

    doc = json.loads(shared_data("ais", "movingpandas", "ais-utm32N_dk.json").read_text())
    to_wgs84 = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)
    values = []
    for f in doc["features"]:
        lon, lat = to_wgs84.transform(*f["geometry"]["coordinates"])
        p = f["properties"]
        values.append(f"({p['MMSI']}, TIMESTAMPTZ '{p['t']}+00', {lat}, {lon}, {p['SOG']})")
    con = _case("SELECT * FROM (VALUES " + ", ".join(values) + ")")
    assert (
        57.6 < rows(con, "SELECT avg(lat) AS lat FROM track")[0]["lat"] < 57.8
    )  # Gothenburg approach
    assert rows(con, "SELECT count(*) AS n FROM stops")[0]["n"] == 0
    assert rows(con, "SELECT count(DISTINCT vid) AS n FROM track")[0]["n"] == 2
    assert track.KM_PER_NM == 1.852
