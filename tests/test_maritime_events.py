"""Loitering and likely intentional AIS disabling (GFW definitions, thresholds as settings) on
hand-built tracks with exact answers; distance from shore from a land polygon in `borders`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from test_maritime_support import T0, east, rows, run, series

LAND = "POLYGON ((140 39.5, 141 39.5, 141 40.5, 140 40.5, 140 39.5))"  # coast at 141 E
OPEN_SEA = (40.0, 148.0)  # ~600 km east of the land, ~170 km west of the test port
COAST = (40.0, 141.0)


def _loiter(mmsi, sogs, at=OPEN_SEA, start=T0):
    return series(mmsi, start, at, sogs)


def test_loitering_needs_slow_long_and_away_from_port_and_shore():
    fixes = _loiter(1, [1.0] * 31)  # 5 h at 1 kn in open sea: loitering
    fixes += _loiter(2, [1.0] * 25)  # exactly 4 h: loitering (inclusive)
    fixes += _loiter(3, [1.0] * 22)  # 3.5 h: too short
    fixes += _loiter(4, [5.0] * 31)  # 5 kn: not slow
    fixes += _loiter(5, [1.0] * 31, at=east(COAST, 30.0))  # 30 km from shore (< 20 nm)
    fixes += _loiter(6, [1.0] * 31, at=east(COAST, 45.0))  # 45 km from shore: loitering
    # 3 h, an AIS gap of 7 h, 3 h: two runs, neither long enough
    fixes += _loiter(7, [1.0] * 19) + _loiter(7, [1.0] * 19, start=T0 + timedelta(hours=10))
    con = run(fixes, land=[LAND])
    found = rows(con, "SELECT * FROM loitering ORDER BY mmsi")
    assert [r["mmsi"] for r in found] == [1, 2, 6]
    first = found[0]
    assert (first["started_at"], first["ended_at"], first["hours"], first["fixes"]) == (
        T0,
        T0 + timedelta(hours=5),
        5.0,
        31,
    )
    assert (first["lat"], first["lon"], first["median_sog_kn"]) == (
        pytest.approx(OPEN_SEA[0]),
        pytest.approx(OPEN_SEA[1]),
        1.0,
    )
    assert first["shore_known"] is True and first["shore_km"] > 500
    assert found[2]["shore_km"] == pytest.approx(45.0, abs=0.5)
    assert found[0]["nearest_port_km"] > 10


def test_loitering_near_a_port_is_not_loitering():
    from test_maritime_support import PORT, north

    con = run(_loiter(1, [1.0] * 31, at=north(PORT, 8.0)), land=[LAND])  # 8 km from the port
    assert rows(con, "SELECT * FROM loitering") == []
    con = run(_loiter(1, [1.0] * 31, at=north(PORT, 12.0)), land=[LAND], loitering_min_port_km=15.0)
    assert rows(con, "SELECT * FROM loitering") == []


def test_without_land_the_shore_rule_is_not_applied_and_said_so():
    con = run(_loiter(5, [1.0] * 31, at=east(COAST, 30.0)))
    [event] = rows(con, "SELECT * FROM loitering")
    assert event["shore_known"] is False and event["shore_km"] is None


def _dark(mmsi, step_min, end_at=(40.5, 148.5), gap_h=20.0, start_at=OPEN_SEA):
    """Fixes every `step_min` minutes for 12 h, then `gap_h` hours of silence, then one fix."""
    before = series(mmsi, T0, start_at, [10.0] * (12 * 60 // step_min + 1), step_min=step_min)
    last = before[-1][1]
    return before + series(mmsi, last + timedelta(hours=gap_h), end_at, [10.0])


def test_likely_intentional_disabling_needs_long_far_and_well_received():
    fixes = _dark(1, 10)  # 73 fixes in the 12 h before a 20 h gap, far offshore: likely
    fixes += _dark(2, 120)  # 7 fixes in the 12 h before: poorly received, not likely
    fixes += _dark(3, 10, end_at=east(COAST, 60.0))  # ends 60 km from shore (< 50 nm)
    fixes += _dark(4, 10, gap_h=10.0)  # a 10 h gap: too short to be considered
    con = run(fixes, land=[LAND])
    found = {r["mmsi"]: r for r in rows(con, "SELECT * FROM ais_disabling")}
    assert sorted(found) == [1, 2, 3]
    one = found[1]
    assert (one["hours"], one["prior_fixes"], one["fixes_per_hour_before"]) == (
        20.0,
        73,
        round(73 / 12, 2),
    )
    assert one["started_at"] == T0 + timedelta(hours=12) and one["likely_intentional"] is True
    assert one["start_shore_km"] > 92.6 and one["end_shore_km"] > 92.6
    assert (found[2]["prior_fixes"], found[2]["likely_intentional"]) == (7, False)
    assert (
        found[3]["end_shore_km"] == pytest.approx(60.0, abs=0.5)
        and found[3]["likely_intentional"] is False
    )
    # the thresholds are settings: 7 fixes are enough when the setting says so
    con = run(fixes, land=[LAND], disabling_min_prior_fixes=7)
    assert rows(con, "SELECT mmsi FROM ais_disabling WHERE likely_intentional ORDER BY mmsi") == [
        {"mmsi": 1},
        {"mmsi": 2},
    ]


def test_disabling_without_land_is_never_marked_likely():
    con = run(_dark(1, 10))
    [gap] = rows(con, "SELECT * FROM ais_disabling")
    assert (gap["shore_known"], gap["likely_intentional"], gap["start_shore_km"]) == (
        False,
        False,
        None,
    )


def _spoofed(mmsi, at, jump_at, false_at, start=T0, hours=7.0, sog=0.1):
    """A vessel at `at` every 10 min for `hours`, whose fix at `jump_at` reads `false_at`."""
    fixes = series(mmsi, start, at, [sog] * int(hours * 6 + 1))
    return [
        (m, t, *false_at, s) if t == jump_at else (m, t, la, lo, s) for m, t, la, lo, s in fixes
    ]


def test_interference_is_many_vessels_jumping_in_one_cell_and_hour():
    from test_maritime_support import PORT, north

    false_at = north(PORT, 100.0)  # every receiver is shown at the same false spot
    jump = T0 + timedelta(hours=4)
    fixes = _spoofed(1, PORT, jump, false_at)  # moored at the port
    fixes += _spoofed(2, north(PORT, 3.0), jump, false_at, sog=8.0)
    fixes += _spoofed(3, north(PORT, 4.0), jump, false_at, sog=8.0)
    fixes += _spoofed(4, OPEN_SEA, jump, north(OPEN_SEA, 100.0), sog=8.0)  # alone: no interference
    con = run(fixes)
    cells = rows(
        con,
        "SELECT hour_start, cell_y, cell_x, vessels, jump_ends FROM interference ORDER BY cell_y",
    )
    assert cells == [
        {"hour_start": jump, "cell_y": 80, "cell_x": 300, "vessels": 3, "jump_ends": 6},
        {"hour_start": jump, "cell_y": 81, "cell_x": 300, "vessels": 3, "jump_ends": 6},
    ]
    calls = rows(
        con, "SELECT port_call_id, arrived_at FROM port_calls WHERE mmsi = 1 ORDER BY arrived_at"
    )
    flagged = rows(con, "SELECT kind, event_id FROM interference_flags WHERE mmsi = 1")
    # the spoofed fix is kept out of the track: one call, which overlaps the hour and is flagged
    assert [c["arrived_at"] for c in calls] == [T0]
    assert flagged == [{"kind": "port_call", "event_id": calls[0]["port_call_id"]}]
    assert rows(con, "SELECT mmsi, timestamp FROM spoofed_positions ORDER BY mmsi") == [
        {"mmsi": m, "timestamp": jump} for m in (1, 2, 3, 4)
    ]
    con = run(fixes, interference_min_vessels=4)
    assert rows(con, "SELECT * FROM interference") == []
