"""AIS position CSVs are read one chunk ahead of the SQL (`readers/read_ahead.py`, whose own
behaviour tests/test_read_ahead.py holds): the same rows in the case as read in one chunk, a
late ragged record still read again exactly."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import duckdb

from cargotrace import workflow
from cargotrace.ingest import stream_load
from cargotrace.ingest.readers import csvread, tabular

from conftest import shared_data


def _counting(load: Any, calls: list[int]) -> Any:
    def counted(*args: Any) -> Any:
        calls.append(1)
        return load(*args)

    return counted


def _noaa_head(tmp_path: Path, rows: int) -> list[bytes]:
    with gzip.open(shared_data("ais", "noaa", "AISdata_marinecadastre_20220103.csv.gz")) as handle:
        return [next(handle).rstrip(b"\r\n") for _ in range(rows + 1)]


def _snapshot(case: Path) -> tuple[list[Any], ...]:
    con = duckdb.connect(str(case / "case.duckdb"), read_only=True)
    try:
        return tuple(
            con.execute(sql).fetchall()
            for sql in (
                "SELECT * EXCLUDE (file_hash) FROM positions ORDER BY source_row",
                "SELECT * EXCLUDE (file_hash) FROM quarantine ORDER BY source_row",
                # identity reports are per chunk (first and last row): their distinct identities
                "SELECT DISTINCT mmsi, imo, name, callsign, ship_type, draught_m FROM vessel_reports ORDER BY ALL",
                "SELECT rows_read, rows_kept, rows_quarantined, rows_duplicate FROM ledger",
            )
        )
    finally:
        con.close()


def test_a_noaa_file_read_ahead_in_small_chunks_gives_the_rows_of_one_chunk(tmp_path, monkeypatch):
    lines = _noaa_head(tmp_path, 20_000)
    path = tmp_path / "noaa.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    [whole] = workflow.ingest(tmp_path / "whole", "ais", [path])
    monkeypatch.setattr(csvread, "FAST_MIN_BYTES", 1 << 20)  # the file is ~2 MB
    monkeypatch.setattr(csvread, "FAST_BUFFER_BYTES", 1 << 20)
    monkeypatch.setattr(csvread, "ARROW_BLOCK_BYTES", 128 << 10)
    monkeypatch.setattr(tabular, "FAST_CHUNK_ROWS", 3_000)
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 300 << 10)  # chunks of a few thousand rows
    chunks = []
    monkeypatch.setattr(stream_load, "_load", _counting(stream_load._load, chunks))
    [chunked] = workflow.ingest(tmp_path / "chunked", "ais", [path])
    assert len(chunks) >= 5  # read ahead, several chunks
    assert chunked.detail["reader"] == "arrow" and chunked.rows_read == 20_000
    assert _snapshot(tmp_path / "chunked") == _snapshot(tmp_path / "whole")
    assert workflow.check_case(tmp_path / "chunked") == []

    lines[-3] = lines[-3] + b",extra,cells"  # a ragged record near the end
    ragged = tmp_path / "ragged.csv"
    ragged.write_bytes(b"\n".join(lines) + b"\n")
    [again] = workflow.ingest(tmp_path / "again", "ais", [ragged])
    assert again.detail["reader"] == "python" and "read again" in again.detail["note"]
    assert (
        again.rows_read == 20_000
        and again.detail["quarantined_by_reason"]["wrong_field_count"] == 1
    )
    assert workflow.check_case(tmp_path / "again") == []
