"""Is the clustering of departures after arrivals more than chance?

Test statistic: the share of shipments of interest (leaving port-serving stations) that
depart within the linking window after an arrival of interest at their port. Null model:
departure timing is independent of arrival timing. We keep every port's departure series
intact (its volume, its own clustering and weekly rhythm) and shift it circularly against
the arrivals by every offset of the study period (a "toroidal shift" test), which needs no
random numbers and is exactly reproducible. p = (1 + #shifts at least as extreme) / (1 + #shifts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import numpy as np

from cargotrace.settings import AnalysisSettings


def covered_days(
    arrival_days: np.ndarray, n_days: int, window: int, *, circular: bool = True
) -> np.ndarray:
    """Boolean per day of the period: day d is within [a, a + window] of some arrival a.

    Circular by default: the test treats the study period as a circle (a window running past
    the last day continues at the first), so that every shift of the departures meets the same
    arrival pattern and the null distribution has no edge effects.
    """
    covered = np.zeros(n_days, dtype=bool)
    for offset in range(window + 1):
        idx = arrival_days + offset
        covered[idx % n_days if circular else idx[idx < n_days]] = True
    return covered


def shift_test(
    per_port: list[tuple[np.ndarray, np.ndarray]], n_days: int, window: int, *, weekly: bool = False
) -> dict[str, Any]:
    """per_port: (arrival day indices, departure day indices) on a common day axis.

    `weekly=True` uses only shifts by whole weeks, which keeps each departure on its weekday
    (fewer shifts, so a coarser p-value, but immune to weekday rhythms shared by ships and trains).
    """
    total = sum(len(dep) for _, dep in per_port)
    if total == 0 or n_days < 2:
        return {"test": "circular-shift permutation", "p_value": None, "observed_within_window": None,
                "expected_within_window": None, "expected_interval": None, "permutations": 0, "shipments": 0}  # fmt: skip
    shifts = np.arange(0, n_days, 7) if weekly else np.arange(n_days)
    if len(shifts) < 2:  # a period too short to shift against: no test possible
        return {"test": "circular-shift permutation", "p_value": None, "observed_within_window": None,
                "expected_within_window": None, "expected_interval": None, "permutations": 0, "shipments": int(total)}  # fmt: skip
    hits = np.zeros(len(shifts))
    for arrivals, departures in per_port:
        covered = covered_days(arrivals, n_days, window)
        # hits[k] = departures covered after shifting the departure series by k days (mod n).
        # The observed statistic (k = 0) uses plain, non-wrapping windows: it is the real share,
        # never larger than its circular version, so the test can only err on the safe side.
        counts = np.bincount(departures, minlength=n_days)
        hits += np.array([np.dot(np.roll(counts, k), covered) for k in shifts])
        hits[0] += np.dot(counts, covered_days(arrivals, n_days, window, circular=False)) - np.dot(
            counts, covered
        )
    observed = hits[0] / total
    null = hits[1:] / total
    p_value = (1 + int(np.sum(null >= observed - 1e-12))) / (1 + len(null))
    return {
        "test": "circular-shift permutation" + (" (whole weeks)" if weekly else ""),
        "p_value": round(float(p_value), 6),
        "observed_within_window": round(float(observed), 6),
        "expected_within_window": round(float(null.mean()), 6),
        "expected_interval": [
            round(float(np.quantile(null, 0.025)), 6),
            round(float(np.quantile(null, 0.975)), 6),
        ],
        "permutations": int(len(null)),
        "shipments": int(total),
    }


def lag_histogram(
    per_port: list[tuple[np.ndarray, np.ndarray]], n_days: int, max_lag: int
) -> list[dict[str, Any]]:
    """Departures by days after the latest arrival, observed vs the mean over all shifts."""
    observed = np.zeros(max_lag + 1)
    expected = np.zeros(max_lag + 1)
    for arrivals, departures in per_port:
        if len(arrivals) == 0:
            continue
        counts = np.bincount(departures, minlength=n_days)
        last = np.full(n_days, -1)
        last[np.sort(arrivals)] = np.sort(arrivals)
        last = np.maximum.accumulate(last)
        lag = np.where(last >= 0, np.arange(n_days) - last, -1)
        for k in range(n_days):
            shifted = np.roll(counts, k)
            valid = (lag >= 0) & (lag <= max_lag)
            add = np.bincount(lag[valid], weights=shifted[valid], minlength=max_lag + 1)
            if k == 0:
                observed += add
            else:
                expected += add / (n_days - 1)
    return [
        {"lag_days": i, "observed": int(observed[i]), "expected": round(float(expected[i]), 3)}
        for i in range(max_lag + 1)
    ]


@dataclass
class DayAxis:
    """Shipments of interest and arrivals of interest as day indices from a common start."""

    start: date
    n_days: int
    ports: list[str]
    per_port: list[tuple[np.ndarray, np.ndarray]]


def day_axis(
    departures: list[tuple[str, date]], arrivals: list[tuple[str, date]], window: int
) -> DayAxis | None:
    if not departures:
        return None
    days = [d for _, d in departures] + [d for _, d in arrivals]
    start, end = min(days), max(days)
    n_days = (end - start).days + 1
    ports = sorted({p for p, _ in departures})
    per_port = []
    for port in ports:
        dep = np.array([(d - start).days for p, d in departures if p == port], dtype=np.int64)
        arr = np.array(sorted({(d - start).days for p, d in arrivals if p == port}), dtype=np.int64)
        per_port.append((arr, dep))
    return DayAxis(start, n_days, ports, per_port)


def tested_departures(con: duckdb.DuckDBPyConnection) -> list[tuple[str, date]]:
    """The departures the test puts on its day axis: shipments of interest leaving a
    port-serving station, except those dated outside the evidence period (a year typo would
    stretch the axis and dilute the statistic; logistics/consignments.py)."""
    return con.execute(
        "SELECT origin_port_locode, departed_on FROM shipments_of_interest "
        "WHERE origin_port_locode IS NOT NULL AND NOT date_out_of_period"
    ).fetchall()


def compute(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> dict[str, Any]:
    departures = tested_departures(con)
    arrivals = con.execute(
        # per ship (maritime/ships.py), under its latest name
        "SELECT port_locode, arrival_day, coalesce(arg_max(vessel_name, arrived_at) OVER (PARTITION BY ship_key), "
        "vessel_name, vessel_key) FROM arrivals"
    ).fetchall()
    window = settings.window_days
    axis = day_axis(departures, [(p, d) for p, d, _ in arrivals], window)
    if axis is None:
        return shift_test([], 0, window) | {"lag_histogram": [], "per_port": [], "per_vessel": []}
    result = shift_test(axis.per_port, axis.n_days, window)
    weekly = shift_test(axis.per_port, axis.n_days, window, weekly=True)
    result["weekday_preserving"] = {
        k: weekly[k] for k in ("test", "p_value", "expected_within_window", "permutations")
    }
    result["per_port"] = [
        {"port_locode": port} | shift_test([pp], axis.n_days, window)
        for port, pp in zip(axis.ports, axis.per_port, strict=True)
    ]
    result["per_vessel"] = []
    for vessel in sorted({v for _, _, v in arrivals if v is not None}):
        own = [(p, d) for p, d, v in arrivals if v == vessel]
        vessel_axis = day_axis(departures, own, window)
        if vessel_axis is not None:
            # Put the vessel's arrivals on the common axis: same start as the full axis.
            per_port = [(arr + (vessel_axis.start - axis.start).days, dep + (vessel_axis.start - axis.start).days)
                        for arr, dep in vessel_axis.per_port]  # fmt: skip
            result["per_vessel"].append(
                {"vessel_name": vessel, "arrivals": len(own)}
                | shift_test(per_port, axis.n_days, window)
            )
    result["period"] = {"start": axis.start.isoformat(), "days": axis.n_days}
    result["lag_histogram"] = lag_histogram(axis.per_port, axis.n_days, max(window * 2, 14))
    return result


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    """The `significance` stage: the timing test of the analysis, as one JSON row."""
    store_result(con, "significance", compute(con, settings))


def store_result(con: duckdb.DuckDBPyConnection, table: str, result: dict[str, Any]) -> None:
    """A stage's result as the one row of `table` (column `result`, JSON text)."""
    text = json.dumps(result, default=_plain)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT CAST(? AS VARCHAR) AS result", [text])


def stored_result(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    row = con.execute(f"SELECT result FROM {table}").fetchone()
    if row is None:
        raise ValueError(f"{table} holds no result")
    result: dict[str, Any] = json.loads(row[0])
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
