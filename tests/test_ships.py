"""Ships keyed by IMO (maritime/ships.py): a ship that changes MMSI, name and flag keeps its
chain of calls; a reused MMSI is two ships; a cloned identity, an MMSI claimed by two IMOs at
once and an invalid IMO check digit are findings, never merges. Hand-built, exact answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.reference.checkdigits import imo_check_ok
from test_maritime_support import T0 as SEA_T0
from test_maritime_support import north, rows, run

from builders import RAJIN, T0, VOSTOCHNY, CaseBuilder, dwell, write_csv

OLD, NEW, OTHER = 273000001, 620000002, 273000003
HULL, OTHER_HULL, BAD_IMO = "1234567", "7654329", "1234568"
VESSEL_HEADER = ["mmsi", "imo", "name", "callsign", "flag", "observed_at"]


def test_fixture_imo_numbers():
    assert imo_check_ok(HULL) and imo_check_ok(OTHER_HULL) and not imo_check_ok(BAD_IMO)


def _with_registry(b: CaseBuilder, registry: list[list[Any]]) -> CaseBuilder:
    path = write_csv(b.root / "vessels.csv", VESSEL_HEADER, registry)
    workflow.ingest(b.case_dir, "vessels", [path])
    return b


def _renamed(b: CaseBuilder) -> CaseBuilder:
    return _with_registry(
        b, [[OLD, HULL, "OLD NAME", "UOLD1", "RU", ""], [NEW, HULL, "NEW NAME", "D6NEW", "KM", ""]]
    )


def _analyse(b: CaseBuilder, **settings: Any) -> dict[str, list[dict[str, Any]]]:
    with b.run(**settings) as case:
        return {
            name: case.rows(sql)
            for name, sql in {
                "arrivals": "SELECT * FROM arrivals ORDER BY arrived_at",
                "links": "SELECT * FROM linked_shipments ORDER BY waybill",
                "calls": "SELECT * FROM port_calls ORDER BY arrived_at",
                "gaps": "SELECT * FROM gaps ORDER BY started_at",
                "ship_links": "SELECT * FROM ship_links ORDER BY vessel_key, valid_from NULLS FIRST",
                "timeline": "SELECT * FROM ship_timeline ORDER BY ship_key, identity_no",
                "events": "SELECT * FROM identity_events ORDER BY event, mmsi",
            }.items()
        }


def _rajin_then_vostochny(b: CaseBuilder, *, at_sea: bool) -> None:
    """OLD calls at Rajin 3 days before the Vostochny arrival, which NEW makes. At sea: OLD
    goes dark after Rajin and NEW appears near Vostochny. In port: NEW takes over at the
    Rajin berth an hour after OLD's last fix, for less than a call, then sails."""
    b.positions += dwell(OLD, RAJIN, T0 - timedelta(days=3), 6)
    if not at_sea:
        start = T0 - timedelta(days=3) + timedelta(hours=7, minutes=30)
        b.positions += [[NEW, (start + timedelta(minutes=10 * i)).isoformat(), RAJIN[0], RAJIN[1], 0.1, 0, 0, 5]
                        for i in range(6)]  # fmt: skip
    b.positions += dwell(NEW, VOSTOCHNY, T0, 12)
    b.station("515002", "Тихорецкая", 45.849, 40.118)
    b.shipment("W1", T0 + timedelta(days=2), weight_t=61.0)


def test_change_at_sea_between_origin_and_entry_port_keeps_the_arrival(tmp_path: Path) -> None:
    b = _renamed(CaseBuilder(tmp_path))
    _rajin_then_vostochny(b, at_sea=True)
    got = _analyse(b)
    [arrival] = got["arrivals"]
    assert (arrival["mmsi"], arrival["previous_port_locode"], arrival["previous_mmsi"]) == (
        NEW,
        "KPNJN",
        OLD,
    )
    assert arrival["ship_key"] == f"IMO:{HULL}" and arrival["identity_changed"]
    assert [(k["waybill"], k["tonnes"]) for k in got["links"]] == [("W1", 61.0)]
    # the change sits in a dark period: OLD's last fix (30 min after leaving Rajin) to NEW's first
    [gap] = [g for g in got["gaps"] if g["identity_change"]]
    assert (gap["previous_vessel_key"], gap["vessel_key"], gap["ship_key"]) == (
        str(OLD),
        str(NEW),
        f"IMO:{HULL}",
    )
    assert gap["started_at"] == T0 - timedelta(days=3) + timedelta(hours=6, minutes=30)
    assert gap["ended_at"] == T0 - timedelta(hours=1)
    assert "changed transmitter in this dark period" in gap["note"]
    assert [(t["mmsi"], t["name"], t["flag"], t["callsign"]) for t in got["timeline"]] == [
        (OLD, "OLD NAME", "RU", "UOLD1"),
        (NEW, "NEW NAME", "KM", "D6NEW"),
    ]
    assert {(s["vessel_key"], s["ship_key"], s["rule"]) for s in got["ship_links"]} == {
        (str(OLD), f"IMO:{HULL}", "same IMO"),
        (str(NEW), f"IMO:{HULL}", "same IMO"),
    }
    assert all(f"IMO {HULL} reported for MMSI" in s["evidence"] for s in got["ship_links"])
    # ship-level chaining off: the arrival, its link and its tonnes are lost
    off = _analyse(b, vessel_identity="mmsi")
    assert (off["arrivals"], off["links"]) == ([], [])
    assert {s["ship_key"] for s in off["ship_links"]} == {str(OLD), str(NEW)}


def test_change_in_port_keeps_the_arrival(tmp_path: Path) -> None:
    b = _renamed(CaseBuilder(tmp_path))
    _rajin_then_vostochny(b, at_sea=False)
    got = _analyse(b)
    assert [(c["mmsi"], c["port_locode"], c["ship_key"]) for c in got["calls"]] == [
        (OLD, "KPNJN", f"IMO:{HULL}"),
        (NEW, "RUVYP", f"IMO:{HULL}"),
    ]
    [arrival] = got["arrivals"]
    assert (arrival["previous_port_locode"], arrival["identity_changed"]) == ("KPNJN", True)
    assert [g for g in got["gaps"] if g["identity_change"]] == []  # one hour: not dark
    assert _analyse(b, vessel_identity="mmsi")["arrivals"] == []


def test_mmsi_reused_by_another_imo_later_is_two_ships(tmp_path: Path) -> None:
    handover = T0 - timedelta(days=1)
    b = _with_registry(
        CaseBuilder(tmp_path),
        [[OLD, HULL, "FIRST HULL", "", "RU", (T0 - timedelta(days=60)).date().isoformat()],
         [OLD, OTHER_HULL, "SECOND HULL", "", "RU", handover.date().isoformat()]],
    )  # fmt: skip
    b.positions += dwell(OLD, RAJIN, T0 - timedelta(days=3), 6)
    b.positions += dwell(OLD, VOSTOCHNY, T0, 12)
    got = _analyse(b)
    day = datetime(handover.year, handover.month, handover.day, tzinfo=handover.tzinfo)
    assert [(s["ship_key"], s["valid_from"], s["valid_to"]) for s in got["ship_links"]] == [
        (f"IMO:{HULL}", None, day),
        (f"IMO:{OTHER_HULL}", day, None),
    ]
    assert [c["ship_key"] for c in got["calls"]] == [f"IMO:{HULL}", f"IMO:{OTHER_HULL}"]
    assert got["arrivals"] == []  # Rajin was the other hull's call
    assert len(_analyse(b, vessel_identity="mmsi")["arrivals"]) == 1


def test_invalid_imo_check_digit_is_not_used_to_merge(tmp_path: Path) -> None:
    b = _with_registry(
        CaseBuilder(tmp_path),
        [[OLD, BAD_IMO, "OLD NAME", "", "RU", ""], [NEW, BAD_IMO, "NEW NAME", "", "KM", ""]],
    )
    _rajin_then_vostochny(b, at_sea=True)
    got = _analyse(b)
    assert got["arrivals"] == [] and got["timeline"] == []
    assert {(s["ship_key"], s["rule"]) for s in got["ship_links"]} == {
        (str(OLD), "own ship: IMO check digit invalid"),
        (str(NEW), "own ship: IMO check digit invalid"),
    }
    assert [
        (e["event"], e["mmsi"], e["new_value"])
        for e in got["events"]
        if e["event"] == "invalid_imo"
    ] == [
        ("invalid_imo", OLD, BAD_IMO),
        ("invalid_imo", NEW, BAD_IMO),
    ]


# ------------------------------------------------------------- maritime stages in memory
HOME, FAR = (40.0, 150.0), (41.0, 151.0)  # ~140 km apart


def _at_sea(mmsi: int, at: tuple[float, float], n: int = 12, sog: float = 0.5) -> list[Any]:
    return [(mmsi, SEA_T0 + timedelta(minutes=10 * i + 5), *at, sog) for i in range(n)]


def test_cloned_identity_is_flagged_not_merged() -> None:
    reports = [
        (OLD, HULL, "HULL", None, "RU", None, "r.csv", 1),
        (NEW, HULL, "HULL", None, "RU", None, "r.csv", 2),
    ]
    con = run(_at_sea(OLD, HOME) + _at_sea(NEW, FAR), ports=(), reports=reports)
    [event] = rows(con, "SELECT * FROM identity_events WHERE event = 'cloned_identity'")
    assert (event["imo"], event["previous_value"], event["new_value"]) == (HULL, str(OLD), str(NEW))
    assert "12 ten-minute bins" in event["detail"] and "neither linked" in event["detail"]
    links = rows(con, "SELECT vessel_key, ship_key, rule FROM ship_links ORDER BY vessel_key")
    assert [(s["vessel_key"], s["ship_key"]) for s in links] == [
        (str(OLD), str(OLD)),
        (str(NEW), str(NEW)),
    ]
    assert all(s["rule"].startswith("own ship: cloned identity") for s in links)


@pytest.mark.parametrize(("bins", "cloned"), [(2, False), (3, True)])
def test_clone_needs_clone_min_bins(bins: int, cloned: bool) -> None:
    reports = [
        (OLD, HULL, None, None, None, None, "r.csv", 1),
        (NEW, HULL, None, None, None, None, "r.csv", 2),
    ]
    con = run(_at_sea(OLD, HOME, bins) + _at_sea(NEW, FAR, bins), ports=(), reports=reports)
    found = rows(con, "SELECT count(*) AS n FROM identity_events WHERE event = 'cloned_identity'")[
        0
    ]["n"]
    assert found == (1 if cloned else 0)


def test_mmsi_claimed_by_two_imos_at_once_stays_its_own_ship() -> None:
    reports = [
        (OLD, HULL, "A", None, None, None, "r.csv", 1),
        (OLD, OTHER_HULL, "B", None, None, None, "r.csv", 2),
    ]
    con = run(_at_sea(OLD, HOME), ports=(), reports=reports)
    [link] = rows(con, "SELECT * FROM ship_links")
    assert (link["ship_key"], link["rule"]) == (
        str(OLD),
        "own ship: MMSI claimed by several IMOs at once",
    )
    [event] = rows(con, "SELECT * FROM identity_events WHERE event = 'imo_conflict'")
    assert (event["previous_value"], event["new_value"]) == (HULL, OTHER_HULL)


@pytest.mark.parametrize(("mode", "meetings"), [("imo", 0), ("mmsi", 1)])
def test_a_ship_cannot_meet_itself(mode: str, meetings: int) -> None:
    """Old and new transmitter both on, 100 m apart, for two hours at sea."""
    reports = [
        (OLD, HULL, "OLD", None, None, None, "r.csv", 1),
        (NEW, HULL, "NEW", None, None, None, "r.csv", 2),
    ]
    fixes = _at_sea(OLD, HOME) + _at_sea(NEW, north(HOME, 0.1))
    con = run(fixes, ports=(), reports=reports, vessel_identity=mode)
    assert len(rows(con, "SELECT * FROM encounters")) == meetings
    assert (
        rows(con, "SELECT count(*) AS n FROM identity_events WHERE event = 'cloned_identity'")[0][
            "n"
        ]
        == 0
    )


def test_explain_says_what_the_ship_transmitted_as(tmp_path: Path) -> None:
    b = _renamed(CaseBuilder(tmp_path))
    _rajin_then_vostochny(b, at_sea=True)
    with b.run():
        pass
    [result] = workflow.explain(b.case_dir, "W1")
    chain = result["links"][0]["evidence_chain"]
    assert any(
        line.startswith(f"Ship IMO:{HULL}: the previous call was made as OLD NAME")
        for line in chain
    )
    assert any(line.strip().startswith("transmitting as OLD NAME (MMSI 273000001, call sign UOLD1, flag RU) from")
               for line in chain)  # fmt: skip
    assert any(
        line.strip().startswith("transmitting as NEW NAME (MMSI 620000002") for line in chain
    )
    with Case.open(b.case_dir) as case:
        assert case.scalar("SELECT count(*) FROM ship_timeline") == 2


def test_short_or_odd_imo_numbers_are_invalid_not_an_error() -> None:
    reports = [(OLD, "0", None, None, None, None, "ais", 1), (NEW, "12", None, None, None, None, "ais", 2),
               (OTHER, "1001301448", None, None, None, None, "ais", 3)]  # fmt: skip
    con = run(_at_sea(OLD, HOME, 2) + _at_sea(NEW, FAR, 2), ports=(), reports=reports)
    assert [e["new_value"] for e in rows(con, "SELECT * FROM identity_events WHERE event = 'invalid_imo' ORDER BY mmsi")] == [
        "0", "1001301448", "12"]  # fmt: skip
    assert (
        rows(con, "SELECT count(*) AS n FROM ship_links WHERE ship_key LIKE 'IMO:%'")[0]["n"] == 0
    )
