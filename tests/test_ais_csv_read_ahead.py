"""AIS position CSVs are read one chunk ahead of the SQL (`stream_load.read_ahead`): the
same rows in the case, errors of the reader where they belong, a late ragged record still
read again exactly."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from cargotrace import workflow
from cargotrace.errors import InputError
from cargotrace.ingest import stream_load
from cargotrace.ingest.readers import csvread, tabular
from cargotrace.ingest.readers.tabular_types import RawChunk
from cargotrace.ingest.stream_load import read_ahead

from conftest import shared_data


def _chunk(first: int) -> RawChunk:
    return RawChunk(["a"], pa.table({"c0": ["x"], "_row": [first]}), [], 0)


def test_read_ahead_hands_out_every_chunk_in_order_then_the_readers_error():
    def chunks():
        yield _chunk(2)
        yield _chunk(3)
        raise InputError("bad row", file="f.csv", row=4)

    seen = []
    with pytest.raises(InputError, match="bad row"):
        for chunk in read_ahead(chunks()):
            seen.append(chunk.table.column("_row")[0].as_py())
    assert seen == [2, 3]


def test_read_ahead_reads_no_more_than_one_chunk_ahead():
    read: list[int] = []

    def chunks():
        for i in range(5):
            read.append(i)
            yield _chunk(i)

    taken = []
    for chunk in read_ahead(chunks()):
        taken.append(chunk.table.column("_row")[0].as_py())
        assert len(read) <= len(taken) + 1
        if len(taken) == 2:
            break  # a consumer that stops (an error in the SQL): the reader stops too
    assert taken == [0, 1] and len(read) <= 3


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
