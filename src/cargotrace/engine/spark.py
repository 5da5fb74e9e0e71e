"""The Spark engine's entry point for clusters: the maritime stages over positions at any
Hadoop-compatible path (s3a://, abfss://, gs://, hdfs://, file://), written as Parquet that a
case attaches with `cargotrace analyze --engine spark --spark-output DIR`.

    spark-submit --master yarn --driver-memory 8g \\
        "$(python -c 'import cargotrace.engine.spark as m; print(m.__file__)')" \\
        --positions 's3a://bucket/ais/day=2024-*/*.parquet' --out s3a://bucket/runs/2024 \\
        --case reference-case/ --set gap_hours=12

    python -m cargotrace.engine.spark --positions archive/*.nmea.gz --out spark-out/   # local[2]

Reference data (ports, sightings, identity reports) comes from `--case` (opened read-only)
or, without it, from the default port gazetteer plus `--ports FILE`; it is small and travels
inside the job. Positions: Parquet with the contract's columns (cleaned with the ingest's
rules) or NMEA 0183 archives (decoded on the executors); exact repeats are dropped unless
`--keep-duplicates`. The run writes one Parquet directory per handoff table (observed_calls,
encounters, identity_events, gap_facts, dark_call_candidates), the contract's
`gaps` and `dark_calls` (routed on the driver, as the case would), and `_manifest/`.
See docs/scaling.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cargotrace.case.schema import SOURCE
from cargotrace.case.store import Case, quote_ident
from cargotrace.engine.spark_inputs import positions_format, read_positions
from cargotrace.engine.spark_job import Plan, make_plan, placement_note, run_job, write_manifest
from cargotrace.engine.spark_runner import from_arrow, spark_session, to_arrow
from cargotrace.errors import CargotraceError, InputError
from cargotrace.settings import AnalysisSettings, with_pairs

if TYPE_CHECKING:
    import duckdb
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["main", "run_cluster_job"]

SOURCE_TABLES = {t.name for t in SOURCE}  # what a case holds as ingested


def _settings(pairs: Sequence[str]) -> AnalysisSettings:
    return with_pairs(AnalysisSettings(engine="spark"), pairs)


def _reference(
    root: Path, case: Path | None, ports: Sequence[Path], plan: Plan, settings: AnalysisSettings
) -> None:
    """A scratch case holding the reference tables: the default gazetteer, `ports` files, and
    the source tables of an existing case, then the python stages the Spark SQL needs."""
    from cargotrace.ingest.kinds.ports import load_default_gazetteer
    from cargotrace.ingest.registry import ingest_file

    with Case.open(root, write=True, create=True) as scratch:
        if scratch.created:
            load_default_gazetteer(scratch)
        for path in ports:
            ingest_file(scratch, "ports", Path(path))
    with Case.open(root, write=True) as scratch:
        con = scratch.con
        if case is not None:
            con.execute(
                f"ATTACH '{str(case / 'case.duckdb').replace(chr(39), chr(39) * 2)}' AS ref (READ_ONLY)"
            )
            tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                                "WHERE table_catalog = 'ref' AND table_type = 'BASE TABLE'").fetchall()}  # fmt: skip
            python_reads = {t for s in plan.spark if s.python for t in s.reads} & SOURCE_TABLES
            for name in sorted(((plan.inputs | python_reads) - {"positions"}) & tables):
                con.execute(f"DELETE FROM {quote_ident(name)}")
                con.execute(
                    f"INSERT INTO {quote_ident(name)} SELECT * FROM ref.{quote_ident(name)}"
                )
            con.execute("DETACH ref")
        for stage in plan.before:
            stage.python(con, settings)  # type: ignore[misc]
            for table in _temp_tables(con):  # keep them past this connection
                con.execute(
                    f"CREATE OR REPLACE TABLE main.{quote_ident(table)} AS SELECT * FROM temp.{quote_ident(table)}"
                )


def _temp_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'temp'"
        ).fetchall()
    ]


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).to_arrow_table()


def run_cluster_job(
    spark: SparkSession,
    positions: DataFrame,
    out: str,
    settings: AnalysisSettings,
    *,
    case: Path | None = None,
    ports: Sequence[Path] = (),
    workdir: str | None = None,
    checkpoint: str = "parquet",
    log: Any = None,
    decode_once: bool = False,
) -> dict[str, Any]:
    """Library form of the command line: positions DataFrame in, handoff Parquet out.
    `decode_once`: checkpoint the positions first (for NMEA input, decoded by Python UDFs)."""
    plan = make_plan(settings)
    out = out.rstrip("/")
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    with tempfile.TemporaryDirectory(prefix="cargotrace-ref-") as tmp:
        root = Path(tmp) / "ref"
        _reference(root, case, ports, plan, settings)
        with Case.open(root, write=True) as scratch:
            con = scratch.con
            inputs: dict[str, DataFrame] = {"positions": positions}
            for name in sorted(plan.inputs - {"positions"}):
                inputs[name] = from_arrow(spark, _arrow(con, f"SELECT * FROM {quote_ident(name)}"))
            say(
                f"reference tables: {', '.join(f'{n} ({_count(con, n)})' for n in sorted(inputs) if n != 'positions')}"
            )

            def on_stage(name: str, rows: int, secs: float) -> None:
                say(f"{name}: {rows:,} rows in {secs:.1f} s")

            manifest = run_job(spark, settings, inputs, out, workdir=workdir or f"{out}/_work",
                               checkpoint=checkpoint, plan=plan, on_stage=on_stage,  # type: ignore[arg-type]
                               materialise=("positions",) if decode_once else ())  # fmt: skip
            manifest["driver_tables"] = _driver_steps(spark, con, plan, settings, out, say)
            say(placement_note(cluster=True))
            write_manifest(spark, out, manifest)
    return manifest


def _count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {quote_ident(name)}").fetchone()[0])  # type: ignore[index]


def _driver_steps(spark: SparkSession, con: duckdb.DuckDBPyConnection, plan: Plan, settings: AnalysisSettings,
                  out: str, say: Any) -> list[str]:  # fmt: skip
    """The Python steps of the Spark stages (dark-call routing), on the driver's DuckDB over
    the handoff tables, so the run also yields the contract's `gaps`."""
    steps = [s for s in plan.spark if s.python]
    if not steps:
        return []
    for name in plan.handoff:
        table = to_arrow(spark.read.parquet(f"{out}/{name}"))
        con.register(f"{name}_arrow", table)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} AS SELECT * FROM {quote_ident(name + '_arrow')}"
        )
        con.unregister(f"{name}_arrow")
    before = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    for stage in steps:
        started = time.perf_counter()
        stage.python(con, settings)  # type: ignore[misc]
        say(
            f"{stage.name} (driver): {_count(con, stage.output) if stage.output else 0:,} rows in {time.perf_counter() - started:.1f} s"
        )
    after = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    written = sorted((after - before - {"sea_distances"}) | {s.output for s in steps if s.output})
    for name in written:
        from_arrow(spark, _arrow(con, f"SELECT * FROM {quote_ident(name)}")).coalesce(1).write.mode(
            "overwrite"
        ).parquet(f"{out}/{name}")
    return written


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cargotrace.engine.spark",
        description="Port calls, gaps and encounters on Spark, written as Parquet for a cargotrace case "
        "(attach with: cargotrace analyze --case DIR --engine spark --spark-output OUT).",
    )
    parser.add_argument("--positions", nargs="+", required=True, metavar="PATH",
                        help="positions: Parquet files/directories or NMEA archives (plain or .gz); globs allowed")  # fmt: skip
    parser.add_argument("--format", choices=("auto", "parquet", "nmea"), default="auto",
                        help="positions format (auto: parquet when every path ends in .parquet or /)")  # fmt: skip
    parser.add_argument(
        "--out", required=True, help="output directory (any Hadoop-compatible path)"
    )
    parser.add_argument(
        "--case",
        type=Path,
        help="a cargotrace case whose ports, sightings and identity reports to use",
    )
    parser.add_argument(
        "--ports",
        type=Path,
        nargs="*",
        default=[],
        help="extra ports files (CSV/GeoJSON, contract columns)",
    )
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="an analysis setting, e.g. --set gap_hours=12 (repeatable)")  # fmt: skip
    parser.add_argument(
        "--keep-duplicates", action="store_true", help="do not drop exact repeats of a position"
    )
    parser.add_argument(
        "--workdir", help="checkpoint directory (default OUT/_work, removed at the end)"
    )
    parser.add_argument("--checkpoint", choices=("parquet", "memory"), default="parquet",
                        help="parquet (default: fault tolerant) or memory (executor memory and disk)")  # fmt: skip
    parser.add_argument(
        "--master", help="Spark master when not started by spark-submit (default local[2])"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args.settings)
        for path in args.ports:
            if not path.is_file():
                raise InputError("ports file not found", file=str(path))
        if args.case is not None and not (args.case / "case.duckdb").is_file():
            raise InputError(f"{args.case} is not a cargotrace case (no case.duckdb)")
        from pyspark.sql import SparkSession

        started = time.perf_counter()
        under_submit = (
            SparkSession.getActiveSession() is not None or "PYSPARK_GATEWAY_PORT" in os.environ
        )
        spark = spark_session(master=args.master or (None if under_submit else "local[2]"))
        fmt = positions_format(args.positions, args.format)
        positions = read_positions(spark, args.positions, fmt, deduplicate=not args.keep_duplicates)
        manifest = run_cluster_job(spark, positions, args.out, settings, case=args.case, ports=args.ports,
                                   workdir=args.workdir, checkpoint=args.checkpoint, decode_once=fmt == "nmea")  # fmt: skip
    except CargotraceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = {"out": args.out, "stage_rows": manifest["stage_rows"], "tables": sorted(manifest["tables"]),
               "driver_tables": manifest.get("driver_tables", []), "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
