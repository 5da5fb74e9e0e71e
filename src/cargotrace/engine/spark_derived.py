"""Small tables the kernels' pass derives from the track, so that no Spark job scans the
track (or the zone marks) for a handful of rows.

Four statements of the stage SQL read a per-fix table only to keep a few of its rows or one
value per vessel: `ship_links` (the distinct transmitters of the track), `raw_gaps` (the
track's fixes that end a gap), `service_speed` (a quantile of each vessel's speeds) and
`ais_calls` (the zone marks of a silence in port). On Spark each was a job over every fix.
The track's pass has each vessel's fixes in memory anyway (whole vessels per part: what is
found per part is found for the whole vessel), so it writes those rows as tables of their
own (`tables_of`), and the statements read them instead: each statement names the table it
reads through `maritime.sources.Sources` (the per-fix tables by default), and `stage_sql`
passes the small tables' names while they were derived from the current track and zone
marks (`SparkRunner.derived`). The statements' filters and aggregates stay: the small
tables hold exactly the rows they keep — for the speeds, one row per vessel whose `sog` is
its `quantile_disc`, which the statement's band filter keeps and its `quantile_disc` gives
back — so one text, the definition, reads either table. tests/test_spark_engine.py holds the
results equal to DuckDB's stage SQL, tests/test_spark_derived.py the same rows from either
source on DuckDB and the quantile to DuckDB's.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cargotrace.maritime.gaps import SPEED_HIGH_KN, SPEED_LOW_KN
from cargotrace.maritime.sources import PER_FIX, Sources
from cargotrace.settings import AnalysisSettings

if TYPE_CHECKING:
    from cargotrace.engine.spark_runner import SparkRunner
    from cargotrace.stage import Stage

TRANSMITTERS = "track_transmitters"
GAP_FIXES = "track_gap_fixes"
SPEEDS = "vessel_service_speeds"
ZONE_GAPS = "zone_gap_marks"

TRANSMITTER_SCHEMA = pa.schema([("mmsi", pa.int64()), ("tx", pa.int32())])
# one row per vessel, `sog` its service speed (the quantile: maritime/gaps.py reads it as speeds)
SPEED_SCHEMA = pa.schema([("vid", pa.int64()), ("sog", pa.float64())])


# each derived table, and the per-fix table it is derived from
SOURCES = {TRANSMITTERS: "track", GAP_FIXES: "track", SPEEDS: "track", ZONE_GAPS: "zone_marks"}
# the field of maritime.sources.Sources each derived table can stand for
FIELDS = {
    TRANSMITTERS: "transmitters",
    GAP_FIXES: "gap_fixes",
    SPEEDS: "speeds",
    ZONE_GAPS: "gap_marks",
}


def mark_current(runner: SparkRunner) -> None:
    """Record that the derived tables registered now match the current track and zone marks."""
    for name, source in SOURCES.items():
        if name in runner.tables and source in runner.tables:
            runner.derived[name] = {source: runner.tables[source].version}


def schemas(track: pa.Schema, marks: pa.Schema | None) -> dict[str, pa.Schema]:
    """The derived tables and their schemas (the zone marks' only with the port zones kernel)."""
    found = {TRANSMITTERS: TRANSMITTER_SCHEMA, GAP_FIXES: track, SPEEDS: SPEED_SCHEMA}
    if marks is not None:
        found[ZONE_GAPS] = marks
    return found


def tables_of(
    track: pa.RecordBatch, marks: pa.RecordBatch | None, settings: AnalysisSettings
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """The derived tables' rows from one part's track (whole vessels) and its zone marks."""
    vid = np.asarray(track.column("vid").to_numpy(zero_copy_only=False), np.int64)
    _, first = np.unique(vid, return_index=True)
    yield (
        TRANSMITTERS,
        pa.record_batch(
            [track.column("mmsi").take(pa.array(first)), track.column("tx").take(pa.array(first))],
            schema=TRANSMITTER_SCHEMA,
        ),
    )
    yield GAP_FIXES, track.filter(pc.is_valid(track.column("gap_start_lat")))
    sog = track.column("sog").to_numpy(zero_copy_only=False).astype(np.float64)
    yield SPEEDS, service_speeds(vid, sog, settings.service_speed_quantile)
    if marks is not None:
        yield ZONE_GAPS, marks.filter(pc.fill_null(marks.column("port_gap"), False))


def service_speeds(vid: np.ndarray, sog_kn: np.ndarray, quantile: float) -> pa.RecordBatch:
    """Per vessel, `quantile_disc(sog, quantile)` of its speeds strictly between 3 and 40 kn
    (NULL and NaN speeds out), as DuckDB computes it: the value at rank ceil(n * q) of the
    n sorted speeds (at least the first). Vessels without such a speed get no row."""
    with np.errstate(invalid="ignore"):
        moving = (sog_kn > SPEED_LOW_KN) & (sog_kn < SPEED_HIGH_KN)
    vid, sog_kn = vid[moving], sog_kn[moving]
    order = np.lexsort((sog_kn, vid))
    vid, sog_kn = vid[order], sog_kn[order]
    vessels, start, count = np.unique(vid, return_index=True, return_counts=True)
    rank = np.array([max(0, math.ceil(n * quantile) - 1) for n in count.tolist()], np.int64)
    return pa.record_batch(
        [pa.array(vessels, pa.int64()), pa.array(sog_kn[start + rank], pa.float64())],
        schema=SPEED_SCHEMA,
    )


def sources(runner: SparkRunner) -> Sources:
    """Where the four statements read: each derived table whose per-fix table is still the
    version the pass derived it from, else the per-fix table."""
    current = {}
    for name, field_name in FIELDS.items():
        made_from = runner.derived.get(name)
        if made_from is not None and all(
            table in runner.tables and runner.tables[table].version == version
            for table, version in made_from.items()
        ):
            current[field_name] = name
    return replace(PER_FIX, **current)


def stage_sql(runner: SparkRunner, stage: Stage, settings: AnalysisSettings) -> list[str]:
    """The stage's SQL, reading the derived tables where they are current (for the stages
    whose SQL takes `sources`: ships, observed calls, gaps)."""
    assert stage.sql is not None
    found = sources(runner)
    if found != PER_FIX and "sources" in inspect.signature(stage.sql).parameters:
        return stage.sql(settings, sources=found)  # type: ignore[call-arg]
    return stage.sql(settings)
