"""Satellite vessel detections (issue 20): the kind, matching to AIS, attribution of dark ones."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.reference.geodesy import EARTH_RADIUS_KM
from cargotrace.settings import AnalysisSettings

from builders import POSITION_HEADER, RAJIN, T0, VOSTOCHNY, CaseBuilder, dwell, write_csv

GFW_HEADER = ["scene_id", "detect_id", "detect_timestamp", "detect_lat", "detect_lon", "length_m",
              "score", "footprint_wkt"]  # fmt: skip
OUR_HEADER = ["detected_at", "lat", "lon", "length_m", "score", "scene_id", "source"]
SCENE = "POLYGON((130 42, 131 42, 131 43, 130 43, 130 42))"


def test_gfw_sar_layout_read_without_mapping_bad_rows_quarantined(tmp_path):
    rows = [
        ["S1A_1", "d1", "2023-09-01T03:10:00Z", "42.25", "130.31", "152.5", "0.93", SCENE],
        ["S1A_1", "d2", "2023-09-01T03:10:00Z", "42.26", "130.35", "", "0.41", SCENE],
        ["S1A_1", "d3", "not a time", "42.27", "130.36", "80", "0.5", SCENE],
        ["S1A_1", "d4", "2023-09-01T03:10:00Z", "95", "130.36", "80", "0.5", SCENE],
        ["S1A_1", "d5", "2023-09-01T03:10:00Z", "42.2", "130.36", "-3", "0.5", SCENE],
        ["S1A_1", "d6", "2023-09-01T03:10:00Z", "42.2", "130.36", "80", "0.5", "CIRCLE(1 2)"],
    ]
    path = write_csv(tmp_path / "gfw.csv", GFW_HEADER, rows)
    [result] = workflow.ingest(tmp_path / "case", "detections", [path])
    assert (result.rows_read, result.rows_kept, result.rows_quarantined) == (6, 2, 4)
    with Case.open(tmp_path / "case") as case:
        kept = case.rows(
            "SELECT detection_id, CAST(detected_at AS VARCHAR) AS t, lat, lon, length_m, score, "
            "scene_id, source, footprint_wkt, source_row FROM detections ORDER BY detection_id"
        )
        refused = case.rows(
            "SELECT reason, column_name, source_row FROM quarantine ORDER BY source_row"
        )
    assert kept == [
        {"detection_id": "d1", "t": "2023-09-01 03:10:00+00", "lat": 42.25, "lon": 130.31,
         "length_m": 152.5, "score": 0.93, "scene_id": "S1A_1", "source": "gfw_sar",
         "footprint_wkt": SCENE, "source_row": 2},
        {"detection_id": "d2", "t": "2023-09-01 03:10:00+00", "lat": 42.26, "lon": 130.35,
         "length_m": None, "score": 0.41, "scene_id": "S1A_1", "source": "gfw_sar",
         "footprint_wkt": SCENE, "source_row": 3},
    ]  # fmt: skip
    assert refused == [
        {"reason": "bad_timestamp", "column_name": "detected_at", "source_row": 4},
        {"reason": "bad_latitude", "column_name": "lat", "source_row": 5},
        {"reason": "bad_length", "column_name": "length_m", "source_row": 6},
        {"reason": "bad_footprint", "column_name": "footprint", "source_row": 7},
    ]


def test_own_layout_keeps_source_and_hashes_an_id(tmp_path):
    path = write_csv(
        tmp_path / "det.csv",
        OUR_HEADER,
        [["2023-09-01 03:10", "42.25", "130.31", "150", "0.9", "img-7", "planet"]],
    )
    workflow.ingest(tmp_path / "case", "detections", [path])
    with Case.open(tmp_path / "case") as case:
        [row] = case.rows("SELECT detection_id, source, scene_id, footprint_wkt FROM detections")
    assert row["source"] == "planet" and row["scene_id"] == "img-7"
    assert row["detection_id"].startswith("det-") and row["footprint_wkt"] is None


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (la1, lo1), (la2, lo2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _case(
    tmp_path: Path,
    fixes: list[list[Any]],
    detections: list[list[Any]],
    lengths: dict[int, float],
    **settings: Any,
) -> Case:
    case_dir = tmp_path / "case"
    det = write_csv(tmp_path / "det.csv", OUR_HEADER, detections)
    ais = write_csv(tmp_path / "ais.csv", POSITION_HEADER, fixes)
    ves = write_csv(tmp_path / "vessels.csv", ["mmsi", "name", "length_m"],
                    [[m, f"SHIP {m}", n] for m, n in lengths.items()])  # fmt: skip
    for kind, path in (("ais", ais), ("vessels", ves), ("detections", det)):
        workflow.ingest(case_dir, kind, [path])
    workflow.analyze(case_dir, AnalysisSettings(**settings))
    return Case.open(case_dir)  # type: ignore[return-value]


def _steaming_east(mmsi: int, lat: float, minutes: list[int]) -> list[list[Any]]:
    """Fixes every 20 min at 10 kn due east from 131.0 E (0.075 deg of longitude per 20 min)."""
    return [[mmsi, (T0 + timedelta(minutes=m)).isoformat(), lat, 131.0 + 0.075 * m / 20, 10.0, 90.0, 90, 0]
            for m in minutes]  # fmt: skip


A, B = 273000001, 273000002
AT_10_MIN = T0 + timedelta(minutes=10)


def _detection(lat: float, length: float | str, scene: str = "S1") -> list[Any]:
    return [AT_10_MIN.isoformat(), lat, 131.0375, length, 0.9, scene, "sar"]


def test_lit_detection_matched_to_the_ship_of_its_length_not_the_nearest(tmp_path):
    # A (150 m) on 42.000 N, B (60 m) on 42.010 N, both interpolated to 131.0375 E at +10 min;
    # the 150 m detection at 42.006 N is nearer B (444 m) than A (667 m): B's length rules it out
    fixes = _steaming_east(A, 42.0, [0, 20]) + _steaming_east(B, 42.01, [0, 20])
    with _case(tmp_path, fixes, [_detection(42.006, 150)], {A: 150, B: 60}) as case:
        [match] = case.rows(
            "SELECT mmsi, method, minutes_to_fix, distance_m, tolerance_m, reason FROM detection_matches"
        )
    assert (
        match["mmsi"] == A and match["method"] == "interpolated" and match["minutes_to_fix"] == 10.0
    )
    assert match["distance_m"] == round(1000 * _km((42.0, 131.0375), (42.006, 131.0375)), 1)
    assert match["tolerance_m"] == round(1000 + 4 * 1852 / 3600 * 600, 1)
    assert match["reason"] == ("AIS positions interpolated between fixes 10.0 min away: 667 m off "
                               "(tolerance 2235 m); length 150 m detected, 150 m known")  # fmt: skip


def test_one_vessel_per_detection_per_scene_an_assignment_not_nearest_each(tmp_path):
    # both detections are nearest to B; greedy by distance gives B the closer one (278 m) and
    # A the other (667 m); lengths unknown
    fixes = _steaming_east(A, 42.0, [0, 20]) + _steaming_east(B, 42.01, [0, 20])
    dets = [_detection(42.006, ""), _detection(42.0125, "")]
    with _case(tmp_path, fixes, dets, {}) as case:
        rows = case.rows("SELECT mmsi, distance_m FROM detection_matches ORDER BY mmsi")
    assert rows == [
        {"mmsi": A, "distance_m": round(1000 * _km((42.0, 131.0375), (42.006, 131.0375)), 1)},
        {"mmsi": B, "distance_m": round(1000 * _km((42.01, 131.0375), (42.0125, 131.0375)), 1)},
    ]


def test_tolerance_grows_with_time_to_the_fix_and_dead_reckoning_on_one_side(tmp_path):
    # only a fix 10 min before: A dead-reckoned 10 kn east for 10 min lands on 131.0375 E;
    # a detection 3 km north is beyond the 2235 m tolerance, one 2 km north within it
    fixes = _steaming_east(A, 42.0, [0])
    near, far = 42.0 + 2.0 / 111.2, 42.0 + 3.0 / 111.2
    with _case(
        tmp_path, fixes, [_detection(near, "", "S1"), _detection(far, "", "S2")], {}
    ) as case:
        rows = case.rows("SELECT scene_key, method, distance_m FROM detection_matches")
    [row] = rows
    assert row["scene_key"] == "S1" and row["method"] == "after_last_fix"
    assert abs(row["distance_m"] - 2000) < 20  # flat-Earth dead reckoning vs great circle


# ----------------------------------------------------------------------------- dark detections
SIX_H = T0 + timedelta(hours=6)
DARK_AT = (42.5, 131.5)


def _silent(mmsi: int, start: tuple[float, float], end: tuple[float, float]) -> list[list[Any]]:
    """A fix at T0 and the next 12 h later: an AIS gap across the detections at T0 + 6 h."""
    return [[mmsi, T0.isoformat(), *start, 8.0, 0.0, 0, 0],
            [mmsi, (T0 + timedelta(hours=12)).isoformat(), *end, 8.0, 0.0, 0, 0]]  # fmt: skip


def _dark(detection_lat: float, length: float | str, scene: str) -> list[Any]:
    return [SIX_H.isoformat(), detection_lat, DARK_AT[1], length, 0.8, scene, "sar"]


def _speed_kn(a: tuple[float, float], b: tuple[float, float], hours: float) -> float:
    return _km(a, b) / 1.852 / hours


def test_dark_detection_candidates_ranked_and_ruled_out_by_speed_and_length(tmp_path):
    south, north = (42.0, 131.5), (43.0, 131.5)  # 55.6 km either side: 5.0 kn for 6 h
    C, D, E, F = 273000011, 273000012, 273000013, 273000014
    fixes = (
        _silent(C, south, north)  # 150 m, the detection's length: first
        + _silent(D, south, north)  # 130 m: within 35 %, second
        + _silent(E, (39.8, 131.5), north)  # 300 km away 6 h before: 27 kn needed
        + _silent(F, south, north)  # 60 m: ruled out by length
        + _silent(273000015, (36.5, 131.5), north)  # 667 km away: 60 kn, beyond 50, not listed
    )
    lengths = {C: 150, D: 130, E: 150, F: 60}
    with _case(tmp_path, fixes, [_dark(DARK_AT[0], 150, "S9")], lengths) as case:
        rows = case.rows("SELECT mmsi, ruled_out_by, rank, score, share, speed_from_last_kn, reason "
                         "FROM detection_candidates ORDER BY mmsi")  # fmt: skip
        [dark] = case.rows(
            "SELECT candidates, ruled_out, best_mmsi, best_share FROM dark_detections"
        )
    speed = _speed_kn(south, DARK_AT, 6)
    score_c = round(0.5 * (1 - speed / 16) + 0.5, 3)
    score_d = round(0.5 * (1 - speed / 16) + 0.5 * (1 - 20 / (0.35 * 130)), 3)
    assert [(r["mmsi"], r["ruled_out_by"], r["rank"], r["score"]) for r in rows] == [
        (C, None, 1, score_c),
        (D, None, 2, score_d),
        (E, "speed_from_last_fix", None, None),
        (F, "length", None, None),
    ]
    assert rows[0]["share"] == round(score_c / (score_c + score_d), 3)
    assert rows[2]["speed_from_last_kn"] == round(_speed_kn((39.8, 131.5), DARK_AT, 6), 2)
    assert rows[2]["reason"].startswith("would need 27.") and "limit 16 kn" in rows[2]["reason"]
    assert rows[3]["reason"] == "length 60 m known, 150 m detected"
    assert dark == {"candidates": 2, "ruled_out": 2, "best_mmsi": C,
                    "best_share": round(score_c / (score_c + score_d), 3)}  # fmt: skip


def test_dark_detection_with_one_candidate_and_one_with_none(tmp_path):
    # C is silent across S1's detection; nothing is silent across S2's (a day later)
    C = 273000011
    fixes = _silent(C, (42.0, 131.5), (43.0, 131.5))
    late = [(SIX_H + timedelta(days=1)).isoformat(), *DARK_AT, 150, 0.8, "S2", "sar"]
    with _case(tmp_path, fixes, [_dark(DARK_AT[0], "", "S1"), late], {}) as case:
        rows = case.rows("SELECT scene_key, mmsi, rank, share, reason FROM detection_candidates")
        dark = case.rows(
            "SELECT scene_id, candidates, best_mmsi FROM dark_detections ORDER BY scene_id"
        )
        lit = case.scalar("SELECT count(*) FROM detection_matches")
    assert lit == 0
    [only] = rows
    assert (only["scene_key"], only["mmsi"], only["rank"], only["share"]) == ("S1", C, 1, 1.0)
    assert only["reason"].startswith("AIS silent 2023-09-01 00:00 to 2023-09-01 12:00 UTC; 55.")
    assert only["reason"].endswith("length not compared")
    assert dark == [{"scene_id": "S1", "candidates": 1, "best_mmsi": C},
                    {"scene_id": "S2", "candidates": 0, "best_mmsi": None}]  # fmt: skip
    out = tmp_path / "candidates.csv"
    workflow.export(tmp_path / "case", "csv", out, "detection_candidates")
    exported = out.read_text(encoding="utf-8").splitlines()
    assert len(exported) == 2 and exported[0].startswith("detection_id,scene_key,detected_at,mmsi")


# ----------------------------------------------------------------------------- calls from detections
def test_dark_detection_in_port_attributed_to_one_ship_is_a_call_feeding_a_link(tmp_path):
    # X calls at Rajin (KPNJN) by AIS, goes dark, is detected at Vostochny 3 days later (its only
    # candidate) and a shipment of explosives leaves the port's station the day after
    X = 273000021
    b = CaseBuilder(tmp_path)
    b.positions += dwell(X, RAJIN, T0, 12)
    b.positions += [[X, (T0 + timedelta(days=6)).isoformat(), 42.4, 132.8, 10.0, 0.0, 0, 0]]
    b.shipment("W-1", T0 + timedelta(days=4))
    seen = T0 + timedelta(days=3)
    det = write_csv(
        tmp_path / "det.csv", OUR_HEADER, [[seen.isoformat(), *VOSTOCHNY, "", 0.9, "S1", "sar"]]
    )
    workflow.ingest(b.case_dir, "detections", [det])
    with b.run() as case:
        [call] = case.rows("SELECT mmsi, port_locode, arrived_at, source, confidence FROM port_calls "
                           "WHERE source = 'detection'")  # fmt: skip
        [arrival] = case.rows("SELECT arrival_id, previous_port_locode, source FROM arrivals")
        links = case.rows("SELECT waybill, arrival_id FROM linked_shipments")
        findings = json.loads(case.meta("findings"))
    assert (call["mmsi"], call["port_locode"], call["source"], call["confidence"]) == (
        X,
        "RUVYP",
        "detection",
        0.9,
    )
    assert call["arrived_at"] == seen
    assert arrival["previous_port_locode"] == "KPNJN" and arrival["source"] == "detection"
    assert links == [{"waybill": "W-1", "arrival_id": arrival["arrival_id"]}]
    assert findings["arrivals"][0]["evidence"] == ["detection"]


def test_dark_detection_in_port_with_two_even_candidates_makes_no_call(tmp_path):
    b = CaseBuilder(tmp_path)
    for ship in (273000021, 273000022):
        b.positions += dwell(ship, RAJIN, T0, 12)
        b.positions += [[ship, (T0 + timedelta(days=6)).isoformat(), 42.4, 132.8, 10.0, 0.0, 0, 0]]
    seen = T0 + timedelta(days=3)
    det = write_csv(
        tmp_path / "det.csv", OUR_HEADER, [[seen.isoformat(), *VOSTOCHNY, "", 0.9, "S1", "sar"]]
    )
    workflow.ingest(b.case_dir, "detections", [det])
    with b.run() as case:
        calls = case.scalar("SELECT count(*) FROM port_calls WHERE source = 'detection'")
        [dark] = case.rows("SELECT candidates, best_share FROM dark_detections")
    assert calls == 0 and dark == {"candidates": 2, "best_share": 0.5}


def test_explain_and_the_evidence_chain_show_detection_candidates_call_arrival_shipment(tmp_path):
    X = 273000021
    b = CaseBuilder(tmp_path)
    b.positions += dwell(X, RAJIN, T0, 12)
    b.positions += [[X, (T0 + timedelta(days=6)).isoformat(), 42.4, 132.8, 10.0, 0.0, 0, 0]]
    b.shipment("W-1", T0 + timedelta(days=4))
    seen = T0 + timedelta(days=3)
    det = write_csv(tmp_path / "det.csv", OUR_HEADER,
                    [[seen.isoformat(), *VOSTOCHNY, "", 0.9, "S1", "sar"]])  # fmt: skip
    workflow.ingest(b.case_dir, "detections", [det])
    with b.run() as case:
        [(detection_id, call_id)] = case.con.execute(
            "SELECT detection_id, port_call_id FROM detection_calls"
        ).fetchall()
        arrival_id = case.scalar("SELECT arrival_id FROM arrivals")
    [explained] = workflow.explain(b.case_dir, detection_id)
    lines = explained["lines"]
    assert explained["kind"] == "detection" and lines[0].startswith(
        f"Detection {detection_id}: 2023-09-04 00:00 UTC"
    )
    assert lines[1] == "  dark: no AIS matches it; candidates (1):"
    assert (
        lines[2].startswith(f"    #1 MMSI {X} score ")
        and "share 1.0: AIS silent 2023-09-01 " in lines[2]
    )
    assert lines[3:] == [
        f"  call: MMSI {X} at RUVYP 2023-09-04 00:00 UTC (share 1.0, confidence 0.9) [port_call_id {call_id}]",
        f"  arrival of interest at RUVYP 2023-09-04 00:00 UTC (this call): 1 linked shipments, 60.0 t [arrival_id {arrival_id}]",
        "    waybill W-1 2023-09-05 60.0 t",
    ]  # fmt: skip
    call = next(e for e in workflow.explain(b.case_dir, call_id) if e["kind"] == "port_call")
    assert f"  from satellite detection {detection_id}:" in call["lines"]
    [waybill] = workflow.explain(b.case_dir, "W-1")
    chain = waybill["links"][0]["evidence_chain"]
    assert (
        chain[1].startswith("Linked to the arrival of")
        and "(detection, confidence 0.90)" in chain[1]
    )
    assert chain[2] == (
        f"  Detection {detection_id} 2023-09-04 00:00 UTC by sar (score 0.9, scene S1): no AIS matches it; "
        f"1 candidate(s), 0 ruled out; attributed to MMSI {X} (share 1.0) [det.csv, row 2; cargotrace explain {detection_id}]"
    )


def test_lengths_from_static_ais_a_plus_b_and_a_csv_length_column(tmp_path):
    # as the first test, with no vessels file: A's length is A + B of its type 5 report
    # (100 + 40 m), B's the Length column of its positions CSV (60 m); the 150 m detection
    # nearer B goes to A
    from pyais.encode import encode_dict

    static = encode_dict({"type": 5, "mmsi": A, "imo": 9074729, "shipname": "STATIC A", "callsign": "UBCD7",
                          "ship_type": 70, "to_bow": 100, "to_stern": 40, "to_port": 5, "to_starboard": 10},
                         talker_id="AI")  # fmt: skip
    nmea = tmp_path / "static.nmea"
    nmea.write_text("\n".join(static) + "\n", encoding="ascii")
    csv_a = write_csv(tmp_path / "a.csv", POSITION_HEADER, _steaming_east(A, 42.0, [0, 20]))
    csv_b = write_csv(tmp_path / "b.csv", [*POSITION_HEADER, "Length"],
                      [[*row, "60"] for row in _steaming_east(B, 42.01, [0, 20])])  # fmt: skip
    det = write_csv(tmp_path / "det.csv", OUR_HEADER, [_detection(42.006, 150)])
    case_dir = tmp_path / "case"
    workflow.ingest(case_dir, "ais", [nmea, csv_a, csv_b])
    workflow.ingest(case_dir, "detections", [det])
    workflow.analyze(case_dir, AnalysisSettings())
    with Case.open(case_dir) as case:
        lengths = case.rows(
            "SELECT mmsi, max(length_m) AS length_m FROM vessel_reports GROUP BY mmsi ORDER BY mmsi"
        )
        [match] = case.rows("SELECT mmsi, vessel_length_m, reason FROM detection_matches")
    assert lengths == [{"mmsi": A, "length_m": 140.0}, {"mmsi": B, "length_m": 60.0}]
    assert (match["mmsi"], match["vessel_length_m"]) == (A, 140.0)
    assert match["reason"].endswith("length 150 m detected, 140 m known")


# ----------------------------------------------------------------------------- footprints
# C is silent from T0 (42.0 N) to T0 + 12 h (43.0 N) and the dark detection is at T0 + 6 h on
# 42.5 N: on the straight line, C was at 42.25 N at T0 + 3 h and at 42.75 N at T0 + 9 h. The
# tolerance 3 h from either end of the leg is lit matching's: 1000 m + 4 kn x 3 h.
WIDE_SCENE = "POLYGON((131 41.5, 132.5 41.5, 132.5 43.5, 131 43.5, 131 41.5))"
THREE_H_TOLERANCE_M = round(1000 + 4 * 1852 / 3600 * 3 * 3600)


def _scene_detection(hours: float, lat: float, lon: float, scene: str) -> list[Any]:
    at = (T0 + timedelta(hours=hours)).isoformat()
    return [at, lat, lon, 150, 0.8, scene, "sar", WIDE_SCENE]


def _footprint_case(tmp_path: Path, others: list[list[Any]]) -> list[dict[str, Any]]:
    C = 273000011
    case_dir = tmp_path / "case"
    dark = [*_dark(DARK_AT[0], 150, "S9"), ""]  # the dark detection's own scene has no footprint
    det = write_csv(tmp_path / "det.csv", [*OUR_HEADER, "footprint"], [dark, *others])
    ais = write_csv(tmp_path / "ais.csv", POSITION_HEADER, _silent(C, (42.0, 131.5), (43.0, 131.5)))
    workflow.ingest(case_dir, "ais", [ais])
    workflow.ingest(case_dir, "detections", [det])
    workflow.analyze(case_dir, AnalysisSettings())
    with Case.open(case_dir) as case:
        return case.rows(
            "SELECT mmsi, ruled_out_by, rank, reason FROM detection_candidates "
            "WHERE scene_key = 'S9' ORDER BY mmsi"
        )


def test_candidate_ruled_out_by_a_footprint_that_shows_no_detection_where_it_would_have_been(
    tmp_path,
):
    # scene S2 at T0 + 3 h covers 42.25 N 131.5 E; its one detection is 47 km away
    [row] = _footprint_case(tmp_path, [_scene_detection(3, 42.55, 131.9, "S2")])
    assert (row["ruled_out_by"], row["rank"]) == ("footprint_no_detection", None)
    assert row["reason"] == (
        "scene S2 of 2023-09-01 03:00 UTC covers where it would have been on its way from its "
        f"last fix to the detection (42.25, 131.5) and shows no detection within {THREE_H_TOLERANCE_M} m"
    )


def test_footprint_after_the_detection_rules_out_on_the_way_to_the_next_fix(tmp_path):
    [row] = _footprint_case(tmp_path, [_scene_detection(9, 42.2, 132.2, "S3")])
    assert row["ruled_out_by"] == "footprint_no_detection"
    assert "on its way from the detection to its next fix (42.75, 131.5)" in row["reason"]


def test_candidate_kept_when_the_footprint_shows_a_detection_near_where_it_would_have_been(
    tmp_path,
):
    # S2's detection is 5.6 km from 42.25 N 131.5 E: within the 23 km tolerance
    [row] = _footprint_case(tmp_path, [_scene_detection(3, 42.3, 131.5, "S2")])
    assert (row["ruled_out_by"], row["rank"]) == (None, 1)


def test_candidate_kept_when_the_scene_was_taken_outside_its_silence(tmp_path):
    # S4 (T0 + 13 h) and S5 (T0 - 1 h) cover the whole area with a detection far from C's
    # track, but C's AIS was on then: the scenes say nothing of where C was in the dark
    scenes = [_scene_detection(13, 42.55, 132.4, "S4"), _scene_detection(-1, 42.55, 132.4, "S5")]
    [row] = _footprint_case(tmp_path, scenes)
    assert (row["ruled_out_by"], row["rank"]) == (None, 1)


# ----------------------------------------------------------------------------- AIS unseen in a scene
EAST_SCENE = "POLYGON((131 41.5, 131.5 41.5, 131.5 42.5, 131 42.5, 131 41.5))"


def _scene_case(tmp_path: Path, detections: list[list[Any]]) -> Path:
    # A steams east on 42.0 N (placed at 131.0375 E at +10 min, inside EAST_SCENE); B on
    # 41.0 N, outside it
    case_dir = tmp_path / "case"
    fixes = _steaming_east(A, 42.0, [0, 20]) + _steaming_east(B, 41.0, [0, 20])
    det = write_csv(tmp_path / "det.csv", [*OUR_HEADER, "footprint"], detections)
    workflow.ingest(case_dir, "ais", [write_csv(tmp_path / "ais.csv", POSITION_HEADER, fixes)])
    workflow.ingest(case_dir, "detections", [det])
    workflow.analyze(case_dir, AnalysisSettings())
    return case_dir


def test_a_vessel_whose_ais_puts_it_inside_a_scene_with_no_detection_near_it_is_unseen(tmp_path):
    far = (42.4, 131.4)
    case_dir = _scene_case(
        tmp_path, [[AT_10_MIN.isoformat(), *far, "", 0.9, "S1", "sar", EAST_SCENE]]
    )
    with Case.open(case_dir) as case:
        rows = case.rows("SELECT scene_key, mmsi, method, tolerance_m, reason FROM scene_misses")
        events = json.loads(case.meta("findings"))["events"]
    nearest_m = round(1000 * _km((42.0, 131.0375), far))
    assert rows == [{
        "scene_key": "S1", "mmsi": A, "method": "interpolated", "tolerance_m": round(1000 + 4 * 1852 / 3600 * 600, 1),
        "reason": "AIS places it at 42.0, 131.0375 inside scene S1 of 2023-09-01 00:10 UTC, and the scene "
                  f"shows no detection within 2235 m (nearest {nearest_m} m)",
    }]  # fmt: skip
    assert events["ais_unseen_in_scenes"] == 1
    [vessel] = [e for e in workflow.explain(case_dir, str(A)) if e["kind"] == "vessel"]
    assert f"  {rows[0]['reason']}" in vessel["lines"]


def test_a_vessel_seen_in_the_scene_or_a_scene_without_footprint_is_not_unseen(tmp_path):
    # S1's detection 667 m from A's placement: A is lit there; S2 (no footprint) sees nothing
    # near A or B, but without a footprint it says nothing of where it did not look
    near = [AT_10_MIN.isoformat(), 42.006, 131.0375, "", 0.9, "S1", "sar", EAST_SCENE]
    blind = [AT_10_MIN.isoformat(), 44.0, 135.0, "", 0.9, "S2", "sar", ""]
    case_dir = _scene_case(tmp_path, [near, blind])
    with Case.open(case_dir) as case:
        lit = case.rows("SELECT scene_key, mmsi FROM detection_matches")
        unseen = case.scalar("SELECT count(*) FROM scene_misses")
    assert lit == [{"scene_key": "S1", "mmsi": A}] and unseen == 0
