"""Dark periods: the 6 h gap boundary, gap attributes, possible dark calls along sea routes
(searoute), and the voyage chain and shuttles built from calls and dark calls."""

from __future__ import annotations

from datetime import timedelta

import pytest

from test_maritime_support import PORT, T0, north, port_row, rows, run, series

MMSI = 273000001
VOSTOCHNY = (42.733333, 133.05)
OFF_VOSTOCHNY = (42.55, 133.05)  # ~20 km south of the port, at sea


def sailing(start, at, n=6, sog=12.0):
    return series(MMSI, start, at, [sog] * n)


@pytest.mark.parametrize(("minutes", "is_gap"), [(359, False), (360, True)])
def test_gap_threshold_6_hours_inclusive(minutes, is_gap):
    start_at, end_at = PORT, north(PORT, 100.0)
    fixes = sailing(T0, start_at) + sailing(T0 + timedelta(minutes=50 + minutes), end_at)
    gaps = rows(run(fixes, ports=()), "SELECT * FROM gaps")
    assert len(gaps) == (1 if is_gap else 0)
    if is_gap:
        g = gaps[0]
        assert (g["started_at"], g["ended_at"], g["hours"]) == (
            T0 + timedelta(minutes=50),
            T0 + timedelta(minutes=410),
            6.0,
        )
        assert (g["start_lat"], g["start_lon"], g["end_lat"], g["end_lon"]) == (*start_at, *end_at)
        assert g["distance_km"] == pytest.approx(100.0, abs=1e-3)
        assert g["implied_speed_kn"] == pytest.approx(100.0 / 1.852 / 6, abs=1e-3)
        assert g["began_offshore"] and g["ended_offshore"]
        assert (
            g["vessel_key"] == str(MMSI)
            and g["service_speed_kn"] == 12.0
            and not g["speed_assumed"]
        )
        assert g["possible_dark_calls"] == ""


def test_gap_that_begins_in_port_is_not_offshore_and_ends_after_it_starts():
    fixes = series(MMSI, T0, PORT, [0.1] * 3) + sailing(T0 + timedelta(hours=10), north(PORT, 50.0))
    [g] = rows(run(fixes), "SELECT * FROM gaps")
    assert (g["began_offshore"], g["start_port_locode"], g["ended_offshore"]) == (
        False,
        "XXTST",
        True,
    )
    assert g["ended_at"] > g["started_at"]
    assert g["speed_assumed"] is False


def test_service_speed_defaults_when_never_seen_moving():
    fixes = series(MMSI, T0, PORT, [0.0, 0.0]) + series(MMSI, T0 + timedelta(hours=8), PORT, [0.0])
    [g] = rows(run(fixes), "SELECT * FROM gaps")
    assert (g["service_speed_kn"], g["speed_assumed"]) == (12.0, True)


def _dark_case(hours, **settings):
    fixes = sailing(T0, OFF_VOSTOCHNY) + sailing(
        T0 + timedelta(minutes=50, hours=hours), OFF_VOSTOCHNY
    )
    return run(fixes, ports=(), gazetteer=True, **settings)


@pytest.mark.parametrize(
    ("gap_days", "settings", "offers_calls"),
    [(5, {"dark_call_max_gap_days": 5.0}, True), (5, {"dark_call_max_gap_days": 4.99}, False),
     (30, {}, True), (30.01, {}, False), (400, {}, False)],
)  # fmt: skip
def test_a_gap_longer_than_the_bound_offers_no_dark_calls(gap_days, settings, offers_calls):
    con = _dark_case(gap_days * 24, **settings)
    [g] = rows(con, "SELECT * FROM gaps")
    assert g["hours"] == pytest.approx(gap_days * 24)
    assert g["beyond_dark_call_bound"] is (not offers_calls)
    assert ("KPNJN" in g["possible_dark_calls"].split(";")) is offers_calls
    dark = con.execute("SELECT count(*) FROM dark_calls").fetchone()[0]
    assert (dark > 0) is offers_calls


def test_five_day_gap_off_vostochny_makes_a_call_at_rajin_feasible():
    con = _dark_case(5 * 24)
    [g] = rows(con, "SELECT * FROM gaps")
    assert g["began_offshore"] and g["hours"] == 120.0
    assert "KPNJN" in g["possible_dark_calls"].split(";")
    [d] = rows(con, "SELECT * FROM dark_calls WHERE port_locode = 'KPNJN'")
    assert (d["label"], d["distance_method"], d["port_country"]) == ("inferred", "searoute", "KP")
    assert d["to_port_km"] >= d["gc_to_port_km"] > 200  # the sea route is never shorter
    sail = (d["to_port_km"] + d["from_port_km"]) / (1.852 * d["speed_kn"])
    assert d["slack_hours"] == pytest.approx(120.0 - sail - 2.0, abs=0.02)
    assert d["earliest_arrival"] > g["started_at"] and d["latest_departure"] < g["ended_at"]
    # the distances are cached per (cell, port) in the case
    assert (
        con.execute("SELECT count(*) FROM sea_distances WHERE port_locode = 'KPNJN'").fetchone()[0]
        >= 1
    )


def test_short_gap_off_vostochny_makes_no_dark_call():
    # Vostochny -> Rajin and back is ~500 km of sea: ~22 h at 12 kn plus 2 h at the berth
    con = _dark_case(12)
    [g] = rows(con, "SELECT * FROM gaps")
    assert g["possible_dark_calls"] == ""
    assert con.execute("SELECT count(*) FROM dark_calls").fetchone()[0] == 0


def test_only_origin_country_ports_are_offered():
    con = _dark_case(5 * 24)
    countries = {
        r["port_country"] for r in rows(con, "SELECT DISTINCT port_country FROM dark_calls")
    }
    assert countries == {"KP"}
    con = run(sailing(T0, OFF_VOSTOCHNY) + sailing(T0 + timedelta(days=5), OFF_VOSTOCHNY), ports=(), gazetteer=True,
              origin_country="CN")  # fmt: skip
    assert {
        r["port_country"] for r in rows(con, "SELECT DISTINCT port_country FROM dark_calls")
    } <= {"CN"}


def _shuttle(n_round_trips, days_between=10):
    """Calls alternating between two ports (3 h stops), n round trips."""
    a, b = PORT, north(PORT, 60.0)
    ports = (port_row("XXAAA", a), port_row("XXBBB", b))
    fixes, t = [], T0
    for i in range(2 * n_round_trips):
        at = a if i % 2 == 0 else b
        fixes += [(MMSI, t - timedelta(minutes=30), *north(at, -20.0), 10.0)]
        fixes += series(MMSI, t, at, [0.1] * 19)
        fixes += [(MMSI, t + timedelta(hours=3, minutes=30), *north(at, -20.0), 10.0)]
        t += timedelta(days=days_between / 2)
    return run(fixes, ports=ports)


def test_voyage_chain_has_previous_and_next_port():
    con = _shuttle(2)
    chain = rows(con, "SELECT * FROM voyages ORDER BY call_no")
    assert [c["port_locode"] for c in chain] == ["XXAAA", "XXBBB", "XXAAA", "XXBBB"]
    assert [c["previous_port_locode"] for c in chain] == [None, "XXAAA", "XXBBB", "XXAAA"]
    assert [c["next_port_locode"] for c in chain] == ["XXBBB", "XXAAA", "XXBBB", None]
    assert all(c["observed"] for c in chain)


@pytest.mark.parametrize(
    ("round_trips", "days_between", "legs"), [(2, 10, 3), (1, 10, None), (2, 90, 3), (2, 92, None)]
)
def test_shuttle_needs_3_legs_within_90_days(round_trips, days_between, legs):
    # 2 round trips = 3 legs between the two ports (A B A B), `days_between / 2` days apart:
    # the first and third leg are exactly 90 days apart (a shuttle) or 92 (not)
    got = rows(_shuttle(round_trips, days_between), "SELECT * FROM shuttles")
    assert (got[0]["legs"] if got else None) == legs
    if got:
        assert (got[0]["port_a"], got[0]["port_b"]) == ("XXAAA", "XXBBB")


def test_dark_call_enters_the_voyage_chain_as_inferred():
    vostochny_call = [
        (MMSI, T0 - timedelta(minutes=30), *OFF_VOSTOCHNY, 10.0),
        *series(MMSI, T0, VOSTOCHNY, [0.1] * 19),
    ]
    out = sailing(T0 + timedelta(hours=3, minutes=30), OFF_VOSTOCHNY)
    back = sailing(T0 + timedelta(days=6), OFF_VOSTOCHNY)
    back += series(MMSI, T0 + timedelta(days=6, hours=2), VOSTOCHNY, [0.1] * 19)
    con = run(vostochny_call + out + back, ports=(), gazetteer=True)
    chain = rows(con, "SELECT * FROM voyages ORDER BY call_no")
    assert [(c["port_locode"], c["source"]) for c in chain][0] == ("RUVYP", "ais")
    assert [(c["source"], c["observed"]) for c in chain][1] == ("inferred", False)
    assert "KPNJN" in chain[1]["alternatives"].split(";")
    assert chain[1]["previous_port_locode"] == "RUVYP" and chain[1]["next_port_locode"] == "RUVYP"
    assert chain[2]["previous_port_locode"] == chain[1]["port_locode"]
