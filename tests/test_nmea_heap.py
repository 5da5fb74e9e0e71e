"""The C heap's free memory is handed back while an NMEA log is ingested (issue 16:
glibc counted 230-350 MB free in its heap after the 2 GB log's pass over duplicates)."""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from cargotrace import heap

from builders import write_csv

CHILD = """
import sys
from cargotrace import heap

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024

blocks = [bytearray(b"x" * 100_000) for _ in range(2000)]  # 200 MB below the mmap threshold
pin = bytearray(b"x" * 100_000)  # above them: the heap's top cannot shrink
full = rss_mb()
del blocks
freed = rss_mb()
heap.trim()
print(full, freed, rss_mb())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_trim_hands_back_memory_freed_below_a_live_block() -> None:
    if not heap.trim():
        pytest.skip("no malloc_trim in this C library")
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    full, freed, trimmed = map(int, done.stdout.split())
    assert full - trimmed > 150  # MB handed back of the 200 MB freed
    assert freed > trimmed + 150  # glibc had kept them after the free


def test_trimmed_trims_on_its_own_thread_and_stops_with_the_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(heap, "trim", lambda: calls.append(threading.current_thread().name))
    monkeypatch.setattr(heap, "_malloc_trim", lambda: lambda pad: 0)
    with heap.trimmed(every_s=0.01):
        time.sleep(0.2)
    during = len(calls)
    assert during >= 5
    assert set(calls[:-1]) == {"cargotrace-heap-trim"}  # the last: at the end, on the caller's
    time.sleep(0.05)
    assert len(calls) == during  # stopped
    assert "cargotrace-heap-trim" not in {t.name for t in threading.enumerate()}


def test_an_nmea_ingest_runs_under_trimming_and_a_csv_does_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cargotrace.ingest import registry
    from cargotrace.workflow import ingest

    used: list[str] = []
    real = heap.trimmed

    def spy(every_s: float = heap.TRIM_EVERY_S) -> AbstractContextManager[None]:
        used.append("trimmed")
        return real(every_s)

    monkeypatch.setattr(registry.heap, "trimmed", spy)
    tag = "c:1700000000"
    checksum = functools.reduce(lambda acc, ch: acc ^ ord(ch), tag, 0)
    log = tmp_path / "log.nmea"
    log.write_text(f"\\{tag}*{checksum:02X}\\!AIVDM,1,1,,A,144FV@@P029PlopHKfG3Q2l1P000,0*00\n")
    [result] = ingest(tmp_path / "case", "ais", [log])
    assert (result.rows_read, result.rows_kept, result.detail["format"]) == (1, 1, "nmea")
    assert used == ["trimmed"]
    table = write_csv(tmp_path / "p.csv", ["mmsi", "timestamp", "lat", "lon"],
                      [[273000000, "2023-11-14T22:13:20Z", 42.7, 133.0]])  # fmt: skip
    [result] = ingest(tmp_path / "case", "ais", [table])
    assert result.rows_kept == 1
    assert used == ["trimmed"]
