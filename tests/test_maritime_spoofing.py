"""Spoofed fixes (a fix that jumps out and straight back: maritime/track.spoofed_sql) are
kept out of the track, so they neither make nor break port calls, nor hide gaps, nor make a
ship look like a cloned MMSI; the positions keep them and the interference stage still sees
them. Hand-built tracks with exact answers, the SQL and the NumPy kernel alike."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from test_maritime_kernels import _case, assert_same
from test_maritime_support import PORT, T0, east, north, rows, run, series

FAR = north(PORT, 300.0)  # 300 km north: ten minutes away only at 970 kn
SEA = north(PORT, 60.0)  # open sea, well outside the port


def _with(fixes: list, mmsi: int, at: timedelta, where: tuple[float, float]) -> list:
    """`fixes` plus one fix of `mmsi` at T0 + `at`, `where`, stopped."""
    return sorted([*fixes, (mmsi, T0 + at, where[0], where[1], 0.0)], key=lambda f: (f[0], f[1]))


def _fleet() -> list:
    # 1: six hours stopped in port, fixes every 10 min, one spoofed fix 300 km away at 3 h 05
    fixes = _with(series(1, T0, PORT, [0.0] * 37), 1, timedelta(hours=3, minutes=5), FAR)
    # 2: in port, then silent 5 h (an in-port gap: a call) with one spoofed report in it
    two = series(2, T0, PORT, [0.0] * 4) + series(
        2, T0 + timedelta(hours=5, minutes=30), PORT, [0.0] * 4
    )
    fixes += _with(two, 2, timedelta(hours=3), FAR)
    # 3: at sea, dark for 10 h, with one spoofed report in the middle: still one 10 h gap
    three = series(3, T0, SEA, [10.0] * 7) + series(3, T0 + timedelta(hours=11), SEA, [10.0] * 7)
    fixes += _with(three, 3, timedelta(hours=6), north(SEA, 2000.0))  # 2000 km in 5 h: 216 kn
    # 4: at sea with two spoofed fixes (four impossible jumps): not a cloned MMSI
    four = series(4, T0, SEA, [10.0] * 30)
    four = _with(four, 4, timedelta(hours=1, minutes=5), FAR)
    fixes += _with(four, 4, timedelta(hours=3, minutes=5), north(FAR, 200.0))
    # 5: two ships on one MMSI reporting in turn: split as before, nothing spoofed
    fixes += [
        (5, T0 + timedelta(minutes=10 * i), *(SEA if i % 2 else FAR), 10.0) for i in range(12)
    ]
    return fixes


def test_spoofed_fixes_neither_make_nor_break_calls_nor_hide_gaps():
    con = run(_fleet())
    spoofed = rows(con, "SELECT mmsi, ts FROM spoofed_fixes ORDER BY mmsi, ts")
    assert [(r["mmsi"], r["ts"] - T0) for r in spoofed] == [
        (1, timedelta(hours=3, minutes=5)),
        (2, timedelta(hours=3)),
        (3, timedelta(hours=6)),
        (4, timedelta(hours=1, minutes=5)),
        (4, timedelta(hours=3, minutes=5)),
    ]
    calls = rows(con, "SELECT mmsi, arrived_at, departed_at FROM port_calls ORDER BY mmsi")
    assert [(c["mmsi"], c["arrived_at"] - T0, c["departed_at"] - T0) for c in calls] == [
        (1, timedelta(0), timedelta(hours=6)),  # one call, not two halves
        (2, timedelta(0), timedelta(hours=6)),  # the in-port gap is 5 h, not two of 2.5 h
    ]
    gaps = rows(con, "SELECT mmsi, hours FROM gaps WHERE mmsi = 3")
    assert gaps == [{"mmsi": 3, "hours": 10.0}]
    assert rows(con, "SELECT mmsi FROM shared_mmsi ORDER BY mmsi") == [{"mmsi": 5}]
    # the positions keep them: the interference stage sees every jump
    assert rows(con, "SELECT count(DISTINCT mmsi) AS n FROM position_jumps WHERE mmsi <= 4") == [
        {"n": 4}
    ]


@pytest.mark.parametrize("step_min", [10, 1])
def test_kernel_and_sql_take_out_the_same_fixes(step_min):
    fixes = [(m, T0 + (t - T0) * step_min / 10, lat, lon, sog) for m, t, lat, lon, sog in _fleet()]
    counts = assert_same(_case(fixes))
    assert counts["spoofed_fixes"] == 5 and counts["shared_mmsi"] == 1


def _circle(mmsi: int, centre: tuple[float, float], radius_km: float, start=T0) -> list:
    """Twelve fixes in one hour, every 30 degrees round a circle (exact on the flat offsets
    the SQL uses)."""
    from cargotrace.reference.geodesy import KM_PER_DEG

    out = []
    for i in range(12):
        a = math.radians(30 * i)
        dlat = radius_km * math.sin(a) / KM_PER_DEG
        dlon = radius_km * math.cos(a) / (KM_PER_DEG * math.cos(math.radians(centre[0])))
        out.append(
            (mmsi, start + timedelta(minutes=5 * i), centre[0] + dlat, centre[1] + dlon, 6.0)
        )
    return out


def test_circling_together_is_interference():
    centre = north(PORT, 20.0)
    fixes = (
        _circle(11, centre, 2.0) + _circle(12, east(centre, 3.0), 1.0) + _circle(13, centre, 5.0)
    )
    fixes += series(14, T0, centre, [10.0] * 12, step_min=5)[:1]  # one fix: too few
    fixes += [
        (15, T0 + timedelta(minutes=5 * i), *east(centre, 1.5 * i), 10.0) for i in range(12)
    ]  # straight
    fixes += [
        (16, T0 + timedelta(minutes=5 * i), *north(centre, 0.05 * (i % 2)), 0.1) for i in range(12)
    ]  # at anchor
    fixes += _circle(17, north(PORT, 400.0), 2.0)  # circling alone, far away
    fixes += _circle(18, centre, 0.3)  # a circle narrower than circling_min_radius_km
    con = run(fixes)
    circling = rows(con, "SELECT mmsi, fixes, radius_km, resultant FROM circling ORDER BY mmsi")
    assert [(r["mmsi"], r["fixes"]) for r in circling] == [(11, 12), (12, 12), (13, 12), (17, 12)]
    assert [r["radius_km"] for r in circling] == pytest.approx([2.0, 1.0, 5.0, 2.0], abs=1e-3)
    assert all(r["resultant"] <= 1e-3 for r in circling)
    [cell] = rows(con, "SELECT hour_start, vessels, jump_ends, circling_vessels FROM interference")
    assert cell == {"hour_start": T0, "vessels": 3, "jump_ends": 0, "circling_vessels": 3}
    con = run(fixes, interference_min_vessels=4)
    assert rows(con, "SELECT * FROM interference") == []
    con = run(fixes, circling_max_radius_km=4.0)  # 13 no longer circles: two vessels, no cell
    assert rows(con, "SELECT * FROM interference") == []


def test_a_spoofed_fix_does_not_break_loitering():
    from test_maritime_support import east

    sea = east(north(PORT, 100.0), 300.0)  # far from the port; no land in the case
    fixes = _with(series(21, T0, sea, [1.0] * 31), 21, timedelta(hours=2, minutes=5), FAR)
    con = run(fixes)
    [event] = rows(con, "SELECT mmsi, started_at, ended_at, fixes FROM loitering")
    assert event == {"mmsi": 21, "started_at": T0, "ended_at": T0 + timedelta(hours=5), "fixes": 31}
