"""ingest/kinds/ais_rules.py: positions without a time or a possible place are quarantined on every
AIS path (NMEA and CSV); stations that are not vessels are kept apart; MMSIs that cannot be
a ship's are flagged. Hand-built inputs with exact answers, and the shared real logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import reduce
from operator import xor
from pathlib import Path

import pytest

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.ingest.kinds.ais_rules import REASONS
from cargotrace.ingest.nmea.decoder import decode_nmea_file
from cargotrace.settings import AnalysisSettings

from builders import unusable_positions, write_csv
from conftest import shared_data

SHIP = 273123456  # a Russian ship's MMSI
HEADER = ["mmsi", "timestamp", "lat", "lon"]


def rows(case: Path, sql: str) -> list[dict]:
    with Case.open(case) as c:
        return c.rows(sql)


def ingest_one(case: Path, path: Path):
    [result] = workflow.ingest(case, "ais", [path])
    assert result.rows_read == result.rows_kept + result.rows_quarantined + result.rows_duplicate
    return result


def tagged(seconds: int, sentence: str) -> str:
    fields = f"s:a,c:{seconds}"
    return f"\\{fields}*{reduce(xor, fields.encode(), 0):02X}\\{sentence}"


def encode(**fields) -> str:
    from pyais.encode import encode_dict

    [sentence] = encode_dict(fields, talker_id="AI")
    return sentence


T = int(datetime(2023, 9, 1, tzinfo=UTC).timestamp())


# ------------------------------------------------------------------ refused rows
def test_csv_rows_without_time_or_possible_place_are_quarantined_with_their_reason(tmp_path):
    path = write_csv(
        tmp_path / "p.csv",
        HEADER,
        [
            [SHIP, "2023-09-01T00:00:00Z", 43.1, 131.9],  # kept
            [SHIP, "", 43.1, 131.9],  # no time
            [SHIP, "1960-01-01T00:00:00Z", 43.1, 131.9],  # before AIS
            [SHIP, "2999-01-01T00:00:00Z", 43.1, 131.9],  # centuries ahead
            [SHIP, "9999-12-31T00:00:00Z", 43.1, 131.9],
            [SHIP, "1970-01-01T00:00:00Z", 43.1, 131.9],  # an epoch 0 (c:0)
            [SHIP, "2023-09-01T01:00:00Z", -101.5, 131.9],
            [SHIP, "2023-09-01T02:00:00Z", 43.1, 205],
            [SHIP, "2023-09-01T03:00:00Z", 91, 181],  # "not available"
            [SHIP, "2023-09-01T04:00:00Z", "", ""],
            [SHIP, "2023-09-01T05:00:00Z", "north", 131.9],  # unreadable text keeps its reason
        ],
    )
    result = ingest_one(tmp_path / "case", path)
    assert (result.rows_kept, result.rows_quarantined) == (1, 10)
    got = rows(
        tmp_path / "case",
        "SELECT source_row, reason, column_name FROM quarantine_rows ORDER BY source_row",
    )
    assert [(r["source_row"], r["reason"], r["column_name"]) for r in got] == [
        (3, "no_timestamp", "timestamp"),
        (4, "implausible_timestamp", "timestamp"),
        (5, "implausible_timestamp", "timestamp"),
        (6, "implausible_timestamp", "timestamp"),
        (7, "implausible_timestamp", "timestamp"),
        (8, "impossible_position", "lat"),
        (9, "impossible_position", "lon"),
        (10, "no_position", "lat"),
        (11, "no_position", "lat"),
        (12, "bad_latitude", "lat"),
    ]
    assert result.detail["quarantined_by_reason"] == {
        "implausible_timestamp": 4, "no_position": 2, "impossible_position": 2, "bad_latitude": 1,
        "no_timestamp": 1}  # fmt: skip
    assert rows(tmp_path / "case", "SELECT count(*) AS n FROM positions") == [{"n": 1}]


def test_nmea_positions_without_time_or_possible_place_are_quarantined(tmp_path):
    pytest.importorskip("pyais")
    lines = [
        tagged(T, encode(type=1, mmsi=SHIP, lat=43.1, lon=131.9)),  # kept
        encode(type=1, mmsi=SHIP, lat=43.2, lon=131.9),  # no tag block: no time
        tagged(0, encode(type=1, mmsi=SHIP, lat=43.3, lon=131.9)),  # c:0
        tagged(T + 60, encode(type=1, mmsi=SHIP, lat=-101.5, lon=131.9)),
        tagged(T + 120, encode(type=1, mmsi=SHIP, lat=43.1, lon=-205)),
        tagged(T + 180, encode(type=1, mmsi=SHIP, lat=91, lon=181)),
    ]
    path = tmp_path / "log.nmea"
    path.write_text("\n".join(lines) + "\n")
    result = ingest_one(tmp_path / "case", path)
    assert (result.rows_kept, result.rows_quarantined) == (1, 5)
    got = rows(
        tmp_path / "case",
        "SELECT source_row, reason, column_name, raw FROM quarantine_rows ORDER BY source_row",
    )
    assert [(r["source_row"], r["reason"], r["column_name"]) for r in got] == [
        (2, "no_timestamp", "timestamp"),
        (3, "implausible_timestamp", "timestamp"),
        (4, "impossible_position", "lat"),
        (5, "impossible_position", "lon"),
        (6, "no_position", "lat"),
    ]
    # the raw value is the message's sentence as written (tag block included)
    assert [r["raw"] for r in got] == lines[1:]
    assert rows(tmp_path / "case", "SELECT lat, source_row FROM positions") == [
        {"lat": 43.1, "source_row": 1}
    ]


def test_year_typos_make_no_decades_long_gap(tmp_path):
    """1960 and 2999 fixes used to make 63- and 976-year gaps with possible dark calls."""
    path = write_csv(tmp_path / "p.csv", HEADER, [
        [SHIP, "1960-09-01T00:00:00Z", 43.1, 131.9], [SHIP, "2023-09-01T00:00:00Z", 43.1, 131.9],
        [SHIP, "2023-09-01T00:10:00Z", 43.1, 131.9], [SHIP, "2999-09-01T00:00:00Z", 43.1, 131.9]])  # fmt: skip
    ingest_one(tmp_path / "case", path)
    span = rows(
        tmp_path / "case", "SELECT first_seen, last_seen FROM vessels WHERE mmsi = 273123456"
    )
    assert span == [{"first_seen": datetime(2023, 9, 1, tzinfo=UTC),
                     "last_seen": datetime(2023, 9, 1, 0, 10, tzinfo=UTC)}]  # fmt: skip
    workflow.analyze(tmp_path / "case", AnalysisSettings())
    assert rows(tmp_path / "case", "SELECT count(*) AS n FROM gaps") == [{"n": 0}]


@pytest.mark.parametrize(
    "folder, name",
    [("amsa", "ais.txt.gz"), ("amsa", "exact-earth-augmented-3.txt"), ("aisdb", "test_data_201201.nmea"),
     ("aisdb", "test_data_20211101.nm4"), ("gpsd", "sample.aivdm"), ("gpsd", "ais-nmea-type6-fid55.log")],
)  # fmt: skip
def test_real_logs_keep_no_position_without_time_or_possible_place(tmp_path, folder, name):
    path = shared_data("ais", folder, name)
    expected = sum(unusable_positions(b.positions) for b in decode_nmea_file(path))
    result = ingest_one(tmp_path / "case", path)
    refused = {r: n for r, n in result.detail["quarantined_by_reason"].items() if r in REASONS}
    assert sum(refused.values()) == expected
    assert rows(tmp_path / "case", """SELECT count(*) AS n FROM positions WHERE timestamp IS NULL
        OR lat IS NULL OR lon IS NULL OR abs(lat) > 90 OR abs(lon) > 180
        OR timestamp < TIMESTAMPTZ '1998-01-01 00:00:00+00'""") == [{"n": 0}]  # fmt: skip
    out = tmp_path / "positions.geojson"
    workflow.export(tmp_path / "case", "geojson", out, table="positions")
    features = json.loads(out.read_text())["features"]
    assert (
        all(f["geometry"] and abs(f["geometry"]["coordinates"][1]) <= 90 for f in features)
        and len(features) == rows(tmp_path / "case", "SELECT count(*) AS n FROM positions")[0]["n"]
    )


def test_the_real_logs_impossible_positions_counted(tmp_path):
    """The few real sentences with coordinates beyond the globe (exactEarth lon -202.5 and
    -217.2, lat 102.7; aisdb lat -101.5, lon 200.2). gpsd's lat 109.3 lon 205.1 has no time:
    `no_timestamp` comes first."""
    expected = {"exact-earth-augmented-3.txt": 3, "test_data_201201.nmea": 2}
    logs = {"exact-earth-augmented-3.txt": "amsa", "test_data_201201.nmea": "aisdb"}
    got = {}
    for name, folder in logs.items():
        result = ingest_one(tmp_path / "case", shared_data("ais", folder, name))
        got[name] = result.detail["quarantined_by_reason"].get("impossible_position", 0)
    assert got == expected


# ------------------------------------------------------------------ not vessels
def test_base_stations_aids_and_sar_aircraft_are_kept_apart_from_vessel_tracks(tmp_path):
    rows_in = [
        [SHIP, "2023-09-01T00:00:00Z", 43.1, 131.9, 1],
        [2734567, "2023-09-01T00:00:00Z", 43.0, 131.8, 4],  # 00MID base station
        [992731234, "2023-09-01T00:00:00Z", 43.0, 131.7, 21],  # 99MID aid to navigation
        [111273456, "2023-09-01T00:00:00Z", 43.2, 131.6, 9],  # SAR aircraft
        [273999999, "2023-09-01T00:00:00Z", 43.2, 131.6, 4],  # a type 4 is a base station
        [970123456, "2023-09-01T00:00:00Z", 43.2, 131.6, 1],  # AIS-SART
    ]
    path = write_csv(tmp_path / "p.csv", [*HEADER, "message_id"], rows_in)
    result = ingest_one(tmp_path / "case", path)
    assert result.rows_kept == 6
    assert result.detail["not_vessels"] == {
        "aid_to_navigation": 1, "base_station": 2, "sar_aircraft": 1, "sart": 1}  # fmt: skip
    assert rows(tmp_path / "case", "SELECT mmsi FROM positions") == [{"mmsi": SHIP}]
    assert rows(tmp_path / "case", "SELECT mmsi FROM vessels") == [{"mmsi": SHIP}]
    stations = rows(
        tmp_path / "case",
        "SELECT mmsi, station_kind, source_row FROM ais_stations ORDER BY source_row",
    )
    assert [(r["mmsi"], r["station_kind"]) for r in stations] == [
        (2734567, "base_station"), (992731234, "aid_to_navigation"), (111273456, "sar_aircraft"),
        (273999999, "base_station"), (970123456, "sart")]  # fmt: skip
    assert workflow.check_case(tmp_path / "case") == []


def test_the_cheap_station_test_is_the_station_kind_rule():
    """`is_station_sql` (the fast test ingest runs on every row) holds exactly where
    `station_kind_sql` names a station: at every edge of every MMSI range, for every type."""
    import duckdb

    from cargotrace.ingest.kinds.ais_rules import is_station_sql, station_kind_sql
    from cargotrace.reference.mid import MMSI_RANGES

    edges = sorted(
        {m + d for _, low, high, _ in MMSI_RANGES for m in (low, high) for d in (-1, 0, 1)}
    )
    mmsis = ", ".join(f"({m})" for m in [*edges, 1, 123456789, 1_000_000_000])
    con = duckdb.connect()
    disagree = con.execute(
        f"""SELECT mmsi, msg_type FROM (VALUES {mmsis}) m(mmsi),
                   (VALUES (NULL), (1), (4), (5), (9), (18), (21), (27)) t(msg_type)
            WHERE coalesce({is_station_sql("mmsi", "msg_type")}, false)
                  <> ({station_kind_sql("mmsi", "msg_type")} IS NOT NULL)"""
    ).fetchall()
    assert disagree == []
    assert (
        con.execute(
            f"SELECT count(*) FROM (VALUES {mmsis}) m(mmsi) WHERE {is_station_sql('mmsi', '1')}"
        ).fetchone()[0]
        > 0
    )


def test_a_repeated_station_row_is_a_duplicate_not_a_second_station_row(tmp_path):
    rows_in = [
        [SHIP, "2023-09-01T00:00:00Z", 43.1, 131.9, 1],
        [2734567, "2023-09-01T00:00:00Z", 43.0, 131.8, 4],
        [2734567, "2023-09-01T00:00:00Z", 43.0, 131.8, 4],  # heard twice
        [2734567, "2023-09-01T00:10:00Z", 43.0, 131.8, 4],
    ]
    path = write_csv(tmp_path / "p.csv", [*HEADER, "message_id"], rows_in)
    result = ingest_one(tmp_path / "case", path)
    assert (result.rows_read, result.rows_kept, result.rows_duplicate) == (4, 3, 1)
    assert result.detail["not_vessels"] == {"base_station": 2}
    stations = rows(tmp_path / "case", "SELECT source_row FROM ais_stations ORDER BY source_row")
    assert [r["source_row"] for r in stations] == [3, 5]
    assert rows(tmp_path / "case", "SELECT mmsi FROM positions") == [{"mmsi": SHIP}]
    assert workflow.check_case(tmp_path / "case") == []


def test_nmea_base_station_reports_are_not_a_vessel(tmp_path):
    pytest.importorskip("pyais")
    station = encode(type=4, mmsi=2734567, year=2023, month=9, day=1, hour=0, minute=0, second=5,
                     lat=43.0, lon=131.8)  # fmt: skip
    lines = [tagged(T, encode(type=1, mmsi=SHIP, lat=43.1, lon=131.9)), tagged(T + 5, station)]
    path = tmp_path / "log.nmea"
    path.write_text("\n".join(lines) + "\n")
    result = ingest_one(tmp_path / "case", path)
    assert result.detail["not_vessels"] == {"base_station": 1}
    assert rows(tmp_path / "case", "SELECT mmsi, msg_type, lat FROM ais_stations") == [
        {"mmsi": 2734567, "msg_type": 4, "lat": 43.0}]  # fmt: skip
    assert rows(tmp_path / "case", "SELECT mmsi FROM positions") == [{"mmsi": SHIP}]


def test_an_mmsi_that_cannot_be_a_ships_is_flagged(tmp_path):
    """A row-id column mapped as the MMSI gives 1, 2, 3: kept, flagged, and the summary asks."""
    path = write_csv(tmp_path / "p.csv", HEADER, [
        [1, "2023-09-01T00:00:00Z", 43.1, 131.9], [2, "2023-09-01T00:00:00Z", 43.2, 131.9],
        [200123456, "2023-09-01T00:00:00Z", 43.3, 131.9],  # MID 200 is not allocated
        [SHIP, "2023-09-01T00:00:00Z", 43.4, 131.9]])  # fmt: skip
    result = ingest_one(tmp_path / "case", path)
    got = rows(tmp_path / "case", "SELECT mmsi, flags FROM positions ORDER BY mmsi")
    assert [(r["mmsi"], r["flags"]) for r in got] == [
        (1, "mmsi_invalid"), (2, "mmsi_invalid"), (200123456, "mmsi_invalid"), (SHIP, None)]  # fmt: skip
    assert result.detail["cleaning"]["positions_mmsi_invalid"] == 3
    from cargotrace.ingest.summary import ingest_notes

    assert any("is the mmsi column right?" in note for note in ingest_notes(result))
    # a later file of the same MMSI re-runs the speed pass over its span: the flag stays
    later = write_csv(tmp_path / "q.csv", HEADER, [[1, "2023-09-01T00:05:00Z", 43.1, 131.9]])
    ingest_one(tmp_path / "case", later)
    assert rows(tmp_path / "case", "SELECT DISTINCT flags FROM positions WHERE mmsi = 1") == [
        {"flags": "mmsi_invalid"}]  # fmt: skip


# ------------------------------------------------------------------ provider timestamps
def test_provider_timestamp_forms_are_read(tmp_path):
    """aisdb's `20210701_185151`, epoch milliseconds and seconds, DMA's day-first form."""
    expected = datetime(2021, 7, 1, 18, 51, 51, tzinfo=UTC)
    forms = ["20210701_185151", "1625165511000", "1625165511", "01/07/2021 18:51:51",
             "2021-07-01T20:51:51+02:00", "20210701T185151Z"]  # fmt: skip
    path = write_csv(tmp_path / "p.csv", HEADER,
                     [[SHIP + i, form, 43.1, 131.9] for i, form in enumerate(forms)])  # fmt: skip
    result = ingest_one(tmp_path / "case", path)
    assert result.rows_kept == len(forms)
    assert rows(tmp_path / "case", "SELECT DISTINCT timestamp FROM positions") == [
        {"timestamp": expected}
    ]


def test_dma_layout_with_day_first_times(tmp_path):
    header = ["# Timestamp", "Type of mobile", "MMSI", "Latitude", "Longitude", "Navigational status",
              "ROT", "SOG", "COG", "Heading", "IMO", "Callsign", "Name", "Ship type"]  # fmt: skip
    path = write_csv(tmp_path / "dma.csv", header, [
        ["13/07/2021 00:00:01", "Class A", SHIP, "55.5", "10.5", "Moored", "0", "0.1", "12.3", "90",
         "Unknown", "UBCD7", "KATYA", "Cargo"],
        ["13/07/2021 00:00:02", "Base Station", 2190001, "55.6", "10.6", "Unknown value", "", "", "", "",
         "", "", "", ""]])  # fmt: skip
    result = ingest_one(tmp_path / "case", path)
    assert (result.rows_kept, result.detail.get("not_vessels")) == (2, {"base_station": 1})
    assert rows(tmp_path / "case", "SELECT timestamp, nav_status FROM positions") == [
        {"timestamp": datetime(2021, 7, 13, 0, 0, 1, tzinfo=UTC), "nav_status": 5}]  # fmt: skip


def test_a_mappings_date_format_applies_to_ais_times(tmp_path):
    path = write_csv(tmp_path / "p.csv", HEADER, [[SHIP, "07/13/2021 18:51", 43.1, 131.9]])
    mapping = tmp_path / "map.toml"
    mapping.write_text('date_format = "%m/%d/%Y %H:%M"\n')
    [result] = workflow.ingest(tmp_path / "case", "ais", [path], mapping)
    assert result.rows_kept == 1
    assert rows(tmp_path / "case", "SELECT timestamp FROM positions") == [
        {"timestamp": datetime(2021, 7, 13, 18, 51, tzinfo=UTC)}]  # fmt: skip


def test_utc_offsets_no_place_has_are_refused(tmp_path):
    path = write_csv(tmp_path / "p.csv", HEADER, [
        [SHIP, "2023-09-01T00:00:00+25:00", 43.1, 131.9], [SHIP, "2023-09-01T00:00:00+05:99", 43.1, 131.9],
        [SHIP, "2023-09-01T00:00:00-15", 43.1, 131.9], [SHIP, "2023-09-01T00:00:00+14:00", 43.1, 131.9]])  # fmt: skip
    result = ingest_one(tmp_path / "case", path)
    assert (result.rows_kept, result.detail["quarantined_by_reason"]) == (1, {"bad_timestamp": 3})
    log = tmp_path / "log.nmea"
    sentence = encode(type=1, mmsi=SHIP, lat=43.1, lon=131.9)
    log.write_text(f"2023-09-01T00:00:00+25:00 {sentence}\n2023-09-01T00:00:00+05:30 {sentence}\n")
    result = ingest_one(tmp_path / "case", log)
    assert rows(tmp_path / "case", "SELECT timestamp FROM positions WHERE source_file = 'log.nmea'") == [
        {"timestamp": datetime(2023, 8, 31, 18, 30, tzinfo=UTC)}]  # fmt: skip
    assert result.detail["quarantined_by_reason"] == {
        "bad_prefix": 1
    }  # the decoder refuses the time


def test_aisdb_provider_csv_is_read_without_a_mapping(tmp_path):
    """Every row of aisdb's provider CSV used to be quarantined (`20210701_185151`)."""
    result = ingest_one(tmp_path / "case", shared_data("ais", "aisdb", "test_data_20210701.csv"))
    by_reason = result.detail["quarantined_by_reason"]
    assert "bad_timestamp" not in by_reason and result.rows_kept > 2000
    span = rows(
        tmp_path / "case", "SELECT min(timestamp) AS lo, max(timestamp) AS hi FROM positions"
    )[0]
    assert span["lo"].date() == span["hi"].date() == datetime(2021, 7, 1, tzinfo=UTC).date()
    # static messages have no position: refused as positions, their identities kept
    assert rows(tmp_path / "case", "SELECT count(*) > 0 AS any FROM vessel_reports") == [
        {"any": True}
    ]
    assert result.detail["not_vessels"]["base_station"] > 0


def test_ais_stations_export_as_points(tmp_path):
    path = write_csv(tmp_path / "p.csv", [*HEADER, "message_id"], [
        [SHIP, "2023-09-01T00:00:00Z", 43.1, 131.9, 1], [2734567, "2023-09-01T00:00:00Z", 43.0, 131.8, 4]])  # fmt: skip
    ingest_one(tmp_path / "case", path)
    out = tmp_path / "stations.geojson"
    workflow.export(tmp_path / "case", "geojson", out, table="ais_stations")
    [feature] = json.loads(out.read_text())["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [131.8, 43.0]}
    assert (feature["properties"]["mmsi"], feature["properties"]["station_kind"]) == (
        2734567,
        "base_station",
    )


def test_nmea_identity_reports_with_an_impossible_time_are_quarantined(tmp_path):
    """A type 5 stamped c:0 would make the vessel first seen in 1970."""
    pytest.importorskip("pyais")
    from pyais.encode import encode_dict

    five = encode_dict({"type": 5, "mmsi": SHIP, "imo": 9074729, "shipname": "KATYA", "callsign": "UBCD7",
                        "ship_type": 70}, talker_id="AI")  # fmt: skip
    lines = [*(tagged(0, s) for s in five), *(tagged(T, s) for s in five)]
    path = tmp_path / "log.nmea"
    path.write_text("\n".join(lines) + "\n")
    result = ingest_one(tmp_path / "case", path)
    assert (result.rows_read, result.rows_kept, result.rows_quarantined) == (2, 1, 1)
    got = rows(
        tmp_path / "case", "SELECT observed_at FROM vessel_reports ORDER BY observed_at NULLS LAST"
    )
    assert got == [{"observed_at": datetime.fromtimestamp(T, UTC)}]
    assert result.detail["quarantined_by_reason"] == {"implausible_timestamp": 1}
