"""The runner of the stage registry (analysis/registry.py) on a DuckDB connection.

`run_stages` runs the named stages and, first, the stages that write what they read (their
prerequisites, from the declarations). `run_analysis` runs every stage of `analyze` in one
transaction on the case; another engine (Spark: engine/spark_job.py) can take over some
stages first through `delegate`, so this module imports no engine (nor the report: the
findings are assembled by the caller, workflow.analyze_case). `on_stage` hears each stage's
name, output rows and seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import duckdb

from cargotrace.analysis.registry import STAGES
from cargotrace.case.store import Case, quote_ident
from cargotrace.maritime.kernels import views
from cargotrace.settings import AnalysisSettings
from cargotrace.stage import Stage, with_prerequisites

__all__ = [
    "DEBUG_SCHEMA",
    "DERIVED_TABLES",
    "STAGES",
    "Stage",
    "keep_intermediates",
    "run_analysis",
    "run_stage",
    "run_stages",
]

# `analyze --debug` keeps here every temporary table a stage declares it writes
DEBUG_SCHEMA = "debug"

OnStage = Callable[[str, int, float], None]
# Runs some stages elsewhere; returns the names of the stages whose SQL, and whose Python
# step, it has done (their tables are in the case when it returns).
Delegate = Callable[
    [Case, AnalysisSettings, Sequence[Stage], OnStage | None], tuple[set[str], set[str]]
]

# persistent tables the analysis derives (dropped to compare engines)
DERIVED_TABLES = [
    s.output for s in STAGES if s.output and s.output not in ("track", "port_areas", "zone_marks")
] + [
    "shipments_of_interest",
    "site_members",
    "dark_calls",
    "dark_detections",
    "shuttles",
    "ship_timeline",
    "encounter_crowds",
    "consignment_records",
    "evidence_period",
    "circling",
    "spoofed_positions",
]


def run_stages(
    con: duckdb.DuckDBPyConnection,
    settings: AnalysisSettings,
    names: Sequence[str],
    stages: Sequence[Stage] = STAGES,
) -> list[str]:
    """Run the named stages and their prerequisites, in registry order, on DuckDB (no
    transaction, no findings). Returns the names of the stages run."""
    plan = with_prerequisites(stages, names)
    for stage in plan:
        run_stage(con, stage, settings)
    return [s.name for s in plan]


def run_stage(
    con: duckdb.DuckDBPyConnection,
    stage: Stage,
    settings: AnalysisSettings,
    *,
    sql: bool = True,
    python: bool = True,
) -> None:
    """Run one stage on DuckDB: its kernel or its SQL, then its Python step."""
    if sql and stage.kernel and settings.maritime_kernel == "numpy":
        stage.kernel(con, settings)
    elif sql:
        for statement in stage.sql(settings) if stage.sql else []:
            con.execute(statement)
    if python and stage.python:
        stage.python(con, settings)


def analysis_stages(stages: Sequence[Stage] = STAGES) -> list[Stage]:
    """The stages `analyze` runs: every stage not marked optional, with its prerequisites."""
    return with_prerequisites(stages, [s.name for s in stages if not s.optional])


def run_analysis(
    case: Case,
    settings: AnalysisSettings,
    *,
    on_stage: OnStage | None = None,
    delegate: Delegate | None = None,
    stages: Sequence[Stage] = STAGES,
    debug: bool = False,
) -> list[str]:
    """Run the stages of `analyze` on the case (inside the caller's transaction). Returns the
    names of the stages run. `debug`: keep every temporary table the stages declare they
    write in the case's `debug` schema (`keep_intermediates`); without it, the `debug`
    schema of an earlier run is dropped (it would describe another analysis)."""
    con = case.con
    plan = analysis_stages(stages)
    views.release(con)
    con.execute(f"DROP SCHEMA IF EXISTS {DEBUG_SCHEMA} CASCADE")
    try:
        sql_done: set[str] = set()
        python_done: set[str] = set()
        if delegate is not None:
            sql_done, python_done = delegate(case, settings, plan, on_stage)
            if debug:  # what the other engine handed back of its stages' tables
                for stage in plan:
                    if stage.name in sql_done | python_done:
                        keep_intermediates(con, stage)
        for stage in plan:
            run_sql = bool(stage.sql or stage.kernel) and stage.name not in sql_done
            run_python = bool(stage.python) and stage.name not in python_done
            if not (run_sql or run_python):
                continue  # done (and reported) by the other engine
            started = time.perf_counter()
            run_stage(con, stage, settings, sql=run_sql, python=run_python)
            if on_stage:
                on_stage(stage.name, _rows(con, stage.output), time.perf_counter() - started)
            if debug:
                keep_intermediates(con, stage)
    finally:
        views.release(con)  # the kernels' Arrow tables: free their memory
    return [s.name for s in plan]


def keep_intermediates(con: duckdb.DuckDBPyConnection, stage: Stage) -> list[str]:
    """Copy the temporary tables (and views, kernels' Arrow tables) among the stage's declared
    writes into the case's `debug` schema under their declared names (`debug.gap_facts`):
    they outlive the connection, for inspection. A table several stages write is kept as
    the last of them left it. Returns the names kept."""
    temporary = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'temp'"
        ).fetchall()
    }
    kept = [name for name in stage.writes if name in temporary]
    if kept:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {DEBUG_SCHEMA}")
    for name in kept:
        con.execute(
            f"CREATE OR REPLACE TABLE {DEBUG_SCHEMA}.{quote_ident(name)} AS "
            f"SELECT * FROM temp.main.{quote_ident(name)}"
        )
    return kept


def _rows(con: duckdb.DuckDBPyConnection, table: str | None) -> int:
    if not table:
        return 0
    found = con.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone()
    return int(found[0]) if found else 0
