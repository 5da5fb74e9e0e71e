"""Throughput of the vectorised NMEA AIS decoder against pyais, plus a big-file memory run.

    python benchmarks/bench_nmea.py [--sentences N] [--pyais-sentences M] [--repeat R]
                                    [--big-gb X] [--ingest] [--profile FILE]

The input is built by repeating the real logs under ``shared/data/ais`` (tag blocks,
trailing receiver metadata, comments and proprietary sentences included) until it holds
at least ``N`` AIS sentences.  Both decoders read a file from the page cache: pyais via
``FileReaderStream`` + ``decode()`` of every message (on the first ``M`` sentences, since it
is slow), ours via ``decode_nmea_file`` on all of them (and on two threads,
``decode_nmea_file_on``); each is timed ``R`` times and the best run counts (the machine
may be shared).  ``--big-gb`` writes a file of that size,
decodes it streaming in a fresh subprocess and reports its peak RSS (``ru_maxrss``).
The decoder's kernels are compiled by Numba on their first call and cached on disk: a tiny
decode warms them before anything is timed, and the first lines report, each in a fresh
interpreter with an empty cache directory of its own, the seconds of ``import numba``, of
the first decode (compiling) and of the first decode once cached (loading).
``--ingest`` also times ``cargotrace ingest ais`` of the whole input end to end (a fresh case,
in a subprocess: storage, duplicates, speeds and the commit included, imports and the
kernels' loading from the cache not: the compile lines give those) and
reports it against pyais's decoding speed of the same run (target >= 10x), with the peak RSS
of that subprocess and the wall and CPU seconds of its phases (the reading, each pass after
it, "writing to the case": the ledger and the commit) (``--profile FILE`` runs it under cProfile). The ingest decodes on two threads
while the main thread stores (ingest/nmea/load.py): its CPU seconds count every thread.

Measured and tried (1.5 M sentences; A/B runs of the ingest alternated in one shell, the
machine shared, load 2-7 on 2 CPUs; CPU seconds per thread from /proc, per function from
``time.thread_time``): of ~3.0 CPU-s, the decoding threads took 1.2-1.9, the read-ahead
0.3-0.45, the quarantine part's writer 0.25-0.35 (zstd of the refused sentences: 0.06 s
uncompressed, 57 MB instead of 15; zstd level -1 0.23 s, lz4 0.25, snappy 0.20 at 25 MB:
not taken), hashing 0.09, the main thread ~1.15 (inserts into the stage 0.17-0.19, the
identity reports' insert 0.10-0.15, the duplicates' pass 0.10-0.20, stations and append
0.05-0.08, identity checks 0.07-0.12, the commit's checkpoint 0.16: DuckDB compressing
vessel_reports' 80,000 rows of text).
* Taken: an NMEA log's identity reports checked as they are stored, once per (MMSI, IMO)
  (`Statics.flush`, `ais_clean.checked_reports_sql`), instead of an UPDATE of the file's
  reports at its end: the phase "checking identity reports" 0.15-0.17 -> 0.02 CPU-s, the
  insert 0.10 -> 0.14. Checking every kept row in the insert's statement (a CTE over the
  kept rows, inlined three times: 0.10 -> 0.34; materialized 0.23-0.26) was not taken.
* Taken: the stage's inserts run in the frame DuckDB's replacement scan reads by default,
  without `local_scans`' two statements (SET/RESET) per group: the inserts' thread CPU
  0.16-0.19 -> 0.14-0.18 s (5 runs, within the noise of the load).
* Tried, not taken: a stable argsort of the key hashes instead of the duplicates' lexsort
  (stage in file order): 27 -> 50 ms (NumPy's stable sort of uint64 is slower than the
  lexsort's three); the identity reports without a time split from the rest in Arrow before
  their statement (38 instead of 55 ms in DuckDB, the filter 18 ms more on the main thread);
  `s` MATERIALIZED in the reports' statement (no change); STATIC_ROWS 25,000 instead of
  200,000 (the reports' statements during the reading, overlapped: CPU median 3.07-3.35 vs
  3.16-3.51 s, not told apart from the load); zstd level -1/-3 or lz4/snappy for the part
  (above). Not tried: a higher `checkpoint_threshold` would only move DuckDB's checkpoint
  from the commit to the case's close, which the ingest includes.
* Left: the read-ahead thread (0.3-0.45 CPU-s, on the serial path: finding newlines 0.06 s,
  copying the file's bytes into batches ~0.1 s, assembling messages), the decoding threads'
  judging (~1/3 of their samples: the rules' Arrow compute and the refused sentences'
  texts), the stage (inserting 370,000 positions to drop 362,000 copies after the file: an
  Arrow-side dedupe before the stage would take both, within the memory bound).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SOURCES = [
    ("aisdb", "test_data_20211101.nm4"),
    ("aisdb", "test_data_201201.nmea"),
    ("amsa", "ais.txt.gz"),
    ("amsa", "exact-earth-augmented-3.txt"),
    ("gpsd", "sample.aivdm"),
]


def shared_ais_dir() -> Path:
    root = os.environ.get("CARGOTRACE_SHARED_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[2] / "shared" / "data"
    return base / "ais"


def real_lines() -> list[bytes]:
    """All lines of the real logs (one copy of each file, in order)."""
    lines: list[bytes] = []
    for folder, name in SOURCES:
        path = shared_ais_dir() / folder / name
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            lines.extend(fh.read().splitlines())
    return lines


def is_sentence(line: bytes) -> bool:
    stripped = line.lstrip()
    return (b"VDM" in line or b"VDO" in line) and not stripped.startswith((b"#", b"$"))


def build_input(lines: list[bytes], sentences: int) -> list[bytes]:
    """Repeat the real logs until they hold at least ``sentences`` AIS sentences."""
    per_copy = sum(1 for x in lines if is_sentence(x))
    copies = -(-sentences // per_copy)
    return lines * copies


def write_lines(path: Path, lines: list[bytes]) -> None:
    with open(path, "wb") as fh:
        fh.write(b"\n".join(lines) + b"\n")


def prefix_with_sentences(lines: list[bytes], sentences: int) -> list[bytes]:
    count = 0
    for i, line in enumerate(lines):
        count += is_sentence(line)
        if count >= sentences:
            return lines[: i + 1]
    return lines


def time_pyais(path: Path) -> tuple[int, float]:
    messages, seconds, _ = time_pyais_cpu(path)
    return messages, seconds


def time_pyais_cpu(path: Path) -> tuple[int, float, float]:
    """Messages pyais decodes, wall seconds and CPU seconds."""
    from pyais.stream import FileReaderStream

    start, cpu = time.perf_counter(), time.process_time()
    messages = 0
    for msg in FileReaderStream(str(path)):
        try:
            msg.decode()
        except Exception:  # noqa: BLE001, S112 - unsupported types count as not decoded
            continue
        messages += 1
    return messages, time.perf_counter() - start, time.process_time() - cpu


def time_ours(path: Path) -> tuple[int, int, float]:
    from cargotrace.ingest.nmea.decoder import decode_nmea_file

    start = time.perf_counter()
    messages = decoded = 0
    for batch in decode_nmea_file(path):
        messages += batch.stats.messages
        decoded += batch.stats.decoded
    return messages, decoded, time.perf_counter() - start


def time_ours_threaded(path: Path, threads: int) -> tuple[int, float]:
    """Messages and wall seconds of the decoder on `threads` threads (as the ingest runs it,
    without the judging)."""
    from cargotrace.ingest.nmea.decoder import decode_nmea_file_on

    start = time.perf_counter()
    messages = sum(decode_nmea_file_on(path, threads, lambda b: b.stats.messages, 50_000))
    return messages, time.perf_counter() - start


def child_decode(path: str) -> None:
    """Run in a fresh interpreter so that ru_maxrss measures the decode alone."""
    from cargotrace.ingest.nmea.decoder import decode_nmea_file

    start = time.perf_counter()
    messages = rows = 0
    for batch in decode_nmea_file(path):
        messages += batch.stats.messages
        rows += batch.positions.num_rows + batch.statics.num_rows
    elapsed = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{messages} {rows} {elapsed:.3f} {peak_kb}")


WARM_LINES = [  # a tiny decode (real lines): every kernel's first call, compiled or cached
    r"\g:1-2-3454,s:41925,c:1635731893,t:1635731965*19\!AIVDM,2,1,2,,57`B?hl2CdtQ`lO;SK9L4Tl5"
    "@62222222222220l1@>666QVS>1jDhSl,0*20",
    r"\g:2-2-3454*5B\!AIVDM,2,2,2,,SQH888888888880,2*15",
    "!AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0*30,d-080,S2118,t050056.00,T56.4837741,"
    "r003669946,1325394060,1325394001",
]

COMPILE = """
import json, sys, time
t0 = time.perf_counter()
import numba
t1 = time.perf_counter()
from cargotrace.ingest.nmea.decoder import decode_lines
t2 = time.perf_counter()
decode_lines(json.loads(sys.argv[1]))
t3 = time.perf_counter()
print(json.dumps({"import_numba": t1 - t0, "import_decoder": t2 - t1, "first_decode": t3 - t2}))
"""


def compile_runs(tmp: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds of `import numba`, of the decoder's import and of its first decode, in a fresh
    interpreter with an empty Numba cache (compiling), then again with that cache (loading)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp / "numba-cache"))

    def run() -> dict[str, float]:
        done = subprocess.run(
            [sys.executable, "-c", COMPILE, json.dumps(WARM_LINES)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        return dict(json.loads(done.stdout.splitlines()[-1]))

    return run(), run()


INGEST = """
import json, resource, sys, time
from pathlib import Path
from cargotrace import workflow

class Phases:  # the ingest's stages (StageProgress): wall and CPU seconds of each
    def __init__(self):
        self.marks = [("reading", time.perf_counter(), time.process_time())]
    def __call__(self, n):
        pass
    def stage(self, what, step, steps):
        self.marks.append((what, time.perf_counter(), time.process_time()))
    def spans(self, end, end_cpu):
        ends = [(t, c) for _, t, c in self.marks[1:]] + [(end, end_cpu)]
        return [(what, t1 - t, c1 - c) for (what, t, c), (t1, c1) in zip(self.marks, ends)]

from cargotrace.ingest.nmea import load  # imported, its kernels loaded: not timed
from cargotrace.ingest.nmea.decoder import decode_lines
decode_lines(["!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5D"])
workflow.init_case(Path(sys.argv[1]))
phases = Phases()
t0, c0 = time.perf_counter(), time.process_time()
[r] = workflow.ingest(Path(sys.argv[1]), "ais", [Path(sys.argv[2])], progress=phases)
s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"s": s, "cpu_s": cpu_s, "rows_read": r.rows_read, "kept": r.rows_kept,
                  "quarantined": r.rows_quarantined, "duplicates": r.rows_duplicate,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "phases": phases.spans(t0 + s, c0 + cpu_s)}))
"""


def ingest_run(path: Path, tmp: Path, profile: Path | None) -> dict[str, Any]:
    """`workflow.ingest` of the file into a fresh case, in a subprocess."""
    command = [sys.executable, "-c", INGEST]
    if profile:
        script = tmp / "bench_nmea_ingest_child.py"
        script.write_text(INGEST, encoding="utf-8")
        command = [sys.executable, "-m", "cProfile", "-o", str(profile), str(script)]
    done = subprocess.run(
        [*command, str(tmp / "case"), str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(next(x for x in done.stdout.splitlines() if x.startswith("{")))


def big_file_run(lines: list[bytes], gigabytes: float, tmp: Path) -> None:
    path = tmp / "big.nmea"
    block = b"\n".join(lines) + b"\n"
    target = int(gigabytes * (1 << 30))
    with open(path, "wb") as fh:
        written = 0
        while written < target:
            fh.write(block)
            written += len(block)
    size = path.stat().st_size
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, __file__, "--child-decode", str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout.split()
    messages, rows, elapsed, peak_kb = int(out[0]), int(out[1]), float(out[2]), int(out[3])
    print(f"big file        : {size / (1 << 30):.2f} GiB, {messages:,} messages, {rows:,} rows")
    print(
        f"  streaming     : {elapsed:.1f} s = {messages / elapsed:,.0f} msgs/s, "
        f"{size / elapsed / (1 << 20):.0f} MiB/s"
    )
    print(f"  peak RSS      : {peak_kb / 1024:.0f} MiB (child process, ru_maxrss)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1_000_000)
    parser.add_argument("--pyais-sentences", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big-gb", type=float, default=0.0)
    parser.add_argument("--ingest", action="store_true", help="time `ingest ais` end to end")
    parser.add_argument("--profile", type=Path, help="cProfile output of the ingest here")
    parser.add_argument("--child-decode", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_decode:
        child_decode(args.child_decode)
        return

    lines = real_lines()
    data = build_input(lines, args.sentences)
    n_sent = sum(1 for x in data if is_sentence(x))
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        ours_path, pyais_path = tmp / "all.nmea", tmp / "subset.nmea"
        write_lines(ours_path, data)
        subset = prefix_with_sentences(data, args.pyais_sentences)
        write_lines(pyais_path, subset)
        n_sub = sum(1 for x in subset if is_sentence(x))

        cold, warm = compile_runs(tmp)
        print(
            f"numba           : import numba {cold['import_numba']:.2f} s; the decoder's first "
            f"decode {cold['first_decode']:.2f} s compiling (empty cache), "
            f"{warm['first_decode']:.2f} s loaded from the cache (import numba then "
            f"{warm['import_numba']:.2f} s, the decoder's modules {warm['import_decoder']:.2f} s)"
        )
        from cargotrace.ingest.nmea.decoder import decode_lines

        decode_lines(WARM_LINES)  # the kernels compiled or loaded before anything is timed
        time_ours(pyais_path)  # warm-up (imports, page cache)
        runs = [time_ours(ours_path) for _ in range(max(1, args.repeat))]
        messages, decoded, elapsed = min(runs, key=lambda r: r[2])
        ours_rate = messages / elapsed
        print(
            f"input           : {len(data):,} lines, {n_sent:,} AIS sentences; load average "
            f"(1 min) {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs at the start"
        )
        print(
            f"cargotrace      : {messages:,} messages ({decoded:,} of decoded types) "
            f"in {elapsed:.2f} s = {ours_rate:,.0f} msgs/s"
        )
        threaded = min(
            (time_ours_threaded(ours_path, 2) for _ in range(max(1, args.repeat))),
            key=lambda r: r[1],
        )
        py_runs = [time_pyais_cpu(pyais_path) for _ in range(max(1, args.repeat))]
        py_messages, py_elapsed, _ = min(py_runs, key=lambda r: r[1])
        py_rate = py_messages / py_elapsed
        py_cpu_rate = py_messages / min(r[2] for r in py_runs)
        print(
            f"pyais           : {py_messages:,} messages from {n_sub:,} sentences "
            f"in {py_elapsed:.2f} s = {py_rate:,.0f} msgs/s"
        )
        print(f"speed-up        : {ours_rate / py_rate:.1f}x (best of {args.repeat} runs each)")
        threaded_rate = threaded[0] / threaded[1]
        print(
            f"  on 2 threads  : {threaded[0]:,} messages in {threaded[1]:.2f} s = "
            f"{threaded_rate:,.0f} msgs/s = {threaded_rate / py_rate:.1f}x pyais "
            "(50,000-line blocks, as the ingest decodes)"
        )
        if args.ingest:
            info = ingest_run(ours_path, tmp, args.profile)
            rate = info["rows_read"] / info["s"]
            print(
                f"ingest ais      : {info['rows_read']:,} messages read = {info['kept']:,} kept + "
                f"{info['quarantined']:,} quarantined + {info['duplicates']:,} duplicates "
                f"in {info['s']:.2f} s = {rate:,.0f} msgs/s = {rate / py_rate:.1f}x pyais "
                f"(target >= 10x), peak RSS {info['maxrss_kb'] / 1024:,.0f} MB"
            )
            print(  # the reading (decoding on two threads, storing), each pass after it, the commit
                "  phases        : "
                + ", ".join(f"{w} {sec:.2f} s ({cpu:.2f} CPU-s)" for w, sec, cpu in info["phases"])
            )
            cpu_rate = info["rows_read"] / info["cpu_s"]
            print(  # CPU seconds (all threads) depend much less on the machine's load
                f"  CPU seconds   : {info['cpu_s']:.2f} = {cpu_rate:,.0f} msgs per CPU-s = "
                f"{cpu_rate / py_cpu_rate:.1f}x pyais's {py_cpu_rate:,.0f}; "
                f"load average (1 min) {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
            )
        if args.big_gb > 0:
            big_file_run(lines, args.big_gb, tmp)


if __name__ == "__main__":
    main()
