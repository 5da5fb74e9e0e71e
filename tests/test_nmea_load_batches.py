"""An NMEA log is stored the same whatever the batches it is decoded in and the groups of
batches stored at once (ingest/nmea/load.py: the decoder runs on a thread ahead of the
storing, its batches are merged into groups; multi-part messages span batches)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.errors import InputError
from cargotrace.ingest.nmea import load

from builders import stored_rows
from conftest import shared_data

LOGS = (("gpsd", "sample.aivdm"), ("aisdb", "test_data_20211101.nm4"))


def _stored(case: Path) -> dict[str, list[tuple[object, ...]]]:
    queries = {
        "positions": "SELECT mmsi, timestamp, lat, lon, msg_type, source_row, flags FROM positions",
        "stations": "SELECT station_kind, mmsi, timestamp, source_row FROM ais_stations",
        "reports": "SELECT mmsi, imo, name, callsign, ship_type, observed_at, source_row FROM vessel_reports",
        "quarantine": "SELECT reason, column_name, raw, source_file, source_row FROM quarantine_rows",
        "ledger": "SELECT file_name, rows_read, rows_kept, rows_quarantined, rows_duplicate, rows_skipped FROM ledger",
    }  # fmt: skip
    return stored_rows(case, queries)


def _ingest(tmp_path: Path, name: str, log: Path) -> dict[str, list[tuple[object, ...]]]:
    case = tmp_path / name
    [result] = workflow.ingest(case, "ais", [log])
    assert result.rows_read == result.rows_kept + result.rows_quarantined + result.rows_duplicate
    assert workflow.check_case(case) == []
    return _stored(case)


def test_small_batches_and_groups_store_what_one_batch_stores(tmp_path, monkeypatch):
    """gpsd's sample (every type, multi-part messages, no times: refused) then aisdb's
    tag-blocked log (kept, identity reports, stations)."""
    log = tmp_path / "both.nmea"
    log.write_bytes(b"".join(shared_data("ais", *parts).read_bytes() for parts in LOGS))
    whole = _ingest(tmp_path, "whole", log)
    assert whole["positions"] and whole["quarantine"]  # both paths are exercised
    # batches of 7 lines (multi-part messages cut across them), stored 3 batches at a time
    monkeypatch.setattr(load, "BATCH_LINES", 7)
    monkeypatch.setattr(load, "GROUP_LINES", 20)
    assert _ingest(tmp_path, "small", log) == whole


def test_positions_without_a_time_left_undecoded_store_what_decoded_ones_store(
    tmp_path, monkeypatch
):
    """The ingest leaves the fields of positions without a time undecoded (the rules refuse
    them as no_timestamp first, `load.UNTIMED_REFUSED`): the case is the same as with every
    field decoded. gpsd's sample (no times: every type refused, multi-part messages, type 4
    with its own time) and aisdb's tag-blocked log (kept)."""
    from cargotrace.ingest.nmea.decoder import decode_nmea_file_on

    log = tmp_path / "both.nmea"
    log.write_bytes(b"".join(shared_data("ais", *parts).read_bytes() for parts in LOGS))
    assert load.UNTIMED_REFUSED
    skipped = _ingest(tmp_path, "skipped", log)
    monkeypatch.setattr(load, "UNTIMED_REFUSED", False)
    assert _ingest(tmp_path, "decoded", log) == skipped
    # the rows are there all the same: their type and no time, the fields null
    [full] = decode_nmea_file_on(log, 1, lambda b: b.positions, 10**6)
    [lean] = decode_nmea_file_on(log, 1, lambda b: b.positions, 10**6, untimed_fields=False)
    assert lean.num_rows == full.num_rows
    assert lean.column("msg_type") == full.column("msg_type")
    assert lean.column("line_no") == full.column("line_no")
    times, types = full.column("timestamp").to_pylist(), full.column("msg_type").to_pylist()
    untimed = [i for i, t in enumerate(times) if t is None and types[i] != 4]  # 4: its own time
    assert untimed and all(
        lean.column("mmsi")[i].as_py() is None and lean.column("lat")[i].as_py() is None
        for i in untimed
    )
    assert full.filter(full.column("timestamp").is_valid()) == lean.filter(
        lean.column("timestamp").is_valid()
    )


def test_a_decoder_error_on_its_thread_reaches_the_ingest_and_changes_nothing(tmp_path):
    """A damaged .gz found while decoding ahead: the command's clear error, the file's
    transaction rolled back."""
    import gzip

    lines = shared_data("ais", "aisdb", "test_data_20211101.nm4").read_bytes() * 400
    packed = gzip.compress(lines)
    log = tmp_path / "cut.nmea.gz"
    log.write_bytes(packed[: len(packed) // 2] + b"\x00" * 64 + packed[len(packed) // 2 + 64 :])
    case = tmp_path / "case"
    workflow.init_case(case)
    with pytest.raises(InputError, match="damaged"):
        workflow.ingest(case, "ais", [log])
    with Case.open(case) as opened:
        assert opened.scalar("SELECT count(*) FROM ledger") == 0
        assert opened.scalar("SELECT count(*) FROM positions") == 0
        assert opened.scalar("SELECT count(*) FROM quarantine_runs") == 0


def test_a_database_error_while_storing_is_the_error_reported(tmp_path, monkeypatch):
    """A statement failing mid-file (disk full, out of memory, ...) aborts the transaction:
    the error reaching the caller is that statement's, not the aborted transaction's."""
    import duckdb

    def failing(con, positions):
        con.execute("SELECT CAST('not a number' AS INTEGER)")

    monkeypatch.setattr(load, "_insert_positions", failing)
    case = tmp_path / "case"
    workflow.init_case(case)
    with pytest.raises(duckdb.ConversionException):
        workflow.ingest(case, "ais", [shared_data("ais", "aisdb", "test_data_20211101.nm4")])
    with Case.open(case) as opened:
        assert opened.scalar("SELECT count(*) FROM ledger") == 0


def test_duplicates_found_in_several_passes_over_the_hashes_are_those_of_one(tmp_path, monkeypatch):
    """`ais_clean._repeated_hashes` sorts at most HASHES_PER_PASS hashes at a time (a 2 GB
    log's 27 M at once doubled the peak): a log heard twice, its copies found in passes of
    50 hashes, gives the rows and counts one pass gives."""
    from cargotrace.ingest.kinds import ais_clean

    log = tmp_path / "twice.nmea"
    log.write_bytes(shared_data("ais", "aisdb", "test_data_20211101.nm4").read_bytes() * 2)
    whole = _ingest(tmp_path, "whole", log)
    assert whole["ledger"][0][4] > 0  # duplicates
    monkeypatch.setattr(ais_clean, "HASHES_PER_PASS", 50)
    assert _ingest(tmp_path, "passes", log) == whole


@pytest.mark.parametrize("listed", [10_000, 2])
def test_rows_of_different_keys_under_one_hash_go_to_the_exact_pass(tmp_path, monkeypatch, listed):
    """`ais_clean._sorted_copies` sorts the stage by key hash and compares each row with the
    one before, column by column: rows of different keys sharing a hash (every position of
    a ship, under a hash of the MMSI alone) are left to DuckDB's exact pass (named by row
    id, or handed over as a table past `LISTED_ROWS`), which gives the rows and counts
    the full key's hash gives."""
    from cargotrace.ingest.kinds import ais_clean

    log = tmp_path / "twice.nmea"
    log.write_bytes(shared_data("ais", "aisdb", "test_data_20211101.nm4").read_bytes() * 2)
    whole = _ingest(tmp_path, "whole", log)
    assert whole["ledger"][0][4] > 0  # duplicates
    left: list[int] = []
    sort = ais_clean._sorted_copies

    def watched(con):
        copies, unsure = sort(con)
        left.append(len(unsure))
        return copies, unsure

    monkeypatch.setattr(ais_clean, "_key_hash", lambda: "hash(mmsi)")
    monkeypatch.setattr(ais_clean, "_sorted_copies", watched)
    monkeypatch.setattr(ais_clean, "LISTED_ROWS", listed)
    assert _ingest(tmp_path, "collided", log) == whole
    assert left and left[0] > 2  # named by row id under 10,000, as a table over 2


def test_passes_with_marks_store_what_the_passes_with_tables_store(tmp_path, monkeypatch):
    """A stage of at most `LISTED_STAGE_ROWS` rows has its copies and stations marked in
    NumPy and paired with its rows by POSITIONAL JOIN (`ais_clean._Marks`); a bigger one
    lists them in tables: the same rows, flags and counts either way, for copies within
    the file and copies of another file's positions, stations and MMSIs that cannot be a
    ship's."""
    from cargotrace.ingest.kinds import ais_clean

    aisdb = shared_data("ais", "aisdb", "test_data_20211101.nm4").read_bytes()
    first, second = tmp_path / "first.nmea", tmp_path / "second.nmea"
    first.write_bytes(aisdb)
    second.write_bytes(aisdb * 2 + shared_data("ais", "gpsd", "sample.aivdm").read_bytes())

    def both(name: str) -> tuple[dict, list[dict]]:
        case = tmp_path / name
        results = [workflow.ingest(case, "ais", [log])[0] for log in (first, second)]
        assert workflow.check_case(case) == []
        keys = ("cleaning", "not_vessels", "kept_as")
        return _stored(case), [{k: r.detail.get(k) for k in keys} for r in results]

    marked, marked_detail = both("marked")
    cleaning = marked_detail[1]["cleaning"]
    assert cleaning["duplicates_in_file"] and cleaning["duplicates_of_case"]
    assert marked_detail[0]["not_vessels"] and marked["stations"]
    monkeypatch.setattr(ais_clean, "LISTED_STAGE_ROWS", 0)
    assert both("tables") == (marked, marked_detail)


def test_duckdb_share_is_lowered_while_the_passes_hold_their_hashes(tmp_path, monkeypatch):
    """While several passes fetch a big stage's hashes into NumPy, DuckDB's share is at most
    `HASH_PASS_MEMORY_LIMIT` (its pool held cached pages of the spilled stage beside them:
    the 2 GB log's peak); the share is put back after, and a smaller one is left alone."""
    from cargotrace.ingest.kinds import ais_clean

    log = tmp_path / "twice.nmea"
    log.write_bytes(shared_data("ais", "aisdb", "test_data_20211101.nm4").read_bytes() * 2)
    seen: list[str] = []
    fetch = ais_clean._repeated_hashes

    def watched(con):
        # the share during the passes: read by the first statement after each pass begins
        real_execute = con.execute

        class Spy:
            def __getattr__(self, name):
                return getattr(con, name)

            def execute(self, sql, *args):
                if "hash(" in sql and "% " in sql:
                    seen.append(
                        real_execute("SELECT current_setting('memory_limit')").fetchone()[0]
                    )
                return real_execute(sql, *args)

        before = real_execute("SELECT current_setting('memory_limit')").fetchone()[0]
        out = fetch(Spy())
        seen.append(before)
        seen.append(real_execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return out

    monkeypatch.setattr(ais_clean, "HASHES_PER_PASS", 50)
    monkeypatch.setattr(ais_clean, "_repeated_hashes", watched)
    monkeypatch.setenv("CARGOTRACE_MEMORY_LIMIT", "300MB")
    _ingest(tmp_path, "lowered", log)
    *during, before, after = seen
    assert len(during) > 1 and set(during) == {"183.1 MiB"}  # 192 MB
    assert before == "286.1 MiB"  # 300 MB
    assert (
        abs(_size_bytes(after) - 300e6) < 0.2 * 2**20
    )  # put back (as DuckDB wrote it, to 0.1 MiB)
    seen.clear()
    monkeypatch.setenv("CARGOTRACE_MEMORY_LIMIT", "100MB")
    _ingest(tmp_path, "small", log)
    *during, before, after = seen
    assert set(during) == {before} == {after} == {"95.3 MiB"}  # 100 MB, left alone


def _size_bytes(text: str) -> float:
    from cargotrace.ingest.kinds.ais_clean import _size_bytes as size

    return size(text)


def test_memory_sizes_as_duckdb_writes_them_in_bytes():
    assert _size_bytes("488.2 MiB") == 488.2 * 2**20
    assert _size_bytes("192MB") == 192e6
    assert _size_bytes("1.5 GiB") == 1.5 * 2**30
    assert _size_bytes("0 bytes") == 0


def test_the_gil_is_handed_over_quickly_while_a_log_is_read_and_as_before_after(
    tmp_path, monkeypatch
):
    import sys

    seen = []
    real = load._insert_positions

    def spy(con, table):
        seen.append(sys.getswitchinterval())
        real(con, table)

    monkeypatch.setattr(load, "_insert_positions", spy)
    before = sys.getswitchinterval()
    case = tmp_path / "case"
    workflow.init_case(case)
    path = tmp_path / "log.nmea"
    path.write_text("!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5D\n")
    workflow.ingest(case, "ais", [path])
    assert seen and all(s == min(before, load.GIL_SWITCH_S) for s in seen)
    assert sys.getswitchinterval() == before
