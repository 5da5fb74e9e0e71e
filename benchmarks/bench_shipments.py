"""End-to-end throughput of `cargotrace ingest shipments` on a big Windows-1251 CSV.

    python benchmarks/bench_shipments.py [--rows 1000000] [--keep DIR] [--profile]

Writes a semicolon-separated Windows-1251 CSV with the Russian headers of a leaked waybill
register (realistic values: stations and ESR codes from the real station list when
``shared/data/rail`` is present, 5- and 6-digit ESR forms, three date formats, weights in kg
with decimal commas and space thousands, consignors with legal forms and INNs, wagon
numbers with their check digits, a few broken and duplicated rows), creates a fresh case,
then runs ``python -m cargotrace ingest shipments FILE --case DIR`` in a subprocess and
reports rows/s and the peak RSS of that subprocess (``ru_maxrss`` of the child).
Targets (issue 16): >= 250,000 rows/s, peak RSS <= 1.5 GB.

Reference, measured in the same run (a subprocess before and one after the ingest, the
faster one reported): DuckDB's own ``CREATE TABLE t AS SELECT * FROM read_csv(FILE)`` into
a new database file, checkpointed. DuckDB reads Windows-1251 only with its `encodings`
extension (a download; the PyPI wheel `duckdb-extension-encodings` 1.5.5 is built for
DuckDB 1.5.5 exactly and refuses to load into 1.5.6, as does `duckdb-extension-spatial`
1.5.5: "built specifically for DuckDB version 'v1.5.5'"), so it reads the same bytes as
Latin-1: the same parse and storage work, one byte per character, the Cyrillic text
mis-decoded (a lower bound on its time).

Where the time goes (1 M rows, Dec 2026, machine loaded, CPU seconds). The main thread only
stores (`stream_load._store_selected`): DuckDB's compressed storage on one thread, ~3.4 for
the 24 columns, of which ~1 the `attributes` JSON (FSST) and ~0.25 building it from the
unmapped cells (`TabularKind.stored`); the look-up of earlier copies reads the file's hashes
and other files' rows only (it scanned the file's own stored rows per chunk, ~0.4-0.7). The
thread that reads the next chunk (`readers/read_ahead`) parses the Windows-1251 bytes and
transcodes them per column (`readers/single_byte`, ~0.8-1.0 against ~0.9-1.0 transcoding
first, best of three), types the chunk (`stream_load.type_chunk`: trimming and lookups
~0.7, the kind's SELECT ~1.0: reasons, weights, flags), the md5 row hashes (~1.0) on a
third. The reference's whole read_csv -> table takes 4.1-4.5 CPU s quiet.

Storing alone (Dec 2026, session 13: the 1 M stored rows read back and inserted again into a
fresh table in chunks of 245,760 rows on one DuckDB thread, CPU s of insert + commit, machine
at load 3-6 so +-0.3): 3.7 with DuckDB's default of five row groups buffered, 3.2 with one
(`stream_load.FLUSHED_ROW_GROUPS`, landed; end to end the gain is inside the noise at that
load). What-ifs not taken: FSST disabled 2.7 but the case file 84 MB against 51; DuckDB's
threads at 2 more CPU (5-7, 54 MB; in the ingest 14.3-14.6 CPU s, peak 1.2 GB, a 100 MB
file); low-cardinality columns handed as Arrow dictionaries +0.5, and the derived ones
(`shipment_lookups.spread`) decoded before the insert no gain and +60 MB peak; compression
forced per column (row_hash and waybill FSST, attributes dictionary) within the noise.
`attributes` alone costs ~1.0 and `row_hash` alone ~1.1 of the 3.2. The first parameterised
DuckDB statement of a process imports pandas (~0.45 s of the ingest's wall under cProfile).
`--profile` runs the child under cProfile.

Session 14 (Dec 2026, machine at load 3.6-5 throughout: wall times and their ratios swing
by 2x between runs, so CPU seconds and a storing-only measure are what told). Taken:
* The parties' INNs in columns of their own (`consignor_inn`, `consignee_inn`, schema 4)
  instead of merged into `attributes`, which keeps the unmapped cells only (NULL in 99 %
  of this file's rows): no JSON built or merged per row, none stored. Ingest CPU 13.2 ->
  11.0-12.4 s; peak RSS 821 -> 782-790 MB.
* `row_hash` as a number (UHUGEINT, `md5_number`; schema 5) instead of 32 hex digits; it
  crosses Arrow as two UBIGINT halves. Storing alone (the 1 M stored rows inserted again on
  one DuckDB thread, as above, three pairs alternated): 3.61-3.85 -> 3.37-3.49 CPU s, case
  file 50.9 -> 48.8 MB. End to end inside the noise (CPU 11.1-13.1 against 10.8-11.7 s for
  the INN step alone, two pairs each); peak RSS 785-798 -> 711-739 MB.
Both together, same run, load 6-8 (20:00 UTC): ingest CPU 11.15 / 11.48 s against the
reference's 6.25 / 6.18 (1.78x / 1.86x; before this session 13.36 / 6.60 = 2.02x and
13.24 / 6.66 = 1.99x); wall 1.70x / 1.93x of the reference (both crawling at that load);
peak RSS 709 / 714 MB.
Measured, not taken: DuckDB's storage of the 1 M rows now chooses Dictionary for every
text column and leaves `waybill` uncompressed (`pragma_storage_info`): FSST is analysed
and never chosen (its analysis ~10 % of the storing samples under py-spy), yet
`disabled_compression_methods = 'fsst'` grows the file 49 -> 62 MB (DuckDB's dictionary
pages compress their strings with FSST) for 3.26-3.38 against 3.69-4.13 CPU s of storing;
disabling `dict_fsst` or `dictionary` instead: no gain, or a 122 MB file. What is left on
the main thread (py-spy, 100 Hz): the checkpointing of row groups (~63 % of the storing:
dictionary analysis and compression, FSST analysis, string statistics), the appends
(~18 %), the rest the statement. The thread that reads and types ahead waits for it most of
the time: storing on one DuckDB thread is the bound, and DuckDB's own read_csv stores on
both cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HEADER = [
    "Номер накладной", "Операция", "Дата отправления", "Станция отправления",
    "Код станции отправления", "Станция назначения", "Код станции назначения",
    "Наименование груза", "Код груза", "Вес груза, кг", "Грузоотправитель",
    "Грузополучатель", "Номер вагона", "Примечание",
]  # fmt: skip
CARGO = [
    ("Уголь каменный", "161005"), ("УГОЛЬ КАМЕННЫЙ", "161005"), ("уголь каменный марки ДР", "161005"),
    ("Контейнеры", "941012"), ("Пиломатериалы хвойных пород", "081004"), ("Мазут топочный", "221084"),
    ("Руда железная", "141001"), ("Щебень", "231003"), ("Зерно пшеницы", "011005"),
    ("Удобрения минеральные", "434002"), ("Цемент", "241004"), ("Металлолом", "321008"),
    ("Взрывчатые вещества", "731006"), ("ВВ", "731006"), ("взрывчатые материалы", "731014"),
    ("ВВ промышленные", "731203"), ("Аммонит 6ЖВ", "731207"), ("Боеприпасы", "731101"),
]  # fmt: skip
FORMS = ["ООО", "АО", "ПАО", "ЗАО", "ФГУП", "ФКУ"]
WORDS = [
    "Восток",
    "Транзит",
    "Уголь",
    "Логистик",
    "Сибирь",
    "Порт",
    "Снаб",
    "Трейд",
    "Терминал",
    "Ресурс",
]
FALLBACK_STATIONS = [
    ("985906", "Находка-Восточная"), ("983406", "Дунай"), ("520102", "Тихорецкая"), ("539306", "Моздок"),
    ("614704", "Котлубань"), ("237401", "Киржач"), ("870000", "Кемерово-Сортировочная"),
    ("864902", "Междуреченск"), ("982403", "Артём-Приморский 1"), ("988306", "Уссурийск"),
]  # fmt: skip


def shared_rail() -> Path:
    root = os.environ.get("CARGOTRACE_SHARED_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[2] / "shared" / "data"
    return base / "rail" / "RU_stations_new.tsv"


def stations() -> list[tuple[str, str]]:
    """(6-digit ESR, name) of real stations when the shared list is present."""
    path = shared_rail()
    if not path.exists():
        return FALLBACK_STATIONS
    with open(path, encoding="utf-8") as handle:
        rows = [(r["esr"].zfill(6), r["name"]) for r in csv.DictReader(handle, delimiter="\t")]
    return [r for r in rows if len(r[0]) == 6 and r[1]][:3000]


def _inn10(rng: np.random.Generator) -> str:
    digits = [int(d) for d in rng.integers(0, 10, size=9)]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return "".join(map(str, digits)) + str(
        sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 % 10
    )


def _wagon(rng: np.random.Generator) -> str:
    seven = f"{int(rng.choice([2, 4, 6, 7]))}{int(rng.integers(0, 1_000_000)):06d}"
    total = 0
    for digit, weight in zip(seven, (2, 1, 2, 1, 2, 1, 2), strict=True):
        p = int(digit) * weight
        total += p // 10 + p % 10
    return seven + str((10 - total % 10) % 10)


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Write `rows` data rows (plus the header) as Windows-1251, `;`-separated."""
    rng = np.random.default_rng(seed)
    st = stations()
    parties = []
    for i in range(400):
        name = f"{FORMS[i % len(FORMS)]} «{WORDS[i % 10]}-{WORDS[(i // 10) % 10]} {i}»"
        parties.append(f"{name} ИНН {_inn10(rng)}" if i % 3 == 0 else name)
    wagons = [_wagon(rng) for _ in range(20_000)]
    days = np.datetime64("2022-01-01") + rng.integers(0, 700, size=rows)
    origin = rng.integers(0, len(st), size=rows)
    dest = rng.integers(0, len(st), size=rows)
    cargo = rng.integers(0, len(CARGO), size=rows)
    kg10 = rng.integers(100_000, 700_000, size=rows)
    fmt = rng.uniform(size=rows)
    kgfmt = rng.uniform(size=rows)
    short = rng.uniform(size=rows)
    cons = rng.integers(0, len(parties), size=(rows, 2))
    wag = rng.integers(0, len(wagons), size=rows)
    arrival = rng.uniform(size=rows) < 0.05
    with open(path, "w", encoding="cp1251", newline="") as handle:
        handle.write(";".join(HEADER) + "\r\n")
        lines = []
        for i in range(rows):
            day = str(days[i])
            y, m, d = day[:4], day[5:7], day[8:10]
            date = f"{d}.{m}.{y}" if fmt[i] < 0.6 else (day if fmt[i] < 0.8 else f"{d}.{m}.{y[2:]}")
            kg, tenth = divmod(int(kg10[i]), 10)
            body = f"{kg:,}".replace(",", " ") if kgfmt[i] < 0.3 else str(kg)
            weight = f"{body},{tenth}" if tenth else body
            o_esr, o_name = st[origin[i]]
            d_esr, d_name = st[dest[i]]
            if short[i] < 0.1:
                o_esr = o_esr[:5] if o_esr[0] != "0" else o_esr[1:]
            text, code = CARGO[cargo[i]]
            waybill = f"Э{'АБВГ'[i % 4]}{i:07d}"
            fields = [waybill, "прибытие" if arrival[i] else "отправление", date, o_name, o_esr, d_name, d_esr,
                      text, code, weight, parties[cons[i, 0]], parties[cons[i, 1]], wagons[wag[i]],
                      "срочно" if i % 97 == 0 else ""]  # fmt: skip
            if i % 5000 == 1:
                fields[2] = "31.02.2023"  # impossible date: quarantined
            if i % 7001 == 2:
                fields[0] = ""  # no waybill: quarantined
            line = ";".join(f'"{f}"' if ";" in f else f for f in fields)
            lines.append(line)
            if i % 10_000 == 3:
                lines.append(line)  # an exact duplicate
            if len(lines) >= 50_000:
                handle.write("\r\n".join(lines) + "\r\n")
                lines = []
        if lines:
            handle.write("\r\n".join(lines) + "\r\n")


CHILD = """
import json, os, resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
from cargotrace import workflow
t1, c1 = time.perf_counter(), time.process_time()
[r] = workflow.ingest(Path(sys.argv[1]), "shipments", [Path(sys.argv[2])])
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"import_s": t1 - t0, "ingest_s": t2 - t1, "ingest_cpu_s": c2 - c1, "rows_read": r.rows_read,
                  "kept": r.rows_kept, "quarantined": r.rows_quarantined, "duplicates": r.rows_duplicate,
                  "reader": r.detail.get("reader"), "load": os.getloadavg()[0],
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


REFERENCE = """
import json, os, sys, time
import duckdb
con = duckdb.connect(sys.argv[1])
t0, c0 = time.perf_counter(), time.process_time()
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, encoding = 'latin-1')", [sys.argv[2]])
con.execute("CHECKPOINT")
rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
print(json.dumps({"s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "rows": rows,
                  "load": os.getloadavg()[0]}))
"""


def reference(path: Path, work: Path) -> dict[str, float]:
    """DuckDB's read_csv of the same file into a new database (see the module docstring)."""
    database = work / "reference.duckdb"
    database.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-c", REFERENCE, str(database), str(path)],
                          check=True, capture_output=True, text=True)  # fmt: skip
    database.unlink(missing_ok=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(path: Path, work: Path, profile: bool) -> dict[str, float]:
    case = work / "case"
    subprocess.run(
        [sys.executable, "-m", "cargotrace", "init", "--case", str(case)],
        check=True,
        capture_output=True,
    )
    args = [sys.executable]
    if profile:
        args += ["-m", "cProfile", "-s", "cumtime"]
        script = work / "child.py"
        script.write_text(CHILD, encoding="utf-8")
        args += [str(script)]
    else:
        args += ["-c", CHILD]
    started = time.perf_counter()
    done = subprocess.run([*args, str(case), str(path)], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    child_rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    lines = done.stdout.strip().splitlines()
    info = json.loads(next(line for line in lines if line.startswith("{")))
    if profile:
        print("\n".join(lines[:80]))
    info.update({"wall_s": wall, "children_maxrss_kb": child_rss_kb})
    return info


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="Keep the input and the case in this folder.")
    parser.add_argument("--profile", action="store_true", help="Run the child under cProfile.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        path = work / "shipments_cp1251.csv"
        if not path.exists():
            started = time.perf_counter()
            generate(path, args.rows)
            print(
                f"generated {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s"
            )
        if (work / "case").exists():
            import shutil

            shutil.rmtree(work / "case")
        load_before = os.getloadavg()[0]
        before = reference(path, work)
        info = run(path, work, args.profile)
        after = reference(path, work)
    ref = min(before, after, key=lambda r: r["s"])
    rows = info["rows_read"]
    print(
        f"rows read {rows:,} = kept {info['kept']:,} + quarantined {info['quarantined']:,} + duplicates {info['duplicates']:,}"
    )
    print(
        f"ingest (in process, {info['reader']} CSV reader): {info['ingest_s']:.2f} s = {rows / info['ingest_s']:,.0f} rows/s"
    )
    print(
        f"CPU time of the ingest (all threads): {info['ingest_cpu_s']:.2f} s = {rows / info['ingest_cpu_s']:,.0f} rows per CPU-second"
    )
    print(
        f"reference, same run: DuckDB read_csv -> table of the same file: {ref['s']:.2f} s = "
        f"{ref['rows'] / ref['s']:,.0f} rows/s (CPU {ref['cpu_s']:.2f} s; runs before/after the ingest "
        f"{before['s']:.2f} s / {after['s']:.2f} s); ingest / reference time = "
        f"{info['ingest_s'] / ref['s']:.2f}x"
    )
    print(
        f"machine load average (1 min), {os.cpu_count()} CPUs: {load_before:.2f} before the runs, "
        f"{info['load']:.2f} at the end of the ingest"
    )
    print(
        f"end to end (subprocess incl. interpreter start and imports): {info['wall_s']:.2f} s = {rows / info['wall_s']:,.0f} rows/s"
    )
    print(
        f"peak RSS of the ingest process: {info['maxrss_kb'] / 1024:,.0f} MB (target <= 1,536 MB)"
    )


if __name__ == "__main__":
    main()
