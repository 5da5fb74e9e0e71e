"""The bundled SYNTHETIC sample case: determinism, formats, check digits, and a truth that
an independent re-reading of the written files confirms."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cargotrace.sample.generate import SampleCase, generate_sample_case

KINDS = {"shipments", "ais", "vessels", "sightings", "ports", "stations", "facilities", "watchlist"}
PORT_AREAS = {  # locode -> (lat, lon, radius_km): gazetteer points, custom Dunai port
    "RUVYP": (42.733333, 133.05, 5.0),
    "KPNJN": (42.2333, 130.3, 5.0),
    "KRPUS": (35.098203, 129.035797, 5.0),
    "CNSHA": (31.400091, 121.497113, 5.0),
    "RUDUN": (42.88, 132.34, 3.0),
}
DEPOT_CATEGORIES = {"ammunition_depot", "arsenal"}


# --- local check digits (independent of cargotrace.reference) -----------------------------
def esr_check(five: str) -> int:
    d = [int(c) for c in five]
    s = sum(x * w for x, w in zip(d, range(1, 6), strict=True)) % 11
    if s == 10:
        s = sum(x * w for x, w in zip(d, range(3, 8), strict=True)) % 11
        s = 0 if s == 10 else s
    return s


def esr_ok(code: str) -> bool:
    return bool(re.fullmatch(r"\d{6}", code)) and esr_check(code[:5]) == int(code[5])


def wagon_ok(number: str) -> bool:
    if not re.fullmatch(r"\d{8}", number) or number[0] not in "2467":
        return False
    total = sum(
        sum(divmod(int(d) * w, 10)) for d, w in zip(number[:7], (2, 1, 2, 1, 2, 1, 2), strict=True)
    )
    return (10 - total % 10) % 10 == int(number[7])


def imo_ok(imo: str) -> bool:
    return len(imo) == 7 and sum(
        int(d) * w for d, w in zip(imo[:6], range(7, 1, -1), strict=True)
    ) % 10 == int(imo[6])


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


# --- fixtures -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> SampleCase:
    return generate_sample_case(tmp_path_factory.mktemp("sample"))


def read_csv(path: Path, encoding: str = "utf-8", delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding=encoding)), delimiter=delimiter))


def departure_lines(case: SampleCase) -> list[list[str]]:
    text = case.inputs["shipments"][0].read_bytes().decode("cp1251")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


# --- basic properties ---------------------------------------------------------------------
def test_deterministic_and_fast(tmp_path: Path, case: SampleCase) -> None:
    start = time.perf_counter()
    other = generate_sample_case(tmp_path / "again")
    assert time.perf_counter() - start < 5.0
    names = sorted(p.name for p in case.out_dir.iterdir())
    assert names == sorted(p.name for p in other.out_dir.iterdir())
    for name in names:
        assert (case.out_dir / name).read_bytes() == (other.out_dir / name).read_bytes(), name


def test_other_seed_differs_but_keeps_the_story(tmp_path: Path) -> None:
    other = generate_sample_case(tmp_path, seed=7)
    assert other.truth["sites"] == 16 and other.truth["sites_near_facility"] == 12
    assert abs(other.truth["linked_tonnes"] - 74_000) / 74_000 < 0.02
    assert len(other.truth["arrivals_of_interest"]) == 25


def test_inputs_and_synthetic_notice(case: SampleCase) -> None:
    assert set(case.inputs) == KINDS
    assert all(p.exists() for paths in case.inputs.values() for p in paths)
    assert "SYNTHETIC" in case.readme_path.read_text("utf-8")
    assert json.loads(case.truth_path.read_text("utf-8")) == case.truth
    assert case.truth["synthetic"] is True


def test_encodings_and_headers(case: SampleCase) -> None:
    departures, arrivals = case.inputs["shipments"]
    raw = departures.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    header = raw.decode("cp1251").splitlines()[0]
    assert header.startswith("Номер накладной;Операция;Дата отправления;")
    assert header.endswith("Вес груза, кг;Грузоотправитель;Грузополучатель;Номер вагона")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert arrivals.read_bytes().startswith(b"\xef\xbb\xbf")
    first = arrivals.read_text("utf-8-sig").splitlines()[0]
    assert (
        first
        == "waybill,wagon,record,departed_on,arrived_on,origin_station,origin_esr,destination_station,destination_esr,cargo,weight_t"
    )


def test_messy_values_present(case: SampleCase) -> None:
    rows = departure_lines(case)[1:]
    full = [r for r in rows if len(r) == 13]
    assert any(re.fullmatch(r"\d\d\.\d\d\.\d\d", r[2]) for r in full)
    assert any(re.fullmatch(r"\d{1,3} \d{3},\d", r[9]) for r in full)
    assert any(re.fullmatch(r"\d+,\d", r[9]) for r in full)
    assert any(len(r[4]) == 5 for r in full)
    assert "31.02.2023" in {r[2] for r in full}


# --- identifiers --------------------------------------------------------------------------
def test_check_digits(case: SampleCase) -> None:
    stations = read_csv(case.inputs["stations"][0])
    codes = {s["esr"] for s in stations}
    assert all(esr_ok(c) for c in codes)
    fives = {c[:5] for c in codes}
    rows = [r for r in departure_lines(case)[1:] if len(r) == 13]
    for r in rows:
        assert wagon_ok(r[12]), r
        for esr in (r[4], r[6]):
            assert esr in codes or (len(esr) == 5 and esr in fives), r
    for r in read_csv(case.inputs["shipments"][1], "utf-8-sig"):
        assert wagon_ok(r["wagon"]) and r["origin_esr"] in codes and r["destination_esr"] in codes
    for v in read_csv(case.inputs["vessels"][0]):
        assert imo_ok(v["imo"]) and v["imo"].startswith("99")
        assert v["mmsi"].startswith(("2739900", "6209900"))


def test_fictitious_vessels_only(case: SampleCase) -> None:
    text = " ".join(
        p.read_text("utf-8").upper()
        for k in ("vessels", "sightings", "watchlist")
        for p in case.inputs[k]
    )
    for real in ("LADY R", "ANGARA", "MARIA", "MAIA", "9161003", "9358010", "9179842", "8517839"):
        assert real not in text
    watch = read_csv(case.inputs["watchlist"][0])
    assert len(watch) == 4 and {w["list"] for w in watch} == {"DEMO-LIST"}


# --- geography ----------------------------------------------------------------------------
def test_sites_and_facilities(case: SampleCase) -> None:
    t = case.truth
    assert t["sites"] == 16 and t["sites_near_facility"] == 12 and len(t["site_names"]) == 16
    depots = [
        f for f in read_csv(case.inputs["facilities"][0]) if f["category"] in DEPOT_CATEGORIES
    ]
    assert len(depots) == 7
    sites = t["site_details"]
    for s in sites:
        km = min(haversine_km(s["lat"], s["lon"], float(d["lat"]), float(d["lon"])) for d in depots)
        assert km <= 20 if s["near_facility"] else km >= 35, s
    for a in sites:
        for b in sites:
            if a is not b:
                assert haversine_km(a["lat"], a["lon"], b["lat"], b["lon"]) > 2


def test_tonnage_and_munitions(case: SampleCase) -> None:
    t = case.truth
    assert abs(t["linked_tonnes"] - 74_000) / 74_000 < 0.02
    rounds = t["linked_tonnes"] * 1000 / 46.25
    assert abs(rounds - 1_600_000) / 1_600_000 < 0.02
    assert t["munitions_equivalent"]["rounds"] == round(t["linked_tonnes"] * 1000 / 46.25)
    share = t["background_explosives_tonnes"] / (
        t["background_explosives_tonnes"] + t["linked_tonnes"]
    )
    assert 0.03 < share < 0.08
    assert t["quarantined_rows"] == 15 and t["duplicate_rows"] == 10


def test_ports_and_berths(case: SampleCase) -> None:
    ports = read_csv(case.inputs["ports"][0])
    assert ports == [
        {
            "locode": "RUDUN",
            "name": "Dunai naval facility",
            "country": "RU",
            "lat": "42.88",
            "lon": "132.34",
            "radius_km": "3",
        }
    ]
    served = {s["port_locode"] for s in read_csv(case.inputs["stations"][0]) if s["port_locode"]}
    assert served == {"RUVYP", "RUDUN"}


# --- independent mini-analysis of the written files ---------------------------------------
def ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def ais_calls(case: SampleCase) -> list[tuple[str, str, datetime, datetime]]:
    """(mmsi, port, arrived_at, departed_at): runs of fixes below 1 kn inside a port area."""
    tracks: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in read_csv(case.inputs["ais"][0]):
        tracks[row["mmsi"]].append(row)
    calls = []
    for mmsi, fixes in sorted(tracks.items()):
        fixes.sort(key=lambda r: r["timestamp"])
        times = [ts(r["timestamp"]) for r in fixes]
        assert all(
            b - a <= timedelta(minutes=20) or b - a > timedelta(hours=3)
            for a, b in zip(times, times[1:], strict=False)
        )
        run: list[tuple[str, datetime]] = []
        for row, t in [*zip(fixes, times, strict=True), (None, None)]:
            port = None
            if row is not None and float(row["sog"]) < 1:
                lat, lon = float(row["lat"]), float(row["lon"])
                port = next(
                    (p for p, (a, b, r) in PORT_AREAS.items() if haversine_km(lat, lon, a, b) <= r),
                    None,
                )
                assert port is not None, f"{mmsi} stopped outside any port at {row['timestamp']}"
            if run and (port != run[0][0] or t is None or t - run[-1][1] > timedelta(hours=1)):
                if run[-1][1] - run[0][1] >= timedelta(hours=2):
                    calls.append((mmsi, run[0][0], run[0][1], run[-1][1]))
                run = []
            if port is not None:
                run.append((port, t))  # type: ignore[arg-type]
    return calls


def all_calls(case: SampleCase) -> dict[str, list[tuple[datetime, str, set[str], str]]]:
    """Calls per hull (IMO: a ship that changed MMSI keeps its chain), each with its MMSI."""
    vessels = read_csv(case.inputs["vessels"][0])
    hull = {v["mmsi"]: v["imo"] for v in vessels}
    by_name = {v["name"]: v["mmsi"] for v in vessels}
    by_imo = {
        v["imo"]: v["mmsi"]
        for v in vessels
        if v["mmsi"] == min(m for m, i in hull.items() if i == v["imo"])
    }
    changes = {c["imo"]: c for c in case.truth["identity_changes"]}
    calls: dict[str, list[tuple[datetime, str, set[str], str]]] = defaultdict(list)
    spans = ais_calls(case)
    for mmsi, port, arr, _ in spans:
        calls[hull[mmsi]].append((arr, port, {"ais"}, mmsi))
    for s in read_csv(case.inputs["sightings"][0]):
        t = ts(s["observed_at"])
        mmsi = s["mmsi"] or by_imo.get(s["imo"]) or by_name[s["vessel_name"]]
        change = changes.get(hull[mmsi])
        if change and not s["mmsi"] and not s["vessel_name"]:  # IMO only: the MMSI in use then
            mmsi = change["to" if t >= ts(change["changed_at"]) else "from"]["mmsi"]
        match = [
            c
            for c in calls[hull[mmsi]]
            if c[1] == s["port"]
            and any(
                m == c[3] and p == s["port"] and a <= t <= d for m, p, a, d in spans if a == c[0]
            )
        ]
        if match:
            match[0][2].add("sighting")
        else:
            calls[hull[mmsi]].append((t, s["port"], {"sighting"}, mmsi))
    for imo in calls:
        calls[imo].sort(key=lambda c: c[0])
    return calls


def arrivals_of_interest(case: SampleCase) -> list[tuple[str, str, date, list[str]]]:
    out = []
    for calls in all_calls(case).values():
        for prev, cur in zip(calls, calls[1:], strict=False):
            recent = cur[0] - prev[0] <= timedelta(days=30)
            if cur[1] in {"RUVYP", "RUDUN"} and prev[1].startswith("KP") and recent:
                out.append((cur[3], cur[1], cur[0].date(), sorted(cur[2])))
    return sorted(out, key=lambda a: (a[2], a[1]))


def parse_day(text: str) -> date | None:
    for fmt in ("%d.%m.%Y", "%d.%m.%y"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).date()
        except ValueError:
            continue
    return None


def test_truth_arrivals_match_files(case: SampleCase) -> None:
    found = arrivals_of_interest(case)
    planted = [
        (a["mmsi"], a["port_locode"], date.fromisoformat(a["arrival_date"]), a["evidence"])
        for a in case.truth["arrivals_of_interest"]
    ]
    assert found == sorted(planted, key=lambda a: (a[2], a[1]))
    assert len(found) == 25
    evidence = [tuple(a[3]) for a in found]
    assert ("sighting",) in evidence and ("ais", "sighting") in evidence and ("ais",) in evidence
    dunai_sight_only = sum(1 for a in found if a[1] == "RUDUN" and a[3] == ["sighting"])
    assert dunai_sight_only == sum(1 for a in found if a[1] == "RUDUN") // 2


def test_one_shuttle_changes_identity_at_sea(case: SampleCase) -> None:
    [change] = case.truth["identity_changes"]
    vessels = [v for v in read_csv(case.inputs["vessels"][0]) if v["imo"] == change["imo"]]
    assert {v["mmsi"] for v in vessels} == {change["from"]["mmsi"], change["to"]["mmsi"]}
    at = ts(change["changed_at"])
    fixes = [(ts(r["timestamp"]), r["mmsi"]) for r in read_csv(case.inputs["ais"][0])
             if r["mmsi"] in (change["from"]["mmsi"], change["to"]["mmsi"])]  # fmt: skip
    assert all((t >= at) == (m == change["to"]["mmsi"]) for t, m in fixes)
    crossing = next(
        a for a in case.truth["arrivals_of_interest"] if a["arrival_id"] == change["arrival_id"]
    )
    assert crossing["mmsi"] == change["to"]["mmsi"] and crossing["previous_port_locode"] == "KPNJN"
    assert (
        date.fromisoformat(crossing["previous_call_date"])
        <= at.date()
        <= date.fromisoformat(crossing["arrival_date"])
    )


def test_truth_links_match_files(case: SampleCase) -> None:
    stations = read_csv(case.inputs["stations"][0])
    served = {s["esr"][:5]: s["port_locode"] for s in stations if s["port_locode"]}
    arrivals = defaultdict(list)
    for _, port, day, _ in arrivals_of_interest(case):
        arrivals[port].append(day)
    rows = departure_lines(case)[1:]
    seen: set[tuple[str, ...]] = set()
    kept, quarantined, duplicates = [], 0, 0
    for r in rows:
        if tuple(r) in seen:
            duplicates += 1
            continue
        seen.add(tuple(r))
        weight = r[9].replace(" ", "").replace(",", ".") if len(r) == 13 else ""
        if (
            len(r) != 13
            or not r[0]
            or parse_day(r[2]) is None
            or not re.fullmatch(r"\d+(\.\d+)?", weight)
        ):
            quarantined += 1
            continue
        kept.append((r, parse_day(r[2]), float(weight) / 1000))
    assert (quarantined, duplicates) == (
        case.truth["quarantined_rows"],
        case.truth["duplicate_rows"],
    )
    linked: dict[str, float] = {}
    background = 0.0
    for r, day, tonnes in kept:
        cargo = r[7].lower()
        if (
            not re.search(r"взрывчат|\bвв\b", cargo)
            or "промышл" in cargo
            or (r[4][:5] not in served)
        ):
            continue
        port = served[r[4][:5]]
        hits = [a for a in arrivals[port] if a <= day <= a + timedelta(days=7)]
        if hits:
            linked[r[0]] = tonnes
        else:
            background += tonnes
    truth_linked = {row["waybill"] for row in read_csv(case.out_dir / case.truth["linked_file"])}
    assert set(linked) == truth_linked
    assert len(linked) == case.truth["linked_shipments"]
    assert sum(linked.values()) == pytest.approx(case.truth["linked_tonnes"], abs=1e-3)
    assert background == pytest.approx(case.truth["background_explosives_tonnes"], abs=1e-3)


def test_label_changes_match_files(case: SampleCase) -> None:
    rows = read_csv(case.inputs["shipments"][1], "utf-8-sig")
    assert {r["record"] for r in rows} == {"arrival"}
    truth_linked = {row["waybill"] for row in read_csv(case.out_dir / case.truth["linked_file"])}
    changes = [r for r in rows if "боеприпас" in r["cargo"].lower()]
    assert all(r["waybill"] in truth_linked for r in changes)
    assert len(changes) == case.truth["label_changes"] > 0
    assert all(re.fullmatch(r"\d+\.\d{4}", r["weight_t"]) for r in rows)
