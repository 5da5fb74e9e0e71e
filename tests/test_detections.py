"""Satellite vessel detections (issue 20): the kind, matching to AIS, attribution of dark ones."""

from __future__ import annotations

from tests.builders import write_csv

from cargotrace import workflow
from cargotrace.case.store import Case

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
