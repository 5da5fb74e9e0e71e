"""Satellite detections against AIS at scale: matching (lit) and attribution (dark).

    python benchmarks/bench_detections.py [--positions 1e7] [--detections 1e5] [--workdir DIR]
                                          [--json OUT.json]

Input, generated in DuckDB: `positions / 2000` vessels, 2,000 fixes each every 6 minutes
(8.3 days), each zigzagging at 8-14 kn from its own start in a 20 x 20 degree sea (out 12 h,
back 12 h), dark for 10 hours once (fixes dropped), with a length of 50-300 m. Detections: 60 %
*lit* (a vessel at a random moment of its transmitting time, 100 m off, its length +-5 %),
20 % *dark* (a vessel during its dark hours, on its zigzag), 20 % *noise* (10-25 m, anywhere);
50 detections per scene.

Two subprocesses: the first loads the case and runs the AIS stages the detections need
(track ... gaps, not measured here); the second, on that case opened as a user opens it (the
default DuckDB memory share), runs `detection_matches` and `dark_detections` and reports each
stage's wall time, the rows they made, and the process's peak resident memory (ru_maxrss).
The machine may be shared: the numbers are what was measured, on this machine, once.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FIXES_PER_VESSEL = 2000
STEP_S = 360

POSITIONS = """
INSERT INTO positions (mmsi, timestamp, lat, lon, sog, cog, heading, nav_status, msg_type, source_file, source_row)
WITH v AS (
    SELECT i AS vid, 300000000 + i AS mmsi, 20 + (hash(i, 1) % 2000) / 100.0 AS a_lat,
           120 + (hash(i, 2) % 2000) / 100.0 AS a_lon, (hash(i, 3) % 360) AS course,
           8 + (hash(i, 4) % 600) / 100.0 AS kn, 500 + hash(i, 5) % 1000 AS dark_from
    FROM range({vessels}) t(i)
), f AS (
    SELECT v.*, j, j * {step} / 3600.0 AS h FROM v, range({fixes}) r(j)
    WHERE j NOT BETWEEN dark_from AND dark_from + 99
), placed AS (
    SELECT *, kn * 1.852 * (12 - abs((h % 24) - 12)) AS out_km, (h % 24) < 12 AS outbound FROM f
)
SELECT mmsi, TIMESTAMPTZ '2024-03-01 00:00:00+00' + to_seconds(j * {step}) AS timestamp,
       a_lat + out_km * cos(radians(course)) / 111.2 AS lat,
       a_lon + out_km * sin(radians(course)) / (111.2 * cos(radians(a_lat))) AS lon,
       kn AS sog, CASE WHEN outbound THEN course ELSE (course + 180) % 360 END AS cog,
       NULL, 0, 1, 'bench', j
FROM placed
"""

LENGTHS = """
INSERT INTO vessel_details BY NAME
SELECT 300000000 + i AS mmsi, 'bench vessel ' || i AS vessel_name, 50 + hash(i, 6) % 250 AS length_m,
       'bench' AS source_file, i AS source_row
FROM range({vessels}) t(i)
"""

DETECTIONS = """
INSERT INTO detections BY NAME
WITH d AS (
    SELECT i, hash(i, 7) % {vessels} AS vid, i % 10 AS kind FROM range({detections}) t(i)
), v AS (
    SELECT d.*, 20 + (hash(vid, 1) % 2000) / 100.0 AS a_lat, 120 + (hash(vid, 2) % 2000) / 100.0 AS a_lon,
           (hash(vid, 3) % 360) AS course, 8 + (hash(vid, 4) % 600) / 100.0 AS kn,
           500 + hash(vid, 5) % 1000 AS dark_from, 50 + hash(vid, 6) % 250 AS length_m
    FROM d
), timed AS (
    SELECT *, CASE WHEN kind < 6 THEN (dark_from + 110 + hash(i, 8) % ({fixes} - 220)) % {fixes}
                   ELSE dark_from + 10 + hash(i, 8) % 80 END + 0.5 AS j
    FROM v
), placed AS (
    SELECT *, j * {step} / 3600.0 AS h, kn * 1.852 * (12 - abs(((j * {step} / 3600.0) % 24) - 12)) AS out_km FROM timed
)
SELECT 'b' || i AS detection_id,
       TIMESTAMPTZ '2024-03-01 00:00:00+00' + to_seconds(CAST(j * {step} AS BIGINT)) AS detected_at,
       CASE WHEN kind >= 8 THEN 20 + (hash(i, 9) % 2000) / 100.0
            ELSE a_lat + out_km * cos(radians(course)) / 111.2 + 0.0009 END AS lat,
       CASE WHEN kind >= 8 THEN 120 + (hash(i, 10) % 2000) / 100.0
            ELSE a_lon + out_km * sin(radians(course)) / (111.2 * cos(radians(a_lat))) END AS lon,
       CASE WHEN kind >= 8 THEN 10 + hash(i, 11) % 15
            ELSE length_m * (0.95 + (hash(i, 12) % 100) / 1000.0) END AS length_m,
       0.5 + (hash(i, 13) % 50) / 100.0 AS score, 'scene-' || (i // 50) AS scene_id, 'bench' AS source,
       'bench' AS source_file, i AS source_row
FROM placed
"""


def _rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def prepare(case_dir: Path, positions: int, detections: int) -> dict[str, Any]:
    from cargotrace import workflow
    from cargotrace.analysis.pipeline import run_stages
    from cargotrace.case.store import Case
    from cargotrace.settings import AnalysisSettings

    vessels = max(1, positions // FIXES_PER_VESSEL)
    shape = {
        "vessels": vessels,
        "fixes": FIXES_PER_VESSEL,
        "step": STEP_S,
        "detections": detections,
    }
    workflow.init_case(case_dir)
    with Case.open(case_dir, write=True) as case:
        con = case.con
        started = time.perf_counter()
        con.execute(POSITIONS.format(**shape))
        con.execute(LENGTHS.format(**shape))
        con.execute(DETECTIONS.format(**shape))
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        ran = run_stages(con, AnalysisSettings(), ["all_gaps"])
        ais_s = time.perf_counter() - started
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                  for t in ("positions", "detections", "gaps")}  # fmt: skip
    return {"vessels": vessels, "load_s": round(load_s, 1), "ais_stages": ran,
            "ais_stages_s": round(ais_s, 1), **counts, "prepare_peak_rss_mb": _rss_mb()}  # fmt: skip


def measure(case_dir: Path) -> dict[str, Any]:
    from cargotrace.analysis.pipeline import STAGES, run_stage
    from cargotrace.case.store import Case
    from cargotrace.settings import AnalysisSettings

    by_name = {s.name: s for s in STAGES}
    out: dict[str, Any] = {"stages_s": {}}
    with Case.open(case_dir, write=True) as case:
        con = case.con
        out["memory_limit"] = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]  # type: ignore[index]
        for name in ("detection_matches", "dark_detections"):
            started = time.perf_counter()
            run_stage(con, by_name[name], AnalysisSettings())
            out["stages_s"][name] = round(time.perf_counter() - started, 1)
        out["rows"] = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                       for t in ("detection_matches", "dark_detections", "detection_candidates")}  # fmt: skip
        out["dark_with_best_share_0_8"] = con.execute(
            "SELECT count(*) FROM dark_detections WHERE best_share >= 0.8"
        ).fetchone()[0]  # type: ignore[index]
    out["seconds"] = round(sum(out["stages_s"].values()), 1)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_s"] = round(
        usage.ru_utime + usage.ru_stime, 1
    )  # all threads; wall time on a shared machine
    out["peak_rss_mb"] = _rss_mb()
    return out


def _child(*args: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        raise SystemExit(f"{args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--positions", default="1e7")
    parser.add_argument("--detections", default="1e5")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", type=Path, help="prepare the case in this folder and keep it")
    parser.add_argument("--case", type=Path, help="measure again on a case --keep prepared")
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        print(
            json.dumps(
                prepare(Path(args.prepare), int(float(args.positions)), int(float(args.detections)))
            )
        )
        return
    if args.measure:
        print(json.dumps(measure(Path(args.measure))))
        return
    if args.case:
        prepared = json.loads((args.case / "bench_prepared.json").read_text(encoding="utf-8"))
        print("matching and attributing ...", file=sys.stderr, flush=True)
        result = {**prepared, **_child("--measure", str(args.case))}
    else:
        with tempfile.TemporaryDirectory(dir=args.workdir, prefix="cargotrace-bench-det-") as tmp:
            case_dir = args.keep or Path(tmp) / "case"
            print("preparing the case ...", file=sys.stderr, flush=True)
            prepared = _child("--prepare", str(case_dir), "--positions", args.positions,
                              "--detections", args.detections)  # fmt: skip
            (case_dir / "bench_prepared.json").write_text(json.dumps(prepared), encoding="utf-8")
            print(json.dumps(prepared), file=sys.stderr, flush=True)
            print("matching and attributing ...", file=sys.stderr, flush=True)
            result = {**prepared, **_child("--measure", str(case_dir))}
    print(json.dumps(result, indent=1))
    print(
        f"{result['detections']:,} detections vs {result['positions']:,} positions: "
        f"{result['seconds']} s wall, {result['cpu_s']} s CPU ({result['stages_s']}), peak RSS {result['peak_rss_mb']:,} MB "
        f"(memory_limit {result['memory_limit']})"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
