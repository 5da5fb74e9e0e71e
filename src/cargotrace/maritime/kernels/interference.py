"""The per-vessel halves of the interference stage (maritime/interference.py) with NumPy, in
the track kernel's pass over the vessels.

Two pure functions of one vessel-sorted part's arrays (the Spark engine can call them in
`mapInArrow` too), over every valid position (spoofed ones included, as in the SQL):
`jumps`, the rows of `interference.jumps_sql` (each impossible step between consecutive
fixes of one MMSI, from the jumps the track kernel finds anyway), and `shapes`, the rows of
`interference.shapes_sql` (per MMSI and UTC hour with at least `circling_min_fixes` fixes:
centre, radius, spread, resultant) that pass the circling rule. The track kernel publishes
them as `JUMPS` and `SHAPES`; `build`, the interference stage's kernel, runs the stage's
SQL for the rest (rounding and the rule again in `interference.circling_sql`, the cells and
hours in `interference.cell_statements`). Sums run in time order, DuckDB's in its own: the
raw figures can differ in the last bit.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from cargotrace.maritime import interference
from cargotrace.maritime.kernels import views
from cargotrace.maritime.kernels.arrays import Flags, Floats, Ints, expand, group_starts
from cargotrace.reference.geodesy import KM_PER_DEG
from cargotrace.settings import AnalysisSettings

JUMPS = "track_position_jumps"  # written by the track kernel, read by `build`
SHAPES = "track_circling_shapes"
TIMESTAMP = pa.timestamp("us", tz="UTC")
US_PER_HOUR = 3_600_000_000
JUMP_SCHEMA = pa.schema(
    [("mmsi", pa.int64()), ("ts", TIMESTAMP), ("lat", pa.float64()), ("lon", pa.float64()),
     ("prev_ts", TIMESTAMP), ("prev_lat", pa.float64()), ("prev_lon", pa.float64())]
)  # fmt: skip
SHAPE_SCHEMA = pa.schema(
    [("mmsi", pa.int64()), ("hour_start", TIMESTAMP), ("fixes", pa.int64()),
     ("lat", pa.float64()), ("lon", pa.float64()), ("radius_km", pa.float64()),
     ("spread_km", pa.float64()), ("resultant", pa.float64())]
)  # fmt: skip


def rules(settings: AnalysisSettings) -> tuple[float, ...]:
    """The settings `jumps` and `shapes` depend on: rows made with others are not reused."""
    return (
        settings.jump_min_km,
        settings.max_speed_kn,
        settings.circling_min_fixes,
        settings.circling_min_radius_km,
        settings.circling_max_radius_km,
    )


def jumps(mmsi: Ints, ts_us: Ints, lat: Floats, lon: Floats, jump: Flags) -> pa.RecordBatch:
    """The impossible steps: `jump[i]` (track kernel's `steps` over every valid fix of the
    MMSI, sorted as the track) marks the step from fix i - 1 to fix i."""
    at = np.flatnonzero(jump)
    return pa.RecordBatch.from_arrays(
        [pa.array(mmsi[at].astype(np.int64)), pa.array(ts_us[at], TIMESTAMP),
         pa.array(lat[at]), pa.array(lon[at]),
         pa.array(ts_us[at - 1], TIMESTAMP), pa.array(lat[at - 1]), pa.array(lon[at - 1])],
        schema=JUMP_SCHEMA,
    )  # fmt: skip


def shapes(
    mmsi: Ints, ts_us: Ints, lat: Floats, lon: Floats, settings: AnalysisSettings
) -> pa.RecordBatch:
    """The circling vessel-hours, unrounded, of fixes sorted by (MMSI, time), whole MMSIs."""
    hour = ts_us // US_PER_HOUR  # floor: date_trunc('hour', ...) in UTC
    starts = np.flatnonzero(group_starts(mmsi) | group_starts(hour))
    counts = np.diff(np.append(starts, len(hour)))
    enough = counts >= settings.circling_min_fixes
    if enough.any():
        enough &= _spans_km(lat, lon, starts) >= settings.circling_min_radius_km * (1 - 1e-6)
    if not enough.any():
        return pa.RecordBatch.from_pylist([], schema=SHAPE_SCHEMA)
    starts, counts = starts[enough], counts[enough]
    offsets = np.cumsum(counts) - counts
    rows = expand(starts, counts)
    fix_lat, fix_lon = lat[rows], lon[rows]
    c_lat = np.add.reduceat(fix_lat, offsets) / counts
    c_lon = np.add.reduceat(fix_lon, offsets) / counts
    # the SQL's order of operations: (lon - c_lon) * KM_PER_DEG * cos(radians(c_lat))
    dx_km = (
        (fix_lon - np.repeat(c_lon, counts))
        * KM_PER_DEG
        * np.repeat(np.cos(np.radians(c_lat)), counts)
    )
    dy_km = (fix_lat - np.repeat(c_lat, counts)) * KM_PER_DEG
    r_km = np.sqrt(dx_km * dx_km + dy_km * dy_km)
    radius_km = np.add.reduceat(r_km, offsets) / counts
    deviation = r_km - np.repeat(radius_km, counts)
    spread_km = np.sqrt(np.add.reduceat(deviation * deviation, offsets) / counts)
    outward = r_km > 0
    safe = np.where(outward, r_km, 1.0)
    ux = np.add.reduceat(np.where(outward, dx_km / safe, 0.0), offsets) / counts
    uy = np.add.reduceat(np.where(outward, dy_km / safe, 0.0), offsets) / counts
    resultant = np.sqrt(ux**2 + uy**2)
    circling = (
        (radius_km >= settings.circling_min_radius_km)
        & (radius_km <= settings.circling_max_radius_km)
        & (spread_km <= interference.CIRCLE_MAX_SPREAD * radius_km)
        & (resultant <= interference.CIRCLE_MAX_RESULTANT)
    )
    # a margin of a millionth on each test: the SQL applies the rule again to these rows, so
    # a vessel-hour whose sums differ in the last bit is decided alike
    near = (
        (radius_km >= settings.circling_min_radius_km * (1 - 1e-6))
        & (radius_km <= settings.circling_max_radius_km * (1 + 1e-6))
        & (spread_km <= interference.CIRCLE_MAX_SPREAD * radius_km * (1 + 1e-6))
        & (resultant <= interference.CIRCLE_MAX_RESULTANT * (1 + 1e-6))
    )
    keep = np.flatnonzero(circling | near)
    return pa.RecordBatch.from_arrays(
        [pa.array(mmsi[starts[keep]].astype(np.int64)),
         pa.array(hour[starts[keep]] * US_PER_HOUR, TIMESTAMP),
         pa.array(counts[keep].astype(np.int64)), pa.array(c_lat[keep]), pa.array(c_lon[keep]),
         pa.array(radius_km[keep]), pa.array(spread_km[keep]), pa.array(resultant[keep])],
        schema=SHAPE_SCHEMA,
    )  # fmt: skip


def _spans_km(lat: Floats, lon: Floats, starts: Ints) -> Floats:
    """Per run of fixes (contiguous, from `starts`): an upper bound of the distance from any
    of its fixes to their centre as `shapes` measures it (the diagonal of the run's box of
    latitudes and longitudes, longitudes at full scale, plus a millimetre for rounding), so of
    its radius: a run whose bound is under the least radius cannot be circling, and its
    sums are not worked out (a vessel at its berth or at anchor: most vessel-hours)."""
    if len(starts) == 0:
        return np.zeros(0)
    dlat = np.maximum.reduceat(lat, starts) - np.minimum.reduceat(lat, starts)
    dlon = np.maximum.reduceat(lon, starts) - np.minimum.reduceat(lon, starts)
    bound: Floats = np.sqrt(dlat * dlat + dlon * dlon) * KM_PER_DEG * (1 + 1e-9) + 1e-6
    return bound


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    """The interference stage from the jumps and vessel-hours the track kernel found; the
    stage's SQL when the track was not built by the kernel with these settings."""
    if views.tag(con, JUMPS) != rules(settings) or views.tag(con, SHAPES) != rules(settings):
        for statement in interference.statements(settings):
            con.execute(statement)
        return
    columns = ", ".join(JUMP_SCHEMA.names)
    con.execute(f"CREATE OR REPLACE TEMP TABLE position_jumps AS SELECT {columns} FROM {JUMPS}")
    shape_columns = ", ".join(SHAPE_SCHEMA.names)
    con.execute(
        interference.circling_sql(settings, f"shape AS (SELECT {shape_columns} FROM {SHAPES})")
    )
    for statement in interference.cell_statements(settings):
        con.execute(statement)
