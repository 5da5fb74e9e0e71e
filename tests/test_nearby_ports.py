"""The nearby-ports kernel (maritime/kernels/nearby_ports.py): the ports it hands the SQL
per event give the same nearest-port distance and the same "far from every port" answer as
every port of the band, on events and ports at random (dense and sparse, at the poles,
across the antimeridian, ports without a position, events with no port in their band, ports
at equal distance), and the encounters stage's kernel equals the SQL with ports around the
meetings."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from cargotrace.maritime.kernels import nearby_ports
from cargotrace.maritime.offshore import far_from_ports_sql, nearest_port_km_sql
from test_encounters_kernel import _pair, assert_same
from test_maritime_support import T0, east, north, port_row

from kernel_support import positions_case

MIN_KM = (0.5, 10.0, 50.0, 500.0)


def _answers(con: duckdb.DuckDBPyConnection, ports: str, match: str) -> list[tuple]:
    far = ", ".join(f"{far_from_ports_sql(km, 'e', ports, match)}" for km in MIN_KM)
    return con.execute(
        f"SELECT e.id, {nearest_port_km_sql('e', ports, match)}, {far} FROM events e ORDER BY e.id"
    ).fetchall()


def _check(events: np.ndarray, ports: np.ndarray) -> list[tuple]:
    """The answers with every port and with the kernel's candidates: equal."""
    con = duckdb.connect()
    ids = np.arange(len(events))
    con.register("e_in", pa.table({"id": ids, "lat": events[:, 0], "lon": events[:, 1]}))
    con.register(
        "p_in",
        pa.table(
            {
                c: pa.array(ports[:, i], mask=np.isnan(ports[:, i]))
                for i, c in enumerate(("lat", "lon"))
            }
        ),
    )
    event, port = nearby_ports.candidates(events[:, 0], events[:, 1], ports[:, 0], ports[:, 1])
    con.register("n_in", pa.table({"id": event, "lat": ports[port, 0], "lon": ports[port, 1]}))
    for table, source in (("events", "e_in"), ("ports", "p_in"), ("near", "n_in")):
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM {source}")
    every = _answers(con, "ports", "")
    assert _answers(con, "near", " AND p.id = e.id") == every
    return every


def test_candidates_give_the_answers_of_every_port():
    rng = np.random.default_rng(3)
    nearest = []
    for trial in range(12):
        ports = np.column_stack([rng.uniform(-90, 90, 400), rng.uniform(-180, 180, 400)])
        if trial % 3 == 0:  # a dense cluster, and a grid of ports every half degree
            ports[:200] = rng.normal([55.0, 179.5], [0.3, 0.6], (200, 2))
            ports[200:] = np.column_stack(
                [40 + 0.5 * (np.arange(200) % 20), -10 + 0.5 * (np.arange(200) // 20)]
            )
        ports[rng.integers(0, 400, 10), 1] = np.nan  # ports without a position
        ports[:, 1] = np.where(ports[:, 1] > 180, ports[:, 1] - 360, ports[:, 1])
        events = np.column_stack([rng.uniform(-90, 90, 300), rng.uniform(-180, 180, 300)])
        events[:100] = ports[rng.integers(0, 400, 100)] + rng.normal(0, 0.05, (100, 2))
        events[100:110] = [[89.9, 10.0]] * 5 + [[-89.5, -170.0]] * 5  # at the poles
        events[110:115] = [[55.0, 180.0], [55.0, -180.0], [55.2, 179.99], [0.0, 0.0], [0.0, 0.0]]
        events = events[~np.isnan(events).any(axis=1)]
        events[:, 0] = np.clip(events[:, 0], -90, 90)
        nearest += [row[1] for row in _check(events, ports)]
    assert None in nearest  # events with no port in their band (at the poles)
    assert sum(1 for km in nearest if km is not None and km < 20) > 500  # many close to one


def test_ports_at_equal_distance_and_no_port_in_the_band():
    ports = np.array([[10.0, 20.1], [10.0, 19.9], [10.1, 20.0], [12.5, 20.0], [np.nan, 20.0]])
    events = np.array([[10.0, 20.0], [14.0, 20.0], [-40.0, 20.0], [10.0, 21.5]])
    found = _check(events, ports)
    for nothing_in_band in (1, 2):  # 12.5 is 1.5 degrees from 14
        assert found[nothing_in_band][1:] == (None, *(True,) * len(MIN_KM))
    assert found[0][1] == 11.0 and found[0][2:] == (True, True, False, False)
    event, port = nearby_ports.candidates(events[:, 0], events[:, 1], ports[:, 0], ports[:, 1])
    assert sorted(port[event == 0].tolist()) == [0, 1]  # the two at equal distance, only


def test_encounters_kernel_equals_the_sql_with_ports_around():
    """Meetings near ports and far from them: the same nearest_port_km and the same
    meetings left out (within encounter_min_port_km of a port) both ways."""
    at = (40.0, 150.0)
    fixes = _pair(273000010, 273000011, at, 0.3, 14)
    fixes += _pair(273000012, 273000013, north(at, 30.0), 0.3, 14)
    fixes += _pair(273000014, 273000015, (70.0, -179.99), 0.3, 14)
    ports = [port_row("XXAAA", east(at, 8.0)), port_row("XXBBB", east(north(at, 30.0), 25.0)),
             port_row("XXCCC", north(east(at, 25.0), 3.0)), port_row("XXDDD", (70.2, 179.9))]  # fmt: skip
    counts = assert_same(positions_case(fixes, ports))
    assert counts["encounters"] == 2  # the one 8 km from XXAAA is left out
    assert T0  # fixes start at T0


def test_each_grid_settles_what_it_can():
    """An event 10 km from its port is settled on the half-degree grid, one 70 km away on
    the one-degree grid (half a degree of longitude at the equator is 55.6 km), one 150 km
    away by every port of its band; the answers are those of every port."""
    ports = np.array([[0.0, 10.09], [0.0, 20.63], [0.0, 31.35], [0.9, 45.0], [-0.9, 60.0]])
    events = np.array([[0.0, 10.0], [0.0, 20.0], [0.0, 30.0]])
    found = _check(events, ports)
    assert [row[1] for row in found] == [10.0, 70.1, 150.1]
    event, port = nearby_ports.candidates(events[:, 0], events[:, 1], ports[:, 0], ports[:, 1])
    assert sorted(zip(event.tolist(), port.tolist(), strict=True)) == [
        (0, 0), (1, 1), (2, 0), (2, 1), (2, 2), (2, 3), (2, 4)
    ]  # fmt: skip
