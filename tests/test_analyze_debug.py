"""`cargotrace analyze --debug` keeps every intermediate (temporary) table a stage declares it
writes, under its declared name in the case's `debug` schema, readable after the run."""

from __future__ import annotations

from typer.testing import CliRunner

import cargotrace
from cargotrace.analysis.pipeline import DEBUG_SCHEMA, analysis_stages
from cargotrace.case.store import Case
from cargotrace.cli.app import app
from cargotrace.settings import AnalysisSettings

from builders import linked_case


def _case(tmp_path):
    b = linked_case(tmp_path)
    b.run()  # ingest and a first analysis
    return b.case_dir


def _schema_tables(case: Case, schema: str) -> set[str]:
    return {
        r["table_name"]
        for r in case.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
        )
    }


def test_debug_keeps_every_declared_temporary_table_of_the_run(tmp_path):
    case_dir = _case(tmp_path)
    result = CliRunner().invoke(app, ["analyze", "--case", str(case_dir), "--debug"])
    assert result.exit_code == 0, result.output
    plan = analysis_stages()
    declared = {t for s in plan for t in s.writes}
    with Case.open(case_dir) as case:
        kept = _schema_tables(case, DEBUG_SCHEMA)
        persistent = _schema_tables(case, "main")
        # every kept table is declared by a stage, and is not one of the case's own tables
        assert kept and kept <= declared
        assert not kept & persistent
        # every declared table of the run is either in the case or kept for debugging
        # (a kernel may leave out a temporary table that no later stage reads)
        assert {"visits", "gap_facts", "port_calls", "arrivals"} <= kept | persistent
        assert {"visits", "gap_facts"} <= kept
        # kept as the stage left it: the visits behind the port call
        assert case.scalar(f"SELECT count(*) FROM {DEBUG_SCHEMA}.visits") > 0
        arrival = case.rows("SELECT arrival_id FROM arrivals")
    assert len(arrival) == 1
    # the library reads them by their qualified name
    visits = cargotrace.open_case(case_dir).table(f"{DEBUG_SCHEMA}.visits")
    assert visits.num_rows > 0


def test_an_analysis_without_debug_drops_the_kept_tables(tmp_path):
    case_dir = _case(tmp_path)
    session = cargotrace.open_case(case_dir)
    session.analyze(AnalysisSettings(), debug=True)
    with Case.open(case_dir) as case:
        assert _schema_tables(case, DEBUG_SCHEMA)
    session.analyze(AnalysisSettings())
    with Case.open(case_dir) as case:
        assert _schema_tables(case, DEBUG_SCHEMA) == set()
        assert not case.has_table("gap_facts")  # a kept table is not one of the case's
