"""Huge inputs are ingested in bounded memory (issue 10, slow suite).

The files are generated on the fly in the test's temporary folder and deleted afterwards.
Each ingest runs in its own process with DuckDB's default share (CARGOTRACE_MEMORY_LIMIT unset), and
that process's peak resident memory (ru_maxrss of the child) must stay under a bound that
does not depend on the file's size. The figures are printed (run with -s to see them).

Sizes: CARGOTRACE_BIG_CSV_GB (default 5) and CARGOTRACE_BIG_NMEA_GB (default 2).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

GB = 1 << 30
# A CSV (the 5 GB shipments register, issue 16): DuckDB's 500 MB share while it streams in
# (`shipments.MEMORY_LIMIT`; its pool holds ~420 MB of the file's uncommitted wide rows), two
# of the reader's chunks (CHUNK_BYTES, ~230 MB of Arrow with the parser's blocks) and Python
# (~160 MB). It peaked at 1,533-1,576 MiB alone and 1,710-1,752 MiB in four clean CI runs
# (two xdist workers, beside the 2 GB NMEA log) until the kept rows were inserted by one
# DuckDB thread (`stream_load._sequential_insert`, Dec 2026): then 1,293 and 1,359 MiB alone.
# In the CIs since: 1,326-1,372 MiB. The bound is issue 16's target (DuckDB's allocator
# purging on its background threads since, `store.ALLOCATOR_SETTINGS`).
PEAK_RSS_BOUND_MB = 1536
# An NMEA log (issue 16): DuckDB's share (512 MB while a log is ingested, nmea/load.MEMORY_LIMIT),
# the decoder's groups and Python (~300 MB of C heap) and the libraries (~105 MB). Under the
# case's 800 MB share the 2 GB log peaked at 1,200-1,474 MiB in most runs and at 2,203 and
# 2,154 MiB in two clean CI runs of the same code. With the 512 MB share and the heap trimmed
# (ingest/heap.py) it peaked at 1,072-1,170 MiB alone and at 1,111, 1,141, 1,598, 1,610 and
# 1,677 MiB in CI (beside the 5 GB test). Sampled (Dec 2026, alone at load 7-11: 1,089, 1,098,
# 1,107 MiB), the peak came in the duplicates' passes over the hashes: DuckDB's pool full
# (~490 MB of the spilled stage's pages) beside ~400 MB of NumPy hashes; with DuckDB's share
# lowered to 192 MB while the hashes are fetched (ais_clean.HASH_PASS_MEMORY_LIMIT) it peaked
# at 921 MiB, the read and the exact pass now as high (~915). CI's ~500 MiB swing was not
# reproduced then (DuckDB's allocator held 500-700 MB beyond its pool's count at times; its
# background purging, tried in runs that did not show the swing, changed nothing there).
# The CI runs of Dec 7 gave 1,487, 1,710 and 1,723 MiB; seven runs the same evening at load
# 6-10 gave 1,017-1,092, a quiet CI 1,141. Alone on the quiet machine it peaked at 1,571 and
# 1,627 MiB, in DuckDB's exact pass over the duplicates: the faster DuckDB churns through its
# pool, the more freed pages its allocator held (jemalloc purges only as it allocates again,
# unless its background threads do). With them (`store.ALLOCATOR_SETTINGS`), right after on
# the same machine: 1,163 and 1,241 MiB. The bound is issue 16's target. The child reports
# the peak of each step (`peak_mib_by_step`), so a run over it says where it came from.
NMEA_PEAK_RSS_BOUND_MB = 1536

CHILD = """
import json, resource, sys
from pathlib import Path
from cargotrace import workflow

class Peaks:
    # the peak resident memory of each step of the ingest (the reading, then the passes
    # after it): the kernel's high-water mark (VmHWM) read when a step starts and reset
    # (clear_refs 5), so a peak over the bound says where it came from
    def __init__(self):
        self.what, self.by_step = "reading", {}

    def __call__(self, n):
        pass

    def stage(self, what, step, steps):
        self.close()
        self.what = what

    def close(self):
        status = Path("/proc/self/status")
        if not status.exists():  # not Linux: the process's peak only
            return
        hwm = next(int(l.split()[1]) for l in status.read_text().splitlines() if l.startswith("VmHWM"))
        self.by_step[self.what] = max(self.by_step.get(self.what, 0), hwm // 1024)
        Path("/proc/self/clear_refs").write_text("5")

peaks = Peaks()
[r] = workflow.ingest(Path(sys.argv[1]), sys.argv[2], [Path(sys.argv[3])], progress=peaks)
peaks.close()
maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if peaks.by_step:  # the high-water mark was reset between steps: their largest is the peak
    maxrss_kb = max(maxrss_kb, 1024 * max(peaks.by_step.values()))
print(json.dumps({"read": r.rows_read, "kept": r.rows_kept, "quarantined": r.rows_quarantined,
                  "duplicates": r.rows_duplicate, "maxrss_kb": maxrss_kb, "peak_mib_by_step": peaks.by_step}))
"""

RU_HEADER = ["Номер накладной", "Операция", "Дата отправления", "Станция отправления", "Код станции отправления",
             "Станция назначения", "Код станции назначения", "Наименование груза", "Вес груза, кг", "Номер вагона",
             "Примечание"]  # fmt: skip


def _ingest_in_child(case: Path, kind: str, path: Path) -> dict[str, int]:
    # the default DuckDB share (case/store.py), as a user gets it
    env = {k: v for k, v in os.environ.items() if k != "CARGOTRACE_MEMORY_LIMIT"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, str(case), kind, str(path)],
                          capture_output=True, text=True, env=env, timeout=3600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    info = json.loads(done.stdout.strip().splitlines()[-1])
    info["seconds"] = round(time.perf_counter() - started, 1)
    info["file_gb"] = round(path.stat().st_size / GB, 2)
    print(f"\n{kind}: {json.dumps(info)}")
    return info


def _big_csv(path: Path, size_bytes: int) -> int:
    """Windows-1251 waybill rows, each with a ~2 KB note (a register with free-text remarks):
    wide rows, so the reader's byte bound on chunks is what keeps memory flat. Returns rows."""
    words = "груз следует под охраной сопровождение ведомственной охраны пломбы целы акт составлен".split()
    notes = [
        " ".join(words[(n + k) % len(words)] for k in range(250)) for n in range(len(words))
    ]  # ~2 KB each
    rows = 0
    block_rows = 20_000
    with open(path, "wb") as handle:
        handle.write((";".join(RU_HEADER) + "\r\n").encode("cp1251"))
        while handle.tell() < size_bytes:
            lines = [f"Э{n:09d};отправление;{1 + n % 28:02d}.09.2023;Находка-Восточная;984700;Тихорецкая;"
                     f"515002;Взрывчатые вещества;{20000 + n % 49000},5;24567893;{notes[n % len(notes)]}"
                     for n in range(rows, rows + block_rows)]  # fmt: skip
            handle.write(("\r\n".join(lines) + "\r\n").encode("cp1251"))
            rows += block_rows
    return rows


def _ingest_generated(
    tmp_path: Path, name: str, kind: str, write: Callable[[Path], int]
) -> tuple[int, dict[str, int]]:
    """Write the file, ingest it in a child process, delete it; (rows written, figures)."""
    path = tmp_path / name
    try:
        written = write(path)
        return written, _ingest_in_child(tmp_path / "case", kind, path)
    finally:
        path.unlink(missing_ok=True)


def test_a_5_gb_csv_is_ingested_in_bounded_memory(tmp_path: Path) -> None:
    size = int(float(os.environ.get("CARGOTRACE_BIG_CSV_GB", "5")) * GB)
    rows, info = _ingest_generated(
        tmp_path, "реестр_большой.csv", "shipments", lambda p: _big_csv(p, size)
    )
    assert info["read"] == rows == info["kept"] + info["quarantined"] + info["duplicates"]
    assert info["kept"] == rows
    assert info["maxrss_kb"] / 1024 < PEAK_RSS_BOUND_MB


def _big_nmea(path: Path, size_bytes: int) -> int:
    """A receiver log with tag blocks: position reports of 2,000 ships every 10 s, each
    received by two stations (the second copy is a duplicate the cleaning drops). Returns
    the number of sentences."""
    from pyais.encode import encode_dict

    templates = []
    for ship in range(2000):
        msg = {"type": 1, "mmsi": 273000000 + ship, "lat": 42.7 + ship / 10_000, "lon": 133.0 + ship / 10_000,
               "speed": 0.1 + (ship % 50) / 10, "course": 90.0, "heading": 90, "status": 0}  # fmt: skip
        [sentence] = encode_dict(msg, talker_id="AI", sentence_type="VDM", radio_channel="A")
        templates.append(sentence)
    sentences = 0
    start = 1_700_000_000
    with open(path, "wb") as handle:
        second = 0
        while handle.tell() < size_bytes:
            lines = []
            for _ in range(10):
                second += 1
                blocks = [
                    _tag_block(f"c:{start + second},s:{station}")
                    for station in ("rORBCOMM000", "rORBCOMM001")
                ]
                for ship in range(
                    second % 10, 2000, 10
                ):  # every ship every 10 s, heard by both stations
                    lines.extend(block + templates[ship] for block in blocks)
            handle.write(("\n".join(lines) + "\n").encode("ascii"))
            sentences += len(lines)
    return sentences


def _tag_block(tag: str) -> str:
    checksum = 0
    for ch in tag:
        checksum ^= ord(ch)
    return f"\\{tag}*{checksum:02X}\\"


def test_a_2_gb_nmea_log_is_ingested_in_bounded_memory(tmp_path: Path) -> None:
    pytest.importorskip("pyais")
    size = int(float(os.environ.get("CARGOTRACE_BIG_NMEA_GB", "2")) * GB)
    sentences, info = _ingest_generated(
        tmp_path, "receiver.nmea", "ais", lambda p: _big_nmea(p, size)
    )
    assert info["read"] == sentences == info["kept"] + info["quarantined"] + info["duplicates"]
    assert info["duplicates"] == sentences // 2  # the second station's copies
    assert info["maxrss_kb"] / 1024 < NMEA_PEAK_RSS_BOUND_MB
