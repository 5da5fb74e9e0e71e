"""The candidate pairs of the encounters stage (maritime/encounters.py) with NumPy, over
spatial-temporal bins.

Same rules as the SQL: positions averaged per vessel and 10-minute bin, each bin in a cell
(`encounters.own_cell_sql`), a cell holding more than `encounter_max_vessels_per_cell`
vessels in a bin is a crowd and not searched, and every other bin is paired with the bins of
its own cell and of the nearer neighbouring band and cells (four cells), within
`encounter_max_m`. Pairs never span two bins, so the work is partitioned by the bin: the
positions are cut by a hash of the bin number into parts of whole bins (and, above
`CARGOTRACE_PARTITION_FIXES` positions, first into partitions on disk, as the vessel
partitions of the track are: kernels/partitions.py), and each part is binned, celled and
joined on its own, in parallel. Its output is `close_pairs` and the crowded cells; the runs
of bins per pair (`encounters.from_close_pairs`) and the crowd list (`encounters.crowds_sql`)
stay SQL, over those small tables: a run crossing a partition is stitched there.

On the DuckDB engine the averaging is done in the track kernel's pass, which has every
vessel's fixes sorted by time in memory anyway (`vessel_bins`, written as `BINS`): the stage
then reads those bins, a third of the rows, instead of fetching and sorting the positions a
second time; it sums each bin's fixes one after another in time order, as DuckDB's SQL does
over positions ingested in time order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from cargotrace.maritime import encounters
from cargotrace.maritime.kernels import chunks, nearby_ports, views
from cargotrace.maritime.kernels.arrays import expand, group_starts, rank_in_group, sums_in_order
from cargotrace.maritime.kernels.partitions import (
    PartitionFiles,
    cut,
    partition_count,
    vessel_partitions,
)
from cargotrace.reference.geodesy import EARTH_RADIUS_KM
from cargotrace.settings import AnalysisSettings

TBIN = f"CAST(floor(epoch(timestamp) / {encounters.BIN_SECONDS}) AS BIGINT)"
US_PER_BIN = encounters.BIN_SECONDS * 1_000_000
# DuckDB's `epoch` is not the correctly rounded quotient of the microseconds (it can be a
# unit in the last place off): within this many microseconds of a bin edge (not on it) its
# bin is asked of DuckDB itself (`bins_of`)
NEAR_EDGE_US = 1000
POSITIONS = f"""
    SELECT mmsi, {TBIN} AS tbin,
           lat, lon, CAST(sog AS DOUBLE) AS sog FROM positions
    WHERE lat IS NOT NULL AND lon IS NOT NULL AND timestamp IS NOT NULL AND mmsi IS NOT NULL AND {{rows}}
"""
PAIR_SCHEMA = pa.schema(
    [("mmsi_a", pa.int64()), ("mmsi_b", pa.int64()), ("tbin", pa.int64()),
     ("distance_m", pa.float64()), ("lat", pa.float64()), ("lon", pa.float64()), ("sog", pa.float64())]
)  # fmt: skip
CROWD_SCHEMA = pa.schema(
    [("tbin", pa.int64()), ("vessels", pa.int64()), ("lat", pa.float64()), ("lon", pa.float64())]
)
CROWDED = "encounter_crowded_cells"
BINS = "track_encounter_bins"  # written by the track kernel (vessel_bins), read by `build`
BIN_SCHEMA = pa.schema(
    [("mmsi", pa.int64()), ("tbin", pa.int64()), ("lat", pa.float64()), ("lon", pa.float64()),
     ("sog", pa.float64())]
)  # fmt: skip
RUNS = "encounter_runs"  # the stage's table (encounters.encounter_runs_sql), by `runs_of`
RUN_SCHEMA = pa.schema(
    [("mmsi_a", pa.int64()), ("mmsi_b", pa.int64()), ("started_at", pa.timestamp("us", tz="UTC")),
     ("ended_at", pa.timestamp("us", tz="UTC")), ("median_distance_m", pa.float64()),
     ("median_sog_kn", pa.float64()), ("lat", pa.float64()), ("lon", pa.float64()),
     ("bins", pa.int64())]
)  # fmt: skip
NEARBY_PORTS = "encounter_nearby_ports"  # made by `publish_nearby_ports`
BIN_RULE = ("bins", encounters.BIN_SECONDS)  # the tag of BINS: what they were made by
OFFSET = 1 << 17  # cy, cx shifted to non-negative 18-bit fields of the join key
Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


def _band_top(band: Ints, cell: float) -> Floats:
    """`abs(band) * cell + cell` as DuckDB computes it: the literal `cell` is a DECIMAL, so
    the product and sum are exact, then rounded once to a double."""
    numerator, denominator = Decimal(repr(cell)).as_integer_ratio()
    return (np.abs(band) + 1) * numerator / denominator


def _width(band: Ints, cell: float) -> Floats:
    """The longitude width of the cells of each band (encounters._cell_width)."""
    top = np.minimum(_band_top(band, cell), 89.0)
    return cell / np.maximum(np.cos(np.radians(top)), 0.01)


def _distance_m(lat1: Floats, lon1: Floats, lat2: Floats, lon2: Floats) -> Floats:
    """sql.haversine_km * 1000, in the SQL's order of operations."""
    a = (
        np.sin(np.radians(lat2 - lat1) / 2) ** 2
        + np.cos(np.radians(lat1))
        * np.cos(np.radians(lat2))
        * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    km: Floats = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
    return km * 1000


def bins_of(ts_us: Ints) -> Ints:
    """`TBIN` of the times `ts_us` (microseconds since the epoch), as DuckDB computes it,
    without asking DuckDB for most of them: DuckDB's `epoch(timestamp) / 600` is within a few
    units in the last place of the exact quotient, so its floor is the exact floor of
    `ts_us / 600 s` (integer division) except within a hair of a bin edge. A time on an edge
    is a whole number of seconds, which `epoch` gives exactly (tests/test_encounters_kernel.py
    holds DuckDB's bins to these on every edge of two centuries and around them); a time
    within NEAR_EDGE_US of one (AIS times are whole seconds: rare) takes DuckDB's answer,
    from the stage's own expression."""
    ts_us = np.asarray(ts_us, np.int64)
    tbin = ts_us // US_PER_BIN
    offset = ts_us - tbin * US_PER_BIN
    near = np.flatnonzero(
        (offset != 0) & ((offset <= NEAR_EDGE_US) | (offset >= US_PER_BIN - NEAR_EDGE_US))
    )
    if len(near):
        with duckdb.connect() as con:
            con.register("times", pa.table({"us": ts_us[near]}))
            select = (
                f"SELECT {TBIN} AS tbin FROM (SELECT make_timestamptz(us) AS timestamp FROM times)"
            )
            tbin[near] = con.execute(select).fetchnumpy()["tbin"]
    return tbin


def _bins(part: chunks.Columns) -> dict[str, NDArray[Any]]:
    """The part's positions averaged per (bin, vessel), sorted by bin then vessel."""
    tbin, mmsi = part["tbin"].astype(np.int64), part["mmsi"].astype(np.int64)
    order = np.lexsort((mmsi, tbin))
    return bin_means(
        tbin[order],
        mmsi[order],
        part["lat"].astype(np.float64)[order],
        part["lon"].astype(np.float64)[order],
        part["sog"].astype(np.float64)[order],
    )


def vessel_bins(mmsi: Ints, tbin: Ints, lat: Floats, lon: Floats, sog: Floats) -> pa.RecordBatch:
    """The rows of `binned` (mmsi, tbin, mean lat, lon and speed, NaN for no speed) of fixes
    sorted by vessel then time, whole vessels: the track kernel calls it on each part it has
    sorted, so that this stage need not read and sort the positions again."""
    if np.any((tbin[1:] < tbin[:-1]) & (mmsi[1:] == mmsi[:-1])):  # not in time order
        order = np.lexsort((tbin, mmsi))
        mmsi, tbin = mmsi[order], tbin[order]
        lat, lon, sog = lat[order], lon[order], sog[order]
    b = bin_means(tbin, mmsi, lat, lon, sog)
    return pa.RecordBatch.from_arrays([pa.array(b[n]) for n in BIN_SCHEMA.names], schema=BIN_SCHEMA)


def bin_means(
    tbin: Ints, mmsi: Ints, lat: Floats, lon: Floats, sog: Floats
) -> dict[str, NDArray[Any]]:
    """Fixes averaged per (bin, vessel), given fixes grouped by (bin, vessel): each group
    summed one fix after another in the order given, as the SQL's `avg` over fixes in that
    order (`arrays.sums_in_order`; a median speed on a rounding edge depends on the last bit)."""
    start = np.ones(len(tbin), bool)
    start[1:] = (tbin[1:] != tbin[:-1]) | (mmsi[1:] != mmsi[:-1])
    at = np.flatnonzero(start)
    fixes = np.diff(np.append(at, len(tbin)))
    known = ~np.isnan(sog)
    speeds = np.add.reduceat(known.astype(np.int64), at) if len(at) else fixes
    # column by column: NumPy gathers single columns many times faster than rows
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_sog = np.where(
            speeds > 0, sums_in_order(np.where(known, sog, 0.0), at, fixes) / speeds, np.nan
        )
    return {
        "tbin": tbin[at],
        "mmsi": mmsi[at],
        "lat": sums_in_order(lat, at, fixes) / fixes,
        "lon": sums_in_order(lon, at, fixes) / fixes,
        "sog": mean_sog,
    }


def _key(rank: Ints, cy: Ints, cx: Ints) -> Ints:
    return (rank << 36) | ((cy + OFFSET) << 18) | (cx + OFFSET)


def find_pairs(
    part: chunks.Columns, settings: AnalysisSettings
) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    """close_pairs rows and crowded cells of one part of positions (whole bins; the Spark
    engine calls it too, engine/spark_kernels.py)."""
    if len(part["tbin"]) == 0:
        return _empty(PAIR_SCHEMA), _empty(CROWD_SCHEMA)
    return _binned_pairs(_bins(part), settings)


def _pairs_of_bins(
    part: chunks.Columns, settings: AnalysisSettings
) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    """close_pairs rows and crowded cells of one part of `vessel_bins` rows (whole bins)."""
    if len(part["tbin"]) == 0:
        return _empty(PAIR_SCHEMA), _empty(CROWD_SCHEMA)
    order = np.lexsort((part["mmsi"], part["tbin"]))
    return _binned_pairs({name: values[order] for name, values in part.items()}, settings)


def _binned_pairs(
    b: dict[str, NDArray[Any]], settings: AnalysisSettings
) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    """close_pairs rows and crowded cells of bins sorted by (bin, vessel)."""
    cell = encounters.cell_deg(settings)
    lat, lon = b["lat"], b["lon"]
    cy = np.floor(lat / cell).astype(np.int64)
    own_width = _width(cy, cell)
    cx = np.floor(lon / own_width).astype(np.int64)
    rank = np.cumsum(group_starts(b["tbin"])) - 1  # the bins are sorted by bin
    key = _key(rank, cy, cx)
    # crowds: more than encounter_max_vessels_per_cell bins in one (bin, cell)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = group_starts(sorted_key)
    starts = np.flatnonzero(first)
    sizes = np.diff(np.append(starts, len(key)))
    crowded_group = sizes > settings.encounter_max_vessels_per_cell
    in_crowd = np.zeros(len(key), bool)
    in_crowd[order] = np.repeat(crowded_group, sizes)
    crowds = _crowds(b, order, starts, sizes, crowded_group)
    # a: the bins out of crowds, sorted by key (ties in row order: `order` is stable); each
    # of them copied to four cells: its own, the one beside it, and the two in the nearer band
    a = order[~in_crowd[order]]
    a_key = key[a]
    # the cells of `a`: each key once, where its bins start in `a` and how many
    cell_first = group_starts(a_key)
    cell_at = np.flatnonzero(cell_first)
    cell_key = a_key[cell_at]
    cell_size = np.diff(np.append(cell_at, len(a)))
    own = np.cumsum(cell_first) - 1  # the cell of each of `a`
    up = np.where(lat[a] / cell - np.floor(lat[a] / cell) >= 0.5, 1, -1)
    width = own_width[a]
    column = np.floor(lon[a] / width)
    side_own = np.where(lon[a] / width - column >= 0.5, 1, -1)
    # the cell beside: its key is the own key +-1 (cx is far inside its 18 bits), so if it
    # holds bins it is the next (or the previous) cell in `cell_key`; likewise beside the
    # cell in the nearer band, found by one search
    beside = _key(rank[a], cy[a], column.astype(np.int64) + side_own)
    band = cy[a] + up
    width = _width(band, cell)
    column = np.floor(lon[a] / width)
    band_key = _key(rank[a], band, column.astype(np.int64))
    found = np.searchsorted(cell_key, band_key)  # the first cell at or after band_key
    is_there = found < len(cell_key)
    is_there[is_there] = cell_key[found[is_there]] == band_key[is_there]
    side = np.where(lon[a] / width - column >= 0.5, 1, -1)
    band_beside = _key(rank[a], band, column.astype(np.int64) + side)
    looks = [
        (own, a_key),  # the copy in its own cell
        (own + side_own, beside),
        (found, band_key),
        (np.where(side > 0, found + is_there, found - 1), band_beside),
    ]
    lows, counts_of = [], []
    for at, wanted in looks:
        inside = (at >= 0) & (at < len(cell_key))
        hit = np.zeros(len(a), bool)
        hit[inside] = cell_key[at[inside]] == wanted[inside]
        lows.append(np.where(hit, cell_at[np.where(hit, at, 0)] if len(a) else 0, 0))
        counts_of.append(np.where(hit, cell_size[np.where(hit, at, 0)] if len(a) else 0, 0))
    low, counts = np.concatenate(lows), np.concatenate(counts_of)
    b_row = np.tile(a, 4)
    left = a[expand(low, counts)]  # the bins of the cell a copy landed in
    right = np.repeat(b_row, counts)  # the copied bin
    mmsi = b["mmsi"]
    keep = mmsi[left] < mmsi[right]
    left, right = left[keep], right[keep]
    distance = _distance_m(lat[left], lon[left], lat[right], lon[right])
    near = distance <= settings.encounter_max_m
    left, right, distance = left[near], right[near], distance[near]
    sog = b["sog"]
    pairs = pa.RecordBatch.from_arrays(
        [
            pa.array(mmsi[left]), pa.array(mmsi[right]), pa.array(b["tbin"][left]),
            pa.array(distance), pa.array((lat[left] + lat[right]) / 2),
            pa.array((lon[left] + lon[right]) / 2),
            pa.array((np.nan_to_num(sog[left], nan=0.0) + np.nan_to_num(sog[right], nan=0.0)) / 2),
        ],
        schema=PAIR_SCHEMA,
    )  # fmt: skip
    return pairs, crowds


def _crowds(
    b: dict[str, NDArray[Any]], order: Ints, starts: Ints, sizes: Ints, crowded: NDArray[np.bool_]
) -> pa.RecordBatch:
    """One row per crowded (bin, cell): its bin, vessels and mean position."""
    if not crowded.any():
        return _empty(CROWD_SCHEMA)
    lat = np.add.reduceat(b["lat"][order], starts)[crowded] / sizes[crowded]
    lon = np.add.reduceat(b["lon"][order], starts)[crowded] / sizes[crowded]
    return pa.RecordBatch.from_arrays(
        [pa.array(b["tbin"][order][starts][crowded]), pa.array(sizes[crowded].astype(np.int64)),
         pa.array(lat), pa.array(lon)],
        schema=CROWD_SCHEMA,
    )  # fmt: skip


def runs_of(pairs: chunks.Columns, settings: AnalysisSettings) -> pa.RecordBatch:
    """The rows of `encounter_runs` (encounters.encounter_runs_sql, the definition) of
    close pairs (mmsi_a, mmsi_b, tbin, distance_m, lat, lon, sog; in any order, every row of
    a pair): each pair's bins sorted, numbered, and cut where the bin less its number
    changes (the SQL's `tbin - row_number()`); the runs that last long enough, with the
    median distance and speed (DuckDB's: the middle value, or lo + (hi - lo) * 0.5) and the
    mean place (summed in another order than the SQL's: equal to ~1e-15)."""
    a, b = pairs["mmsi_a"].astype(np.int64), pairs["mmsi_b"].astype(np.int64)
    tbin = pairs["tbin"].astype(np.int64)
    if len(tbin) == 0:
        return _empty(RUN_SCHEMA)
    order = np.lexsort((tbin, b, a))
    a, b, tbin = a[order], b[order], tbin[order]
    new_pair = group_starts(a) | group_starts(b)
    run = tbin - rank_in_group(new_pair)
    if np.any((tbin[1:] == tbin[:-1]) & ~new_pair[1:]):  # twice in a bin: a run number may recur
        again = np.lexsort((run, b, a))
        order, a, b, tbin, run = order[again], a[again], b[again], tbin[again], run[again]
    start = new_pair | group_starts(run)
    at = np.flatnonzero(start)
    counts = np.diff(np.append(at, len(tbin)))
    first, last = tbin[at], tbin[at + counts - 1]  # a run's bins ascend
    min_seconds = math.ceil(Decimal(repr(settings.encounter_min_hours)) * 3600)  # exact, as SQL
    long = (last - first + 1) * encounters.BIN_SECONDS >= min_seconds
    at, counts, first, last = at[long], counts[long], first[long], last[long]
    if len(at) == 0:
        return _empty(RUN_SCHEMA)
    source = order[expand(at, counts)]  # the long runs' rows, run after run
    offsets = np.cumsum(counts) - counts
    run_of = np.repeat(np.arange(len(at)), counts)

    def median(name: str) -> Floats:
        values = np.asarray(pairs[name], np.float64)[source]
        ordered = values[np.lexsort((values, run_of))]
        low, high = ordered[offsets + (counts - 1) // 2], ordered[offsets + counts // 2]
        return low + (high - low) * 0.5  # type: ignore[no-any-return]

    def mean(name: str) -> Floats:
        values = np.asarray(pairs[name], np.float64)[source]
        return np.add.reduceat(values, offsets) / counts

    columns = [
        a[at], b[at], first * US_PER_BIN, (last + 1) * US_PER_BIN, median("distance_m"),
        median("sog"), mean("lat"), mean("lon"), counts.astype(np.int64),
    ]  # fmt: skip
    return pa.RecordBatch.from_arrays(
        [pa.array(c, f.type) for c, f in zip(columns, RUN_SCHEMA, strict=True)], schema=RUN_SCHEMA
    )


def _empty(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=schema)


def _columns(table: pa.Table | pa.RecordBatch) -> chunks.Columns:
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.schema.names}


def _bin_partitions(con: duckdb.DuckDBPyConnection) -> Iterator[list[list[chunks.Columns]]]:
    """The track kernel's `vessel_bins` rows (BINS), cut into parts of whole bins: from its
    table in memory, or from the partition files (by bin) it wrote them to."""
    table = views.published(con, BINS)
    if table is None:
        files = views.kept(con, BINS)
        if isinstance(files, PartitionFiles):
            yield from files.read(delete=False)  # kept until release: the stage may run again
        return
    if table.num_rows == 0:
        return
    count = chunks.part_count(table.num_rows)

    def cut(batch: pa.RecordBatch) -> list[chunks.Columns]:
        columns = {
            name: batch.column(name).to_numpy(zero_copy_only=False) for name in batch.schema.names
        }
        return chunks.split_block(columns, "tbin", count)

    done = chunks.map_parts(cut, [b for b in table.to_batches() if b.num_rows])
    yield [[pieces[i] for pieces in done] for i in range(count)]


def build(con: duckdb.DuckDBPyConnection, settings: AnalysisSettings) -> None:
    """The encounters stage with the kernel: `close_pairs` and the crowded cells from the
    bins the track kernel made in its pass (else from the positions), then
    `encounter_crowds` and `encounters` by the stage's SQL."""
    made = views.published(con, BINS) is not None or views.kept(con, BINS) is not None
    if views.tag(con, BINS) == BIN_RULE and made:
        partitions = int(views.published(con, BINS) is None) + 1
        source = _bin_partitions(con)
        pairs_of = _pairs_of_bins
    else:
        partitions = partition_count(con)
        source = vessel_partitions(con, POSITIONS, "positions", "tbin", partitions)
        pairs_of = find_pairs
    pairs = views.Sink(con, "close_pairs", to_disk=partitions > 1)
    crowds: list[pa.RecordBatch] = []
    pairs.add([_empty(PAIR_SCHEMA)])
    # in partitions, the pairs are also cut by a hash of mmsi_a as they are found, into
    # files whose every pair is whole: their runs are found a partition at a time
    pair_files = None
    if partitions > 1:
        pair_files = PartitionFiles(
            views.workdir(con) / "close_pairs-by-pair", "mmsi_a", partitions
        )

    def search(pieces: list[chunks.Columns]) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        found, crowded = pairs_of(chunks.join_pieces(pieces), settings)
        if pair_files is not None and found.num_rows:
            for p, piece in enumerate(cut(found, "mmsi_a", partitions)):
                pair_files.append_here(p, piece)
        return found, crowded

    for parts in source:
        done = chunks.map_parts(search, parts)
        pairs.add([p for p, _ in done if p.num_rows])
        crowds.extend(c for _, c in done if c.num_rows)
        if pair_files is not None:
            pair_files.new_round()
        del parts, done  # this partition's arrays go before the next one's are read
    pairs.publish()
    views.publish(con, CROWDED, pa.Table.from_batches(crowds, CROWD_SCHEMA))
    con.execute(encounters.crowds_sql(f"SELECT tbin, vessels, lat, lon FROM {CROWDED}"))
    runs: list[pa.RecordBatch] = []
    if pair_files is None:
        found = views.published(con, "close_pairs")
        assert found is not None  # published in memory (one partition)
        runs.append(runs_of(_columns(found.combine_chunks()), settings))
    else:
        try:
            for parts in pair_files.read():
                runs += chunks.map_parts(lambda p: runs_of(chunks.join_pieces(p), settings), parts)
        finally:
            pair_files.remove()
    views.publish(con, RUNS, pa.Table.from_batches(runs, RUN_SCHEMA))
    publish_nearby_ports(con)
    con.execute(encounters.encounters_sql(settings, ports=NEARBY_PORTS))


def publish_nearby_ports(con: duckdb.DuckDBPyConnection) -> None:
    """NEARBY_PORTS: per run of `encounter_runs` (its RUN_KEY), the ports that can be its
    nearest (kernels/nearby_ports.py), with their lat and lon."""
    key = ", ".join(encounters.RUN_KEY)
    runs = con.execute(f"SELECT {key}, lat, lon FROM encounter_runs").to_arrow_table()
    ports = con.execute("SELECT lat, lon FROM ports WHERE lat IS NOT NULL").fetchnumpy()

    def floats(values: Any) -> Floats:
        return np.asarray(np.ma.filled(values, np.nan), np.float64)

    event, port = nearby_ports.candidates(
        runs.column("lat").to_numpy(zero_copy_only=False).astype(np.float64),
        runs.column("lon").to_numpy(zero_copy_only=False).astype(np.float64),
        floats(ports["lat"]),
        floats(ports["lon"]),
    )
    taken = runs.select(list(encounters.RUN_KEY)).take(pa.array(event))
    near = taken.append_column("lat", pa.array(floats(ports["lat"])[port])).append_column(
        "lon", pa.array(floats(ports["lon"])[port])
    )
    views.publish(con, NEARBY_PORTS, near)
