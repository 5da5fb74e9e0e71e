"""Scenes in which nothing was detected (issue 20): a `detections` row with a footprint and no
position is a scene, never a detection, and the footprint rules use it."""

from __future__ import annotations

import json
from datetime import timedelta

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.settings import AnalysisSettings
from test_detections import (
    AT_10_MIN,
    EAST_SCENE,
    GFW_HEADER,
    OUR_HEADER,
    SCENE,
    THREE_H_TOLERANCE_M,
    WIDE_SCENE,
    A,
    _footprint_case,
    _scene_case,
)

from builders import T0, write_csv

HEADER = [*OUR_HEADER, "footprint"]


def _empty_scene(at: str, scene: str, footprint: str) -> list[str]:
    return [at, "", "", "", "", scene, "sar", footprint]


def test_empty_scene_kept_as_a_scene_not_a_detection_and_rows_add_up(tmp_path):
    at = "2023-09-01T03:10:00Z"
    rows = [
        [at, "42.25", "130.31", "150", "0.9", "S1", "sar", SCENE],  # a detection
        _empty_scene(at, "S2", SCENE),  # a scene in which nothing was detected
        _empty_scene(at, "S3", ""),  # neither a position nor a footprint
        _empty_scene(at, "S4", "CIRCLE(1 2)"),  # a scene whose footprint is no polygon
        [at, "", "130.31", "150", "0.9", "S5", "sar", SCENE],  # half a position
    ]
    case_dir = tmp_path / "case"
    [result] = workflow.ingest(
        case_dir, "detections", [write_csv(tmp_path / "d.csv", HEADER, rows)]
    )
    assert (result.rows_read, result.rows_kept, result.rows_quarantined, result.rows_duplicate) == (
        5, 2, 3, 0,
    )  # fmt: skip
    from cargotrace.ingest.summary import ingest_notes

    assert ingest_notes(result)[0] == (
        "kept: 1 of the 2 kept rows in table empty_scenes (scenes in which nothing was detected: "
        "not detections, but evidence against a vessel being where the scene looked)"
    )
    workflow.analyze(case_dir, AnalysisSettings())
    with Case.open(case_dir) as case:
        detections = case.rows("SELECT scene_id FROM detections")
        scenes = case.rows(
            "SELECT scene_id, CAST(scene_at AS VARCHAR) AS t, source, footprint_wkt, source_row "
            "FROM empty_scenes"
        )
        refused = case.rows(
            "SELECT reason, column_name, source_row FROM quarantine ORDER BY source_row"
        )
        dark = case.rows("SELECT scene_id FROM dark_detections")
        events = json.loads(case.meta("findings"))["events"]
    assert detections == [{"scene_id": "S1"}] and dark == [{"scene_id": "S1"}]
    assert scenes == [
        {"scene_id": "S2", "t": "2023-09-01 03:10:00+00", "source": "sar", "footprint_wkt": SCENE,
         "source_row": 3},
    ]  # fmt: skip
    assert refused == [
        {"reason": "missing_coordinates", "column_name": "lat", "source_row": 4},
        {"reason": "bad_footprint", "column_name": "footprint", "source_row": 5},
        {"reason": "missing_coordinates", "column_name": "lat", "source_row": 6},
    ]
    assert (events["detections"], events["dark_detections"], events["lit_detections"]) == (1, 1, 0)
    assert events["empty_scenes"] == 1
    assert workflow.check_case(case_dir) == []
    out = tmp_path / "scenes.csv"
    assert workflow.export(case_dir, "csv", out, table="empty_scenes") == 1
    assert out.read_text().splitlines()[0].startswith("scene_id,scene_at,source,footprint_wkt")


def test_empty_scene_in_global_fishing_watchs_layout(tmp_path):
    rows = [["S1A_9", "", "2023-09-01T03:10:00Z", "", "", "", "", SCENE]]
    case_dir = tmp_path / "case"
    [result] = workflow.ingest(
        case_dir, "detections", [write_csv(tmp_path / "g.csv", GFW_HEADER, rows)]
    )
    assert (result.rows_read, result.rows_kept, result.rows_quarantined) == (1, 1, 0)
    with Case.open(case_dir) as case:
        assert case.scalar("SELECT count(*) FROM detections") == 0
        assert case.rows("SELECT scene_id, footprint_wkt FROM empty_scenes") == [
            {"scene_id": "S1A_9", "footprint_wkt": SCENE}
        ]


def test_candidate_ruled_out_by_an_empty_scene_over_where_it_would_have_been(tmp_path):
    # S2 at T0 + 3 h covers 42.25 N 131.5 E, where C would have been, and detected nothing
    at = (T0 + timedelta(hours=3)).isoformat()
    [row] = _footprint_case(tmp_path, [_empty_scene(at, "S2", WIDE_SCENE)])
    assert (row["ruled_out_by"], row["rank"]) == ("footprint_no_detection", None)
    assert row["reason"] == (
        "scene S2 of 2023-09-01 03:00 UTC covers where it would have been on its way from its "
        f"last fix to the detection (42.25, 131.5) and shows no detection within {THREE_H_TOLERANCE_M} m"
    )


def test_candidate_kept_when_the_empty_scene_was_taken_while_its_ais_was_on(tmp_path):
    at = (T0 + timedelta(hours=13)).isoformat()
    [row] = _footprint_case(tmp_path, [_empty_scene(at, "S4", WIDE_SCENE)])
    assert (row["ruled_out_by"], row["rank"]) == (None, 1)


def test_a_vessel_whose_ais_puts_it_inside_an_empty_scene_is_unseen(tmp_path):
    case_dir = _scene_case(tmp_path, [_empty_scene(AT_10_MIN.isoformat(), "S1", EAST_SCENE)])
    with Case.open(case_dir) as case:
        rows = case.rows(
            "SELECT scene_key, mmsi, method, tolerance_m, nearest_detection_m, reason FROM scene_misses"
        )
        events = json.loads(case.meta("findings"))["events"]
    assert rows == [{
        "scene_key": "S1", "mmsi": A, "method": "interpolated", "tolerance_m": round(1000 + 4 * 1852 / 3600 * 600, 1),
        "nearest_detection_m": None,
        "reason": "AIS places it at 42.0, 131.0375 inside scene S1 of 2023-09-01 00:10 UTC, and the scene "
                  "shows no detection",
    }]  # fmt: skip
    assert (events["ais_unseen_in_scenes"], events["detections"], events["dark_detections"]) == (
        1,
        0,
        0,
    )
