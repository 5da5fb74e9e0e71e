"""The planted voyage schedule: which ship arrives where and when, and what evidence shows it.

Each Russian port gets a day calendar. Every qualifying arrival owns the window
[arrival day, arrival day + 7]; decoy arrivals own an 8-day block in which no explosives
leave; windows never overlap at one port, so the "latest arrival wins" rule never has to
choose and the truth is unambiguous. Days outside every window are free for "background"
explosives that must not be linked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from cargotrace.sample.reference import BUSAN_DECOY, SHUTTLES, STALE_DECOY, Vessel

PERIOD_START = date(2023, 8, 1)
PERIOD_DAYS = 184  # 2023-08-01 .. 2024-01-31
WINDOW_DAYS = 7
LOOKBACK_DAYS = 30
STALE_RAJIN_DAYS = 40
Q_SLOT = WINDOW_DAYS + 1 + 2  # window plus two free days before the next event
DECOY_SLOT = WINDOW_DAYS + 1
MIN_SHIP_CYCLE_DAYS = 13
N_VYP, N_DUN = 15, 10
N_DUN_SIGHTING_ONLY = 5


def day_of(index: int) -> date:
    return PERIOD_START + timedelta(days=index)


def at(day: date, hours: float) -> datetime:
    """UTC datetime `hours` after midnight of `day`, rounded to the second."""
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return base + timedelta(seconds=round(hours * 3600))


@dataclass
class Arrival:
    """One call at a Russian port (qualifying or decoy), with its evidence."""

    arrival_id: str
    vessel: Vessel
    port: str
    day: date
    qualifying: bool
    evidence: tuple[str, ...]  # subset of ("ais", "sighting")
    arrived_at: datetime | None = None  # AIS: first stopped fix
    departed_at: datetime | None = None  # AIS: first moving fix after the stay
    sighted_at: datetime | None = None  # imagery at the Russian port
    previous_port: str = "KPNJN"
    previous_call_day: date | None = None
    previous_sighted_at: datetime | None = None
    kind: str = "shuttle"  # shuttle | busan | stale
    notes: list[str] = field(default_factory=list)


@dataclass
class Schedule:
    arrivals: list[Arrival]  # every Russian-port arrival, sorted by time
    blocked: dict[str, set[int]]  # port -> day indices inside any arrival's 8-day block

    @property
    def qualifying(self) -> list[Arrival]:
        return [a for a in self.arrivals if a.qualifying]


def _lay_out(lengths: list[int], first: int, last: int, rng: np.random.Generator) -> list[int]:
    """Start day of each event: fixed slot lengths plus randomly spread spare days, the
    last event's 8-day window ending on or before `last`."""
    spare = last - WINDOW_DAYS - first - sum(lengths[:-1])
    if spare < 0:
        raise ValueError("calendar too full")
    extra = rng.multinomial(spare, np.full(len(lengths) + 1, 1.0 / (len(lengths) + 1)))
    starts, day = [], first + int(extra[0])
    for i, length in enumerate(lengths):
        starts.append(day)
        day += length + int(extra[i + 1])
    return starts


def _port_events(rng: np.random.Generator) -> list[tuple[str, int, str]]:
    """(port, day index, kind) for every planned Russian-port arrival."""
    kinds = ["Q"] * N_VYP
    for decoy in ("busan", "stale"):
        kinds.insert(int(rng.integers(2, len(kinds) - 1)), decoy)
    lengths = [Q_SLOT if k == "Q" else DECOY_SLOT for k in kinds]
    vyp = _lay_out(lengths, 2, PERIOD_DAYS - 1, rng)
    dun = _lay_out([Q_SLOT] * N_DUN, 4, PERIOD_DAYS - 1, rng)
    events = [("RUVYP", d, k) for d, k in zip(vyp, kinds, strict=True)]
    events += [("RUDUN", d, "Q") for d in dun]
    return sorted(events, key=lambda e: (e[1], e[0]))


def _assign_ships(events: list[tuple[str, int, str]]) -> list[Vessel] | None:
    """Least-recently-used shuttle per qualifying event; None if a ship would be too busy."""
    last = {v.mmsi: -1000 for v in SHUTTLES}
    chosen: list[Vessel] = []
    for _, day, kind in events:
        if kind != "Q":
            continue
        ship = min(SHUTTLES, key=lambda v: (last[v.mmsi], v.mmsi))
        if day - last[ship.mmsi] < MIN_SHIP_CYCLE_DAYS:
            return None
        last[ship.mmsi] = day
        chosen.append(ship)
    return chosen


def _evidence(
    events: list[tuple[str, int, str]], rng: np.random.Generator
) -> list[tuple[str, ...]]:
    """Evidence per qualifying event: Vostochny always AIS (2 also imaged); Dunai half by
    imagery only, one AIS call also imaged."""
    q = [e for e in events if e[2] == "Q"]
    vyp = [i for i, e in enumerate(q) if e[0] == "RUVYP"]
    dun = [i for i, e in enumerate(q) if e[0] == "RUDUN"]
    out: list[tuple[str, ...]] = [("ais",)] * len(q)
    sight_only = set(rng.choice(dun, size=N_DUN_SIGHTING_ONLY, replace=False).tolist())
    dun_ais = sorted(set(dun) - sight_only)
    both = set(rng.choice(vyp, size=2, replace=False).tolist())
    both.add(int(rng.choice(dun_ais)))
    for i in sight_only:
        out[i] = ("sighting",)
    for i in both:
        out[i] = ("ais", "sighting")
    return out


def _timed_arrival(arr: Arrival, rng: np.random.Generator) -> None:
    """Fill arrival/departure/sighting times. Arrivals fall 00-14 UTC so the UTC day equals
    the local (UTC+10) and Moscow-time day."""
    if "ais" in arr.evidence:
        early = "sighting" in arr.evidence
        hour = rng.uniform(0.2, 2.0) if early else rng.uniform(0.2, 13.5)
        arr.arrived_at = at(arr.day, hour)
        arr.departed_at = arr.arrived_at + timedelta(hours=float(rng.uniform(26, 70)))
        if early:
            arr.sighted_at = arr.arrived_at + timedelta(minutes=float(rng.uniform(30, 120)))
    else:
        arr.sighted_at = at(arr.day, rng.uniform(0.5, 5.0))


def _shuttle_arrivals(
    events: list[tuple[str, int, str]], rng: np.random.Generator
) -> list[Arrival] | None:
    ships = _assign_ships(events)
    if ships is None:
        return None
    evidence = _evidence(events, rng)
    q = [e for e in events if e[2] == "Q"]
    out = []
    for n, ((port, day, _), ship, ev) in enumerate(zip(q, ships, evidence, strict=True)):
        arr = Arrival(f"A{n + 1:02d}", ship, port, day_of(day), True, ev)
        _timed_arrival(arr, rng)
        lead = int(rng.integers(2, 7))  # Rajin call 2..6 days before
        arr.previous_call_day = arr.day - timedelta(days=lead)
        arr.previous_sighted_at = at(arr.previous_call_day, rng.uniform(0.5, 5.0))
        out.append(arr)
    return out


def _decoy_arrivals(events: list[tuple[str, int, str]], rng: np.random.Generator) -> list[Arrival]:
    out = []
    for port, day, kind in events:
        if kind == "Q":
            continue
        vessel = BUSAN_DECOY if kind == "busan" else STALE_DECOY
        arr = Arrival(f"D-{kind}", vessel, port, day_of(day), False, ("ais",), kind=kind)
        _timed_arrival(arr, rng)
        if kind == "busan":
            arr.previous_port = "KRPUS"
            arr.notes.append("previous call Busan (KRPUS), before that Shanghai (CNSHA)")
        else:
            arr.previous_call_day = arr.day - timedelta(days=STALE_RAJIN_DAYS)
            arr.previous_sighted_at = at(arr.previous_call_day, rng.uniform(0.5, 5.0))
            arr.notes.append(f"Rajin call {STALE_RAJIN_DAYS} days earlier: outside the lookback")
        out.append(arr)
    return out


def _blocked(arrivals: list[Arrival]) -> dict[str, set[int]]:
    blocked: dict[str, set[int]] = {"RUVYP": set(), "RUDUN": set()}
    for arr in arrivals:
        first = (arr.day - PERIOD_START).days
        blocked[arr.port].update(range(first, first + WINDOW_DAYS + 1))
    return blocked


def plan_schedule(rng: np.random.Generator) -> Schedule:
    """Lay out the calendar, retrying (deterministically) until every ship has time for
    its round trip between consecutive calls."""
    for _ in range(200):
        events = _port_events(rng)
        shuttles = _shuttle_arrivals(events, rng)
        if shuttles is not None:
            arrivals = shuttles + _decoy_arrivals(events, rng)
            arrivals.sort(key=lambda a: (a.day, a.port, a.vessel.mmsi))
            return Schedule(arrivals, _blocked(arrivals))
    raise RuntimeError("could not lay out a feasible schedule")
