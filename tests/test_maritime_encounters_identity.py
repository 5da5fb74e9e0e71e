"""Encounters at the boundary of every threshold (500 m, 2 h, 2 kn, 10 km from a port), and
identity events: a shared MMSI split into two transmitters, name/flag/IMO/MMSI changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cargotrace.maritime import identity
from cargotrace.settings import AnalysisSettings
from test_maritime_support import T0, east, north, port_row, rows, run

SEA = (40.0, 160.0)
A, B = 273000001, 273000002


def meeting(distance_km=0.4, bins=12, sog=1.0, at=SEA, offset=north):
    """Both vessels report once per 10-minute bin, mid-bin, `distance_km` apart."""
    other = offset(at, distance_km)
    fixes = []
    for i in range(bins):
        t = T0 + timedelta(minutes=10 * i + 5)
        fixes += [(A, t, *at, sog), (B, t, *other, sog)]
    return fixes


def encounters(fixes, ports=()):
    return rows(run(fixes, ports=ports), "SELECT * FROM encounters")


@pytest.mark.parametrize(("km", "found"), [(0.499, True), (0.501, False)])
def test_within_500_m(km, found):
    got = encounters(meeting(distance_km=km))
    assert len(got) == (1 if found else 0)
    if found:
        e = got[0]
        assert (e["mmsi_a"], e["mmsi_b"], e["median_distance_m"]) == (A, B, 499.0)
        assert (e["started_at"], e["ended_at"], e["hours"]) == (T0, T0 + timedelta(hours=2), 2.0)


@pytest.mark.parametrize(("bins", "found"), [(11, False), (12, True)])
def test_for_at_least_2_hours(bins, found):
    assert len(encounters(meeting(bins=bins))) == (1 if found else 0)


@pytest.mark.parametrize(("sog", "found"), [(1.99, True), (2.0, False)])
def test_median_speed_below_2_kn(sog, found):
    assert len(encounters(meeting(sog=sog))) == (1 if found else 0)


@pytest.mark.parametrize(("km", "found"), [(9.99, False), (10.01, True)])
def test_more_than_10_km_from_a_port(km, found):
    middle = north(SEA, 0.2)  # the meeting's position: the mean of the two vessels' positions
    got = encounters(meeting(), ports=(port_row("XXPRT", north(middle, -km)),))
    assert len(got) == (1 if found else 0)
    if found:
        assert got[0]["nearest_port_km"] == pytest.approx(10.0, abs=0.02)


@pytest.mark.parametrize("lat", [0.0, 60.0, 75.0, -80.0])
def test_neighbouring_cells_hold_pairs_at_any_latitude(lat):
    # due east, where longitude cells are narrowest; 499 m is found, wherever the cell edges fall
    for shift in (0.0, 0.0031, 0.0067):
        got = encounters(meeting(distance_km=0.499, at=(lat, 160.0 + shift), offset=east))
        assert len(got) == 1, (lat, shift)


def test_interrupted_meeting_is_two_runs():
    fixes = meeting(bins=12) + [
        (f[0], f[1] + timedelta(hours=2, minutes=10), *f[2:]) for f in meeting(bins=12)
    ]
    assert [e["hours"] for e in encounters(fixes)] == [2.0, 2.0]


# ---------------------------------------------------------------------------- identity
HOME, CLONE = (40.0, 150.0), (41.0, 151.0)  # ~140 km apart


def two_transmitters(n, mmsi=A):
    """One MMSI reported alternately from two places 140 km apart, every 10 minutes."""
    return [
        (mmsi, T0 + timedelta(minutes=10 * i), *(HOME if i % 2 == 0 else CLONE), 0.1)
        for i in range(n)
    ]


def test_shared_mmsi_is_split_and_flagged():
    con = run(two_transmitters(14), ports=(port_row("XXCLN", CLONE),))
    tracks = rows(
        con, "SELECT tx, count(*) AS n, min(lat) AS lat FROM track GROUP BY tx ORDER BY tx"
    )
    assert [(t["tx"], t["n"], t["lat"]) for t in tracks] == [(0, 7, 40.0), (1, 7, 41.0)]
    [event] = rows(con, "SELECT * FROM identity_events")
    assert (event["event"], event["vessel_key"], event["mmsi"]) == ("shared_mmsi", f"{A}#2", A)
    assert "13 impossible jumps" in event["detail"]
    # the second transmitter's stop in port is its own call, not a jumble of both
    [call] = rows(con, "SELECT * FROM port_calls")
    assert (call["vessel_key"], call["port_locode"], call["mmsi"]) == (f"{A}#2", "XXCLN", A)
    assert rows(con, "SELECT count(*) AS n FROM gaps")[0]["n"] == 0


@pytest.mark.parametrize(
    "fixes",
    [
        # a fast ship: 60 km in an hour (32 kn) is possible
        [(A, T0 + timedelta(hours=i), *north(HOME, 60.0 * i), 30.0) for i in range(10)],
        # one wild fix jumps away and back: two jumps, below the four that make a shared MMSI
        [(A, T0 + timedelta(minutes=10 * i), *(CLONE if i == 5 else HOME), 0.1) for i in range(12)],
    ],
    ids=["fast-ship", "one-outlier"],
)
def test_no_split_without_repeated_impossible_jumps(fixes):
    con = run(fixes, ports=())
    assert rows(con, "SELECT count(DISTINCT tx) AS n FROM track")[0]["n"] == 1
    assert rows(con, "SELECT count(*) AS n FROM identity_events")[0]["n"] == 0


def test_identity_changes_from_vessel_reports():
    reports = [
        (A, "1234567", "ALPHA", "UABC", "RU", T0, "v.csv", 1),
        (
            A,
            "1234567",
            "Alpha ",
            "UABC",
            "RU",
            T0 + timedelta(days=1),
            "v.csv",
            2,
        ),  # same name, other spelling
        (A, "1234567", "BETA", "UABC", "KM", T0 + timedelta(days=2), "v.csv", 3),
        (A, "7654329", "BETA", "UABC", "KM", T0 + timedelta(days=3), "v.csv", 4),
        (B, "1234567", "BETA", "UABC", "KM", T0 + timedelta(days=4), "v.csv", 5),
    ]
    con = run([], ports=(), reports=reports)
    got = [(e["event"], e["previous_value"], e["new_value"], e["source_row"]) for e in
           rows(con, "SELECT * FROM identity_events ORDER BY observed_at, event")]  # fmt: skip
    assert got == [
        ("flag_change", "RU", "KM", 3),
        ("name_change", "ALPHA", "BETA", 3),
        ("imo_change", "1234567", "7654329", 4),
        ("mmsi_change", str(A), str(B), 5),
    ]


def test_a_placeholder_imo_makes_no_mmsi_change():
    """1073741823 (all 30 bits set) and 0000001 are what unrelated yachts send in the IMO
    field (the shared real logs): they are no evidence that two MMSIs are one ship."""
    reports = [
        (A, "1073741823", "GLORIA MARIS", None, None, T0, "ais.nmea", 1),
        (B, "1073741823", "BLUE STAR", None, None, T0 + timedelta(days=1), "ais.nmea", 2),
        (A, "0000001", "GLORIA MARIS", None, None, T0 + timedelta(days=2), "ais.nmea", 3),
        (B, "0000001", "BLUE STAR", None, None, T0 + timedelta(days=3), "ais.nmea", 4),
    ]
    con = run([], ports=(), reports=reports)
    events = rows(con, "SELECT event FROM identity_events WHERE event = 'mmsi_change'")
    assert events == []


def test_a_flag_inferred_from_the_mmsi_is_not_a_flag_change():
    reports = [
        (A, None, "ALPHA", None, "RU", T0, "ais.nmea", 1),  # static AIS: flag from the MID
        (A, "1234567", "ALPHA", "UABC", "KM", T0 + timedelta(days=1), "registry.csv", 2),
        (A, None, "ALPHA", None, "RU", T0 + timedelta(days=2), "ais.nmea", 3),
        (A, "1234567", "ALPHA", "UABC", "MN", T0 + timedelta(days=3), "registry.csv", 4),
    ]
    con = run([], ports=(), reports=reports)
    con.execute(
        "UPDATE vessel_reports SET flag_source = CASE WHEN source_file = 'ais.nmea' THEN 'mid' ELSE 'reported' END"
    )
    con.execute(" ".join(identity.statements(AnalysisSettings())))
    got = [(e["event"], e["previous_value"], e["new_value"], e["source_row"]) for e in
           rows(con, "SELECT * FROM identity_events ORDER BY observed_at, event")]  # fmt: skip
    assert got == [("flag_change", "KM", "MN", 4)]


# ----------------------------------------------------------------------------- candidate pairs
def _close_pairs_by_sql(
    points: list[tuple[int, float, float]], settings: AnalysisSettings
) -> set[tuple[int, int]]:
    import duckdb

    from cargotrace.maritime import encounters as stage

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE positions (mmsi BIGINT, timestamp TIMESTAMPTZ, lat DOUBLE, lon DOUBLE, sog DOUBLE)"
    )
    con.executemany(
        "INSERT INTO positions VALUES (?, ?, ?, ?, 0.0)",
        [(m, T0, lat, lon) for m, lat, lon in points],
    )
    for statement in stage.statements(settings)[:2]:
        con.execute(statement)
    return set(con.execute("SELECT mmsi_a, mmsi_b FROM close_pairs").fetchall())


def _close_pairs_by_brute_force(
    points: list[tuple[int, float, float]], max_m: float
) -> set[tuple[int, int]]:
    import math

    found = set()
    for i, (ma, lat1, lon1) in enumerate(points):
        for mb, lat2, lon2 in points[i + 1 :]:
            p1, p2 = math.radians(lat1), math.radians(lat2)
            h = (
                math.sin((p2 - p1) / 2) ** 2
                + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
            )
            if 2 * 6371.0088 * math.asin(math.sqrt(h)) * 1000 <= max_m:
                found.add((min(ma, mb), max(ma, mb)))
    return found


@pytest.mark.parametrize("max_m", [500.0, 2000.0])
@pytest.mark.parametrize("lat", [0.0, -0.004, -33.9, 40.0095, 59.99, 71.2, -75.005, 84.5, 88.5])
def test_candidate_cells_find_every_pair_within_the_distance(lat, max_m):
    """Every pair within `encounter_max_m` in one bin is found, none beyond it: points in a
    cloud a few cells wide around `lat`, on both sides of cell edges and cell middles, at
    500 m and 2 km (a 2 km setting used to miss pairs two cells apart; each bin is now copied
    to 4 cells, not 9)."""
    import random

    rng = random.Random(f"{lat}-{max_m}")
    spread = max_m / 111_000 * 3
    points = [(273000000 + i, lat + rng.uniform(-spread, spread), 150.0 + rng.uniform(-spread, spread) * 3)
              for i in range(160)]  # fmt: skip
    points += [
        (273100000, 40.0095, 150.0),
        (273100001, 40.0095 + 0.0135, 150.0),
    ]  # 1.5 km, two bands apart
    settings = AnalysisSettings(encounter_max_m=max_m)
    expected = _close_pairs_by_brute_force(points, max_m)
    assert _close_pairs_by_sql(points, settings) == expected
    assert expected  # the cloud is dense enough to hold pairs
