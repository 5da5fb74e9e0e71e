"""The stages' `reads`/`writes` declarations (analysis/registry.py) against what they run.

Every stage runs on a copy of the sample case through a connection that records each SQL
statement; sqlglot (engine/transpile.py) names the tables each statement reads and writes.
A table the stage creates before reading it is its own, not a read. `CREATE TABLE IF NOT
EXISTS` of a case table (a table of the case schema, made here for cases older than it)
is not a write. The SQL of the stages is also checked statically, for other settings.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cargotrace.analysis.pipeline import STAGES, run_stage, run_stages
from cargotrace.case.schema import create_statements
from cargotrace.case.store import Case
from cargotrace.demo import run_demo
from cargotrace.engine.spark_job import SPARK_STAGES, make_plan
from cargotrace.engine.transpile import created_tables, parse, referenced_tables
from cargotrace.settings import AnalysisSettings
from cargotrace.stage import Stage, with_prerequisites

pytest.importorskip("sqlglot")

SYSTEM = {"columns", "tables"}  # information_schema lookups
CASE_TABLES = {name for sql in create_statements() for name, _persistent in created_tables(sql)} | {
    "watchlist_lists",
    "watchlist_entries",
    "watchlist_names",
    "watchlist_links",
}


class Recorder:
    """A DuckDB connection that remembers the SQL run through it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.statements: list[str] = []
        self.registered: set[str] = set()

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self.statements.append(sql)
        return self._con.execute(sql, *args, **kwargs)

    def executemany(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self.statements.append(sql)
        return self._con.executemany(sql, *args, **kwargs)

    def register(self, name: str, obj: Any) -> Any:
        self.registered.add(name.lower())
        return self._con.register(name, obj)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _if_not_exists(sql: str) -> bool:
    [tree] = parse(sql)
    return bool(tree.args.get("exists"))


def reads_writes(
    statements: list[str], registered: set[str] = frozenset()
) -> tuple[set[str], set[str]]:
    reads: set[str] = set()
    writes: set[str] = set()
    for sql in statements:
        created = {name for name, _ in created_tables(sql)}
        if created & CASE_TABLES and _if_not_exists(sql):
            continue  # a case table made for an older case
        reads |= referenced_tables(sql) - writes - set(registered) - SYSTEM
        writes |= created
    return reads, writes


@pytest.fixture(scope="module")
def sample_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    demo = run_demo(tmp_path_factory.mktemp("demo"))
    return Path(demo.case_dir)


@pytest.fixture(scope="module")
def observed(
    sample_case: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[set[str], set[str]]]:
    """Per stage, the tables its SQL path (maritime_kernel=sql) read and wrote."""
    copy = tmp_path_factory.mktemp("declared") / "case"
    shutil.copytree(sample_case, copy)
    out = {}
    with Case.open(copy, write=True) as case:
        settings = AnalysisSettings(maritime_kernel="sql")
        for stage in STAGES:
            sql, python = Recorder(case.con), Recorder(case.con)
            run_stage(sql, stage, settings, python=False)  # type: ignore[arg-type]
            run_stage(python, stage, settings, sql=False)  # type: ignore[arg-type]
            sql_reads, sql_writes = reads_writes(sql.statements, sql.registered)
            py_reads, py_writes = reads_writes(python.statements, python.registered)
            out[stage.name] = (sql_reads | (py_reads - sql_writes), sql_writes | py_writes)
            out[stage.name + "/python_reads"] = (py_reads & sql_writes, set())
    return out


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_declared_reads_and_writes_are_what_the_stage_runs(
    stage: Stage, observed: dict[str, tuple[set[str], set[str]]]
) -> None:
    reads, writes = observed[stage.name]
    assert set(stage.writes) == writes
    assert set(stage.reads) == reads
    assert set(stage.python_reads) == observed[stage.name + "/python_reads"][0]


@pytest.mark.parametrize("stage", [s for s in STAGES if s.sql], ids=lambda s: s.name)
@pytest.mark.parametrize(
    "settings",
    [AnalysisSettings(), AnalysisSettings(shared_mmsi_min_jumps=1, gap_hours=2.0)],
    ids=["default", "other"],
)
def test_sql_of_every_stage_stays_within_its_declarations(
    stage: Stage, settings: AnalysisSettings
) -> None:
    assert stage.sql is not None
    reads, writes = reads_writes(stage.sql(settings))
    assert writes <= set(stage.writes)
    assert reads <= set(stage.reads)


def test_kernels_write_what_later_stages_read(
    sample_case: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    copy = tmp_path_factory.mktemp("kernels") / "case"
    shutil.copytree(sample_case, copy)
    read_later = {t for s in STAGES for t in s.reads}
    last = max(i for i, s in enumerate(STAGES) if s.kernel)
    with Case.open(copy, write=True) as case:
        con = case.con
        for stage in STAGES[: last + 1]:
            if stage.kernel is None:
                run_stage(con, stage, AnalysisSettings(maritime_kernel="numpy"))
                continue
            for table in stage.writes:
                con.execute(f"DROP TABLE IF EXISTS {table}")
            run_stage(con, stage, AnalysisSettings(maritime_kernel="numpy"))
            tables = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            present = {r[0] for r in tables} | {r[0] for r in con.execute("SHOW TABLES").fetchall()}
            assert set(stage.writes) & read_later <= present, stage.name


def _step(_con: object, _settings: object) -> None:
    return None


TOY = [
    Stage("a", reads=("positions",), writes=("t_a", "tmp_a"), python=_step, output="t_a"),
    Stage("b", reads=("t_a",), writes=("t_b",), python=_step, output="t_b"),
    Stage("c", reads=("shipments",), writes=("t_c",), python=_step, output="t_c"),
    Stage("d", reads=("t_b", "t_c", "tmp_a"), writes=("t_d", "t_b"), python=_step, output="t_d"),
    Stage("e", reads=("t_b",), writes=("t_e",), python=_step, output="t_e"),
]


def test_prerequisites_come_from_the_declarations() -> None:
    names = lambda wanted: [s.name for s in with_prerequisites(TOY, wanted)]  # noqa: E731
    assert names(["b"]) == ["a", "b"]
    assert names(["c"]) == ["c"]
    assert names(["d"]) == ["a", "b", "c", "d"]
    assert names(["e"]) == ["a", "b", "c", "d", "e"]  # t_b as d last wrote it
    with pytest.raises(KeyError, match="no_such_stage"):
        with_prerequisites(TOY, ["no_such_stage"])


def test_run_stages_runs_the_prerequisites(
    sample_case: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    copy = tmp_path_factory.mktemp("prereq") / "case"
    shutil.copytree(sample_case, copy)
    with Case.open(copy, write=True) as case:
        for table in ("port_calls", "arrivals"):
            case.con.execute(f"DROP TABLE IF EXISTS {table}")
        ran = run_stages(case.con, AnalysisSettings(), ["arrivals"])
        assert ran[-1] == "arrivals"
        assert {"track", "port_areas", "port_zones", "port_calls"} <= set(ran)
        assert "linking" not in ran and "sites" not in ran
        assert case.scalar("SELECT count(*) FROM arrivals") > 0


def test_spark_hands_back_what_duckdb_steps_declare_they_read() -> None:
    plan = make_plan(AnalysisSettings())
    on_spark = set(SPARK_STAGES)
    read_on_duckdb = {t for s in STAGES if s.name not in on_spark for t in s.reads}
    read_on_duckdb |= {t for s in STAGES if s.name in on_spark and s.python for t in s.python_reads}
    temporary = {name for name, persistent in plan.handoff.items() if not persistent}
    made_temporary = {name for name, persistent in plan.created.items() if not persistent}
    assert temporary == made_temporary & read_on_duckdb
    assert {"gap_facts", "dark_call_candidates"} <= temporary
    assert "track" not in plan.handoff
