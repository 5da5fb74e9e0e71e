"""The ports that can be the nearest to an event at sea, found on a grid of the ports.

The rule (maritime/offshore.py) measures an event against every port within one degree of
latitude of it: the distance to the nearest, and whether any lies within a minimum
distance. As SQL that is a join of every event with every port of its band: it grows with
events × ports (at the scaling benchmark's 100 M positions, 170,000 encounters and 20,000
ports: ~8 of the encounters stage's CPU-seconds). Both answers depend only on the nearest
port(s) of the band, so the kernel hands the SQL, per event, just the ports that can be the
nearest, and the SQL measures those as it would have measured all (same expression, same
rounding; no port within the minimum distance exactly when the nearest is farther).

The ports are put in cells of one degree; for each event the nine cells around its own are
measured (in NumPy: an estimate, within a millionth of the SQL's distance), giving the least
distance found. Every other port of the band is at least one degree of longitude away, and
so at least `2 R asin(sqrt(cos(lat) cos(lat + 1) hav(1°)))` away (the haversine's second
term alone, the latitude's cosine at its smallest in the band): when that bound exceeds the
least distance found (with a margin), the nearest is among the ports measured, and the
candidates are those within the margin of the least. Otherwise (an event far out at sea,
near a pole, or with no port around it) every port of the band is a candidate.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cargotrace.maritime.kernels.arrays import Floats, Ints, expand
from cargotrace.reference.geodesy import EARTH_RADIUS_KM, haversine_km

MARGIN = 1e-6  # relative and in km: the estimate is far closer than this to the SQL's distance
X_CELLS = 360  # cells of one degree round a parallel


def _cell_x(lon: Floats) -> Ints:
    """The one-degree column of each longitude, -180 .. 179 (180 is -180)."""
    return (np.floor(lon).astype(np.int64) + 180) % X_CELLS - 180


def _key(y: Ints, x: Ints) -> Ints:
    return (y + 1000) * 1000 + (x + 500)


def candidates(
    event_lat: Floats, event_lon: Floats, port_lat: Floats, port_lon: Floats
) -> tuple[Ints, Ints]:
    """(event, port) index pairs: for each event, the ports of its band that can be its
    nearest (the SQL's `p.lat BETWEEN lat - 1 AND lat + 1`). Ports without a position are
    never a candidate (the SQL's distance to them is NULL)."""
    located = np.flatnonzero(~np.isnan(port_lat) & ~np.isnan(port_lon))
    port_lat, port_lon = port_lat[located], port_lon[located]
    n = len(event_lat)
    if n == 0 or len(located) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # the ports by cell
    port_key = _key(np.floor(port_lat).astype(np.int64), _cell_x(port_lon))
    by_cell = np.argsort(port_key, kind="stable")
    sorted_key = port_key[by_cell]
    cell_keys, cell_at, cell_size = np.unique(sorted_key, return_index=True, return_counts=True)
    # each event with the nine cells around its own
    ey, ex = np.floor(event_lat).astype(np.int64), _cell_x(event_lon)
    events, keys = [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            events.append(np.arange(n))
            keys.append(_key(ey + dy, (ex + dx + 180) % X_CELLS - 180))
    event_of, key = np.concatenate(events), np.concatenate(keys)
    found = np.minimum(np.searchsorted(cell_keys, key), len(cell_keys) - 1)
    hit = cell_keys[found] == key
    event_of, found = event_of[hit], found[hit]
    counts = cell_size[found]
    pair_event = np.repeat(event_of, counts)
    pair_port = by_cell[expand(cell_at[found], counts)]
    lat = event_lat[pair_event]
    in_band = (port_lat[pair_port] >= lat - 1) & (port_lat[pair_port] <= lat + 1)
    pair_event, pair_port = pair_event[in_band], pair_port[in_band]
    km = haversine_km(
        event_lat[pair_event], event_lon[pair_event], port_lat[pair_port], port_lon[pair_port]
    )
    least = np.full(n, np.inf)
    np.fmin.at(least, pair_event, km)
    within = least * (1 + MARGIN) + MARGIN  # inf where none was found
    # the least distance of a port one degree of longitude away or more, less the margin
    hav_1 = np.sin(np.radians(0.5)) ** 2
    cos_far = np.cos(np.radians(np.minimum(np.abs(event_lat) + 1, 90.0)))
    cos_event = np.cos(np.radians(np.minimum(np.abs(event_lat), 90.0)))
    share = np.clip(np.maximum(cos_event * cos_far, 0.0) * hav_1, 0.0, 1.0)
    beyond = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(share)) * (1 - MARGIN) - MARGIN
    settled = beyond > within
    keep = settled[pair_event] & (km <= within[pair_event])
    near_event, near_port = pair_event[keep], pair_port[keep]
    # the others: every port of the band (ports sorted by latitude, the band by search)
    rest = np.flatnonzero(~settled)
    if len(rest):
        by_lat = np.argsort(port_lat, kind="stable")
        sorted_lat = port_lat[by_lat]
        low = np.searchsorted(sorted_lat, event_lat[rest] - 1, side="left")
        high = np.searchsorted(sorted_lat, event_lat[rest] + 1, side="right")
        wide_event = np.repeat(rest, high - low)
        wide_port = by_lat[expand(low, high - low)]
        near_event = np.concatenate([near_event, wide_event])
        near_port = np.concatenate([near_port, wide_port])
    located_index: NDArray[np.int64] = located.astype(np.int64)
    return near_event.astype(np.int64), located_index[near_port]
