"""Is the clustering of departures after arrivals more than chance?

Test statistic: the share of shipments of interest (leaving port-serving stations) that
depart within the linking window after an arrival of interest at their port. Null model:
departure timing is independent of arrival timing. We keep every port's departure series
intact (its volume, its own clustering and weekly rhythm) and shift it circularly against
the arrivals by every offset of the study period (a "toroidal shift" test), which needs no
random numbers and is exactly reproducible. p = (1 + #shifts at least as extreme) / (1 + #shifts).
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np

from cargotrace.settings import AnalysisSettings


def covered_days(arrival_days: np.ndarray, n_days: int, window: int) -> np.ndarray:
    """Boolean per day of the period: day d is within [a, a + window] of some arrival a."""
    covered = np.zeros(n_days, dtype=bool)
    for offset in range(window + 1):
        idx = arrival_days + offset
        covered[idx[idx < n_days]] = True
    return covered


def shift_test(
    per_port: list[tuple[np.ndarray, np.ndarray]], n_days: int, window: int
) -> dict[str, Any]:
    """per_port: (arrival day indices, departure day indices) on a common day axis."""
    total = sum(len(dep) for _, dep in per_port)
    if total == 0 or n_days < 2:
        return {"test": "circular-shift permutation", "p_value": None, "observed_within_window": None,
                "expected_within_window": None, "expected_interval": None, "permutations": 0, "shipments": 0}  # fmt: skip
    shifts = np.arange(n_days)
    hits = np.zeros(n_days)
    for arrivals, departures in per_port:
        covered = covered_days(arrivals, n_days, window)
        # hits[k] = departures covered after shifting the departure series by k days (mod n)
        counts = np.bincount(departures, minlength=n_days)
        hits += np.array([np.dot(np.roll(counts, k), covered) for k in shifts])
    observed = hits[0] / total
    null = hits[1:] / total
    p_value = (1 + int(np.sum(null >= observed - 1e-12))) / (1 + len(null))
    return {
        "test": "circular-shift permutation",
        "p_value": round(float(p_value), 6),
        "observed_within_window": round(float(observed), 6),
        "expected_within_window": round(float(null.mean()), 6),
        "expected_interval": [round(float(np.quantile(null, 0.025)), 6), round(float(np.quantile(null, 0.975)), 6)],
        "permutations": int(len(null)),
        "shipments": int(total),
    }


def lag_histogram(per_port: list[tuple[np.ndarray, np.ndarray]], n_days: int, max_lag: int) -> list[dict[str, Any]]:
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
    return [{"lag_days": i, "observed": int(observed[i]), "expected": round(float(expected[i]), 3)} for i in range(max_lag + 1)]


def compute(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> dict[str, Any]:
    rows = con.execute(
        """SELECT origin_port_locode AS port, departed_on FROM shipments_of_interest
           WHERE origin_port_locode IS NOT NULL"""
    ).fetchall()
    arrivals = con.execute("SELECT port_locode, arrival_day FROM arrivals").fetchall()
    if not rows:
        return shift_test([], 0, settings.window_days) | {"lag_histogram": []}
    days = [d for _, d in rows] + [d for _, d in arrivals]
    start, end = min(days), max(days)
    n_days = (end - start).days + 1 + settings.window_days
    ports = sorted({p for p, _ in rows})
    per_port = []
    for port in ports:
        dep = np.array([(d - start).days for p, d in rows if p == port], dtype=np.int64)
        arr = np.array(sorted({(d - start).days for p, d in arrivals if p == port}), dtype=np.int64)
        per_port.append((arr, dep))
    result = shift_test(per_port, n_days, settings.window_days)
    result["per_port"] = [
        {"port_locode": port} | shift_test([pp], n_days, settings.window_days) for port, pp in zip(ports, per_port, strict=True)
    ]
    result["period"] = {"start": start.isoformat(), "days": n_days}
    result["lag_histogram"] = lag_histogram(per_port, n_days, max(settings.window_days * 2, 14))
    return result
