"""The encounters kernel's bins on Spark (engine/spark_kernels.bins_in_time_order): the means
per (10-minute bin, vessel) are those of the stage SQL's `binned` on DuckDB, to the last bit,
whatever order the rows arrive in (a Spark shuffle delivers them in any order). No Spark
needed: the function runs inside `mapInArrow`, on NumPy arrays."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from cargotrace.engine.spark_kernels import bins_in_time_order
from cargotrace.maritime import encounters
from cargotrace.maritime.kernels.arrays import sums_in_order

T0_US = 1_641_168_000_000_000  # 2022-01-03 00:00 UTC
# one vessel's speeds in one bin (the NOAA day, MMSI 368079130, 00:00-00:10): added one after
# another they make 9.2 (mean 1.15, half of it 0.575, rounded 0.57); NumPy's reduceat adds
# eight values in another order, 9.200000000000001 (0.58)
SPEEDS = [0.8, 0.9, 2.3, 0.6, 0.2, 1.2, 1.7, 1.5]


def _positions() -> dict[str, np.ndarray]:
    rows = []
    for i, sog in enumerate(SPEEDS):  # every 70 s within the first bin
        rows.append((368079130, T0_US + 70_000_000 * i, 45.7354 + 0.00001 * i, -122.8499, sog))
    for i in range(3):  # a second vessel: a missing speed, and one bin with no speed at all
        rows.append((367480130, T0_US + 200_000_000 * i, 45.73478, -122.8523, None if i else 0.1))
        rows.append((367480130, T0_US + 600_000_000 + 100_000_000 * i, 45.7348, -122.85, None))
    rows.append((368079130, T0_US + 600_000_000, 45.7356, -122.84992, 0.9))
    mmsi, ts, lat, lon, sog = (np.array(c) for c in zip(*rows, strict=True))
    return {
        "mmsi": mmsi.astype(np.int64),
        "tbin": (ts // 1_000_000 // encounters.BIN_SECONDS).astype(np.int64),
        "ts": ts.astype(np.int64),
        "lat": lat.astype(np.float64),
        "lon": lon.astype(np.float64),
        "sog": np.array([np.nan if s is None else s for s in sog], np.float64),
    }


def _binned_by_duckdb(positions: dict[str, np.ndarray]) -> dict[str, list]:
    con = duckdb.connect()
    table = pa.table(
        {
            "mmsi": positions["mmsi"],
            "timestamp": pa.array(positions["ts"], pa.timestamp("us", tz="UTC")),
            "lat": positions["lat"],
            "lon": positions["lon"],
            "sog": pa.array(positions["sog"], from_pandas=True),  # NaN -> NULL
        }
    )
    con.register("arrived", table)
    con.execute('CREATE TABLE positions AS SELECT * FROM arrived ORDER BY "timestamp"')
    con.execute(encounters.binned_sql())
    rows = con.execute("SELECT tbin, mmsi, lat, lon, sog FROM binned ORDER BY tbin, mmsi")
    return {name: list(values) for name, values in zip(("tbin", "mmsi", "lat", "lon", "sog"), zip(*rows.fetchall(), strict=True), strict=True)}  # fmt: skip


def test_sums_in_order_add_each_group_from_its_first_value() -> None:
    values = np.array([*SPEEDS, 5.0, 1e16, 1.0, -1e16, 7.0])
    at, sizes = np.array([0, 8, 9, 12]), np.array([8, 1, 3, 1])
    assert sums_in_order(values, at, sizes).tolist() == [9.2, 5.0, 0.0, 7.0]
    assert sums_in_order(values, at[:0], sizes[:0]).tolist() == []


def test_bins_are_duckdbs_whatever_the_order_the_rows_arrive_in() -> None:
    positions = _positions()
    expected = _binned_by_duckdb(positions)
    assert expected["sog"][:2] == [0.1, 1.15] and expected["sog"][2] is None
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(len(positions["mmsi"]))
        got = bins_in_time_order({name: values[order] for name, values in positions.items()})
        assert got["tbin"].tolist() == expected["tbin"]
        assert got["mmsi"].tolist() == expected["mmsi"]
        assert got["lat"].tolist() == expected["lat"]
        assert got["lon"].tolist() == expected["lon"]
        sog = [None if np.isnan(s) else float(s) for s in got["sog"]]
        assert sog == expected["sog"]
        assert (sog[1] / 2) == 0.575  # the rounding edge: 0.57 on both engines
