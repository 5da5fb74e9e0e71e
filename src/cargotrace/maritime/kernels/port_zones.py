"""The `zone_marks` table (maritime/port_calls.py `_zone_marks`) with NumPy.

Same rules as the SQL: each fix is looked up in the port grid (`port_cells`, by its
0.02-degree cell); in a cell that holds one circle only (`direct`) the fix is in that port's
zone when it is within the circle grown by `port_exit_buffer_km`; in other cells every area
of the cell is measured (circles by great-circle distance, polygons by the even-odd rule and
the distance to their nearest edge in the area's local plane) and the nearest area within
the buffer wins. Zone fixes are then ordered by (vessel, port, seq), and a fix is kept as a
mark when a zone run starts or ends there, the vessel enters the area, its speed decides a
new state, or an AIS gap (in-port, or of `gap_hours`) ends there.

Memory: the per-fix arrays (a few bytes per fix) of one vessel partition (the track's
partition files, when the track kernel wrote it to disk) and, for polygons, (fix, edge)
pairs in blocks of at most `EDGE_BLOCK` pairs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from cargotrace.maritime.kernels import chunks, views
from cargotrace.maritime.kernels.arrays import (
    Flags,
    Floats,
    Ints,
    expand,
    group_starts,
    rank_in_group,
    shift_back,
    shift_forward,
)
from cargotrace.maritime.kernels.partitions import release_memory
from cargotrace.maritime.kernels.track import US_PER_S, timestamps
from cargotrace.maritime.port_areas import CELL_DEG, GRID_TAG
from cargotrace.maritime.port_calls import ISLAND_BREAK
from cargotrace.reference.geodesy import EARTH_RADIUS_KM, KM_PER_DEG, haversine_km
from cargotrace.settings import AnalysisSettings

EDGE_BLOCK = 1_000_000
# the stage's tables as the track kernel's pass makes them (`fused_grid`), and their tag
FUSED = {
    "zone_marks": "track_zone_marks",
    "visits": "track_visits",
    "port_stops": "track_port_stops",
}
FUSED_TAG = "track_zones"
NO_PORT = -1
EXACT_ABOVE_LAT = 70.0  # nearer the poles every distance is a full haversine


def _cell_keys(lat: Floats, lon: Floats) -> Ints:
    """One integer per 0.02-degree cell (y in the high 32 bits, x in the low)."""
    y = np.floor(lat / CELL_DEG).astype(np.int64)
    x = np.floor(lon / CELL_DEG).astype(np.int64)
    return (y << 32) | (x & 0xFFFFFFFF)


def _polygon_distances(
    pair_fix: Ints,
    pair_area: Ints,
    lat: Floats,
    lon: Floats,
    areas: dict[str, NDArray[Any]],
    edges: dict[str, NDArray[Any]],
) -> Floats:
    """Signed distance (km, negative inside) from each (fix, polygon area) pair to the area:
    even-odd crossings over all the area's rings, and the nearest edge, in the area's local
    plane — the SQL's formulas, evaluated on (pair, edge) blocks of bounded size."""
    counts = edges["count"][pair_area]
    out = np.empty(len(pair_fix))
    ref_lat, ref_lon = areas["ref_lat"][pair_area], areas["ref_lon"][pair_area]
    px_all = (lon[pair_fix] - ref_lon) * KM_PER_DEG * np.cos(np.radians(ref_lat))
    py_all = (lat[pair_fix] - ref_lat) * KM_PER_DEG
    ends = np.cumsum(counts)
    begin = 0
    while begin < len(pair_fix):
        stop = int(np.searchsorted(ends, ends[begin] - counts[begin] + EDGE_BLOCK, side="right"))
        stop = max(stop, begin + 1)
        c = counts[begin:stop]
        pair = np.repeat(np.arange(stop - begin), c)
        offsets = np.cumsum(c) - c
        edge = expand(edges["start"][pair_area[begin:stop]], c)
        px, py = px_all[begin:stop][pair], py_all[begin:stop][pair]
        x1, y1, x2, y2 = (edges[k][edge] for k in ("x1", "y1", "x2", "y2"))
        dx, dy = x2 - x1, y2 - y1
        length2 = dx * dx + dy * dy
        with np.errstate(divide="ignore", invalid="ignore"):
            seg = np.where(length2 == 0, 0.0, ((px - x1) * dx + (py - y1) * dy) / length2)
            seg = np.maximum(0.0, np.minimum(1.0, seg))
            distance = np.sqrt((px - (x1 + seg * dx)) ** 2 + (py - (y1 + seg * dy)) ** 2)
            straddles = (y1 > py) != (y2 > py)
            crossing = straddles & (px < dx * (py - y1) / dy + x1)
        nearest = np.minimum.reduceat(distance, offsets)
        odd = np.add.reduceat(crossing.astype(np.int64), offsets) % 2 == 1
        out[begin:stop] = np.where(odd, -nearest, nearest)
        begin = stop
    return out


class PortGrid:
    """The port grid (`port_cells`, `port_areas`, `port_edges`) as sorted arrays, for lookups
    from many threads at once."""

    def __init__(self, con: duckdb.DuckDBPyConnection, buffer_km: float) -> None:
        cells = con.execute(
            """SELECT c.cell_y, c.cell_x, c.area_id, c.direct, c.port_id, c.lat, c.lon,
                      coalesce(c.radius_km, 0) AS radius_km, a.kind = 'polygon' AS polygon
               FROM port_cells c JOIN port_areas a ON a.area_id = c.area_id"""
        ).fetchnumpy()
        key = (np.asarray(cells["cell_y"], np.int64) << 32) | (
            np.asarray(cells["cell_x"], np.int64) & 0xFFFFFFFF
        )
        order = np.argsort(key, kind="stable")
        self.row = {name: np.asarray(values)[order] for name, values in cells.items()}
        self.keys, self.first_row, self.rows_per_key = np.unique(
            key[order], return_index=True, return_counts=True
        )
        self.buffer_km = buffer_km
        row = self.row
        row["cos_lat"] = np.cos(np.radians(row["lat"]))
        # Between a fix and the circle's centre the flat-earth distance (longitudes scaled by
        # the cosine at the centre) differs from the haversine by less than this share: the
        # cosine changes by at most tan(lat) * dlat across the cell's reach, and the
        # curvature adds (reach / R)^2. Fixes that close to a threshold get the haversine.
        reach = row["radius_km"] + buffer_km + 2 * CELL_DEG * KM_PER_DEG
        dlat = reach / EARTH_RADIUS_KM
        steep = np.tan(np.radians(np.minimum(np.abs(row["lat"]) + np.degrees(dlat), 89.0)))
        row["band_km"] = 4 * (steep * dlat + dlat * dlat) * reach + 1e-6
        row["exact"] = np.abs(row["lat"]) > EXACT_ABOVE_LAT
        row["band_km"][row["exact"]] = np.inf  # near the poles: always the haversine
        self.areas, self.edges = _polygons(con) if row["polygon"].any() else ({}, {})
        self.single = self._single_rows()

    def _single_rows(self) -> Ints:
        """Per cell: the row that alone decides for every point of the cell, or -1.

        A `direct` cell has one circle. A cell of several circles is decided by one of them
        when that circle's distance (minus its radius) is, everywhere in the cell, less
        than every other circle's: the nearest area within the buffer is then always that
        one, or none. Bounds from the cell's nearest and farthest points, widened by the
        flat-earth error; cells with a polygon, or across the antimeridian, stay shared."""
        r = self.row
        key_of_row = np.repeat(np.arange(len(self.keys)), self.rows_per_key)
        y0, x0 = r["cell_y"] * CELL_DEG, r["cell_x"] * CELL_DEG
        y1, x1 = y0 + CELL_DEG, x0 + CELL_DEG
        dy_near = np.maximum(0, np.maximum(y0 - r["lat"], r["lat"] - y1))
        dx_near = np.maximum(0, np.maximum(x0 - r["lon"], r["lon"] - x1)) * r["cos_lat"]
        dy_far = np.maximum(np.abs(y0 - r["lat"]), np.abs(y1 - r["lat"]))
        dx_far = np.maximum(np.abs(x0 - r["lon"]), np.abs(x1 - r["lon"])) * r["cos_lat"]
        low = np.hypot(dx_near, dy_near) * KM_PER_DEG - r["radius_km"] - r["band_km"]
        high = np.hypot(dx_far, dy_far) * KM_PER_DEG - r["radius_km"] + r["band_km"]
        unsure = r["polygon"] | r["exact"] | (np.abs(r["lon"] - (x0 + x1) / 2) > 90)
        cell_unsure = np.maximum.reduceat(unsure, self.first_row) if len(unsure) else unsure
        by_low = np.lexsort((low, key_of_row))  # rows of each cell, nearest lower bound first
        nearest = by_low[self.first_row]
        runner_up = by_low[np.minimum(self.first_row + 1, len(by_low) - 1)]
        single = np.where(
            (self.rows_per_key > 1) & ~cell_unsure & (high[nearest] < low[runner_up]), nearest, -1
        )
        return np.where(r["direct"][self.first_row], self.first_row, single)

    def locate(self, lat: Floats, lon: Floats) -> tuple[NDArray[np.int32], Flags]:
        """Per fix: the port whose zone holds it (NO_PORT for none), and whether it is inside
        the area itself (distance <= 0)."""
        port = np.full(len(lat), NO_PORT, np.int32)
        inside = np.zeros(len(lat), bool)
        if len(self.keys) == 0 or len(lat) == 0:
            return port, inside
        # consecutive fixes of a vessel are mostly in one cell: search once per run of a cell
        fix_key = _cell_keys(lat, lon)
        change = group_starts(fix_key)
        run_key = fix_key[change]
        run_at = np.minimum(np.searchsorted(self.keys, run_key), len(self.keys) - 1)
        run_at[self.keys[run_at] != run_key] = -1
        at = run_at[np.cumsum(change) - 1]
        hit_fix = np.flatnonzero(at >= 0)
        at = at[hit_fix]
        single = self.single[at]
        one = single >= 0
        self._direct(lat, lon, hit_fix[one], single[one], port, inside)
        shared = ~one
        if shared.any():
            self._shared(
                lat,
                lon,
                hit_fix[shared],
                self.first_row[at[shared]],
                self.rows_per_key[at[shared]],
                port,
                inside,
            )
        return port, inside

    def _direct(
        self, lat: Floats, lon: Floats, fix: Ints, row: Ints, port: NDArray[np.int32], inside: Flags
    ) -> None:
        """Cells with one circle: flat-earth distance, the haversine near the thresholds."""
        r = self.row
        radius, band = r["radius_km"][row], r["band_km"][row]
        distance = self._flat_km(lat[fix], lon[fix], row)
        outer = radius + self.buffer_km
        exact = (np.abs(distance - radius) <= band) | (np.abs(distance - outer) <= band)
        sure = np.flatnonzero(exact)
        d_out = distance - radius
        d_out[sure] = (
            haversine_km(lat[fix[sure]], lon[fix[sure]], r["lat"][row[sure]], r["lon"][row[sure]])
            - radius[sure]
        )
        near = d_out <= self.buffer_km
        port[fix[near]] = r["port_id"][row[near]]
        inside[fix[near]] = d_out[near] <= 0

    def _flat_km(self, lat: Floats, lon: Floats, row: Ints) -> Floats:
        """Flat-earth distance (km) to the centres of the rows' circles; off by < band_km."""
        r = self.row
        dy = lat - r["lat"][row]
        dx = (lon - r["lon"][row]) * r["cos_lat"][row]
        km: Floats = np.sqrt(dx * dx + dy * dy) * KM_PER_DEG
        return km

    def _shared(
        self,
        lat: Floats,
        lon: Floats,
        fix: Ints,
        first: Ints,
        many: Ints,
        port: NDArray[np.int32],
        inside: Flags,
    ) -> None:
        """Cells with several areas or a polygon: every area measured, the nearest within the
        buffer wins."""
        r = self.row
        pair_fix = np.repeat(fix, many)
        pair_row = expand(first, many)
        offsets = np.cumsum(many) - many
        polygon = r["polygon"][pair_row]
        # circles by the flat distance first (within `band` of the haversine), polygons exactly
        band = np.where(polygon, 0.0, r["band_km"][pair_row])
        d_out = np.full(len(pair_fix), np.inf)
        circle = np.flatnonzero(~polygon)
        c = pair_row[circle]
        d_out[circle] = (
            self._flat_km(lat[pair_fix[circle]], lon[pair_fix[circle]], c) - r["radius_km"][c]
        )
        shaped = np.flatnonzero(polygon)
        if len(shaped):
            area = r["area_id"][pair_row[shaped]].astype(np.int64)
            has_edges = (
                self.edges["count"][area] > 0
            )  # no edges: holds nothing (the SQL's inner join)
            keep = shaped[has_edges]
            d_out[keep] = _polygon_distances(
                pair_fix[keep], area[has_edges], lat, lon, self.areas, self.edges
            )
        # a circle can only win if it may lie within the buffer and may be the nearest; the
        # haversine decides where several may, or where one may but its side of 0 or of the
        # buffer is in doubt; an area that cannot win is out
        low = d_out - band
        upper = np.where(low <= self.buffer_km, d_out + band, np.inf)
        contender = (low <= self.buffer_km) & (
            low <= np.repeat(np.minimum.reduceat(upper, offsets), many)
        )
        rivals = np.repeat(np.add.reduceat(contender.astype(np.int32), offsets), many) > 1
        doubt = (np.abs(d_out) <= band) | (np.abs(d_out - self.buffer_km) <= band) | rivals
        exact = np.flatnonzero(contender & ~polygon & doubt)
        c, f = pair_row[exact], pair_fix[exact]
        d_out[exact] = haversine_km(lat[f], lon[f], r["lat"][c], r["lon"][c]) - r["radius_km"][c]
        # per fix (its pairs are contiguous): the least distance within the buffer, and of the
        # areas at that distance the lower port_id
        d_out[~contender | (d_out > self.buffer_km)] = np.inf
        least = np.minimum.reduceat(d_out, offsets)
        tied = d_out == np.repeat(least, many)
        pair_port = np.where(tied, r["port_id"][pair_row], np.iinfo(np.int32).max)
        best_port = np.minimum.reduceat(pair_port, offsets)
        found = np.isfinite(least)
        port[fix[found]] = best_port[found]
        inside[fix[found]] = least[found] <= 0


def _polygons(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[str, NDArray[Any]], dict[str, NDArray[Any]]]:
    """Per area id: ref_lat/ref_lon; per area id: its edges' start and count in the edge arrays."""
    a = con.execute("SELECT area_id, ref_lat, ref_lon FROM port_areas").fetchnumpy()
    size = int(np.max(a["area_id"])) + 1 if len(a["area_id"]) else 0
    areas = {k: np.zeros(size) for k in ("ref_lat", "ref_lon")}
    for k in areas:
        areas[k][np.asarray(a["area_id"])] = np.asarray(a[k], np.float64)
    e = con.execute("SELECT area_id, x1, y1, x2, y2 FROM port_edges ORDER BY area_id").fetchnumpy()
    edges: dict[str, NDArray[Any]] = {
        k: np.asarray(e[k], np.float64) for k in ("x1", "y1", "x2", "y2")
    }
    edges["count"] = np.bincount(np.asarray(e["area_id"], np.int64), minlength=size)[:size]
    edges["start"] = np.cumsum(edges["count"]) - edges["count"]
    return areas, edges


def _vessel_chunks(con: duckdb.DuckDBPyConnection) -> Iterator[list[pa.Table | pa.RecordBatch]]:
    """The track in chunks of whole vessels sorted by (vid, seq), a vessel partition at a
    time: the track kernel's own chunks, its partition files, or the SQL-built track read
    back in that order."""
    table = views.published(con, "track")
    files = views.published_files(con, "track")
    if table is not None:
        yield table.to_batches() or [table.slice(0, 0)]
    elif files is not None:
        for file in files:
            yield _aligned(pq.read_table(file, columns=["vid", "seq", "ts", "lat", "lon", "sog"]))
    else:
        yield _aligned(
            con.execute(
                "SELECT vid, seq, ts, lat, lon, sog FROM track ORDER BY vid, seq"
            ).to_arrow_table()
        )


def _aligned(table: pa.Table) -> list[pa.Table | pa.RecordBatch]:
    """A table sorted by vessel, cut between vessels into parts of about CHUNK_ROWS fixes."""
    vid = table.column("vid").to_numpy()
    parts: list[pa.Table | pa.RecordBatch] = [
        table.slice(s.start, s.stop - s.start) for s in chunks.aligned_slices(vid)
    ]
    return parts or [table.slice(0, 0)]  # no fixes: one empty part, for the tables' columns


@dataclass
class Zones:
    """A part's zone marks, visits and stops in port (the tables of the port zones stage)."""

    marks: pa.RecordBatch
    visits: pa.RecordBatch
    stops: pa.RecordBatch


def _zones(part: pa.Table | pa.RecordBatch, grid: PortGrid, settings: AnalysisSettings) -> Zones:
    vid = np.asarray(part.column("vid").to_numpy(zero_copy_only=False), np.int64)
    lat = part.column("lat").to_numpy(zero_copy_only=False)
    lon = part.column("lon").to_numpy(zero_copy_only=False)
    port, inside = grid.locate(lat, lon)

    zone = np.flatnonzero(port != NO_PORT)  # in (vid, seq) order
    # window: PARTITION BY vid, port_id ORDER BY seq (a stable sort keeps seq order)
    partition = (np.cumsum(group_starts(vid)) - 1)[zone] * (int(port.max(initial=0)) + 1) + port[
        zone
    ]
    by_partition = np.argsort(partition, kind="stable")
    zone, partition = zone[by_partition], partition[by_partition]
    seq = np.asarray(part.column("seq").to_numpy(zero_copy_only=False), np.int64)
    part_first = group_starts(partition)
    part_last = shift_forward(part_first, True)
    zone_seq = seq[zone]
    ts_all = part.column("ts").cast(pa.int64()).to_numpy(zero_copy_only=False)
    ts = ts_all[zone]
    has_prev = zone_seq > 1
    prev_ts = ts_all[np.maximum(zone - 1, 0)]
    elapsed = np.where(has_prev, ts - prev_ts, 0)
    # a silence longer than port_gap_max_days ends a zone run (port_calls._zone_marks)
    long_before = has_prev & (elapsed > settings.port_gap_max_days * 86400 * US_PER_S)
    breaks = np.cumsum(long_before)
    breaks = breaks - (breaks - long_before)[np.flatnonzero(part_first)][np.cumsum(part_first) - 1]
    island = zone_seq - rank_in_group(part_first) + ISLAND_BREAK * breaks
    run_start = part_first | (shift_back(zone_seq) != zone_seq - 1) | long_before
    run_end = (
        part_last | (shift_forward(zone_seq) != zone_seq + 1) | shift_forward(long_before, False)
    )

    sog = part.column("sog").to_numpy(zero_copy_only=False)[zone]  # null as NaN: no decision
    v = np.where(
        sog < settings.stop_begin_kn, 1, np.where(sog > settings.stop_end_kn, 0, -1)
    ).astype(np.int8)
    zone_inside = inside[zone]
    has_next = vid[np.minimum(zone + 1, len(vid) - 1)] == vid[zone]
    has_next[zone == len(vid) - 1] = False
    next_ts = ts_all[np.minimum(zone + 1, len(ts_all) - 1)]
    port_gap = ~run_start & (elapsed >= settings.port_gap_hours * 3600 * US_PER_S)
    keep = (
        run_start
        | run_end
        | (zone_inside & ~shift_back(zone_inside) & ~part_first)
        | ((v >= 0) & (part_first | (shift_back(v) != v)))
        | port_gap
        | (has_prev & (elapsed >= settings.gap_hours * 3600 * US_PER_S))
    )
    marks = zone[keep]
    zone_marks = pa.record_batch(
        {
            "vid": vid[marks],
            "port_id": port[marks],
            "island": island[keep],
            "seq": zone_seq[keep],
            "ts": timestamps(ts[keep]),
            "prev_ts": timestamps(prev_ts[keep], ~has_prev[keep]),
            "next_ts": timestamps(next_ts[keep], ~has_next[keep]),
            "inside": zone_inside[keep],
            "v": pa.array(v[keep].astype(np.int32), mask=v[keep] < 0),
            "run_start": run_start[keep],
            "run_end": run_end[keep],
            "port_gap": port_gap[keep],
        }
    )

    # visits (port_calls._visits): a zone run with a fix inside the area, from that fix on
    run = np.cumsum(run_start) - 1
    starts, ends = np.flatnonzero(run_start), np.flatnonzero(run_end)
    at_inside = np.flatnonzero(zone_inside)
    first_inside = at_inside[group_starts(run[at_inside])]  # each run's first fix inside
    visited = run[first_inside]  # the runs that are visits, ascending
    last = ends[visited]
    visits = pa.record_batch(
        {
            "vid": vid[zone[first_inside]],
            "port_id": port[zone[first_inside]],
            "island": island[first_inside],
            "first_seq": zone_seq[first_inside],
            "last_seq": zone_seq[last],
            "first_ts": timestamps(ts[first_inside]),
            "before_ts": timestamps(prev_ts[first_inside], ~has_prev[first_inside]),
            "last_ts": timestamps(ts[last]),
            "after_ts": timestamps(next_ts[last], ~has_next[last]),
        }
    )

    # stops in port (port_calls._port_stops): where the decisive speeds of a run turn to
    # stopped, to the fix before they turn back to moving (or the run's last fix)
    decisive = np.flatnonzero(v >= 0)
    same_run = ~group_starts(run[decisive])
    before = np.where(same_run, shift_back(v[decisive], -1), -1)
    turns = ((v[decisive] == 1) & (before != 1)) | ((v[decisive] == 0) & (before == 1))
    change = decisive[turns]
    has_end = shift_forward(run[change], -1) == run[change]
    end = np.minimum(np.arange(1, len(change) + 1), max(len(change) - 1, 0))
    begins = np.flatnonzero(v[change] == 1)
    stop_run = run[change[begins]]
    visit_of_run = np.full(len(starts), -1)
    visit_of_run[visited] = np.arange(len(visited))
    visit = visit_of_run[stop_run]
    ended = has_end[begins]
    end_at = change[end[begins]]
    last_seq = np.where(ended, zone_seq[end_at] - 1, zone_seq[ends[stop_run]])
    last_ts = np.where(ended, prev_ts[end_at], ts[ends[stop_run]])
    visit_first_seq = np.append(zone_seq[first_inside], 0)  # index -1: no visit
    valid = (visit >= 0) & (last_seq >= visit_first_seq[visit])
    begin_at = change[begins][valid]
    stops = pa.record_batch(
        {
            "vid": vid[zone[begin_at]],
            "port_id": port[zone[begin_at]],
            "island": island[begin_at],
            "begin_seq": zone_seq[begin_at],
            "begin_ts": timestamps(ts[begin_at]),
            "last_seq": last_seq[valid],
            "last_ts": timestamps(last_ts[valid]),
        }
    )
    return Zones(marks=zone_marks, visits=visits, stops=stops)


def fused_grid(
    con: duckdb.DuckDBPyConnection, settings: AnalysisSettings
) -> tuple[PortGrid, object] | None:
    """The port grid for the track kernel's pass, when this analysis has built the port
    tables already (the port_areas stage runs first), with the tag to leave on its tables."""
    made = views.tag(con, GRID_TAG)
    if made is None:
        return None
    return PortGrid(con, settings.port_exit_buffer_km), (settings, made)


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    """The stage's tables: the ones the track kernel's pass made from the current port grid
    with these settings (published under the stage's names), else from the track."""
    made = views.tag(con, GRID_TAG)
    if made is not None and views.tag(con, FUSED_TAG) == (settings, made):
        for name, fused in FUSED.items():
            table = views.published(con, fused)
            if table is not None:
                views.publish(con, name, table)
            else:
                views.publish_files(con, name, views.published_files(con, fused) or [])
        return
    grid = PortGrid(con, settings.port_exit_buffer_km)
    to_disk = views.published_files(con, "track") is not None
    sinks = {
        name: views.Sink(con, name, to_disk=to_disk)
        for name in ("zone_marks", "visits", "port_stops")
    }
    for parts in _vessel_chunks(con):
        done = chunks.map_parts(lambda part: _zones(part, grid, settings), parts)
        sinks["zone_marks"].add([z.marks for z in done])
        sinks["visits"].add([z.visits for z in done])
        sinks["port_stops"].add([z.stops for z in done])
        del parts, done  # this partition's arrays go before the next one's are read
        release_memory()
    for sink in sinks.values():
        sink.publish()
