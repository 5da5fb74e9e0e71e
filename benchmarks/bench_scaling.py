"""How the maritime stages scale: DuckDB (the default engine) and Spark local, same stages.

    python benchmarks/bench_scaling.py [--duckdb-sizes 1e6 1e7 1e8] [--spark-sizes 1e6 1e7]
                                       [--duckdb-sql-sizes 1e7] [--spark-sql-sizes 1e7]
                                       [--workdir DIR] [--json OUT.json] [--duckdb-memory 2GB]

Input: generated positions written once per size as Parquet (zstd), the same files for both
engines. Vessels shuttle between two ports of their own (4 vessels per port pair, 3-minute
fixes, 5,000 fixes per vessel, so the number of vessels grows with the size and the work per
vessel stays the same): three hours moored, an hour's passage, two and a half hours stopped
at sea next to the vessel that shares its schedule (an encounter; elsewhere the two keep
3-4 km apart), an hour's passage, three hours moored at the other port, 4.5 hours back; one vessel in fifty goes dark for eight
hours once. So every stage has work: port calls, gaps, encounters, and shared-MMSI checks.

Engines: `duckdb` and `spark` run the default (the NumPy kernels of track and port zones,
in vessel partitions; on Spark through mapInArrow), `duckdb-sql` and `spark-sql` the stage
SQL (`maritime_kernel=sql`) for the same stages.

Measured per (engine, size), each in a fresh subprocess: wall time of the stages (the Spark
engine's share of `analyze`: track, identity, ships, port zones, observed calls, gaps' SQL,
encounters, loitering, interference), after loading the Parquet into a case's positions
table (untimed on both engines); Spark, as `analyze --engine spark` runs: the export of the
job's inputs from the case (the positions in bucket files of whole vessels for the kernels)
timed as the stage `export`, while the session starts on a thread (since 2026-12-07 14:00
UTC, as analyze does; the wait for it after the export is the stage `session`, so the
start-up is included in the stages' time; `startup_s`, the session's own start-up, overlapped,
is reported apart), registering the positions as `positions` (with the stage SQL:
read, trimmed and kept in vessel partitions);
CPU seconds over the same span (this process's threads, plus on Spark the JVM's, its Python
daemon's and workers', which run the kernels, sampled on a thread so that an exited worker
keeps its share: a shared machine stretches wall time, CPU time much less), per stage too; throughput in
positions per second; peak resident memory (DuckDB: the highest of the per-stage peaks, VmHWM reset before
each stage, with each stage's CPU seconds, peak and SQL statement times, and the load's peak apart; Spark: the
VmHWM of the driver JVM and of the Python workers it forked, plus the Python driver's
ru_maxrss); between consecutive sizes, the growth exponent log(t2/t1)/log(n2/n1) (1.0 =
linear) of wall and of CPU time; vCPU-hours per billion positions (wall x vCPUs) and CPU-hours
per billion positions; the load average when the run ended. Spark runs local[2] with a 2 GB
driver and memory checkpoints. The machine may be shared: the numbers are what was
measured, on this machine, once.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FIXES_PER_VESSEL = 5000
VESSELS_PER_PORT = 4
STEP_S = 180

GENERATE = """
COPY (
  WITH v AS (
    SELECT i AS vid, 200000000 + i AS mmsi, i // {per_port} AS port, (i % 2) * 37 AS phase0,
           -50 + ((i // {per_port}) % 200) * 0.5 AS a_lat, -170 + ((i // {per_port}) // 200) * 0.5 AS a_lon
    FROM range({vessels}) t(i)
  ), f AS (
    SELECT v.*, j, (j + phase0) % 300 AS phase FROM v, range({fixes}) r(j)
  ), shaped AS (
    SELECT *,
      CASE WHEN phase < 60 THEN 0.0                                   -- moored at A (3 h)
           WHEN phase < 80 THEN (phase - 60) / 20.0 * 0.5             -- to sea (1 h)
           WHEN phase < 130 THEN 0.5                                  -- stopped at sea (2.5 h)
           WHEN phase < 150 THEN 0.5 + (phase - 130) / 20.0 * 0.5     -- on to B (1 h)
           WHEN phase < 210 THEN 1.0                                  -- moored at B (3 h)
           ELSE 1.0 - (phase - 210) / 90.0 END AS frac,               -- back to A (4.5 h)
      ((hash(vid, j) % 1000) / 1000.0 - 0.5) * 0.0004 AS jitter
    FROM f
  )
  SELECT mmsi, TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(j * {step} + (vid % 60)) AS "timestamp",
         a_lat + frac * 0.4 + jitter AS lat,
         a_lon + 0.12 * frac + jitter + CASE WHEN phase >= 80 AND phase < 130 THEN 0.0 ELSE ((vid // 2) % 2) * 0.05 END AS lon,
         CASE WHEN phase < 60 OR (phase >= 80 AND phase < 130) OR (phase >= 150 AND phase < 210) THEN 0.1 ELSE 12.0 END AS sog,
         CAST(0.0 AS DOUBLE) AS cog, CAST(NULL AS SMALLINT) AS heading, CAST(NULL AS SMALLINT) AS nav_status,
         CAST(1 AS SMALLINT) AS msg_type, 'bench' AS source_file, j AS source_row
  FROM shaped
  WHERE NOT (vid % 50 = 0 AND j BETWEEN 2000 AND 2160)                  -- 8 hours dark
) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
"""

PORTS = """
SELECT 'ZZ' || lpad(CAST(p AS VARCHAR), 6, '0') || side AS locode, 'bench port ' || p || side AS name,
       CASE WHEN p % 7 = 0 THEN 'KP' ELSE 'ZZ' END AS country,
       -50 + (p % 200) * 0.5 + (CASE side WHEN 'A' THEN 0.0 ELSE 0.4 END) AS lat,
       -170 + (p // 200) * 0.5 + (CASE side WHEN 'A' THEN 0.0 ELSE 0.12 END) AS lon,
       6.0 AS radius_km
FROM range({ports}) t(p), (VALUES ('A'), ('B')) s(side)
"""


def generate(path: Path, size: int) -> dict[str, int]:
    import duckdb

    vessels = max(VESSELS_PER_PORT, size // FIXES_PER_VESSEL)
    if not path.exists():  # written aside, then renamed: a killed run leaves no half file here
        partial = path.with_name(path.name + ".partial")
        con = duckdb.connect()
        con.execute(GENERATE.format(per_port=VESSELS_PER_PORT, vessels=vessels, fixes=FIXES_PER_VESSEL, step=STEP_S,
                                    path=str(partial)))  # fmt: skip
        con.close()
        partial.replace(path)
    return {"vessels": vessels, "ports": 2 * math.ceil(vessels / VESSELS_PER_PORT)}


def reference_case(root: Path, ports: int) -> Path:
    """A scratch case whose gazetteer is the generated ports (plus the python stage tables)."""
    from cargotrace import workflow
    from cargotrace.case.store import Case

    workflow.init_case(root)
    with Case.open(root, write=True) as case:
        case.con.execute("DELETE FROM ports")
        case.con.execute(f"""INSERT INTO ports (locode, name, country, lat, lon, radius_km, origin)
                             SELECT *, 'bench' FROM ({PORTS.format(ports=ports // 2)})""")
    return root


def _plan() -> Any:
    from cargotrace.engine.spark_job import make_plan
    from cargotrace.settings import AnalysisSettings

    return make_plan(AnalysisSettings())


def _reset_peak_rss() -> None:
    """Start a new peak: Linux resets VmHWM when 5 is written to clear_refs."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_rss_mb() -> int:
    """VmHWM of this process since the last _reset_peak_rss (ru_maxrss where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _statement_times(con: Any, stage: Any, settings: Any) -> list[tuple[str, float, float]]:
    """Run a stage's SQL statement by statement: (first words, wall s, CPU s) of each."""
    timed = []
    for statement in stage.sql(settings) if stage.sql else []:
        t0, c0 = time.perf_counter(), time.process_time()
        con.execute(statement)
        head = " ".join(statement.split()[:6])[:70]
        timed.append((head, round(time.perf_counter() - t0, 2), round(time.process_time() - c0, 2)))
    if stage.python:
        stage.python(con, settings)
    return timed


def run_duckdb(parquet: Path, ports: int, work: Path, memory: str, kernel: str) -> dict[str, Any]:
    from cargotrace.analysis.pipeline import run_stage
    from cargotrace.case.store import Case
    from cargotrace.settings import AnalysisSettings

    settings = AnalysisSettings(maritime_kernel=kernel)
    plan = _plan()
    case_dir = reference_case(work / "case", ports)
    with Case.open(case_dir, write=True) as case:
        con = case.con
        con.execute(f"SET memory_limit = '{memory}'")
        con.execute(f"SET temp_directory = '{work / 'duckdb_tmp'}'")
        started = time.perf_counter()
        con.execute(f"INSERT INTO positions (mmsi, timestamp, lat, lon, sog, cog, heading, nav_status, msg_type, source_file, source_row) "
                    f"SELECT * FROM read_parquet('{parquet}')")  # fmt: skip
        load_s = time.perf_counter() - started
        load_peak_mb = _peak_rss_mb()
        for stage in plan.before:
            stage.python(con, settings)
        _reset_peak_rss()
        started, cpu_started = time.perf_counter(), time.process_time()
        stages, stages_cpu, stages_rss, statements = {}, {}, {}, {}
        for stage in plan.spark:
            _reset_peak_rss()
            t0, c0 = time.perf_counter(), time.process_time()
            if stage.kernel and settings.maritime_kernel == "numpy":
                run_stage(con, stage, settings)
            else:
                statements[stage.name] = _statement_times(con, stage, settings)
            stages[stage.name] = round(time.perf_counter() - t0, 2)
            stages_cpu[stage.name] = round(time.process_time() - c0, 2)
            stages_rss[stage.name] = _peak_rss_mb()
        seconds = time.perf_counter() - started
        cpu_s = time.process_time() - cpu_started
        names = {
            name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        calls = "observed_calls" if "observed_calls" in names else "port_calls"
        rows = {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in (
                calls,
                "gap_facts",
                "encounters",
                "loitering_candidates",
                "circling",
                "position_jumps",
                "interference",
            )
        }
    return {"load_s": round(load_s, 2), "seconds": round(seconds, 2), "cpu_s": round(cpu_s, 2),
            "stages": stages, "stages_cpu": stages_cpu, "stages_peak_rss_mb": stages_rss, "statements": statements,
            "rows": rows, "peak_rss_mb": max(stages_rss.values()), "load_peak_rss_mb": load_peak_mb,
            "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}  # fmt: skip


class DescendantsCpu:
    """CPU seconds (user + system) of every process descending from this one: the Spark
    driver JVM, the Python daemon it starts and the workers it forks, which run the kernels.
    Sampled every 0.5 s on a thread (its own CPU time taken off), each process's last seen time kept (keyed by pid and
    start time), so a worker that exits keeps its share (its parent's `cutime` would count
    it only once reaped, and the earlier sum of live processes' times fell when one exited:
    a stage could show negative CPU); the time between a process's last sample and its exit
    is lost (at most 0.5 s each; Spark keeps its workers alive between tasks)."""

    def __init__(self) -> None:
        import threading

        self.seen: dict[tuple[int, str], float] = {}
        self.own_s = 0.0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(0.5):
            started = time.thread_time()
            self._sample()
            with self.lock:  # this thread's own time, in this process's: not Spark's
                self.own_s += time.thread_time() - started

    def _sample(self) -> None:
        parent: dict[int, int] = {}
        times: dict[int, tuple[str, float]] = {}
        tick = os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    parent[int(entry.name)] = int(fields[1])
                    times[int(entry.name)] = (
                        fields[19],
                        (int(fields[11]) + int(fields[12])) / tick,
                    )
                except (OSError, ValueError, IndexError):
                    continue
        mine = {os.getpid()}
        for _ in range(6):  # a few generations deep
            mine |= {pid for pid, ppid in parent.items() if ppid in mine}
        with self.lock:
            for pid in mine - {os.getpid()}:
                if pid in times:
                    started, cpu = times[pid]
                    key = (pid, started)
                    self.seen[key] = max(cpu, self.seen.get(key, 0.0))

    def total(self) -> float:
        self._sample()
        with self.lock:
            return sum(self.seen.values()) - self.own_s

    def stop(self) -> None:
        self.stopped.set()


def _descendants_peak_mb() -> int:
    """Sum of VmHWM of every process descending from this one (the Spark driver JVM and the
    Python workers it forks, which run the kernels)."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except (OSError, ValueError, IndexError):
                continue
    mine, total = {os.getpid()}, 0
    for _ in range(6):  # a few generations deep
        mine |= {pid for pid, ppid in parent.items() if ppid in mine}
    for pid in mine - {os.getpid()}:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) // 1024
        except (OSError, ValueError):
            continue
    return total


def _jvm_peak_mb() -> int:
    """VmHWM of the java processes started by this one (the Spark driver)."""
    peak = 0
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != me or "java" not in stat.split("(", 1)[1].split(")", 1)[0]:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) // 1024)
        except (OSError, ValueError, IndexError):
            continue
    return peak


def run_spark(parquet: Path, ports: int, work: Path, kernel: str, memory: str) -> dict[str, Any]:
    """As `analyze --engine spark` on a case holding the positions (loaded into the case
    first, untimed, as for DuckDB): timed from the export of the job's inputs (the positions
    in buckets of whole vessels for the kernels), during which the session starts, to the
    last stage; the session's own start-up (overlapped) is reported apart (`startup_s`)."""
    from cargotrace.case.store import Case
    from cargotrace.engine.spark_job import export_inputs, register_inputs, run_on_spark
    from cargotrace.engine.spark_runner import SessionStart, SparkRunner
    from cargotrace.settings import AnalysisSettings

    settings = AnalysisSettings(engine="spark", maritime_kernel=kernel)
    plan = _plan()
    meter = DescendantsCpu()
    _descendants_cpu_s = meter.total
    case_dir = reference_case(work / "case", ports)
    stages: dict[str, float] = {}
    stages_cpu: dict[str, float] = {}
    with Case.open(case_dir, write=True) as case:
        con = case.con
        con.execute(f"SET memory_limit = '{memory}'")  # the case's DuckDB, as on the DuckDB engine
        con.execute(f"SET temp_directory = '{work / 'duckdb_tmp'}'")
        con.execute(f"INSERT INTO positions (mmsi, timestamp, lat, lon, sog, cog, heading, nav_status, msg_type, source_file, source_row) "
                    f"SELECT * FROM read_parquet('{parquet}')")  # fmt: skip
        for stage in plan.before:
            stage.python(con, settings)
        started, cpu_started = time.perf_counter(), time.process_time() + _descendants_cpu_s()
        # as analyze does: the session starts (and warms its Python workers) on a thread while
        # DuckDB exports the inputs out of the case (timed as the stage `export`); then the
        # wait for the session, if any (the stage `session`); start-up included in `seconds`
        starting = SessionStart(conf={"spark.sql.shuffle.partitions": "8"})
        inputs, buckets = export_inputs(
            con, starting, plan, work / "input", bucketed=kernel == "numpy"
        )
        stages["export"] = round(time.perf_counter() - started, 2)
        stages_cpu["export"] = round(time.process_time() + _descendants_cpu_s() - cpu_started, 2)
    t0, c0 = time.perf_counter(), time.process_time() + _descendants_cpu_s()
    spark = starting.result()
    stages["session"] = round(time.perf_counter() - t0, 2)
    stages_cpu["session"] = round(time.process_time() + _descendants_cpu_s() - c0, 2)
    startup_s = starting.startup_s or 0.0
    runner = SparkRunner(spark, str(work / "spark_work"), "memory")
    # the positions registered (SQL: read once and kept in vessel partitions; kernels: the
    # bucket files, read by the kernels' pass): timed as a stage
    t0, c0 = time.perf_counter(), time.process_time() + _descendants_cpu_s()
    register_inputs(runner, plan, inputs, buckets=buckets)
    stages["positions"] = round(time.perf_counter() - t0, 2)
    stages_cpu["positions"] = round(time.process_time() + _descendants_cpu_s() - c0, 2)
    for stage in plan.spark:
        t0, c0 = time.perf_counter(), time.process_time() + _descendants_cpu_s()
        run_on_spark(runner, stage, settings)
        stages[stage.name] = round(time.perf_counter() - t0, 2)
        stages_cpu[stage.name] = round(time.process_time() + _descendants_cpu_s() - c0, 2)
    seconds = time.perf_counter() - started
    cpu_s = time.process_time() + _descendants_cpu_s() - cpu_started
    calls = "observed_calls" if "observed_calls" in runner.tables else "port_calls"
    rows = {t: runner.table(t).count() for t in (calls, "gap_facts", "encounters")}
    jvm = _jvm_peak_mb()
    children = _descendants_peak_mb()
    statements = [(table, round(seconds, 2)) for table, seconds in runner.timings]
    on_driver = sum(1 for _, where in runner.placed if where == "driver")
    runner.cleanup()
    spark.stop()
    meter.stop()
    py = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"seconds": round(seconds, 2), "cpu_s": round(cpu_s, 2), "startup_s": round(startup_s, 2),
            "stages": stages, "stages_cpu": stages_cpu,
            "rows": rows, "peak_rss_mb": children + py, "statements": statements,
            "statements_on_driver": on_driver, "statements_on_spark": len(runner.placed) - on_driver,
            "placed": runner.placed,
            "jvm_peak_mb": jvm, "python_peak_mb": py, "workers_peak_mb": children - jvm}  # fmt: skip


def one(args: argparse.Namespace) -> None:
    size = int(float(args.size))
    data = Path(args.workdir) / "data"
    data.mkdir(parents=True, exist_ok=True)
    parquet = data / f"positions_{size}.parquet"
    started = time.perf_counter()
    shape = generate(parquet, size)
    gen_s = time.perf_counter() - started
    import duckdb

    actual = (
        duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{parquet}')").fetchone()[0]
    )  # type: ignore[index]
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        engine, _, kernel = args.engine.partition("-")
        if engine == "duckdb":
            result = run_duckdb(
                parquet, shape["ports"], Path(tmp), args.duckdb_memory, kernel or "numpy"
            )
        else:
            result = run_spark(
                parquet, shape["ports"], Path(tmp), kernel or "numpy", args.duckdb_memory
            )
    result.update(engine=args.engine, size=size, positions=actual, generate_s=round(gen_s, 1), **shape,
                  load_average=[round(x, 1) for x in os.getloadavg()],
                  vcpu_hours_per_billion=round(result["seconds"] * (os.cpu_count() or 1) / 3600 * 1e9 / actual, 2),
                  cpu_hours_per_billion=round(result["cpu_s"] / 3600 * 1e9 / actual, 2),
                  parquet_mb=round(parquet.stat().st_size / 2**20), cpus=os.cpu_count(),
                  rows_per_s=round(actual / result["seconds"]))  # fmt: skip
    print(json.dumps(result))


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| engine | positions | vessels | stages (s) | positions/s | peak RSS (MB) | growth exponent | CPU (s) | CPU growth exponent | vCPU-h per 10⁹ positions (wall × vCPUs) | CPU-h per 10⁹ positions | load average (1, 5, 15 min) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    previous: dict[str, dict[str, Any]] = {}
    for r in results:
        prev = previous.get(r["engine"])
        growth = cpu_growth = ""
        if prev and "seconds" in r:
            growth = f"{math.log(r['seconds'] / prev['seconds']) / math.log(r['positions'] / prev['positions']):.2f}"
            cpu_growth = f"{math.log(r['cpu_s'] / prev['cpu_s']) / math.log(r['positions'] / prev['positions']):.2f}"
        if "seconds" in r:
            load = ", ".join(f"{x:.1f}" for x in r.get("load_average", []))
            lines.append(f"| {r['engine']} | {r['positions']:,} | {r['vessels']:,} | {r['seconds']:,.1f} | "
                         f"{r['rows_per_s']:,} | {r['peak_rss_mb']:,} | {growth} | {r['cpu_s']:,.1f} | {cpu_growth} | "
                         f"{r['vcpu_hours_per_billion']} | {r['cpu_hours_per_billion']} | {load} |")  # fmt: skip
            previous[r["engine"]] = r
        else:
            lines.append(
                f"| {r['engine']} | {r['size']:,} | | failed: {r.get('error', '')[:60]} | | | | | | | | |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duckdb-sizes", nargs="*", default=["1e6", "1e7", "1e8"])
    parser.add_argument("--spark-sizes", nargs="*", default=["1e6", "1e7"])
    parser.add_argument(
        "--duckdb-sql-sizes", nargs="*", default=[], help="sizes run with maritime_kernel=sql"
    )
    parser.add_argument(
        "--spark-sql-sizes", nargs="*", default=[], help="sizes run with maritime_kernel=sql"
    )
    parser.add_argument(
        "--workdir", default=None, help="where the Parquet inputs and temp files go"
    )
    parser.add_argument(
        "--duckdb-memory", default="2GB", help="DuckDB memory_limit (it spills beyond)"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--keep-data", action="store_true", help="keep the generated Parquet files")
    parser.add_argument("--one", nargs=2, metavar=("ENGINE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        args.engine, args.size = args.one
        one(args)
        return
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="cargotrace-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    jobs = [("duckdb", s) for s in args.duckdb_sizes] + [("spark", s) for s in args.spark_sizes]
    jobs += [("duckdb-sql", s) for s in args.duckdb_sql_sizes]
    jobs += [("spark-sql", s) for s in args.spark_sql_sizes]
    jobs.sort(key=lambda j: (float(j[1]), j[0]))
    results: list[dict[str, Any]] = []
    for engine, size in jobs:
        cmd = [
            sys.executable,
            __file__,
            "--one",
            engine,
            size,
            "--workdir",
            str(workdir),
            "--duckdb-memory",
            args.duckdb_memory,
        ]
        print(f"running {engine} at {float(size):,.0f} positions ...", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode or not lines:
            results.append(
                {"engine": engine, "size": int(float(size)), "error": (proc.stderr or "")[-400:]}
            )
            print(proc.stderr[-2000:], file=sys.stderr)
            continue
        results.append(json.loads(lines[-1]))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    results.sort(key=lambda r: (r["engine"], r["size"]))
    print(table(results))
    if not args.keep_data:
        shutil.rmtree(workdir / "data", ignore_errors=True)


if __name__ == "__main__":
    main()
