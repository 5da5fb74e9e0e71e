"""The runs of slow fixes of the loitering stage (maritime/loitering.py) with NumPy, in the
track kernel's pass over the vessels.

`runs` is a pure function of one vessel-sorted part's arrays (the Spark engine can call it
in `mapInArrow` too): the rows of `loitering.runs_sql` (every run of consecutive fixes of
one MMSI slower than `loitering_max_sog_kn`, with no AIS gap of `gap_hours` inside, lasting
at least `loitering_min_hours`), from the fixes the track keeps (spoofed fixes out). The
track kernel (kernels/track.py) calls it on each part while the part is sorted in memory
and publishes the rows as `RUNS`; `build`, the loitering stage's kernel, runs the stage's
SQL for the rest (`loitering.candidates_sql`: the distance from ports) over them. Times are
compared as integer microseconds (as in the track kernel). Means are summed in time order,
DuckDB's in its own: they can differ in the last bit.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from cargotrace.maritime import loitering
from cargotrace.maritime.kernels import views
from cargotrace.maritime.kernels.arrays import Floats, Ints, expand, group_starts
from cargotrace.settings import AnalysisSettings

RUNS = "track_loitering_runs"  # written by the track kernel, read by `build`
TIMESTAMP = pa.timestamp("us", tz="UTC")
US_PER_S = 1_000_000
SCHEMA = pa.schema(
    [("mmsi", pa.int64()), ("started_at", TIMESTAMP), ("ended_at", TIMESTAMP),
     ("fixes", pa.int64()), ("lat", pa.float64()), ("lon", pa.float64()),
     ("median_sog_kn", pa.float64())]
)  # fmt: skip


def rules(settings: AnalysisSettings) -> tuple[float, ...]:
    """The settings `runs` depends on: rows made with others are not reused."""
    return (settings.loitering_max_sog_kn, settings.gap_hours, settings.loitering_min_hours)


def runs(
    mmsi: Ints, ts_us: Ints, lat: Floats, lon: Floats, sog: Floats, settings: AnalysisSettings
) -> pa.RecordBatch:
    """The long runs of slow fixes in fixes sorted by (MMSI, time, lat, lon, speed with NaN
    last), whole MMSIs, times in microseconds, a missing speed NaN."""
    slow = sog < settings.loitering_max_sog_kn  # NaN: not slow
    at = np.flatnonzero(slow)
    if len(at) == 0:
        return _empty()
    first = group_starts(mmsi)
    elapsed_us = np.zeros(len(ts_us), np.int64)
    np.subtract(ts_us[1:], ts_us[:-1], out=elapsed_us[1:])
    breaks = first | (elapsed_us >= settings.gap_hours * 3600 * US_PER_S)
    # a slow fix starts a run when it breaks one itself (first fix, after a gap) or follows
    # a fix that is not slow
    starts_run = breaks[at]
    starts_run[0] = True
    starts_run[1:] |= at[1:] != at[:-1] + 1
    starts = np.flatnonzero(starts_run)
    counts = np.diff(np.append(starts, len(at)))
    began, ended = ts_us[at[starts]], ts_us[at[starts + counts - 1]]
    long = (ended - began) >= settings.loitering_min_hours * 3600 * US_PER_S
    if not long.any():
        return _empty()
    starts, counts, began, ended = starts[long], counts[long], began[long], ended[long]
    rows = at[expand(starts, counts)]  # the fixes of the long runs, run after run
    offsets = np.cumsum(counts) - counts
    run = np.repeat(np.arange(len(starts)), counts)
    speeds = sog[rows][np.lexsort((sog[rows], run))]
    low, high = speeds[offsets + (counts - 1) // 2], speeds[offsets + counts // 2]
    return pa.RecordBatch.from_arrays(
        [
            pa.array(mmsi[at[starts]].astype(np.int64)),
            pa.array(began, TIMESTAMP),
            pa.array(ended, TIMESTAMP),
            pa.array(counts.astype(np.int64)),
            pa.array(np.add.reduceat(lat[rows], offsets) / counts),
            pa.array(np.add.reduceat(lon[rows], offsets) / counts),
            pa.array(low + (high - low) * 0.5),  # DuckDB's median: lo + (hi - lo) * 0.5
        ],
        schema=SCHEMA,
    )


def _empty() -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=SCHEMA)


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    """`loitering_candidates` from the runs the track kernel found; the stage's SQL when the
    track was not built by the kernel with these settings (then there are none)."""
    if views.tag(con, RUNS) != rules(settings):
        for statement in loitering.statements(settings):
            con.execute(statement)
        return
    columns = loitering.RUN_COLUMNS
    con.execute(loitering.candidates_sql(settings, f"e AS (SELECT {columns} FROM {RUNS})"))
