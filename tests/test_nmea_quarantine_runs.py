"""NMEA refused messages stored as runs (case/quarantine.py, ingest/nmea/load.as_runs) in a
Parquet part of the case folder named in the file's ledger row: every refused message is
still listed one row each with its file, row, reason and raw text, the counts add up, `check`
finds a run that does not or a part that is missing, and a part no ledger row names is not
read."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime
from functools import reduce
from operator import xor
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from cargotrace import workflow
from cargotrace.case import quarantine as stored_quarantine
from cargotrace.case.store import Case
from cargotrace.ingest.nmea.load import as_runs

SHIP = 273123456
T = int(datetime(2023, 9, 1, tzinfo=UTC).timestamp())


def encode(**fields) -> str:
    from pyais.encode import encode_dict

    [sentence] = encode_dict(fields, talker_id="AI")
    return sentence


def tagged(seconds: int, sentence: str) -> str:
    fields = f"s:a,c:{seconds}"
    return f"\\{fields}*{reduce(xor, fields.encode(), 0):02X}\\{sentence}"


def test_refused_rows_become_runs_per_reason_in_line_order():
    refused = pa.table(
        {
            "reason": [
                "no_timestamp",
                "bad_checksum",
                "no_timestamp",
                "no_timestamp",
                "no_timestamp",
            ],
            "column_name": ["timestamp", None, "timestamp", "timestamp", "timestamp"],
            "raw": ["a", "b", "c", "d", "e"],
            "line_no": pa.array(np.array([9, 4, 2, 5, 7], dtype=np.int64)),
        }
    )
    runs = as_runs(refused, run_rows=2).to_pylist()
    assert sorted(runs, key=lambda r: (r["reason"], r["source_rows"][0])) == [
        {"reason": "bad_checksum", "column_name": None, "rows": 1, "last_row": 4,
         "source_rows": [4], "raw": ["b"]},
        {"reason": "no_timestamp", "column_name": "timestamp", "rows": 2, "last_row": 5,
         "source_rows": [2, 5], "raw": ["c", "d"]},
        {"reason": "no_timestamp", "column_name": "timestamp", "rows": 2, "last_row": 9,
         "source_rows": [7, 9], "raw": ["e", "a"]},
    ]  # fmt: skip


@pytest.fixture
def logged_case(tmp_path, monkeypatch):
    """A log of 7 messages: 2 with a time (kept), 4 without (refused), 1 bad checksum."""
    pytest.importorskip("pyais")
    monkeypatch.setattr(stored_quarantine, "RUN_ROWS", 2)  # runs of at most 2 messages
    untimed = [encode(type=1, mmsi=SHIP, lat=43.0 + i / 10, lon=131.9) for i in range(4)]
    good = encode(type=1, mmsi=SHIP, lat=44.0, lon=131.9)
    bad = good[:-2] + ("00" if not good.endswith("00") else "11")  # a wrong checksum
    lines = [tagged(T, good), *untimed[:2], tagged(T + 60, good), bad,
             *untimed[2:]]  # fmt: skip
    path = tmp_path / "log.nmea"
    path.write_text("\n".join(lines) + "\n")
    case = tmp_path / "case"
    workflow.init_case(case)
    [result] = workflow.ingest(case, "ais", [path])
    return case, path, lines, result


def test_every_refused_message_is_listed_with_row_reason_and_raw_text(logged_case):
    case, path, lines, result = logged_case
    assert (result.rows_read, result.rows_quarantined) == (7, 5)
    assert result.rows_read == result.rows_kept + result.rows_quarantined + result.rows_duplicate
    with Case.open(case) as c:
        listed = c.rows(
            "SELECT source_file, source_row, reason, raw FROM quarantine_rows ORDER BY source_row"
        )
        stored = c.scalar("SELECT count(*) FROM quarantine_runs_all")  # the runs and the part's
        in_table = c.scalar("SELECT count(*) FROM quarantine_runs")
    assert [(r["source_file"], r["source_row"], r["reason"], r["raw"]) for r in listed] == [
        (path.name, row, "bad_checksum" if row == 5 else "no_timestamp", lines[row - 1])
        for row in (2, 3, 5, 6, 7)
    ]
    assert stored == 3  # 4 untimed messages in runs of 2, and the bad checksum
    assert in_table == 0  # in the log's Parquet part, named in its ledger row
    [part] = (case / stored_quarantine.PARTS_DIR).iterdir()
    assert result.detail[stored_quarantine.PART_KEY] == {"file": part.name, "runs": 3, "rows": 5}
    assert result.detail["quarantined_by_reason"] == {"no_timestamp": 4, "bad_checksum": 1}
    groups = {g["reason"]: g for g in workflow.quarantine_summary(case)}
    assert groups["no_timestamp"]["rows"] == 4
    assert groups["no_timestamp"]["examples"] == [f"{path.name}:{n}" for n in (2, 3, 6, 7)]
    assert workflow.check_case(case) == []


def test_export_lists_refused_messages_one_row_each(logged_case, tmp_path):
    case, path, lines, _ = logged_case
    out = tmp_path / "q.csv"
    workflow.export(case, "csv", out, "quarantine")
    with open(out, encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert [(r["source_row"], r["reason"], r["raw"]) for r in exported] == [
        (str(row), "bad_checksum" if row == 5 else "no_timestamp", lines[row - 1])
        for row in (2, 3, 5, 6, 7)
    ]


def test_check_finds_a_run_that_does_not_add_up(logged_case):
    case, path, _, _ = logged_case
    [part] = (case / stored_quarantine.PARTS_DIR).iterdir()
    with duckdb.connect() as con:  # the part rewritten with its first run cut to one message
        con.execute(
            f"""COPY (SELECT * REPLACE (CASE WHEN rows = 2 AND source_row = 2 THEN source_rows[1:1]
                                            ELSE source_rows END AS source_rows,
                                       CASE WHEN rows = 2 AND source_row = 2 THEN raw[1:1]
                                            ELSE raw END AS raw)
                      FROM read_parquet('{part}')) TO '{part}.new' (FORMAT parquet)"""
        )
    Path(f"{part}.new").replace(part)
    problems = workflow.check_case(case)
    assert f"{path.name}: the quarantined run from row 2 does not add up" in problems
    assert f"{path.name}: ledger says 5 quarantined, table holds 5" not in problems


def test_a_case_without_runs_table_is_read_as_before(tmp_path):
    """A case made before `quarantine_runs` (opened read-only, so not upgraded) still lists
    its quarantine."""
    case = tmp_path / "case"
    workflow.init_case(case)
    with Case.open(case, write=True) as c:
        c.con.execute("DROP VIEW quarantine_rows")
        c.con.execute("DROP TABLE quarantine_runs")
        c.con.execute(
            "INSERT INTO quarantine VALUES ('ais', 'no_timestamp', 'timestamp', 'x', 'h', 'f.nmea', NULL, 3)"
        )
    groups = workflow.quarantine_summary(case)
    assert [(g["reason"], g["rows"], g["examples"]) for g in groups] == [
        ("no_timestamp", 1, ["f.nmea:3"])
    ]


def test_replacing_a_log_counts_its_refused_messages_not_its_runs(logged_case):
    case, path, _, _ = logged_case
    [again] = workflow.ingest(case, "ais", [path], replace=True)
    assert again.detail["replaced"]["quarantine_runs"] == 5  # messages, in 4 stored runs
    assert again.rows_quarantined == 5
    assert workflow.check_case(case) == []
    with Case.open(case) as c:  # the new part read, the old one (named by no ledger row) not
        assert c.scalar("SELECT count(*) FROM quarantine_rows") == 5
    workflow.init_case(case)  # the next writer removes the old part
    part = again.detail[stored_quarantine.PART_KEY]["file"]
    assert [p.name for p in (case / stored_quarantine.PARTS_DIR).iterdir()] == [part]


def test_a_part_no_ledger_row_names_is_not_read_and_the_next_writer_removes_it(logged_case):
    """A killed ingest may leave its part written and its transaction not committed."""
    case, path, _, _ = logged_case
    [part] = (case / stored_quarantine.PARTS_DIR).iterdir()
    stray = part.with_name("0123456789abcdef-1.parquet")
    shutil.copy(part, stray)
    with Case.open(case) as c:
        assert c.scalar("SELECT count(*) FROM quarantine_rows") == 5
    assert workflow.check_case(case) == []
    workflow.init_case(case)
    assert stray.exists() is False and part.exists()


def test_check_finds_a_missing_part(logged_case):
    case, path, _, _ = logged_case
    [part] = (case / stored_quarantine.PARTS_DIR).iterdir()
    part.unlink()
    problems = workflow.check_case(case)
    assert (
        f"the quarantine part {part.name} (named in the ledger) is missing from quarantine/"
        in problems
    )
    assert f"{path.name}: ledger says 5 quarantined, table holds 0" in problems


@pytest.mark.slow
def test_a_log_refusing_a_million_messages_commits_within_a_small_memory_share(tmp_path):
    """Runs of 10,000 messages made the commit fail ("failed to pin block") once a file
    refused ~3x DuckDB's share of text: the AMSA log (no times) x 40 under a 100 MB share."""
    import gzip
    import os
    import subprocess
    import sys

    from conftest import shared_data

    with gzip.open(shared_data("ais", "amsa", "ais.txt.gz"), "rb") as handle:
        lines = handle.read().splitlines()
    path = tmp_path / "amsa40.nmea"
    path.write_bytes(b"\n".join(lines * 40) + b"\n")
    case = tmp_path / "case"
    child = (
        "import sys; from pathlib import Path; from cargotrace import workflow\n"
        "[r] = workflow.ingest(Path(sys.argv[1]), 'ais', [Path(sys.argv[2])])\n"
        "print(r.rows_quarantined, workflow.check_case(Path(sys.argv[1])))"
    )
    env = {**os.environ, "CARGOTRACE_MEMORY_LIMIT": "100MB"}
    done = subprocess.run([sys.executable, "-c", child, str(case), str(path)],
                          capture_output=True, text=True, env=env, timeout=1800)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    refused, problems = done.stdout.split(maxsplit=1)
    assert int(refused) > 1_000_000
    assert problems.strip() == "[]"


def test_check_finds_a_damaged_part_and_readers_leave_it_out_with_a_warning(logged_case, capsys):
    case, path, _, _ = logged_case
    [part] = (case / stored_quarantine.PARTS_DIR).iterdir()
    part.write_bytes(part.read_bytes()[:100])
    problems = workflow.check_case(case)
    assert any(
        p.startswith(f"the quarantine part quarantine/{part.name} cannot be read") for p in problems
    )
    assert f"{path.name}: ledger says 5 quarantined, table holds 0" in problems
    assert workflow.quarantine_summary(case) == []
    assert f"the quarantine part {part.resolve()} cannot be read" in capsys.readouterr().err


def test_a_part_write_failing_on_its_thread_fails_the_file_and_leaves_no_part(
    logged_case, monkeypatch
):
    """The part is written on a thread of its own: its error is the file's, all or nothing."""
    import pyarrow.parquet as pq

    case, path, lines, _ = logged_case
    again = path.with_name("again.nmea")
    again.write_text("\n".join([*lines, lines[1]]) + "\n")  # another file: other hash

    def failing(self, table, row_group_size=None):
        raise OSError("disk full")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", failing)
    with pytest.raises(OSError, match="disk full"):
        workflow.ingest(case, "ais", [again])
    with Case.open(case) as c:
        assert c.scalar("SELECT count(*) FROM ledger") == 1
        assert c.scalar("SELECT count(*) FROM quarantine_rows") == 5
    assert len(list((case / stored_quarantine.PARTS_DIR).iterdir())) == 1
    assert workflow.check_case(case) == []


def test_a_log_ingested_again_is_known_by_its_hash_worked_out_aside(logged_case):
    """The log's hash is worked out on a thread while its first lines are decoded: a log
    the ledger knows is skipped all the same, nothing of it stored again."""
    case, path, _, result = logged_case
    [again] = workflow.ingest(case, "ais", [path])
    assert again.already_ingested and again.file_hash == result.file_hash
    with Case.open(case) as c:
        assert c.scalar("SELECT count(*) FROM ledger") == 1
        assert c.scalar("SELECT count(*) FROM quarantine_rows") == 5
        assert c.scalar("SELECT count(*) FROM positions") == 2
    assert len(list((case / stored_quarantine.PARTS_DIR).iterdir())) == 1
