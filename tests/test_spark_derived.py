"""The small tables the kernels' pass derives on Spark (engine/spark_derived.py) and the
statements that read them instead of the track or the zone marks (maritime/sources.py): no
Spark needed, DuckDB runs both. The statements over the small tables give the stage SQL's
rows on the NOAA day; each small table is read by exactly one statement of the stages, and
only while current; the service speed is DuckDB's `quantile_disc`, to the bit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from cargotrace.analysis.pipeline import STAGES, run_stage
from cargotrace.engine import spark_derived as derived
from cargotrace.ingest.kinds.ports import gazetteer_table
from cargotrace.maritime.sources import PER_FIX, Sources
from cargotrace.settings import AnalysisSettings

from conftest import shared_data
from kernel_support import positions_case


@dataclass
class _Held:
    version: int = 0


@dataclass
class _Runner:
    """What `spark_derived.sources` asks of a SparkRunner: the tables' versions, the derived ones."""

    tables: dict[str, Any] = field(
        default_factory=lambda: {"track": _Held(), "zone_marks": _Held()}
    )
    derived: dict[str, dict[str, int]] = field(default_factory=dict)


def _current() -> _Runner:
    runner = _Runner()
    for name in derived.SOURCES:
        runner.tables[name] = _Held()
    derived.mark_current(runner)  # type: ignore[arg-type]
    return runner


def _stage_sql(settings: AnalysisSettings, runner: _Runner | None = None) -> list[str]:
    return [
        sql
        for stage in STAGES
        if stage.sql
        for sql in (derived.stage_sql(runner, stage, settings) if runner else stage.sql(settings))  # type: ignore[arg-type]
    ]


def test_each_small_table_is_read_by_one_statement_of_the_stages_and_only_while_current() -> None:
    settings = AnalysisSettings()
    before = _stage_sql(settings)
    after = _stage_sql(settings, _current())
    changed = [b for a, b in zip(before, after, strict=True) if a != b]
    reads = sorted(name for name in derived.SOURCES for sql in changed if name in sql)
    assert reads == sorted(derived.SOURCES)  # each derived table read by one statement
    assert len(changed) == 4
    for a, b in zip(before, after, strict=True):  # only the table read differs
        for name, source in derived.SOURCES.items():
            b = b.replace(f" {name} ", f" {source} ").replace(f" {name}\n", f" {source}\n")
            b = b.replace(f" {name})", f" {source})")
        assert a == b
    stale = _current()
    stale.tables["track"].version = 1  # the track changed after the pass: none from it
    kept = _stage_sql(settings, stale)
    assert [b for a, b in zip(before, kept, strict=True) if a != b] == [
        b for b in changed if derived.ZONE_GAPS in b
    ]
    assert derived.sources(stale) == Sources(gap_marks=derived.ZONE_GAPS)
    assert derived.sources(_Runner()) == PER_FIX
    assert _stage_sql(settings, _Runner()) == before


@pytest.mark.parametrize("quantile", [0.95, 0.5, 0.1, 1 / 3, 0.999, 1.0, 0.01])
def test_service_speeds_are_duckdbs_quantile_disc(quantile: float) -> None:
    rng = np.random.default_rng(int(quantile * 1000))
    sizes = [1, 2, 3, 7, 19, 20, 21, 100, 333, 1000, 4999]
    vid = np.concatenate([np.full(n, 10 * (i + 1), np.int64) for i, n in enumerate(sizes)])
    sog = np.round(rng.uniform(0, 45, len(vid)), 1)  # ties, and speeds out of the band
    sog[rng.random(len(vid)) < 0.05] = np.nan
    sog[::97] = 3.0  # the band's edges are out
    sog[5::101] = 40.0
    order = rng.permutation(len(vid))  # in no particular order
    vid, sog = vid[order], sog[order]
    con = duckdb.connect()
    con.register("t", pa.table({"vid": vid, "sog": pa.array(sog, from_pandas=True)}))
    expected = con.execute(
        f"SELECT vid, quantile_disc(sog, {quantile}) FROM t WHERE sog > 3 AND sog < 40 "
        "GROUP BY vid ORDER BY vid"
    ).fetchall()
    with_nan = con.execute("SELECT count(*) FROM t WHERE isnan(sog)").fetchone()
    assert with_nan is not None and with_nan[0] == 0  # NaN went in as NULL, as in a track
    got = derived.service_speeds(vid, sog, quantile).to_pylist()
    assert [(r["vid"], r["sog"]) for r in got] == expected
    assert len(expected) >= len(sizes) - 2  # a vessel of one or two fixes may have none


def test_derived_rows_of_a_part() -> None:
    ts = pa.array([0, 1, 2, 3, 4], pa.timestamp("us", tz="UTC"))
    track = pa.record_batch(
        {"vid": [10, 10, 11, 20, 20], "mmsi": [1, 1, 1, 2, 2], "tx": pa.array([0, 0, 1, 0, 0], pa.int32()),
         "seq": [1, 2, 1, 1, 2], "ts": ts, "lat": [0.0] * 5, "lon": [0.0] * 5,
         "sog": [5.0, None, 12.0, 2.0, 3.5],
         "gap_start_lat": [None, 1.0, None, None, 2.0]}
    )  # fmt: skip
    marks = pa.record_batch({"vid": [10, 10, 20], "port_gap": [True, None, False]})
    found = dict(derived.tables_of(track, marks, AnalysisSettings()))
    assert found[derived.TRANSMITTERS].to_pylist() == [
        {"mmsi": 1, "tx": 0}, {"mmsi": 1, "tx": 1}, {"mmsi": 2, "tx": 0},
    ]  # fmt: skip
    assert found[derived.GAP_FIXES].column("seq").to_pylist() == [2, 2]
    assert found[derived.SPEEDS].to_pylist() == [
        {"vid": 10, "sog": 5.0}, {"vid": 11, "sog": 12.0}, {"vid": 20, "sog": 3.5},
    ]  # fmt: skip
    assert found[derived.ZONE_GAPS].to_pylist() == [{"vid": 10, "port_gap": True}]
    assert derived.ZONE_GAPS not in dict(derived.tables_of(track, None, AnalysisSettings()))


def _sorted_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[Any, ...]]:
    return sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


def test_statements_over_the_small_tables_give_the_stage_sqls_rows_on_the_noaa_day() -> None:
    """The stage SQL on DuckDB (the definition) up to the gaps, then each statement that can
    read a small table again over the tables derived from that track and those zone marks:
    the same rows."""
    path = shared_data("ais", "noaa", "AISdata_marinecadastre_20220103.csv.gz")
    con = positions_case(
        f"""SELECT MMSI, CAST(BaseDateTime AS TIMESTAMP) AT TIME ZONE 'UTC', LAT, LON,
                   CASE WHEN SOG < 102.2 THEN SOG END
            FROM read_csv('{path}', header = true)"""
    )
    con.register("gazetteer_arrow", gazetteer_table())
    con.execute("""INSERT INTO ports (locode, name, country, lat, lon, radius_km, origin)
                   SELECT locode, name, country, lat, lon, 5.0, 'gazetteer' FROM gazetteer_arrow
                   QUALIFY row_number() OVER (PARTITION BY locode ORDER BY name) = 1""")
    settings = AnalysisSettings(maritime_kernel="sql")
    small: dict[str, str] = {}
    for stage in STAGES:
        if stage.name in ("ships", "observed_calls", "gaps") and stage.sql:
            others = derived.stage_sql(_current(), stage, settings)  # type: ignore[arg-type]
            for sql, other in zip(stage.sql(settings), others, strict=True):
                if other != sql:
                    small[sql.split(" AS", 1)[0].split()[-1]] = other
        run_stage(con, stage, settings)
        if stage.name == "gaps":
            break
    assert sorted(small) == ["ais_calls", "raw_gaps", "service_speed", "ship_links"]
    track = con.execute("SELECT * FROM track ORDER BY vid, seq").to_arrow_table()
    marks = con.execute("SELECT * FROM zone_marks").to_arrow_table()
    for name, rows in derived.tables_of(
        track.combine_chunks().to_batches()[0], marks.combine_chunks().to_batches()[0], settings
    ):
        con.register(name, pa.Table.from_batches([rows]))
    for table, sql in small.items():
        expected = _sorted_rows(con, table)
        con.execute(sql)
        assert _sorted_rows(con, table) == expected, table
        assert len(expected) > (0 if table != "service_speed" else 10), table
    gaps = con.execute("SELECT count(*) FROM raw_gaps").fetchone()
    assert gaps is not None and gaps[0] > 100
