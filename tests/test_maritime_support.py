"""Helpers for the maritime tests: run the maritime stages on hand-made fixes in an in-memory
database (no files, no ingest), and place points at exact great-circle distances."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest

from cargotrace.analysis.pipeline import run_stages
from cargotrace.case.schema import create_statements
from cargotrace.report.findings import MARITIME_TABLES
from cargotrace.settings import AnalysisSettings

T0 = datetime(2024, 2, 1, 0, 0, tzinfo=UTC)
R_KM = 6371.0088
KM_PER_DEG_LAT = R_KM * math.pi / 180
MARITIME_STAGES = (
    "track",
    "identity",
    "ships",
    "port_areas",
    "port_zones",
    "port_calls",
    "gaps",
    "encounters",
    "loitering",
    "ais_disabling",
    "draught_changes",
    "interference",
    "interference_flags",
    "voyages",
)
PORT = (40.0, 150.0)  # a test port in open water, far from every real port


def north(at: tuple[float, float], km: float) -> tuple[float, float]:
    """The point `km` due north of `at` (exact on the sphere the SQL uses)."""
    return at[0] + km / KM_PER_DEG_LAT, at[1]


def east(at: tuple[float, float], km: float) -> tuple[float, float]:
    """The point at great-circle distance `km` due east (same latitude) of `at`."""
    lat = math.radians(at[0])
    dlon = 2 * math.asin(math.sin(km / (2 * R_KM)) / math.cos(lat))
    return at[0], at[1] + math.degrees(dlon)


Fix = tuple[int, datetime, float, float, float | None]


def series(
    mmsi: int,
    start: datetime,
    at: tuple[float, float],
    sogs: Sequence[float | None],
    step_min: float = 10,
) -> list[Fix]:
    """One fix every `step_min` minutes at one place, with the given speeds."""
    return [
        (mmsi, start + timedelta(minutes=step_min * i), at[0], at[1], s) for i, s in enumerate(sogs)
    ]


def port_row(
    locode: str,
    at: tuple[float, float],
    radius_km: float | None = 5.0,
    wkt: str | None = None,
    country: str | None = None,
) -> tuple[Any, ...]:
    return (locode, locode, country or locode[:2], at[0], at[1], radius_km, wkt)


def run(
    fixes: Iterable[Fix],
    ports: Iterable[tuple[Any, ...]] = (port_row("XXTST", PORT),),
    reports: Iterable[tuple[Any, ...]] = (),
    gazetteer: bool = False,
    land: Iterable[str] = (),
    draughts: Iterable[tuple[int, datetime, float]] = (),
    **settings: Any,
) -> duckdb.DuckDBPyConnection:
    """The maritime stages on these fixes and ports; returns the connection to query."""
    con = duckdb.connect()
    for statement in create_statements():
        con.execute(statement)
    rows = list(fixes)
    if rows:
        con.executemany(
            "INSERT INTO positions (mmsi, timestamp, lat, lon, sog) VALUES (?, ?, ?, ?, ?)", rows
        )
    for p in ports:
        con.execute(
            "INSERT INTO ports (locode, name, country, lat, lon, radius_km, geometry_wkt, origin) VALUES (?, ?, ?, ?, ?, ?, ?, 'user')",
            list(p),
        )
    if gazetteer:
        from cargotrace.ingest.kinds.ports import gazetteer_table

        con.register("gazetteer_arrow", gazetteer_table())
        con.execute("""INSERT INTO ports (locode, name, country, lat, lon, radius_km, origin)
                       SELECT locode, name, country, lat, lon, 5.0, 'gazetteer' FROM gazetteer_arrow
                       WHERE locode NOT IN (SELECT locode FROM ports)
                       QUALIFY row_number() OVER (PARTITION BY locode ORDER BY name) = 1""")
    for r in reports:
        con.execute(
            "INSERT INTO vessel_reports (mmsi, imo, name, callsign, flag, observed_at, source_file, source_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            list(r),
        )
    for d in draughts:  # (mmsi, observed_at, draught_m): static reports giving a draught
        con.execute(
            "INSERT INTO vessel_reports (mmsi, observed_at, draught_m, source_file) VALUES (?, ?, ?, 'static.nmea')",
            list(d),
        )
    for i, polygon in enumerate(land):  # WKT polygons of land, as the borders table holds them
        con.execute(
            "INSERT INTO borders (code2, name, geometry_wkt) VALUES (?, ?, ?)",
            [f"L{i}", f"land {i}", polygon],
        )
    config = AnalysisSettings(**settings)
    run_stages(con, config, MARITIME_STAGES)
    return con


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def test_offsets_are_exact_great_circle_distances():
    from cargotrace.reference.geodesy import haversine_km

    assert float(haversine_km(*PORT, *north(PORT, 5.0))) == pytest.approx(5.0, abs=1e-9)
    assert float(haversine_km(*PORT, *east(PORT, 6.0))) == pytest.approx(6.0, abs=1e-9)


def test_empty_case_runs_every_maritime_stage():
    con = run([])
    for table in MARITIME_TABLES:
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
