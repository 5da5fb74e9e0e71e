"""Synthetic AIS tracks: berth stays, approaches, departures, and whole voyages.

Fixes come every 10-20 minutes. At sea the ship makes 9-12 kn (3-6 kn within 2.5 km of
either end of a lane); at the berth it is stopped (sog 0.0-0.4, the first stopped fix
exactly 0.0) and jitters at most 50 m around the berth. The port-call arrival time is the
first stopped fix, which is the planted `arrived_at`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from cargotrace.reference.geodesy import KM_PER_NM
from cargotrace.sample.geo import LatLon, Route, offset_m
from cargotrace.sample.reference import BERTHS, SEA_LANES
from cargotrace.sample.schedule import Arrival

SLOW_ZONE_KM = 2.5
NAV_UNDERWAY, NAV_MOORED = 0, 5


@dataclass(frozen=True)
class Fix:
    mmsi: str
    t: datetime
    lat: float
    lon: float
    sog: float
    cog: float
    heading: int
    nav_status: int


def _step(rng: np.random.Generator) -> timedelta:
    return timedelta(seconds=int(rng.integers(600, 1201)))


def _speed(route: Route, s_km: float, rng: np.random.Generator) -> float:
    near_end = min(s_km, route.length_km - s_km) < SLOW_ZONE_KM
    return float(rng.uniform(3.0, 6.0) if near_end else rng.uniform(9.0, 12.0))


def _moving_fix(
    mmsi: str, t: datetime, route: Route, s_km: float, sog: float, rng: np.random.Generator
) -> Fix:
    lat, lon, course = route.locate(s_km)
    cog = (course + float(rng.normal(0, 1.5))) % 360
    heading = int(round(cog + float(rng.normal(0, 2.0)))) % 360
    return Fix(mmsi, t, lat, lon, round(sog, 1), round(cog, 1), heading, NAV_UNDERWAY)


def sail_backward(
    mmsi: str,
    route: Route,
    t_end: datetime,
    rng: np.random.Generator,
    *,
    since: datetime | None = None,
    max_km: float | None = None,
) -> list[Fix]:
    """Moving fixes of a ship that reaches the end of `route` at `t_end`, generated back
    in time until `since`, `max_km` from the end, or the start of the route."""
    limit = route.length_km if max_km is None else min(max_km, route.length_km)
    fixes, t, back = [], t_end, 0.0
    while True:
        dt = _step(rng)
        sog = _speed(route, route.length_km - back, rng)
        back += sog * KM_PER_NM * dt.total_seconds() / 3600
        t -= dt
        if back >= limit or (since is not None and t < since):
            break
        fixes.append(_moving_fix(mmsi, t, route, route.length_km - back, sog, rng))
    fixes.reverse()
    return fixes


def sail_forward(
    mmsi: str,
    route: Route,
    t_start: datetime,
    rng: np.random.Generator,
    *,
    until: datetime | None = None,
) -> tuple[list[Fix], datetime]:
    """Moving fixes from the start of `route` at `t_start`; returns them and the time the
    ship reaches the end (meaningful when `until` did not stop it first)."""
    fixes, t, s = [], t_start, float(rng.uniform(0.2, 0.5))
    while s < route.length_km and (until is None or t <= until):
        sog = _speed(route, s, rng)
        fixes.append(_moving_fix(mmsi, t, route, s, sog, rng))
        dt = _step(rng)
        remaining = route.length_km - s
        travelled = sog * KM_PER_NM * dt.total_seconds() / 3600
        if travelled >= remaining:
            return fixes, t + timedelta(
                seconds=math.ceil(dt.total_seconds() * remaining / travelled)
            )
        s += travelled
        t += dt
    return fixes, t


def moored(
    mmsi: str, berth: LatLon, t_from: datetime, t_to: datetime, rng: np.random.Generator
) -> list[Fix]:
    """Stopped fixes from `t_from` (inclusive, sog 0.0) to before `t_to`."""
    heading = int(rng.integers(0, 360))
    fixes, t, first = [], t_from, True
    while t < t_to:
        r, theta = 50.0 * math.sqrt(float(rng.uniform())), float(rng.uniform(0, 2 * math.pi))
        lat, lon = offset_m(berth[0], berth[1], r * math.cos(theta), r * math.sin(theta))
        sog = 0.0 if first else float(rng.choice([0.0, 0.0, 0.1, 0.1, 0.2, 0.3, 0.4]))
        hdg = (heading + int(rng.integers(-1, 2))) % 360
        fixes.append(
            Fix(mmsi, t, lat, lon, sog, round(float(rng.uniform(0, 360)), 1), hdg, NAV_MOORED)
        )
        t += _step(rng)
        first = False
    return fixes


def lane(name: str, berth: LatLon, *, reverse: bool = False) -> Route:
    route = Route([*SEA_LANES[name], berth])
    return route.reversed() if reverse else route


def pick_berth(port: str, rng: np.random.Generator) -> LatLon:
    options = BERTHS[port]
    return options[int(rng.integers(0, len(options)))]


def shuttle_call(arr: Arrival, rng: np.random.Generator) -> list[Fix]:
    """AIS of one observed Russian call of a shuttle: transponder back on 5-10 h out on
    the lane from Rajin, the berth stay, and 2-6 h outbound before it goes dark again."""
    assert arr.arrived_at is not None and arr.departed_at is not None
    mmsi, berth = arr.vessel.mmsi, pick_berth(arr.port, rng)
    inbound = lane(f"KPNJN-{arr.port}", berth)
    resume = arr.arrived_at - timedelta(hours=float(rng.uniform(5, 10)))
    fixes = sail_backward(
        mmsi, inbound, arr.arrived_at, rng, since=resume, max_km=inbound.length_km - 70
    )
    fixes += moored(mmsi, berth, arr.arrived_at, arr.departed_at, rng)
    dark = arr.departed_at + timedelta(hours=float(rng.uniform(2, 6)))
    fixes += sail_forward(mmsi, inbound.reversed(), arr.departed_at, rng, until=dark)[0]
    return fixes


def stale_call(arr: Arrival, rng: np.random.Generator) -> list[Fix]:
    """The vessel whose Rajin call was 40 days earlier: it appears from the open sea."""
    assert arr.arrived_at is not None and arr.departed_at is not None
    mmsi, berth = arr.vessel.mmsi, pick_berth(arr.port, rng)
    inbound = lane("SEA-RUVYP", berth)
    resume = arr.arrived_at - timedelta(hours=float(rng.uniform(6, 10)))
    fixes = sail_backward(mmsi, inbound, arr.arrived_at, rng, since=resume)
    fixes += moored(mmsi, berth, arr.arrived_at, arr.departed_at, rng)
    end = arr.departed_at + timedelta(hours=float(rng.uniform(3, 6)))
    fixes += sail_forward(mmsi, inbound.reversed(), arr.departed_at, rng, until=end)[0]
    return fixes


def busan_voyage(
    arr: Arrival, rng: np.random.Generator
) -> tuple[list[Fix], list[tuple[str, datetime]]]:
    """Continuous AIS of the never-to-North-Korea decoy: Shanghai -> Busan -> Vostochny ->
    Busan. Returns the fixes and its (port, arrived_at) calls."""
    assert arr.arrived_at is not None and arr.departed_at is not None
    mmsi = arr.vessel.mmsi
    vyp, pus, sha = pick_berth("RUVYP", rng), BERTHS["KRPUS"][0], BERTHS["CNSHA"][0]
    to_vyp = Route([pus, *SEA_LANES["KRPUS-RUVYP"], vyp])
    to_pus = Route([sha, *SEA_LANES["CNSHA-KRPUS"], pus])
    leg2 = sail_backward(mmsi, to_vyp, arr.arrived_at, rng)
    pus_arr = leg2[0].t - timedelta(hours=float(rng.uniform(22, 34)))
    leg1 = sail_backward(mmsi, to_pus, pus_arr, rng)
    sha_arr = leg1[0].t - timedelta(hours=float(rng.uniform(40, 56)))
    fixes = moored(mmsi, sha, sha_arr, leg1[0].t, rng) + leg1
    fixes += moored(mmsi, pus, pus_arr, leg2[0].t, rng) + leg2
    fixes += moored(mmsi, vyp, arr.arrived_at, arr.departed_at, rng)
    leg3, pus_arr2 = sail_forward(mmsi, to_vyp.reversed(), arr.departed_at, rng)
    fixes += leg3 + moored(
        mmsi, pus, pus_arr2, pus_arr2 + timedelta(hours=float(rng.uniform(20, 30))), rng
    )
    calls = [("CNSHA", sha_arr), ("KRPUS", pus_arr), ("RUVYP", arr.arrived_at), ("KRPUS", pus_arr2)]
    return fixes, calls
