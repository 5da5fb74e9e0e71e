"""Throughput of the maritime events (port calls, gaps) on generated AIS positions.

    python benchmarks/bench_events.py [--positions 10000000] [--vessels 2000] [--seed 7]
                                      [--keep DIR] [--movingpandas RESULT.json] [--json OUT]

1. NumPy generates `--positions` fixes of `--vessels` ships sailing between real ports of
   the default gazetteer (East Asia), every 5 minutes (+-1 min): berth stays of 8-60 h
   (speeds 0-0.3 kn, 20 m jitter around a berth up to 2 km from the port point), sea legs
   at 10-14 kn along the great circle, and an AIS gap of 6-36 h on one leg in six. The
   fixes are shuffled into time order (as a feed writes them) and written to Parquet.
2. A fresh subprocess creates a case (with the default port gazetteer, ~3,700 ports),
   loads the Parquet file straight into its `positions` table, and runs the maritime
   stages exactly as `cargotrace analyze` does (one transaction): track (one window pass,
   shared-MMSI split), identity events, port areas, port calls, gaps (with possible dark
   calls along sea routes). It reports wall and CPU seconds per stage and its peak RSS
   (ru_maxrss, which includes loading the positions).
3. positions/s: port calls = N / (track + port areas + port calls), gaps = N / (track +
   gaps), together = N / (all of them, identity included). With `--movingpandas` (the JSON
   written by benchmarks/compare_movingpandas.py) the ratio against MovingPandas' stop
   detector on the real sample is reported as well.

The machine may be shared: the load average at the start and end is printed; CPU seconds
are less sensitive to other load than wall seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REGION = (20.0, 50.0, 115.0, 145.0)  # lat_min, lat_max, lon_min, lon_max
STEP_S, JITTER_S = 300, 60
KM_PER_NM = 1.852
R_KM = 6371.0088
MARITIME = ("track", "identity", "ships", "port_areas", "port_zones", "port_calls", "gaps")


def _ports(rng: np.random.Generator, n: int = 300) -> np.ndarray:
    from cargotrace.ingest.kinds.ports import gazetteer_table

    gazetteer = gazetteer_table()
    lat, lon = np.asarray(gazetteer.column("lat")), np.asarray(gazetteer.column("lon"))
    keep = (lat > REGION[0]) & (lat < REGION[1]) & (lon > REGION[2]) & (lon < REGION[3])
    pts = np.column_stack([lat[keep], lon[keep]])
    if len(pts) > n:
        pts = pts[rng.choice(len(pts), n, replace=False)]
    return pts


def _gc_km(a: np.ndarray, b: np.ndarray) -> float:
    p1, p2 = np.radians(a[0]), np.radians(b[0])
    h = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(b[1] - a[1]) / 2) ** 2
    )
    return float(2 * R_KM * np.arcsin(np.sqrt(h)))


def generate(n_positions: int, n_vessels: int, seed: int, out: Path) -> dict[str, float]:
    """Write the generated fixes to `out` (Parquet); returns counts of what was planted."""
    rng = np.random.default_rng(seed)
    ports = _ports(rng)
    per_vessel = n_positions // n_vessels
    t0 = 1_700_000_000
    chunks: dict[str, list[np.ndarray]] = {"mmsi": [], "t": [], "lat": [], "lon": [], "sog": []}
    planted = {"berth_stays": 0, "sea_gaps": 0}
    for v in range(n_vessels):
        mmsi = 200_000_000 + v
        made, t = 0, t0 + int(rng.integers(0, 86400))
        here = ports[int(rng.integers(len(ports)))]
        while made < per_vessel:
            # berth stay
            dwell_s = rng.uniform(8, 60) * 3600
            n = max(1, int(dwell_s / STEP_S))
            berth = here + rng.normal(0, 0.01, 2)
            times = t + np.cumsum(rng.integers(STEP_S - JITTER_S, STEP_S + JITTER_S + 1, n))
            lat = berth[0] + rng.normal(0, 0.0002, n)
            lon = berth[1] + rng.normal(0, 0.0002, n)
            sog = rng.choice(np.array([0.0, 0.0, 0.1, 0.1, 0.2, 0.3]), n)
            planted["berth_stays"] += 1
            for k, a in zip(("t", "lat", "lon", "sog"), (times, lat, lon, sog), strict=True):
                chunks[k].append(a)
            chunks["mmsi"].append(np.full(n, mmsi, np.int64))
            made += n
            t = int(times[-1])
            # sea leg to one of the 30 nearest other ports
            d = np.hypot(
                ports[:, 0] - here[0], (ports[:, 1] - here[1]) * math.cos(math.radians(here[0]))
            )
            there = ports[int(rng.choice(np.argsort(d)[1:31]))]
            speed = rng.uniform(10, 14)
            leg_s = max(_gc_km(berth, there) / (speed * KM_PER_NM) * 3600, STEP_S)
            n = max(1, int(leg_s / STEP_S))
            times = t + np.cumsum(rng.integers(STEP_S - JITTER_S, STEP_S + JITTER_S + 1, n))
            frac = (times - t) / max(times[-1] - t, 1)
            lat = berth[0] + frac * (there[0] - berth[0])
            lon = berth[1] + frac * (there[1] - berth[1])
            sog = speed + rng.normal(0, 0.5, n)
            keep = np.ones(n, bool)
            if rng.uniform() < 1 / 6 and leg_s > 8 * 3600:
                gap_s = min(rng.uniform(6, 36) * 3600, leg_s - 3600)
                start = times[0] + rng.uniform(0, leg_s - gap_s)
                keep = (times < start) | (times > start + gap_s)
                planted["sea_gaps"] += 1
            for k, a in zip(("t", "lat", "lon", "sog"), (times, lat, lon, sog), strict=True):
                chunks[k].append(a[keep])
            chunks["mmsi"].append(np.full(int(keep.sum()), mmsi, np.int64))
            made += int(keep.sum())
            t = int(times[-1])
            here = there
    cols = {k: np.concatenate(v) for k, v in chunks.items()}
    order = np.argsort(cols["t"], kind="stable")
    table = pa.table({
        "mmsi": cols["mmsi"][order],
        "timestamp": pa.array(cols["t"][order] * 1_000_000, pa.timestamp("us", tz="UTC")),
        "lat": cols["lat"][order], "lon": cols["lon"][order], "sog": np.round(cols["sog"][order], 1),
    })  # fmt: skip
    pq.write_table(table, out, row_group_size=1_000_000)
    return {"positions": table.num_rows, "vessels": n_vessels, "ports": len(ports), **planted}


def worker(parquet: Path, case_dir: Path) -> dict[str, object]:
    """Load the positions into a fresh case and time the maritime stages (runs in a subprocess)."""
    from cargotrace import workflow
    from cargotrace.analysis.pipeline import STAGES, run_stage
    from cargotrace.case.store import Case
    from cargotrace.settings import AnalysisSettings

    workflow.init_case(case_dir)
    settings = AnalysisSettings()
    stages: dict[str, dict[str, float]] = {}
    with Case.open(case_dir, write=True) as case:
        con = case.con
        started = time.perf_counter()
        con.execute(
            "INSERT INTO positions (mmsi, timestamp, lat, lon, sog, source_file) "
            f"SELECT mmsi, timestamp, lat, lon, sog, 'bench' FROM read_parquet('{parquet}')"
        )
        load_s = time.perf_counter() - started
        n = int(con.execute("SELECT count(*) FROM positions").fetchone()[0])  # type: ignore[index]
        with case.transaction():
            for stage in STAGES:
                if stage.name not in MARITIME:
                    continue
                wall, cpu = time.perf_counter(), time.process_time()
                run_stage(con, stage, settings)
                stages[stage.name] = {
                    "wall_s": time.perf_counter() - wall,
                    "cpu_s": time.process_time() - cpu,
                }
            counts = {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
                      for t in ("port_calls", "gaps", "dark_calls", "identity_events")}  # fmt: skip
            levels = dict(
                con.execute(
                    "SELECT confidence_level, count(*) FROM port_calls GROUP BY 1 ORDER BY 1"
                ).fetchall()
            )
    return {"positions": n, "load_s": load_s, "stages": stages, "counts": counts, "confidence_levels": levels,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "threads": os.cpu_count()}  # fmt: skip


def summarise(result: dict[str, object], mp: dict[str, object] | None) -> dict[str, object]:
    n = result["positions"]
    s = result["stages"]  # type: ignore[assignment]

    def rate(names: tuple[str, ...], key: str) -> float:
        return n / sum(s[x][key] for x in names)  # type: ignore[index,operator]

    out = {
        "port_calls_positions_per_s": rate(
            ("track", "port_areas", "port_zones", "port_calls"), "wall_s"
        ),
        "gaps_positions_per_s": rate(("track", "gaps"), "wall_s"),
        "together_positions_per_s": rate(MARITIME, "wall_s"),
        "together_positions_per_cpu_s": rate(MARITIME, "cpu_s"),
    }
    if mp:
        out["movingpandas_positions_per_s"] = mp["movingpandas"]["positions_per_s"]  # type: ignore[index]
        out["ratio_vs_movingpandas"] = (
            out["together_positions_per_s"] / out["movingpandas_positions_per_s"]
        )  # type: ignore[operator]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--positions", type=int, default=10_000_000)
    parser.add_argument("--vessels", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep", type=Path, help="work directory to keep (default: a temporary one)"
    )
    parser.add_argument(
        "--movingpandas", type=Path, help="JSON written by benchmarks/compare_movingpandas.py"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--worker", nargs=2, metavar=("PARQUET", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(Path(args.worker[0]), Path(args.worker[1]))))
        return
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_events_"))
    work.mkdir(parents=True, exist_ok=True)
    parquet = work / "positions.parquet"
    print(f"load average at start: {os.getloadavg()}", flush=True)
    started = time.perf_counter()
    planted = generate(args.positions, args.vessels, args.seed, parquet)
    print(f"generated {planted} in {time.perf_counter() - started:.1f} s -> {parquet}", flush=True)
    case_dir = work / "case"
    if case_dir.exists():
        import shutil

        shutil.rmtree(case_dir)
    proc = subprocess.run([sys.executable, __file__, "--worker", str(parquet), str(case_dir)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    mp = json.loads(args.movingpandas.read_text()) if args.movingpandas else None
    summary = summarise(result, mp)
    report = {"planted": planted, **result, **summary, "load_average_end": os.getloadavg()}
    for name, t in result["stages"].items():
        print(f"  {name:12s} wall {t['wall_s']:7.2f} s   cpu {t['cpu_s']:7.2f} s")
    print(
        f"positions {result['positions']:,}  load {result['load_s']:.1f} s  peak RSS {result['peak_rss_mb']:,.0f} MB"
    )
    print(f"counts {result['counts']}  confidence levels {result['confidence_levels']}")
    for key, value in summary.items():
        print(f"  {key:34s} {value:,.1f}")
    print(f"load average at end: {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
