"""AIS cleaning at ingest (ingest/ais_clean.py): duplicates, identity checks,
vessel identities, not-available values. Hand-built inputs with exact answers."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import xor
from pathlib import Path

import pytest

from cargotrace import workflow
from cargotrace.case import schema
from cargotrace.case.store import Case
from cargotrace.ingest.kinds.ais_clean import imo_ok_sql
from cargotrace.reference.checkdigits import imo_check_ok
from cargotrace.reference.geodesy import EARTH_RADIUS_KM

from builders import write_csv

T0 = datetime(2023, 9, 1, tzinfo=UTC)
RU_SHIP = 273123456


def north(lat: float, nm: float) -> float:
    """The latitude `nm` nautical miles north of `lat` along a meridian (great circle)."""
    return lat + math.degrees(nm * 1.852 / EARTH_RADIUS_KM)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def ingest(case: Path, kind: str, *paths: Path):
    results = workflow.ingest(case, kind, list(paths))
    for r in results:
        assert r.rows_read == r.rows_kept + r.rows_quarantined + r.rows_duplicate
    return results


def rows(case: Path, sql: str) -> list[dict]:
    with Case.open(case) as c:
        return c.rows(sql)


# ------------------------------------------------------------------ implied speed
def test_the_ingest_leaves_impossible_speeds_to_analyze(tmp_path):
    """60 nm in an hour is impossible, but that is the track's to say (analyze, table
    impossible_fixes: tests/test_impossible_fixes.py): the ingest appends the fixes unsorted
    and unflagged, and a later file never changes an earlier file's rows."""
    lat = [10.0, north(10.0, 60), north(10.0, 61)]
    track = [[RU_SHIP, at(3600 * i), v, 20.0] for i, v in enumerate(lat)]
    [a] = ingest(
        tmp_path / "case",
        "ais",
        write_csv(tmp_path / "a.csv", ["mmsi", "timestamp", "lat", "lon"], track[::2]),
    )
    before = rows(tmp_path / "case", "SELECT * FROM positions ORDER BY source_row")
    ingest(
        tmp_path / "case",
        "ais",
        write_csv(tmp_path / "b.csv", ["mmsi", "timestamp", "lat", "lon"], track[1:2]),
    )
    assert (
        rows(
            tmp_path / "case",
            "SELECT * FROM positions WHERE source_file = 'a.csv' ORDER BY source_row",
        )
        == before
    )
    assert rows(tmp_path / "case", "SELECT count(flags) AS n FROM positions") == [{"n": 0}]
    assert set(a.detail["cleaning"]) == {
        "duplicates_in_file", "duplicates_of_case", "flags_from_mid", "imo_invalid",
        "mmsi_invalid", "positions_mmsi_invalid"}  # fmt: skip


# ------------------------------------------------------------------ duplicates
def test_duplicate_positions_kept_once_in_a_file_and_across_files(tmp_path):
    header = ["mmsi", "timestamp", "lat", "lon", "sog", "receiver"]
    r1, r2, r3 = ([RU_SHIP, at(60 * i), 10.0 + i / 100, 20.0, 5.0] for i in range(3))
    first = write_csv(tmp_path / "a.csv", header, [[*r1, "north"], [*r1, "south"], [*r2, "north"]])
    second = write_csv(tmp_path / "b.csv", header, [[*r2, "east"], [*r3, "east"]])
    [a, b] = ingest(tmp_path / "case", "ais", first, second)
    assert (a.rows_read, a.rows_kept, a.rows_duplicate) == (3, 2, 1)
    assert (b.rows_read, b.rows_kept, b.rows_duplicate) == (2, 1, 1)
    assert (
        a.detail["cleaning"]["duplicates_in_file"],
        b.detail["cleaning"]["duplicates_of_case"],
    ) == (1, 1)
    kept = rows(
        tmp_path / "case", "SELECT source_file, source_row FROM positions ORDER BY timestamp"
    )
    assert kept == [{"source_file": "a.csv", "source_row": 2}, {"source_file": "a.csv", "source_row": 4},
                    {"source_file": "b.csv", "source_row": 3}]  # fmt: skip
    ledger = rows(
        tmp_path / "case",
        "SELECT rows_read, rows_kept, rows_duplicate FROM ledger ORDER BY file_name",
    )
    assert ledger == [
        {"rows_read": 3, "rows_kept": 2, "rows_duplicate": 1},
        {"rows_read": 2, "rows_kept": 1, "rows_duplicate": 1},
    ]
    assert workflow.check_case(tmp_path / "case") == []


@pytest.mark.parametrize(("listed", "stage_rows"), [(10_000, 1000), (2, 1000), (10_000, 0)])
def test_copies_in_a_file_found_by_row_ids_or_by_hashes_alike(
    tmp_path, monkeypatch, listed, stage_rows
):
    """The rows whose key hash repeats are named by their row ids in the exact pass (at
    most `LISTED_ROWS`, of a stage of at most `LISTED_STAGE_ROWS`), else found by their
    hashes in a pass over the stage: the same copies either way, NULLs equal, the first in
    file order kept."""
    from cargotrace.ingest.kinds import ais_clean

    monkeypatch.setattr(ais_clean, "LISTED_ROWS", listed)
    monkeypatch.setattr(ais_clean, "LISTED_STAGE_ROWS", stage_rows)
    header = ["mmsi", "timestamp", "lat", "lon", "sog", "receiver"]
    r1, r2, r3 = ([RU_SHIP, at(60 * i), 10.0 + i / 100, 20.0, 5.0] for i in range(3))
    r3[4] = ""  # a NULL speed: equal to the other NULL
    body = [[*r1, "a"], [*r2, "a"], [*r1, "b"], [*r3, "a"], [*r3, "b"], [*r1, "c"]]
    [result] = ingest(tmp_path / "case", "ais", write_csv(tmp_path / "a.csv", header, body))
    assert (result.rows_read, result.rows_kept, result.rows_duplicate) == (6, 3, 3)
    kept = rows(tmp_path / "case", "SELECT source_row FROM positions ORDER BY source_row")
    assert [r["source_row"] for r in kept] == [2, 3, 5]


def nmea(body: str) -> str:
    return f"!{body}*{reduce(xor, body.encode(), 0):02X}"


def tagged(receiver: str, seconds: int, sentence: str) -> str:
    fields = f"s:{receiver},c:{int(T0.timestamp()) + seconds}"
    return f"\\{fields}*{reduce(xor, fields.encode(), 0):02X}\\{sentence}"


def encode(**fields) -> list[str]:
    from pyais.encode import encode_dict

    return encode_dict(fields, talker_id="AI")


def position(mmsi: int = RU_SHIP, lat: float = 43.1, lon: float = 131.9, **extra) -> str:
    [sentence] = encode(
        type=1, mmsi=mmsi, lat=lat, lon=lon, speed=0.1, course=90.0, heading=90, status=5, **extra
    )
    return sentence


def static(name: str, mmsi: int = RU_SHIP, imo: int = 9074729) -> list[str]:
    return encode(type=5, mmsi=mmsi, imo=imo, shipname=name, callsign="UBCD7", ship_type=70)


def test_same_sentence_from_two_receivers_kept_once(tmp_path):
    pytest.importorskip("pyais")
    pos, five = position(), static("SPARTA IV")
    lines = [tagged("rcv-a", 0, pos), tagged("rcv-b", 0, pos),  # one message, two receivers
             tagged("rcv-a", 30, pos),  # the same payload 30 s later: a new report
             *(tagged("rcv-a", 5, s) for s in five), *(tagged("rcv-b", 5, s) for s in five)]  # fmt: skip
    path = tmp_path / "log.nmea"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    [result] = ingest(tmp_path / "case", "ais", path)
    assert (result.rows_read, result.rows_kept, result.rows_duplicate, result.rows_quarantined) == (
        5,
        3,
        2,
        0,
    )
    assert rows(tmp_path / "case", "SELECT source_row FROM positions ORDER BY source_row") == [
        {"source_row": 1},
        {"source_row": 3},
    ]
    assert rows(tmp_path / "case", "SELECT count(*) AS n FROM vessel_reports") == [{"n": 1}]
    # the same log from a third receiver, in another file: every message is already in
    again = tmp_path / "again.nmea"
    again.write_text("\n".join(lines[:3]) + "\n# other receiver\n", encoding="ascii")
    [second] = ingest(tmp_path / "case", "ais", again)
    assert (second.rows_read, second.rows_kept, second.rows_duplicate) == (3, 0, 3)


def test_nmea_ledger_detail_has_decoder_counters_and_reject_reasons(tmp_path):
    pytest.importorskip("pyais")
    good = position()
    bad = good[:-2] + ("00" if good[-2:] != "00" else "11")
    path = tmp_path / "log.nmea"
    path.write_text(
        "\n".join(
            [
                tagged("a", 0, good),
                tagged("a", 1, bad),
                "$GPGGA,1,2,3*00",
                nmea("AIVDM,2,1,7,A,55,0"),
            ]
        )
        + "\n"
    )
    [result] = ingest(tmp_path / "case", "ais", path)
    detail = json.loads(rows(tmp_path / "case", "SELECT detail FROM ledger")[0]["detail"])
    assert (
        detail["decoder"]["lines"] == 4
        and detail["decoder"]["non_ais"] == 1
        and detail["decoder"]["decoded"] == 1
    )
    assert sum(detail["rejected_by_reason"].values()) == result.rows_quarantined == 2
    assert detail["rejected_by_reason"] == {"bad_checksum": 1, "orphan_fragment": 1}


def test_not_available_values_are_null(tmp_path):
    """sog 102.3, cog 360, heading 511, status 15 are NULL in a kept row; a position "not
    available" (lat 91, lon 181) is no position: that row is quarantined (ais_rules)."""
    pytest.importorskip("pyais")
    path = tmp_path / "log.nmea"
    [undefined] = encode(
        type=1, mmsi=RU_SHIP, lat=10, lon=20, speed=102.3, course=360, heading=511, status=15
    )
    [nowhere] = encode(type=1, mmsi=RU_SHIP, lat=91, lon=181)
    five = encode(type=5, mmsi=RU_SHIP, imo=0, shipname="", callsign="", ship_type=0)
    path.write_text(
        "\n".join(
            [tagged("a", 0, undefined), tagged("a", 2, nowhere), *(tagged("a", 1, s) for s in five)]
        )
        + "\n"
    )
    [nmea] = ingest(tmp_path / "case", "ais", path)
    assert rows(tmp_path / "case", "SELECT lat, lon, sog, cog, heading, nav_status FROM positions") == [
        {"lat": 10.0, "lon": 20.0, "sog": None, "cog": None, "heading": None, "nav_status": None}]  # fmt: skip
    assert rows(tmp_path / "case", "SELECT imo, name, callsign, ship_type, flag FROM vessel_reports") == [
        {"imo": None, "name": None, "callsign": None, "ship_type": None, "flag": "RU"}]  # fmt: skip
    assert (nmea.rows_kept, nmea.rows_quarantined) == (2, 1)
    assert nmea.detail["quarantined_by_reason"] == {"no_position": 1}
    csv = write_csv(tmp_path / "p.csv", ["mmsi", "timestamp", "lat", "lon", "sog", "cog", "heading", "nav_status"],
                    [[RU_SHIP, at(9), 10, 20, 102.3, 360, 511, 15], [RU_SHIP, at(10), 91, 181, 1, 2, 3, 0]])  # fmt: skip
    [result] = ingest(tmp_path / "case", "ais", csv)
    assert (result.rows_kept, result.rows_quarantined) == (1, 1)
    assert rows(tmp_path / "case", "SELECT lat, lon, sog, cog, heading, nav_status FROM positions WHERE source_file = 'p.csv'") == [
        {"lat": 10.0, "lon": 20.0, "sog": None, "cog": None, "heading": None, "nav_status": None}]  # fmt: skip
    assert rows(tmp_path / "case", "SELECT source_file, source_row, reason, column_name FROM quarantine_rows ORDER BY 1") == [
        {"source_file": "log.nmea", "source_row": 2, "reason": "no_position", "column_name": "lat"},
        {"source_file": "p.csv", "source_row": 3, "reason": "no_position", "column_name": "lat"}]  # fmt: skip


# ------------------------------------------------------------------ identities
def test_renamed_vessel_shows_two_identities_and_partial_reports_combine(tmp_path):
    pytest.importorskip("pyais")
    small = 273999001
    [part_a] = encode(type=24, mmsi=small, partno=0, shipname="KATYA")
    [part_b] = encode(type=24, mmsi=small, partno=1, callsign="UB1234", ship_type=37)
    lines = [*(tagged("a", 0, s) for s in static("OLD NAME")), *(tagged("a", 600, s) for s in static("OLD NAME")),
             *(tagged("a", 3600, s) for s in static("NEW NAME")), tagged("a", 10, part_a), tagged("a", 11, part_b),
             tagged("a", 20, position(mmsi=445000001))]  # fmt: skip
    path = tmp_path / "log.nmea"
    path.write_text("\n".join(lines) + "\n")
    [result] = ingest(tmp_path / "case", "ais", path)
    got = rows(tmp_path / "case", "SELECT * FROM vessel_identities ORDER BY mmsi, first_seen")
    assert got == [
        {"mmsi": RU_SHIP, "imo": "9074729", "name": "OLD NAME", "callsign": "UBCD7", "ship_type": "70", "flag": "RU",
         "first_seen": T0, "last_seen": T0 + timedelta(seconds=600), "reports": 2, "sources": "log.nmea"},
        {"mmsi": RU_SHIP, "imo": "9074729", "name": "NEW NAME", "callsign": "UBCD7", "ship_type": "70", "flag": "RU",
         "first_seen": T0 + timedelta(hours=1), "last_seen": T0 + timedelta(hours=1), "reports": 1, "sources": "log.nmea"},
        {"mmsi": small, "imo": None, "name": "KATYA", "callsign": "UB1234", "ship_type": "37", "flag": "RU",
         "first_seen": T0 + timedelta(seconds=10), "last_seen": T0 + timedelta(seconds=11), "reports": 2, "sources": "log.nmea"},
    ]  # fmt: skip
    assert result.detail["cleaning"]["flags_from_mid"] == 5
    vessels = rows(
        tmp_path / "case",
        "SELECT mmsi, name, flag, flag_source, mmsi_kind, mmsi_valid FROM vessels ORDER BY mmsi",
    )
    assert vessels == [
        {"mmsi": RU_SHIP, "name": "NEW NAME", "flag": "RU", "flag_source": "mid", "mmsi_kind": "ship", "mmsi_valid": True},
        {"mmsi": small, "name": "KATYA", "flag": "RU", "flag_source": "mid", "mmsi_kind": "ship", "mmsi_valid": True},
        {"mmsi": 445000001, "name": None, "flag": "KP", "flag_source": "mid", "mmsi_kind": "ship", "mmsi_valid": True},
    ]  # fmt: skip


def test_nmea_reports_checked_as_stored_in_several_statements(tmp_path, monkeypatch):
    """An NMEA log's identity reports get their flags as they are stored (`Statics.flush`,
    here one statement per report), and the file's counts add up those of every statement."""
    pytest.importorskip("pyais")
    from cargotrace.ingest.nmea import load

    for name in ("BATCH_LINES", "GROUP_LINES", "STATIC_ROWS"):
        monkeypatch.setattr(load, name, 1)
    reports = [static("GOOD", RU_SHIP, 9074729), static("BAD IMO", 445012345, 9074728),
               static("NOT AN MMSI", 123456789, 9074729)]  # fmt: skip
    lines = [tagged("a", i, s) for i, sentences in enumerate(reports) for s in sentences]
    path = tmp_path / "log.nmea"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    [result] = ingest(tmp_path / "case", "ais", path)
    assert result.detail["cleaning"] == {
        "duplicates_in_file": 0, "duplicates_of_case": 0, "flags_from_mid": 2, "imo_invalid": 1,
        "mmsi_invalid": 1, "positions_mmsi_invalid": 0}  # fmt: skip
    got = rows(
        tmp_path / "case",
        "SELECT mmsi, flag, flag_source, flags FROM vessel_reports ORDER BY source_row",
    )
    assert got == [
        {"mmsi": RU_SHIP, "flag": "RU", "flag_source": "mid", "flags": None},
        {"mmsi": 445012345, "flag": "KP", "flag_source": "mid", "flags": "imo_check_digit"},
        {"mmsi": 123456789, "flag": None, "flag_source": None, "flags": "mmsi_invalid"},
    ]  # fmt: skip


def test_vessels_file_flags_invalid_imo_and_derives_flags_from_the_mid(tmp_path):
    vessels = write_csv(tmp_path / "v.csv", ["mmsi", "imo", "name", "callsign", "flag"], [
        [273123456, "9074729", "GOOD IMO", "UBCD7", ""],
        [445012345, "9074728", "BAD IMO", "HMXX", ""],
        [366999999, "IMO 1234568", "US SHIP", "", ""],  # 1234567 would be right
        [636019876, "", "LIBERIAN", "", ""],
        [273000777, "", "REFLAGGED", "", "PA"],  # the flag given wins over the MID's
        [123456789, "", "NOT AN MMSI", "", ""],
    ])  # fmt: skip
    [result] = ingest(tmp_path / "case", "vessels", vessels)
    assert result.rows_kept == 6
    got = rows(
        tmp_path / "case",
        "SELECT mmsi, flag, flag_source, flags FROM vessel_reports ORDER BY source_row",
    )
    assert got == [
        {"mmsi": 273123456, "flag": "RU", "flag_source": "mid", "flags": None},
        {"mmsi": 445012345, "flag": "KP", "flag_source": "mid", "flags": "imo_check_digit"},
        {"mmsi": 366999999, "flag": "US", "flag_source": "mid", "flags": "imo_check_digit"},
        {"mmsi": 636019876, "flag": "LR", "flag_source": "mid", "flags": None},
        {"mmsi": 273000777, "flag": "PA", "flag_source": "reported", "flags": None},
        {"mmsi": 123456789, "flag": None, "flag_source": None, "flags": "mmsi_invalid"},
    ]  # fmt: skip
    assert result.detail["cleaning"] == {"flags_from_mid": 4, "imo_invalid": 2, "mmsi_invalid": 1}
    # a reported flag beats a derived one in `vessels`, whatever their dates
    pytest.importorskip("pyais")
    path = tmp_path / "log.nmea"
    path.write_text(
        "\n".join(tagged("a", 0, s) for s in static("REFLAGGED", mmsi=273000777)) + "\n"
    )
    ingest(tmp_path / "case", "ais", path)
    assert rows(tmp_path / "case", "SELECT flag, flag_source FROM vessels WHERE mmsi = 273000777") == [
        {"flag": "PA", "flag_source": "reported"}]  # fmt: skip


def test_position_csv_identities_span_first_to_last_row(tmp_path):
    header = ["MMSI", "BaseDateTime", "LAT", "LON", "VesselName", "IMO", "CallSign", "VesselType"]
    track = [
        [RU_SHIP, at(60 * i), 10 + i / 1000, 20, "OLD@@", "IMO9074729", "UBCD7", "70"]
        for i in range(3)
    ]
    track += [[RU_SHIP, at(600), 10.01, 20, "NEW", "IMO9074729", "UBCD7", "70"],
              [RU_SHIP, at(660), 10.011, 20, "NEW", "IMO0000000", "", "0"]]  # fmt: skip
    ingest(tmp_path / "case", "ais", write_csv(tmp_path / "noaa.csv", header, track))
    got = rows(
        tmp_path / "case",
        "SELECT name, imo, callsign, ship_type, first_seen, last_seen, reports FROM vessel_identities ORDER BY first_seen",
    )
    assert got == [
        {"name": "OLD", "imo": "9074729", "callsign": "UBCD7", "ship_type": "70", "first_seen": T0,
         "last_seen": T0 + timedelta(seconds=120), "reports": 2},
        {"name": "NEW", "imo": "9074729", "callsign": "UBCD7", "ship_type": "70", "first_seen": T0 + timedelta(seconds=600),
         "last_seen": T0 + timedelta(seconds=660), "reports": 2},
    ]  # fmt: skip


def test_imo_sql_matches_the_python_check():
    import duckdb

    rng = random.Random(3)
    values = [f"{rng.randrange(10_000_000):07d}" for _ in range(3000)] + [
        "9074729",
        "0000000",
        "907472",
        "90747290",
        "9O74729",
    ]
    con = duckdb.connect()
    got = con.execute(
        f"SELECT v, {imo_ok_sql('v')} FROM unnest(?::VARCHAR[]) AS t(v)", [values]
    ).fetchall()
    assert {v: ok for v, ok in got} == {v: imo_check_ok(v) and v != "0000000" for v in values}


# ------------------------------------------------------------------ schema and progress
def test_version_1_case_is_migrated(tmp_path):
    with Case.open(tmp_path, create=True) as case:
        for table, column in (("positions", "flags"), ("vessel_reports", "flag_source"),
                              ("vessel_reports", "flags")):  # fmt: skip
            case.con.execute("DROP VIEW IF EXISTS vessels; DROP VIEW IF EXISTS vessel_identities")
            case.con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        case.con.execute("INSERT INTO vessel_reports (mmsi, flag) VALUES (273123456, 'PA')")
        case.set_meta("schema_version", "1")
    with Case.open(tmp_path, write=True) as case:
        assert case.meta("schema_version") == str(schema.SCHEMA_VERSION)
        assert "implied_speed_kn" not in [
            d[0] for d in case.con.execute("SELECT * FROM positions LIMIT 0").description
        ]
        assert case.rows("SELECT flag, flag_source FROM vessel_reports") == [
            {"flag": "PA", "flag_source": "reported"}
        ]
        assert case.rows("SELECT mmsi, flag, flag_source FROM vessels") == [
            {"mmsi": 273123456, "flag": "PA", "flag_source": "reported"}
        ]
        assert case.scalar("SELECT count(*) FROM vessel_identities") == 1


class Recorder:
    """A progress callback with bytes (ingest.nmea_load.ByteProgress)."""

    def __init__(self) -> None:
        self.rows, self.total, self.done = 0, None, []

    def __call__(self, n: int) -> None:
        self.rows += n

    def start_bytes(self, total: int) -> None:
        self.total = total

    def bytes_read(self, done: int) -> None:
        self.done.append(done)


def test_version_2_case_loses_the_ingest_speeds_to_analyze(tmp_path):
    """Schema 3: implied speeds are analyze's (impossible_fixes): a case of version 2 loses
    `positions.implied_speed_kn` and the `impossible_speed` flag, keeps `mmsi_invalid`."""
    with Case.open(tmp_path, create=True) as case:
        case.con.execute("ALTER TABLE positions DROP COLUMN flags")
        case.con.execute("ALTER TABLE positions ADD COLUMN implied_speed_kn DOUBLE")
        case.con.execute("ALTER TABLE positions ADD COLUMN flags VARCHAR")
        case.con.execute(
            """INSERT INTO positions (mmsi, source_row, implied_speed_kn, flags) VALUES
               (1, 1, 60.0, 'mmsi_invalid,impossible_speed'), (2, 2, 70.0, 'impossible_speed'),
               (3, 3, 5.0, NULL), (4, 4, NULL, 'mmsi_invalid')"""
        )
        case.set_meta("schema_version", "2")
    with Case.open(tmp_path, write=True) as case:
        assert case.meta("schema_version") == str(schema.SCHEMA_VERSION)
        assert [d[0] for d in case.con.execute("SELECT * FROM positions LIMIT 0").description][
            -2:
        ] == [
            "source_row",
            "flags",
        ]
        assert case.rows("SELECT mmsi, flags FROM positions ORDER BY mmsi") == [
            {"mmsi": 1, "flags": "mmsi_invalid"}, {"mmsi": 2, "flags": None},
            {"mmsi": 3, "flags": None}, {"mmsi": 4, "flags": "mmsi_invalid"}]  # fmt: skip


def test_nmea_ingest_reports_bytes_and_messages(tmp_path):
    pytest.importorskip("pyais")
    path = tmp_path / "log.nmea"
    path.write_text(
        "\n".join(tagged("a", i, position(lat=43 + i / 1000)) for i in range(50)) + "\n"
    )
    progress = Recorder()
    [result] = workflow.ingest(tmp_path / "case", "ais", [path], None, progress)
    assert progress.total == path.stat().st_size == progress.done[-1]
    assert progress.rows == result.rows_read == 50
