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

from builders import T0, CaseBuilder, write_csv

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
