"""Seeded generator of the bundled SYNTHETIC sample case.

    generate_sample_case(out_dir, seed=20240613) -> SampleCase

Writes the input files of one case (formats of contract section 2) plus `truth.json`,
what the section 3 rules with default parameters must find, computed from the planted
data structures. Same seed, same bytes: no wall-clock time, sorted iteration, stdlib and
numpy only. Run as `python -m cargotrace.sample.generate OUT_DIR [--seed N]`.

All vessels, waybills, wagons, consignors and consignees are FICTITIOUS; the stations,
depots and ports are real places.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from cargotrace.sample import rail
from cargotrace.sample.ais import Fix, busan_voyage, shuttle_call, stale_call
from cargotrace.sample.detections import DETECTION_HEADER, detection_rows, vessel_lengths
from cargotrace.sample.geo import haversine_km
from cargotrace.sample.reference import (
    ALL_VESSELS,
    CUSTOM_PORTS,
    DECOY_FACILITIES,
    DEPOTS,
    PORT_STATIONS,
    RENAMED_FROM,
    RENAMED_TO,
    SHUTTLES,
    SITES,
    Vessel,
    all_stations,
)
from cargotrace.sample.schedule import LOOKBACK_DAYS, WINDOW_DAYS, Arrival, Schedule, plan_schedule
from cargotrace.sample.sightings import SIGHTING_HEADER, tagged_sighting_rows

DEFAULT_SEED = 20240613
NEAR_KM = 20.0
KG_PER_ROUND = 46.25
BANNER = "SYNTHETIC DEMO DATA - not real records"

SHIPMENTS_FILE = "shipments_vostochny_dunai.csv"
ARRIVALS_FILE = "arrivals_at_destination.csv"
LINKED_FILE = "truth_linked_shipments.csv"
LINKED_HEADER = (
    "waybill",
    "wagon",
    "arrival_id",
    "departed_on",
    "lag_days",
    "tonnes",
    "destination_esr",
    "destination_station",
)


@dataclass
class SampleCase:
    out_dir: Path
    seed: int
    inputs: dict[str, list[Path]]
    truth: dict[str, Any]
    truth_path: Path
    readme_path: Path


@dataclass
class Planted:
    """Everything planted, before formatting."""

    schedule: Schedule
    fixes: list[Fix]
    extra_calls: list[tuple[str, str, str]]  # (mmsi, port, arrived_at) of non-Russian calls
    sightings: list[list[str]]
    linked: list[rail.Consignment]
    background: list[rail.Consignment]
    coal_containers: list[rail.Consignment]
    industrial: list[rail.Consignment]
    broken: list[tuple[str, list[str]]]  # (reason, row) planted for the quarantine
    identity_change: IdentityChange | None = None
    # per sighting row: its vessel (the hull) and whether it shows a dark call
    sighting_tags: list[tuple[Vessel, bool]] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class IdentityChange:
    """A ship that takes a new MMSI, name, call sign and flag at sea (same IMO)."""

    old: Vessel
    new: Vessel
    at: datetime
    arrival_id: str  # the first arrival under the new identity (its previous call: the old one)


# --- planting ---------------------------------------------------------------------------
def _plant_ais(
    schedule: Schedule, rng: np.random.Generator
) -> tuple[list[Fix], list[tuple[str, str, str]]]:
    fixes: list[Fix] = []
    calls: list[tuple[str, str, str]] = []
    for arr in schedule.arrivals:
        if "ais" not in arr.evidence:
            continue
        if arr.kind == "busan":
            voyage, busan_calls = busan_voyage(arr, rng)
            fixes += voyage
            calls += [
                (arr.vessel.mmsi, port, _iso(t)) for port, t in busan_calls if port != arr.port
            ]
        elif arr.kind == "stale":
            fixes += stale_call(arr, rng)
        else:
            fixes += shuttle_call(arr, rng)
    fixes.sort(key=lambda f: (f.t, f.mmsi))
    return fixes, calls


def _rngs(seed: int, n: int = 5) -> list[np.random.Generator]:
    """Independent streams: schedule, AIS, sightings, rail planting, row formatting (and, of a
    sixth, detections: the first five are the same whatever `n`)."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


def plant(seed: int, identity_change: bool = True) -> Planted:
    sched_rng, ais_rng, sight_rng, rail_rng, _ = _rngs(seed)
    schedule = plan_schedule(sched_rng)
    fixes, calls = _plant_ais(schedule, ais_rng)
    ids = rail.Identifiers(rail_rng)
    linked = rail.linked_consignments(schedule, ids, rail_rng)
    background = rail.background_consignments(schedule, sum(c.kg10 for c in linked), ids, rail_rng)
    decoys = rail.port_decoys(linked, ids, rail_rng)
    industrial = rail.industrial_decoys(ids, rail_rng)
    broken = rail.broken_rows(ids, schedule, rail_rng)  # same identifier pool: no collisions
    tagged = tagged_sighting_rows(schedule, sight_rng)
    planted = Planted(
        schedule,
        fixes,
        calls,
        [row for row, _, _ in tagged],
        linked,
        background,
        decoys,
        industrial,
        broken,
        sighting_tags=[(vessel, dark) for _, vessel, dark in tagged],
    )
    return _change_identity(planted, RENAMED_FROM, RENAMED_TO) if identity_change else planted


def _change_identity(planted: Planted, old: Vessel, new: Vessel) -> Planted:
    """`old` becomes `new` half-way between the Rajin call and the Vostochny arrival (AIS
    seen) in the middle of its qualifying arrivals: every later fix, sighting and arrival
    carries the new identity. Draws nothing from the random streams: the rest of the case
    is the same bytes as without the change."""
    mine = [a for a in planted.schedule.qualifying
            if a.vessel == old and a.port == "RUVYP" and "ais" in a.evidence and a.previous_sighted_at]  # fmt: skip
    if not mine:
        return planted
    arr = mine[(len(mine) - 1) // 2]
    assert arr.arrived_at is not None and arr.previous_sighted_at is not None
    at = arr.previous_sighted_at + (arr.arrived_at - arr.previous_sighted_at) / 2
    at = at.replace(microsecond=0)
    planted.fixes = [dataclasses.replace(f, mmsi=new.mmsi) if f.mmsi == old.mmsi and f.t >= at else f
                     for f in planted.fixes]  # fmt: skip
    stamp = _iso(at)
    for row in planted.sightings:  # observed_at, vessel_name, imo, mmsi, ...
        if row[0] >= stamp and (row[1] == old.name or row[2] == old.imo or row[3] == old.mmsi):
            row[1] = new.name if row[1] else ""
            row[3] = new.mmsi if row[3] else ""
    for a in planted.schedule.arrivals:
        when = a.arrived_at or a.sighted_at
        if a.vessel == old and when is not None and when >= at:
            a.vessel = new
    planted.identity_change = IdentityChange(old, new, at, arr.arrival_id)
    return planted


# --- writing ----------------------------------------------------------------------------
def _iso(t: datetime | None) -> str:
    assert t is not None
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    newline: str = "\n",
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator=newline)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _shipment_rows(
    planted: Planted, rng: np.random.Generator
) -> tuple[list[list[str]], list[tuple[str, list[str]]], list[list[str]]]:
    """Departure rows (valid ones sorted by date) with duplicates and broken rows mixed in."""
    valid = sorted(
        planted.linked + planted.background + planted.coal_containers + planted.industrial,
        key=lambda c: (c.day, c.waybill),
    )
    rows = [rail.departure_row(c, rng) for c in valid]
    pools = {
        "linked": [i for i, c in enumerate(valid) if c.category == "linked"],
        "coal": [i for i, c in enumerate(valid) if c.category == "coal"],
        "container": [i for i, c in enumerate(valid) if c.category == "container"],
    }
    picks = [
        int(i)
        for kind, n in (("linked", 6), ("coal", 2), ("container", 2))
        for i in rng.choice(pools[kind], size=n, replace=False)
    ]
    duplicates = [list(rows[i]) for i in picks]
    broken = planted.broken
    out = list(rows)
    for extra in duplicates + [row for _, row in broken]:
        out.insert(int(rng.integers(0, len(out) + 1)), extra)
    return out, broken, duplicates


def _ais_rows(fixes: list[Fix]) -> Iterable[list[str]]:
    for f in fixes:
        yield [
            f.mmsi,
            _iso(f.t),
            f"{f.lat:.6f}",
            f"{f.lon:.6f}",
            f"{f.sog:.1f}",
            f"{f.cog:.1f}",
            str(f.heading),
            str(f.nav_status),
        ]


def _reference_files(
    out: Path, renamed: bool = True, lengths: bool = False
) -> dict[str, list[Path]]:
    vessels = [[v.mmsi, v.imo, v.name, v.callsign, v.ship_type, v.flag] for v in ALL_VESSELS
               if renamed or v != RENAMED_TO]  # fmt: skip
    header: tuple[str, ...] = ("mmsi", "imo", "name", "callsign", "ship_type", "flag")
    if lengths:
        vessels, header = vessel_lengths(vessels), (*header, "length_m")
    stations = [
        [s.esr, s.name, f"{s.lat:.6f}", f"{s.lon:.6f}", s.port_locode] for s in all_stations()
    ]
    facilities = [
        [f.name, f.category, f"{f.lat:.3f}", f"{f.lon:.3f}", f.source]
        for f in DEPOTS + DECOY_FACILITIES
    ]
    ports = [
        [code, name, country, f"{lat}", f"{lon}", f"{radius:g}"]
        for code, name, country, lat, lon, radius in CUSTOM_PORTS
    ]
    note = "SYNTHETIC: fictitious vessel of the bundled demo case"
    watch = [[v.name, v.imo, v.mmsi, "DEMO-LIST", note] for v in SHUTTLES]
    return {
        "vessels": [_write_csv(out / "vessels.csv", header, vessels)],
        "ports": [
            _write_csv(
                out / "ports.csv", ("locode", "name", "country", "lat", "lon", "radius_km"), ports
            )
        ],
        "stations": [
            _write_csv(out / "stations.csv", ("esr", "name", "lat", "lon", "port_locode"), stations)
        ],
        "facilities": [
            _write_csv(
                out / "facilities.csv", ("name", "category", "lat", "lon", "source"), facilities
            )
        ],
        "watchlist": [
            _write_csv(out / "watchlist.csv", ("name", "imo", "mmsi", "list", "note"), watch)
        ],
    }


# --- truth ------------------------------------------------------------------------------
def _tonnes(kg10: int) -> float:
    return round(kg10 / 10_000, 4)


def _arrival_truth(arr: Arrival, linked: list[rail.Consignment]) -> dict[str, Any]:
    mine = [c for c in linked if c.arrival_id == arr.arrival_id]
    return {
        "arrival_id": arr.arrival_id,
        "vessel_name": arr.vessel.name,
        "mmsi": arr.vessel.mmsi,
        "imo": arr.vessel.imo,
        "port_locode": arr.port,
        "arrival_date": arr.day.isoformat(),
        "arrived_at": _iso(arr.arrived_at or arr.sighted_at),
        "evidence": sorted(arr.evidence),
        "previous_port_locode": arr.previous_port,
        "previous_call_date": arr.previous_call_day.isoformat() if arr.previous_call_day else None,
        "linked_shipments": len(mine),
        "linked_tonnes": _tonnes(sum(c.kg10 for c in mine)),
    }


def _site_truth(linked: list[rail.Consignment]) -> list[dict[str, Any]]:
    sites = []
    for site in SITES:
        mine = [c for c in linked if c.destination == site]
        depot, km = min(
            ((f, haversine_km(site.lat, site.lon, f.lat, f.lon)) for f in DEPOTS),
            key=lambda x: x[1],
        )
        sites.append(
            {
                "name": site.name,
                "esr": site.esr,
                "lat": site.lat,
                "lon": site.lon,
                "near_facility": km <= NEAR_KM,
                "nearest_facility": depot.name,
                "facility_km": round(km, 2),
                "shipments": len(mine),
                "tonnes": _tonnes(sum(c.kg10 for c in mine)),
            }
        )
    return sites


def _decoy_truth(planted: Planted) -> list[dict[str, Any]]:
    out = []
    for arr in planted.schedule.arrivals:
        if arr.qualifying:
            continue
        if arr.kind == "busan" or arr.previous_call_day is None:
            reason = f"previous call {arr.previous_port}, not in North Korea"
        else:
            days = (arr.day - arr.previous_call_day).days
            reason = (
                f"previous call KPNJN {days} days earlier, outside the {LOOKBACK_DAYS}-day lookback"
            )
        out.append(
            {
                "vessel_name": arr.vessel.name,
                "mmsi": arr.vessel.mmsi,
                "port_locode": arr.port,
                "arrival_date": arr.day.isoformat(),
                "arrived_at": _iso(arr.arrived_at),
                "reason": reason,
            }
        )
    return out


def build_truth(
    planted: Planted, seed: int, counts: dict[str, int], label_changes: int
) -> dict[str, Any]:
    linked = planted.linked
    linked_kg10 = sum(c.kg10 for c in linked)
    sites = _site_truth(linked)
    assert all(s["shipments"] > 0 for s in sites), "every site must receive linked shipments"
    return {
        "synthetic": True,
        "seed": seed,
        "parameters": {
            "window_days": WINDOW_DAYS,
            "origin_country": "KP",
            "lookback_days": LOOKBACK_DAYS,
            "near_km": NEAR_KM,
        },
        "arrivals_of_interest": [_arrival_truth(a, linked) for a in planted.schedule.qualifying],
        "arrivals_not_of_interest": _decoy_truth(planted),
        "other_port_calls": [
            {"mmsi": m, "port_locode": p, "arrived_at": t} for m, p, t in planted.extra_calls
        ],
        "linked_shipments": len(linked),
        "linked_tonnes": _tonnes(linked_kg10),
        "linked_lag_days_histogram": [
            sum(1 for c in linked if _lag(planted, c) == lag) for lag in range(WINDOW_DAYS + 1)
        ],
        "sites": len(sites),
        "sites_near_facility": sum(1 for s in sites if s["near_facility"]),
        "site_names": sorted(s["name"] for s in sites),
        "site_details": sites,
        "label_changes": label_changes,
        "background_explosives_shipments": len(planted.background),
        "background_explosives_tonnes": _tonnes(sum(c.kg10 for c in planted.background)),
        "industrial_explosives_decoy_tonnes": _tonnes(sum(c.kg10 for c in planted.industrial)),
        "quarantined_rows": counts["quarantined"],
        "duplicate_rows": counts["duplicates"],
        "shipment_rows": counts,
        "munitions_equivalent": {
            "kg_per_round": KG_PER_ROUND,
            "rounds": round(linked_kg10 / 10 / KG_PER_ROUND),
        },
        "port_stations": {
            p: {"esr": s.esr, "name": s.name} for p, s in sorted(PORT_STATIONS.items())
        },
        "linked_file": LINKED_FILE,
        "identity_changes": [_change_truth(planted.identity_change)]
        if planted.identity_change
        else [],
    }


def _change_truth(change: IdentityChange) -> dict[str, Any]:
    return {
        "imo": change.old.imo,
        "changed_at": _iso(change.at),
        "arrival_id": change.arrival_id,
        "from": {"mmsi": change.old.mmsi, "name": change.old.name, "callsign": change.old.callsign,
                 "flag": change.old.flag},
        "to": {"mmsi": change.new.mmsi, "name": change.new.name, "callsign": change.new.callsign,
               "flag": change.new.flag},
    }  # fmt: skip


def _lag(planted: Planted, c: rail.Consignment) -> int:
    day = next(a.day for a in planted.schedule.arrivals if a.arrival_id == c.arrival_id)
    return (c.day - day).days


def _linked_rows(planted: Planted) -> Iterable[list[str]]:
    for c in sorted(planted.linked, key=lambda c: c.waybill):
        yield [
            c.waybill,
            c.wagon,
            c.arrival_id,
            c.day.isoformat(),
            str(_lag(planted, c)),
            rail.tonnes_text(c.kg10),
            c.destination.esr,
            c.destination.name,
        ]


README = """{banner}

Bundled sample case of cargotrace, generated by cargotrace.sample.generate (seed {seed}).
EVERYTHING IN THIS FOLDER IS SYNTHETIC. The real leaked records analysed by C4ADS and The
Washington Post (June 2024) are not public; these files imitate their shape only.

* Vessels, MMSI/IMO numbers, waybills, wagons, consignors and consignees are FICTITIOUS
  (vessel names end in "(DEMO)"; IMO numbers start with 99; MMSI 2739900xx, 6209900xx).
* One shuttle, {renamed_from}, becomes {renamed_to} at sea (new MMSI, name, call sign
  and flag; same IMO): vessels.csv lists both identities.
* Stations (ESR codes, OpenStreetMap coordinates), depots (public reporting), ports
  (UN/LOCODE) are real places; the movements between them are invented.
* truth.json states what the contract's analysis rules with default parameters
  (window {window} days, lookback {lookback} days, near {near:g} km, origin KP) must find.

Files (ingest KIND: file):
  shipments:  {shipments} (Windows-1251, ';', Russian headers, departures)
              {arrivals} (UTF-8 with BOM, ',', arrival records at destination)
  ais:        ais_positions.csv
  vessels:    vessels.csv
  sightings:  sightings.csv (satellite-imagery sightings: the only evidence of the Rajin calls)
  ports:      ports.csv (custom port RUDUN; RUVYP and KPNJN come from the default gazetteer)
  stations:   stations.csv
  facilities: facilities.csv
  watchlist:  watchlist.csv (DEMO-LIST: the four fictitious shuttle ships)
"""


def generate_sample_case(
    out_dir: Path,
    seed: int = DEFAULT_SEED,
    *,
    identity_change: bool = True,
    detections: bool = False,
) -> SampleCase:
    """Write the synthetic sample case into `out_dir` and return its paths and truth.
    `identity_change=False`: the same case without the shuttle's change of identity.
    `detections=True`: the sightings of dark calls replaced by the anonymous satellite
    detections they stand for, plus lit and noise detections, and hull lengths in
    vessels.csv (sample/detections.py); the truth is the same."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    planted = plant(seed, identity_change)
    fmt_rng = _rngs(seed)[4]
    rows, broken, duplicates = _shipment_rows(planted, fmt_rng)
    arrival_rows, label_changes = rail.arrival_rows(
        planted.linked, [c for c in planted.coal_containers if c.category == "coal"], fmt_rng
    )
    inputs: dict[str, list[Path]] = {
        "shipments": [
            _write_csv(
                out / SHIPMENTS_FILE,
                rail.DEPARTURE_HEADER,
                rows,
                encoding="cp1251",
                delimiter=";",
                newline="\r\n",
            ),
            _write_csv(
                out / ARRIVALS_FILE, rail.ARRIVAL_HEADER, arrival_rows, encoding="utf-8-sig"
            ),
        ],
        "ais": [
            _write_csv(
                out / "ais_positions.csv",
                ("mmsi", "timestamp", "lat", "lon", "sog", "cog", "heading", "nav_status"),
                _ais_rows(planted.fixes),
            )
        ],
    }
    sightings = planted.sightings
    if detections:
        dark = [(row, vessel) for row, (vessel, is_dark) in zip(sightings, planted.sighting_tags, strict=True)
                if is_dark]  # fmt: skip
        sightings = [row for row, (_, is_dark) in zip(sightings, planted.sighting_tags, strict=True)
                     if not is_dark]  # fmt: skip
        inputs["detections"] = [_write_csv(out / "detections.csv", DETECTION_HEADER,
                                           detection_rows(dark, planted.fixes, _rngs(seed, 6)[5]))]  # fmt: skip
    inputs["sightings"] = [_write_csv(out / "sightings.csv", SIGHTING_HEADER, sightings)]
    inputs.update(_reference_files(out, planted.identity_change is not None, detections))
    counts = {
        "file_rows": len(rows),
        "kept": len(rows) - len(broken) - len(duplicates),
        "quarantined": len(broken),
        "duplicates": len(duplicates),
        "arrival_file_rows": len(arrival_rows),
    }
    truth = build_truth(planted, seed, counts, label_changes)
    truth["quarantine_reasons"] = sorted({reason for reason, _ in broken})
    _write_csv(out / LINKED_FILE, LINKED_HEADER, _linked_rows(planted))
    truth_path = out / "truth.json"
    truth_path.write_text(
        json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    readme = out / "README.txt"
    readme.write_text(
        README.format(
            banner=BANNER,
            seed=seed,
            window=WINDOW_DAYS,
            lookback=LOOKBACK_DAYS,
            near=NEAR_KM,
            shipments=SHIPMENTS_FILE,
            arrivals=ARRIVALS_FILE,
            renamed_from=RENAMED_FROM.name,
            renamed_to=RENAMED_TO.name,
        ),
        encoding="utf-8",
    )
    ordered: dict[str, list[Path]] = {
        kind: inputs[kind]
        for kind in (
            "shipments",
            "ais",
            "vessels",
            "sightings",
            "detections",
            "ports",
            "stations",
            "facilities",
            "watchlist",
        )
        if kind in inputs
    }
    return SampleCase(out, seed, ordered, truth, truth_path, readme)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the SYNTHETIC cargotrace sample case.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    case = generate_sample_case(args.out_dir, args.seed)
    t = case.truth
    print(
        f"{BANNER}: wrote {case.out_dir} ({t['linked_shipments']} linked shipments, {t['linked_tonnes']:.1f} t, {t['sites']} sites)"
    )


if __name__ == "__main__":
    main()
