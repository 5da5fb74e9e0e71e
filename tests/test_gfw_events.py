"""Global Fishing Watch events (KIND `gfw-events`): the events API's JSON, hand-written per
event type from the documented fields (tests/gfw_events/), and its CSV exports."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.errors import InputError
from cargotrace.settings import AnalysisSettings

from builders import POSITION_HEADER, T0, CaseBuilder, write_csv

FIXTURES = Path(__file__).parent / "gfw_events"
COLUMNS = ("event_id, event_type, CAST(started_at AS VARCHAR) AS started_at, "
           "CAST(ended_at AS VARCHAR) AS ended_at, lat, lon, mmsi, vessel_name, flag, visit_id, "
           "gfw_confidence, anchorage_id, anchorage_name, anchorage_country, anchorage_lat, "
           "anchorage_lon, other_mmsi, other_name, other_flag, hours, distance_km, "
           "intentional_disabling, off_lat, off_lon, on_lat, on_lon, source_row")  # fmt: skip
NONE = dict.fromkeys(("visit_id", "gfw_confidence", "anchorage_id", "anchorage_name", "anchorage_country",
                      "anchorage_lat", "anchorage_lon", "other_mmsi", "other_name", "other_flag",
                      "distance_km", "off_lat", "off_lon", "on_lat", "on_lon"))  # fmt: skip
SHIP = {"mmsi": 273000021, "vessel_name": "GFW SHIP", "flag": "RU"}


def _events(case_dir: Path) -> list[dict]:
    with Case.open(case_dir) as case:
        return case.rows(f"SELECT {COLUMNS} FROM gfw_events ORDER BY started_at")


def test_each_event_type_read_from_the_events_api_json(tmp_path):
    files = [FIXTURES / f"{name}.json" for name in ("port_visits", "encounter", "loitering", "gap")]
    results = workflow.ingest(tmp_path / "case", "gfw-events", files)
    assert [(r.rows_read, r.rows_kept, r.rows_quarantined) for r in results] == [
        (2, 2, 0), (1, 1, 0), (1, 1, 0), (1, 1, 0)
    ]  # fmt: skip
    gap, rajin, encounter, loitering, vostochny = _events(tmp_path / "case")
    assert gap == {**NONE, **SHIP, "event_id": "9a8b7c6d5e4f30211203f4e5d6c7b8a9", "event_type": "gap",
                   "started_at": "2023-08-30 20:00:00+00", "ended_at": "2023-09-04 22:00:00+00",
                   "lat": 42.1, "lon": 130.55, "hours": 122.0, "distance_km": 296.4,
                   "intentional_disabling": True, "off_lat": 42.1, "off_lon": 130.55,
                   "on_lat": 42.6, "on_lon": 132.95, "source_row": 1}  # fmt: skip
    assert rajin == {**NONE, **SHIP, "event_id": "a1b2c3d4e5f60718293a4b5c6d7e8f90", "event_type": "port_visit",
                     "started_at": "2023-09-01 04:10:00+00", "ended_at": "2023-09-02 18:30:00+00",
                     "lat": 42.2452, "lon": 130.3061, "visit_id": "e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2",
                     "gfw_confidence": 4, "anchorage_id": "5a1e2f3b4c5d", "anchorage_name": "RAJIN",
                     "anchorage_country": "KP", "anchorage_lat": 42.2452, "anchorage_lon": 130.3061,
                     "hours": pytest.approx(38 + 1 / 3), "intentional_disabling": None,
                     "source_row": 1}  # fmt: skip
    assert encounter == {**NONE, **SHIP, "event_id": "c0ffee00c0ffee00c0ffee00c0ffee00", "event_type": "encounter",
                         "started_at": "2023-09-03 06:00:00+00", "ended_at": "2023-09-03 09:20:00+00",
                         "lat": 41.9012, "lon": 131.2204, "other_mmsi": 445123456, "other_name": "MORNING CALM",
                         "other_flag": "KP", "hours": pytest.approx(10 / 3), "distance_km": 0.045,
                         "intentional_disabling": None, "source_row": 1}  # fmt: skip
    assert loitering == {**NONE, **SHIP, "event_id": "10a1e2b3c4d5e6f708192a3b4c5d6e7f", "event_type": "loitering",
                         "started_at": "2023-09-03 10:00:00+00", "ended_at": "2023-09-04 01:30:00+00",
                         "lat": 41.885, "lon": 131.251, "hours": 15.5, "distance_km": 9.8,
                         "intentional_disabling": None, "source_row": 1}  # fmt: skip
    assert (vostochny["anchorage_name"], vostochny["anchorage_country"], vostochny["gfw_confidence"],
            vostochny["source_row"]) == ("VOSTOCHNY", "RU", 3, 2)  # fmt: skip


def test_csv_export_reads_like_the_json(tmp_path):
    page = json.loads((FIXTURES / "port_visits.json").read_text(encoding="utf-8"))
    entry = page["entries"][0]
    anchorage = entry["port_visit"]["startAnchorage"]
    header = ["id", "type", "start", "end", "position.lat", "position.lon", "vessel.ssvid", "vessel.name",
              "vessel.flag", "port_visit.visitId", "port_visit.confidence", "port_visit.startAnchorage.anchorageId",
              "port_visit.startAnchorage.name", "port_visit.startAnchorage.flag", "port_visit.startAnchorage.lat",
              "port_visit.startAnchorage.lon"]  # fmt: skip
    row = [entry["id"], entry["type"], entry["start"], entry["end"], entry["position"]["lat"],
           entry["position"]["lon"], entry["vessel"]["ssvid"], entry["vessel"]["name"], entry["vessel"]["flag"],
           entry["port_visit"]["visitId"], entry["port_visit"]["confidence"], anchorage["anchorageId"],
           anchorage["name"], anchorage["flag"], anchorage["lat"], anchorage["lon"]]  # fmt: skip
    workflow.ingest(tmp_path / "json", "gfw-events", [FIXTURES / "port_visits.json"])
    workflow.ingest(tmp_path / "csv", "gfw-events", [write_csv(tmp_path / "pv.csv", header, [row])])
    [from_csv] = _events(tmp_path / "csv")
    from_json = _events(tmp_path / "json")[0]
    # the CSV's first event is on its line 2 (after the header), the JSON's is event 1
    assert (from_csv.pop("source_row"), from_json.pop("source_row")) == (2, 1)
    assert from_csv == from_json


def test_bad_events_quarantined_and_bad_json_refused(tmp_path):
    good = {
        "id": "e1",
        "type": "gap",
        "start": "2023-09-01T00:00:00Z",
        "vessel": {"ssvid": "273000021"},
    }
    page = {"entries": [good,
                        {**good, "id": "e2", "start": "yesterday"},
                        {**good, "id": "e3", "vessel": {"ssvid": "", "name": "NO ID"}},
                        {**good, "id": "e4", "type": None},
                        {**good, "id": "e5", "position": {"lat": 95, "lon": 130}}]}  # fmt: skip
    path = tmp_path / "events.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    [result] = workflow.ingest(tmp_path / "case", "gfw-events", [path])
    assert (result.rows_read, result.rows_kept, result.rows_quarantined) == (5, 1, 4)
    with Case.open(tmp_path / "case") as case:
        refused = case.rows(
            "SELECT reason, column_name, source_row FROM quarantine ORDER BY source_row"
        )
    assert refused == [
        {"reason": "bad_timestamp", "column_name": "start", "source_row": 2},
        {"reason": "missing_vessel", "column_name": "vessel.ssvid", "source_row": 3},
        {"reason": "missing_type", "column_name": "type", "source_row": 4},
        {"reason": "bad_latitude", "column_name": "position.lat", "source_row": 5},
    ]
    broken = tmp_path / "broken.json"
    broken.write_text('{"entries": [{"id": "x",}]}', encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON") as refused_file:
        workflow.ingest(tmp_path / "case", "gfw-events", [broken])
    assert refused_file.value.file == str(broken)


def test_port_visits_alone_link_a_shipment_through_an_arrival(tmp_path):
    # no AIS at all: GFW's Rajin visit then its Vostochny visit (4 days later) make an
    # arrival of interest; a shipment from the port's station 3 days later links to it
    b = CaseBuilder(tmp_path)
    b.shipment("W-1", T0 + timedelta(days=7))
    workflow.ingest(b.case_dir, "gfw-events", [FIXTURES / "port_visits.json"])
    with b.run() as case:
        calls = case.rows("SELECT mmsi, port_locode, port_country, arrived_at, departed_at, source, confidence "
                          "FROM port_calls ORDER BY arrived_at")  # fmt: skip
        [arrival] = case.rows(
            "SELECT arrival_id, port_locode, previous_port_locode, source, days_since_previous FROM arrivals"
        )
        links = case.rows("SELECT waybill, arrival_id FROM linked_shipments")
    assert calls == [
        {"mmsi": 273000021, "port_locode": "KPNJN", "port_country": "KP",
         "arrived_at": datetime(2023, 9, 1, 4, 10, tzinfo=UTC), "departed_at": datetime(2023, 9, 2, 18, 30, tzinfo=UTC),
         "source": "gfw", "confidence": 1.0},
        {"mmsi": 273000021, "port_locode": "RUVYP", "port_country": "RU",
         "arrived_at": datetime(2023, 9, 5, 2, 0, tzinfo=UTC), "departed_at": datetime(2023, 9, 7, 11, 45, tzinfo=UTC),
         "source": "gfw", "confidence": 0.75},
    ]  # fmt: skip
    assert arrival["port_locode"] == "RUVYP" and arrival["previous_port_locode"] == "KPNJN"
    assert arrival["source"] == "gfw" and arrival["days_since_previous"] == 3
    assert links == [{"waybill": "W-1", "arrival_id": arrival["arrival_id"]}]


def test_gfw_events_and_calls_export(tmp_path):
    workflow.ingest(
        tmp_path / "case", "gfw-events", [FIXTURES / "port_visits.json", FIXTURES / "gap.json"]
    )
    workflow.analyze(tmp_path / "case", AnalysisSettings())
    events, calls = tmp_path / "events.csv", tmp_path / "calls.csv"
    workflow.export(tmp_path / "case", "csv", events, "gfw_events")
    workflow.export(tmp_path / "case", "csv", calls, "gfw_calls")
    event_lines = events.read_text(encoding="utf-8").splitlines()
    assert len(event_lines) == 4 and event_lines[0].startswith("event_id,event_type,started_at")
    call_lines = calls.read_text(encoding="utf-8").splitlines()
    assert len(call_lines) == 3 and [line.split(",")[7] for line in call_lines[1:]] == [
        "KPNJN",
        "RUVYP",
    ]


def test_a_visit_to_an_anchorage_no_port_holds_is_a_call_in_its_country(tmp_path):
    page = json.loads((FIXTURES / "port_visits.json").read_text(encoding="utf-8"))
    rajin = page["entries"][0]
    anchorage = {"anchorageId": "kp-coast-77", "name": "UNNAMED ANCHORAGE", "flag": "PRK",
                 "lat": 39.5, "lon": 128.9}  # fmt: skip
    rajin["port_visit"]["startAnchorage"] = anchorage
    rajin["position"] = {"lat": 39.5, "lon": 128.9}
    path = tmp_path / "visits.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    b = CaseBuilder(tmp_path)
    b.shipment("W-1", T0 + timedelta(days=7))
    workflow.ingest(b.case_dir, "gfw-events", [path])
    with b.run() as case:
        [arrival] = case.rows("SELECT port_locode, previous_port_locode FROM arrivals")
        links = case.scalar("SELECT count(*) FROM linked_shipments")
    assert arrival == {"port_locode": "RUVYP", "previous_port_locode": "GFW:kp-coast-77"}
    assert links == 1


def test_findings_count_gfw_events_by_type(tmp_path):
    files = [FIXTURES / f"{name}.json" for name in ("port_visits", "encounter", "loitering", "gap")]
    workflow.ingest(tmp_path / "case", "gfw-events", files)
    events = workflow.analyze(tmp_path / "case", AnalysisSettings())["events"]
    assert {k: events[k] for k in ("gfw_port_visits", "gfw_encounters", "gfw_loitering", "gfw_gaps",
                                   "port_calls", "detections")} == {
        "gfw_port_visits": 2, "gfw_encounters": 1, "gfw_loitering": 1, "gfw_gaps": 1,
        "port_calls": 2, "detections": 0,
    }  # fmt: skip


# ----------------------------------------------------------------------------- merged events
GFW_GAP_ID = "9a8b7c6d5e4f30211203f4e5d6c7b8a9"


def _gfw_case(tmp_path: Path, *extra: tuple[str, list[Path]]) -> tuple[Path, dict]:
    files = [FIXTURES / f"{name}.json" for name in ("encounter", "loitering", "gap")]
    case_dir = tmp_path / "case"
    for kind, paths in extra:
        workflow.ingest(case_dir, kind, paths)
    workflow.ingest(case_dir, "gfw-events", files)
    return case_dir, workflow.analyze(case_dir, AnalysisSettings())


def test_gfw_encounters_loitering_gaps_in_the_findings_with_source_and_confidence(tmp_path):
    from cargotrace.report.schema import validate_findings

    case_dir, findings = _gfw_case(tmp_path)
    gfw = {"source": "gfw", "confidence": 0.75, "vessel_name": "GFW SHIP"}
    [encounter] = findings["encounters"]
    assert encounter == {
        **gfw, "mmsi_a": 273000021, "mmsi_b": 445123456, "started_at": "2023-09-03T06:00:00+00:00",
        "ended_at": "2023-09-03T09:20:00+00:00", "hours": 3.333, "median_distance_m": 45.0,
        "median_sog_kn": None, "lat": 41.9012, "lon": 131.2204, "nearest_port_km": encounter["nearest_port_km"],
        "event_id": "c0ffee00c0ffee00c0ffee00c0ffee00", "other_name": "MORNING CALM",
    }  # fmt: skip
    [loitering] = findings["loitering"]
    assert {k: loitering[k] for k in ("mmsi", "started_at", "ended_at", "hours", "lat", "lon",
                                       "source", "confidence", "event_id", "distance_km", "fixes")} == {
        "mmsi": 273000021, "started_at": "2023-09-03T10:00:00+00:00", "ended_at": "2023-09-04T01:30:00+00:00",
        "hours": 15.5, "lat": 41.885, "lon": 131.251, "source": "gfw", "confidence": 0.75,
        "event_id": "10a1e2b3c4d5e6f708192a3b4c5d6e7f", "distance_km": 9.8, "fixes": None,
    }  # fmt: skip
    [gap] = findings["gaps"]
    assert {k: gap[k] for k in ("vessel_key", "ship_key", "mmsi", "started_at", "ended_at", "hours",
                                "start_lat", "start_lon", "end_lat", "end_lon", "distance_km",
                                "implied_speed_kn", "source", "confidence", "event_id",
                                "intentional_disabling", "possible_dark_call_count")} == {
        "vessel_key": "273000021", "ship_key": "273000021", "mmsi": 273000021,
        "started_at": "2023-08-30T20:00:00+00:00", "ended_at": "2023-09-04T22:00:00+00:00", "hours": 122.0,
        "start_lat": 42.1, "start_lon": 130.55, "end_lat": 42.6, "end_lon": 132.95, "distance_km": 296.4,
        "implied_speed_kn": round(296.4 / 1.852 / 122.0, 3), "source": "gfw", "confidence": 0.75,
        "event_id": GFW_GAP_ID, "intentional_disabling": True, "possible_dark_call_count": 0,
    }  # fmt: skip
    assert {k: findings["events"][k] for k in ("gaps", "encounters", "loitering", "gfw_gaps",
                                               "gaps_from_gfw", "encounters_from_gfw", "loitering_from_gfw")} == {
        "gaps": 1, "encounters": 1, "loitering": 1, "gfw_gaps": 1,
        "gaps_from_gfw": 1, "encounters_from_gfw": 1, "loitering_from_gfw": 1,
    }  # fmt: skip
    validate_findings(findings)
    # explain: the gap by its id, with what GFW says of it
    [explained] = workflow.explain(case_dir, gap["gap_id"])
    assert explained["lines"] == [
        f"AIS gap {gap['gap_id']}: MMSI 273000021 (vessel 273000021, ship 273000021) silent 122.0 h "
        f"(Global Fishing Watch event {GFW_GAP_ID}, confidence 0.75)",
        "  AIS off 2023-08-30 20:00 UTC at 42.10000, 130.55000",
        "  AIS on 2023-09-04 22:00 UTC at 42.60000, 132.95000",
        "  intentional disabling by GFW's judgement: yes",
    ]
    # explain of an MMSI, or a name, the case knows only from GFW's events: what they say of it
    for ident, head, listed in (
        ("273000021", "Vessel MMSI 273000021: GFW SHIP, IMO unknown, flag RU, ship type ?; seen "
                      "2023-08-30 20:00 to 2023-09-04 22:00 UTC", ["AIS gaps (1):", "encounters (1):", "loitering (1):"]),
        ("gfw ship", "Vessel MMSI 273000021: GFW SHIP, IMO unknown, flag RU, ship type ?; seen "
                     "2023-08-30 20:00 to 2023-09-04 22:00 UTC", ["AIS gaps (1):", "encounters (1):", "loitering (1):"]),
        ("445123456", "Vessel MMSI 445123456: MORNING CALM, IMO unknown, flag KP, ship type ?; seen "
                      "2023-09-03 06:00 to 2023-09-03 09:20 UTC", ["encounters (1):"]),
    ):  # fmt: skip
        [vessel] = workflow.explain(case_dir, ident)
        assert vessel["lines"][0] == head + " (known only from Global Fishing Watch's events)"
        assert [line for line in vessel["lines"] if not line.startswith(" ")][1:] == listed
    # the GIS exports of gaps, encounters and loitering carry them, with their source
    for table, geometry, coordinates in (
        ("gaps", "LineString", [[130.55, 42.1], [132.95, 42.6]]),
        ("encounters", "Point", [131.2204, 41.9012]),
        ("loitering", "Point", [131.251, 41.885]),
    ):
        out = tmp_path / f"{table}.geojson"
        workflow.export(case_dir, "geojson", out, table)
        [feature] = json.loads(out.read_text(encoding="utf-8"))["features"]
        assert feature["geometry"] == {"type": geometry, "coordinates": coordinates}
        assert (feature["properties"]["source"], feature["properties"]["confidence"]) == (
            "gfw",
            0.75,
        )
    # with GFW's events and no AIS, the report still has its vessel sections, and counts them
    from cargotrace.report.vessel_data import build as vessel_data

    with Case.open(case_dir) as case:
        data = vessel_data(case, findings)
    counts = data["counts"]
    assert (counts["gaps"], counts["encounters"], counts["loitering"]) == (1, 1, 1)
    workflow.report(case_dir, tmp_path / "report.html")
    assert 'id="vessels-section"' in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_a_gfw_gap_that_an_ais_gap_of_the_ship_overlaps_is_listed_once_as_ais(tmp_path):
    # AIS of the same MMSI goes silent from 19:00 on 30 August to 23:00 on 4 September: its
    # own gap spans GFW's, which stays in gfw_gaps naming it, out of the merged list
    fixes = [[273000021, "2023-08-30T18:50:00Z", 42.1, 130.56, 9.0, 90.0, 90, 0],
             [273000021, "2023-08-30T19:00:00Z", 42.1, 130.58, 9.0, 90.0, 90, 0],
             [273000021, "2023-09-04T23:00:00Z", 42.6, 132.95, 9.0, 90.0, 90, 0],
             [273000021, "2023-09-04T23:10:00Z", 42.6, 132.97, 9.0, 90.0, 90, 0]]  # fmt: skip
    ais = write_csv(tmp_path / "ais.csv", POSITION_HEADER, fixes)
    case_dir, findings = _gfw_case(tmp_path, ("ais", [ais]))
    with Case.open(case_dir) as case:
        ais_gap = case.scalar("SELECT gap_id FROM gaps")
        [gfw] = case.rows("SELECT event_id, ais_event_id FROM gfw_gaps")
    assert gfw == {"event_id": GFW_GAP_ID, "ais_event_id": ais_gap}
    assert [
        (g["gap_id"], g["source"], g["confidence"], g["event_id"]) for g in findings["gaps"]
    ] == [(ais_gap, "ais", 1.0, None)]
    # the encounter and the loitering event have no AIS counterpart: still GFW's
    assert [e["source"] for e in findings["encounters"] + findings["loitering"]] == ["gfw", "gfw"]
    # the summary's counts: the gap once (AIS's), GFW's events of the other types
    assert {k: findings["events"][k] for k in ("gaps", "gaps_from_gfw", "gfw_gaps",
                                               "encounters_from_gfw", "loitering_from_gfw")} == {
        "gaps": 1, "gaps_from_gfw": 0, "gfw_gaps": 1, "encounters_from_gfw": 1, "loitering_from_gfw": 1,
    }  # fmt: skip
    # explain of the vessel lists them next to its AIS gap, marked
    [vessel] = [e for e in workflow.explain(case_dir, "273000021") if e["kind"] == "vessel"]
    mark = "(Global Fishing Watch event {}, confidence 0.75)"
    assert (
        "  2023-09-03 06:00 -> 2023-09-03 09:20 with MMSI 445123456 at 41.9012, 131.2204 "
        + mark.format("c0ffee00c0ffee00c0ffee00c0ffee00")
    ) in vessel["lines"]
    assert (
        "  2023-09-03 10:00 -> 2023-09-04 01:30, 15.5 h at 41.8850, 131.2510 "
        + mark.format("10a1e2b3c4d5e6f708192a3b4c5d6e7f")
    ) in vessel["lines"]
    assert [g["source"] for g in vessel["gaps"]] == ["ais"]
    # the report's vessel data carries them with their source
    from cargotrace.report.vessel_data import build as vessel_data

    with Case.open(case_dir) as case:
        data = vessel_data(case, findings)
    assert [(e["mmsi_b"], e["source"]) for e in data["encounters"]] == [(445123456, "gfw")]
    assert [(e["mmsi"], e["source"]) for e in data["loitering"]] == [(273000021, "gfw")]
    assert [(g["gap_id"], g["source"]) for g in data["dark"]] == [(ais_gap, "ais")]
    assert data["counts"]["gaps"] == 1 and data["counts"]["encounters"] == 1
    workflow.report(case_dir, tmp_path / "report.html")
    assert "GFW SHIP" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_a_dark_detection_in_a_gfw_gap_is_attributed_to_its_vessel_without_ais(tmp_path):
    # no AIS: GFW's gap (42.1 N 130.55 E on 30 August 20:00 to 42.6 N 132.95 E on 4 September
    # 22:00) is the vessel's silence; a detection on 2 September at 42.3 N 131.5 E is reachable
    det = write_csv(tmp_path / "det.csv", ["detected_at", "lat", "lon", "length_m", "score", "scene_id", "source"],
                    [["2023-09-02T00:00:00Z", 42.3, 131.5, "", 0.9, "S1", "sar"]])  # fmt: skip
    case_dir, _ = _gfw_case(tmp_path, ("detections", [det]))
    with Case.open(case_dir) as case:
        [candidate] = case.rows(
            "SELECT mmsi, silence, rank, share, ruled_out_by, reason FROM detection_candidates"
        )
    assert (candidate["mmsi"], candidate["silence"], candidate["rank"], candidate["share"]) == (
        273000021,
        "gfw_gap",
        1,
        1.0,
    )
    assert candidate["ruled_out_by"] is None
    assert candidate["reason"].startswith(
        "AIS silent 2023-08-30 20:00 to 2023-09-04 22:00 UTC (a gap Global Fishing Watch reported); "
    )
