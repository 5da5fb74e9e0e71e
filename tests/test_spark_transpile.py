"""DuckDB -> Spark SQL rewrites (engine/transpile.py), checked on the generated text; needs
sqlglot only. Their meaning on a real Spark session is checked in test_spark_engine.py."""

from __future__ import annotations

import os

import pytest

if os.environ.get("CI") != "true":
    pytest.importorskip("sqlglot")

from cargotrace.engine.spark_job import SPARK_STAGES, make_plan
from cargotrace.engine.transpile import (
    TranspileError,
    TypeHints,
    created_tables,
    expression_to_spark,
    portability_issues,
    referenced_tables,
    to_spark,
)
from cargotrace.settings import AnalysisSettings


def sql(text: str, **types: str) -> str:
    hints = TypeHints()
    for name, kind in types.items():
        hints.add(name, kind)
    return expression_to_spark(text, hints)


def test_epoch_keeps_the_fraction_and_to_timestamp_keeps_micros():
    assert sql("SELECT epoch(ts) FROM t") == "SELECT UNIX_MICROS(`ts`) / 1e6 FROM `t`"
    assert (
        sql("SELECT to_timestamp(x * 600) FROM t") == "SELECT TIMESTAMP_SECONDS(`x` * 600) FROM `t`"
    )


def test_exact_quantiles_never_approximate():
    out = sql("SELECT median(a), quantile_cont(b, 0.25), quantile_disc(c, 0.5) FROM t")
    assert "PERCENTILE(`a`, 0.5)" in out and "PERCENTILE(`b`, 0.25)" in out
    assert "PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY `c`" in out
    assert "APPROX" not in out
    assert portability_issues("SELECT approx_quantile(x, 0.9) FROM t")
    assert not portability_issues("SELECT quantile_cont(x, 0.9) FROM t")


def test_every_stage_is_portable():
    """No stage asks for something only one engine computes (gaps' service speed is exact)."""
    assert make_plan(AnalysisSettings()).issues == []


def test_ordered_list_keeps_order_nulls_and_filter_semantics():
    out = sql("SELECT list(x ORDER BY k DESC) FILTER (WHERE x IS NOT NULL) FROM t GROUP BY g")
    assert "COLLECT_LIST(STRUCT(`x` AS `v`, `k` AS `k0`)) FILTER(WHERE NOT `x` IS NULL)" in out
    assert "ARRAY_SORT(" in out and "`s` -> `s`.`v`" in out
    assert (
        "WHEN COUNT(*) FILTER(WHERE NOT `x` IS NULL) = 0 THEN NULL" in out
    )  # DuckDB: NULL, not []
    assert "string_agg" not in sql("SELECT string_agg(x, ';' ORDER BY x) FROM t").lower()


def test_len_of_a_list_is_size_and_of_text_is_length():
    out = sql("SELECT len(coalesce(ids, [])), len(name), len(tags) FROM t", tags="array<string>")
    assert (
        "SIZE(COALESCE(`ids`, ARRAY()))" in out
        and "LENGTH(`name`)" in out
        and "SIZE(`tags`)" in out
    )
    aliased = sql("WITH a AS (SELECT list(x) AS ids FROM t) SELECT len(ids) FROM a")
    assert "SIZE(`ids`)" in aliased


def test_timestamp_text_matches_duckdb_and_integer_casts_round_half_even():
    assert (
        sql("SELECT CAST(ts AS VARCHAR) FROM t", ts="timestamp")
        == "SELECT CONCAT(CAST(`ts` AS STRING), '+00') FROM `t`"
    )
    assert "TYPEOF(`x`) = 'timestamp'" in sql("SELECT CAST(x AS VARCHAR) FROM t")
    assert (
        sql("SELECT CAST(n AS VARCHAR) FROM t", n="bigint") == "SELECT CAST(`n` AS STRING) FROM `t`"
    )
    assert (
        sql("SELECT CAST(x / 2 AS INTEGER) FROM t")
        == "SELECT CAST(BROUND(`x` / 2) AS INT) FROM `t`"
    )
    assert (
        sql("SELECT CAST(floor(x) AS BIGINT) FROM t")
        == "SELECT CAST(FLOOR(`x`) AS BIGINT) FROM `t`"
    )


def test_arg_min_skips_null_values_like_duckdb():
    assert (
        sql("SELECT arg_min(a, b) FROM t")
        == "SELECT MIN_BY(`a`, CASE WHEN NOT `a` IS NULL THEN `b` END) FROM `t`"
    )


def test_window_ranks_are_bigint_and_qualify_is_eliminated():
    out = sql("SELECT a, row_number() OVER (PARTITION BY g ORDER BY t) AS n FROM x QUALIFY n = 1")
    assert "QUALIFY" not in out and "CAST(ROW_NUMBER() OVER" in out


def test_correlated_aggregate_moves_into_a_derived_table():
    out = sql(
        "SELECT (SELECT arg_min(p.id, abs(p.lat - s.lat)) FROM ports p WHERE abs(p.lat - s.lat) < 1) FROM s"
    )
    assert (
        "FROM (SELECT `p`.`id` AS `__c0`, ABS(`p`.`lat` - `s`.`lat`) AS `__c1` FROM `ports` AS `p` WHERE"
        in out
    )


def test_ddl_becomes_statements_over_dataframes():
    [create] = to_spark("CREATE OR REPLACE TEMP TABLE a AS SELECT x FROM b ORDER BY x")
    assert (create.kind, create.table, create.persistent, create.sql) == (
        "create",
        "a",
        False,
        "SELECT `x` FROM `b`",
    )
    [table] = to_spark("CREATE OR REPLACE TABLE out AS SELECT x FROM b ORDER BY x")
    assert table.persistent and table.sql.endswith("ORDER BY `x` NULLS LAST")
    [delete] = to_spark("DELETE FROM track WHERE mmsi IN (SELECT mmsi FROM s)")
    assert (
        delete.sql
        == "SELECT * FROM `track` WHERE NOT COALESCE((`mmsi` IN (SELECT `mmsi` FROM `s`)), FALSE)"
    )
    [insert] = to_spark("INSERT INTO track SELECT * FROM split")
    assert (
        insert.sql
        == "SELECT * FROM `track` UNION ALL SELECT * FROM (SELECT * FROM `split`) AS `ins`"
    )
    with pytest.raises(TranspileError):
        to_spark("INSERT INTO track (a) SELECT 1")
    assert referenced_tables("WITH c AS (SELECT * FROM a) SELECT * FROM c JOIN b USING (k)") == {
        "a",
        "b",
    }
    assert created_tables("CREATE TEMP TABLE x AS SELECT 1; CREATE TABLE y AS SELECT 2") == [
        ("x", False),
        ("y", True),
    ]


def test_every_maritime_statement_transpiles_and_the_plan_hands_back_what_duckdb_reads():
    plan = make_plan(AnalysisSettings())
    assert [s.name for s in plan.spark] == [s for s in SPARK_STAGES]
    assert {"positions", "ports", "port_areas", "port_cells"} <= plan.inputs
    assert {"observed_calls", "encounters", "gap_facts", "dark_call_candidates"} <= set(
        plan.handoff
    )
    assert "track" not in plan.handoff  # per-fix tables stay on the cluster
    for stage in plan.spark:
        for statement in stage.sql(AnalysisSettings()):  # type: ignore[misc]
            assert to_spark(statement)


def test_maritime_events_run_on_spark_or_are_declared_duckdb_only():
    from cargotrace.analysis.registry import STAGES
    from cargotrace.engine.spark_job import DUCKDB_ONLY, placement_note

    plan = make_plan(AnalysisSettings())
    on_spark = {s.name for s in plan.spark}
    assert {"loitering", "interference"} <= on_spark
    # the handoff brings back what DuckDB's steps after the job read
    assert {"loitering_candidates", "interference", "interference_marks", "circling",
            "spoofed_positions"} <= set(plan.handoff)  # fmt: skip
    events = {"loitering", "ais_disabling", "draught_changes", "interference", "interference_flags"}
    by_name = {s.name: s for s in STAGES}
    for name in events - on_spark:  # on DuckDB: declared, or a step over Spark's tables
        assert name in DUCKDB_ONLY or set(by_name[name].reads) <= set(plan.handoff) | {
            "gaps",
            "port_calls",
        }, name
    assert set(DUCKDB_ONLY) == {"ais_disabling", "draught_changes"}
    note = placement_note()
    assert "loitering" in note and "ais_disabling (" in note and "draught_changes (" in note
    assert "--spark-output" in placement_note(cluster=True)
