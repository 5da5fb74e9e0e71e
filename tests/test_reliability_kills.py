"""Crash safety: SIGKILL `ingest` and `analyze` at random points; the case must always open,
pass `check`, hold all or none of each file's rows, and finish when the command is rerun."""

from __future__ import annotations

import gzip
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cargotrace import workflow
from cargotrace.case.store import Case

from builders import write_big_shipments
from conftest import shared_data

KILLS = 50


def _start(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cargotrace", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _assert_consistent(case_dir: Path, files: dict[str, Path]) -> None:
    assert workflow.check_case(case_dir) == []
    with Case.open(case_dir) as case:
        ledger = {r["file_hash"]: r for r in case.rows("SELECT * FROM ledger")}
        for path in files.values():
            from cargotrace.ingest.readers.sources import file_hash

            digest = file_hash(path)
            kept = case.scalar("SELECT count(*) FROM shipments WHERE file_hash = ?", [digest])
            quarantined = case.scalar(
                "SELECT count(*) FROM quarantine_rows WHERE file_hash = ?", [digest]
            )
            if digest in ledger:
                assert (kept, quarantined) == (
                    ledger[digest]["rows_kept"],
                    ledger[digest]["rows_quarantined"],
                )
            else:
                assert (kept, quarantined) == (0, 0), "a killed ingest left part of a file behind"


@pytest.mark.slow
def test_sigkill_at_random_points_never_corrupts_a_case(tmp_path):
    rng = random.Random(20240613)
    files = {
        f"part{i}": write_big_shipments(tmp_path / f"part{i}.csv", rows=60_000, seed=i)
        for i in range(3)
    }
    case_dir = tmp_path / "case"
    workflow.init_case(case_dir)
    survived = 0
    for attempt in range(KILLS):
        target = files[f"part{attempt % 3}"]
        command = (
            ["ingest", "shipments", str(target), "--case", str(case_dir)]
            if attempt % 5
            else ["analyze", "--case", str(case_dir)]
        )
        process = _start(command)
        time.sleep(rng.uniform(0.05, 2.0))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        _assert_consistent(case_dir, files)
        survived += 1
        if attempt % 10 == 9:  # rerunning the killed command completes the job
            for path in files.values():
                workflow.ingest(case_dir, "shipments", [path])
            _assert_consistent(case_dir, files)
    for path in files.values():
        workflow.ingest(case_dir, "shipments", [path])
    _assert_consistent(case_dir, files)
    with Case.open(case_dir) as case:
        assert case.scalar("SELECT count(*) FROM ledger") == 3
    print(f"kills survived: {survived} of {KILLS}")
    assert survived == KILLS


def _kill_ais_ingests_then_finish(
    case_dir: Path, paths: list[Path], *, latest_s: float, earliest_s: float = 0.5
) -> Path:
    """`ingest ais` of the two `paths` in turn, each SIGKILLed at a random moment (eight
    times, the case whole after each), then ingested to the end: both files in the ledger."""
    workflow.init_case(case_dir)
    rng = random.Random(16)
    for attempt in range(8):
        process = _start(["ingest", "ais", str(paths[attempt % 2]), "--case", str(case_dir)])
        time.sleep(rng.uniform(earliest_s, latest_s))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        _assert_ais_consistent(case_dir, paths)
    workflow.ingest(case_dir, "ais", paths)
    _assert_ais_consistent(case_dir, paths)
    with Case.open(case_dir) as case:
        assert case.scalar("SELECT count(*) FROM ledger WHERE kind = 'ais'") == 2
    return case_dir


def _assert_ais_consistent(case_dir: Path, paths: list[Path]) -> None:
    """Each NMEA file is in the case whole (its ledger counts = its rows in positions,
    stations and quarantine) or not at all."""
    from cargotrace.ingest.readers.sources import file_hash

    assert workflow.check_case(case_dir) == []
    with Case.open(case_dir) as case:
        for path in paths:
            digest = file_hash(path)
            stored = [
                case.scalar(f"SELECT count(*) FROM {table} WHERE file_hash = ?", [digest])
                for table in ("positions", "ais_stations", "quarantine_rows", "vessel_reports")
            ]
            row = case.rows(
                "SELECT rows_kept, rows_quarantined FROM ledger WHERE file_hash = ?", [digest]
            )
            if row:
                assert (
                    stored[0] + stored[1] <= row[0]["rows_kept"]
                )  # identity-only messages count as kept
                assert stored[2] == row[0]["rows_quarantined"]
            else:
                assert stored == [0, 0, 0, 0], "a killed ingest left part of an NMEA file behind"


@pytest.mark.slow
def test_sigkill_during_nmea_ingest_leaves_each_file_whole_or_absent(tmp_path):
    """The NMEA path (decoder batches, the stage, refused messages gathered for the
    quarantine, the file's finish) is one transaction too: killed anywhere, nothing of the
    file stays; run again, the file is in whole."""
    lines = []
    for folder, name in (("aisdb", "test_data_20211101.nm4"), ("amsa", "ais.txt.gz")):
        path = shared_data("ais", folder, name)
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            lines.extend(handle.read().splitlines())
    paths = []
    for i in range(2):  # two different files, each the logs repeated (duplicates, refusals)
        path = tmp_path / f"log{i}.nmea"
        path.write_bytes(b"\n".join(lines * (4 + i)) + b"\n")
        paths.append(path)
    _kill_ais_ingests_then_finish(tmp_path / "case", paths, latest_s=10.0)


def test_second_writer_process_is_told_the_case_is_busy(tmp_path):
    case_dir = tmp_path / "case"
    workflow.init_case(case_dir)
    with Case.open(case_dir, write=True):
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "cargotrace", "analyze", "--case", str(case_dir)],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
    assert result.returncode == 2
    assert "busy" in result.stderr
    assert elapsed < 20  # at once: no waiting for the lock (interpreter start-up included)


def test_readers_work_while_nothing_writes(tmp_path):
    case_dir = tmp_path / "case"
    workflow.init_case(case_dir)
    with Case.open(case_dir) as first, Case.open(case_dir) as second:
        assert (
            first.scalar("SELECT count(*) FROM ports")
            == second.scalar("SELECT count(*) FROM ports")
            > 0
        )


def test_truncated_database_gives_a_way_out(tmp_path):
    case_dir = tmp_path / "case"
    workflow.init_case(case_dir)
    db = case_dir / "case.duckdb"
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    result = subprocess.run([sys.executable, "-m", "cargotrace", "check", "--case", str(case_dir)],
                            capture_output=True, text=True, check=False, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "restore" in result.stderr or "rebuild" in result.stderr


@pytest.mark.slow
def test_sigkill_during_ais_csv_ingest_leaves_each_file_whole_or_absent(tmp_path):
    """The AIS position CSV path (hashed aside while the first chunk is read, chunks typed
    in Arrow and appended to positions, copies and stations set apart per chunk, identity
    reports at the file's finish) is one transaction:
    killed anywhere, nothing of the file stays; run again, the file is in whole."""
    import duckdb

    source = shared_data("ais", "noaa", "AISdata_marinecadastre_20220103.csv.gz")
    paths = []
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE day AS SELECT * FROM read_csv('{source}', all_varchar = true)")
        for days in (2, 3):  # the real day repeated, shifted a day each time (NOAA's layout)
            path = tmp_path / f"noaa_{days}d.csv"
            con.execute(
                f"""COPY (SELECT * REPLACE (strftime(CAST(BaseDateTime AS TIMESTAMP) + d * INTERVAL 1 DAY,
                                                     '%Y-%m-%dT%H:%M:%S') AS BaseDateTime)
                          FROM range({days}) r(d), day ORDER BY d) TO '{path}' (FORMAT csv, HEADER true)"""
            )
            paths.append(path)
    case_dir = _kill_ais_ingests_then_finish(tmp_path / "case", paths, earliest_s=0.3, latest_s=8.0)
    with Case.open(case_dir) as case:
        assert case.scalar("SELECT sum(rows_read) FROM ledger") == 5 * 99_999
