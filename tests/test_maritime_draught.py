"""Draught: stored from static reports (NMEA type 5, a CSV `Draft` column) and compared
across gaps (maritime/draught.py), on hand-built tracks with exact answers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from test_ais_clean import RU_SHIP, encode, ingest, position, rows, tagged
from test_maritime_support import T0, run, series
from test_maritime_support import rows as con_rows

SEA = (40.0, 148.0)
H = timedelta(hours=1)


def _dark(mmsi: int, gap_h: float = 20.0) -> tuple[list, object, object]:
    """Two hours of fixes every 10 min, a silence of `gap_h` hours, two hours more; returns
    the fixes and the gap's start and end."""
    before = series(mmsi, T0, SEA, [10.0] * 13)
    start = before[-1][1]
    end = start + timedelta(hours=gap_h)
    return before + series(mmsi, end, SEA, [10.0] * 13), start, end


def test_draught_change_across_a_gap_exact():
    fixes, draughts = [], []
    # 1: light before (the report at the gap's start counts), loaded after (at its end)
    f, s, e = _dark(1)
    fixes += f
    draughts += [(1, T0, 6.0), (1, s, 6.2), (1, e, 12.5), (1, e + H, 12.5)]
    # 2: a change of 0.5 m: under the 1 m threshold
    f, s, e = _dark(2)
    fixes += f
    draughts += [(2, T0, 6.0), (2, e + H, 6.5)]
    # 3: exactly 1 m (7.6 -> 8.6, not exact in binary): counts
    f, s, e = _dark(3)
    fixes += f
    draughts += [(3, T0, 7.6), (3, e + H, 8.6)]
    # 4: came back light
    f, s, e = _dark(4)
    fixes += f
    draughts += [(4, T0, 12.0), (4, e + 2 * H, 5.0)]
    # 5: a different draught reported inside the gap is neither before nor after it
    f, s, e = _dark(5)
    fixes += f
    draughts += [(5, T0, 5.0), (5, s + 3 * H, 12.0), (5, e + H, 5.0)]
    # 6: nothing reported after the gap
    f, s, e = _dark(6)
    fixes += f
    draughts += [(6, T0, 5.0)]
    # 7: a gap of 31 days: beyond dark_call_max_gap_days, offers no change
    f, s, e = _dark(7, gap_h=31 * 24)
    fixes += f
    draughts += [(7, T0, 5.0), (7, e + H, 12.0)]
    con = run(fixes, draughts=draughts)
    found = con_rows(con, "SELECT * FROM draught_changes ORDER BY mmsi")
    assert [r["mmsi"] for r in found] == [1, 3, 4]
    one = found[0]
    _, s, e = _dark(1)
    assert (one["started_at"], one["ended_at"], one["hours"]) == (s, e, 20.0)
    assert (one["draught_before_m"], one["draught_before_at"]) == (6.2, s)
    assert (one["draught_after_m"], one["draught_after_at"]) == (12.5, e)
    assert (one["change_m"], one["direction"]) == (6.3, "deeper")
    assert (found[1]["change_m"], found[1]["direction"]) == (1.0, "deeper")
    assert (found[2]["change_m"], found[2]["direction"]) == (-7.0, "shallower")
    gap_ids = {r["mmsi"]: r["gap_id"] for r in con_rows(con, "SELECT mmsi, gap_id FROM gaps")}
    assert [r["gap_id"] for r in found] == [gap_ids[1], gap_ids[3], gap_ids[4]]
    # the threshold is a setting
    con = run(fixes, draughts=draughts, draught_change_min_m=0.5)
    assert [
        r[0] for r in con.execute("SELECT mmsi FROM draught_changes ORDER BY mmsi").fetchall()
    ] == [1, 2, 3, 4]


def test_draught_from_nmea_type_5_and_csv_draft_column(tmp_path: Path):
    pytest.importorskip("pyais")
    fives = [
        encode(type=5, mmsi=RU_SHIP, imo=9074729, shipname="SPARTA IV", callsign="UBCD7",
               ship_type=80, draught=draught)
        for draught in (6.1, 0.0, 12.4)
    ]  # fmt: skip
    lines = [tagged("a", 0, position())]
    for i, five in enumerate(fives):
        lines += [tagged("a", 60 * (i + 1), s) for s in five]
    path = tmp_path / "log.nmea"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    ingest(tmp_path / "nmea", "ais", path)
    assert rows(tmp_path / "nmea", "SELECT draught_m FROM vessel_reports ORDER BY observed_at") == [
        {"draught_m": 6.1},
        {"draught_m": None},  # 0: not available
        {"draught_m": 12.4},
    ]
    csv = tmp_path / "noaa.csv"
    csv.write_text(
        "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Draft\n"
        "366000001,2022-01-03T00:00:00,30.1,-88.1,10,90,90,ALPHA,IMO8207721,WTD1,70,0,3.3\n"
        "366000001,2022-01-03T00:10:00,30.1,-88.0,10,90,90,ALPHA,IMO8207721,WTD1,70,0,3.3\n"
        "366000001,2022-01-03T00:20:00,30.1,-87.9,10,90,90,ALPHA,IMO8207721,WTD1,70,0,9.8\n"
        "366000001,2022-01-03T00:30:00,30.1,-87.8,10,90,90,ALPHA,IMO8207721,WTD1,70,0,0\n"
        "366000002,2022-01-03T00:00:00,30.2,-88.1,10,90,90,,,,,0,7.5\n",
        encoding="utf-8",
    )
    ingest(tmp_path / "csv", "ais", csv)
    got = rows(
        tmp_path / "csv",
        "SELECT mmsi, strftime(observed_at, '%H:%M') AS at, name, draught_m FROM vessel_reports ORDER BY mmsi, observed_at",
    )
    assert got == [
        {"mmsi": 366000001, "at": "00:00", "name": "ALPHA", "draught_m": 3.3},
        {"mmsi": 366000001, "at": "00:10", "name": "ALPHA", "draught_m": 3.3},
        {"mmsi": 366000001, "at": "00:20", "name": "ALPHA", "draught_m": 9.8},
        {"mmsi": 366000001, "at": "00:30", "name": "ALPHA", "draught_m": None},
        {"mmsi": 366000002, "at": "00:00", "name": None, "draught_m": 7.5},
    ]
    # a draught is not an identity: one identity per vessel
    assert rows(tmp_path / "csv", "SELECT count(*) AS n FROM vessel_identities") == [{"n": 2}]


def test_draught_change_reaches_findings_chain_report_and_exports(tmp_path: Path):
    """A ship leaves Rajin light (6.0 m), goes dark, and arrives at Vostochny loaded
    (12.5 m); a shipment leaves the port's station two days later."""
    import json

    import pyarrow.parquet as pq
    import shapely

    from cargotrace import workflow
    from cargotrace.report import vessel_data

    from builders import POSITION_HEADER, RAJIN, T0, VOSTOCHNY, CaseBuilder, dwell, write_csv

    ship = 273000001
    b = CaseBuilder(tmp_path)
    fixes = [r + [6.0] for r in dwell(ship, RAJIN, T0 - timedelta(days=3), 6)]
    fixes += [r + [12.5] for r in dwell(ship, VOSTOCHNY, T0, 12)]
    ais = write_csv(tmp_path / "ais_draft.csv", [*POSITION_HEADER, "Draft"], fixes)
    workflow.ingest(b.case_dir, "ais", [ais])
    b.station("515002", "Тихорецкая", 45.849, 40.118)
    b.shipment("W1", T0 + timedelta(days=2), weight_t=61.0)
    gap_start = T0 - timedelta(days=3) + timedelta(hours=6, minutes=30)
    gap_end = T0 - timedelta(hours=1)
    with b.run() as case:
        [change] = case.rows("SELECT * FROM draught_changes")
        assert (change["mmsi"], change["started_at"], change["ended_at"]) == (
            ship,
            gap_start,
            gap_end,
        )
        assert (change["draught_before_m"], change["draught_after_m"], change["change_m"]) == (
            6.0,
            12.5,
            6.5,
        )
        assert change["direction"] == "deeper"
        view = vessel_data.build(case, {"parameters": {"origin_country": "KP"}})
    [dark] = [g for g in view["dark"] if g["gap_id"] == change["gap_id"]]
    assert (dark["draught_before_m"], dark["draught_after_m"]) == (6.0, 12.5)
    assert (view["counts"]["draught_changes"], view["counts"]["draught_deeper"]) == (1, 1)
    workflow.export(b.case_dir, "json", tmp_path / "findings.json", None)
    findings = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    assert findings["events"]["draught_changes"] == 1
    assert [c["gap_id"] for c in findings["draught_changes"]] == [change["gap_id"]]
    [link] = findings["linked_shipments"]
    [line] = [s for s in link["evidence_chain"] if "draught" in s]
    assert line == (
        f"Dark from {gap_start.isoformat()[:16]} to {gap_end.isoformat()[:16]} UTC (64.5 h) and came back "
        f"deeper (loaded?): draught 6 m (reported {gap_start.isoformat()[:16]}) -> 12.5 m "
        f"(reported {gap_end.isoformat()[:16]}); possible dark calls KPCHO;KPNJN"
    )
    # GIS: a line from the last fix before to the first fix after, lon/lat order
    out = tmp_path / "draught.geojson"
    workflow.export(b.case_dir, "geojson", out, "draught_changes")
    [feature] = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert feature["geometry"] == {
        "type": "LineString",
        "coordinates": [[RAJIN[1], RAJIN[0] - 0.2], [VOSTOCHNY[1], VOSTOCHNY[0] - 0.2]],
    }
    parquet = tmp_path / "draught.parquet"
    workflow.export(b.case_dir, "parquet", parquet, "draught_changes")
    table = pq.read_table(parquet)
    assert b"geo" in table.schema.metadata
    [geometry] = shapely.from_wkb(table.column("geometry").to_pylist())
    assert geometry.geom_type == "LineString"
    # explain of the gap says it
    [told] = workflow.explain(b.case_dir, change["gap_id"])
    assert any(line.startswith("  draught 6 m (reported ") and line.endswith("came back deeper (loaded?)")
               for line in told["lines"])  # fmt: skip
