"""The storage path of AIS position files (issue 16): typed in Arrow, staged per file, cleaned
there and appended once. Hand-built inputs with exact answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from cargotrace import workflow
from cargotrace.analysis.pipeline import run_stages
from cargotrace.case.store import Case
from cargotrace.settings import AnalysisSettings

from builders import write_csv

HEADER = ["mmsi", "timestamp", "lat", "lon", "sog", "note"]


def _rows(case: Path, sql: str) -> list[tuple]:
    with Case.open(case) as c:
        return c.con.execute(sql).fetchall()


def test_exact_copies_of_kept_and_refused_rows_are_duplicates(tmp_path):
    good = [273000001, "2023-09-01T00:00:00", 42.5, 133.0, 5.0, "x"]
    bad = [273000001, "not a time", 42.5, 133.0, 5.0, "y"]
    path = write_csv(tmp_path / "a.csv", HEADER, [good, bad, good, bad, bad])
    [r] = workflow.ingest(tmp_path / "case", "ais", [path])
    assert (r.rows_read, r.rows_kept, r.rows_quarantined, r.rows_duplicate) == (5, 1, 1, 3)
    assert _rows(tmp_path / "case", "SELECT source_row, reason FROM quarantine_rows") == [
        (3, "bad_timestamp")
    ]
    assert _rows(tmp_path / "case", "SELECT source_row, source_file FROM positions") == [
        (2, "a.csv")
    ]


def test_numbers_in_other_forms_than_plain_take_the_sql_path(tmp_path):
    # a decimal comma in one row sends that column through the SQL reading of numbers;
    # the others stay on Arrow's cast: both give the same values
    rows = [[273000001, "2023-09-01T00:00:00", "42,5", 133.0, "5.5", ""],
            [273000001, "2023-09-01 00:01:00", "42.25", "133", "1e1", ""],
            [273000001, "1693526520", "42", "133.5", "", ""]]  # fmt: skip
    [r] = workflow.ingest(tmp_path / "case", "ais", [write_csv(tmp_path / "b.csv", HEADER, rows)])
    assert (r.rows_kept, r.rows_quarantined) == (3, 0)
    got = _rows(
        tmp_path / "case",
        "SELECT epoch(timestamp)::BIGINT, lat, lon, sog FROM positions ORDER BY source_row",
    )
    assert got == [(1693526400, 42.5, 133.0, 5.5), (1693526460, 42.25, 133.0, 10.0),
                   (1693526520, 42.0, 133.5, None)]  # fmt: skip


def test_a_failed_file_leaves_no_rows(tmp_path, monkeypatch):
    """The file's rows are in `positions` (appended chunk by chunk) when its finish fails:
    the file's transaction takes them back."""
    from cargotrace.ingest.kinds import ais_clean

    path = write_csv(
        tmp_path / "c.csv", HEADER, [[273000001, "2023-09-01T00:00:00", 42.5, 133.0, 5.0, ""]]
    )

    def broken(*args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(ais_clean, "check_identity_reports", broken)  # the finish's last step
    try:
        workflow.ingest(tmp_path / "case", "ais", [path])
    except RuntimeError:
        pass
    monkeypatch.undo()
    assert _rows(tmp_path / "case", "SELECT count(*) FROM positions") == [(0,)]
    assert _rows(tmp_path / "case", "SELECT count(*) FROM ledger WHERE kind = 'ais'") == [(0,)]
    [r] = workflow.ingest(tmp_path / "case", "ais", [path])
    assert r.rows_kept == 1 and not r.already_ingested


def test_values_arrow_reads_but_the_sql_does_not_are_refused_alike(tmp_path):
    # nan and a three-digit exponent are not numbers (sqlexpr.number); an MMSI in exponent
    # form is (the SQL reads it through a DOUBLE)
    rows = [["2.73e8", "2023-09-01T00:00:00", "42.5", "133", "", ""],
            [273000001, "2023-09-01T00:01:00", "nan", "133", "", ""],
            [273000001, "2023-09-01T00:02:00", "1e-100", "133", "", ""]]  # fmt: skip
    [r] = workflow.ingest(tmp_path / "case", "ais", [write_csv(tmp_path / "d.csv", HEADER, rows)])
    assert (r.rows_kept, r.rows_quarantined) == (1, 2)
    assert _rows(tmp_path / "case", "SELECT mmsi FROM positions") == [(273000000,)]
    assert _rows(
        tmp_path / "case", "SELECT source_row, reason FROM quarantine_rows ORDER BY 1"
    ) == [
        (3, "bad_latitude"),
        (4, "bad_latitude"),
    ]


def _identity_rows(extreme: bool) -> list[list[object]]:
    """An identity seen at 00:00 in rows 2 and 3 (a tie in time), at 01:00 in rows 4 and 5,
    and another identity of the MMSI at 00:30 (row 6); eleven rows of another vessel
    follow; `extreme` adds two rows refused for their years (0001, 9999), whose span of
    times takes the chunk's (time, row) key past 62 bits."""
    ship, other = 273000001, 273000002
    rows: list[list[object]] = [
        [ship, "2023-09-01T00:00:00", 42.5, 133.0, "ALFA"],
        [ship, "2023-09-01T00:00:00", 42.6, 133.0, "ALFA"],
        [ship, "2023-09-01T01:00:00", 42.7, 133.0, "ALFA"],
        [ship, "2023-09-01T01:00:00", 42.8, 133.0, "ALFA"],
        [ship, "2023-09-01T00:30:00", 42.9, 133.0, "BRAVO"],
    ]
    rows += [
        [other, f"2023-09-01T02:{m:02d}:00", 40.0, 130.0 + m / 100, "CHARLIE"] for m in range(11)
    ]
    if extreme:
        rows += [[other, "0001-01-01T00:00:00", 40.0, 130.0, "DELTA"],
                 [other, "9999-12-31T00:00:00", 40.0, 130.0, "DELTA"]]  # fmt: skip
    return rows


def test_identity_reports_are_at_the_first_and_last_rows_on_either_key(tmp_path, monkeypatch):
    """Each identity's reports are at its first and last (time, row): the earlier row of a
    tie at the start, the later one at the end, whether the chunk's key is a BIGINT (a
    short span of times) or a HUGEINT (rows years apart), with the same reports."""
    from cargotrace.ingest.kinds import position_identities

    keys: list[str] = []
    chosen = position_identities.time_row_key

    def spy(con, *rows):  # the key each chunk took
        first, last = chosen(con, *rows)
        keys.append("HUGEINT" if "HUGEINT" in first else "BIGINT")
        return first, last

    monkeypatch.setattr(position_identities, "time_row_key", spy)
    header = ["mmsi", "timestamp", "lat", "lon", "vesselname"]
    got = {}
    for extreme in (False, True):
        path = write_csv(tmp_path / f"{extreme}.csv", header, _identity_rows(extreme))
        [r] = workflow.ingest(tmp_path / f"case{extreme}", "ais", [path])
        assert r.rows_quarantined == (2 if extreme else 0)
        got[extreme] = _rows(
            tmp_path / f"case{extreme}",
            "SELECT name, strftime(observed_at, '%H:%M'), source_row FROM vessel_reports "
            "ORDER BY source_row",
        )
    # each file's chunk (grouped ahead, its refused rows' MMSI grouped again) took one key
    assert keys[: keys.index("HUGEINT")] == ["BIGINT"]
    assert set(keys[keys.index("HUGEINT") :]) == {"HUGEINT"}
    assert got[False] == got[True] == [
        ("ALFA", "00:00", 2), ("ALFA", "01:00", 5), ("BRAVO", "00:30", 6),
        ("CHARLIE", "02:00", 7), ("CHARLIE", "02:10", 17)]  # fmt: skip


def test_an_invalid_mmsi_is_flagged_at_ingest_its_impossible_step_by_analyze(tmp_path):
    """`positions.flags` holds the MMSI's doubt (worked out once per MMSI of the file); the
    impossible steps (of the invalid MMSI and of a ship) are analyze's, table
    impossible_fixes; the summary counts the flagged positions."""
    rows = [[1, "2023-09-01T00:00:00", 42.5, 133.0, "", ""],
            [1, "2023-09-01T00:01:00", 42.6, 133.0, "", ""],  # 11.1 km in a minute: 360 kn
            [273000001, "2023-09-01T00:00:00", 42.5, 133.0, "", ""],
            [273000001, "2023-09-01T00:01:00", 42.6, 133.0, "", ""],
            [273000001, "2023-09-01T00:11:00", 42.61, 133.0, "", ""]]  # fmt: skip
    [r] = workflow.ingest(tmp_path / "case", "ais", [write_csv(tmp_path / "f.csv", HEADER, rows)])
    assert _rows(tmp_path / "case", "SELECT source_row, flags FROM positions ORDER BY source_row") == [
        (2, "mmsi_invalid"), (3, "mmsi_invalid"), (4, None), (5, None), (6, None)]  # fmt: skip
    assert r.detail["cleaning"]["positions_mmsi_invalid"] == 2
    assert "impossible_speed" not in r.detail["cleaning"]
    with Case.open(tmp_path / "case", write=True) as case:
        run_stages(case.con, AnalysisSettings(), ["impossible_fixes"])
        got = case.con.execute(
            "SELECT mmsi, strftime(timestamp, '%H:%M') FROM impossible_fixes ORDER BY mmsi"
        ).fetchall()
    assert got == [(1, "00:01"), (273000001, "00:01")]


def test_a_position_table_is_hashed_aside_and_a_known_copy_changes_nothing(tmp_path, monkeypatch):
    """The file is hashed on a thread while its first chunk is read; the ledger check comes
    where the hash is first needed: a copy of a known file (under another name), and a file
    of no rows (whose body never asks for the hash), are skipped with nothing stored."""
    import hashlib

    from cargotrace.ingest import loader

    hashed: list[Path] = []
    submit = loader._HASHING.submit

    def spy(fn, path):  # the files hashed aside
        hashed.append(path)
        return submit(fn, path)

    monkeypatch.setattr(loader._HASHING, "submit", spy)
    case = tmp_path / "case"
    rows = [[273000001, "2023-09-01T00:00:00", 42.5, 133.0, 5.0, ""],
            [273000001, "not a time", 42.5, 133.0, 5.0, ""]]  # fmt: skip
    path = write_csv(tmp_path / "a.csv", HEADER, rows)
    [first] = workflow.ingest(case, "ais", [path])
    assert first.file_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    empty = write_csv(tmp_path / "empty.csv", HEADER, [])
    [again, none, none_again] = workflow.ingest(case, "ais", [copy, empty, empty])
    assert hashed == [path, copy, empty, empty]
    assert (again.already_ingested, again.detail, again.file_hash) == (
        True, {"ingested_as": "ais"}, first.file_hash)  # fmt: skip
    assert (none.already_ingested, none.rows_read, none_again.already_ingested) == (False, 0, True)
    assert _rows(case, "SELECT count(*) FROM positions") == [(1,)]
    assert _rows(case, "SELECT count(*) FROM quarantine_rows") == [(1,)]
    assert _rows(case, "SELECT file_name FROM ledger ORDER BY file_name") == [
        ("a.csv",), ("empty.csv",)]  # fmt: skip


def test_an_ais_table_is_read_without_importing_the_nmea_loader(tmp_path):
    """Its import took 0.2-0.4 s of every AIS CSV's ingest."""
    import subprocess
    import sys

    path = write_csv(
        tmp_path / "a.csv", HEADER, [[273000001, "2023-09-01T00:00:00", 42.5, 133.0, 5.0, ""]]
    )
    code = (
        "import sys; from pathlib import Path; from cargotrace import workflow; "
        f"[r] = workflow.ingest(Path({str(tmp_path / 'case')!r}), 'ais', [Path({str(path)!r})]); "
        "print(r.rows_kept, 'cargotrace.ingest.nmea.load' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "False"]


def test_identity_draughts_and_lengths_are_read_once_per_cell_and_ranged(tmp_path):
    """The same draught or length cell gives the same metres in every identity; 0 and
    values beyond AIS's range are not available; a decimal comma reads as a point."""
    header = ["mmsi", "timestamp", "lat", "lon", "vesselname", "draft", "length"]
    rows = [[273000001, "2023-09-01T00:00:00", 42.5, 133.0, "ALFA", "8.5", "120"],
            [273000002, "2023-09-01T00:00:00", 42.5, 133.1, "BRAVO", "8.5", "120"],
            [273000003, "2023-09-01T00:00:00", 42.5, 133.2, "CHARLIE", "8,5", "0"],
            [273000004, "2023-09-01T00:00:00", 42.5, 133.3, "DELTA", "0", "700"],
            [273000005, "2023-09-01T00:00:00", 42.5, 133.4, "ECHO", "", " 95.5 "]]  # fmt: skip
    [r] = workflow.ingest(tmp_path / "case", "ais", [write_csv(tmp_path / "d.csv", header, rows)])
    assert r.rows_kept == 5
    assert _rows(tmp_path / "case", "SELECT name, draught_m, length_m FROM vessel_reports ORDER BY name") == [
        ("ALFA", 8.5, 120.0), ("BRAVO", 8.5, 120.0), ("CHARLIE", 8.5, None), ("DELTA", None, None),
        ("ECHO", None, 95.5)]  # fmt: skip


def test_identity_reports_are_the_files_whatever_its_chunks(tmp_path, monkeypatch):
    """The reports are at each identity's first and last (time, row) in the file: read in
    chunks of three rows, the file gives the reports it gives read in one."""
    from cargotrace.ingest.readers import csvread

    header = ["mmsi", "timestamp", "lat", "lon", "vesselname"]
    path = write_csv(tmp_path / "ids.csv", header, _identity_rows(False))
    got = {}
    for rows in (100_000, 3):
        monkeypatch.setattr(csvread, "EXACT_CHUNK_ROWS", rows)
        [r] = workflow.ingest(tmp_path / f"case{rows}", "ais", [path])
        assert r.rows_kept == 16
        got[rows] = _rows(
            tmp_path / f"case{rows}",
            "SELECT name, strftime(observed_at, '%H:%M'), source_row FROM vessel_reports "
            "ORDER BY source_row",
        )
    assert got[3] == got[100_000] == [
        ("ALFA", "00:00", 2), ("ALFA", "01:00", 5), ("BRAVO", "00:30", 6),
        ("CHARLIE", "02:00", 7), ("CHARLIE", "02:10", 17)]  # fmt: skip


@pytest.mark.parametrize(
    ("chunk_rows", "in_memory", "listed"),
    [(100_000, 16_000_000, 10_000), (2, 16_000_000, 10_000), (2, 0, 10_000), (3, 16_000_000, 0)],
)
def test_copies_and_stations_are_set_apart_whatever_the_chunks(
    tmp_path, monkeypatch, chunk_rows, in_memory, listed
):
    """A position CSV is appended chunk by chunk, its copies and stations kept out before
    each append: read in one chunk or in chunks of two or three rows, with the file's
    hashes in NumPy or in DuckDB alone, rows named by a list or by a table, the same rows
    are kept (NULLs equal, the first in file order), the same stations set apart (a copy of
    a station is a copy), and a second file's copy of a stored position is the case's."""
    from cargotrace.ingest.kinds import position_appends
    from cargotrace.ingest.readers import csvread

    monkeypatch.setattr(csvread, "EXACT_CHUNK_ROWS", chunk_rows)
    monkeypatch.setattr(position_appends, "HASHES_IN_MEMORY", in_memory)
    monkeypatch.setattr(position_appends, "LISTED_ROWS", listed)
    header = ["mmsi", "timestamp", "lat", "lon", "sog", "message type", "receiver"]
    r1, r2, r3, r4 = ([273000001, f"2023-09-01T00:0{i}:00", 42.5 + i / 100, 133.0, 5.0, 1]
                      for i in range(4))  # fmt: skip
    r3[4] = ""  # no speed: equal to the other copy's
    base = [2734567, "2023-09-01T00:00:00", 43.0, 131.8, "", 4]  # a base station (00MIDxxxx)
    aton = [992731234, "2023-09-01T00:00:00", 43.1, 131.8, "", 21]  # an aid to navigation
    body = [[*r1, "a"], [*base, "a"], [*r2, "a"], [*r1, "b"], [*base, "b"], [*r3, "a"],
            [*r3, "b"], [*r2, "c"], [*aton, "a"]]  # fmt: skip
    case = tmp_path / "case"
    [a] = workflow.ingest(case, "ais", [write_csv(tmp_path / "a.csv", header, body)])
    assert (a.rows_read, a.rows_kept, a.rows_duplicate) == (9, 5, 4)
    assert (a.detail["cleaning"]["duplicates_in_file"], a.detail["not_vessels"]) == (
        4, {"aid_to_navigation": 1, "base_station": 1})  # fmt: skip
    assert a.detail["kept_as"] == {"positions": 3, "identity_reports": 0, "stations": 2}
    second = [[*r2, "x"], [*r4, "y"], [*base, "z"]]
    [b] = workflow.ingest(case, "ais", [write_csv(tmp_path / "b.csv", header, second)])
    assert (b.rows_read, b.rows_kept, b.rows_duplicate) == (3, 2, 1)
    assert b.detail["cleaning"]["duplicates_of_case"] == 1
    assert _rows(case, "SELECT source_file, source_row, sog FROM positions ORDER BY 1, 2") == [
        ("a.csv", 2, 5.0), ("a.csv", 4, 5.0), ("a.csv", 7, None), ("b.csv", 3, 5.0)]  # fmt: skip
    assert _rows(
        case, "SELECT source_file, source_row, station_kind FROM ais_stations ORDER BY 1, 2"
    ) == [("a.csv", 3, "base_station"), ("a.csv", 10, "aid_to_navigation"),
          ("b.csv", 4, "base_station")]  # fmt: skip
    assert workflow.check_case(case) == []


def test_the_held_hashes_filter_passes_every_held_hash_and_few_others():
    """The filter of a file's held hashes (`position_appends._Seen`) lets through every
    hash held in any earlier chunk (never a missed copy) and, of hashes not held, only
    those whose filter bit another hash set (a few per cent at a million hashes)."""
    import numpy as np

    from cargotrace.ingest.kinds import position_appends

    rng = np.random.default_rng(16)
    held = position_appends._Seen()
    chunks = [np.sort(rng.integers(0, 2**64, 300_000, dtype=np.uint64)) for _ in range(4)]
    for number, chunk in enumerate(chunks):
        held.add((chunk, np.arange(len(chunk)) + number * len(chunk), None))
    assert len(held) == 1_200_000
    fresh = np.sort(rng.integers(0, 2**64, 200_000, dtype=np.uint64))
    some_held = np.concatenate([chunks[0][::1000], chunks[3][5::700], [chunks[2][-1]]])
    query = np.sort(np.concatenate([fresh, some_held]))
    passed = held.maybe(query)
    assert np.isin(some_held, passed).all()  # every held hash passes
    assert len(np.setdiff1d(passed, some_held)) < 0.02 * len(fresh)  # ~0.9 % of 2**27 bits set
    assert held.maybe(np.zeros(0, np.uint64)).size == 0


@pytest.mark.parametrize("chunk_rows", [3, 100_000])
def test_identities_grouped_ahead_leave_out_the_refused_rows(tmp_path, monkeypatch, chunk_rows):
    """A chunk's identities are grouped on a thread as if no row were refused, then the
    groups of the MMSIs with a refused row (a NULL MMSI too) are worked out again without
    it: the reports are those of the grouping on the file's thread alone (static rows
    without a position count; rows refused otherwise do not)."""
    from cargotrace.ingest.kinds import position_identities
    from cargotrace.ingest.readers import csvread

    monkeypatch.setattr(csvread, "EXACT_CHUNK_ROWS", chunk_rows)
    header = ["mmsi", "timestamp", "lat", "lon", "vesselname"]
    ship, other = 273000001, 273000002
    body = [
        [ship, "2023-09-01T00:00:00", 42.5, 133.0, "ALFA"],
        [ship, "not a time", 42.5, 133.0, "ALFA"],  # refused: not the first ALFA row
        [ship, "2023-09-01T00:10:00", 42.6, 133.0, "ALFA"],
        [ship, "2023-09-01T00:20:00", 42.7, 133.0, "ZULU"],
        [ship, "2099-13-01T00:00:00", 42.7, 133.0, "YANKEE"],  # refused: no report
        ["abc", "2023-09-01T00:30:00", 42.7, 133.0, "NOBODY"],  # refused MMSI
        [other, "2023-09-01T00:00:00", "", "", "STATIC"],  # no position: reported
        [other, "2023-09-01T00:40:00", 40.0, 130.0, "CHARLIE"],
        [other, "2023-09-01T00:50:00", 40.1, 130.0, "CHARLIE"],
    ]
    path = write_csv(tmp_path / "f.csv", header, body)
    query = "SELECT mmsi, name, strftime(observed_at, '%H:%M'), source_row FROM vessel_reports ORDER BY source_row, name"
    got = {}
    for ahead in (True, False):
        if not ahead:  # every chunk grouped on the file's thread
            monkeypatch.setattr(position_identities, "group_ahead", lambda *args: None)
        [r] = workflow.ingest(tmp_path / f"case{ahead}", "ais", [path])
        assert r.rows_quarantined == 4
        got[ahead] = _rows(tmp_path / f"case{ahead}", query)
    assert got[True] == got[False] == [
        (ship, "ALFA", "00:00", 2), (ship, "ALFA", "00:10", 4), (ship, "ZULU", "00:20", 5),
        (other, "STATIC", "00:00", 8), (other, "CHARLIE", "00:40", 9),
        (other, "CHARLIE", "00:50", 10)]  # fmt: skip
