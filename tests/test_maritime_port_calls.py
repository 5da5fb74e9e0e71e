"""Port calls from AIS at the boundary of every threshold: stop hysteresis (0.2 / 0.5 kn),
the port area and its 1 km exit buffer, the 2 h minimum, in-port gaps (4 h), confidence,
polygons and declared anchorages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from test_maritime_support import PORT, T0, north, port_row, rows, run, series

MMSI = 273000001
FAR = north(PORT, -20.0)  # 20 km south of the port: at sea


def visit(sogs, at=PORT, step_min=10, before=True, after=True, before_gap_min=30, mmsi=MMSI):
    """A moving fix at sea, then fixes at `at` with the given speeds, then a moving fix at sea."""
    fixes = [(mmsi, T0 - timedelta(minutes=before_gap_min), *FAR, 10.0)] if before else []
    fixes += series(mmsi, T0, at, sogs, step_min)
    if after:
        fixes.append((mmsi, fixes[-1][1] + timedelta(minutes=30), *FAR, 10.0))
    return fixes


def calls(fixes, **kw):
    return rows(run(fixes, **kw), "SELECT * FROM port_calls ORDER BY arrived_at")


@pytest.mark.parametrize(("sog", "is_call"), [(0.2, False), (0.19, True)])
def test_stop_begins_only_below_0_2_kn(sog, is_call):
    assert len(calls(visit([sog] * 19))) == (1 if is_call else 0)


@pytest.mark.parametrize(("sog", "departed_min", "is_call"), [(0.5, 180, True), (0.51, 110, False)])
def test_stop_ends_only_above_0_5_kn(sog, departed_min, is_call):
    # stopped 0-110 min, then fixes at `sog` 120-180 min: at 0.5 kn the stop goes on (3 h call),
    # above 0.5 kn it ended at 110 min (1 h 50 min, no call)
    got = calls(visit([0.1] * 12 + [sog] * 7))
    assert len(got) == (1 if is_call else 0)
    if is_call:
        assert got[0]["departed_at"] == T0 + timedelta(minutes=departed_min)


@pytest.mark.parametrize(("n_fixes", "is_call"), [(12, False), (13, True)])
def test_minimum_duration_is_2_hours_inclusive(n_fixes, is_call):
    got = calls(visit([0.0] * n_fixes))  # 110 min or exactly 120 min from first to last stopped fix
    assert len(got) == (1 if is_call else 0)
    if is_call:
        assert got[0]["dwell_hours"] == 2.0
        assert got[0]["arrived_at"] == T0


@pytest.mark.parametrize(("km", "is_call"), [(4.99, True), (5.01, False)])
def test_call_begins_inside_the_port_radius(km, is_call):
    got = calls(visit([0.1] * 19, at=north(PORT, km)))
    assert len(got) == (1 if is_call else 0)


@pytest.mark.parametrize(("km", "n_calls"), [(5.99, 1), (6.01, 0)])
def test_call_ends_only_1_km_beyond_the_area(km, n_calls):
    # stopped 80 min, 30 min just outside the radius, stopped 50 min again: within the 1 km
    # buffer it is one call of 2 h 50 min; beyond it, two visits too short to be calls
    fixes = visit([0.1] * 9)[:-1]
    fixes += series(MMSI, T0 + timedelta(minutes=90), north(PORT, km), [1.0] * 3)
    fixes += series(MMSI, T0 + timedelta(minutes=120), PORT, [0.1] * 6)
    fixes.append((MMSI, T0 + timedelta(minutes=200), *FAR, 10.0))
    got = calls(fixes)
    assert len(got) == n_calls
    if n_calls:
        assert got[0]["stops"] == 2
        assert (got[0]["arrived_at"], got[0]["departed_at"]) == (T0, T0 + timedelta(minutes=170))


@pytest.mark.parametrize(("gap_min", "is_call"), [(239, False), (240, True)])
def test_in_port_gap_of_4_hours_makes_a_call_without_a_stop(gap_min, is_call):
    fixes = visit([1.0, 1.0], after=False)
    fixes += [
        (MMSI, T0 + timedelta(minutes=10 + gap_min), *PORT, 1.0),
        (MMSI, T0 + timedelta(minutes=20 + gap_min), *PORT, 1.0),
    ]
    fixes.append((MMSI, T0 + timedelta(minutes=50 + gap_min), *FAR, 10.0))
    got = calls(fixes)
    assert len(got) == (1 if is_call else 0)
    if is_call:
        c = got[0]
        assert (c["port_gaps"], c["stops"], c["ais_events"]) == (1, 0, "entry,gap,exit")
        assert (c["arrived_at"], c["departed_at"]) == (
            T0 + timedelta(minutes=10),
            T0 + timedelta(minutes=10 + gap_min),
        )
        assert c["confidence_level"] == 3


@pytest.mark.parametrize(
    ("before", "after", "before_gap_min", "level", "events"),
    [
        (True, True, 30, 4, "entry,stop,exit"),
        (False, True, 30, 3, "stop,exit"),
        (True, False, 30, 3, "entry,stop"),
        (True, True, 239, 4, "entry,stop,exit"),
        (True, True, 240, 3, "stop,exit"),  # the fix before is 4 h earlier: entry not observed
        (False, False, 30, 2, "stop"),
    ],
)
def test_confidence_from_entry_stop_and_exit(before, after, before_gap_min, level, events):
    [c] = calls(visit([0.1] * 19, before=before, after=after, before_gap_min=before_gap_min))
    assert (c["confidence_level"], c["ais_events"]) == (level, events)
    assert c["confidence"] == {4: 0.9, 3: 0.75, 2: 0.6}[level]
    assert c["source"] == "ais"
    assert c["entered_at"] == (T0 if "entry" in events else None)
    assert c["exited_at"] == (T0 + timedelta(minutes=210) if "exit" in events else None)


def test_gap_alone_is_the_lowest_confidence():
    # the track starts and ends inside the port, moving, with a 5 h gap: no entry, stop or exit
    fixes = series(MMSI, T0, PORT, [1.0, 1.0]) + series(
        MMSI, T0 + timedelta(hours=5, minutes=10), PORT, [1.0, 1.0]
    )
    [c] = calls(fixes)
    assert (c["confidence_level"], c["confidence"], c["ais_events"]) == (1, 0.4, "gap")


def test_call_fields_and_the_vessel_key():
    [c] = calls(visit([0.0] * 19))
    assert c["port_locode"] == "XXTST" and c["port_country"] == "XX"
    assert (c["vessel_key"], c["mmsi"]) == (str(MMSI), MMSI)
    assert (c["arrived_at"], c["departed_at"], c["dwell_hours"], c["stop_hours"]) == (
        T0,
        T0 + timedelta(hours=3),
        3.0,
        3.0,
    )
    assert c["fixes"] == 19 and c["sighting_ids"] == []


# A square polygon port about 11 km a side; its inscribed circle would miss the corners.
SQUARE = (40.45, 149.935, 40.55, 150.065)  # lat_min, lon_min, lat_max, lon_max
SQUARE_WKT = "POLYGON(({1} {0}, {3} {0}, {3} {2}, {1} {2}, {1} {0}))".format(*SQUARE)
POLY_PORTS = (port_row("XXPOL", (40.5, 150.0), radius_km=None, wkt=SQUARE_WKT),)
TOP = (SQUARE[2], 150.0)


@pytest.mark.parametrize(
    ("at", "is_call"),
    [
        ((40.549, 150.064), True),  # inside, in the corner
        (north(TOP, -0.01), True),  # 10 m inside the northern edge
        (north(TOP, 0.01), False),  # 10 m outside: in the buffer but never inside
    ],
)
def test_polygon_area(at, is_call):
    got = calls(visit([0.1] * 19, at=at), ports=POLY_PORTS)
    assert len(got) == (1 if is_call else 0)
    if is_call:
        assert got[0]["port_locode"] == "XXPOL"


@pytest.mark.parametrize(("km", "n_calls"), [(0.99, 1), (1.01, 0)])
def test_polygon_exit_buffer(km, n_calls):
    inside = north(TOP, -1.0)
    fixes = visit([0.1] * 9, at=inside)[:-1]
    fixes += series(MMSI, T0 + timedelta(minutes=90), north(TOP, km), [1.0] * 3)
    fixes += series(MMSI, T0 + timedelta(minutes=120), inside, [0.1] * 6)
    fixes.append((MMSI, T0 + timedelta(minutes=200), *FAR, 10.0))
    assert len(calls(fixes, ports=POLY_PORTS)) == n_calls


def test_declared_anchorage_counts_as_its_port():
    anchorage = north(PORT, 20.0)
    ports = (port_row("XXTST", PORT), port_row("XXTST", anchorage, radius_km=2.0))
    [c] = calls(visit([0.1] * 19, at=north(anchorage, 1.5)), ports=ports)
    assert c["port_locode"] == "XXTST"
    # without the anchorage row the same stop is at sea
    assert calls(visit([0.1] * 19, at=north(anchorage, 1.5))) == []


def test_nearest_port_wins_and_calls_do_not_merge_across_ports():
    other = north(PORT, 12.0)  # buffers (6 km) do not overlap
    ports = (port_row("XXTST", PORT), port_row("XXOTH", other))
    fixes = visit([0.1] * 19, after=False)
    fixes += series(MMSI, T0 + timedelta(hours=3, minutes=10), other, [0.1] * 19)
    got = calls(fixes, ports=ports)
    assert [(c["port_locode"], c["ais_events"]) for c in got] == [
        ("XXTST", "entry,stop,exit"),
        ("XXOTH", "entry,stop"),
    ]


def test_hysteresis_state_resets_on_entering_a_port_zone():
    # stopped at sea just before the buffer, then drifting in at 0.3 kn: no stop inside
    fixes = series(MMSI, T0, north(PORT, 7.0), [0.1] * 6) + series(
        MMSI, T0 + timedelta(hours=1), PORT, [0.3] * 18
    )
    assert calls(fixes) == []


@pytest.mark.parametrize("kernel", ["numpy", "sql"])
@pytest.mark.parametrize(
    ("silent_days", "settings", "calls"),
    [(60, {}, 2), (29, {}, 1), (60, {"port_gap_max_days": 90.0}, 1)],
)  # fmt: skip
def test_a_long_silence_in_port_ends_the_visit(kernel, silent_days, settings, calls):
    # stopped 3 h at the port, silent for weeks, stopped 3 h again (two samples, one MMSI)
    later = T0 + timedelta(hours=3, days=silent_days)
    fixes = series(1, T0, PORT, [0.1] * 19) + series(1, later, PORT, [0.1] * 19)
    con = run(fixes, maritime_kernel=kernel, **settings)
    found = rows(con, "SELECT arrived_at, departed_at FROM port_calls ORDER BY arrived_at")
    assert len(found) == calls
    if calls == 2:
        assert found == [
            {"arrived_at": T0, "departed_at": T0 + timedelta(hours=3)},
            {"arrived_at": later, "departed_at": later + timedelta(hours=3)},
        ]
    else:
        assert (found[0]["arrived_at"], found[0]["departed_at"]) == (T0, later + timedelta(hours=3))
