"""The maritime stages as one Spark job, and how its outputs come back into a case.

Which stages run on Spark: the SQL of `SPARK_STAGES` (track, identity, ships, observed port
calls, gaps, encounters, loitering, interference), taken from the one stage registry (analysis/registry.py) and transpiled
statement by statement. Python-only stages that come before them in the registry (port
areas: a few thousand ports) run on DuckDB first, and their tables travel with the inputs.
Everything after (dark-call routing, voyages, arrivals, linking, sites, ...) stays on DuckDB,
and so do the Python steps of Spark stages (loitering's distance from shore, interference's
flags of calls and gaps); `DUCKDB_ONLY` names the maritime events that are DuckDB's alone.

What comes back (the *handoff*): every table the Spark statements create as a persistent
table (the stage outputs: observed_calls, encounters, identity_events), plus the temp tables
that a step left to DuckDB reads (from the stages' `reads` declarations, cargotrace/stage.py):
today gap_facts and dark_call_candidates, read by the dark-call routing of the gaps stage. The per-fix tables (track, zone marks,
bins) never leave the cluster. Each handoff table is one Parquet directory under the output path, with
`_manifest/` (JSON: tables, the parameters, a fingerprint of the stage SQL) next to them.

`attach_outputs` loads such a directory into a case (persistent tables replace the case's,
temp tables become DuckDB temp tables for the rest of the analysis) after checking that the
fingerprint matches the analysis settings.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cargotrace.analysis.registry import STAGES
from cargotrace.case.store import quote_ident
from cargotrace.engine.spark_runner import (
    Checkpoint,
    Files,
    SessionStart,
    SparkRunner,
    local_path,
)
from cargotrace.engine.transpile import (
    created_tables,
    portability_issues,
    referenced_columns,
    referenced_tables,
    star_tables,
)
from cargotrace.errors import InputError
from cargotrace.settings import AnalysisSettings
from cargotrace.stage import Stage, with_prerequisites

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from cargotrace.case.store import Case
    from cargotrace.engine.spark_buckets import Buckets

SPARK_STAGES = (  # in registry order
    "track",
    "interference",
    "identity",
    "ships",
    "port_zones",
    "observed_calls",
    "gaps",
    "encounters",
    "loitering",
)
# Maritime event stages that stay on DuckDB, and why (said by `analyze --engine spark` and by
# the cluster job, which does not compute them: attach its output to a case holding the
# positions with `analyze --engine spark --spark-output DIR` and DuckDB runs them there).
DUCKDB_ONLY = {
    "ais_disabling": "counts each long gap's prior fixes in the case's positions, after DuckDB routes the gaps",
    "draught_changes": "compares the draughts of the case's identity reports across the gaps DuckDB routes",
}
MANIFEST_DIR = "_manifest"
OnStage = Callable[[str, int, float], None]


def placement_note(cluster: bool = False) -> str:
    """Where the maritime stages ran: on Spark, and which maritime events stay on DuckDB."""
    stays = "; ".join(f"{name} ({why})" for name, why in DUCKDB_ONLY.items())
    if cluster:
        return (
            f"on Spark: {', '.join(SPARK_STAGES)}. Not computed by this job (DuckDB only): {stays}; "
            "attach the output to a case holding the positions with "
            "`cargotrace analyze --engine spark --spark-output DIR` and DuckDB runs them there"
        )
    return (
        f"on Spark: {', '.join(SPARK_STAGES)}; "
        f"on DuckDB after them (DuckDB only): {stays}, and the stages that follow"
    )


@dataclass
class Plan:
    """Which parts of the registry run where, and which tables cross over."""

    spark: list[Stage]  # their SQL runs on Spark
    before: list[Stage]  # python-only stages run on DuckDB before the Spark job
    inputs: set[str]  # tables the Spark SQL reads but does not create
    columns: set[str]  # column names the Spark SQL mentions (to trim the exported inputs)
    whole: set[str]  # inputs read with SELECT * (exported with every column)
    created: dict[str, bool]  # table -> persistent
    handoff: dict[str, bool]  # table -> persistent, written back
    fingerprint: str
    issues: list[str] = field(default_factory=list)
    read_by: dict[str, set[str]] = field(default_factory=dict)  # input -> stages whose SQL reads it

    @property
    def sql_done(self) -> set[str]:
        return {s.name for s in self.spark}

    @property
    def python_done(self) -> set[str]:
        return {s.name for s in self.before}


def make_plan(
    settings: AnalysisSettings,
    stages: Sequence[Stage] | None = None,
    names: Sequence[str] = SPARK_STAGES,
) -> Plan:
    stages = list(stages if stages is not None else STAGES)
    spark = [s for s in stages if s.name in names and s.sql]
    if not spark:
        raise InputError("none of the stages to run on Spark is in the registry")
    # their prerequisites that are not Spark stages: Python steps, run on DuckDB first
    before = [s for s in with_prerequisites(stages, [s.name for s in spark]) if s not in spark]
    if any(s.sql for s in before):
        names = ", ".join(s.name for s in before if s.sql)
        raise InputError(f"the Spark stages need SQL stages that do not run on Spark: {names}")
    created: dict[str, bool] = {}
    reads: set[str] = set()
    columns: set[str] = set()
    whole: set[str] = set()
    texts: list[str] = []
    issues: list[str] = []
    read_by: dict[str, set[str]] = {}
    for stage in spark:
        for sql in stage.sql(settings):  # type: ignore[misc]
            texts.append(sql)
            for name in referenced_tables(sql) - set(created):
                read_by.setdefault(name, set()).add(stage.name)
            reads |= referenced_tables(sql) - set(created)
            columns |= referenced_columns(sql)
            whole |= star_tables(sql)
            issues += [f"{stage.name}: {i}" for i in portability_issues(sql)]
            for name, persistent in created_tables(sql):
                created[name] = created.get(name, False) or persistent
    later_reads = _left_to_duckdb_reads(stages, spark)
    handoff = {
        name: persistent
        for name, persistent in created.items()
        if persistent or name in later_reads
    }
    fingerprint = hashlib.sha256("\n;\n".join(texts).encode("utf-8")).hexdigest()
    return Plan(spark, before, reads, columns, whole & reads, created, handoff, fingerprint, issues,
                read_by)  # fmt: skip


def _left_to_duckdb_reads(stages: Sequence[Stage], spark: Sequence[Stage]) -> set[str]:
    """What the steps left to DuckDB read, by their declarations: the stages not run on
    Spark, and the Python steps of those whose SQL is (the dark-call routing of gaps)."""
    on_spark = {s.name for s in spark}
    later = {table for stage in stages if stage.name not in on_spark for table in stage.reads}
    return later | {table for stage in spark if stage.python for table in stage.python_reads}


# ----------------------------------------------------------------------------- the job
def run_job(
    spark: SparkSession,
    settings: AnalysisSettings,
    inputs: Mapping[str, DataFrame | Files],
    out: str,
    *,
    workdir: str,
    checkpoint: Checkpoint = "parquet",
    plan: Plan | None = None,
    on_stage: OnStage | None = None,
    materialise: Sequence[str] = (),
    buckets: Buckets | None = None,
) -> dict[str, Any]:
    """Run the Spark stages on registered inputs and write the handoff tables to `out`.
    Inputs named in `materialise` are checkpointed first (positions decoded from NMEA are
    read by more than one stage: decode once); the positions always are (`register_inputs`),
    unless `buckets` holds them in files of whole vessels (`export_inputs`)."""
    plan = plan or make_plan(settings)
    missing = sorted(plan.inputs - {n.lower() for n in inputs})
    if missing:
        raise InputError(f"the Spark job needs these input tables: {', '.join(missing)}")
    runner = SparkRunner(spark, workdir, checkpoint)
    register_inputs(runner, plan, inputs, materialise, buckets)
    counts: dict[str, int] = {}
    try:
        for stage in plan.spark:
            started = time.perf_counter()
            run_on_spark(runner, stage, settings)
            rows = (  # known without a Spark job when the table was made on the driver
                runner.row_count(stage.output)
                if stage.output and stage.output in runner.tables
                else 0
            )
            counts[stage.name] = rows
            if on_stage and not stage.python:
                on_stage(stage.name, rows, time.perf_counter() - started)
        base = out.rstrip("/")
        for name in sorted(plan.handoff):
            local = local_path(f"{base}/{name}")
            if local is not None and runner.holds_on_driver(name):  # no Spark job
                _write_local(runner.arrow(name), local)
                continue
            df = runner.table(name)
            if not plan.handoff[name]:
                df = df.coalesce(max(1, min(df.rdd.getNumPartitions(), 8)))
            df.write.mode("overwrite").parquet(f"{base}/{name}")
        manifest = {
            "format": "cargotrace-spark-output/1",
            "tables": plan.handoff,
            "stages": [s.name for s in plan.spark],
            "fingerprint": plan.fingerprint,
            "parameters": settings.as_parameters(),
            "stage_rows": counts,
            "portability_issues": plan.issues,
            # where each statement ran: on Spark, or on the driver's DuckDB (small tables only)
            "statements_placed": {
                where: [t for t, w in runner.placed if w == where] for where in ("spark", "driver")
            },
            "spark_version": spark.version,
        }
        write_manifest(spark, base, manifest)
    finally:
        runner.cleanup()
    return manifest


def _write_local(table: pa.Table, folder: Path) -> None:
    """A table the driver holds, written as Spark would write it for `attach_outputs`: one
    Parquet file in its own folder."""
    import pyarrow.parquet as pq

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "part-00000.parquet")


def register_inputs(
    runner: SparkRunner,
    plan: Plan,
    inputs: Mapping[str, DataFrame | Files],
    materialise: Sequence[str] = (),
    buckets: Buckets | None = None,
) -> None:
    """Make the job's inputs visible to its SQL. The positions, which several stages read
    (the track's pass, loitering, interference, encounters), are read once: only the columns
    the stage SQL mentions, shuffled by MMSI into partitions of whole vessels and kept
    (`SparkRunner.partition_by_vessel`), so no later statement reads and casts the source
    files again and the kernels' pass needs no shuffle of its own. With `buckets` (the
    positions in files of whole vessels: engine/spark_buckets.py) nothing is read or shuffled
    here: the kernels' pass reads the files, and the positions stay a lazy table over them
    for any statement that reads them (the stage SQL's, with `maritime_kernel=sql`)."""
    runner.buckets = buckets
    for name, df in inputs.items():
        if isinstance(df, Files):  # local Parquet: the driver reads it, Spark when it must
            rows = buckets.rows if name.lower() == "positions" and buckets is not None else None
            runner.register_files(name, df, rows=rows)
        elif name.lower() == "positions" and buckets is not None:
            runner.register(name, df, rows=buckets.rows)
        elif name.lower() == "positions":
            keep = [c for c in df.columns if c.lower() in plan.columns]
            trimmed = df if "positions" in plan.whole or not keep else df.select(*keep)
            runner.partition_by_vessel(name, trimmed)
        else:
            runner.register(name, runner.checkpoint_df(name, df) if name in materialise else df)


def run_on_spark(runner: SparkRunner, stage: Stage, settings: AnalysisSettings) -> None:
    """One stage on Spark: its NumPy kernel (engine/spark_kernels.py) when it has one and
    settings.maritime_kernel is numpy, else its SQL (the definition; statements that read a
    per-fix table for a few rows read what the kernels' pass derived: engine/spark_derived.py)."""
    from cargotrace.engine.spark_derived import stage_sql
    from cargotrace.engine.spark_kernels import SPARK_KERNELS

    if settings.maritime_kernel == "numpy" and stage.name in SPARK_KERNELS:
        SPARK_KERNELS[stage.name](runner, settings)
    else:  # reading the small tables the kernels' pass derived, where it wrote them
        runner.execute_all(stage_sql(runner, stage, settings))


def write_manifest(spark: SparkSession, out: str, manifest: Mapping[str, Any]) -> None:
    text = json.dumps(manifest, sort_keys=True, default=str)
    local = local_path(out)
    if local is not None:
        target = local / MANIFEST_DIR
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        (target / "manifest.json").write_text(text + "\n", encoding="utf-8")
        return
    spark.createDataFrame([(text,)], "value string").coalesce(1).write.mode("overwrite").text(
        f"{out}/{MANIFEST_DIR}"
    )


def read_manifest(out_dir: Path) -> dict[str, Any]:
    folder = out_dir / MANIFEST_DIR
    files = sorted(folder.glob("*.json")) + sorted(folder.glob("part-*"))
    if not files:
        raise InputError(
            f"{out_dir} is not the output of a cargotrace Spark run (no {MANIFEST_DIR}/)"
        )
    manifest: dict[str, Any] = json.loads(files[0].read_text(encoding="utf-8").strip())
    return manifest


# ----------------------------------------------------------------------------- case side
def attach_outputs(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    settings: AnalysisSettings,
    plan: Plan | None = None,
) -> dict[str, Any]:
    """Load a Spark run's handoff tables into a DuckDB connection (a case, in its transaction)."""
    manifest = read_manifest(out_dir)
    plan = plan or make_plan(settings)
    if manifest.get("fingerprint") != plan.fingerprint:
        ours = settings.as_parameters()
        theirs = manifest.get("parameters", {})
        diff = sorted(
            k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k) and k != "engine"
        )
        raise InputError(
            f"the Spark output in {out_dir} was computed with other maritime settings or another "
            f"version of the stages (differences: {', '.join(diff) or 'stage SQL'}); rerun the Spark job "
            "with the same settings"
        )
    for name, persistent in manifest["tables"].items():
        files = out_dir / name / "*.parquet"
        kind = "TABLE" if persistent else "TEMP TABLE"
        con.execute(
            f"CREATE OR REPLACE {kind} {quote_ident(name)} AS SELECT * FROM read_parquet('{_sql_path(files)}')"
        )
    return manifest


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def export_inputs(
    con: duckdb.DuckDBPyConnection,
    spark: SparkSession | SessionStart,
    plan: Plan,
    folder: Path,
    *,
    bucketed: bool = False,
) -> tuple[dict[str, DataFrame | Files], Buckets | None]:
    """The Spark job's inputs from a DuckDB connection, as Parquet files in `folder` (only the
    columns the stage SQL mentions), which Spark reads only when a Spark statement needs
    them (the driver's DuckDB reads them itself). `bucketed`: the positions written in buckets
    of whole vessels with the kernels' columns (engine/spark_buckets.py), at least one per
    `spark.sql.shuffle.partitions`; the bucket files are returned with the inputs. With a
    `SessionStart` the files are written while the session starts; it is waited for only
    where a DataFrame must be made."""
    import pyarrow.parquet as pq

    from cargotrace.engine.spark_buckets import bucket_frame, spill_buckets, write_buckets
    from cargotrace.engine.spark_kernels import SPARK_KERNELS

    def session() -> SparkSession:
        return spark.result() if isinstance(spark, SessionStart) else spark

    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, DataFrame | Files] = {}
    buckets = None
    spilled = False
    for name in sorted(plan.inputs):
        columns = [
            r[0] for r in con.execute(f"SELECT * FROM {quote_ident(name)} LIMIT 0").description
        ]
        keep = (
            columns
            if name in plan.whole
            else [c for c in columns if c.lower() in plan.columns] or columns
        )
        if name == "positions" and bucketed:
            least = (
                spark.shuffle_partitions()
                if isinstance(spark, SessionStart)
                else int(spark.conf.get("spark.sql.shuffle.partitions") or "1")
            )
            if not plan.read_by.get(name, set()) - set(SPARK_KERNELS):
                # only the kernels read them: their columns in Arrow IPC files of whole
                # vessels, as the DuckDB engine spills them (no Parquet to write or read)
                buckets = spill_buckets(con, folder / "positions", least)
                spilled = True  # a lazy Spark table over them, once the session is up
                continue
            buckets = write_buckets(con, folder / "positions", keep, least)
            first = next(buckets.folder.glob("**/*.parquet"), None)
            if first is None:  # no position: Spark infers nothing from no file
                out[name] = session().read.parquet(str(buckets.folder))
            else:
                out[name] = Files(buckets.folder, pq.read_schema(first))
            continue
        path = folder / f"{name}.parquet"
        select = ", ".join(quote_ident(c) for c in keep)
        con.execute(
            f"COPY (SELECT {select} FROM {quote_ident(name)}) TO '{_sql_path(path)}' (FORMAT parquet)"
        )
        out[name] = Files(path, pq.read_schema(path))
    if spilled:
        assert buckets is not None
        out["positions"] = bucket_frame(session(), buckets)
    return out, buckets


def run_case_on_spark(
    case: Case,
    settings: AnalysisSettings,
    stages: Sequence[Stage] | None = None,
    *,
    on_stage: OnStage | None = None,
    spark: SparkSession | None = None,
    checkpoint: Checkpoint = "memory",
) -> tuple[set[str], set[str]]:
    """`analyze --engine spark` on a case: python prerequisites on DuckDB, the maritime SQL on
    Spark (local session unless one is active), the handoff back into the case.

    With `settings.extra["spark_output"]` (a folder written earlier by
    `python -m cargotrace.engine.spark` on a cluster) nothing runs on Spark: that output is
    attached instead. Returns the stage names whose SQL and whose Python step are done.
    """
    plan = make_plan(settings, stages)
    con = case.con
    given = settings.extra.get("spark_output")
    # the session starts (and warms its Python workers) while DuckDB makes the prerequisites
    # and exports the inputs
    starting = None if given else spark or SessionStart()
    for stage in plan.before:
        started = time.perf_counter()
        stage.python(con, settings)  # type: ignore[misc]
        if on_stage:
            rows = (
                con.execute(f"SELECT count(*) FROM {quote_ident(stage.output)}").fetchone()[0]  # type: ignore[index]
                if stage.output
                else 0
            )
            on_stage(stage.name, int(rows), time.perf_counter() - started)
    if given:
        attach_outputs(con, Path(given), settings, plan)
        return plan.sql_done, plan.python_done
    assert starting is not None
    work = case.root / "spark"
    shutil.rmtree(work, ignore_errors=True)
    try:
        inputs, buckets = export_inputs(con, starting, plan, work / "input",
                                        bucketed=settings.maritime_kernel == "numpy")  # fmt: skip
        session = starting.result() if isinstance(starting, SessionStart) else starting
        run_job(session, settings, inputs, str(work / "output"), workdir=str(work / "work"), checkpoint=checkpoint,
                plan=plan, on_stage=on_stage, buckets=buckets)  # fmt: skip
        attach_outputs(con, work / "output", settings, plan)
    finally:
        shutil.rmtree(work / "input", ignore_errors=True)
        shutil.rmtree(work / "work", ignore_errors=True)
    return plan.sql_done, plan.python_done
