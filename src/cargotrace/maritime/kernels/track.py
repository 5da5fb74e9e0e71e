"""The `track` table (maritime/track.py) with NumPy, vessel chunk by vessel chunk.

Same rules and columns as the SQL: every fix of every transmitter in time order with its
sequence number, the times of the fixes before and after it, whether the step from the fix
before is impossible (`jump`), and where the fix before was when an AIS gap of at least
`gap_hours` ends at this fix. An MMSI with at least `shared_mmsi_min_jumps` impossible jumps
is split into two transmitters by the parity of the jumps so far, its fixes renumbered per
transmitter, and listed in `shared_mmsi` (mmsi, jumps, first_jump_at, last_jump_at). Before
that, fixes that jump out and straight back leave the track (`spoofed_fixes`, the rule of
`track.spoofed_sql`).

Each chunk of the published table holds whole vessels sorted by (vid, seq): the port zones
kernel works on the same chunks. A case bigger than one vessel partition
(kernels/partitions.py) is worked a partition at a time, its track written to one Parquet
file per partition. Times are compared as integer microseconds (the SQL
compares epoch seconds as doubles: the two can differ only within a microsecond of a
threshold).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cargotrace.maritime.kernels import chunks, views
from cargotrace.maritime.kernels import encounters as encounters_kernel
from cargotrace.maritime.kernels import interference as interference_kernel
from cargotrace.maritime.kernels import loitering as loitering_kernel
from cargotrace.maritime.kernels.arrays import (
    Flags,
    Floats,
    Ints,
    group_starts,
    rank_in_group,
    shift_back,
    shift_forward,
)
from cargotrace.maritime.kernels.partitions import PartitionFiles, cut, vessel_partitions
from cargotrace.maritime.kernels.partitions import partition_count as partitions_of
from cargotrace.reference.geodesy import KM_PER_DEG, KM_PER_NM, haversine_km
from cargotrace.settings import AnalysisSettings

FETCHED = """
    SELECT mmsi, epoch_us(timestamp) AS ts, lat, lon, CAST(sog AS DOUBLE) AS sog FROM positions
    WHERE mmsi IS NOT NULL AND timestamp IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL AND {rows}
"""
# the same with the encounters' bin from DuckDB (Spark's bucket files carry it); the DuckDB
# engine's pass works it out from `ts` (encounters_kernel.bins_of): a sixth fewer bytes to
# spill to the partition files and read back
POSITIONS = FETCHED.replace(
    " FROM positions", f",\n           {encounters_kernel.TBIN} AS tbin FROM positions"
)
TIMESTAMP = pa.timestamp("us", tz="UTC")
US_PER_S = 1_000_000


@dataclass
class Steps:
    """The per-fix columns of fixes sorted by (vid, time)."""

    seq: Ints
    first: Flags  # the transmitter's first fix (no fix before)
    last: Flags  # its last fix (no fix after)
    jump: Flags
    gap: Flags  # an AIS gap of at least gap_hours ends at this fix


def steps(vid: Ints, ts: Ints, lat: Floats, lon: Floats, settings: AnalysisSettings) -> Steps:
    first = group_starts(vid)
    last = shift_forward(first, True)
    elapsed_us = np.zeros(len(ts), np.int64)
    np.subtract(ts[1:], ts[:-1], out=elapsed_us[1:])
    # the SQL's cheap test first, then the haversine on the few steps that pass it
    jump = np.zeros(len(ts), bool)
    moved = np.abs(lat[1:] - lat[:-1]) + np.abs(lon[1:] - lon[:-1])
    at = np.flatnonzero(moved > settings.jump_min_km / KM_PER_DEG) + 1
    at = at[~first[at]]
    step_km = haversine_km(lat[at - 1], lon[at - 1], lat[at], lon[at])
    jump[at] = (step_km > settings.jump_min_km) & (
        step_km * 3600 > settings.max_speed_kn * KM_PER_NM * elapsed_us[at] / US_PER_S
    )
    gap = (elapsed_us >= settings.gap_hours * 3600 * US_PER_S) & ~first
    return Steps(seq=rank_in_group(first), first=first, last=last, jump=jump, gap=gap)


def is_jump(
    lat0: Floats, lon0: Floats, ts0: Ints, lat1: Floats, lon1: Floats, ts1: Ints,
    settings: AnalysisSettings,
) -> Flags:  # fmt: skip
    """`track.jump_sql` for the steps from (lat0, lon0, ts0) to (lat1, lon1, ts1)."""
    out = np.zeros(len(lat0), bool)
    at = np.flatnonzero(
        np.abs(lat1 - lat0) + np.abs(lon1 - lon0) > settings.jump_min_km / KM_PER_DEG
    )
    step_km = haversine_km(lat0[at], lon0[at], lat1[at], lon1[at])
    out[at] = (step_km > settings.jump_min_km) & (
        step_km * 3600 > settings.max_speed_kn * KM_PER_NM * (ts1[at] - ts0[at]) / US_PER_S
    )
    return out


def spoofed(ts: Ints, lat: Floats, lon: Floats, s: Steps, settings: AnalysisSettings) -> Ints:
    """The rows of fixes that jump out and straight back (`track.spoofed_sql`, the rule)."""
    x = np.flatnonzero(s.jump[:-1] & s.jump[1:])  # jumped into, and jumped out of into the next
    p, n = x - 1, x + 1
    ok = ~is_jump(lat[p], lon[p], ts[p], lat[n], lon[n], ts[n], settings)
    has_pp = ~s.first[p]
    pp = np.where(has_pp, p - 1, p)
    ok &= ~has_pp | is_jump(lat[pp], lon[pp], ts[pp], lat[x], lon[x], ts[x], settings)
    has_nn = ~s.last[n]
    nn = np.where(has_nn, n + 1, n)
    ok &= ~has_nn | is_jump(lat[x], lon[x], ts[x], lat[nn], lon[nn], ts[nn], settings)
    return x[ok]


def arrow_column(kind: pa.DataType, values: Ints | Floats, valid: Flags | None = None) -> pa.Array:
    """An Arrow column over the NumPy buffer (shared, not copied), NULL where not `valid`."""
    bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        kind, len(values), [bitmap, pa.py_buffer(np.ascontiguousarray(values))]
    )


def timestamps(values: Ints, null: Flags | None = None) -> pa.Array:
    """Microseconds since the epoch as an Arrow timestamp column (UTC), NULL where `null`."""
    return arrow_column(TIMESTAMP, np.asarray(values, np.int64), None if null is None else ~null)


def vessel_time_order(mmsi: Ints, ts: Ints, lat: Floats, lon: Floats, sog: Floats) -> Ints:
    """An order of the rows by vessel, then time, then latitude, longitude and speed (missing
    speed last): the order of the track's window in the SQL, so fixes of one second are
    ordered alike on every engine and whatever order the feed wrote them in. Vessels come in
    order of first appearance.

    Feeds write fixes in time order, so a stable grouping by vessel is usually enough: the
    MMSIs are numbered by a hash table and grouped by a radix sort (both linear), the time
    order is checked, and only runs of fixes with the same vessel and second are sorted
    further. Otherwise, or with 65,536 vessels or more in the part, a full sort."""
    codes, vessels = pd.factorize(mmsi, sort=False)
    if len(vessels) < 1 << 16:
        order = np.argsort(codes.astype(np.uint16), kind="stable")
        grouped_ts, grouped = ts[order], codes[order]
        same_vessel = grouped[1:] == grouped[:-1]
        if not np.any((grouped_ts[1:] < grouped_ts[:-1]) & same_vessel):
            tied = same_vessel & (grouped_ts[1:] == grouped_ts[:-1])
            if tied.any():
                _order_ties(order, tied, lat, lon, sog)
            return order
    return np.lexsort((sog, lon, lat, ts, codes))


def _order_ties(order: Ints, tied: np.ndarray, lat: Floats, lon: Floats, sog: Floats) -> None:
    """Sort, in place, each run of `order` whose rows share vessel and second (`tied[i]`:
    row i + 1 ties with row i) by latitude, longitude, then speed."""
    in_run = np.zeros(len(order), bool)
    in_run[1:] |= tied
    in_run[:-1] |= tied
    where = np.flatnonzero(in_run)
    run = np.cumsum(~np.concatenate(([False], tied))[where])  # a new run where a row does not tie
    rows = order[where]
    order[where] = rows[np.lexsort((sog[rows], lon[rows], lat[rows], run))]


@dataclass
class Chunk:
    track: pa.RecordBatch
    shared: pa.RecordBatch
    spoofed: pa.RecordBatch
    # for the loitering and interference stages, from the same sorted fixes
    jumps: pa.RecordBatch
    shapes: pa.RecordBatch
    loitering_runs: pa.RecordBatch
    # for the encounters stage: the fixes averaged per vessel and 10-minute bin (None when
    # the rows come without their bin, as on Spark)
    bins: pa.RecordBatch | None = None


def _chunk(
    pieces: list[chunks.Columns], settings: AnalysisSettings, bin_times: bool = False
) -> Chunk:
    """A part's tables; its encounters' bins when its rows carry their bin (`tbin`) or, with
    `bin_times`, from their times."""
    rows = chunks.join_pieces(pieces)  # this part's rows, contiguous: sorted in the caches
    order = vessel_time_order(rows["mmsi"], rows["ts"], rows["lat"], rows["lon"], rows["sog"])
    mmsi, ts, lat, lon, sog = (rows[name][order] for name in ("mmsi", "ts", "lat", "lon", "sog"))
    bins = None
    if "tbin" in rows:
        bins = encounters_kernel.vessel_bins(mmsi, rows["tbin"][order], lat, lon, sog)
    elif bin_times:
        bins = encounters_kernel.vessel_bins(mmsi, encounters_kernel.bins_of(ts), lat, lon, sog)
    vid = mmsi * 10
    s = steps(vid, ts, lat, lon, settings)
    jump_rows = interference_kernel.jumps(mmsi, ts, lat, lon, s.jump)
    shapes = interference_kernel.shapes(mmsi, ts, lat, lon, settings)
    # spoofed fixes leave the track, which is worked out again without them
    out = spoofed(ts, lat, lon, s, settings)
    spoofed_rows = pa.record_batch(
        {
            "vid": vid[out], "mmsi": mmsi[out], "seq": s.seq[out], "ts": timestamps(ts[out]),
            "lat": lat[out], "lon": lon[out],
        }
    )  # fmt: skip
    if len(out):
        keep = np.ones(len(mmsi), bool)
        keep[out] = False
        mmsi, ts, lat, lon, sog = (a[keep] for a in (mmsi, ts, lat, lon, sog))
        vid = mmsi * 10
        s = steps(vid, ts, lat, lon, settings)
    loitering_runs = loitering_kernel.runs(mmsi, ts, lat, lon, sog, settings)
    tx = np.zeros(len(mmsi), np.int32)

    # an MMSI whose track jumps back and forth is split by the parity of its jumps so far
    owner = np.cumsum(s.first) - 1
    jumps_at = np.flatnonzero(s.jump)
    jumps = np.bincount(owner[jumps_at], minlength=int(owner[-1]) + 1 if len(owner) else 0)
    shared_owner = (jumps >= settings.shared_mmsi_min_jumps) & (jumps > 0)
    shared = _shared(mmsi, ts, owner, jumps_at, jumps, shared_owner)
    rows_split = np.flatnonzero(shared_owner[owner])  # whole MMSIs, each a contiguous run
    if len(rows_split):
        jumped = s.jump[rows_split]
        so_far = np.cumsum(jumped)
        starts = np.flatnonzero(s.first[rows_split])
        before: np.ndarray = np.repeat(
            so_far[starts] - jumped[starts], np.diff(np.append(starts, len(rows_split)))
        )
        tx_rows = ((so_far - before) % 2).astype(np.int32)
        # transmitter 0's fixes, then transmitter 1's, per MMSI; time order kept within each
        by_tx = np.argsort(owner[rows_split] * 2 + tx_rows, kind="stable")
        moved = rows_split[by_tx]
        for column in (mmsi, ts, lat, lon, sog):
            column[rows_split] = column[moved]
        tx[rows_split] = tx_rows[by_tx]
        vid = mmsi * 10 + tx
        split = steps(vid[rows_split], ts[rows_split], lat[rows_split], lon[rows_split], settings)
        for name in ("seq", "first", "last", "jump", "gap"):
            getattr(s, name)[rows_split] = getattr(split, name)

    track = pa.record_batch(
        {
            "vid": vid, "mmsi": mmsi, "tx": tx, "seq": s.seq,
            "ts": timestamps(ts), "lat": lat, "lon": lon, "sog": pa.array(sog, mask=np.isnan(sog)),
            "prev_ts": timestamps(shift_back(ts), s.first), "next_ts": timestamps(shift_forward(ts), s.last),
            "jump": s.jump,
            "gap_start_lat": arrow_column(pa.float64(), shift_back(lat), s.gap),
            "gap_start_lon": arrow_column(pa.float64(), shift_back(lon), s.gap),
        }
    )  # fmt: skip
    return Chunk(track, shared, spoofed_rows, jump_rows, shapes, loitering_runs, bins)


def _shared(
    mmsi: Ints, ts: Ints, owner: Ints, jumps_at: Ints, jumps: Ints, shared_owner: Flags
) -> pa.RecordBatch:
    """Per split MMSI: its jump count and the times of its first and last jump."""
    at = jumps_at[shared_owner[owner[jumps_at]]]  # the jumps of split MMSIs, in track order
    firsts = group_starts(owner[at])
    lasts = shift_forward(firsts, True)
    return pa.record_batch(
        {
            "mmsi": mmsi[at[firsts]],
            "jumps": jumps[np.flatnonzero(shared_owner)].astype(np.int64),
            "first_jump_at": timestamps(ts[at[firsts]]),
            "last_jump_at": timestamps(ts[at[lasts]]),
        }
    )


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    """The track and, from the same sorted parts, the per-vessel rows of loitering,
    interference and encounters; with the port tables built already (the port_areas stage
    runs before this one), the port zones stage's tables too, from each part's track while
    it is in the caches (port_zones.FUSED)."""
    from cargotrace.maritime.kernels import port_zones  # it imports this module

    partitions = partitions_of(con)
    fused = port_zones.fused_grid(con, settings)
    zones = {
        name: views.Sink(con, name, to_disk=partitions > 1) for name in port_zones.FUSED.values()
    }
    track = views.Sink(con, "track", to_disk=partitions > 1)
    shared = views.Sink(con, "shared_mmsi", to_disk=False)  # a row per split MMSI: small
    spoofed_fixes = views.Sink(con, "spoofed_fixes", to_disk=False)  # few
    # events or candidates of events (vessel-hours on a circle, runs of 4 hours): few
    jumps = views.Sink(con, interference_kernel.JUMPS, to_disk=False)
    shapes = views.Sink(con, interference_kernel.SHAPES, to_disk=False)
    runs = views.Sink(con, loitering_kernel.RUNS, to_disk=False)
    # a third of the positions' rows: in memory for a case of one partition, else cut by bin
    # as they are made, into as many partition files as the positions (the encounters
    # stage pairs the bins of one bin at a time: it reads them a partition at a time)
    bins = views.Sink(con, encounters_kernel.BINS, to_disk=False)
    bin_files = None
    if partitions > 1:
        folder = views.workdir(con) / f"{encounters_kernel.BINS}-partitions"
        bin_files = PartitionFiles(folder, "tbin", partitions)

    to_disk = partitions > 1
    zone_kinds = list(zip(port_zones.FUSED.values(), ("marks", "visits", "stops"), strict=True))

    def work(pieces: list[chunks.Columns]) -> tuple[Chunk, port_zones.Zones | None]:
        chunk = _chunk(pieces, settings, bin_times=True)
        found = None if fused is None else port_zones._zones(chunk.track, fused[0], settings)
        if to_disk:  # the part's per-fix rows written by this worker, as soon as made
            track.put(chunk.track)
            if found is not None:
                for name, kind in zone_kinds:
                    zones[name].put(getattr(found, kind))
            if bin_files is not None and chunk.bins is not None:
                for p, piece in enumerate(cut(chunk.bins, "tbin", partitions)):
                    bin_files.append_here(p, piece)
            chunk.track = chunk.track.slice(0, 0)
            chunk.bins, found = None, None
        return chunk, found

    for parts in vessel_partitions(con, FETCHED, "positions", "mmsi", partitions):
        worked = chunks.map_parts(work, parts)
        done = [c for c, _ in worked]
        if to_disk:
            for sink in (track, *zones.values()):
                sink.end_partition()
            if bin_files is not None:
                bin_files.new_round()
        else:
            if fused is not None:
                for name, kind in zone_kinds:
                    zones[name].add([getattr(z, kind) for _, z in worked if z is not None])
            track.add([c.track for c in done])
            bins.add([c.bins for c in done if c.bins is not None])
        shared.add([c.shared for c in done])
        spoofed_fixes.add([c.spoofed for c in done])
        jumps.add([c.jumps for c in done])
        shapes.add([c.shapes for c in done])
        runs.add([c.loitering_runs for c in done])
        del parts, done, worked  # this partition's arrays go before the next one's
    for sink in (track, shared, spoofed_fixes, jumps, shapes, runs):
        sink.publish()
    if bin_files is None:
        bins.publish()
    else:
        bin_files.close()
        views.keep(con, encounters_kernel.BINS, bin_files)
    if fused is not None:
        for sink in zones.values():
            sink.publish()
        views.set_tag(con, port_zones.FUSED_TAG, fused[1])
    views.set_tag(con, interference_kernel.JUMPS, interference_kernel.rules(settings))
    views.set_tag(con, interference_kernel.SHAPES, interference_kernel.rules(settings))
    views.set_tag(con, loitering_kernel.RUNS, loitering_kernel.rules(settings))
    views.set_tag(con, encounters_kernel.BINS, encounters_kernel.BIN_RULE)
