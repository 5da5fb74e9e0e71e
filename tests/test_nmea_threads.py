"""An NMEA log decoded on several threads (`decoder.decode_nmea_file_on`: blocks scanned and
decoded by a pool, messages assembled in order in the caller's thread) gives exactly the
rows, rejects and counters of the serial decoder, and stores exactly the same case
(`load.DECODE_THREADS`, the rules judged on the decoders' threads by `load.Judge`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cargotrace import workflow
from cargotrace.ingest.nmea import load
from cargotrace.ingest.nmea.decoder import (
    DecodedBatch,
    decode_nmea_file,
    decode_nmea_file_on,
)

from builders import stored_rows
from conftest import shared_data

LOGS = (
    ("aisdb", "test_data_20211101.nm4"),  # tag blocks: times and sources
    ("aisdb", "test_data_201201.nmea"),
    ("amsa", "ais.txt.gz"),  # gzip, multi-part type 5
    ("amsa", "exact-earth-augmented-3.txt"),  # receive times after the checksum
    ("gpsd", "sample.aivdm"),  # every type, no times
)


def _merged(batches: list[DecodedBatch]) -> DecodedBatch:
    out = DecodedBatch.empty()
    for batch in batches:
        out = out.merge(batch)
    return out


def _same(got: DecodedBatch, want: DecodedBatch) -> None:
    assert got.stats == want.stats
    assert got.positions.equals(want.positions)
    assert got.statics.equals(want.statics)
    assert got.rejects.sort_by("line_no").equals(want.rejects.sort_by("line_no"))


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize(("folder", "name"), LOGS)
def test_threaded_decoding_gives_the_rows_of_the_serial_decoder(folder, name, threads):
    """Blocks of 97 lines (7 for the 26-line log, 997 for the 44,687-line one): multi-part
    messages cut across blocks decoded on other threads."""
    path = shared_data("ais", folder, name)
    lines = {"test_data_201201.nmea": 7, "ais.txt.gz": 997}.get(name, 97)
    serial = list(decode_nmea_file(path, batch_lines=lines))
    want = _merged(serial)
    assert want.positions.num_rows + want.statics.num_rows > 0
    got = list(decode_nmea_file_on(path, threads, lambda b: b, batch_lines=lines))
    assert len(got) >= 4  # several blocks, in flight together
    _same(_merged(got), want)
    # and each batch is the serial decoder's batch of the same lines (the orphans at the
    # end of the file aside: a batch of their own)
    for mine, theirs in zip(got, serial[:-1], strict=False):
        assert mine.stats == theirs.stats
        assert mine.positions.equals(theirs.positions)


def test_the_raw_text_of_a_multi_part_message_cut_across_threads(tmp_path):
    """A type 5 message whose two sentences fall in two blocks decoded on two threads: its
    row is in the block of its last sentence, its text (for the quarantine) both lines."""
    from pyais.encode import encode_dict

    position = encode_dict({"type": 1, "mmsi": 273123456, "lat": 59.5, "lon": 24.8})
    type5 = encode_dict(
        {"type": 5, "mmsi": 273123456, "shipname": "EVER DIADEM", "destination": "TALLINN"}
    )
    assert len(position) == 1 and len(type5) == 2
    log = tmp_path / "cut.nmea"
    log.write_text("\n".join([*position, *position, *type5, *position]) + "\n")
    [one, two] = list(decode_nmea_file_on(log, 2, lambda b: b, batch_lines=3))
    assert (one.positions.num_rows, one.statics.num_rows) == (2, 0)
    assert (two.positions.num_rows, two.statics.num_rows) == (1, 1)
    assert two.statics.column("line_no").to_pylist() == [4]
    assert two.statics.column("name").to_pylist() == ["EVER DIADEM"]
    assert two.raw_text("statics", np.array([0])).to_pylist() == ["\n".join(type5)]
    assert one.stats.lines + two.stats.lines == 5


def test_an_error_on_a_decoding_thread_reaches_the_caller(tmp_path):
    log = tmp_path / "log.nmea"
    log.write_bytes(shared_data("ais", "gpsd", "sample.aivdm").read_bytes())
    seen = []

    def judge(batch: DecodedBatch) -> int:
        seen.append(batch.stats.lines)
        if len(seen) == 3:
            raise ValueError("the third batch")
        return batch.stats.lines

    with pytest.raises(ValueError, match="the third batch"):
        list(decode_nmea_file_on(log, 2, judge, batch_lines=50))


def _stored(case: Path) -> dict[str, list[tuple[object, ...]]]:
    queries = {
        "positions": "SELECT * EXCLUDE (file_hash) FROM positions",
        "stations": "SELECT * EXCLUDE (file_hash) FROM ais_stations",
        "reports": "SELECT * EXCLUDE (file_hash) FROM vessel_reports",
        "quarantine": "SELECT * EXCLUDE (file_hash) FROM quarantine_rows",
        "ledger": "SELECT file_name, rows_read, rows_kept, rows_quarantined, rows_duplicate, rows_skipped FROM ledger",
    }  # fmt: skip
    return stored_rows(case, queries)


def test_a_log_decoded_on_two_threads_stores_what_one_thread_stores(tmp_path, monkeypatch):
    """All the real logs in one file, in small batches (refused messages, identity reports,
    stations, duplicates, multi-part messages across batches)."""
    log = tmp_path / "all.nmea"
    import gzip

    parts = []
    for folder, name in LOGS:
        path = shared_data("ais", folder, name)
        parts.append(
            gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
        )
    log.write_bytes(b"".join(part if part.endswith(b"\n") else part + b"\n" for part in parts))
    monkeypatch.setattr(load, "BATCH_LINES", 1_000)
    monkeypatch.setattr(load, "GROUP_LINES", 2_500)
    stored = {}
    for threads in (1, 2):
        monkeypatch.setattr(load, "DECODE_THREADS", threads)
        case = tmp_path / f"case{threads}"
        [result] = workflow.ingest(case, "ais", [log])
        assert (
            result.rows_read == result.rows_kept + result.rows_quarantined + result.rows_duplicate
        )
        assert workflow.check_case(case) == []
        stored[threads] = _stored(case)
    assert stored[1]["positions"] and stored[1]["reports"] and stored[1]["quarantine"]
    assert stored[2] == stored[1]
