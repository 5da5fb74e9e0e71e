"""The Spark engine against the DuckDB engine: the same stage SQL, identical results.

* the rewrites of engine/transpile.py mean on Spark what the DuckDB text means on DuckDB;
* the demo case: `analyze --engine spark` (case -> Parquet -> Spark -> back into the case)
  gives the DuckDB engine's port calls, gaps, encounters and, downstream, the same findings;
* the NOAA MarineCadastre sample (ingested into a case first) likewise;
* an NMEA log decoded on the executors (mapInArrow) gives the local decoder's positions, and
  the cluster entry point on those positions gives the DuckDB case's tables, also once
  attached into a case with `--spark-output`.

One local SparkSession for the module. Skipped without pyspark/sqlglot/Java, except under
CI=true, where a missing piece fails.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import math
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

if os.environ.get("CI") != "true":
    pytest.importorskip("pyspark")
    pytest.importorskip("sqlglot")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("no Java runtime for Spark", allow_module_level=True)

import pyarrow as pa

from cargotrace import workflow
from cargotrace.analysis.pipeline import DERIVED_TABLES
from cargotrace.case.store import Case
from cargotrace.demo import run_demo
from cargotrace.engine.spark import run_cluster_job
from cargotrace.engine.spark_inputs import read_positions
from cargotrace.engine.spark_job import make_plan, read_manifest
from cargotrace.engine.spark_runner import DRIVER_ROWS_ENV, from_arrow, spark_session, to_arrow
from cargotrace.engine.transpile import TypeHints, expression_to_spark
from cargotrace.errors import InputError
from cargotrace.ingest.nmea.decoder import decode_nmea_file
from cargotrace.maritime.kernels import partitions
from cargotrace.settings import AnalysisSettings

from conftest import shared_data

# Small data on a shared machine: few partitions, no adaptive re-planning.
TEST_CONF = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "2",
    "spark.sql.adaptive.enabled": "false",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC -XX:TieredStopAtLevel=1",
}  # quick JIT: short jobs
MARITIME = ("port_calls", "gaps", "encounters")
# the maritime events: loitering and interference on Spark (their Python steps and the flags
# on DuckDB), ais_disabling and draught_changes on DuckDB after the Spark stages
EVENTS = ("loitering", "interference", "circling", "spoofed_positions", "interference_flags",
          "ais_disabling", "draught_changes")  # fmt: skip


@pytest.fixture(autouse=True)
def _statements_on_spark(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every statement on Spark unless a test says otherwise: these tests check that the
    transpiled SQL means on Spark what it means on DuckDB, and their tables are all small
    enough to run on the driver (engine/spark_runner.py, `driver_rows`)."""
    monkeypatch.setenv(DRIVER_ROWS_ENV, "0")


@pytest.fixture(scope="module")
def spark() -> Any:
    session = spark_session(conf=TEST_CONF)
    yield session
    session.stop()


# ----------------------------------------------------------------------------- comparing
def _norm(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, decimal.Decimal):
        return round(float(value), 6)
    if isinstance(value, dt.datetime):
        return (
            (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    return value


def _rows(
    con: duckdb.DuckDBPyConnection, source: str, drop: set[str] = frozenset()
) -> tuple[list[str], list[tuple]]:  # type: ignore[assignment]
    cursor = con.execute(f"SELECT * FROM {source}")
    names = [d[0] for d in cursor.description]
    keep = [i for i, n in enumerate(names) if n not in drop]
    rows = sorted((tuple(_norm(r[i]) for i in keep) for r in cursor.fetchall()), key=repr)
    return [names[i] for i in keep], rows


def _rows_of(table: pa.Table, names: list[str]) -> list[tuple]:
    return sorted((tuple(_norm(r[n]) for n in names) for r in table.to_pylist()), key=repr)


def _decimals(x: float) -> int:
    """How many decimals `x` was rounded to, as Python prints it (0.88: 2)."""
    text = repr(x)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def _same_value(a: Any, b: Any) -> bool:
    # a mean stored rounded (encounters' lat/lon to 6 decimals, their median speed of bin means
    # to 2) can fall either side of a rounding boundary when the engines sum in another order
    # (seen: 40.704763 vs 40.704762; 0.88 vs 0.87 in a full run at load 14): one unit in the
    # last decimal either was rounded to is the same value, anything more is a difference
    if isinstance(a, float) and isinstance(b, float):
        decimals = max(_decimals(a), _decimals(b))  # 1 or 0 tells too little (0.5 may be 0.500)
        unit = 10.0 ** -min(6, decimals) if decimals >= 2 else 0.0
        return abs(a - b) <= max(1.5e-6, 1.001 * unit)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(map(_same_value, a, b))
    return bool(a == b)


def _same_rows(left: list[tuple], right: list[tuple]) -> bool:
    return len(left) == len(right) and all(map(_same_value, left, right))


def _differences(left: list[tuple], right: list[tuple], shown: int = 5) -> list[tuple]:
    """The first rows only one side has (for an assertion message)."""
    candidates_left, candidates_right = set(left) - set(right), set(right) - set(left)
    only_left = sorted(
        (r for r in candidates_left if not any(_same_value(r, o) for o in candidates_right)),
        key=repr,
    )
    only_right = sorted(
        (r for r in candidates_right if not any(_same_value(r, o) for o in candidates_left)),
        key=repr,
    )
    return list(zip(only_left[:shown], only_right[:shown], strict=False))


def unportable_columns(settings: AnalysisSettings) -> dict[str, set[str]]:
    """Columns no engine can reproduce if a stage asks for an approximate quantile (see
    engine/transpile.portability_issues): none today (gaps.py uses the exact quantile_disc),
    gaps.service_speed_kn if it ever did. Everything else is compared."""
    issues = make_plan(settings).issues
    return {"gaps": {"service_speed_kn"}} if any(i.startswith("gaps:") for i in issues) else {}


def assert_same_tables(
    left: Path, right: Path, tables: tuple[str, ...], settings: AnalysisSettings
) -> dict[str, int]:
    skip = unportable_columns(settings)
    counts = {}
    with Case.open(left) as a, Case.open(right) as b:
        for table in tables:
            cols_a, rows_a = _rows(a.con, table, skip.get(table, set()))
            cols_b, rows_b = _rows(b.con, table, skip.get(table, set()))
            assert cols_a == cols_b, table
            assert _same_rows(rows_a, rows_b), (
                f"{table}: {len(rows_a)} DuckDB rows vs {len(rows_b)} Spark rows differ, "
                f"first differences (DuckDB, Spark) in {cols_a}: {_differences(rows_a, rows_b)}"
            )
            counts[table] = len(rows_a)
    return counts


def _fixes_sharing_a_second(case_dir: Path) -> int:
    """Fixes of a transmitter that share its second with another fix: the track orders them
    by position and speed (maritime/track.py), so both engines must agree on them too."""
    with Case.open(case_dir) as case:
        return int(
            case.scalar("""SELECT count(*) FROM (SELECT count(*) AS n FROM positions
                                   GROUP BY mmsi, "timestamp" HAVING n > 1)""")
        )


def _drop_derived(case_dir: Path) -> None:
    with Case.open(case_dir, write=True) as case:
        for table in DERIVED_TABLES:
            case.con.execute(f'DROP TABLE IF EXISTS "{table}"')


# ----------------------------------------------------------------------------- semantics
SEMANTICS = [
    "SELECT g, epoch(ts) AS e FROM t",
    "SELECT g, median(x) AS m, quantile_cont(x, 0.3) AS q, quantile_disc(x, 0.95) AS d FROM t GROUP BY g",
    "SELECT g, list(s ORDER BY k DESC) AS l FROM t GROUP BY g",
    "SELECT g, list(s ORDER BY k) FILTER (WHERE x > 100) AS l, len(list(s)) AS n FROM t GROUP BY g",
    "SELECT g, string_agg(s, ';' ORDER BY s) AS j FROM t GROUP BY g",
    "SELECT k, CAST(ts AS VARCHAR) AS v, md5(CAST(ts AS VARCHAR)) AS h FROM t",
    "SELECT k, CAST(x AS INTEGER) AS i, round(x, 2) AS r, CAST(ts AS DATE) - 1 AS d FROM t",
    "SELECT g, arg_min(s, k) AS a, arg_max(s, k) AS b FROM t GROUP BY g",
    "SELECT k, to_timestamp(epoch(ts) + 0.25) AS t2 FROM t",
    "SELECT u.k, (SELECT arg_min(v.s, abs(v.x - u.x)) FROM t v WHERE v.k <> u.k AND abs(v.x - u.x) < 5) AS near FROM t u",
    "SELECT k FROM t QUALIFY row_number() OVER (PARTITION BY g ORDER BY k DESC) = 1",
]


def test_rewrites_mean_the_same_on_both_engines(spark: Any) -> None:
    con = duckdb.connect()
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
        (1, 2.5, 1, TIMESTAMPTZ '2022-01-03 00:00:00.5+00', 'b'), (1, 3.5, 2, TIMESTAMPTZ '2022-01-03 10:00:00+00', NULL),
        (1, -2.5, 3, TIMESTAMPTZ '2021-12-31 23:59:59.123456+00', 'a'), (2, 2.675, 4, TIMESTAMPTZ '2022-06-01 12:00:00+00', NULL),
        (2, 1.005, 5, TIMESTAMPTZ '2022-06-01 12:00:01+00', 'c'), (2, 10.0, 6, TIMESTAMPTZ '2022-06-02 00:00:00+00', 'd'))
        AS v(g, x, k, ts, s)""")  # fmt: skip
    con.execute("ALTER TABLE t ALTER x TYPE DOUBLE")
    from_arrow(spark, con.execute("SELECT * FROM t").arrow().read_all()).createOrReplaceTempView(
        "t"
    )
    hints = TypeHints.from_schemas(
        {"t": {"g": "int", "x": "double", "k": "int", "ts": "timestamp", "s": "string"}}
    )
    for query in SEMANTICS:
        expected = sorted(
            (tuple(_norm(v) for v in r) for r in con.execute(query).fetchall()), key=repr
        )
        table = to_arrow(spark.sql(expression_to_spark(query, hints)))
        got = sorted((tuple(_norm(v) for v in r.values()) for r in table.to_pylist()), key=repr)
        assert got == expected, query


def test_round_and_integer_casts_agree_on_many_doubles(spark: Any) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE r AS SELECT (random() - 0.5) * 2000 AS x FROM range(3000) UNION ALL "
                "SELECT i / 8.0 - 50 FROM range(800) t(i) UNION ALL SELECT i * 0.0025 FROM range(2000) t(i)")  # fmt: skip
    from_arrow(spark, con.execute("SELECT x FROM r").arrow().read_all()).createOrReplaceTempView(
        "r"
    )
    query = "SELECT x, round(x, 3) AS a, round(x, 2) AS b, CAST(x AS BIGINT) AS c, CAST(x * 4 AS INTEGER) AS d FROM r"
    expected = sorted(con.execute(query).fetchall())
    got = sorted(
        tuple(row.values()) for row in to_arrow(spark.sql(expression_to_spark(query))).to_pylist()
    )
    assert got == expected


# ----------------------------------------------------------------------------- demo
def test_demo_case_spark_equals_duckdb(
    spark: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path_factory.mktemp("spark_demo")
    demo = run_demo(out)  # the whole pipeline on DuckDB
    spark_case = out / "spark_case"
    shutil.copytree(demo.case_dir, spark_case)
    _drop_derived(spark_case)
    # the stage SQL on Spark against the NumPy kernels on DuckDB (the NOAA test crosses the other way)
    findings = workflow.analyze(spark_case, AnalysisSettings(engine="spark", maritime_kernel="sql"))
    counts = assert_same_tables(demo.case_dir, spark_case, (*MARITIME, "identity_events", "ship_links", "dark_calls", "voyages",
                                *EVENTS), AnalysisSettings())  # fmt: skip
    assert counts["port_calls"] > 40 and counts["gaps"] > 0
    for key in ("arrivals", "linked_shipments", "sites", "label_changes", "totals", "significance"):
        assert findings[key] == demo.findings[key], key
    assert findings["parameters"]["engine"] == "spark"


# ----------------------------------------------------------------------------- NOAA
def test_noaa_sample_spark_equals_duckdb(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The NumPy kernels on Spark (vessel partitions through mapInArrow, 20,000 positions a
    partition at least: several) against the stage SQL on DuckDB."""
    path = shared_data("ais", "noaa", "AISdata_marinecadastre_20220103.csv.gz")
    monkeypatch.setenv(partitions.PARTITION_FIXES_ENV, "20000")
    # the per-fix tables (track, zone marks: ~100,000 rows) on Spark, as in a real run, and the
    # statements over per-vessel, per-call and per-gap tables only on the driver
    monkeypatch.setenv(DRIVER_ROWS_ENV, "20000")
    duck, on_spark = tmp_path / "duck", tmp_path / "spark"
    workflow.ingest(duck, "ais", [path])
    assert _fixes_sharing_a_second(duck) > 0  # the sample's 43 seconds with two fixes
    with Case.open(duck, write=True) as case:
        # each vessel's fixes in time order, as ingest stored them before 2026-12-07: the SQL's
        # avg of a 10-minute bin adds its fixes in table order, the kernels in time order, and
        # since ingest appends a file as it is, a bin's mean speed may differ in its last bit
        # and land on the other side of a rounding edge (0.875 kn: 0.88 or 0.87)
        case.con.execute("CREATE TEMP TABLE sorted AS SELECT * FROM positions")
        case.con.execute("DELETE FROM positions")
        case.con.execute(
            "INSERT INTO positions SELECT * FROM sorted ORDER BY mmsi, timestamp, lat, lon, sog NULLS LAST"
        )
    shutil.copytree(duck, on_spark)
    # one day, ~10 fixes per vessel: encounters of 3 bins anywhere (also in port) give rows to compare
    settings = AnalysisSettings(encounter_min_port_km=0.0, encounter_min_hours=0.5)
    workflow.analyze(duck, dataclasses.replace(settings, maritime_kernel="sql"))
    workflow.analyze(on_spark, dataclasses.replace(settings, engine="spark"))
    counts = assert_same_tables(
        duck, on_spark, (*MARITIME, "ship_links", "identity_events", *EVENTS), settings
    )
    placed = read_manifest(on_spark / "spark" / "output")["statements_placed"]
    assert {"identity_events", "observed_calls", "gap_facts"} <= set(placed["driver"])
    # from the small tables the kernels' pass derived (engine/spark_derived.py), not the track
    assert {"ais_calls", "raw_gaps", "service_speed"} <= set(placed["driver"])
    assert {"clone_pairs", "linked_fixes"} <= set(placed["spark"])  # they read the track
    assert counts["port_calls"] > 50 and counts["gaps"] > 100 and counts["encounters"] > 0
    assert counts["spoofed_positions"] > 0  # the sample's out-and-back fixes, on both engines


# ----------------------------------------------------------------------------- NMEA
def test_nmea_decoded_on_executors_then_cluster_job_equals_duckdb(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = shared_data("ais", "amsa", "exact-earth-augmented-3.txt")
    positions = read_positions(spark, [str(path)], "nmea", deduplicate=False, checked=False)
    decoded = to_arrow(positions)
    local = pa.concat_tables([b.positions for b in decode_nmea_file(path)])
    fields = ("mmsi", "timestamp", "lat", "lon", "sog", "cog", "heading", "msg_type")

    def as_rows(t: pa.Table, row: str) -> list[tuple]:
        columns = (t.column(row).to_pylist(), *(t.column(f).to_pylist() for f in fields))
        return sorted(zip(*columns, strict=True), key=repr)

    assert as_rows(decoded, "source_row") == as_rows(local, "line_no") and decoded.num_rows > 2000

    # a satellite log of two hours: thresholds scaled down so that every stage has rows
    settings = AnalysisSettings(gap_hours=0.25, min_call_hours=0.1, port_gap_hours=0.5, encounter_min_hours=0.2,
                                encounter_max_m=2000.0, encounter_max_sog_kn=20.0, encounter_min_port_km=0.0,
                                port_radius_km=10.0)  # fmt: skip
    case_dir = tmp_path / "case"
    workflow.ingest(case_dir, "ais", [path])
    positions = read_positions(spark, [str(path)], "nmea")  # cleaned and de-duplicated as at ingest
    with Case.open(case_dir) as case:
        expected = _rows(
            case.con,
            "positions",
            {"file_hash", "sheet", "source_file", "flags"},
        )
    assert _rows_of(to_arrow(positions), expected[0]) == expected[1]
    assert len(expected[1]) < decoded.num_rows  # the satellite log repeats messages
    attached = tmp_path / "attached"
    shutil.copytree(case_dir, attached)
    workflow.analyze(case_dir, settings)

    out = tmp_path / "out"
    on_spark = dataclasses.replace(settings, engine="spark")
    monkeypatch.setenv(DRIVER_ROWS_ENV, "300")  # some statements on the driver, some on Spark
    manifest = run_cluster_job(spark, positions, str(out), on_spark, case=case_dir, checkpoint="memory", log=lambda _m: None,
                               decode_once=True)  # fmt: skip
    assert {"observed_calls", "encounters", "gap_facts"} <= set(
        manifest["tables"]
    ) and "gaps" in manifest["driver_tables"]
    assert manifest["statements_placed"]["driver"] and manifest["statements_placed"]["spark"]
    skip = unportable_columns(settings)
    with Case.open(case_dir) as case:
        for table in ("observed_calls", *MARITIME[1:], "loitering", "interference", "circling",
                      "spoofed_positions"):  # fmt: skip
            expected = _rows(case.con, table, skip.get(table, set()))
            got = _rows(
                case.con, f"read_parquet('{out / table}/*.parquet')", skip.get(table, set())
            )
            assert got == expected, table
            assert expected[1] or table in ("observed_calls", *EVENTS), f"no {table} to compare"

    with pytest.raises(InputError, match="other maritime settings"):
        workflow.analyze(
            attached, AnalysisSettings(engine="spark", extra={"spark_output": str(out)})
        )
    workflow.analyze(attached, dataclasses.replace(on_spark, extra={"spark_output": str(out)}))
    assert_same_tables(
        case_dir, attached, (*MARITIME, "identity_events", "voyages", *EVENTS), settings
    )


# ----------------------------------------------------------------------------- kernels
@pytest.mark.parametrize(
    ("fused", "kept"),
    [(True, ""), (False, ""), (True, "partitions"), (True, "buckets"), (False, "buckets")],
    ids=["one fused pass", "two passes", "positions kept in vessel partitions",
         "positions in bucket files, one pass", "positions in bucket files, two passes"],
)  # fmt: skip
def test_track_and_port_zone_kernels_on_spark_equal_the_sql(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fused: bool, kept: str
) -> None:
    """The track and port zones kernels on Spark (mapInArrow over vessel partitions, several
    of them; in one pass when the port tables are there when the track runs, else in two;
    `kept`: the positions shuffled by vessel and kept once, as the cluster job does, so the
    kernels' pass reads those partitions without a shuffle of its own; or written by DuckDB
    in bucket files of whole vessels, as `analyze --engine spark` does, each read by one task
    of the pass)
    write the rows of the stage SQL on DuckDB: every column of `track`,
    `shared_mmsi`, `spoofed_fixes`, `zone_marks`, `visits` and `port_stops`, for a cloned
    MMSI (two ships 300 km apart reporting in turn, one of them in port), fixes sharing a
    second, a missing speed, a 7-hour gap, a spoofed fix, two overlapping port circles and a
    polygon port with a ship stopped in it. The loitering and interference kernels run in the
    same pass (their rows, then the stages' SQL over them on Spark: `loitering_candidates`,
    `position_jumps`, `circling`, `interference` as the SQL on DuckDB), with a ship circling
    slowly far from ports for five hours (a loitering run and five circling hours)."""
    from cargotrace.analysis.pipeline import STAGES, run_stage
    from cargotrace.case.schema import create_statements
    from cargotrace.engine.spark_kernels import (
        run_interference,
        run_loitering,
        run_port_zones,
        run_track,
    )
    from cargotrace.engine.spark_runner import SparkRunner
    from cargotrace.maritime import interference, loitering

    t0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    fixes = []
    for i in range(30):
        t = t0 + dt.timedelta(minutes=10 * i + (420 if i >= 20 else 0))
        fixes.append((273000001, t, *((40.0, 150.0) if i % 2 else (43.0, 151.0)), 0.1))
        fixes.append((273000002, t, 40.0 + 0.004 * i, 150.0, None if i % 4 == 0 else 0.1 * (i % 9)))
        fixes.append((273000002, t, 40.0 + 0.004 * i - 0.001, 150.0, 5.0))  # same second
        far = i == 12  # one fix 300 km away and straight back: spoofed
        fixes.append(
            (636012345, t + dt.timedelta(seconds=i), -33.9 + 3 * far, 18.4 + 0.001 * i, 0.0)
        )
    for i in range(60):  # every 5 minutes on a circle of 2.2 km, once round an hour, at 1 kn
        angle = 2 * math.pi * (i % 12) / 12
        fixes.append((412000001, t0 + dt.timedelta(minutes=5 * i),
                      10.0 + 0.02 * math.sin(angle), 60.0 + 0.02 * math.cos(angle), 1.0))  # fmt: skip
    con = duckdb.connect()
    for statement in create_statements():
        con.execute(statement)
    con.executemany(
        "INSERT INTO positions (mmsi, timestamp, lat, lon, sog) VALUES (?, ?, ?, ?, ?)", fixes
    )
    square = "POLYGON((18.39 -33.92, 18.44 -33.92, 18.44 -33.88, 18.39 -33.88, 18.39 -33.92))"
    con.execute(f"""INSERT INTO ports (locode, name, country, lat, lon, radius_km, geometry_wkt, origin)
                    VALUES ('XXAAA', 'a', 'XX', 40.0, 150.0, 5.0, NULL, 'user'),
                           ('XXBBB', 'b', 'XX', 40.07, 150.0, 3.0, NULL, 'user'),
                           ('ZACPT', 'c', 'ZA', -33.9, 18.41, NULL, '{square}', 'user')""")
    sql = AnalysisSettings(maritime_kernel="sql")
    for name in ("track", "port_areas", "port_zones"):
        run_stage(con, next(s for s in STAGES if s.name == name), sql)
    for statement in (*loitering.statements(sql), *interference.statements(sql)):
        con.execute(statement)
    compared = ("track", "shared_mmsi", "spoofed_fixes", "zone_marks", "visits", "port_stops",
                "loitering_candidates", "position_jumps", "circling", "interference")  # fmt: skip
    expected = {t: _rows(con, t) for t in compared}

    monkeypatch.setenv(partitions.PARTITION_FIXES_ENV, "40")  # 180 positions: 5 partitions
    runner = SparkRunner(spark, str(tmp_path), "memory")

    def register(*names: str) -> None:
        for name in names:
            table = con.execute(f"SELECT * FROM {name}").arrow().read_all()
            runner.register(name, from_arrow(spark, table))

    register("ports", *(("port_cells", "port_areas", "port_edges") if fused else ()))
    positions = from_arrow(spark, con.execute("SELECT * FROM positions").arrow().read_all())
    if kept == "partitions":
        runner.partition_by_vessel("positions", positions)
        assert runner.by_vessel == {"positions": 180}
        assert runner.table("positions").rdd.getNumPartitions() == 5
    elif kept == "buckets":
        from cargotrace.engine.spark_buckets import write_buckets

        runner.buckets = write_buckets(con, tmp_path / "buckets", ["mmsi", "timestamp"], least=1)
        assert (runner.buckets.count, runner.buckets.rows) == (5, 180)
        runner.register("positions", positions)
    else:
        runner.register("positions", positions)
    run_track(runner, AnalysisSettings())
    assert ("zone_marks" in runner.tables) is fused  # written by the track's pass
    register(*(() if fused else ("port_cells", "port_areas", "port_edges")))
    run_port_zones(runner, AnalysisSettings())
    run_loitering(runner, AnalysisSettings())
    run_interference(runner, AnalysisSettings())
    if kept == "buckets":  # each task wrote its bucket's track: one file a bucket of vessels
        assert runner.buckets is not None
        filled = [b for b in range(5) if runner.buckets.files(b)]  # 4 vessels in 5 buckets
        written = sorted((tmp_path / "tables" / "track_pass" / "track").glob("*.parquet"))
        assert [p.name for p in written] == [f"part-{b}.parquet" for b in filled]
        assert len(filled) > 1
    else:
        assert runner.table("track").rdd.getNumPartitions() == 5
    for table, (names, rows) in expected.items():
        got = to_arrow(runner.table(table))
        assert got.column_names == names, table
        assert _rows_of(got, names) == rows, table
    assert len(expected["shared_mmsi"][1]) == 1 and len(expected["spoofed_fixes"][1]) == 1
    assert len(expected["track"][1]) == 179
    assert len(expected["loitering_candidates"][1]) == 1 and len(expected["circling"][1]) == 5
    assert len(expected["position_jumps"][1]) > 0
    assert len(expected["visits"][1]) >= 3 and len(expected["port_stops"][1]) >= 2
    runner.cleanup()


@pytest.mark.parametrize(
    "via_track",
    ["", "shuffled", "buckets"],
    ids=["from the positions", "from the track's bins", "from the track's bins in bucket files"],
)
def test_encounters_kernel_on_spark_equals_the_sql(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via_track: str
) -> None:
    """The encounters kernel on Spark (positions hash-partitioned by their 10-minute bin,
    mapInArrow over parts of whole bins; or, as in the cluster job, the bins the track
    kernel's pass averaged per vessel, hash-partitioned by bin; or, as `analyze --engine
    spark`, those bins written by the pass's tasks in files of whole bins, a bucket of them
    read by each task of the encounters' pass) writes the stage SQL's `close_pairs`,
    `encounter_crowds` and `encounters` on DuckDB: a pair stopped 110 m apart at sea for three
    hours beside a crowd of four vessels in one cell (limit 3), one pair 600 m apart (too far)
    and a missing speed."""
    from cargotrace.engine.spark_kernels import run_encounters, run_track
    from cargotrace.engine.spark_runner import SparkRunner
    from cargotrace.maritime import encounters
    from cargotrace.maritime.kernels import encounters as encounters_kernel

    t0 = dt.datetime(2024, 5, 1, 6, 0, tzinfo=dt.UTC)
    fixes = []
    for i in range(36):  # every 5 minutes for 3 hours
        t = t0 + dt.timedelta(minutes=5 * i, seconds=7)
        fixes.append((211000001, t, 20.0, 40.0, None if i == 3 else 0.5))
        fixes.append((211000002, t + dt.timedelta(seconds=30), 20.001, 40.0, 0.4))
        fixes.append((211000003, t, 20.0, 40.0 + 0.0057, 0.3))  # ~600 m east: too far
        if i < 6:  # a crowd of four in one cell for half an hour
            for k in range(4):
                fixes.append((366000000 + k, t, -10.0 + 0.0003 * k, 120.0, 8.0))
    settings = AnalysisSettings(encounter_max_vessels_per_cell=3)
    con = duckdb.connect()
    con.execute(
        'CREATE TABLE positions (mmsi BIGINT, "timestamp" TIMESTAMPTZ, lat DOUBLE, lon DOUBLE, sog DOUBLE)'
    )
    con.executemany("INSERT INTO positions VALUES (?, ?, ?, ?, ?)", fixes)
    con.execute("""CREATE TABLE ship_links (mmsi BIGINT, ship_key VARCHAR, vessel_key VARCHAR,
                                            valid_from TIMESTAMPTZ, valid_to TIMESTAMPTZ)""")
    con.execute("CREATE TABLE ports (locode VARCHAR, lat DOUBLE, lon DOUBLE)")
    con.execute("INSERT INTO ports VALUES ('XXAAA', 50.0, 0.0)")
    for statement in encounters.statements(settings):
        con.execute(statement)
    compared = ("close_pairs", "encounter_crowds", "encounters")
    expected = {t: _rows(con, t) for t in compared}

    runner = SparkRunner(spark, str(tmp_path), "memory")
    for name in ("ship_links", "ports"):
        runner.register(
            name, from_arrow(spark, con.execute(f"SELECT * FROM {name}").arrow().read_all())
        )
    positions = from_arrow(spark, con.execute("SELECT * FROM positions").arrow().read_all())
    if via_track == "buckets":
        from cargotrace.engine.spark_buckets import write_buckets

        monkeypatch.setenv(partitions.PARTITION_FIXES_ENV, "30")  # 132 positions: 5 buckets
        runner.buckets = write_buckets(con, tmp_path / "buckets", ["mmsi"], least=1)
        assert (runner.buckets.count, runner.buckets.rows) == (5, 132)
        runner.register("positions", positions)
    else:
        runner.partition_by_vessel("positions", positions)
    if via_track:
        run_track(runner, settings)
        assert runner.table(encounters_kernel.BINS).count() > 0
        assert (runner.bin_buckets is not None) == (via_track == "buckets")
    run_encounters(runner, settings)
    for table, (names, rows) in expected.items():
        got = to_arrow(runner.table(table))
        assert got.column_names == names, table
        assert _same_rows(_rows_of(got, names), rows), table
    assert len(expected["encounters"][1]) == 1 and len(expected["encounter_crowds"][1]) == 3
    runner.cleanup()


def test_session_start_takes_the_active_session_and_warms_its_workers(spark: Any) -> None:
    """`analyze --engine spark` starts its session on a thread while DuckDB exports the
    inputs (engine/spark_runner.SessionStart); an active session is taken as it is, its
    shuffle partitions read from it, and the warming job runs on it."""
    from cargotrace.engine.spark_runner import SessionStart, warm_workers

    starting = SessionStart(conf={"spark.sql.shuffle.partitions": "99"})
    assert starting.result() is spark
    assert starting.shuffle_partitions() == 1  # the session's (TEST_CONF), not the conf asked
    warm_workers(spark)  # a Python job a core, importing the kernels in the workers
