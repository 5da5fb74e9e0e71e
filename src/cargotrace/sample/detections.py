"""Satellite detections standing for the dark calls' sightings (issue 20's acceptance case).

`generate_sample_case(..., detections=True)` writes the sample with every sighting of a dark
call (each Rajin call, each Russian call without AIS) replaced by the anonymous detection it
stands for: same time and place, the hull's length give or take `LENGTH_ERROR` (SAR length
estimates are that rough), a presence score, no name. Added to them: *lit* detections (ships
that AIS shows, at one of their fixes, a little off it) and *noise* (small, low-score returns
at sea). vessels.csv then carries each hull's length (`LENGTH_M_BY_IMO`). The findings must be
the same as with the sightings (tests/test_detections_sample.py).
"""

from __future__ import annotations

import math

import numpy as np

from cargotrace.sample.ais import Fix
from cargotrace.sample.geo import offset_m
from cargotrace.sample.reference import ALL_VESSELS, BUSAN_DECOY, SHUTTLES, STALE_DECOY, Vessel

DETECTION_HEADER = ("detected_at", "lat", "lon", "length_m", "score", "scene_id", "source")
SOURCE = "SAR detections (SYNTHETIC)"
LENGTH_ERROR = 0.03
LIT_DETECTIONS = 40
NOISE_DETECTIONS = 40
# hull lengths (m), by IMO (a renamed ship keeps its hull): far enough apart that a detection's
# length agrees with one hull only at the default tolerance (35 %)
LENGTH_M_BY_IMO: dict[str, float] = {
    SHUTTLES[0].imo: 56.0,
    SHUTTLES[1].imo: 90.0,
    SHUTTLES[2].imo: 145.0,
    SHUTTLES[3].imo: 235.0,
    BUSAN_DECOY.imo: 380.0,
    STALE_DECOY.imo: 30.0,
}
# noise: returns of 8-25 m (buoys, fishing boats, sea clutter) in the open sea south of the lanes
NOISE_BOX = ((41.0, 42.0), (131.0, 134.0))


def _row(stamp: str, lat: float, lon: float, length_m: float, score: float, n: int) -> list[str]:
    return [stamp, f"{lat:.5f}", f"{lon:.5f}", f"{length_m:.1f}", f"{score:.2f}",
            f"SYN-S1-{n:04d}", SOURCE]  # fmt: skip


def _measured(length_m: float, rng: np.random.Generator) -> float:
    return length_m * (1 + float(rng.uniform(-LENGTH_ERROR, LENGTH_ERROR)))


def detection_rows(
    dark: list[tuple[list[str], Vessel]], fixes: list[Fix], rng: np.random.Generator
) -> list[list[str]]:
    """Detections for the dark sightings (`observed_at, ..., lat, lon` rows and their
    vessels), `LIT_DETECTIONS` at AIS fixes and `NOISE_DETECTIONS` at sea, sorted by time,
    each in its own scene."""
    out: list[tuple[str, float, float, float, float]] = []
    for row, vessel in dark:
        length = _measured(LENGTH_M_BY_IMO[vessel.imo], rng)
        out.append((row[0], float(row[5]), float(row[6]), length, float(rng.uniform(0.8, 0.98))))
    hull = {v.mmsi: v.imo for v in ALL_VESSELS}
    for i in sorted(rng.choice(len(fixes), size=LIT_DETECTIONS, replace=False).tolist()):
        fix = fixes[i]
        r, theta = 150.0 * math.sqrt(float(rng.uniform())), float(rng.uniform(0, 2 * math.pi))
        lat, lon = offset_m(fix.lat, fix.lon, r * math.cos(theta), r * math.sin(theta))
        length = _measured(LENGTH_M_BY_IMO[hull[fix.mmsi]], rng)
        stamp = fix.t.strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append((stamp, lat, lon, length, float(rng.uniform(0.6, 0.98))))
    first, last = min(f.t for f in fixes), max(f.t for f in fixes)
    span_s = (last - first).total_seconds()
    (lat0, lat1), (lon0, lon1) = NOISE_BOX
    for _ in range(NOISE_DETECTIONS):
        t = first.timestamp() + float(rng.uniform(0, span_s))
        stamp = np.datetime_as_string(np.datetime64(int(t), "s")) + "Z"
        lat, lon = float(rng.uniform(lat0, lat1)), float(rng.uniform(lon0, lon1))
        out.append((stamp, lat, lon, float(rng.uniform(8, 25)), float(rng.uniform(0.1, 0.4))))
    out.sort()
    return [_row(*fields, n + 1) for n, fields in enumerate(out)]


def vessel_lengths(vessels: list[list[str]]) -> list[list[str]]:
    """vessels.csv rows (`mmsi, imo, ...`) with the hull's length appended."""
    return [[*row, f"{LENGTH_M_BY_IMO[row[1]]:g}"] for row in vessels]
