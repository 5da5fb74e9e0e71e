"""Synthetic imagery sightings: the only evidence of the North Korean calls."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from cargotrace.sample.geo import offset_m
from cargotrace.sample.reference import BERTHS, RAJIN_PIERS, Vessel
from cargotrace.sample.schedule import Arrival, Schedule

SIGHTING_HEADER = (
    "observed_at",
    "vessel_name",
    "imo",
    "mmsi",
    "port",
    "lat",
    "lon",
    "source",
    "confidence",
    "note",
)
SOURCE = "satellite imagery (SYNTHETIC)"


def _identity(
    vessel: Vessel, rng: np.random.Generator, *, full: bool = False
) -> tuple[str, str, str]:
    """(name, imo, mmsi): all three, IMO only, or name only, as image analysts report them."""
    u = 0.0 if full else float(rng.uniform())
    if u < 0.5:
        return vessel.name, vessel.imo, vessel.mmsi
    if u < 0.75:
        return "", vessel.imo, ""
    return vessel.name, "", ""


def _row(
    t: datetime,
    vessel: Vessel,
    port: str,
    where: tuple[float, float],
    conf: float,
    note: str,
    rng: np.random.Generator,
    *,
    full: bool = False,
) -> list[str]:
    name, imo, mmsi = _identity(vessel, rng, full=full)
    r, theta = 60.0 * math.sqrt(float(rng.uniform())), float(rng.uniform(0, 2 * math.pi))
    lat, lon = offset_m(where[0], where[1], r * math.cos(theta), r * math.sin(theta))
    stamp = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [stamp, name, imo, mmsi, port, f"{lat:.5f}", f"{lon:.5f}", SOURCE, f"{conf:.2f}", note]


def _rajin(arr: Arrival, rng: np.random.Generator, *, full: bool = False) -> list[str]:
    assert arr.previous_sighted_at is not None
    pier = RAJIN_PIERS[int(rng.integers(0, len(RAJIN_PIERS)))]
    note = "SYNTHETIC demo: cargo ship alongside pier, Rajin; AIS not transmitting"
    return _row(
        arr.previous_sighted_at,
        arr.vessel,
        "KPNJN",
        pier,
        float(rng.uniform(0.7, 0.9)),
        note,
        rng,
        full=full,
    )


def _russian_port(arr: Arrival, rng: np.random.Generator) -> list[str]:
    assert arr.sighted_at is not None
    berth = BERTHS[arr.port][0]
    note = "SYNTHETIC demo: vessel at berth" + (
        "" if "ais" in arr.evidence else "; no AIS at this call"
    )
    return _row(
        arr.sighted_at, arr.vessel, arr.port, berth, float(rng.uniform(0.75, 0.95)), note, rng
    )


def tagged_sighting_rows(
    schedule: Schedule, rng: np.random.Generator
) -> list[tuple[list[str], Vessel, bool]]:
    """`sighting_rows` with each row's vessel and whether it shows a dark call (a Rajin call,
    or a Russian call without AIS): the calls imagery alone stands for."""
    rows: list[tuple[list[str], Vessel, bool]] = []
    for arr in schedule.arrivals:
        if arr.previous_sighted_at is not None:
            rows.append((_rajin(arr, rng, full=arr.kind == "stale"), arr.vessel, True))
        if "sighting" in arr.evidence:
            rows.append((_russian_port(arr, rng), arr.vessel, "ais" not in arr.evidence))
    return sorted(rows, key=lambda r: (r[0][0], r[0][4]))


def sighting_rows(schedule: Schedule, rng: np.random.Generator) -> list[list[str]]:
    """Every Rajin call of a shuttle (and of the stale decoy), plus imagery at the Russian
    port where the planted evidence includes a sighting. Sorted by time."""
    return [row for row, _, _ in tagged_sighting_rows(schedule, rng)]
