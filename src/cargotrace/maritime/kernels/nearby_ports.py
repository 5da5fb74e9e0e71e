"""The ports that can be the nearest to an event at sea, found on a grid of the ports.

The rule (maritime/offshore.py) measures an event against every port within one degree of
latitude of it: the distance to the nearest, and whether any lies within a minimum
distance. As SQL that is a join of every event with every port of its band: it grows with
events × ports (at the scaling benchmark's 100 M positions, 170,000 encounters and 20,000
ports: ~8 of the encounters stage's CPU-seconds). Both answers depend only on the nearest
port(s) of the band, so the kernel hands the SQL, per event, just the ports that can be the
nearest, and the SQL measures those as it would have measured all (same expression, same
rounding; no port within the minimum distance exactly when the nearest is farther).

The ports are put in cells of half a degree; for each event the nine cells around its own
are measured (in NumPy: an estimate, within a millionth of the SQL's distance), giving the
least distance found. Every other port of the band is at least half a degree of longitude
(or of latitude, which is farther) away, and so at least
`2 R asin(sqrt(cos(lat) cos(lat + 1) hav(0.5°)))` away (the haversine's second term alone,
the latitude's cosine at its smallest in the band): when that bound exceeds the least
distance found (with a margin), the nearest is among the ports measured, and the
candidates are those within the margin of the least. The events that this does not settle
are tried again on cells of one degree (a bound of one degree), and the rest (an event far
out at sea, near a pole, or with no port around it) take every port of the band. (One
degree alone measured four times as many ports: ~2 CPU-s at the benchmark's 100 M.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cargotrace.maritime.kernels import chunks
from cargotrace.maritime.kernels.arrays import Floats, Ints, expand
from cargotrace.reference.geodesy import EARTH_RADIUS_KM, haversine_km

BLOCK_EVENTS = 4096  # events worked at a time: their ports around stay in the caches
MARGIN = 1e-6  # relative and in km: the estimate is far closer than this to the SQL's distance
CELL_DEGREES = (0.5, 1.0)  # the grids tried in turn (each event settled by the first that can)


def _cell_x(lon: Floats, degrees: float) -> Ints:
    """The column of each longitude on a grid of `degrees` (180 is -180)."""
    columns = round(360 / degrees)
    return (np.floor((lon + 180) / degrees).astype(np.int64)) % columns


def _key(y: Ints, x: Ints) -> Ints:
    return (y + 1000) * 1000 + x


@dataclass
class _Grid:
    """The ports in cells of `degrees`."""

    degrees: float
    by_cell: Ints  # the ports in order of cell
    cell_keys: Ints  # each cell holding ports once, sorted
    cell_at: Ints  # where its ports start in by_cell
    cell_size: Ints


def _grid(port_lat: Floats, port_lon: Floats, degrees: float) -> _Grid:
    key = _key(np.floor(port_lat / degrees).astype(np.int64), _cell_x(port_lon, degrees))
    by_cell = np.argsort(key, kind="stable")
    cell_keys, cell_at, cell_size = np.unique(key[by_cell], return_index=True, return_counts=True)
    return _Grid(degrees, by_cell, cell_keys, cell_at, cell_size)


def candidates(
    event_lat: Floats, event_lon: Floats, port_lat: Floats, port_lon: Floats
) -> tuple[Ints, Ints]:
    """(event, port) index pairs: for each event, the ports of its band that can be its
    nearest (the SQL's `p.lat BETWEEN lat - 1 AND lat + 1`). Ports without a position are
    never a candidate (the SQL's distance to them is NULL). The ports are put on a grid of
    half a degree first, then of a degree, and each event is settled by the first grid whose
    nine cells around it hold its nearest port, else takes every port of its band. The
    events are worked in blocks of BLOCK_EVENTS on the thread pool."""
    located = np.flatnonzero(~np.isnan(port_lat) & ~np.isnan(port_lon))
    port_lat, port_lon = port_lat[located], port_lon[located]
    n = len(event_lat)
    if n == 0 or len(located) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    grids = [_grid(port_lat, port_lon, degrees) for degrees in CELL_DEGREES]
    by_lat = np.argsort(port_lat, kind="stable")

    def block(first: int) -> tuple[Ints, Ints]:
        events = np.arange(first, min(n, first + BLOCK_EVENTS))
        found_event, found_port = [], []
        for grid in grids:
            near_event, near_port, events = _nearest(
                event_lat, event_lon, events, port_lat, port_lon, grid
            )
            found_event.append(near_event)
            found_port.append(near_port)
        # the others: every port of the band (ports sorted by latitude, the band by search)
        sorted_lat = port_lat[by_lat]
        low = np.searchsorted(sorted_lat, event_lat[events] - 1, side="left")
        high = np.searchsorted(sorted_lat, event_lat[events] + 1, side="right")
        found_event.append(np.repeat(events, high - low))
        found_port.append(by_lat[expand(low, high - low)])
        return np.concatenate(found_event), np.concatenate(found_port)

    found = chunks.map_parts(block, range(0, n, BLOCK_EVENTS))
    near_event = np.concatenate([e for e, _ in found])
    near_port = np.concatenate([p for _, p in found])
    located_index: NDArray[np.int64] = located.astype(np.int64)
    return near_event.astype(np.int64), located_index[near_port]


def _nearest(
    event_lat: Floats, event_lon: Floats, events: Ints, port_lat: Floats, port_lon: Floats,
    grid: _Grid,
) -> tuple[Ints, Ints, Ints]:  # fmt: skip
    """For `events` (indices), the candidates of those the nine cells of `grid` around their
    own settle (event and port indices), and the events they do not settle."""
    degrees = grid.degrees
    lat, lon = event_lat[events], event_lon[events]
    ey, ex = np.floor(lat / degrees).astype(np.int64), _cell_x(lon, degrees)
    columns = round(360 / degrees)
    which, keys = [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            which.append(np.arange(len(events)))
            keys.append(_key(ey + dy, (ex + dx) % columns))
    event_of, key = np.concatenate(which), np.concatenate(keys)
    found = np.minimum(np.searchsorted(grid.cell_keys, key), len(grid.cell_keys) - 1)
    hit = grid.cell_keys[found] == key
    event_of, found = event_of[hit], found[hit]
    counts = grid.cell_size[found]
    pair_event = np.repeat(event_of, counts)
    pair_port = grid.by_cell[expand(grid.cell_at[found], counts)]
    pair_lat = lat[pair_event]
    in_band = (port_lat[pair_port] >= pair_lat - 1) & (port_lat[pair_port] <= pair_lat + 1)
    pair_event, pair_port = pair_event[in_band], pair_port[in_band]
    km = haversine_km(lat[pair_event], lon[pair_event], port_lat[pair_port], port_lon[pair_port])
    least = np.full(len(events), np.inf)
    np.fmin.at(least, pair_event, km)
    within = least * (1 + MARGIN) + MARGIN  # inf where none was found
    # any port outside the nine cells is `degrees` of latitude or of longitude away or more:
    # the least distance of a port that far in longitude within the band, less the margin
    # (that far in latitude is farther still)
    hav = np.sin(np.radians(degrees / 2)) ** 2
    cos_far = np.cos(np.radians(np.minimum(np.abs(lat) + 1, 90.0)))
    cos_event = np.cos(np.radians(np.minimum(np.abs(lat), 90.0)))
    share = np.clip(np.maximum(cos_event * cos_far, 0.0) * hav, 0.0, 1.0)
    beyond = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(share)) * (1 - MARGIN) - MARGIN
    settled = beyond > within
    keep = settled[pair_event] & (km <= within[pair_event])
    return events[pair_event[keep]], pair_port[keep], events[~settled]
