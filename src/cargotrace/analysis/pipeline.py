"""The analysis: an ordered registry of stages, run in one transaction on the case.

Each stage is either SQL (a function from settings to statements, the same text for every
engine) or a small Python step over a few hundred rows (site clustering, geodesy). The two
per-fix stages (track, port zones) also have a NumPy kernel that the DuckDB engine runs
instead of their SQL (maritime/kernels/: same table, faster on one machine); the SQL stays
their definition, run by Spark and by `--set maritime_kernel=sql`. A `--debug` run keeps the
intermediate tables and logs row counts and timings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from cargotrace.case import freshness
from cargotrace.case.store import Case
from cargotrace.errors import InputError
from cargotrace.logistics import (
    arrivals,
    consignments,
    label_changes,
    linking,
    reverse_flow,
    sites,
    stations,
)
from cargotrace.maritime import (
    dark_calls,
    detection_attribution,
    detection_calls,
    detections,
    disabling,
    encounters,
    gaps,
    identity,
    interference,
    loitering,
    port_areas,
    port_calls,
    ships,
    track,
    voyages,
)
from cargotrace.maritime.kernels import chunks, views
from cargotrace.maritime.kernels import port_zones as port_zones_kernel
from cargotrace.maritime.kernels import track as track_kernel
from cargotrace.outputs import json_text
from cargotrace.screening import stage as screening_stage
from cargotrace.settings import AnalysisSettings


@dataclass(frozen=True)
class Stage:
    name: str
    sql: Callable[[AnalysisSettings], list[str]] | None = None
    python: Callable[[duckdb.DuckDBPyConnection, AnalysisSettings], None] | None = None
    output: str | None = None
    # replaces `sql` on the DuckDB engine when settings.maritime_kernel is "numpy"
    kernel: Callable[[duckdb.DuckDBPyConnection, AnalysisSettings], None] | None = None


def run_stages(
    con: duckdb.DuckDBPyConnection, settings: AnalysisSettings, names: Sequence[str]
) -> None:
    """Run the named stages, in registry order, on DuckDB (no transaction, no findings)."""
    for stage in STAGES:
        if stage.name in names:
            run_stage(con, stage, settings)


def run_stage(
    con: duckdb.DuckDBPyConnection,
    stage: Stage,
    settings: AnalysisSettings,
    *,
    sql: bool = True,
    python: bool = True,
) -> None:
    """Run one stage on DuckDB: its kernel or its SQL, then its Python step."""
    if sql and stage.kernel and settings.maritime_kernel == "numpy" and chunks.fits_in_memory(con):
        stage.kernel(con, settings)
    elif sql:
        for statement in stage.sql(settings) if stage.sql else []:
            con.execute(statement)
    if python and stage.python:
        stage.python(con, settings)


STAGES: list[Stage] = [
    Stage("track", sql=track.statements, kernel=track_kernel.build, output="track"),
    Stage("identity", sql=identity.statements, output="identity_events"),
    Stage("ships", sql=ships.statements, python=ships.build_timeline, output="ship_links"),
    Stage("port_areas", python=port_areas.build, output="port_areas"),
    Stage(
        "port_zones",
        sql=port_calls.zone_statements,
        kernel=port_zones_kernel.build,
        output="zone_marks",
    ),
    Stage("port_calls", sql=port_calls.statements, output="port_calls"),
    Stage("gaps", sql=gaps.statements, python=dark_calls.build, output="gaps"),
    Stage("encounters", sql=encounters.statements, output="encounters"),
    Stage("loitering", sql=loitering.statements, python=loitering.build, output="loitering"),
    Stage("ais_disabling", python=disabling.build, output="ais_disabling"),
    Stage("detection_matches", python=detections.build, output="detection_matches"),
    Stage("dark_detections", python=detection_attribution.build, output="detection_candidates"),
    Stage("detection_calls", python=detection_calls.build, output="detection_calls"),
    Stage("interference", sql=interference.statements, output="interference"),
    Stage("voyages", sql=voyages.statements, output="voyages"),
    Stage("arrivals", sql=arrivals.statements, output="arrivals"),
    Stage("consignments", sql=consignments.statements, output="consignments"),
    Stage("stations", python=lambda con, _s: stations.resolve(con), output="shipment_stations"),
    Stage("linking", sql=linking.statements, output="linked_shipments"),
    Stage("sites", python=sites.build, output="sites"),
    Stage("label_changes", sql=label_changes.statements, output="label_changes"),
    Stage("reverse_flow", sql=reverse_flow.statements, output="outbound"),
    Stage("party_clusters", python=screening_stage.build_clusters, output="party_clusters"),
    Stage("screening", python=screening_stage.build_hits, output="watchlist_hits"),
]

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
    "interference_flags",
]


def run_analysis(
    case: Case,
    settings: AnalysisSettings,
    *,
    on_stage: Callable[[str, int, float], None] | None = None,
) -> dict[str, Any]:
    """Run every stage, then assemble and store the findings. Returns the findings."""
    con = case.con
    views.release(con)
    try:
        return _run_stages(case, settings, on_stage)
    finally:
        views.release(con)  # the kernels' Arrow tables: free their memory


def _run_stages(
    case: Case, settings: AnalysisSettings, on_stage: Callable[[str, int, float], None] | None
) -> dict[str, Any]:
    from cargotrace.report.findings import build_findings

    con = case.con
    with case.transaction():
        sql_done: set[str] = set()
        python_done: set[str] = set()
        if settings.engine == "spark":
            # the maritime stages' SQL on Spark, their outputs back into the case (docs/scaling.md)
            sql_done, python_done = _run_on_spark(case, settings, on_stage)
        for stage in STAGES:
            run_sql = bool(stage.sql or stage.kernel) and stage.name not in sql_done
            run_python = bool(stage.python) and stage.name not in python_done
            if not (run_sql or run_python):
                continue  # done (and reported) by the Spark engine
            started = time.perf_counter()
            run_stage(con, stage, settings, sql=run_sql, python=run_python)
            rows = (
                int(con.execute(f'SELECT count(*) FROM "{stage.output}"').fetchone()[0])  # type: ignore[index]
                if stage.output
                else 0
            )
            if on_stage:
                on_stage(stage.name, rows, time.perf_counter() - started)
        findings = build_findings(case, settings)
        case.set_meta("findings", json_text(findings))
        case.set_meta("analyzed_at", datetime.now(UTC).isoformat(timespec="seconds"))
        freshness.record_analysis(case)
        case.set_meta("parameters", json.dumps(settings.as_parameters()))
    return findings


def _run_on_spark(
    case: Case, settings: AnalysisSettings, on_stage: Callable[[str, int, float], None] | None
) -> tuple[set[str], set[str]]:
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError(
            f"--engine spark needs the optional Spark dependencies ({exc.name} is missing): "
            "pip install 'cargotrace[spark]' (and a Java 17+ runtime)"
        ) from None
    from cargotrace.engine.spark_job import run_case_on_spark

    return run_case_on_spark(case, settings, STAGES, on_stage=on_stage)
